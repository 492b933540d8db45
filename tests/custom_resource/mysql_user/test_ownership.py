"""Whose user is it? A Create never takes over an account someone else made unless asked to
(AdoptExistingUser), and a Create delivered twice, or run again after the function died past
CREATE USER, ends exactly as one delivery would: the user is this resource's and Delete drops it.
Against the real TLS-only MariaDB, answers read from the loopback receiver."""

import json
import re

import ownership
import pytest
import user_accounts

from ..local_endpoints import LambdaContext

pytestmark = pytest.mark.database

CRHELPER_ID = re.compile(r"app-db_AppUser_[A-Z0-9]{8}")


class FunctionDied(BaseException):
    """The Lambda runtime ending an invocation mid-way (a timeout, an out-of-memory kill): no
    exception handler runs and no answer is sent."""


def select_grant(user: str) -> str:
    return f"GRANT SELECT ON `appdb`.`prices` TO `{user}`@`%`"


def marks(db) -> set[str]:
    return {user for (user,) in db.query("SELECT User FROM mysql.user WHERE User LIKE 'cfn-%%'")}


def refusal(user: str) -> str:
    return (
        f"User '{user}' (or its clone) already exists and this resource did not create it. To "
        "take it over (password reset from the secret, other privileges revoked), set "
        'AdoptExistingUser "true"; or use another username.'
    )


def assert_refused_before_any_change(s, body: dict, reason: str) -> None:
    """A FAILED Create with `reason`, crhelper's ID (its rollback drops nothing), no user of the
    pair at '%' and no mark."""
    assert body["Status"] == "FAILED"
    assert body["Reason"] == reason
    assert CRHELPER_ID.fullmatch(body["PhysicalResourceId"])
    assert not {s.user, f"{s.user}_clone"} & s.db.users()
    assert not marks(s.db)


@pytest.mark.parametrize("existing", ["user", "clone"])
def test_an_existing_user_is_refused_by_default_and_left_as_it_was(scenario, existing):
    s = scenario
    name = s.user if existing == "user" else f"{s.user}_clone"
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'production-password'", (name,))
    s.db.query("GRANT UPDATE ON appdb.* TO %s@'%%'", (name,))
    grants_before = s.db.grants(name)

    body = s.answer(s.event("Create", s.props()))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == refusal(s.user)
    assert CRHELPER_ID.fullmatch(body["PhysicalResourceId"])  # its rollback drops nothing
    assert s.db.grants(name) == grants_before
    s.db.login(name, "production-password").close()
    assert not marks(s.db)  # nothing was marked either
    assert s.delete(body, s.props())["Status"] == "SUCCESS"
    assert name in s.db.users()


def test_a_user_with_the_secret_s_password_is_still_someone_else_s(scenario):
    # Another tool (or an operator) made the user from this very secret: the password matching
    # proves nothing about who made it, so it is refused like any other existing user.
    s = scenario
    password = s.store.value(s.app_arn)["password"]
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY %s", (s.user, password))

    body = s.answer(s.event("Create", s.props()))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == refusal(s.user)


def test_a_user_another_stack_made_is_refused(scenario):
    s = scenario
    other_stack = s.event("Create", s.props())
    other_stack["StackId"] = other_stack["StackId"].replace("app-db/", "app-db-blue/")
    assert s.answer(other_stack)["Status"] == "SUCCESS"

    body = s.answer(s.event("Create", s.props()))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == refusal(s.user)


def test_adopt_existing_user_takes_it_over_and_delete_leaves_it(scenario):
    s = scenario
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'old-password'", (s.user,))
    s.db.query("GRANT UPDATE ON appdb.* TO %s@'%%'", (s.user,))
    s.db.query("GRANT SELECT ON *.* TO %s@'%%'", (s.user,))
    props = s.props(AdoptExistingUser="true")

    created = s.create(props)

    assert created["PhysicalResourceId"] == f"mysql-user-adopted:127.0.0.1:{s.db.port}:{s.user}"
    assert s.db.grants(s.user) == {select_grant(s.user)}
    # A new secret is the truth on the first Create: its password now opens the database.
    s.db.login(s.user, s.store.value(s.app_arn)["password"]).close()
    assert s.delete(created, props)["Status"] == "SUCCESS"
    assert s.user in s.db.users()


def test_adopt_existing_user_still_creates_a_missing_user_as_its_own(scenario):
    s = scenario
    props = s.props(AdoptExistingUser="true")

    created = s.create(props)

    assert created["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert s.delete(created, props)["Status"] == "SUCCESS"
    assert s.user not in s.db.users()


def test_a_create_delivered_twice_ends_as_one_delivery(scenario):
    s = scenario
    event = s.event("Create", s.props())
    first = s.answer(event)
    assert first["Status"] == "SUCCESS", first["Reason"]

    second = s.answer(event)  # the same request, RequestId and all

    assert second["Status"] == "SUCCESS", second["Reason"]
    assert second["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert second["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert second["Data"] == first["Data"]
    assert s.db.grants(s.user) == {select_grant(s.user)}
    s.db.login(s.user, s.store.value(s.app_arn)["password"]).close()
    # The stack deletes what it made: the user, the clone the rotation made, and the mark.
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'clone-pw'", (f"{s.user}_clone",))
    assert s.delete(second, s.props())["Status"] == "SUCCESS"
    assert not {s.user, f"{s.user}_clone"} & s.db.users()
    assert not marks(s.db)


@pytest.mark.parametrize("dies_after", ["create", "mark"])
def test_a_create_run_again_after_the_function_died_ends_as_one_delivery(
    scenario, monkeypatch, dies_after
):
    s = scenario
    event = s.event("Create", s.props())
    # The invocation dies right after CREATE USER (or after the mark, before CREATE USER).
    where = user_accounts.Accounts if dies_after == "create" else ownership.Ownership
    method = "create" if dies_after == "create" else "mark"
    real = getattr(where, method)

    def then_die(self, *args):
        real(self, *args)
        raise FunctionDied

    monkeypatch.setattr(where, method, then_die)
    s.receiver.reset()
    with pytest.raises(FunctionDied):
        s.app.handler(event, LambdaContext(20))
    assert s.receiver.puts() == []  # died without an answer
    assert (s.user in s.db.users()) == (dies_after == "create")
    monkeypatch.undo()

    again = s.answer(event)  # Lambda's retry of the same invocation

    assert again["Status"] == "SUCCESS", again["Reason"]
    assert again["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert s.db.grants(s.user) == {select_grant(s.user)}
    s.db.login(s.user, s.store.value(s.app_arn)["password"]).close()
    assert s.delete(again, s.props())["Status"] == "SUCCESS"
    assert s.user not in s.db.users()
    assert not marks(s.db)


def test_a_failed_retry_still_answers_with_the_user_s_id_so_rollback_drops_it(scenario):
    # The second delivery finds its user but fails later (a table went missing in between): its
    # answer must carry the user's ID, or the rollback's Delete would leave the user behind.
    s = scenario
    grants = [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "gone_soon"}]
    s.db.query("CREATE DATABASE IF NOT EXISTS appdb")
    s.db.query("CREATE TABLE IF NOT EXISTS appdb.gone_soon (id INT)")
    event = s.event("Create", s.props(grants, DemoSchema="false"))
    assert s.answer(event)["Status"] == "SUCCESS"
    s.db.query("DROP TABLE appdb.gone_soon")

    again = s.answer(event)

    assert again["Status"] == "FAILED"
    assert again["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert s.delete(again, s.props(grants))["Status"] == "SUCCESS"
    assert s.user not in s.db.users()


def test_retain_on_delete_keeps_the_user_but_not_the_mark(scenario):
    # A kept user no longer belongs to the resource: a later Create of the same stack and logical
    # ID treats it as anyone's existing user.
    s = scenario
    props = s.props(RetainOnDelete="true")
    created = s.create(props)
    assert marks(s.db)

    assert s.delete(created, props)["Status"] == "SUCCESS"

    assert s.user in s.db.users()
    assert not marks(s.db)
    again = s.answer(s.event("Create", s.props()))
    assert again["Reason"] == refusal(s.user)


@pytest.fixture
def someone_elses_user(scenario):
    """A production account beside the scenario's user: its name, with the password and grants
    its owner gave it; dropped afterwards."""
    name = f"{scenario.user}b"
    scenario.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'production-password'", (name,))
    scenario.db.query("GRANT UPDATE ON appdb.* TO %s@'%%'", (name,))
    yield name
    scenario.db.query("DROP USER IF EXISTS %s@'%%'", (name,))


@pytest.mark.parametrize("how", ["another secret", "the secret generated anew"])
def test_a_rename_onto_someone_else_s_user_is_refused(scenario, someone_elses_user, how):
    # The mark is per user: this resource's mark on its first user must not pass for one on
    # another user it is renamed onto (a new AppSecretArn, or a new username in its secret).
    s = scenario
    generation = {"SecretStringTemplate": json.dumps({"username": s.user})}
    props = s.props(AppSecretGeneration=generation)
    created = s.create(props)
    other = someone_elses_user
    grants_before = s.db.grants(other)
    if how == "another secret":
        renamed = {**props, "AppSecretArn": s.store.app(other, admin_arn=s.admin_arn)}
    else:
        value = {**s.store.value(s.app_arn), "username": other, "password": "new-Password-1"}
        s.store.client.put_secret_value(SecretId=s.app_arn, SecretString=json.dumps(value))
        renamed = {
            **props,
            "AppSecretGeneration": {"SecretStringTemplate": json.dumps({"username": other})},
        }

    body = s.update(created, props, renamed)

    assert body["Status"] == "FAILED"
    assert body["Reason"] == refusal(other)
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert s.db.grants(other) == grants_before
    s.db.login(other, "production-password").close()
    assert s.db.grants(s.user) == {select_grant(s.user)}  # the resource's own user untouched


def test_a_create_with_adopt_existing_user_delivered_twice_keeps_the_user_its_own(scenario):
    # AdoptExistingUser allows a takeover; it must not turn the resource's own user, made by
    # the first delivery, into an adopted one that Delete would leave behind.
    s = scenario
    props = s.props(AdoptExistingUser="true")
    event = s.event("Create", props)
    first = s.answer(event)
    assert first["Status"] == "SUCCESS", first["Reason"]

    second = s.answer(event)

    assert second["Status"] == "SUCCESS", second["Reason"]
    assert second["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert s.delete(second, props)["Status"] == "SUCCESS"
    assert s.user not in s.db.users()
    assert not marks(s.db)


def test_the_mark_is_a_locked_account_without_privileges_on_a_host_no_client_has(scenario):
    s = scenario
    s.create(s.props())

    [(mark, host)] = s.db.query("SELECT User, Host FROM mysql.user WHERE User LIKE 'cfn-%%'")

    # In 2001:db8::/32 (RFC 3849, documentation only): no client connects from there. The
    # address is a digest of the physical ID that owns the user.
    assert re.fullmatch(r"2001:db8(:[0-9a-f]{4}){6}", host), host
    assert re.fullmatch(r"cfn-owner-[0-9a-f]{22}", mark)
    [(create_user,)] = s.db.query("SHOW CREATE USER %s@%s", (mark, host))
    assert create_user.endswith(" ACCOUNT LOCK"), create_user
    grants = [line for (line,) in s.db.query("SHOW GRANTS FOR %s@%s", (mark, host))]
    assert len(grants) == 1, grants  # USAGE only: the account exists and may do nothing
    assert grants[0].startswith(f"GRANT USAGE ON *.* TO `{mark}`@`{host}`"), grants
    assert "GRANT OPTION" not in grants[0]


@pytest.fixture
def password_policy(database):
    """MariaDB's simple_password_check (MySQL's validate_password does the same): a password
    needs 8 characters, a digit, an upper and a lower case letter and a special character."""
    database.query("INSTALL SONAME 'simple_password_check'")
    yield
    database.query("UNINSTALL SONAME 'simple_password_check'")


def test_a_create_user_the_password_policy_refuses_leaves_no_mark_behind(scenario, password_policy):
    # The mark is made first (its random password meets such a policy); CREATE USER with the
    # secret's password then fails. Nothing may stay: the failed Create's Delete drops nothing.
    s = scenario
    weak = s.store.app(s.user, password="onlylowercase", admin_arn=s.admin_arn)

    body = s.answer(s.event("Create", s.props(AppSecretArn=weak)))

    assert_refused_before_any_change(
        s,
        body,
        f"MySQL refused to create user '{s.user}': the password fails the server's password "
        "policy (MySQL error 1819). Make the secret's GenerateSecretString meet it (length, "
        "kinds of characters), or relax the policy.",
    )


@pytest.mark.parametrize("adopt", ["false", "true"])
@pytest.mark.parametrize("existing", ["user", "clone"])
def test_an_account_of_that_name_for_another_host_is_refused_even_with_adopt(
    scenario, existing, adopt
):
    # 'app'@'10.%' is another account: MySQL logs a client from 10.x in to it rather than to
    # 'app'@'%', so the rotated secret would fail from there. Neither created nor adoptable.
    s = scenario
    name = s.user if existing == "user" else f"{s.user}_clone"
    s.db.query("CREATE USER %s@'10.%%' IDENTIFIED BY 'production-password'", (name,))
    try:
        s.db.query("GRANT UPDATE ON appdb.* TO %s@'10.%%'", (name,))

        body = s.answer(s.event("Create", s.props(AdoptExistingUser=adopt)))

        assert_refused_before_any_change(
            s,
            body,
            f"User '{s.user}' exists as '{name}'@'10.%': logins from that host use it instead of "
            "the '%' account, so the secret fails there. This resource will not take it over: "
            "drop it if unused, or use another username.",
        )
        grants = {line for (line,) in s.db.query("SHOW GRANTS FOR %s@'10.%%'", (name,))}
        assert f"GRANT UPDATE ON `appdb`.* TO `{name}`@`10.%`" in grants
    finally:
        s.db.query("DROP USER IF EXISTS %s@'10.%%'", (name,))


def left_over_refusal(user: str) -> str:
    return (
        f"User '{user}' (or its clone) already exists and this resource did not create it. "
        'AdoptExistingUser was already "true" for an earlier user and takes over only the user '
        'named when it turns true: make it "false", then "true" with this username.'
    )


@pytest.mark.parametrize("first", ["created", "adopted"])
def test_adopt_existing_user_left_true_does_not_take_over_a_renamed_user(
    scenario, someone_elses_user, first
):
    # AdoptExistingUser stays "true" after the takeover it was set for (a template parameter
    # nobody turned back): a later rename onto a production account must not take that over.
    s = scenario
    if first == "adopted":
        s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'old-password'", (s.user,))
    props = s.props(AdoptExistingUser="true")
    created = s.create(props)
    other = someone_elses_user
    grants_before = s.db.grants(other)
    renamed = {**props, "AppSecretArn": s.store.app(other, admin_arn=s.admin_arn)}

    body = s.update(created, props, renamed)

    assert body["Status"] == "FAILED"
    assert body["Reason"] == left_over_refusal(other)
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert s.db.grants(other) == grants_before
    s.db.login(other, "production-password").close()


def test_adopt_existing_user_turned_true_with_the_rename_takes_the_renamed_user_over(
    scenario, someone_elses_user
):
    s = scenario
    props = s.props()
    created = s.create(props)
    other = someone_elses_user
    new_arn = s.store.app(other, admin_arn=s.admin_arn)
    renamed = {**props, "AppSecretArn": new_arn, "AdoptExistingUser": "true"}

    body = s.update(created, props, renamed)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"mysql-user-adopted:127.0.0.1:{s.db.port}:{other}"
    assert s.db.grants(other) == {select_grant(other)}
    s.db.login(other, s.store.value(new_arn)["password"]).close()


def test_an_adopted_user_at_a_new_host_name_stays_adopted_while_adopt_stays_true(scenario):
    # The same user reached through another name of the same server: the takeover it was set
    # for, not a new one.
    s = scenario
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'old-password'", (s.user,))
    props = s.props(AdoptExistingUser="true")
    created = s.create(props)

    body = s.update(created, props, {**props, "Host": "localhost"})

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"mysql-user-adopted:localhost:{s.db.port}:{s.user}"


def test_a_replacement_at_another_name_of_the_same_server_keeps_the_user_after_cleanup(scenario):
    """The existing-cluster ClusterEndpoint changed to another DNS name of the same cluster: the
    new physical ID takes the user over (with the regenerated secret's password), then
    CloudFormation's cleanup Delete of the old physical ID must leave it alone (issue 19)."""
    from .test_regenerated_secret import CHANGED, GENERATION, refused, regenerate

    s = scenario
    first = s.props(Host="127.0.0.1", AppSecretGeneration=GENERATION)
    created = s.create(first)
    old_password = s.store.value(s.app_arn)["password"]
    new_password = regenerate(s.store, s.app_arn)
    second = {**first, "Host": "localhost", "AppSecretGeneration": CHANGED}

    replaced = s.update(created, first, second)

    assert replaced["Status"] == "SUCCESS", replaced["Reason"]
    assert replaced["PhysicalResourceId"] == f"mysql-user:localhost:{s.db.port}:{s.user}"
    assert s.delete(created, first)["Status"] == "SUCCESS"  # the old resource's cleanup
    assert s.user in s.db.users()
    s.db.login(s.user, new_password).close()
    assert refused(s.db, s.user, old_password)
    assert s.db.grants(s.user) == {select_grant(s.user)}
    # The new resource still owns it: its own Delete drops the user and the mark.
    assert s.delete(replaced, second)["Status"] == "SUCCESS"
    assert s.user not in s.db.users()
    assert not marks(s.db)


def test_a_rollback_of_that_replacement_gives_the_user_back_to_the_old_physical_id(scenario):
    """The stack update fails later and rolls back: CloudFormation updates the resource back to
    the old endpoint, then deletes the new physical ID, which must leave the user alone."""
    s = scenario
    first = s.props(Host="127.0.0.1")
    created = s.create(first)
    second = {**first, "Host": "localhost"}
    replaced = s.update(created, first, second)
    assert replaced["Status"] == "SUCCESS", replaced["Reason"]

    back = s.update(replaced, second, first)

    assert back["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert s.delete(replaced, second)["Status"] == "SUCCESS"
    assert s.user in s.db.users()
    assert s.delete(back, first)["Status"] == "SUCCESS"
    assert s.user not in s.db.users()
    assert not marks(s.db)


def test_a_mark_made_before_owners_were_recorded_still_lets_delete_drop_the_user(scenario):
    """A stack created by an earlier version: its mark sits at 192.0.2.1 and names no owner."""
    s = scenario
    props = s.props()
    created = s.create(props)
    [(mark, host)] = s.db.query("SELECT User, Host FROM mysql.user WHERE User LIKE 'cfn-%%'")
    s.db.query("RENAME USER %s@%s TO %s@'192.0.2.1'", (mark, host, mark))

    assert s.delete(created, props)["Status"] == "SUCCESS"

    assert s.user not in s.db.users()
    assert not marks(s.db)


@pytest.mark.parametrize("rolled_back", [True, False])
def test_a_failed_replacement_leaves_the_mark_with_the_id_cloudformation_keeps(
    scenario, rolled_back
):
    """The Update to another endpoint name finds the user but fails later (a grant on a missing
    table): CloudFormation keeps the old physical ID, rolls the resource back to it (or not,
    when the stack is deleted right away), and that ID's Delete must still drop the user."""
    s = scenario
    first = s.props(Host="127.0.0.1")
    created = s.create(first)
    broken = [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "no_such_table"}]
    second = s.props(broken, Host="localhost")

    failed = s.update(created, first, second)

    assert failed["Status"] == "FAILED"
    if rolled_back:
        back = s.update(created, second, first)
        assert back["Status"] == "SUCCESS", back["Reason"]
        assert back["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert s.delete(created, first)["Status"] == "SUCCESS"
    assert s.user not in s.db.users()
    assert not marks(s.db)
    assert s.create(s.props())["Status"] == "SUCCESS"  # a new stack's Create is not refused


def test_a_create_answered_by_the_timer_during_create_user_is_dropped_by_its_rollback(
    scenario, monkeypatch
):
    """CREATE USER stalls past the budget: the timer answers FAILED with the user's physical ID
    (not crhelper's), so the rollback Delete drops the user CREATE USER made after all."""
    s = scenario
    event = s.event("Create", s.props())

    answer = s.answer_by_timer(event, monkeypatch, user_accounts.Accounts, "create")

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert s.delete(answer, s.props())["Status"] == "SUCCESS"  # the rollback

    assert s.user not in s.db.users()
    assert not marks(s.db)
