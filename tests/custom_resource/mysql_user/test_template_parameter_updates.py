"""An update of one parameter inside an application secret's GenerateSecretString, end to end.

For each such parameter of the two templates with Custom::MySQLUser: a stack that has rotated
once (the application is on <name>_clone), then the update as CloudFormation runs it. The
secret is generated anew first: the template's JSON with the new value and a new password,
nothing else (an attachment does not run again). AppUser gets an Update only if its evaluated
properties changed, with the old and new properties CloudFormation would send, to the function
as shipped (the zip `make build` makes) with its secrets in moto_server. Afterwards the secret's
AWSCURRENT opens the database, and the next alternating-users rotation succeeds the way the
hosted function runs it. A renamed or moved user's old resource then gets its Delete, with its
old properties, as CloudFormation's cleanup sends it.

AdminUsername, the one parameter in an admin secret's template, is refused by make deploy
(tests/deploy/test_secret_parameters.py): the cluster cannot follow it."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymysql
import pytest
from ownership import MARK_PREFIX, Resource  # the parent conftest put the function on sys.path

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
from tests.templates.test_secret_json import hosted_function_refusal

from ..local_endpoints import STACK_ID
from .conftest import ADMIN_USER, Scenario

pytestmark = pytest.mark.database

FUNCTION_ARN = MYSQL_USER_FUNCTION_ARN
CLONE = "_clone"


def marked(s: Scenario) -> set[str]:
    """The users of this test that carry AppUser's ownership mark (issue 18)."""
    query = "SELECT User FROM mysql.user WHERE User LIKE %s"
    marks = {mark for (mark,) in s.db.query(query, (f"{MARK_PREFIX}%",))}
    resource = Resource(STACK_ID, "AppUser")
    return {user for user in s.db.users() if resource.mark_name(user) in marks}


def alternate(username: str) -> str:
    """The other user of the pair, as the hosted function names it."""
    return username.removesuffix(CLONE) if username.endswith(CLONE) else username + CLONE


@dataclass
class Stack:
    """One stack of `path` whose AppUser and secrets live in the scenario's server and moto."""

    s: Scenario
    path: Path
    parameters: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)  # resource values: ARNs, cluster

    @property
    def template(self) -> dict:
        return load(self.path)

    @property
    def app_arn(self) -> str:
        return self.values["AppSecret"]

    def context(self) -> Context:
        if self.path == EXISTING_CLUSTER:
            base = {**REQUIRED, **RESOURCE_VALUES}
        else:
            base = {"MySQLUserFunction.Arn": FUNCTION_ARN}
        return Context(self.template, **{**base, **self.values, **self.parameters})

    def app_user(self) -> dict:
        """AppUser's properties as CloudFormation sends them; TlsCaFile is the tests' CA (the
        templates leave it to the RDS bundle in the zip)."""
        given = evaluate(properties(self.template, "AppUser"), self.context())
        assert "TlsCaFile" not in given
        return {**given, "TlsCaFile": str(self.s.db.ca_file)}

    def generate_app_secret(self, attachment: dict | None = None) -> dict:
        """What CloudFormation writes when it generates AppSecret: the template's JSON and a new
        password (then what an attachment adds, on the first creation only)."""
        value = generated_secret(
            self.template, "AppSecret", self.context(), secrets.token_urlsafe(24), attachment or {}
        )
        self.s.store.client.put_secret_value(SecretId=self.app_arn, SecretString=json.dumps(value))
        return value

    def change(self, **parameters: str) -> None:
        self.parameters = {**self.parameters, **parameters}


def multi_user(s: Scenario, **parameters: str) -> Stack:
    admin_arn = s.store.put(f"AdminSecret-{secrets.token_hex(4)}", "{}")
    stack = Stack(
        s,
        MULTI_USER,
        {"AdminUsername": ADMIN_USER, "AppUsername": s.user, "DatabaseName": "shopdb"},
        {
            "AdminSecret": admin_arn,
            "AppSecret": s.store.put(f"AppSecret-{secrets.token_hex(4)}", "{}"),
            **cluster_values("127.0.0.1", s.db.port),
        },
    )
    stack.change(**parameters)
    attachment = aurora_attachment("127.0.0.1", s.db.port)
    admin = generated_secret(
        stack.template, "AdminSecret", stack.context(), s.db.admin_password, attachment
    )
    s.store.client.put_secret_value(SecretId=admin_arn, SecretString=json.dumps(admin))
    stack.generate_app_secret(attachment)
    return stack


def existing_cluster(s: Scenario, **parameters: str) -> Stack:
    s.db.query("CREATE DATABASE IF NOT EXISTS shopdb")  # the existing cluster's database
    stack = Stack(
        s,
        EXISTING_CLUSTER,
        {
            "ClusterEndpoint": "127.0.0.1",
            "ClusterPort": str(s.db.port),
            "AdminSecretArn": s.admin_arn,
            "AppUsername": s.user,
            "DatabaseName": "shopdb",
        },
        {"AppSecret": s.store.put(f"AppSecret-{secrets.token_hex(4)}", "{}")},
    )
    stack.change(**parameters)
    stack.generate_app_secret()
    return stack


def login(db, secret: dict, **overrides) -> pymysql.Connection:
    """A login with a secret's values, to its host, port and dbname, over verified TLS: what the
    application and the hosted rotation function do."""
    values = {**secret, **overrides}
    return pymysql.connect(
        host=values["host"],
        port=int(values["port"]),
        user=values["username"],
        password=values["password"],
        database=values.get("dbname"),
        ssl_ca=str(db.ca_file),
        ssl_verify_identity=True,
        connect_timeout=5,
    )


def rotate(stack: Stack) -> dict:
    """One alternating-users rotation, the way the hosted MySQLMultiUser function runs it
    (createSecret, setSecret, finishSecret): it refuses a secret without engine, host, username
    or password; logs in with AWSCURRENT (to its dbname) before anything else; reads the admin
    secret that masterarn names, whose host (if it has one) must be AWSCURRENT's; as that admin
    gives the other user of the pair AWSCURRENT's grants and a new password; then makes the new
    value current. Returns it."""
    store, db = stack.s.store, stack.s.db
    current = store.value(stack.app_arn)
    assert hosted_function_refusal(current) is None, hosted_function_refusal(current)
    pending = {**current, "username": alternate(current["username"])}
    pending["password"] = secrets.token_urlsafe(24)
    login(db, current).close()
    master = store.value(current["masterarn"])
    assert master.get("host", current["host"]) == current["host"]
    # An RDS-managed admin secret has no host: the function asks the RDS API for the cluster's.
    with login(db, master, host=current["host"], port=current["port"], dbname=None) as admin:
        clone_like_the_rotation(
            admin, current["username"], pending["password"], pending["username"]
        )
    store.client.put_secret_value(SecretId=stack.app_arn, SecretString=json.dumps(pending))
    login(db, pending).close()
    return pending


def update(stack: Stack, created: dict, **parameters: str) -> tuple[dict | None, dict, dict]:
    """Change `parameters` as a stack update does: CloudFormation generates AppSecret anew, then
    sends AppUser an Update if, and only if, its properties changed. Returns (the answer or None
    when no request was sent, the old properties, the new ones)."""
    old = stack.app_user()
    stack.change(**parameters)
    stack.generate_app_secret()
    new = stack.app_user()
    if new == old:
        return None, old, new
    return stack.s.update(created, old, new), old, new


def deployed_and_rotated(stack: Stack) -> dict:
    """The stack's Create, then a rotation: the application now uses <name>_clone."""
    created = stack.s.answer(stack.s.event("Create", stack.app_user()))
    assert created["Status"] == "SUCCESS", created["Reason"]
    rotate(stack)
    return created


def cleanup(stack: Stack, created: dict, updated: dict, old: dict) -> None:
    """CloudFormation's cleanup after an update that gave AppUser a new physical ID: a Delete of
    the old one, with the old properties."""
    if updated["PhysicalResourceId"] != created["PhysicalResourceId"]:
        deleted = stack.s.delete(created, old)
        assert deleted["Status"] == "SUCCESS"


def assert_current_opens_the_database_and_rotates(stack: Stack) -> None:
    current = stack.s.store.value(stack.app_arn)
    login(stack.s.db, current).close()
    after = rotate(stack)
    login(stack.s.db, after).close()


@contextlib.contextmanager
def forwarded_port(target_port: int) -> Iterator[int]:
    """A loopback port that relays TCP to `target_port`: the cluster's old port, which stops
    answering when the block ends (as a cluster's does once its port changed)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()


@pytest.fixture
def renamed(shipped_scenario) -> Iterator[str]:
    """A second application user name (10 characters at most, as the templates allow);
    dropped afterwards with its clone."""
    name = shipped_scenario.user + "n"
    yield name
    for user in (name, name + CLONE):
        shipped_scenario.db.query("DROP USER IF EXISTS %s@'%%'", (user,))


STACKS = {"multi-user": multi_user, "existing-cluster": existing_cluster}


@pytest.mark.parametrize("template", sorted(STACKS))
def test_app_username_creates_the_renamed_user_with_the_new_password(
    shipped_scenario, renamed, template
):
    s = shipped_scenario
    stack = STACKS[template](s)
    created = deployed_and_rotated(stack)

    updated, old, _ = update(stack, created, AppUsername=renamed)

    assert updated is not None, "CloudFormation would not tell AppUser"
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["PhysicalResourceId"].endswith(f":{renamed}")
    assert s.store.value(stack.app_arn)["username"] == renamed
    assert_current_opens_the_database_and_rotates(stack)
    assert s.db.grants(renamed) == {
        line.replace(f"`{s.user}`", f"`{renamed}`") for line in s.db.grants(s.user)
    }
    cleanup(stack, created, updated, old)
    # Both templates keep the old pair by default (DeletionProtection, RetainAppUserOnDelete),
    # no longer as the stack's: only the renamed user carries the resource's ownership mark.
    assert {s.user, s.user + CLONE} <= s.db.users()
    assert marked(s) == {renamed}
    assert_current_opens_the_database_and_rotates(stack)


@pytest.mark.parametrize(
    ("template", "parameter"),
    [("multi-user", "DeletionProtection"), ("existing-cluster", "RetainAppUserOnDelete")],
)
def test_a_rename_without_retention_drops_the_old_pair_only(
    shipped_scenario, renamed, template, parameter
):
    s = shipped_scenario
    stack = STACKS[template](s, **{parameter: "false"})
    created = deployed_and_rotated(stack)

    updated, old, _ = update(stack, created, AppUsername=renamed)
    assert updated is not None
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    cleanup(stack, created, updated, old)

    assert not {s.user, s.user + CLONE} & s.db.users()
    assert renamed in s.db.users()
    assert_current_opens_the_database_and_rotates(stack)


@pytest.mark.parametrize("template", sorted(STACKS))
def test_database_name_moves_the_grants_and_sets_the_new_password(shipped_scenario, template):
    s = shipped_scenario
    new_database = f"shop_{secrets.token_hex(3)}"
    stack = STACKS[template](s)
    created = deployed_and_rotated(stack)
    if template == "existing-cluster":  # it must exist there (or CreateDatabase=true)
        s.db.query(f"CREATE DATABASE `{new_database}`")

    updated, _, _ = update(stack, created, DatabaseName=new_database)

    assert updated is not None, "CloudFormation would not tell AppUser"
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    current = s.store.value(stack.app_arn)
    assert current["dbname"] == new_database
    for user in (s.user, s.user + CLONE):  # SHOW GRANTS writes `shop\_...` for a database
        grants = {line.replace("\\_", "_") for line in s.db.grants(user)}
        assert grants
        assert all(f"`{new_database}`" in line for line in grants), grants
    assert_current_opens_the_database_and_rotates(stack)


def test_cluster_identifier_sets_the_new_password(shipped_scenario):
    s = shipped_scenario
    stack = existing_cluster(s)
    created = deployed_and_rotated(stack)

    updated, _, _ = update(stack, created, ClusterIdentifier="orders-renamed")

    assert updated is not None, "CloudFormation would not tell AppUser"
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert s.store.value(stack.app_arn)["dbClusterIdentifier"] == "orders-renamed"
    assert_current_opens_the_database_and_rotates(stack)


def test_admin_secret_arn_logs_in_with_the_new_admin_secret(shipped_scenario):
    """The cluster's master secret moves to the one RDS manages (only username and password):
    AppUser and the rotation log in with it from now on."""
    s = shipped_scenario
    stack = existing_cluster(s)
    created = deployed_and_rotated(stack)
    managed = s.store.put(
        f"rds!cluster-{secrets.token_hex(4)}",
        {"username": ADMIN_USER, "password": s.db.admin_password},
    )

    updated, _, _ = update(stack, created, AdminSecretArn=managed, AdminSecretKind="rds-managed")

    assert updated is not None, "CloudFormation would not tell AppUser"
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert s.store.value(stack.app_arn)["masterarn"] == managed
    assert_current_opens_the_database_and_rotates(stack)


def test_cluster_endpoint_of_the_renamed_cluster_keeps_the_user_as_the_stack_s_own(
    shipped_scenario,
):
    """The same server under its new name: the user is found with this resource's ownership
    mark and kept; the cleanup of the old ID, which still reaches the server here, keeps the
    user (RetainAppUserOnDelete) and drops only the mark. A self-managed admin secret names the
    new host too (its owner's part of the rename): the rotation refuses two different hosts."""
    s = shipped_scenario
    stack = existing_cluster(s)
    created = deployed_and_rotated(stack)
    admin = s.store.value(s.admin_arn)
    s.store.client.put_secret_value(
        SecretId=s.admin_arn, SecretString=json.dumps({**admin, "host": "localhost"})
    )

    updated, old, _ = update(stack, created, ClusterEndpoint="localhost")

    assert updated is not None, "CloudFormation would not tell AppUser"
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["PhysicalResourceId"] == f"mysql-user:localhost:{s.db.port}:{s.user}"
    assert s.store.value(stack.app_arn)["host"] == "localhost"
    assert_current_opens_the_database_and_rotates(stack)
    cleanup(stack, created, updated, old)
    assert {s.user, s.user + CLONE} <= s.db.users()
    assert_current_opens_the_database_and_rotates(stack)


def test_cluster_port_after_the_cluster_moved_to_it(shipped_scenario):
    """The stack was made while the cluster answered on another port (a relay here), which
    closes once the cluster's port changed: the update finds the user on the new port, and the
    old ID's cleanup, which cannot reach the old port, drops nothing."""
    s = shipped_scenario
    with forwarded_port(s.db.port) as old_port:
        stack = existing_cluster(s, ClusterPort=str(old_port))
        created = deployed_and_rotated(stack)
    updated, old, _ = update(stack, created, ClusterPort=str(s.db.port))

    assert updated is not None, "CloudFormation would not tell AppUser"
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["PhysicalResourceId"] == f"mysql-user:127.0.0.1:{s.db.port}:{s.user}"
    assert_current_opens_the_database_and_rotates(stack)
    cleanup(stack, created, updated, old)
    assert {s.user, s.user + CLONE} <= s.db.users()
    assert_current_opens_the_database_and_rotates(stack)


def test_a_refused_rename_rolls_back_to_a_password_that_works(shipped_scenario, renamed):
    """The new name belongs to someone else: AppUser refuses before any change; the rollback
    generates the secret once more from the old template and sends AppUser the old properties,
    whose Update sets that password."""
    s = shipped_scenario
    stack = multi_user(s)
    created = deployed_and_rotated(stack)
    s.db.query("CREATE USER %s@'%%' IDENTIFIED BY 'someone-else-1A'", (renamed,))

    failed, old, new = update(stack, created, AppUsername=renamed)

    assert failed is not None
    assert failed["Status"] == "FAILED"
    assert "already exists and this resource did not create it" in failed["Reason"]
    stack.change(AppUsername=s.user)  # the rollback: the previous template and values
    stack.generate_app_secret()
    rolled_back = s.update(created, new, old)
    assert rolled_back["Status"] == "SUCCESS", rolled_back["Reason"]
    assert rolled_back["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert_current_opens_the_database_and_rotates(stack)
    s.db.login(renamed, "someone-else-1A").close()  # untouched
