"""The application user in MySQL: create, grant exactly what is asked, drop.

User names travel as bound parameters; database and table names were validated as plain
identifiers (user_request) and are backquoted here; privilege names come from an allow-list or,
when revoking, from the server's own grant tables after a strict check. No SQL is built from raw
properties, and no failure reason quotes the server's error text (it can quote a statement, and a
CREATE USER statement holds a password): a reason says what the function was doing and the
MySQL error number.

Every statement here is MySQL 8.0 (Aurora MySQL 3) and MariaDB 10.4+ syntax with the same meaning
on both; where the servers differ, the comment at the statement says how it is handled.
"""

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pymysql
from cfn_one_shot.reasons import RequestRejected, clip, quoted
from pymysql.constants import ER
from user_request import Grant
from user_roles import RoleDialect, dialect_of

logger = logging.getLogger(__name__)

CLONE_SUFFIX = "_clone"  # what the hosted alternating-users rotation appends
USER_HOST = "%"
# MySQL 8 allows 32 characters in a user name: <name>_clone must fit.
MAX_BASE_LENGTH = 32 - len(CLONE_SUFFIX)
_USER_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Static privileges ("SELECT", "CREATE TEMPORARY TABLES"), MySQL 8's dynamic ones
# ("XA_RECOVER_ADMIN") and MariaDB's ("READ_ONLY ADMIN"): revoked by name, so checked strictly.
_PRIVILEGE_NAME = re.compile(r"[A-Z_]+( [A-Z_]+)*")
_ROUTINE_TYPE = re.compile(r"[A-Z]+( [A-Z]+)?")  # PROCEDURE, FUNCTION, MariaDB's PACKAGE (BODY)
GRANT_OPTION = "GRANT OPTION"
DESCRIPTION_LIMIT = 100  # of the action a reason names
# Server errors that mean "the admin lacks a privilege for this statement".
_ADMIN_DENIED = (
    ER.ACCESS_DENIED_ERROR,
    ER.DBACCESS_DENIED_ERROR,
    ER.TABLEACCESS_DENIED_ERROR,
    ER.COLUMNACCESS_DENIED_ERROR,
    ER.PROCACCESS_DENIED_ERROR,
    ER.SPECIFIC_ACCESS_DENIED_ERROR,
    ER.CANNOT_USER,
    1410,  # ER_CANT_CREATE_USER_WITH_GRANT: the admin lacks a privilege it would grant
    1698,  # ER_ACCESS_DENIED_NO_PASSWORD_ERROR: a PROXY grant the admin may not revoke
)
ROLE_FIX = (
    "Revoke it as an account holding the role WITH ADMIN OPTION (or, on MySQL, ROLE_ADMIN, which "
    "Aurora's master user has), then retry."
)
NOT_VALID_PASSWORD = 1819  # ER_NOT_VALID_PASSWORD: validate_password, simple_password_check
NONEXISTING_PROC_GRANT = 1403  # ER_NONEXISTING_PROC_GRANT
ADMIN_FIX = (
    "Use the cluster's master user, or give the admin CREATE USER and the granted privileges "
    "WITH GRANT OPTION."
)


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


def literal_pattern(database: str) -> str:
    """`database` as the literal pattern a database-level grant needs: MySQL and MariaDB read `_`
    and `%` in `GRANT ... ON db.*` as wildcards (`app_db` would also open `appXdb`), `\\_` and
    `\\%` as the characters themselves."""
    return database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def wildcards_in_database_grants(partial_revokes: list[tuple]) -> bool:
    """From the rows of SHOW GLOBAL VARIABLES LIKE 'partial_revokes': wildcards on MariaDB (no
    such variable: no row) and on MySQL 8.0 with partial_revokes OFF (the default, Aurora's too).
    With it ON, the MySQL 8.0 manual (partial_revokes; GRANT statement) says unescaped `_` and `%`
    in a schema name are literal: the name is then written as it is."""
    return not partial_revokes or str(partial_revokes[0][1]).strip().upper() != "ON"


@dataclass(frozen=True, order=True)
class Privilege:
    """One privilege on one object. `target` is the ON clause exactly as GRANT and REVOKE take it
    (and as the grant tables store it), so what is held and what is wanted compare as text;
    `target_args` are its bound values (the proxied account of a PROXY grant, whose `target` is
    their placeholders)."""

    target: str
    name: str
    target_args: tuple[str, ...] = ()
    column: str = ""  # a column privilege's column, backquoted: never wanted, always revoked


def describe(action: str) -> str:
    return clip(action, DESCRIPTION_LIMIT)


class Accounts:
    """SQL run as the admin user over one connection."""

    def __init__(self, connection: pymysql.connections.Connection) -> None:
        self._connection = connection
        self._wildcard_databases: bool | None = None
        self._roles: RoleDialect | None = None

    def run(
        self, statement: str, args: Iterable = (), *, doing: str, admin_fix: str = ADMIN_FIX
    ) -> list[tuple]:
        """Run one statement; `doing` ("grant SELECT on `db`.* to 'app'") names it in a reason,
        `admin_fix` says what to do when the admin lacks a privilege for it."""
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(statement, tuple(args))
                return list(cursor.fetchall())
        except pymysql.err.MySQLError as error:
            raise statement_failure(error, doing, admin_fix) from None

    def exists(self, user: str, host: str = USER_HOST) -> bool:
        rows = self.run(
            "SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s",
            (user, host),
            doing=f"look up user {quoted(user)}",
        )
        return bool(rows)

    def hosts(self, user: str) -> list[str]:
        """The hosts of every account named `user` ('app'@'%', 'app'@'10.%', ...)."""
        rows = self.run(
            "SELECT Host FROM mysql.user WHERE User = %s ORDER BY Host",
            (user,),
            doing=f"look up the accounts of {quoted(user)}",
        )
        return [str(host) for (host,) in rows]

    def create(self, user: str, password: str) -> None:
        self.run(
            "CREATE USER %s@%s IDENTIFIED BY %s",
            (user, USER_HOST, password),
            doing=f"create user {quoted(user)}",
        )
        logger.info("Created user %s", quoted(user))

    def set_password(self, user: str, password: str) -> None:
        self.run(
            "ALTER USER %s@%s IDENTIFIED BY %s",
            (user, USER_HOST, password),
            doing=f"set the password of user {quoted(user)}",
        )
        logger.info("Set the password of user %s from the application secret", quoted(user))

    def drop(self, user: str, host: str = USER_HOST) -> bool:
        if not self.exists(user, host):
            return False
        self.run("DROP USER %s@%s", (user, host), doing=f"drop user {quoted(user)}")
        logger.info("Dropped user %s", quoted(user))
        return True

    def wildcard_databases(self) -> bool:
        """Whether `_` and `%` in a database-level grant are wildcards on this server."""
        if self._wildcard_databases is None:
            rows = self.run(
                "SHOW GLOBAL VARIABLES LIKE 'partial_revokes'", doing="read partial_revokes"
            )
            self._wildcard_databases = wildcards_in_database_grants(rows)
        return self._wildcard_databases

    def role_dialect(self) -> RoleDialect:
        if self._roles is None:
            rows = self.run("SELECT VERSION()", doing="read the server version")
            self._roles = dialect_of(str(rows[0][0]) if rows else "")
        return self._roles

    def revoke_roles(self, user: str) -> None:
        """Revoke every role granted to `user` (their admin options with them) and reset its
        default role: the application user holds no role (user_roles)."""
        dialect = self.role_dialect()
        account = (user, USER_HOST)
        held = dialect.roles(
            self.run(dialect.granted, account, doing=f"read the roles of {quoted(user)}")
        )
        for role in sorted(held):
            self.run(
                dialect.revoke,
                (*role.args, *account),
                doing=f"revoke role {role} from {quoted(user)}",
                admin_fix=ROLE_FIX,
            )
            logger.info("Revoked role %s from %s", role, quoted(user))
        default = self.run(
            dialect.default, account, doing=f"read the default role of {quoted(user)}"
        )
        if dialect.has_default(default):
            self.run(
                dialect.reset_default, account, doing=f"reset the default role of {quoted(user)}"
            )
            logger.info("Reset the default role of %s", quoted(user))

    def on_clause(self, database: str, table: str) -> str:
        """The ON clause of a grant on `database` (table "*") or on one of its tables. Only a
        database-level grant reads wildcards; a table-level one names its database literally."""
        if table != "*":
            return f"{quote_identifier(database)}.{quote_identifier(table)}"
        pattern = literal_pattern(database) if self.wildcard_databases() else database
        return f"{quote_identifier(pattern)}.*"

    def privileges(self, user: str) -> set[Privilege]:
        """What `user`@'%' holds: global, database, table, column and routine privileges, grant
        options at each of those levels, and PROXY grants."""
        return (
            self._listed_privileges(user)
            | self._routine_privileges(user)
            | self._proxy_grants(user)
        )

    def _listed_privileges(self, user: str) -> set[Privilege]:
        """Global, database, table and column privileges, as information_schema lists them.

        A grant option whose privileges were revoked stays behind as "USAGE ... WITH GRANT
        OPTION": these tables list it as USAGE with IS_GRANTABLE YES (MySQL 8.0 and MariaDB
        alike). It is held here as GRANT OPTION and revoked as such: REVOKE USAGE does nothing.
        """
        grantee = f"'{user}'@'{USER_HOST}'"  # information_schema's GRANTEE form; compared only
        # GRANTEE's collation is case-insensitive (utf8mb3_general_ci on both servers), so a plain
        # `=` would read 'APP'@'%' as 'app'@'%'. User names are case-sensitive: compare bytes.
        # (The mysql.* grant tables read below compare User in a binary collation already.)
        levels = (
            ("global", "'*', '*', ''", "USER_PRIVILEGES"),
            # TABLE_SCHEMA is the pattern the grant stored: `app\_db` for a literal name.
            ("database", "TABLE_SCHEMA, '*', ''", "SCHEMA_PRIVILEGES"),
            ("table", "TABLE_SCHEMA, TABLE_NAME, ''", "TABLE_PRIVILEGES"),
            # A column grant's grant option is the table's, yet TABLE_PRIVILEGES omits it when
            # the table has no other privilege: IS_GRANTABLE here shows it (MariaDB 10.11).
            ("column", "TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME", "COLUMN_PRIVILEGES"),
        )
        held: set[Privilege] = set()
        for level, columns, view in levels:
            rows = self.run(
                f"SELECT {columns}, PRIVILEGE_TYPE, IS_GRANTABLE "  # noqa: S608 - constants only
                f"FROM information_schema.{view} WHERE GRANTEE = %s COLLATE utf8mb4_bin",
                (grantee,),
                doing=f"read the {level} privileges of {quoted(user)}",
            )
            for database, table, column, privilege, grantable in rows:
                target = _target(level, database, table)
                if privilege != "USAGE":
                    held.add(
                        Privilege(target, privilege, column=column and quote_identifier(column))
                    )
                if grantable == "YES":
                    held.add(Privilege(target, GRANT_OPTION))
        return held

    def _routine_privileges(self, user: str) -> set[Privilege]:
        """EXECUTE / ALTER ROUTINE on single routines, and their grant options: no
        information_schema table lists them on either server; mysql.procs_priv has the same
        columns on both (Proc_priv a SET of Execute, Alter Routine, Grant).

        Both servers write Db and Routine_name into it as if their UTF-8 bytes were latin1 (the
        GRANT code stores them "from" latin1 into the utf8mb3 column), so `ünï` is stored as
        `Ã¼nÃ¯`; converting back to latin1 gives the original bytes, read as utf8mb4. ASCII names
        are the same either way."""
        held: set[Privilege] = set()
        for database, routine, routine_type, granted in self.run(
            "SELECT CONVERT(CAST(CONVERT(Db USING latin1) AS BINARY) USING utf8mb4), "
            "CONVERT(CAST(CONVERT(Routine_name USING latin1) AS BINARY) USING utf8mb4), "
            "Routine_type, Proc_priv FROM mysql.procs_priv WHERE User = %s AND Host = %s",
            (user, USER_HOST),
            doing=f"read the routine privileges of {quoted(user)}",
        ):
            kind = str(routine_type).upper()
            if not _ROUTINE_TYPE.fullmatch(kind):
                raise RequestRejected(f"Unexpected routine type {quoted(kind)} on {user}.")
            target = f"{kind} {quote_identifier(database)}.{quote_identifier(routine)}"
            for name in _set_members(granted):
                held.add(Privilege(target, GRANT_OPTION if name == "GRANT" else name))
        return held

    def _proxy_grants(self, user: str) -> set[Privilege]:
        """PROXY grants (mysql.proxies_priv, the same on both servers). One WITH GRANT OPTION
        can only be revoked with the PROXY grant itself."""
        return {
            Privilege("%s@%s", "PROXY", (str(proxied_user), str(proxied_host)))
            for proxied_user, proxied_host in self.run(
                "SELECT Proxied_user, Proxied_host FROM mysql.proxies_priv "
                "WHERE User = %s AND Host = %s",
                (user, USER_HOST),
                doing=f"read the PROXY grants of {quoted(user)}",
            )
        }

    def check_grant_targets(self, grants: Iterable[Grant]) -> None:
        """Refuse grants on missing databases or tables before any user is created or changed,
        so that a failed request leaves nothing behind."""
        for grant in grants:
            if grant.table == "*":
                found = self.run(
                    "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                    (grant.database,),
                    doing=f"look up database {quoted(grant.database)}",
                )
                missing = f"Unknown database '{grant.database}'"
            else:
                found = self.run(
                    "SELECT 1 FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                    (grant.database, grant.table),
                    doing=f"look up table {quoted(grant.database + '.' + grant.table)}",
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
        """Grant what is listed and revoke everything else `user` holds, grant options and roles
        included. Revokes come first: a wildcard grant that also covers a listed database must not
        hide that listed grant's absence."""
        wanted = {
            Privilege(self.on_clause(grant.database, grant.table), privilege)
            for grant in grants
            for privilege in grant.privileges
        }
        self.revoke_roles(user)
        held = self.privileges(user)
        for privilege in sorted(held - wanted):
            self.revoke(user, privilege)
        for target, privileges in sorted(_by_target(wanted - held).items()):
            names = ", ".join(sorted(privileges))
            self.run(
                f"GRANT {names} ON {without_placeholders(target)} TO %s@%s",
                (user, USER_HOST),
                doing=f"grant {names} on {target} to {quoted(user)}",
            )
        logger.info(
            "Grants of %s: %d added, %d revoked",
            quoted(user),
            len(wanted - held),
            len(held - wanted),
        )

    def revoke(self, user: str, privilege: Privilege) -> None:
        if not _PRIVILEGE_NAME.fullmatch(privilege.name):
            raise RequestRejected(f"Unexpected privilege name {quoted(privilege.name)} on {user}.")
        fix = ADMIN_FIX
        shown = privilege.target
        if privilege.name == "PROXY":  # only its grantor (or a holder of PROXY ON it) may revoke
            shown = "@".join(map(repr, privilege.target_args))
            fix = f"Revoke it as the account that granted it (REVOKE PROXY ON {shown} FROM ...)."
        name = f"{privilege.name} ({privilege.column})" if privilege.column else privilege.name
        clause = f"{name} ON {privilege.target}"
        if not privilege.target_args:  # a PROXY clause's placeholders stay
            clause = without_placeholders(clause)
        self.run(
            f"REVOKE {clause} FROM %s@%s",
            (*privilege.target_args, user, USER_HOST),
            doing=f"revoke {name} on {shown} from {quoted(user)}",
            admin_fix=fix,
        )


def without_placeholders(sql_text: str) -> str:
    """Server-derived SQL text (an ON clause read from the grant tables: `app%`.*) made safe to
    put into a statement that also takes bound values: PyMySQL fills those in with Python's
    %-formatting over the whole statement, so a `%` of the text must be written `%%`."""
    return sql_text.replace("%", "%%")


def _target(level: str, database: str, table: str) -> str:
    if level == "global":
        return "*.*"
    if level == "database":
        return f"{quote_identifier(database)}.*"
    return f"{quote_identifier(database)}.{quote_identifier(table)}"


def _set_members(value: object) -> set[str]:
    """A SET column's members in upper case: PyMySQL returns a set or the comma-separated text."""
    members = value if isinstance(value, set | frozenset) else str(value or "").split(",")
    return {str(member).strip().upper() for member in members if str(member).strip()}


def _by_target(privileges: set[Privilege]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for privilege in privileges:
        grouped.setdefault(privilege.target, set()).add(privilege.name)
    return grouped


def statement_failure(  # noqa: PLR0911 - a reason per cause
    error: pymysql.err.MySQLError, doing: str, admin_fix: str = ADMIN_FIX
) -> RequestRejected:
    """The reason for a refused statement: what was being done and the error number, never the
    server's message."""
    code = error.args[0] if error.args and isinstance(error.args[0], int) else 0
    action = describe(doing)
    if code in (ER.NO_SUCH_TABLE, ER.BAD_DB_ERROR):
        return RequestRejected(
            f"Invalid grant: a database or table is missing (MySQL error {code} trying to "
            f'{action}). Create it first, or set DemoSchema "true" for the demo table.'
        )
    if code == NOT_VALID_PASSWORD:
        return RequestRejected(
            f"MySQL refused to {action}: the password fails the server's password policy (MySQL "
            f"error {code}). Make the secret's GenerateSecretString meet it (length, kinds of "
            "characters), or relax the policy."
        )
    if code == ER.OPTION_PREVENTS_STATEMENT:  # Aurora readers run read_only
        return RequestRejected(
            f"MySQL refused to {action}: a server option forbids it (MySQL error {code}), most "
            "often read_only on a reader: use the cluster's writer endpoint as Host."
        )
    if code == NONEXISTING_PROC_GRANT:  # procs_priv's latin1 names, read back after a reload
        return RequestRejected(
            f"MySQL could not {action} (error {code}): a grant reload lost this grant's "
            "non-ASCII name. Delete the row from mysql.procs_priv, run FLUSH PRIVILEGES, then "
            "retry."
        )
    if code in _ADMIN_DENIED:
        return RequestRejected(f"The admin user may not {action} (MySQL error {code}). {admin_fix}")
    if isinstance(error, pymysql.err.OperationalError) and code >= 2000:  # client-side: CR_*
        return RequestRejected(
            f"The database connection failed mid-request (MySQL error {code} trying to "
            f"{action}); retry the stack operation."
        )
    return RequestRejected(
        f"MySQL refused to {action} with error {code}; look the number up in the MySQL server "
        "error reference."
    )
