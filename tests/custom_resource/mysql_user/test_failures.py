"""Custom::MySQLUser's failures: each answered FAILED, in time, with a reason that names the fix;
and Delete, which answers SUCCESS whatever is already gone."""

import json
import logging
import os
import re

import pymysql
import pytest
from cfn_one_shot.reasons import RequestRejected

from tests.helpers.local_servers import free_port

from ..local_endpoints import URL_SIGNATURE, LambdaContext
from .tls_mariadb import silent_listener

pytestmark = pytest.mark.database

CRHELPER_ID = re.compile(r"app-db_AppUser_[A-Z0-9]{8}")


def failed(scenario, properties: dict, seconds: float = 20.0) -> str:
    context = LambdaContext(seconds, scenario.app.helper.clock)
    scenario.receiver.reset()
    scenario.app.handler(scenario.event("Create", properties), context)
    (put,) = scenario.receiver.puts()
    assert put.at < context.deadline
    assert put.document["Status"] == "FAILED"
    return put.document["Reason"]


def test_missing_admin_secret_names_the_secret(scenario):
    missing = scenario.admin_arn[:-6] + "zzzzzz"

    reason = failed(scenario, scenario.props(AdminSecretArn=missing))

    assert "admin secret" in reason
    assert "was not found: check the ARN" in reason


def test_secret_without_a_password_names_the_missing_key(scenario):
    no_password = scenario.store.put("app-no-pw", {"username": "x", "host": "127.0.0.1"})

    reason = failed(scenario, scenario.props(AppSecretArn=no_password))

    assert "application secret" in reason
    assert "lacks password" in reason


def test_without_a_port_anywhere_mysql_s_3306_is_used(scenario):
    # Host given, no Port on the resource or in either secret: the MySQL default port. Nothing
    # answers on 127.0.0.3, so the reason shows the endpoint that was tried.
    admin = scenario.store.put(
        "admin-no-port", {"username": "admin", "password": scenario.db.admin_password}
    )
    app = scenario.store.put("app-no-port", {"username": scenario.user, "password": "app-pw-1"})

    reason = failed(
        scenario, scenario.props(AdminSecretArn=admin, AppSecretArn=app, Host="127.0.0.3")
    )

    assert "127.0.0.3:3306" in reason


def test_usernames_up_to_26_characters_are_taken_longer_ones_refused(scenario):
    # MySQL 8 allows 32 characters; the rotation's "_clone" needs 6 of them.
    longest = "u" * 26
    app = scenario.store.put("app-26", {"username": longest, "password": "app-pw-26"})
    body = scenario.answer(scenario.event("Create", scenario.props(AppSecretArn=app)))
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert longest in scenario.db.users()

    too_long = scenario.store.put("app-27", {"username": "u" * 27, "password": "app-pw-27"})
    reason = failed(scenario, scenario.props(AppSecretArn=too_long))
    assert reason == (
        f"The application secret's username {'u' * 27!r} is not usable: use 1-26 letters, "
        "digits, '_', '.' or '-' (so that _clone fits)."
    )


def test_the_admin_secret_s_host_serves_when_the_app_secret_has_none(scenario):
    admin = scenario.store.put(
        "admin-with-host",
        {
            "username": "admin",
            "password": scenario.db.admin_password,
            "host": "127.0.0.1",
            "port": scenario.db.port,
        },
    )
    app = scenario.store.put("app-no-host-2", {"username": scenario.user, "password": "app-pw-3"})

    body = scenario.answer(
        scenario.event("Create", scenario.props(AdminSecretArn=admin, AppSecretArn=app))
    )

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Host"] == "127.0.0.1"


def test_the_admin_secret_s_host_and_port_come_before_the_app_secret_s(scenario):
    # As the doc says: Host/Port properties, then the admin secret's, then the application
    # secret's. Here the application secret names a port where nothing listens.
    s = scenario
    admin = s.store.admin(host="localhost")
    app = s.store.app(s.user, admin_arn=admin, host="127.0.0.1", port=free_port())

    body = s.answer(s.event("Create", s.props(AdminSecretArn=admin, AppSecretArn=app)))

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"mysql-user:localhost:{s.db.port}:{s.user}"
    assert body["Data"]["Host"] == "localhost"


def test_rds_managed_admin_secret_needs_host_and_port(scenario):
    managed = scenario.store.put(
        "rds!cluster-abc", {"username": "admin", "password": scenario.db.admin_password}
    )
    app = scenario.store.put(
        "app-no-host", {"username": scenario.user, "password": "app-password-1"}
    )

    reason = failed(scenario, scenario.props(AdminSecretArn=managed, AppSecretArn=app))
    assert reason.startswith("No database host: set Host (and Port)")

    body = scenario.answer(
        scenario.event(
            "Create",
            scenario.props(
                AdminSecretArn=managed,
                AppSecretArn=app,
                Host="127.0.0.1",
                Port=str(scenario.db.port),
            ),
        )
    )
    assert body["Status"] == "SUCCESS", body["Reason"]
    scenario.db.login(scenario.user, "app-password-1").close()


def test_unreachable_database_names_subnets_and_security_groups(scenario):
    with silent_listener() as port:
        reason = failed(scenario, scenario.props(Host="127.0.0.1", Port=port), seconds=4)

    assert reason.startswith("Database unreachable")
    assert "security group" in reason
    assert "subnets" in reason


def test_nothing_listening_names_host_and_port(scenario):
    reason = failed(scenario, scenario.props(Port=free_port()))

    assert reason.startswith("Connection refused at 127.0.0.1:")
    assert "Check Host and Port" in reason


def test_untrusted_server_certificate_is_refused(scenario):
    receiver_ca = os.environ["SSL_CERT_FILE"]  # a CA that did not sign the database's cert

    reason = failed(scenario, scenario.props(TlsCaFile=receiver_ca))

    assert reason.startswith("TLS refused: the certificate of 127.0.0.1:")
    assert scenario.user not in scenario.db.users()


def test_server_without_tls_is_refused_before_the_login(scenario, plain_database):
    plain_database.server.create_aurora_master("admin", "plain-admin-password")
    admin = scenario.store.admin(port=plain_database.port, password="plain-admin-password")

    reason = failed(scenario, scenario.props(AdminSecretArn=admin, Host="", Port=""))

    assert reason.startswith("TLS refused")
    assert "never connects without TLS" in reason


def test_default_ca_bundle_missing_is_named(scenario):
    properties = scenario.props()
    del properties["TlsCaFile"]

    reason = failed(scenario, properties)

    # The default is the shipped Amazon RDS bundle: it does not vouch for the test's own CA.
    assert reason.startswith("TLS refused: the certificate of 127.0.0.1:")


def test_wrong_admin_password_is_a_refused_login(scenario):
    admin = scenario.store.admin(password="not-the-password")

    reason = failed(scenario, scenario.props(AdminSecretArn=admin))

    assert reason.startswith("Login refused for admin user 'admin'")


def test_an_unusual_login_error_gets_its_number_never_the_server_s_text(scenario):
    # A login refused for a reason no other cause covers (here a locked account, MariaDB's
    # error 4151) falls back to the number: the server's text is never passed on.
    s = scenario
    s.db.query("CREATE USER 'lockedadm'@'%%' IDENTIFIED BY 'locked-pw-1' ACCOUNT LOCK")
    try:
        admin = s.store.admin(username="lockedadm", password="locked-pw-1")
        with pytest.raises(pymysql.err.OperationalError) as login:
            s.db.login("lockedadm", "locked-pw-1")
        code, server_text = login.value.args

        reason = failed(s, s.props(AdminSecretArn=admin))
    finally:
        s.db.query("DROP USER 'lockedadm'@'%%'")

    assert (
        reason == f"Connecting to 127.0.0.1:{s.db.port} as 'lockedadm' failed: MySQL error {code}."
    )
    assert code not in (0, 1045, 1044, 2003)  # not a cause with a reason of its own
    assert server_text not in reason


@pytest.mark.parametrize(
    ("grants", "expected"),
    [
        (
            [{"Privileges": ["ALL PRIVILEGES"], "Database": "appdb", "Table": "*"}],
            "is administrative and not allowed",
        ),
        (
            [{"Privileges": ["SELECT", "GRANT OPTION"], "Database": "appdb", "Table": "*"}],
            "is administrative and not allowed",
        ),
        ([{"Privileges": ["SUPER"], "Database": "appdb", "Table": "*"}], "administrative"),
        (
            [{"Privileges": ["EXECUTE"], "Database": "appdb", "Table": "prices"}],
            "is not a privilege for a table",
        ),
        (
            [{"Privileges": ["SELECT"], "Database": "app`db", "Table": "*"}],
            "is not a plain MySQL identifier",
        ),
        (
            [{"Privileges": ["SELECT"], "Database": "*", "Table": "*"}],
            "is not a plain MySQL identifier",
        ),
        ([{"Privileges": ["SELECT; DROP USER admin"], "Database": "a", "Table": "*"}], "not a"),
        # "Letters and digits" are ASCII ones: Python's \w would take these too.
        (
            [{"Privileges": ["SELECT"], "Database": "\u00fcn\u00ef", "Table": "*"}],
            "is not a plain MySQL identifier (1-64 letters, digits, '_' or '$')",
        ),
        (
            [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "pr\u00efces"}],
            "is not a plain MySQL identifier (1-64 letters, digits, '_' or '$')",
        ),
        (
            [{"Privileges": ["SELECT"], "Database": "db\u0663", "Table": "*"}],
            "is not a plain MySQL identifier (1-64 letters, digits, '_' or '$')",
        ),
        (
            [{"Privileges": [], "Database": "appdb", "Table": "*"}],
            ".Privileges must be a non-empty list such as [SELECT].",
        ),
        (
            [{"Privileges": "SELECT", "Database": "appdb", "Table": "*"}],
            ".Privileges must be a non-empty list such as [SELECT].",
        ),
    ],
    ids=[
        "all",
        "grant-option",
        "super",
        "table-scope",
        "backquote",
        "global",
        "injection",
        "unicode-letters",
        "unicode-table",
        "unicode-digit",
        "no-privileges",
        "privileges-not-a-list",
    ],
)
def test_invalid_grants_are_refused_before_any_change(scenario, grants, expected):
    reason = failed(scenario, scenario.props(grants))

    assert expected in reason
    assert reason.startswith("Grants[1]")
    assert scenario.user not in scenario.db.users()


# "²" passes str.isdigit() and then breaks int(); fullwidth and Arabic-Indic digits pass both.
NOT_ASCII_DIGITS = ["\N{SUPERSCRIPT TWO}", "\uff13\uff13\uff10\uff16", "\u0663\u0663\u0660\u0666"]


@pytest.mark.parametrize("port", ["0", 65536, "3306a", "-1", True, *NOT_ASCII_DIGITS], ids=str)
def test_a_port_outside_1_to_65535_is_refused(scenario, port):
    reason = failed(scenario, scenario.props(Host="127.0.0.1", Port=port))

    assert reason == f"Port {port!r} is not a port number (1-65535)."


@pytest.mark.parametrize("port", ["0", 65536, "3306a", *NOT_ASCII_DIGITS], ids=str)
def test_a_secret_s_port_outside_1_to_65535_is_refused(scenario, port):
    admin = scenario.store.admin(port=port)

    reason = failed(scenario, scenario.props(AdminSecretArn=admin))

    assert reason == (
        f"The admin secret '{admin}' has a port that is not a port number (1-65535): fix its JSON."
    )


@pytest.mark.parametrize("grants", [[], "SELECT", {"Privileges": ["SELECT"]}], ids=str)
def test_grants_that_are_not_a_non_empty_list_are_refused(scenario, grants):
    reason = failed(scenario, {**scenario.props(), "Grants": grants})

    assert reason == "Grants must be a non-empty list of grants."
    assert scenario.user not in scenario.db.users()


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        (
            {"Database": "appdb", "Table": "no_such_table"},
            "Invalid grant: Table 'appdb.no_such_table' doesn't exist. Create it first, grant "
            'on the database (Table "*"), or set DemoSchema "true" for the demo table.',
        ),
        (
            {"Database": "no_such_db", "Table": "*"},
            "Invalid grant: Unknown database 'no_such_db'. Create it first, or set CreateDatabase "
            '"true" (DemoSchema "true" also adds the demo table).',
        ),
    ],
    ids=["table", "database"],
)
def test_grant_on_a_missing_object_fails_before_any_user_is_made(scenario, grant, expected):
    properties = scenario.props([{"Privileges": ["SELECT"], **grant}], DemoSchema="false")

    body = scenario.answer(scenario.event("Create", properties))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == expected
    assert scenario.user not in scenario.db.users()
    # No user was made: the ID is crhelper's form, whose Delete (the rollback) drops nothing.
    assert CRHELPER_ID.fullmatch(body["PhysicalResourceId"]), body["PhysicalResourceId"]


def test_an_admin_without_create_user_fails_before_any_user_is_made(scenario):
    scenario.db.query("CREATE USER IF NOT EXISTS 'reader'@'%%' IDENTIFIED BY 'reader-pw'")
    scenario.db.query("GRANT SELECT ON *.* TO 'reader'@'%%'")
    admin = scenario.store.admin(username="reader", password="reader-pw")
    properties = scenario.props(AdminSecretArn=admin, DemoSchema="false")
    scenario.db.query("CREATE DATABASE IF NOT EXISTS appdb")
    scenario.db.query(
        "CREATE TABLE IF NOT EXISTS appdb.prices (id INT PRIMARY KEY, item VARCHAR(64), "
        "price_cents INT)"
    )
    try:
        body = scenario.answer(scenario.event("Create", properties))
    finally:
        scenario.db.query("DROP USER 'reader'@'%%'")

    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(
        f"The admin user may not create the ownership mark of user '{scenario.user}' (MySQL "
        "error 1227). Use the cluster's master user, or give the admin CREATE USER"
    ), body["Reason"]
    assert scenario.user not in scenario.db.users()
    assert CRHELPER_ID.fullmatch(body["PhysicalResourceId"]), body["PhysicalResourceId"]


@pytest.mark.parametrize(
    "grant",
    [
        {"Privileges": ["SELECT"], "Database": "appdb"},
        {"Privileges": ["SELECT"], "Table": "*"},
        {"Database": "appdb", "Table": "*"},
        {"Privileges": ["SELECT"], "Database": "appdb", "Table": "*", "Column": "id"},
    ],
    ids=["no-table", "no-database", "no-privileges", "extra-key"],
)
def test_a_grant_with_a_missing_or_extra_key_gets_the_documented_reason(scenario, grant):
    reason = failed(scenario, scenario.props([grant]))

    assert reason == "Grants[1] must be an object with exactly Privileges, Database and Table."


def test_create_failing_after_the_user_was_made_reports_its_id_so_rollback_drops_it(scenario):
    # The admin may create users but not grant INSERT: the user exists when the grant fails.
    scenario.db.query("CREATE USER IF NOT EXISTS 'limited'@'%%' IDENTIFIED BY 'limited-pw'")
    scenario.db.query("GRANT CREATE USER, SELECT ON *.* TO 'limited'@'%%' WITH GRANT OPTION")
    admin = scenario.store.admin(username="limited", password="limited-pw")
    properties = scenario.props(
        [{"Privileges": ["SELECT", "INSERT"], "Database": "appdb", "Table": "prices"}],
        AdminSecretArn=admin,
        DemoSchema="false",
    )
    scenario.db.query("CREATE DATABASE IF NOT EXISTS appdb")
    scenario.db.query(
        "CREATE TABLE IF NOT EXISTS appdb.prices (id INT PRIMARY KEY, item VARCHAR(64), "
        "price_cents INT)"
    )

    body = scenario.answer(scenario.event("Create", properties))

    assert body["Status"] == "FAILED"
    # The reason names the refused statement from the function's own knowledge and MySQL's
    # error number, never the server's message (which can quote a statement and its password).
    assert body["Reason"] == (
        f"The admin user may not grant INSERT, SELECT on `appdb`.`prices` to '{scenario.user}' "
        "(MySQL error 1142). Use the cluster's master user, or give the admin CREATE USER and "
        "the granted privileges WITH GRANT OPTION."
    )
    assert "command denied" not in body["Reason"]
    assert body["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{scenario.db.port}:{scenario.user}"
    assert scenario.delete(body, properties)["Status"] == "SUCCESS"
    assert scenario.user not in scenario.db.users()


@pytest.mark.parametrize(
    "gone",
    ["database", "secret", "properties", "foreign-id"],
)
def test_delete_answers_success_whatever_is_already_gone(scenario, gone, caplog):
    properties = scenario.props()
    created = scenario.create(properties)
    physical_id = created["PhysicalResourceId"]
    if gone == "database":
        physical_id = f"mysql-user:127.0.0.1:{free_port()}:{scenario.user}"
    elif gone == "secret":
        scenario.store.client.delete_secret(
            SecretId=scenario.admin_arn, ForceDeleteWithoutRecovery=True
        )
    elif gone == "properties":
        properties = {"Grants": "not a list"}
    else:
        physical_id = "app-db_AppUser_ABCDEFGH"
    caplog.set_level(logging.INFO)

    body = scenario.answer(scenario.event("Delete", properties, physical_id=physical_id))

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == physical_id
    assert scenario.user in scenario.db.users()  # nothing could be (or was) dropped
    assert "Delete" in caplog.text


def test_no_password_or_response_url_reaches_the_logs(scenario, monkeypatch, caplog, capfd):
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    app_password = scenario.store.value(scenario.app_arn)["password"]
    wrong_admin = scenario.store.admin(password="wrong-admin-password-7")
    properties = scenario.props()

    created = scenario.create(properties)
    scenario.update(created, properties, scenario.props(RetainOnDelete="false"))
    failed(scenario, scenario.props(AdminSecretArn=wrong_admin))
    scenario.delete(created, properties)

    output = capfd.readouterr()
    logged = "\n".join([caplog.text, output.out, output.err])
    assert "Created user" in logged  # the logs were captured
    for secret in (app_password, scenario.db.admin_password, "wrong-admin-password-7"):
        assert secret not in logged
    assert URL_SIGNATURE not in logged
    assert "cloudformation-custom-resource-response" not in logged
    assert json.dumps(properties)[:40] not in logged


def test_a_certificate_the_trusted_ca_issued_to_another_host_is_refused(
    scenario, misnamed_database
):
    # The same CA (TlsCaFile) vouches for the chain, but the certificate names another cluster's
    # endpoint: a server that presents it is not the one the resource was pointed at.
    admin = scenario.store.admin(
        port=misnamed_database.port, password=misnamed_database.admin_password
    )

    reason = failed(scenario, scenario.props(AdminSecretArn=admin))

    assert reason.startswith(
        f"TLS refused: the certificate of 127.0.0.1:{misnamed_database.port} is not trusted by "
        "TlsCaFile"
    ), reason
    assert "does not name the host" in reason
    assert "IP address mismatch" in reason  # ssl's own verdict: the chain was fine
    assert scenario.user not in misnamed_database.users()


def test_an_empty_tls_ca_file_means_the_shipped_rds_bundle(scenario):
    # CloudFormation passes "" for a template parameter left empty: that is the default bundle.
    reason = failed(scenario, scenario.props(TlsCaFile=""))

    assert reason.startswith("TLS refused: the certificate of 127.0.0.1:")
    assert "not trusted by TlsCaFile 'rds-ca-bundle.pem'" in reason


class Bug(Exception):
    """Stands for a defect in the function: an exception no reason covers."""


@pytest.mark.parametrize(
    "where",
    [
        ("mysql_user_app", "parse_physical_id"),
        ("mysql_user_app", "user_request"),
        ("user_accounts", "Accounts.drop"),
        ("ownership", "Ownership.release"),
    ],
    ids=lambda where: where[1],
)
def test_delete_answers_success_after_an_unexpected_exception(scenario, monkeypatch, caplog, where):
    module, name = where
    created = scenario.create(scenario.props())

    def broken(*_args, **_kwargs):
        raise Bug("something no reason covers")

    monkeypatch.setattr(f"{module}.{name}", broken)
    caplog.set_level(logging.INFO)

    body = scenario.delete(created, scenario.props())

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert "Delete answered SUCCESS after an unexpected error" in caplog.text
    assert "Bug: something no reason covers" in caplog.text  # the cause, with its traceback


def test_an_unexpected_exception_in_a_create_gets_a_generic_reason(scenario, monkeypatch, caplog):
    # The exception's own text could say anything (a server message, a statement): the reason
    # names only its type; the log has the traceback for the operator.
    def broken(*_args, **_kwargs):
        raise Bug("unforeseen state 42")

    monkeypatch.setattr("user_accounts.Accounts.check_grant_targets", broken)

    reason = failed(scenario, scenario.props())

    assert reason == (
        "Unexpected error in the function (Bug); its log group has the details. Retry the stack "
        "operation."
    )
    assert "Bug: unforeseen state 42" in caplog.text


def test_a_delete_still_working_when_the_function_times_out_answers_success(
    scenario, monkeypatch, caplog
):
    # The work overruns the budget (a hang no timeout bounds): the last-resort timer answers,
    # and for a Delete that answer is SUCCESS, or the stack's deletion would stop here. The drop
    # is held until the timer has answered, on the tests' virtual clock: no real delay.
    import user_accounts

    created = scenario.create(scenario.props())
    event = scenario.event("Delete", scenario.props(), physical_id=created["PhysicalResourceId"])

    answer = scenario.answer_by_timer(event, monkeypatch, user_accounts.Accounts, "drop")

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert "answering SUCCESS to the Delete" in caplog.text


def test_a_server_error_reason_never_quotes_the_server_s_message(scenario):
    # A syntax error makes MySQL quote the statement from the error on, password included; the
    # reason says what was being done and the error number only.
    import user_accounts

    with scenario.db.server.root() as connection:
        accounts = user_accounts.Accounts(connection)
        with pytest.raises(RequestRejected) as refused:
            accounts.run(
                "CREATE USERS %s IDENTIFIED BY %s",
                ("someone", "pw-in-the-statement-42"),
                doing="create user 'someone'",
            )

    assert str(refused.value) == (
        "MySQL refused to create user 'someone' with error 1064; look the number up in the MySQL "
        "server error reference."
    )


def test_a_read_only_server_is_named_with_the_writer_endpoint_fix(scenario):
    # What a reader instance of an Aurora cluster answers to CREATE USER.
    scenario.db.query("SET GLOBAL read_only = ON")
    try:
        reason = failed(scenario, scenario.props())
    finally:
        scenario.db.query("SET GLOBAL read_only = OFF")

    assert "(MySQL error 1290)" in reason
    assert reason.endswith("use the cluster's writer endpoint as Host.")
