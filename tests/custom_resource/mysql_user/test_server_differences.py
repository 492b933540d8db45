"""Where MySQL 8.0 (Aurora MySQL 3) and MariaDB differ, the function decides from what the server
answers. The tests' server is MariaDB, so the MySQL branches are pure functions, checked here with
rows shaped as MySQL 8.0 returns them; the MariaDB branches also run against the real server in
the other tests."""

import pytest
from pymysql.converters import escape_item
from user_accounts import wildcards_in_database_grants
from user_roles import MARIADB, MYSQL, Role, dialect_of


@pytest.mark.parametrize(
    ("rows", "wildcards"),
    [
        ([], True),  # MariaDB: no partial_revokes variable
        ([("partial_revokes", "OFF")], True),  # MySQL 8.0's default, Aurora MySQL 3's too
        ([("partial_revokes", "ON")], False),  # unescaped `_` and `%` are then literal
    ],
)
def test_database_grants_read_wildcards_unless_partial_revokes_is_on(rows, wildcards):
    assert wildcards_in_database_grants(rows) is wildcards


def bound(statement: str, args: tuple) -> str:
    """The statement as PyMySQL sends it with `args` bound."""
    return statement % tuple(escape_item(arg, "utf8mb4") for arg in args)


@pytest.mark.parametrize(
    ("version", "dialect"),
    [
        ("8.0.mysql_aurora.3.08.0", MYSQL),  # Aurora MySQL 3
        ("8.0.39", MYSQL),
        ("10.11.19-MariaDB-0+deb12u1", MARIADB),
        ("11.4.2-MariaDB-log", MARIADB),
    ],
)
def test_the_role_statements_follow_the_server_s_version(version, dialect):
    assert dialect_of(version) is dialect


def test_mysql_roles_are_accounts_read_from_role_edges_and_revoked_by_account_name():
    # Rows as SELECT FROM_USER, FROM_HOST FROM mysql.role_edges returns them on MySQL 8.0.
    assert "FROM mysql.role_edges WHERE TO_USER = %s AND TO_HOST = %s" in MYSQL.granted
    roles = MYSQL.roles([("reporting", "%"), ("ops", "10.0.%")])
    assert roles == {Role("reporting", "%"), Role("ops", "10.0.%")}
    revokes = [bound(MYSQL.revoke, (*role.args, "app", "%")) for role in sorted(roles)]
    assert revokes == [
        "REVOKE 'ops'@'10.0.%' FROM 'app'@'%'",
        "REVOKE 'reporting'@'%' FROM 'app'@'%'",
    ]
    assert [str(role) for role in sorted(roles)] == ["'ops'@'10.0.%'", "'reporting'@'%'"]


def test_a_mysql_default_role_is_a_row_of_default_roles_and_reset_to_none():
    assert "FROM mysql.default_roles WHERE USER = %s AND HOST = %s" in MYSQL.default
    assert MYSQL.has_default([("reporting",)])
    assert not MYSQL.has_default([])
    assert bound(MYSQL.reset_default, ("app", "%")) == "SET DEFAULT ROLE NONE TO 'app'@'%'"


def test_mariadb_roles_are_names_and_its_default_role_a_column():
    # The MariaDB statements also run against the tests' server (test_exact_grants.py).
    assert MARIADB.roles([("reporting",)]) == {Role("reporting")}
    assert str(Role("reporting")) == "'reporting'"
    assert bound(MARIADB.revoke, ("reporting", "app", "%")) == "REVOKE 'reporting' FROM 'app'@'%'"
    assert not MARIADB.has_default([("",)])
    assert MARIADB.has_default([("reporting",)])
    assert bound(MARIADB.reset_default, ("app", "%")) == "SET DEFAULT ROLE NONE FOR 'app'@'%'"
