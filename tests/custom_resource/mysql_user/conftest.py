"""Fixtures for Custom::MySQLUser: a TLS-only MariaDB with an Aurora-like master user, secrets in
moto (mock_aws) shaped like the templates' secrets, and the handler module."""

from __future__ import annotations

import json
import secrets
import uuid

import boto3
import pytest
import trustme

from ..functions import load_app
from ..local_endpoints import REGION
from .tls_mariadb import running_mariadb

ADMIN_USER = "admin"


@pytest.fixture(scope="package")
def mysql_app(function_environment):
    return load_app("mysql_user")


@pytest.fixture(scope="package")
def db_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="package")
def database(tmp_path_factory, db_ca):
    with running_mariadb(tmp_path_factory.mktemp("tls-mariadb"), db_ca) as server:
        server.admin_password = secrets.token_hex(16)
        server.server.create_aurora_master(ADMIN_USER, server.admin_password)
        yield server


@pytest.fixture(scope="package")
def plain_database(tmp_path_factory, db_ca):
    """A server that offers no TLS at all."""
    with running_mariadb(tmp_path_factory.mktemp("plain-mariadb"), db_ca, tls=False) as server:
        yield server


@pytest.fixture
def app_user(database):
    """A unique application user name per test; dropped (with its clone) afterwards."""
    name = f"app{uuid.uuid4().hex[:6]}"
    yield name
    for user in (name, f"{name}_clone"):
        database.query("DROP USER IF EXISTS %s@'%%'", (user,))


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
        return self.put(f"admin-{uuid.uuid4().hex[:8]}", value)

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
        return self.put(f"app-{uuid.uuid4().hex[:8]}", value)

    def put(self, name: str, value: dict | str) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        return self.client.create_secret(Name=name, SecretString=text)["ARN"]

    def value(self, arn: str) -> dict:
        return json.loads(self.client.get_secret_value(SecretId=arn)["SecretString"])


@pytest.fixture
def secret_store(database):
    from moto import mock_aws

    with mock_aws():
        yield Secrets(boto3.client("secretsmanager", region_name=REGION), database)
