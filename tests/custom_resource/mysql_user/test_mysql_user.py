"""Custom::MySQLUser against a real TLS-only MariaDB, with the secrets in moto and the answer
read from the loopback HTTPS receiver, exactly as CloudFormation would read it."""

import pytest

pytestmark = pytest.mark.database


def select_grant(user: str, on: str = "`appdb`.`prices`", privileges: str = "SELECT") -> str:
    return f"GRANT {privileges} ON {on} TO `{user}`@`%`"


def test_create_makes_the_user_with_the_secrets_password_and_exactly_the_grants(scenario):
    s = scenario

    body = s.answer(s.event("Create", s.props()))

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert body["Data"] == {"Username": s.user, "Host": "127.0.0.1"}
    assert s.db.grants(s.user) == {select_grant(s.user)}
    password = s.store.value(s.app_arn)["password"]
    with s.db.login(s.user, password) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT item, price_cents FROM appdb.prices ORDER BY id")
        assert cursor.fetchall() == (("Coffee", 250), ("Tea", 200), ("Cake", 450))


def test_database_and_table_grants_are_exactly_those_listed(scenario):
    s = scenario
    s.db.query("CREATE DATABASE IF NOT EXISTS reports")
    grants = [
        {"Privileges": ["select", "Insert"], "Database": "appdb", "Table": "prices"},
        {"Privileges": ["SELECT", "CREATE TEMPORARY  TABLES"], "Database": "reports", "Table": "*"},
    ]

    s.create(s.props(grants))

    assert s.db.grants(s.user) == {
        select_grant(s.user, privileges="SELECT, INSERT"),
        select_grant(s.user, "`reports`.*", "SELECT, CREATE TEMPORARY TABLES"),
    }


def test_the_demo_schema_goes_to_the_first_grant_s_database(scenario):
    s = scenario
    s.db.query("CREATE DATABASE IF NOT EXISTS reports")
    s.db.query("DROP DATABASE IF EXISTS shopdemo")
    grants = [
        {"Privileges": ["SELECT"], "Database": "shopdemo", "Table": "prices"},
        {"Privileges": ["SELECT"], "Database": "reports", "Table": "*"},
    ]

    body = s.answer(s.event("Create", s.props(grants)))

    assert body["Status"] == "SUCCESS", body["Reason"]
    password = s.store.value(s.app_arn)["password"]
    with s.db.login(s.user, password) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id, item, price_cents FROM shopdemo.prices ORDER BY id")
        assert cursor.fetchall() == ((1, "Coffee", 250), (2, "Tea", 200), (3, "Cake", 450))


def test_update_revokes_what_is_no_longer_listed_on_the_user_and_its_clone(scenario):
    s = scenario
    clone = f"{s.user}_clone"
    first = s.props([{"Privileges": ["SELECT", "INSERT"], "Database": "appdb", "Table": "prices"}])
    created = s.create(first)
    # The first rotation made the clone with the same grants; an operator added one by hand.
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'rotated-pw'", (clone,))
    s.db.query("GRANT SELECT, INSERT ON appdb.prices TO %s@'%%'", (clone,))
    s.db.query("GRANT DELETE ON appdb.* TO %s@'%%'", (s.user,))
    second = {**first, "Grants": [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "*"}]}

    body = s.update(created, first, second)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    for user in (s.user, clone):
        assert s.db.grants(user) == {select_grant(user, "`appdb`.*")}


def test_update_keeps_a_password_that_rotation_set(scenario):
    s = scenario
    first = s.props()
    created = s.create(first)
    s.db.query("ALTER USER %s@'%%' IDENTIFIED BY 'set-by-rotation'", (s.user,))
    second = s.props([{"Privileges": ["SELECT", "INSERT"], "Database": "appdb", "Table": "*"}])

    body = s.update(created, first, second)

    assert body["Status"] == "SUCCESS", body["Reason"]
    s.db.login(s.user, "set-by-rotation").close()


def test_update_after_rotation_to_the_clone_finds_the_base_user(scenario):
    s = scenario
    clone = f"{s.user}_clone"
    first = s.props()
    created = s.create(first)
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'clone-pw'", (clone,))
    rotated = s.store.app(clone, "clone-pw", s.admin_arn)
    second = {
        **first,
        "AppSecretArn": rotated,
        "Grants": [{"Privileges": ["INSERT"], "Database": "appdb", "Table": "prices"}],
    }

    body = s.update(created, first, second)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert body["Data"]["Username"] == s.user
    for user in (s.user, clone):
        assert s.db.grants(user) == {select_grant(user, privileges="INSERT")}
    s.db.login(clone, "clone-pw").close()


def test_renamed_user_gets_a_new_physical_id_and_the_old_one_is_dropped_on_delete(scenario):
    s = scenario
    first = s.props()
    created = s.create(first)
    renamed = f"{s.user}b"
    second = {**first, "AppSecretArn": s.store.app(renamed, admin_arn=s.admin_arn)}
    try:
        updated = s.update(created, first, second)
        assert updated["Status"] == "SUCCESS", updated["Reason"]
        assert updated["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{renamed}"
        assert {s.user, renamed} <= s.db.users()

        # CloudFormation then deletes the old resource, with its old properties.
        deleted = s.delete(created, first)

        assert deleted["Status"] == "SUCCESS"
        assert s.user not in s.db.users()
        assert renamed in s.db.users()
    finally:
        s.db.query("DROP USER IF EXISTS %s@'%%'", (renamed,))


def test_delete_drops_the_user_and_its_clone(scenario):
    s = scenario
    created = s.create(s.props())
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'x'", (f"{s.user}_clone",))

    body = s.delete(created, s.props())

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert not {s.user, f"{s.user}_clone"} & s.db.users()


def test_delete_with_retain_on_delete_keeps_the_user(scenario):
    s = scenario
    props = s.props(RetainOnDelete="true")
    created = s.create(props)

    body = s.delete(created, props)

    assert body["Status"] == "SUCCESS"
    assert s.user in s.db.users()


def test_create_then_update_with_the_same_properties_is_harmless(scenario):
    s = scenario
    props = s.props()
    created = s.create(props)

    again = s.update(created, props, props)

    assert again["Status"] == "SUCCESS", again["Reason"]
    assert again["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert s.db.grants(s.user) == {select_grant(s.user)}
    s.db.login(s.user, s.store.value(s.app_arn)["password"]).close()


def test_update_to_a_new_secret_for_the_same_user_sets_its_password(scenario):
    s = scenario
    first = s.props()
    created = s.create(first)
    replacement = s.store.app(s.user, "from-the-new-secret", s.admin_arn)
    second = {**first, "AppSecretArn": replacement}

    body = s.update(created, first, second)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    s.db.login(s.user, "from-the-new-secret").close()


def test_failed_update_keeps_the_old_physical_id_and_grants(scenario):
    s = scenario
    first = s.props()
    created = s.create(first)
    renamed = s.store.app(f"{s.user}x", admin_arn=s.admin_arn)
    second = s.props(
        [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "missing"}], AppSecretArn=renamed
    )

    body = s.update(created, first, second)

    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert s.db.grants(s.user) == {select_grant(s.user)}
    s.db.query("DROP USER IF EXISTS %s@'%%'", (f"{s.user}x",))
