"""Fixtures for Custom::MySQLUser: a TLS-only MariaDB with an Aurora-like master user, secrets in
moto (mock_aws) shaped like the templates' secrets, and the handler module. The servers and the
shipped function are session-scoped (see ../conftest.py): tests name their users uniquely."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
import trustme
from ownership import MARK_PREFIX  # the parent conftest put the function modules on sys.path

from ..aws_mock import moto_mock, warm_session
from ..functions import load_app
from ..local_endpoints import REGION, LambdaContext, cloudformation_event
from ..virtual_clock import HANG_S
from .shipped import ShippedFunction, build_and_unpack
from .tls_mariadb import running_mariadb

ADMIN_USER = "admin"


@pytest.fixture(scope="package")
def mysql_app(function_environment):
    return load_app("mysql_user")


@pytest.fixture(scope="session")
def db_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def database(tmp_path_factory, db_ca):
    with running_mariadb(tmp_path_factory.mktemp("tls-mariadb"), db_ca) as server:
        server.admin_password = secrets.token_hex(16)
        server.server.create_aurora_master(ADMIN_USER, server.admin_password)
        yield server


@pytest.fixture(scope="session")
def misnamed_database(tmp_path_factory, db_ca):
    """A server whose certificate the trusted CA issued to another host (another cluster's
    endpoint): its chain verifies, its name does not."""
    base = tmp_path_factory.mktemp("misnamed-mariadb")
    names = ("other-cluster.cluster-c0ffee.eu-west-1.rds.amazonaws.com",)
    with running_mariadb(base, db_ca, names=names) as server:
        server.admin_password = secrets.token_hex(16)
        server.server.create_aurora_master(ADMIN_USER, server.admin_password)
        yield server


@pytest.fixture(scope="session")
def plain_database(tmp_path_factory, db_ca):
    """A server that offers no TLS at all."""
    with running_mariadb(tmp_path_factory.mktemp("plain-mariadb"), db_ca, tls=False) as server:
        yield server


@pytest.fixture
def app_user(database):
    """A unique application user name per test; dropped (with its clone and the ownership marks
    the test left: a worker runs its tests one after another) afterwards."""
    name = f"app{uuid.uuid4().hex[:6]}"
    yield name
    for user in (name, f"{name}_clone"):
        database.query("DROP USER IF EXISTS %s@'%%'", (user,))
    for mark, host in database.query(
        "SELECT User, Host FROM mysql.user WHERE User LIKE %s", (f"{MARK_PREFIX}%",)
    ):
        database.query("DROP USER %s@%s", (mark, host))


class Secrets:
    """moto's Secrets Manager, holding the two secrets the way the templates shape them."""

    def __init__(self, client, database) -> None:
        self.client = client
        self.database = database

    def admin(self, **overrides) -> str:
        value = {
            "engine": "mysql",
            "host": "127.0.0.1",
            "port": self.database.port,
            "username": ADMIN_USER,
            "password": self.database.admin_password,
            **overrides,
        }
        return self.put("admin", value)

    def app(self, username: str, password: str | None = None, admin_arn: str = "", **extra) -> str:
        value = {
            "engine": "mysql",
            "host": "127.0.0.1",
            "port": self.database.port,
            "username": username,
            "password": password or secrets.token_urlsafe(24),
            "dbname": "appdb",
            "masterarn": admin_arn,
            **extra,
        }
        return self.put("app", value)

    def put(self, name: str, value: dict | str) -> str:
        """A new secret named `name` and a suffix of its own; its ARN."""
        text = value if isinstance(value, str) else json.dumps(value)
        unique = f"{name}-{uuid.uuid4().hex[:8]}"
        return self.client.create_secret(Name=unique, SecretString=text)["ARN"]

    def value(self, arn: str) -> dict:
        return json.loads(self.client.get_secret_value(SecretId=arn)["SecretString"])


@pytest.fixture(scope="module")
def mocked_secrets_manager(function_environment):
    """moto's in-process Secrets Manager, one per test module (its start costs more than most
    tests here): every secret a test puts has a name of its own."""
    with moto_mock():
        yield warm_session().client("secretsmanager", region_name=REGION)


@pytest.fixture
def secret_store(mocked_secrets_manager, database):
    return Secrets(mocked_secrets_manager, database)


@dataclass
class Scenario:
    """One test's view of the resource: the handler, the receiver, the server and the secrets."""

    app: object
    receiver: object
    db: object
    store: Secrets
    user: str
    admin_arn: str
    app_arn: str

    def props(self, grants=None, **extra) -> dict:
        return {
            "AdminSecretArn": self.admin_arn,
            "AppSecretArn": self.app_arn,
            "Grants": grants
            or [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "prices"}],
            "DemoSchema": "true",
            "TlsCaFile": str(self.db.ca_file),
            **extra,
        }

    def event(self, request_type: str, properties: dict, **kwargs) -> dict:
        event = cloudformation_event(
            request_type, self.receiver.url(), properties, logical_id="AppUser", **kwargs
        )
        event["ResourceType"] = "Custom::MySQLUser"
        return event

    def answer(self, event: dict, seconds: float = 20.0) -> dict:
        """Run the handler; the single response CloudFormation would read."""
        self.receiver.reset()
        # The handler imported here runs on the tests' virtual clock; the shipped zip runs in a
        # process of its own (ShippedFunction), on the real one.
        helper = getattr(self.app, "helper", None)
        clock = helper.clock if helper is not None else None
        assert self.app.handler(event, LambdaContext(seconds, clock)) is None
        puts = self.receiver.puts()
        assert len(puts) == 1, f"expected exactly one response, got {len(puts)}"
        return puts[0].document

    def answer_by_timer(self, event: dict, monkeypatch, where: type, method: str) -> dict:
        """Run the handler with `where.method` held until the last-resort timer has answered (on
        the tests' virtual clock: no real delay), the timer's moment coming once the handler is
        inside that method; the one answer CloudFormation would read."""
        real = getattr(where, method)
        entered, timer_answered = threading.Event(), threading.Event()

        def held(*args):
            entered.set()  # everything before this call is done: the test's moment
            timer_answered.wait(HANG_S)
            return real(*args)

        monkeypatch.setattr(where, method, held)
        clock = self.app.helper.clock
        self.receiver.reset()
        worker = threading.Thread(
            target=self.app.handler, args=(event, LambdaContext(2.0, clock)), daemon=True
        )
        worker.start()
        while not (clock.pending() and entered.is_set()):  # the timer is set at the start
            worker.join(0.01)
            assert worker.is_alive(), "the handler ended before the stalled step"
        clock.run_next_timer()
        timer_answered.set()
        worker.join(HANG_S)
        assert not worker.is_alive(), "the handler hung"
        monkeypatch.setattr(where, method, real)
        (put,) = self.receiver.puts()
        return put.document

    def create(self, properties: dict) -> dict:
        body = self.answer(self.event("Create", properties))
        assert body["Status"] == "SUCCESS", body["Reason"]
        return body

    def update(self, created: dict, old: dict, new: dict) -> dict:
        return self.answer(
            self.event("Update", new, physical_id=created["PhysicalResourceId"], old_properties=old)
        )

    def delete(self, created: dict, properties: dict) -> dict:
        return self.answer(
            self.event("Delete", properties, physical_id=created["PhysicalResourceId"])
        )


@pytest.fixture
def scenario(mysql_app, receiver, database, secret_store, app_user) -> Scenario:
    admin_arn = secret_store.admin()
    app_arn = secret_store.app(app_user, admin_arn=admin_arn)
    return Scenario(mysql_app, receiver, database, secret_store, app_user, admin_arn, app_arn)


@pytest.fixture
def secrets_api(lambda_api_hop, moto_endpoint, monkeypatch, scenario):
    """Secrets in moto's server, reached by the function through the fault hop; returns the hop
    and the scenario's properties naming those secrets."""
    lambda_api_hop.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", lambda_api_hop.url)
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint)
    admin = scenario.store.value(scenario.admin_arn)
    app = scenario.store.value(scenario.app_arn)
    suffix = uuid.uuid4().hex[:8]
    arns = {
        name: client.create_secret(Name=f"{name}-{suffix}", SecretString=json.dumps(value))["ARN"]
        for name, value in (("admin", admin), ("app", app))
    }
    return lambda_api_hop, scenario.props(AdminSecretArn=arns["admin"], AppSecretArn=arns["app"])


@pytest.fixture(scope="session")
def shipped_function(
    tmp_path_factory, moto_server_url, function_variables
) -> Iterator[ShippedFunction]:
    """The function as `make build` packages it, run from its unpacked zip."""
    function = ShippedFunction(
        build_and_unpack(tmp_path_factory.mktemp("shipped")), moto_server_url, function_variables
    )
    yield function
    function.close()


@pytest.fixture
def shipped_scenario(shipped_function, receiver, database, moto_endpoint, app_user) -> Scenario:
    """A Scenario whose handler is the shipped zip and whose secrets are in moto_server."""
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint)
    store = Secrets(client, database)
    admin_arn = store.admin()
    app_arn = store.app(app_user, admin_arn=admin_arn)
    return Scenario(shipped_function, receiver, database, store, app_user, admin_arn, app_arn)
