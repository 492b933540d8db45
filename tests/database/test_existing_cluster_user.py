"""The existing-cluster template's application user on a real MariaDB server playing an existing
Aurora cluster: each privilege set the template offers is valid SQL that an Aurora-like master
user may grant on DatabaseName, it grants that set and nothing else, the first alternating-users
rotation clones it unchanged, and both users log in with what the application secret says (port
and dbname included, as the rotation function logs in).

Creating the user is Custom::MySQLUser's job (tested with its own code); here a few lines do the
same with the template's Grants property, so what is tested is the template's side: the secret it
renders and the grants it asks for."""

from __future__ import annotations

import json
import re

import pymysql
import pytest

from tests.database.test_bootstrap import clone_like_the_rotation
from tests.helpers.cfn_templates import (
    EXISTING_CLUSTER,
    Context,
    evaluate,
    exclude_characters,
    load,
    properties,
)
from tests.templates.test_existing_cluster import REQUIRED, RESOURCE_VALUES

MASTER = "owner"
PRIVILEGE_SETS = load(EXISTING_CLUSTER)["Parameters"]["AppPrivileges"]["AllowedValues"]
KNOWN_PRIVILEGES = re.compile(r"^[A-Z]+( [A-Z]+)?$")


@pytest.fixture(scope="module")
def master(mariadb, secretsmanager) -> dict:
    """The existing cluster's admin secret (self-managed JSON) and its user on the server."""
    password = secretsmanager.get_random_password(
        ExcludeCharacters=exclude_characters(load(EXISTING_CLUSTER))
    )["RandomPassword"]
    mariadb.create_aurora_master(MASTER, password)
    return {"engine": "mysql", "host": "127.0.0.1", "port": mariadb.port, "username": MASTER,
            "password": password}  # fmt: skip


def rendered_secret(template: dict, context: Context, password: str) -> dict:
    generate = properties(template, "AppSecret")["GenerateSecretString"]
    secret = json.loads(evaluate(generate["SecretStringTemplate"], context))
    secret[generate["GenerateStringKey"]] = password
    return secret


def create_like_the_custom_resource(admin: pymysql.Connection, secret: dict, grants: list) -> None:
    with admin.cursor() as cursor:
        cursor.execute(
            "CREATE USER %s@'%%' IDENTIFIED BY %s", (secret["username"], secret["password"])
        )
        for grant in grants:
            assert all(KNOWN_PRIVILEGES.match(p) for p in grant["Privileges"]), grant
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", grant["Database"]), grant
            assert grant["Table"] == "*"
            privileges = ", ".join(grant["Privileges"])
            cursor.execute(
                f"GRANT {privileges} ON `{grant['Database']}`.* TO %s@'%%'", (secret["username"],)
            )


def grants_of(admin: pymysql.Connection, username: str) -> dict[str, set[str]]:
    """Privileges by object, as SHOW GRANTS lists them (USAGE, the login itself, left out)."""
    with admin.cursor() as cursor:
        cursor.execute("SHOW GRANTS FOR %s@'%%'", (username,))
        rows = [row[0] for row in cursor.fetchall()]
    found = {}
    for row in rows:
        privileges, target = re.fullmatch(r"GRANT (.+) ON (\S+) TO .*", row).groups()
        if privileges != "USAGE":
            found[target] = {p.strip() for p in privileges.split(",")}
    return found


@pytest.mark.parametrize("privilege_set", PRIVILEGE_SETS)
def test_app_user_gets_exactly_the_chosen_privileges_and_keeps_them_through_rotation(
    mariadb, master, secretsmanager, privilege_set
):
    template = load(EXISTING_CLUSTER)
    index = PRIVILEGE_SETS.index(privilege_set)
    parameters = {
        **REQUIRED,
        **RESOURCE_VALUES,
        "ClusterPort": str(mariadb.port),
        "AppUsername": f"app{index}",
        "DatabaseName": f"orders{index}",
        "AppPrivileges": privilege_set,
    }
    context = Context(template, **parameters)
    exclude = exclude_characters(template)
    password, clone_password = (
        secretsmanager.get_random_password(ExcludeCharacters=exclude)["RandomPassword"]
        for _ in range(2)
    )
    secret = rendered_secret(template, context, password)
    grants = evaluate(properties(template, "AppUser")["Grants"], context)
    expected = {f"`{secret['dbname']}`.*": set(privilege_set.split(","))}

    with mariadb.login(master["username"], master["password"]) as admin:
        with admin.cursor() as cursor:  # DatabaseName exists (or CreateDatabase made it)
            cursor.execute(f"CREATE DATABASE `{secret['dbname']}`")
        create_like_the_custom_resource(admin, secret, grants)
        assert grants_of(admin, secret["username"]) == expected
        clone = clone_like_the_rotation(admin, secret["username"], clone_password)
        assert grants_of(admin, clone) == expected

    # Both users log in where the secret points (its port is a number the client takes as is),
    # into its dbname, as the rotation function does.
    for username, user_password in ((secret["username"], password), (clone, clone_password)):
        with pymysql.connect(
            host="127.0.0.1", port=secret["port"], user=username, password=user_password,
            database=secret["dbname"],
        ) as connection, connection.cursor() as cursor:  # fmt: skip
            cursor.execute("SELECT CURRENT_USER()")
            assert cursor.fetchone()[0].startswith(f"{username}@")
