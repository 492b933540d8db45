"""Custom::MySQLUser's properties, checked before any AWS or database call.

Every identifier that reaches SQL is validated here against a strict pattern and later quoted;
privileges come from an allow-list. Nothing from the properties is ever pasted into SQL raw.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cfn_one_shot.reasons import RequestRejected, quoted, unknown_properties

KNOWN = frozenset(
    {
        "AdminSecretArn",
        "AppSecretArn",
        "Host",
        "Port",
        "Grants",
        "CreateDatabase",
        "DemoSchema",
        "RetainOnDelete",
        "AdoptExistingUser",
        "TlsCaFile",
        "AppSecretGeneration",
    }
)
# The Amazon RDS root CAs, shipped in the zip (scripts/update_rds_ca_bundle.py writes it): Aurora's
# certificates chain to them, and the Lambda runtime's system bundle is not known to hold them.
DEFAULT_TLS_CA_FILE = "rds-ca-bundle.pem"

# Privileges an application user may be given. Table-level ones are MySQL's table privileges; the
# rest only make sense on a whole database (Table "*").
TABLE_PRIVILEGES = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "DROP",
        "ALTER",
        "INDEX",
        "REFERENCES",
        "TRIGGER",
        "CREATE VIEW",
        "SHOW VIEW",
    }
)
DATABASE_PRIVILEGES = TABLE_PRIVILEGES | {
    "EXECUTE",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EVENT",
}
# Refused with their own reason: they would let the application escalate or administer.
ADMINISTRATIVE = frozenset(
    {
        "ALL",
        "ALL PRIVILEGES",
        "GRANT OPTION",
        "SUPER",
        "FILE",
        "PROCESS",
        "RELOAD",
        "SHUTDOWN",
        "CREATE USER",
        "CREATE ROLE",
        "DROP ROLE",
        "REPLICATION CLIENT",
        "REPLICATION SLAVE",
        "SHOW DATABASES",
        "CREATE TABLESPACE",
        "PROXY",
        "USAGE",
    }
)
# MySQL identifiers the resource accepts: unquoted-identifier characters only, 1-64 of them.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_$]{1,64}")
# Secrets Manager secret ARN (the IAM policy must name it exactly, so a name is not enough).
_SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]{1,512}"
)
_PORT = re.compile(r"[0-9]{1,5}")  # ASCII: str.isdigit() takes "²" and fullwidth digits too
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_TRUE, _FALSE = "true", "false"
GRANT_KEYS = frozenset({"Privileges", "Database", "Table"})


@dataclass(frozen=True)
class Grant:
    database: str
    table: str  # "*": the whole database
    privileges: frozenset[str]


@dataclass(frozen=True)
class UserRequest:
    admin_secret_arn: str
    app_secret_arn: str
    host: str | None
    port: int | None
    grants: tuple[Grant, ...]
    create_database: bool
    demo_schema: bool
    retain_on_delete: bool
    adopt_existing_user: bool
    tls_ca_file: str


def user_request(properties: object) -> UserRequest:
    """The validated properties, or RequestRejected naming every problem and its fix."""
    if not isinstance(properties, Mapping):
        raise RequestRejected(
            "ResourceProperties must be an object with AdminSecretArn, AppSecretArn and Grants."
        )
    problems = unknown_properties(properties, KNOWN)
    values = {}
    for name, read in (
        ("AdminSecretArn", _secret_arn),
        ("AppSecretArn", _secret_arn),
        ("Host", _host),
        ("Port", _port),
        ("Grants", _grants),
        ("CreateDatabase", _flag),
        ("DemoSchema", _flag),
        ("RetainOnDelete", _flag),
        ("AdoptExistingUser", _flag),
        ("TlsCaFile", _ca_file),
        ("AppSecretGeneration", _generation),
    ):
        try:
            values[name] = read(name, properties.get(name))
        except RequestRejected as rejected:
            problems.append(str(rejected))
    if problems:
        raise RequestRejected(" ".join(problems))
    return UserRequest(
        admin_secret_arn=values["AdminSecretArn"],
        app_secret_arn=values["AppSecretArn"],
        host=values["Host"],
        port=values["Port"],
        grants=values["Grants"],
        create_database=values["CreateDatabase"],
        demo_schema=values["DemoSchema"],
        retain_on_delete=values["RetainOnDelete"],
        adopt_existing_user=values["AdoptExistingUser"],
        tls_ca_file=values["TlsCaFile"],
    )


def _secret_arn(name: str, value: object) -> str:
    if value is None:
        raise RequestRejected(f"{name} is required: set it to the secret's ARN (!Ref the secret).")
    if not isinstance(value, str) or not _SECRET_ARN.fullmatch(value):
        raise RequestRejected(
            f"{name} {quoted(value)} is not a Secrets Manager secret ARN "
            "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-xxxxxx): !Ref the secret."
        )
    return value


def _host(name: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _HOST.fullmatch(value):
        raise RequestRejected(
            f"{name} {quoted(value)} is not a host name: use the cluster's endpoint "
            "(!GetAtt Cluster.Endpoint.Address)."
        )
    return value


def _port(name: str, value: object) -> int | None:
    if value is None or value == "":
        return None
    port = port_number(value)
    if port is None:
        raise RequestRejected(f"{name} {quoted(value)} is not a port number (1-65535).")
    return port


def port_number(value: object) -> int | None:
    """A JSON number or a string of ASCII digits as a TCP port (1-65535); None for anything else."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        return None
    return int(text)


def _flag(name: str, value: object) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower() if isinstance(value, str | bool) else None
    if text not in (_TRUE, _FALSE):
        raise RequestRejected(f'{name} {quoted(value)} must be "true" or "false".')
    return text == _TRUE


def is_true(value: object) -> bool:
    """A flag property of other properties than the request's own (an Update's old ones), which
    were checked when they were new: anything but "true" counts as false."""
    try:
        return _flag("", value)
    except RequestRejected:
        return False


def _generation(name: str, value: object) -> None:
    """Only compared, old against new, by an Update (see app.update); checked here so that a
    mistake is named on Create already."""
    if value is not None and not isinstance(value, Mapping):
        raise RequestRejected(
            f"{name} must be an object: a copy of the application secret's GenerateSecretString "
            "(the same value the template gives the secret)."
        )


def _ca_file(name: str, value: object) -> str:
    if value is None or value == "":
        return DEFAULT_TLS_CA_FILE
    if not isinstance(value, str):
        raise RequestRejected(f"{name} must be a file path (string), not {type(value).__name__}.")
    return value


def _grants(name: str, value: object) -> tuple[Grant, ...]:
    if value is None:
        raise RequestRejected(
            f"{name} is required: a list of {{Privileges: [SELECT, ...], Database: NAME, "
            'Table: NAME or "*"}.'
        )
    if not isinstance(value, list) or not value:
        raise RequestRejected(f"{name} must be a non-empty list of grants.")
    merged: dict[tuple[str, str], set[str]] = {}
    for position, item in enumerate(value, start=1):
        grant = _grant(f"{name}[{position}]", item)
        merged.setdefault((grant.database, grant.table), set()).update(grant.privileges)
    return tuple(
        Grant(database, table, frozenset(privileges))
        for (database, table), privileges in merged.items()
    )


def _grant(where: str, item: object) -> Grant:
    if not isinstance(item, Mapping) or set(item) != GRANT_KEYS:
        raise RequestRejected(
            f"{where} must be an object with exactly Privileges, Database and Table."
        )
    database = _identifier(f"{where}.Database", item.get("Database"))
    table = item.get("Table")
    if table != "*":
        table = _identifier(f"{where}.Table", table, hint=' or "*" for the whole database')
    privileges = item.get("Privileges")
    if not isinstance(privileges, list) or not privileges:
        raise RequestRejected(f"{where}.Privileges must be a non-empty list such as [SELECT].")
    allowed = DATABASE_PRIVILEGES if table == "*" else TABLE_PRIVILEGES
    normalised = set()
    for privilege in privileges:
        text = " ".join(privilege.upper().split()) if isinstance(privilege, str) else None
        if text in ADMINISTRATIVE:
            raise RequestRejected(
                f"{where}: privilege {quoted(privilege)} is administrative and not allowed for an "
                "application user: list the data privileges it needs (SELECT, INSERT, ...)."
            )
        if text not in allowed:
            scope = 'a database (Table "*")' if table == "*" else "a table"
            raise RequestRejected(
                f"{where}: {quoted(privilege)} is not a privilege for {scope}; allowed: "
                f"{', '.join(sorted(allowed))}."
            )
        normalised.add(text)
    return Grant(database, table, frozenset(normalised))


def _identifier(where: str, value: object, hint: str = "") -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise RequestRejected(
            f"{where} {quoted(value)} is not a plain MySQL identifier (1-64 letters, digits, "
            f"'_' or '$'){hint}."
        )
    return value
