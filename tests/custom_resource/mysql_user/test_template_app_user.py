"""The multi-user template's AppUser, end to end: its properties as the template evaluates them,
its two secrets as the template generates them (with what SecretTargetAttachment adds), through
the real handler against a TLS-only MariaDB; then the first alternating-users rotation, after
which both users still behave as the seed post's demo says: read prices, insert nothing, never
see mysql.user."""

import json
import secrets

import pymysql
import pytest

from tests.database.test_bootstrap import clone_like_the_rotation
from tests.helpers.bootstrap_files import aurora_attachment, generated_secret
from tests.helpers.cfn_templates import MULTI_USER, Context, evaluate, load, properties

from .conftest import ADMIN_USER

pytestmark = pytest.mark.database

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotation-demo-MySQLUserFunction-1"
ACCESS_DENIED = {1142, 1143, 1044}  # table, column and database access denied
PRICES = (("Coffee", 250), ("Tea", 200), ("Cake", 450))


@pytest.fixture
def deployed(scenario):
    """The two secrets the template makes, stored in moto, and AppUser's evaluated properties."""
    s = scenario
    template = load(MULTI_USER)
    attachment = aurora_attachment("127.0.0.1", s.db.port)
    names = {"AdminUsername": ADMIN_USER, "AppUsername": s.user, "DatabaseName": "shopdb"}
    arns = {
        logical_id: s.store.put(f"{logical_id}-{secrets.token_hex(4)}", "{}")
        for logical_id in ("AdminSecret", "AppSecret")
    }
    context = Context(template, **names, **arns, **{"MySQLUserFunction.Arn": FUNCTION_ARN})
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
    # The one property the test adds: the template leaves TlsCaFile to the function's default
    # (the RDS bundle in its zip), and this server's certificate comes from the test CA.
    assert "TlsCaFile" not in given
    return s, {**given, "TlsCaFile": str(s.db.ca_file)}, values["AppSecret"]


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


def test_template_app_user_is_created_then_rotates_with_alternating_users(deployed):
    s, given, app_secret = deployed
    user = app_secret["username"]

    body = s.answer(s.event("Create", given))

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Username"] == user
    assert s.db.grants(user) == {f"GRANT SELECT ON `shopdb`.`prices` TO `{user}`@`%`"}
    demo_checks(s.db, user, app_secret["password"])

    # The first rotation (RotateImmediatelyOnUpdate) logs in as the admin the secret names and
    # clones the user; the application then logs in as the clone while the original still works.
    clone_password = secrets.token_urlsafe(24)
    with s.db.login(ADMIN_USER, s.db.admin_password) as admin:
        clone = clone_like_the_rotation(admin, user, clone_password)
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
