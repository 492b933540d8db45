"""Exact grants mean exact: no grant option survives at any level, a database-level grant on
`app_db` opens app_db and not appXdb, and names that are reserved words or all digits work as
databases and tables. Checked with SHOW GRANTS and with the user's own logins on the real
TLS-only MariaDB."""

import contextlib
from collections.abc import Iterator

import pymysql
import pytest

from tests.database.test_bootstrap import clone_like_the_rotation

from .conftest import ADMIN_USER

pytestmark = pytest.mark.database

ACCESS_DENIED = {1044, 1142, 1143, 1227, 1370, 1698}


def denied(connection: pymysql.Connection, statement: str) -> bool:
    """True if MySQL refuses `statement` to this login for want of a privilege."""
    with connection.cursor() as cursor:
        try:
            cursor.execute(statement)
        except pymysql.err.MySQLError as error:
            code = error.args[0]
        else:
            return False
    assert code in ACCESS_DENIED, code
    return True


def updated_after_grants_by_hand(s, *statements: str) -> dict:
    """Create the user with the default grant (SELECT on appdb.prices), give it `statements` by
    hand (each takes the user as its one value), then run an unchanged Update: its answer."""
    props = s.props()
    created = s.create(props)
    for statement in statements:
        s.db.query(statement, (s.user,))
    return s.update(created, props, props)


def only_the_default_grant(user: str) -> set[str]:
    return {f"GRANT SELECT ON `appdb`.`prices` TO `{user}`@`%`"}


def test_grant_options_at_every_level_are_revoked_from_the_user_and_its_clone(scenario):
    s = scenario
    s.db.query("CREATE DATABASE IF NOT EXISTS reports")
    s.db.query("CREATE PROCEDURE IF NOT EXISTS reports.totals() SELECT 1")
    s.db.query("CREATE USER IF NOT EXISTS 'victim'@'%%' IDENTIFIED BY 'victim-pw'")
    props = s.props()
    created = s.create(props)
    clone = f"{s.user}_clone"
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'clone-pw'", (clone,))
    for user in (s.user, clone):
        # A grant option left behind by revoked privileges shows as USAGE ... WITH GRANT OPTION
        # (database, table and global level); REVOKE USAGE would do nothing about it.
        for statement in (
            "GRANT SELECT ON reports.* TO %s@'%%' WITH GRANT OPTION",
            "REVOKE SELECT ON reports.* FROM %s@'%%'",
            "GRANT INSERT ON appdb.prices TO %s@'%%' WITH GRANT OPTION",
            "REVOKE INSERT ON appdb.prices FROM %s@'%%'",
            "GRANT SELECT ON appdb.prices TO %s@'%%' WITH GRANT OPTION",  # a wanted privilege
            "GRANT PROCESS ON *.* TO %s@'%%' WITH GRANT OPTION",
            "REVOKE PROCESS ON *.* FROM %s@'%%'",
            "GRANT EXECUTE ON PROCEDURE reports.totals TO %s@'%%' WITH GRANT OPTION",
        ):
            s.db.query(statement, (user,))
    assert any("WITH GRANT OPTION" in line for line in s.db.grants(s.user))

    body = s.update(created, props, props)

    assert body["Status"] == "SUCCESS", body["Reason"]
    for user in (s.user, clone):
        lines = {line for (line,) in s.db.query("SHOW GRANTS FOR %s@'%%'", (user,))}
        assert not [line for line in lines if "GRANT OPTION" in line], lines
        assert s.db.grants(user) == {f"GRANT SELECT ON `appdb`.`prices` TO `{user}`@`%`"}
    # And so the application user cannot hand its privileges on.
    password = s.store.value(s.app_arn)["password"]
    with s.db.login(s.user, password) as connection:
        assert denied(connection, "GRANT SELECT ON appdb.prices TO 'victim'@'%'")
    s.db.query("DROP USER 'victim'@'%%'")


def test_a_proxy_grant_is_revoked_or_named_when_the_admin_may_not(scenario):
    # PROXY lets the user act as another account; WITH GRANT OPTION lets it pass that on. Only
    # the grantor (or a holder of PROXY on that account) may revoke it: the Aurora-like admin
    # here may not, so the update fails and says which grant and what to do.
    s = scenario
    s.db.query("CREATE USER IF NOT EXISTS 'victim'@'%%' IDENTIFIED BY 'victim-pw'")
    props = s.props()
    created = s.create(props)
    s.db.query("GRANT PROXY ON 'victim'@'%%' TO %s@'%%' WITH GRANT OPTION", (s.user,))
    try:
        body = s.update(created, props, props)

        assert body["Status"] == "FAILED"
        assert body["Reason"] == (
            f"The admin user may not revoke PROXY on 'victim'@'%' from '{s.user}' (MySQL "
            "error 1698). Revoke it as the account that granted it (REVOKE PROXY ON "
            "'victim'@'%' FROM ...)."
        )
        s.db.query("GRANT PROXY ON 'victim'@'%%' TO 'admin'@'%%' WITH GRANT OPTION")
        assert s.update(created, props, props)["Status"] == "SUCCESS"
        assert not [g for g in s.db.grants(s.user) if "PROXY" in g]
    finally:
        if s.db.query("SELECT 1 FROM mysql.proxies_priv WHERE User = 'admin'"):
            s.db.query("REVOKE PROXY ON 'victim'@'%%' FROM 'admin'@'%%'")
        s.db.query("DROP USER 'victim'@'%%'")


def test_a_create_that_adopts_a_user_revokes_its_grant_options_too(scenario):
    s = scenario
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'old-pw'", (s.user,))
    s.db.query("GRANT SELECT ON appdb.* TO %s@'%%' WITH GRANT OPTION", (s.user,))
    s.db.query("REVOKE SELECT ON appdb.* FROM %s@'%%'", (s.user,))

    s.create(s.props(AdoptExistingUser="true"))

    lines = {line for (line,) in s.db.query("SHOW GRANTS FOR %s@'%%'", (s.user,))}
    assert not [line for line in lines if "GRANT OPTION" in line], lines


@pytest.fixture
def lookalike_databases(database):
    for name in ("app_db", "appXdb"):
        database.query(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        database.query(f"CREATE TABLE IF NOT EXISTS `{name}`.`notes` (id INT)")
    yield
    for name in ("app_db", "appXdb"):
        database.query(f"DROP DATABASE IF EXISTS `{name}`")


def test_a_database_grant_on_app_db_does_not_open_appxdb(scenario, lookalike_databases):
    s = scenario
    props = s.props([{"Privileges": ["SELECT"], "Database": "app_db", "Table": "*"}])
    created = s.create(props)
    password = s.store.value(s.app_arn)["password"]

    with s.db.login(s.user, password) as connection:
        assert not denied(connection, "SELECT * FROM app_db.notes")
        assert denied(connection, "SELECT * FROM appXdb.notes")
    assert s.db.grants(s.user) == {f"GRANT SELECT ON `app\\_db`.* TO `{s.user}`@`%`"}
    # The rotation's clone copies SHOW GRANTS as it reads: the escape carries over.
    with s.db.login(ADMIN_USER, s.db.admin_password) as admin:
        clone = clone_like_the_rotation(admin, s.user, "clone-password-1")
    with s.db.login(clone, "clone-password-1") as connection:
        assert not denied(connection, "SELECT * FROM app_db.notes")
        assert denied(connection, "SELECT * FROM appXdb.notes")

    # A wildcard grant someone added by hand is revoked; the exact one is kept, not redone.
    s.db.query("GRANT SELECT ON `app_db`.* TO %s@'%%'", (s.user,))
    updated = s.update(created, props, props)
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert s.db.grants(s.user) == {f"GRANT SELECT ON `app\\_db`.* TO `{s.user}`@`%`"}
    with s.db.login(s.user, password) as connection:
        assert denied(connection, "SELECT * FROM appXdb.notes")


def test_a_table_grant_in_app_db_names_that_table_literally(scenario, lookalike_databases):
    # Only a database-level grant reads `_` as a wildcard: a table grant names its database as
    # it is (escaping it would name a database `app\_db` that does not exist).
    s = scenario
    props = s.props([{"Privileges": ["SELECT"], "Database": "app_db", "Table": "notes"}])

    created = s.create(props)

    assert s.db.grants(s.user) == {f"GRANT SELECT ON `app_db`.`notes` TO `{s.user}`@`%`"}
    with s.db.login(s.user, s.store.value(s.app_arn)["password"]) as connection:
        assert not denied(connection, "SELECT * FROM app_db.notes")
        assert denied(connection, "SELECT * FROM appXdb.notes")
    updated = s.update(created, props, props)
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert s.db.grants(s.user) == {f"GRANT SELECT ON `app_db`.`notes` TO `{s.user}`@`%`"}


def test_an_unchanged_update_changes_no_grant(scenario, lookalike_databases, caplog):
    s = scenario
    props = s.props([{"Privileges": ["SELECT"], "Database": "app_db", "Table": "*"}])
    created = s.create(props)
    caplog.clear()

    s.update(created, props, props)

    assert f"Grants of '{s.user}': 0 added, 0 revoked" in caplog.text


@pytest.fixture
def awkward_names(database):
    names = ("order", "2024", "select")
    for name in names:
        database.query(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        database.query(f"CREATE TABLE IF NOT EXISTS `{name}`.`{name}` (id INT)")
        database.query(f"CREATE TABLE IF NOT EXISTS `{name}`.`1e5` (id INT)")
    yield names
    for name in names:
        database.query(f"DROP DATABASE IF EXISTS `{name}`")
    database.query("DROP DATABASE IF EXISTS `2025`")


def test_reserved_word_and_all_digit_names_work_as_databases_and_tables(scenario, awkward_names):
    s = scenario
    grants = [
        {"Privileges": ["SELECT"], "Database": "order", "Table": "*"},
        {"Privileges": ["SELECT", "INSERT"], "Database": "2024", "Table": "2024"},
        {"Privileges": ["SELECT"], "Database": "select", "Table": "select"},
        {"Privileges": ["UPDATE"], "Database": "select", "Table": "1e5"},
    ]
    props = s.props(grants, DemoSchema="false")

    created = s.create(props)

    password = s.store.value(s.app_arn)["password"]
    with s.db.login(s.user, password) as connection:
        for statement in (
            "SELECT * FROM `order`.`order`",
            "SELECT * FROM `order`.`1e5`",
            "INSERT INTO `2024`.`2024` VALUES (1)",
            "SELECT * FROM `select`.`select`",
        ):
            assert not denied(connection, statement), statement
        assert denied(connection, "SELECT * FROM `2024`.`1e5`")
    updated = s.update(created, props, props)
    assert updated["Status"] == "SUCCESS", updated["Reason"]


def test_the_demo_schema_goes_into_a_reserved_word_or_all_digit_database(scenario):
    s = scenario
    for database in ("order", "2025"):
        props = s.props([{"Privileges": ["SELECT"], "Database": database, "Table": "prices"}])
        try:
            body = s.answer(s.event("Create", props))
            assert body["Status"] == "SUCCESS", body["Reason"]
            with s.db.login(s.user, s.store.value(s.app_arn)["password"]) as connection:
                statement = f"SELECT * FROM `{database}`.prices"  # noqa: S608 - test names
                assert not denied(connection, statement)
            assert s.delete(body, props)["Status"] == "SUCCESS"
        finally:
            s.db.query(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture
def reporting_role(database):
    """A MariaDB role with privileges the application user must not get: SELECT on every table
    of the server's databases."""
    database.query("CREATE ROLE IF NOT EXISTS reporting")
    database.query("GRANT SELECT ON *.* TO reporting")
    yield "reporting"
    database.query("DROP ROLE IF EXISTS reporting")


def roles_of(db, user: str) -> tuple[set[str], str]:
    """The roles granted to user@'%' and its default role (MariaDB's tables)."""
    granted = db.query(
        "SELECT Role FROM mysql.roles_mapping WHERE User = %s AND Host = '%%'", (user,)
    )
    [(default,)] = db.query(
        "SELECT default_role FROM mysql.user WHERE User = %s AND Host = '%%'", (user,)
    )
    return {role for (role,) in granted}, default


def test_a_granted_role_and_the_default_role_are_revoked_from_the_user_and_its_clone(
    scenario, reporting_role
):
    s = scenario
    props = s.props()
    created = s.create(props)
    password = s.store.value(s.app_arn)["password"]
    s.db.query("GRANT reporting TO %s@'%%' WITH ADMIN OPTION", (s.user,))
    s.db.query("SET DEFAULT ROLE reporting FOR %s@'%%'", (s.user,))
    # The rotation's clone copies SHOW GRANTS: the role line too (MariaDB's SET DEFAULT ROLE
    # line is no GRANT, so it is left out here, as it would break the copy).
    with s.db.login(s.user, password) as connection:
        assert not denied(connection, "SELECT * FROM mysql.db")  # the role's privileges, active
    clone = f"{s.user}_clone"
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'clone-pw-1'", (clone,))
    s.db.query("GRANT reporting TO %s@'%%'", (clone,))
    s.db.query("SET DEFAULT ROLE reporting FOR %s@'%%'", (clone,))
    # The admin may revoke a role it holds WITH ADMIN OPTION (on Aurora: ROLE_ADMIN).
    s.db.query("GRANT reporting TO %s@'%%' WITH ADMIN OPTION", (ADMIN_USER,))

    body = s.update(created, props, props)

    assert body["Status"] == "SUCCESS", body["Reason"]
    for user in (s.user, clone):
        assert roles_of(s.db, user) == (set(), ""), user
        assert s.db.grants(user) == {f"GRANT SELECT ON `appdb`.`prices` TO `{user}`@`%`"}
    with s.db.login(s.user, password) as connection:
        assert denied(connection, "SELECT * FROM mysql.db")
        with pytest.raises(pymysql.err.OperationalError) as set_role:
            connection.cursor().execute("SET ROLE reporting")
        assert set_role.value.args[0] == 1959  # ER_INVALID_ROLE: not granted to it any more


def test_a_role_the_admin_may_not_revoke_fails_the_update_naming_it(scenario, reporting_role):
    s = scenario
    props = s.props()
    created = s.create(props)
    s.db.query("GRANT reporting TO %s@'%%'", (s.user,))

    body = s.update(created, props, props)

    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        f"The admin user may not revoke role 'reporting' from '{s.user}' (MySQL error 1698). "
        "Revoke it as an account holding the role WITH ADMIN OPTION (or, on MySQL, ROLE_ADMIN, "
        "which Aurora's master user has), then retry."
    )
    assert roles_of(s.db, s.user) == ({"reporting"}, "")


@pytest.fixture
def case_twin(scenario, reporting_role):
    """An account whose name differs from the application user's only in case ('APP1' beside
    'app1': two accounts to MySQL), holding a privilege the user is to get, others it must not,
    at every level the function reads: global, database, table, routine, role, PROXY."""
    s = scenario
    twin = s.user.upper()
    s.db.query("CREATE DATABASE IF NOT EXISTS other")
    s.db.query("CREATE PROCEDURE IF NOT EXISTS other.totals() SELECT 1")
    s.db.query("CREATE DATABASE IF NOT EXISTS appdb")
    s.db.query(  # the demo table, as DemoSchema makes it
        "CREATE TABLE IF NOT EXISTS appdb.prices "
        "(id INT NOT NULL PRIMARY KEY, item VARCHAR(64) NOT NULL, price_cents INT NOT NULL)"
    )
    s.db.query("CREATE USER IF NOT EXISTS 'victim'@'%%' IDENTIFIED BY 'victim-pw'")
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'twin-pw'", (twin,))
    for statement in (
        "GRANT SELECT ON appdb.prices TO %s@'%%'",
        "GRANT SELECT ON other.* TO %s@'%%' WITH GRANT OPTION",
        "GRANT PROCESS ON *.* TO %s@'%%'",
        "GRANT EXECUTE ON PROCEDURE other.totals TO %s@'%%' WITH GRANT OPTION",
        "GRANT reporting TO %s@'%%'",
        "SET DEFAULT ROLE reporting FOR %s@'%%'",
        "GRANT PROXY ON 'victim'@'%%' TO %s@'%%'",
    ):
        s.db.query(statement, (twin,))
    before = s.db.grants(twin)
    yield twin
    assert s.db.grants(twin) == before  # the twin is someone else's account: untouched
    s.db.query("DROP USER %s@'%%'", (twin,))
    s.db.query("DROP USER 'victim'@'%%'")
    s.db.query("DROP DATABASE other")


def test_an_account_differing_only_in_case_is_another_account(scenario, case_twin):
    # information_schema compares GRANTEE case-insensitively: read that way, the twin's SELECT
    # counted as the user's (which then got none) and the twin's grants were "revoked" from the
    # user, which fails.
    s = scenario
    props = s.props()

    created = s.answer(s.event("Create", props))

    assert created["Status"] == "SUCCESS", created["Reason"]
    expected = only_the_default_grant(s.user)
    assert s.db.grants(s.user) == expected
    with s.db.login(s.user, s.store.value(s.app_arn)["password"]) as connection:
        assert not denied(connection, "SELECT * FROM appdb.prices")
    updated = s.update(created, props, props)
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert s.db.grants(s.user) == expected


@contextlib.contextmanager
def database_with_routine(server, name: str, routine: str) -> Iterator[tuple[str, str]]:
    """Database `name` with the table `notes` and the procedure `routine`, dropped afterwards.
    Yields the database's and the routine's ON clause text as the root session's statements,
    which are %-formatted, take it (the names are the test's own: no backquote in them)."""
    database = f"`{name}`".replace("%", "%%")
    server.query(f"CREATE DATABASE IF NOT EXISTS {database}")
    server.query(f"CREATE TABLE IF NOT EXISTS {database}.`notes` (id INT)")
    server.query(f"CREATE PROCEDURE IF NOT EXISTS {database}.`{routine}`() SELECT 1")
    try:
        yield database, f"{database}.`{routine}`"
    finally:
        server.query(f"DROP DATABASE {database}")


@pytest.mark.parametrize(("name", "routine"), [("pct%db", "totals"), ("ünï", "prïce")])
def test_held_grants_on_awkward_names_are_revoked(scenario, name, routine):
    # `%`: the ON clause read from the server went into a statement with bound values, which
    # PyMySQL %-formats, and the revoke crashed halfway ("Unexpected error").
    # Non-ASCII: mysql.procs_priv holds `ünï` as `Ã¼nÃ¯` (UTF-8 stored as latin1); read as it
    # is, the REVOKE named a routine that does not exist (error 1403) and every update failed.
    s = scenario
    with database_with_routine(s.db, name, routine) as (database, on_routine):
        body = updated_after_grants_by_hand(
            s,
            "GRANT SELECT ON `app%%`.* TO %s@'%%'",  # a wildcard grant someone made by hand
            f"GRANT SELECT ON {database}.* TO %s@'%%' WITH GRANT OPTION",
            f"GRANT INSERT ON {database}.`notes` TO %s@'%%'",
            f"GRANT EXECUTE ON PROCEDURE {on_routine} TO %s@'%%' WITH GRANT OPTION",
        )

        assert body["Status"] == "SUCCESS", body["Reason"]
        assert s.db.grants(s.user) == only_the_default_grant(s.user)


@pytest.fixture
def non_ascii_routine(database):
    with database_with_routine(database, "ünï", "prïce") as (_, routine):
        yield routine


def test_a_routine_grant_the_server_cannot_revoke_any_more_is_named_with_the_fix(
    scenario, non_ascii_routine
):
    # Once the server reloads its grant tables it reads that row back as `Ã¼nÃ¯` and no REVOKE
    # reaches it (MariaDB 10.11, REVOKE ALL included): only the row's removal or DROP USER does.
    s = scenario
    props = s.props()
    created = s.create(props)
    s.db.query(f"GRANT EXECUTE ON PROCEDURE {non_ascii_routine} TO %s@'%%'", (s.user,))
    s.db.query("FLUSH PRIVILEGES")

    body = s.update(created, props, props)

    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        f"MySQL could not revoke EXECUTE on PROCEDURE {non_ascii_routine} from '{s.user}' "
        "(error 1403): a grant reload lost this grant's non-ASCII name. Delete the row from "
        "mysql.procs_priv, run FLUSH PRIVILEGES, then retry."
    )


def test_column_grants_and_their_grant_option_are_revoked(scenario):
    # The default grant is SELECT on the whole table appdb.prices, not on a column of it.
    s = scenario
    s.db.query("CREATE USER IF NOT EXISTS 'victim'@'%%' IDENTIFIED BY 'victim-pw'")
    body = updated_after_grants_by_hand(
        s,
        "GRANT SELECT (item) ON appdb.prices TO %s@'%%'",
        "GRANT UPDATE (item, price_cents) ON appdb.prices TO %s@'%%' WITH GRANT OPTION",
        # Column grants alone on a table: TABLE_PRIVILEGES does not show their grant option.
        "GRANT SELECT (`Db`) ON mysql.db TO %s@'%%' WITH GRANT OPTION",
    )

    assert body["Status"] == "SUCCESS", body["Reason"]
    lines = {line for (line,) in s.db.query("SHOW GRANTS FOR %s@'%%'", (s.user,))}
    assert not [line for line in lines if "GRANT OPTION" in line], lines
    assert s.db.grants(s.user) == only_the_default_grant(s.user)
    with s.db.login(s.user, s.store.value(s.app_arn)["password"]) as connection:
        assert denied(connection, "UPDATE appdb.prices SET item = 'Free' WHERE id = 1")
        assert denied(connection, "GRANT SELECT (item) ON appdb.prices TO 'victim'@'%'")
    s.db.query("DROP USER 'victim'@'%%'")
