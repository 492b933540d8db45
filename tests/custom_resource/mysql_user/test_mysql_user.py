"""Custom::MySQLUser against a real TLS-only MariaDB, with the secrets in moto and the answer
read from the loopback HTTPS receiver, exactly as CloudFormation would read it."""

import pytest

from ..local_endpoints import LambdaContext, cloudformation_event

pytestmark = pytest.mark.database

SELECT_PRICES = "SELECT"


def answer(mysql_app, receiver, event, seconds=20.0) -> dict:
    receiver.reset()
    assert mysql_app.handler(event, LambdaContext(seconds)) is None
    (put,) = receiver.puts()
    return put.document


def user_event(request_type, receiver, properties, **kwargs) -> dict:
    event = cloudformation_event(
        request_type, receiver.url(), properties, logical_id="AppUser", **kwargs
    )
    event["ResourceType"] = "Custom::MySQLUser"
    return event


def properties(database, admin_arn, app_arn, grants=None, **extra) -> dict:
    return {
        "AdminSecretArn": admin_arn,
        "AppSecretArn": app_arn,
        "Grants": grants or [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "prices"}],
        "DemoSchema": "true",
        "TlsCaFile": str(database.ca_file),
        **extra,
    }


@pytest.fixture
def arns(secret_store, app_user):
    admin = secret_store.admin()
    return admin, secret_store.app(app_user, admin_arn=admin)


def test_create_makes_the_user_with_the_secrets_password_and_exactly_the_grants(
    mysql_app, receiver, database, secret_store, app_user, arns
):
    admin_arn, app_arn = arns
    event = user_event("Create", receiver, properties(database, admin_arn, app_arn))

    body = answer(mysql_app, receiver, event)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{database.port}:{app_user}"
    assert body["Data"] == {"Username": app_user, "Host": "127.0.0.1"}
    assert database.grants(app_user) == {f"GRANT SELECT ON `appdb`.`prices` TO `{app_user}`@`%`"}
    password = secret_store.value(app_arn)["password"]
    with database.login(app_user, password) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT item, price_cents FROM appdb.prices ORDER BY id")
        assert cursor.fetchall() == (("Coffee", 250), ("Tea", 200), ("Cake", 450))
        cursor.execute("SHOW STATUS LIKE 'Ssl_cipher'")
        assert cursor.fetchone()[1]  # the login itself is over TLS


def test_database_and_table_grants_are_exactly_those_listed(
    mysql_app, receiver, database, app_user, arns
):
    grants = [
        {"Privileges": ["select", "Insert"], "Database": "appdb", "Table": "prices"},
        {"Privileges": ["SELECT", "CREATE TEMPORARY  TABLES"], "Database": "reports", "Table": "*"},
    ]
    database.query("CREATE DATABASE IF NOT EXISTS reports")
    event = user_event("Create", receiver, properties(database, *arns, grants))

    body = answer(mysql_app, receiver, event)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert database.grants(app_user) == {
        f"GRANT SELECT, INSERT ON `appdb`.`prices` TO `{app_user}`@`%`",
        f"GRANT SELECT, CREATE TEMPORARY TABLES ON `reports`.* TO `{app_user}`@`%`",
    }


def test_update_revokes_what_is_no_longer_listed_on_the_user_and_its_clone(
    mysql_app, receiver, database, app_user, arns
):
    first = properties(
        database,
        *arns,
        [{"Privileges": ["SELECT", "INSERT", "UPDATE"], "Database": "appdb", "Table": "prices"}],
    )
    created = answer(mysql_app, receiver, user_event("Create", receiver, first))
    assert created["Status"] == "SUCCESS", created["Reason"]
    # The first rotation made the clone with the same grants, plus something granted by hand.
    database.query("CREATE USER %s@'%%' IDENTIFIED BY 'rotated-pw'", (f"{app_user}_clone",))
    database.query(
        "GRANT SELECT, INSERT, UPDATE ON appdb.prices TO %s@'%%'", (f"{app_user}_clone",)
    )
    database.query("GRANT DELETE ON appdb.* TO %s@'%%'", (app_user,))
    second = {**first, "Grants": [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "*"}]}
    event = user_event(
        "Update",
        receiver,
        second,
        physical_id=created["PhysicalResourceId"],
        old_properties=first,
    )

    body = answer(mysql_app, receiver, event)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    for user in (app_user, f"{app_user}_clone"):
        assert database.grants(user) == {f"GRANT SELECT ON `appdb`.* TO `{user}`@`%`"}


def test_update_keeps_a_password_that_rotation_set(mysql_app, receiver, database, app_user, arns):
    first = properties(database, *arns)
    created = answer(mysql_app, receiver, user_event("Create", receiver, first))
    database.query("ALTER USER %s@'%%' IDENTIFIED BY 'set-by-rotation'", (app_user,))
    second = {
        **first,
        "Grants": [{"Privileges": ["SELECT", "INSERT"], "Database": "appdb", "Table": "prices"}],
    }

    body = answer(
        mysql_app,
        receiver,
        user_event(
            "Update",
            receiver,
            second,
            physical_id=created["PhysicalResourceId"],
            old_properties=first,
        ),
    )

    assert body["Status"] == "SUCCESS", body["Reason"]
    database.login(app_user, "set-by-rotation").close()


def test_update_after_rotation_to_the_clone_finds_the_base_user(
    mysql_app, receiver, database, secret_store, app_user, arns
):
    admin_arn, app_arn = arns
    first = properties(database, admin_arn, app_arn)
    created = answer(mysql_app, receiver, user_event("Create", receiver, first))
    database.query("CREATE USER %s@'%%' IDENTIFIED BY 'clone-pw'", (f"{app_user}_clone",))
    rotated = secret_store.app(f"{app_user}_clone", "clone-pw", admin_arn)
    second = {
        **first,
        "AppSecretArn": rotated,
        "Grants": [{"Privileges": ["INSERT"], "Database": "appdb", "Table": "prices"}],
    }

    body = answer(
        mysql_app,
        receiver,
        user_event(
            "Update",
            receiver,
            second,
            physical_id=created["PhysicalResourceId"],
            old_properties=first,
        ),
    )

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert body["Data"]["Username"] == app_user
    for user in (app_user, f"{app_user}_clone"):
        assert database.grants(user) == {f"GRANT INSERT ON `appdb`.`prices` TO `{user}`@`%`"}


def test_renamed_user_gets_a_new_physical_id_and_the_old_one_is_dropped_on_delete(
    mysql_app, receiver, database, secret_store, app_user, arns
):
    admin_arn, app_arn = arns
    first = properties(database, admin_arn, app_arn)
    created = answer(mysql_app, receiver, user_event("Create", receiver, first))
    renamed_user = f"{app_user}b"
    second = {**first, "AppSecretArn": secret_store.app(renamed_user, admin_arn=admin_arn)}
    try:
        updated = answer(
            mysql_app,
            receiver,
            user_event(
                "Update",
                receiver,
                second,
                physical_id=created["PhysicalResourceId"],
                old_properties=first,
            ),
        )
        assert updated["Status"] == "SUCCESS", updated["Reason"]
        assert updated["PhysicalResourceId"].endswith(f":{renamed_user}")
        assert {app_user, renamed_user} <= database.users()

        # CloudFormation then deletes the old resource, with its old properties.
        deleted = answer(
            mysql_app,
            receiver,
            user_event("Delete", receiver, first, physical_id=created["PhysicalResourceId"]),
        )

        assert deleted["Status"] == "SUCCESS"
        assert app_user not in database.users()
        assert renamed_user in database.users()
    finally:
        database.query("DROP USER IF EXISTS %s@'%%'", (renamed_user,))


def test_delete_drops_the_user_and_its_clone(mysql_app, receiver, database, app_user, arns):
    props = properties(database, *arns)
    created = answer(mysql_app, receiver, user_event("Create", receiver, props))
    database.query("CREATE USER %s@'%%' IDENTIFIED BY 'x'", (f"{app_user}_clone",))

    body = answer(
        mysql_app,
        receiver,
        user_event("Delete", receiver, props, physical_id=created["PhysicalResourceId"]),
    )

    assert body["Status"] == "SUCCESS"
    assert not {app_user, f"{app_user}_clone"} & database.users()


def test_delete_with_retain_on_delete_keeps_the_user(mysql_app, receiver, database, app_user, arns):
    props = properties(database, *arns, RetainOnDelete="true")
    created = answer(mysql_app, receiver, user_event("Create", receiver, props))

    body = answer(
        mysql_app,
        receiver,
        user_event("Delete", receiver, props, physical_id=created["PhysicalResourceId"]),
    )

    assert body["Status"] == "SUCCESS"
    assert app_user in database.users()


def test_a_user_that_existed_before_is_adopted_and_never_dropped(
    mysql_app, receiver, database, secret_store, app_user, arns
):
    admin_arn, app_arn = arns
    database.query("CREATE USER %s@'%%' IDENTIFIED BY 'old-password'", (app_user,))
    database.query("GRANT UPDATE ON appdb.* TO %s@'%%'", (app_user,))
    props = properties(database, admin_arn, app_arn)

    created = answer(mysql_app, receiver, user_event("Create", receiver, props))

    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["PhysicalResourceId"].startswith("mysql-user-adopted:")
    assert database.grants(app_user) == {f"GRANT SELECT ON `appdb`.`prices` TO `{app_user}`@`%`"}
    # A new secret is the truth on the first Create: its password now opens the database.
    database.login(app_user, secret_store.value(app_arn)["password"]).close()
    deleted = answer(
        mysql_app,
        receiver,
        user_event("Delete", receiver, props, physical_id=created["PhysicalResourceId"]),
    )
    assert deleted["Status"] == "SUCCESS"
    assert app_user in database.users()


def test_create_run_twice_is_harmless(mysql_app, receiver, database, app_user, arns):
    props = properties(database, *arns)
    first = answer(mysql_app, receiver, user_event("Create", receiver, props))
    update = user_event(
        "Update", receiver, props, physical_id=first["PhysicalResourceId"], old_properties=props
    )

    again = answer(mysql_app, receiver, update)

    assert again["Status"] == "SUCCESS", again["Reason"]
    assert again["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert database.grants(app_user) == {f"GRANT SELECT ON `appdb`.`prices` TO `{app_user}`@`%`"}
