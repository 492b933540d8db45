"""The templates' AppUser, end to end: its properties as each template evaluates them, its secrets
as the template generates them (with what SecretTargetAttachment adds, for the multi-user
template), sent to the function as shipped (the zip `make build` makes, run from its unpacked
files) against a TLS-only MariaDB. Then the first alternating-users rotation, after which both
users still behave as the seed post's demo says; and the stack's deletion, which must not drop the
application user and its clone while the cluster lives on."""

import json
import secrets

import pymysql
import pytest

from tests.database.test_bootstrap import clone_like_the_rotation
from tests.helpers.bootstrap_files import aurora_attachment, cluster_values, generated_secret
from tests.helpers.cfn_templates import (
    EXISTING_CLUSTER,
    MULTI_USER,
    MYSQL_USER_FUNCTION_ARN,
    Context,
    evaluate,
    load,
    properties,
)
from tests.templates.test_existing_cluster import REQUIRED, RESOURCE_VALUES

from .conftest import ADMIN_USER

pytestmark = pytest.mark.database

FUNCTION_ARN = MYSQL_USER_FUNCTION_ARN
ACCESS_DENIED = {1142, 1143, 1044}  # table, column and database access denied
PRICES = (("Coffee", 250), ("Tea", 200), ("Cake", 450))


def with_test_ca(given: dict, db) -> dict:
    """The one property the tests add: the templates leave TlsCaFile to the function's default
    (the RDS bundle in its zip), and this server's certificate comes from the test CA."""
    assert "TlsCaFile" not in given
    return {**given, "TlsCaFile": str(db.ca_file)}


def multi_user_stack(s, **parameters) -> tuple[dict, dict]:
    """The multi-user template's two secrets, stored in moto, and AppUser's evaluated properties;
    returns (properties, application secret)."""
    template = load(MULTI_USER)
    attachment = aurora_attachment("127.0.0.1", s.db.port)
    names = {"AdminUsername": ADMIN_USER, "AppUsername": s.user, "DatabaseName": "shopdb"}
    arns = {
        logical_id: s.store.put(f"{logical_id}-{secrets.token_hex(4)}", "{}")
        for logical_id in ("AdminSecret", "AppSecret")
    }
    context = Context(
        template,
        **names,
        **parameters,
        **arns,
        **cluster_values("127.0.0.1", s.db.port),
        **{"MySQLUserFunction.Arn": FUNCTION_ARN},
    )
    values = {
        "AdminSecret": generated_secret(
            template, "AdminSecret", context, s.db.admin_password, attachment
        ),
        "AppSecret": generated_secret(
            template, "AppSecret", context, secrets.token_urlsafe(24), attachment
        ),
    }
    for logical_id, value in values.items():
        s.store.client.put_secret_value(SecretId=arns[logical_id], SecretString=json.dumps(value))
    given = evaluate(properties(template, "AppUser"), context)
    return with_test_ca(given, s.db), values["AppSecret"]


def existing_cluster_stack(s, **parameters) -> tuple[dict, dict]:
    """The existing-cluster template's application secret (it carries host and port itself) and
    AppUser's evaluated properties, with the tests' server as the existing cluster and a
    self-managed admin secret; returns (properties, application secret)."""
    template = load(EXISTING_CLUSTER)
    app_arn = s.store.put(f"AppSecret-{secrets.token_hex(4)}", "{}")
    context = Context(
        template,
        **{
            **REQUIRED,
            **RESOURCE_VALUES,
            "ClusterEndpoint": "127.0.0.1",
            "ClusterPort": str(s.db.port),
            "AdminSecretArn": s.admin_arn,
            "AppSecret": app_arn,
            "AppUsername": s.user,
            "DatabaseName": "shopdb",
            **parameters,
        },
    )
    generate = properties(template, "AppSecret")["GenerateSecretString"]
    value = json.loads(evaluate(generate["SecretStringTemplate"], context))
    value[generate["GenerateStringKey"]] = secrets.token_urlsafe(24)
    s.store.client.put_secret_value(SecretId=app_arn, SecretString=json.dumps(value))
    s.db.query("CREATE DATABASE IF NOT EXISTS shopdb")  # the existing cluster's database
    given = evaluate(properties(template, "AppUser"), context)
    return with_test_ca(given, s.db), value


def demo_checks(db, username: str, password: str) -> None:
    with db.login(username, password) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT item, price_cents FROM shopdb.prices ORDER BY id")
        assert cursor.fetchall() == PRICES, username
        for statement in (
            "INSERT INTO shopdb.prices VALUES (4, 'Errors', 0)",
            "UPDATE shopdb.prices SET price_cents = 0",
            "SELECT User FROM mysql.user",
        ):
            with pytest.raises(pymysql.err.OperationalError) as refused:
                cursor.execute(statement)
            assert refused.value.args[0] in ACCESS_DENIED, (username, statement)


def rotate_once(db, user: str) -> tuple[str, str]:
    """The first alternating-users rotation: the admin clones the user; (clone, its password)."""
    clone_password = secrets.token_urlsafe(24)
    with db.login(ADMIN_USER, db.admin_password) as admin:
        return clone_like_the_rotation(admin, user, clone_password), clone_password


def test_template_app_user_is_created_then_rotates_with_alternating_users(shipped_scenario):
    s = shipped_scenario
    given, app_secret = multi_user_stack(s)
    user = app_secret["username"]

    body = s.answer(s.event("Create", given))

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Username"] == user
    assert s.db.grants(user) == {f"GRANT SELECT ON `shopdb`.`prices` TO `{user}`@`%`"}
    demo_checks(s.db, user, app_secret["password"])

    # The first rotation (RotateImmediatelyOnUpdate) logs in as the admin the secret names and
    # clones the user; the application then logs in as the clone while the original still works.
    clone, clone_password = rotate_once(s.db, user)
    assert s.db.grants(clone) == {f"GRANT SELECT ON `shopdb`.`prices` TO `{clone}`@`%`"}
    demo_checks(s.db, clone, clone_password)
    demo_checks(s.db, user, app_secret["password"])

    # A stack update after the rotation (the secret now names the clone) changes nothing.
    rotated = {**given, "AppSecretArn": s.store.app(clone, clone_password, given["AdminSecretArn"])}
    updated = s.update(body, given, rotated)
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["PhysicalResourceId"] == body["PhysicalResourceId"]
    demo_checks(s.db, clone, clone_password)
    demo_checks(s.db, user, app_secret["password"])


@pytest.mark.parametrize(
    ("template", "parameters", "kept"),
    [
        # CloudFormation deletes AppUser before the cluster; with deletion protection the
        # cluster's deletion then fails and the cluster, and its applications, live on.
        ("multi-user", {}, True),  # DeletionProtection defaults to true
        ("multi-user", {"DeletionProtection": "true"}, True),
        ("multi-user", {"DeletionProtection": "false"}, False),
        # The cluster always outlives this stack: its user stays unless the deployer says so.
        ("existing-cluster", {}, True),
        ("existing-cluster", {"RetainAppUserOnDelete": "false"}, False),
    ],
    ids=[
        "multi-default",
        "multi-protected",
        "multi-unprotected",
        "existing-default",
        "existing-drop",
    ],
)
def test_deleting_the_stack_keeps_the_user_and_clone_while_the_cluster_stays(
    shipped_scenario, template, parameters, kept
):
    s = shipped_scenario
    stack = multi_user_stack if template == "multi-user" else existing_cluster_stack
    given, app_secret = stack(s, **parameters)
    user = app_secret["username"]
    created = s.answer(s.event("Create", given))
    assert created["Status"] == "SUCCESS", created["Reason"]
    clone, clone_password = rotate_once(s.db, user)

    deleted = s.delete(created, given)

    assert deleted["Status"] == "SUCCESS"
    if kept:
        assert {user, clone} <= s.db.users()
    else:
        assert not {user, clone} & s.db.users()
    if kept:  # and both still open the database, as the application knows them
        s.db.login(user, app_secret["password"]).close()
        s.db.login(clone, clone_password).close()
