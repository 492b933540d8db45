"""The existing-cluster template's AppUser, end to end: its properties as the template evaluates
them and its application secret as the template renders it, through the real handler against a
TLS-only MariaDB playing the existing cluster. The alternating-users rotation logs in to the
secret's dbname with every user (pymysql.connect(database=dbname) in AWS's function), so
DatabaseName must exist: AppUser refuses a missing one before it changes anything, or creates it
with CreateDatabase=true and never drops it."""

import json
import secrets
import uuid

import pymysql
import pytest
from pymysql.constants import ER

from tests.database.test_bootstrap import clone_like_the_rotation
from tests.helpers.cfn_templates import EXISTING_CLUSTER, Context, evaluate, load, properties
from tests.templates.test_existing_cluster import REQUIRED, RESOURCE_VALUES

from .conftest import ADMIN_USER

pytestmark = pytest.mark.database


@pytest.fixture
def existing_cluster(scenario):
    """AppUser's properties and the application secret for a database the cluster lacks."""

    def deploy(**parameters: str) -> tuple[dict, dict]:
        s = scenario
        template = load(EXISTING_CLUSTER)
        app_arn = s.store.put(f"AppSecret-{secrets.token_hex(4)}", "{}")
        values = {
            **REQUIRED,
            **RESOURCE_VALUES,
            "AdminSecretArn": s.admin_arn,
            "AppSecret": app_arn,
            "AppUsername": s.user,
            "DatabaseName": f"orders_{uuid.uuid4().hex[:6]}",
            **parameters,
        }
        context = Context(template, **values)
        generate = properties(template, "AppSecret")["GenerateSecretString"]
        secret = json.loads(evaluate(generate["SecretStringTemplate"], context))
        secret[generate["GenerateStringKey"]] = secrets.token_urlsafe(24)
        s.store.client.put_secret_value(SecretId=app_arn, SecretString=json.dumps(secret))
        given = evaluate(properties(template, "AppUser"), context)
        # The test server answers at 127.0.0.1 with a certificate from the test CA; the template
        # points at the cluster's writer endpoint and leaves TlsCaFile to the RDS bundle.
        assert "TlsCaFile" not in given
        return {**given, "Host": "127.0.0.1", "Port": str(s.db.port),
                "TlsCaFile": str(s.db.ca_file)}, secret  # fmt: skip

    return deploy


def databases(db) -> set[str]:
    return {name for (name,) in db.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")}


def rotation_login(db, username: str, password: str, dbname: str) -> pymysql.Connection:
    """How the alternating-users function logs in with a secret: into its dbname."""
    return pymysql.connect(
        host="127.0.0.1", port=db.port, user=username, password=password, database=dbname,
        ssl_ca=str(db.ca_file), ssl_verify_identity=True, connect_timeout=5,
    )  # fmt: skip


def test_a_missing_database_is_refused_before_anything_changes(scenario, existing_cluster):
    given, secret = existing_cluster()
    assert given["CreateDatabase"] == "false"  # the template's default

    body = scenario.answer(scenario.event("Create", given))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        f"Invalid grant: Unknown database '{secret['dbname']}'. Create it first, or set "
        'CreateDatabase "true" (DemoSchema "true" also adds the demo table).'
    )
    assert scenario.user not in scenario.db.users()
    assert secret["dbname"] not in databases(scenario.db)


def test_the_rotation_cannot_log_in_to_a_database_that_does_not_exist(scenario, existing_cluster):
    # Why DatabaseName must exist: grants on it do not let a login name it.
    _, secret = existing_cluster()
    password = secret["password"]
    scenario.db.query("CREATE USER %s@'%%' IDENTIFIED BY %s", (scenario.user, password))
    scenario.db.query(f"GRANT SELECT ON `{secret['dbname']}`.* TO %s@'%%'", (scenario.user,))

    with pytest.raises(pymysql.err.OperationalError) as refused:
        rotation_login(scenario.db, scenario.user, password, secret["dbname"])

    assert refused.value.args[0] == ER.BAD_DB_ERROR


def test_create_database_makes_it_for_the_rotation_and_the_stack_never_drops_it(
    scenario, existing_cluster
):
    # RetainAppUserOnDelete=false: even a stack delete that drops the users keeps the database.
    given, secret = existing_cluster(
        CreateDatabase="true",
        AppPrivileges="SELECT,INSERT,UPDATE,DELETE",
        RetainAppUserOnDelete="false",
    )

    created = scenario.create(given)

    dbname = secret["dbname"]
    assert dbname in databases(scenario.db)
    user = secret["username"]
    # `_` is escaped in the grant so that it names this database only (Custom::MySQLUser's exact
    # grants); the logins below show the escaped grant still opens the database itself.
    escaped = dbname.replace("_", "\\_")
    assert scenario.db.grants(user) == {
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{escaped}`.* TO `{user}`@`%`"
    }
    with scenario.db.login(ADMIN_USER, scenario.db.admin_password) as admin:
        clone = clone_like_the_rotation(admin, user, "clone-password-1")
    for username, password in ((user, secret["password"]), (clone, "clone-password-1")):
        with rotation_login(scenario.db, username, password, dbname) as connection, \
                connection.cursor() as cursor:  # fmt: skip
            cursor.execute("SELECT DATABASE()")
            assert cursor.fetchone() == (dbname,), username

    # An update that keeps CreateDatabase finds the database and changes nothing.
    assert scenario.update(created, given, given)["Status"] == "SUCCESS"

    assert scenario.delete(created, given)["Status"] == "SUCCESS"
    assert {user, clone}.isdisjoint(scenario.db.users())
    assert dbname in databases(scenario.db)  # it may hold data by now


def test_create_database_still_refuses_a_table_that_does_not_exist(scenario):
    # CreateDatabase makes databases, not tables: a table grant on a missing table is refused
    # before any database is created, so nothing is left behind.
    dbname = f"shop_{uuid.uuid4().hex[:6]}"
    given = scenario.props(
        [
            {"Privileges": ["SELECT"], "Database": dbname, "Table": "*"},
            {"Privileges": ["SELECT"], "Database": dbname, "Table": "orders"},
        ],
        CreateDatabase="true",
        DemoSchema="false",
    )

    body = scenario.answer(scenario.event("Create", given))

    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"Invalid grant: Table '{dbname}.orders' doesn't exist.")
    assert dbname not in databases(scenario.db)
    assert scenario.user not in scenario.db.users()


def test_a_user_an_earlier_stack_kept_comes_back_only_with_adopt_existing_app_user(
    scenario, existing_cluster
):
    # A failed first deploy rolls back (or a stack is deleted) and keeps the user
    # (RetainAppUserOnDelete, the default); the next deploy is a new stack, a new StackId.
    s = scenario
    dbname = f"orders_{uuid.uuid4().hex[:6]}"
    first, _ = existing_cluster(DatabaseName=dbname, CreateDatabase="true")
    gone = s.create(first)
    assert s.delete(gone, first)["Status"] == "SUCCESS"
    assert s.user in s.db.users()

    def deploy_again(given: dict) -> dict:
        event = s.event("Create", given)
        event["StackId"] = event["StackId"].replace("app-db/", "app-db-again/")
        return s.answer(event)

    again, _ = existing_cluster(DatabaseName=dbname)
    assert again["AdoptExistingUser"] == "false"  # the template's default
    refused = deploy_again(again)
    assert refused["Status"] == "FAILED"
    assert refused["Reason"].startswith(f"User '{s.user}' (or its clone) already exists")

    adopting, secret = existing_cluster(DatabaseName=dbname, AdoptExistingAppUser="true")
    adopted = deploy_again(adopting)

    assert adopted["Status"] == "SUCCESS", adopted["Reason"]
    assert adopted["PhysicalResourceId"] == f"mysql-user-adopted:127.0.0.1:{s.db.port}:{s.user}"
    with rotation_login(s.db, s.user, secret["password"], dbname) as connection:
        assert connection.open
