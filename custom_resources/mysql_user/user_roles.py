"""Roles granted to the application user, which exact grants revoke like any other privilege.

A role granted to the user (`GRANT reporting TO app`) gives it the role's privileges as soon as
the role is active (a default role, SET ROLE, or MySQL's activate_all_roles_on_login), and WITH
ADMIN OPTION lets it grant the role on. SHOW GRANTS lists the role, so the hosted rotation copies
it to the clone too. Revoking the role removes its admin option with it, on both servers; the
default role is reset as well (MariaDB keeps a revoked default role and shows it in SHOW GRANTS as
`SET DEFAULT ROLE ... FOR ...`, a line the rotation's copy would turn into an invalid statement).

MySQL 8.0 (Aurora MySQL 3) and MariaDB keep roles in different tables and name them differently
(MySQL: an account, 'name'@'host'; MariaDB: a name), so each server has its dialect here: plain
data and pure functions, chosen from SELECT VERSION(). The tests' server is MariaDB; the MySQL
dialect is checked with rows shaped as MySQL 8.0 returns them. Roles that every account has
(MySQL's mandatory_roles, MariaDB's PUBLIC) are server policy, not grants to this user: neither
table lists them, and they stay.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Role:
    name: str
    host: str | None = None  # MySQL 8.0: a role is an account; MariaDB: a name only

    def __str__(self) -> str:
        return f"'{self.name}'" if self.host is None else f"'{self.name}'@'{self.host}'"

    @property
    def args(self) -> tuple[str, ...]:
        return (self.name,) if self.host is None else (self.name, self.host)


@dataclass(frozen=True)
class RoleDialect:
    """The statements of one server; each takes the user and its host as its last two values."""

    server: str
    granted: str  # rows: the roles granted to the user, as Role's fields
    default: str  # rows: a non-empty first column when the user has a default role
    reset_default: str
    revoke: str  # the role's args first

    def roles(self, rows: Iterable[tuple]) -> set[Role]:
        return {Role(*(str(value) for value in row)) for row in rows}

    def has_default(self, rows: Iterable[tuple]) -> bool:
        return any(row and str(row[0] or "") for row in rows)


MYSQL = RoleDialect(
    server="MySQL",
    granted="SELECT FROM_USER, FROM_HOST FROM mysql.role_edges WHERE TO_USER = %s AND TO_HOST = %s",
    default="SELECT DEFAULT_ROLE_USER FROM mysql.default_roles WHERE USER = %s AND HOST = %s",
    reset_default="SET DEFAULT ROLE NONE TO %s@%s",
    revoke="REVOKE %s@%s FROM %s@%s",
)
MARIADB = RoleDialect(
    server="MariaDB",
    granted="SELECT Role FROM mysql.roles_mapping WHERE User = %s AND Host = %s",
    default="SELECT default_role FROM mysql.user WHERE User = %s AND Host = %s",
    reset_default="SET DEFAULT ROLE NONE FOR %s@%s",
    revoke="REVOKE %s FROM %s@%s",
)


def dialect_of(version: str) -> RoleDialect:
    """MariaDB says so in VERSION() ("10.11.6-MariaDB-..."); MySQL 8.0 and Aurora MySQL 3
    ("8.0.mysql_aurora.3.08.0") do not."""
    return MARIADB if "mariadb" in version.lower() else MYSQL
