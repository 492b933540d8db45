"""The application user in MySQL: create, grant exactly what is asked, drop.

User names travel as bound parameters; database and table names were validated as plain
identifiers (user_request) and are backquoted here; privilege names come from an allow-list or,
when revoking, from information_schema after a strict check. No SQL is built from raw properties.
"""

import logging
import re
from collections.abc import Iterable

import pymysql
from cfn_one_shot.reasons import RequestRejected, quoted
from pymysql.constants import ER
from user_request import Grant

logger = logging.getLogger(__name__)

CLONE_SUFFIX = "_clone"  # what the hosted alternating-users rotation appends
USER_HOST = "%"
# MySQL 8 allows 32 characters in a user name: <name>_clone must fit.
MAX_BASE_LENGTH = 32 - len(CLONE_SUFFIX)
_USER_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_PRIVILEGE_NAME = re.compile(r"[A-Z]+( [A-Z]+)*")

Privilege = tuple[str, str, str]  # (database, table or "*", privilege)


def base_user(username: str) -> str:
    """The base name of an alternating pair: `app` for both `app` and `app_clone`."""
    base = username.removesuffix(CLONE_SUFFIX) or username
    if not _USER_NAME.fullmatch(base) or len(base) > MAX_BASE_LENGTH:
        raise RequestRejected(
            f"The application secret's username {quoted(username)} is not usable: use 1-"
            f"{MAX_BASE_LENGTH} letters, digits, '_', '.' or '-' (so that {CLONE_SUFFIX} fits)."
        )
    return base


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def on_clause(database: str, table: str) -> str:
    target = "*" if table == "*" else quote_identifier(table)
    return f"{quote_identifier(database)}.{target}"


class Accounts:
    """SQL run as the admin user over one connection."""

    def __init__(self, connection: pymysql.connections.Connection) -> None:
        self._connection = connection

    def run(self, statement: str, args: Iterable = ()) -> list[tuple]:
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(statement, tuple(args))
                return list(cursor.fetchall())
        except pymysql.err.MySQLError as error:
            raise _statement_failure(error) from None

    def exists(self, user: str) -> bool:
        rows = self.run("SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s", (user, USER_HOST))
        return bool(rows)

    def create(self, user: str, password: str) -> None:
        self.run("CREATE USER %s@%s IDENTIFIED BY %s", (user, USER_HOST, password))
        logger.info("Created user %s", quoted(user))

    def set_password(self, user: str, password: str) -> None:
        self.run("ALTER USER %s@%s IDENTIFIED BY %s", (user, USER_HOST, password))
        logger.info("Set the password of user %s from the application secret", quoted(user))

    def drop(self, user: str) -> bool:
        if not self.exists(user):
            return False
        self.run("DROP USER %s@%s", (user, USER_HOST))
        logger.info("Dropped user %s", quoted(user))
        return True

    def privileges(self, user: str) -> set[Privilege]:
        """What `user`@'%' holds globally, per database and per table (column grants aside)."""
        grantee = f"'{user}'@'{USER_HOST}'"  # information_schema's GRANTEE form; compared only
        held: set[Privilege] = set()
        for (privilege,) in self.run(
            "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = %s",
            (grantee,),
        ):
            if privilege != "USAGE":
                held.add(("*", "*", privilege))
        for database, privilege in self.run(
            "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
            "WHERE GRANTEE = %s",
            (grantee,),
        ):
            held.add((database, "*", privilege))
        for database, table, privilege in self.run(
            "SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE "
            "FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = %s",
            (grantee,),
        ):
            held.add((database, table, privilege))
        return held

    def check_grant_targets(self, grants: Iterable[Grant]) -> None:
        """Refuse grants on missing databases or tables before any user is created or changed,
        so that a failed request leaves nothing behind."""
        for grant in grants:
            if grant.table == "*":
                found = self.run(
                    "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                    (grant.database,),
                )
                missing = f"Unknown database '{grant.database}'"
            else:
                found = self.run(
                    "SELECT 1 FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                    (grant.database, grant.table),
                )
                missing = f"Table '{grant.database}.{grant.table}' doesn't exist"
            if not found:
                raise RequestRejected(
                    f"Invalid grant: {missing}. Create it first"
                    + (
                        ', grant on the database (Table "*"), or set DemoSchema "true" for the '
                        "demo table."
                        if grant.table != "*"
                        else ', or set CreateDatabase "true" (DemoSchema "true" also adds the '
                        "demo table)."
                    )
                )

    def grant_exactly(self, user: str, grants: Iterable[Grant]) -> None:
        """Grant what is listed and revoke everything else `user` holds."""
        wanted = {
            (grant.database, grant.table, privilege)
            for grant in grants
            for privilege in grant.privileges
        }
        held = self.privileges(user)
        for database, table, privilege in sorted(held - wanted):
            if not _PRIVILEGE_NAME.fullmatch(privilege):
                raise RequestRejected(f"Unexpected privilege name {quoted(privilege)} on {user}.")
            target = "*.*" if database == "*" else on_clause(database, table)
            self.run(f"REVOKE {privilege} ON {target} FROM %s@%s", (user, USER_HOST))
        for (database, table), privileges in sorted(_by_target(wanted - held).items()):
            self.run(
                f"GRANT {', '.join(sorted(privileges))} ON {on_clause(database, table)} TO %s@%s",
                (user, USER_HOST),
            )
        logger.info(
            "Grants of %s: %d added, %d revoked",
            quoted(user),
            len(wanted - held),
            len(held - wanted),
        )


def _by_target(privileges: set[Privilege]) -> dict[tuple[str, str], set[str]]:
    grouped: dict[tuple[str, str], set[str]] = {}
    for database, table, privilege in privileges:
        grouped.setdefault((database, table), set()).add(privilege)
    return grouped


def _statement_failure(error: pymysql.err.MySQLError) -> RequestRejected:
    code = error.args[0] if error.args else 0
    text = str(error.args[1]) if len(error.args) > 1 else ""
    if code == ER.NO_SUCH_TABLE:
        return RequestRejected(
            f'Invalid grant: {text}. Create the table first, grant on the database (Table "*"), '
            'or set DemoSchema "true" for the demo table.'
        )
    if code == ER.BAD_DB_ERROR:
        return RequestRejected(f"Invalid grant: {text}. Create the database first.")
    if code in (
        ER.ACCESS_DENIED_ERROR,
        ER.DBACCESS_DENIED_ERROR,
        ER.TABLEACCESS_DENIED_ERROR,
        ER.SPECIFIC_ACCESS_DENIED_ERROR,
        ER.CANNOT_USER,
        1410,  # ER_CANT_CREATE_USER_WITH_GRANT: the admin lacks a privilege it would grant
    ):
        return RequestRejected(
            f"The admin user may not do this ({text}). Use the cluster's master user, or give "
            "the admin CREATE USER and the listed privileges WITH GRANT OPTION."
        )
    if isinstance(error, pymysql.err.OperationalError):
        return RequestRejected(
            f"The database connection failed mid-request (MySQL error {code}); retry the stack "
            "operation."
        )
    # The text of other errors (a syntax error quotes the statement) is left out on purpose.
    return RequestRejected(f"MySQL refused a statement with error {code}; see the MySQL manual.")
