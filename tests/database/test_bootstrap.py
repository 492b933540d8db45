"""The instance bootstrap, run for real: the scripts taken from the templates' cfn-init metadata,
the project's AWS CLI reading the secrets from moto's Secrets Manager, the MariaDB client and a
real MariaDB server standing in for Aurora MySQL 3 with require_secure_transport ON.

Each deployment stores the secrets the template produces (its SecretStringTemplate, a password
generated with its GenerateSecretString settings, and what SecretTargetAttachment adds), creates
an admin user with the privileges Aurora gives its master user, in the multi-user template the
application user and demo table its AppUser (Custom::MySQLUser) creates before the instance, and
runs bootstrap.sh, with the test CA where the instance would hold the RDS CA bundle (or without
it, as on a fresh instance).
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest

from tests.database.conftest import MariaDB, ServerCertificate, running_mariadb
from tests.helpers.bootstrap_files import (
    apply_app_user,
    aurora_attachment,
    cluster_values,
    generated_secret,
    install_cfn_init_files,
)
from tests.helpers.cfn_templates import (
    MULTI_USER,
    SINGLE_USER,
    Context,
    exclude_characters,
    load,
    properties,
    resources,
)

pytestmark = pytest.mark.database

VENV_BIN = Path(sys.executable).parent  # the project's AWS CLI
ACCESS_DENIED = {1142, 1143, 1044}  # table, column and database access denied
BOOTSTRAP = "opt/rotation-demo/bootstrap.sh"
CA_BUNDLE = "opt/rotation-demo/rds-ca-bundle.pem"  # where the bootstrap looks for the RDS CAs
CREDENTIALS = "root/rotation-demo"
# MySQL and Aurora answer a plaintext login under require_secure_transport with 3159
# (ER_SECURE_TRANSPORT_REQUIRED); MariaDB answers 1045 (access denied).
INSECURE_TRANSPORT = {3159, 1045}


@dataclass
class Deployment:
    template: dict
    context: Context
    secrets: dict[str, dict]
    root: Path
    environment: dict[str, str]

    def run_bootstrap(self, *, instant_retries: bool = False) -> subprocess.CompletedProcess:
        environment = dict(self.environment)
        if instant_retries:  # a no-op sleep, so twelve failed logins take no three minutes
            fakes = self.root / "fake-bin"
            fakes.mkdir(exist_ok=True)
            (fakes / "sleep").write_text("#!/bin/sh\nexit 0\n")
            (fakes / "sleep").chmod(0o755)
            environment["PATH"] = f"{fakes}:{environment['PATH']}"
        return subprocess.run(
            [str(self.root / BOOTSTRAP)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def create_app_user(self, mariadb) -> None:
        """The template's AppUser (Custom::MySQLUser), which the instance now waits for."""
        with mariadb.login(self.admin["username"], self.admin["password"]) as admin:
            apply_app_user(self.template, self.context, admin, self.app)

    @property
    def app(self) -> dict:
        return self.secrets["AppSecret"]

    @property
    def admin(self) -> dict:
        return self.secrets["AdminSecret"]


def deploy(
    template_path: Path,
    root: Path,
    mariadb,
    secretsmanager,
    aws_environment,
    *,
    ca_bundle: Path | None = None,
    **parameters: str,
) -> Deployment:
    """What the stack does before the bootstrap runs: secrets, attachments and the master user;
    `ca_bundle` goes where an operator would copy the RDS CA bundle."""
    template = load(template_path)
    for name, value in parameters.items():  # overrides a deployer could really pass
        assert re.fullmatch(template["Parameters"][name]["AllowedPattern"], value), name
    logical_ids = sorted(resources(template, "AWS::SecretsManager::Secret"))  # AdminSecret first
    arns = {
        logical_id: secretsmanager.create_secret(Name=f"{logical_id}-{uuid.uuid4().hex[:8]}")["ARN"]
        for logical_id in logical_ids
    }
    context = Context(template, **arns, **cluster_values("127.0.0.1", mariadb.port), **parameters)
    attachment = aurora_attachment("127.0.0.1", mariadb.port)
    secrets = {}
    for logical_id in logical_ids:
        generate = properties(template, logical_id)["GenerateSecretString"]
        password = secretsmanager.get_random_password(
            PasswordLength=generate["PasswordLength"],
            ExcludeCharacters=exclude_characters(template),
            RequireEachIncludedType=generate["RequireEachIncludedType"],
        )["RandomPassword"]
        secrets[logical_id] = generated_secret(template, logical_id, context, password, attachment)
        secretsmanager.put_secret_value(
            SecretId=arns[logical_id], SecretString=json.dumps(secrets[logical_id])
        )
    mariadb.create_aurora_master(
        secrets["AdminSecret"]["username"], secrets["AdminSecret"]["password"]
    )
    install_cfn_init_files(template, context, root)
    if ca_bundle is not None:
        (root / CA_BUNDLE).write_bytes(ca_bundle.read_bytes())
    client_directory = str(Path(mariadb.client).parent)
    environment = {"PATH": f"{VENV_BIN}:{client_directory}:/usr/bin:/bin", **aws_environment}
    return Deployment(template, context, secrets, root, environment)


@pytest.fixture(scope="module")
def multi_user(tmp_path_factory, mariadb, secretsmanager, aws_environment) -> Deployment:
    deployment = deploy(
        MULTI_USER,
        tmp_path_factory.mktemp("multi-user"),
        mariadb,
        secretsmanager,
        aws_environment,
        ca_bundle=mariadb.certificate.ca_file,
    )
    deployment.create_app_user(mariadb)  # AppUser comes before the instance
    result = deployment.run_bootstrap()
    assert result.returncode == 0, result.stderr
    return deployment


def app_login(
    mariadb, deployment: Deployment, username: str | None = None, password: str | None = None
):
    return mariadb.login(
        username or deployment.app["username"],
        password or deployment.app["password"],
        deployment.app["dbname"],
    )


def denied(error: pymysql.err.MySQLError) -> bool:
    return error.args[0] in ACCESS_DENIED


def test_app_user_can_read_prices(mariadb, multi_user):
    with app_login(mariadb, multi_user) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT item, price_cents FROM prices ORDER BY id")
        assert cursor.fetchall() == (("Coffee", 250), ("Tea", 200), ("Cake", 450))


def test_app_user_cannot_change_prices(mariadb, multi_user):
    with app_login(mariadb, multi_user) as connection, connection.cursor() as cursor:
        with pytest.raises(pymysql.err.OperationalError) as insert:
            cursor.execute("INSERT INTO prices VALUES (4, 'Errors', 0)")
        assert denied(insert.value)
        with pytest.raises(pymysql.err.OperationalError) as update:
            cursor.execute("UPDATE prices SET price_cents = 0")
        assert denied(update.value)


def test_app_user_cannot_read_the_user_table(mariadb, multi_user):
    with app_login(mariadb, multi_user) as connection, connection.cursor() as cursor:
        with pytest.raises(pymysql.err.OperationalError) as select:
            cursor.execute("SELECT User FROM mysql.user")
        assert denied(select.value)


def test_app_user_holds_select_on_prices_and_nothing_else(mariadb, multi_user):
    with mariadb.root() as connection, connection.cursor() as cursor:
        cursor.execute("SHOW GRANTS FOR %s@'%%'", (multi_user.app["username"],))
        grants = sorted(row[0].split(" TO ")[0] for row in cursor.fetchall())
    database = multi_user.app["dbname"]
    assert grants == ["GRANT SELECT ON `" + database + "`.`prices`", "GRANT USAGE ON *.*"]


def test_bootstrap_leaves_root_only_option_files_and_no_password_file(multi_user):
    credentials = multi_user.root / CREDENTIALS
    assert sorted(path.name for path in credentials.iterdir()) == ["admin.cnf", "app.cnf"]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o700
    for path in credentials.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bootstrap_can_run_again_without_changing_anything(mariadb, multi_user):
    def snapshot():
        with mariadb.root() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT User, Host, authentication_string FROM mysql.user ORDER BY User")
            users = cursor.fetchall()
            database = multi_user.app["dbname"]  # a template parameter, not user input
            cursor.execute(f"SELECT * FROM `{database}`.prices ORDER BY id")  # noqa: S608
            return users, cursor.fetchall()

    before = snapshot()
    result = multi_user.run_bootstrap()
    assert result.returncode == 0, result.stderr
    assert snapshot() == before


def clone_like_the_rotation(
    admin: pymysql.Connection, username: str, password: str, clone: str | None = None
) -> str:
    """The steps the hosted MySQLMultiUser function takes in setSecret: create the other user of
    the pair (<name>_clone unless `clone` names it), copy every grant SHOW GRANTS lists for
    <name>, require no TLS, set the password (PASSWORD() unless the server reports version 8)."""
    clone = clone or f"{username}_clone"
    assert len(clone) <= 16, "the hosted function refuses longer names"
    with admin.cursor() as cursor:
        cursor.execute("SELECT User FROM mysql.user WHERE User = %s", (clone,))
        if cursor.rowcount == 0:
            cursor.execute("CREATE USER %s IDENTIFIED BY %s", (clone, password))
        cursor.execute("SHOW GRANTS FOR %s", (username,))
        for (grant,) in cursor.fetchall():
            privileges = grant.split(" TO ")[0].replace("%", "%%")
            cursor.execute(f"{privileges} TO %s", (clone,))
        cursor.execute("SELECT VERSION()")
        (version,) = cursor.fetchone()
        cursor.execute("ALTER USER %s@'%%' REQUIRE NONE", (clone,))
        password_form = "%s" if version.startswith("8") else "PASSWORD(%s)"
        cursor.execute(f"SET PASSWORD FOR %s = {password_form}", (clone, password))
    return clone


def test_admin_can_clone_the_app_user_and_the_clone_only_reads_prices(
    mariadb, multi_user, secretsmanager
):
    template = multi_user.template
    clone_password = secretsmanager.get_random_password(
        ExcludeCharacters=exclude_characters(template)
    )["RandomPassword"]
    with mariadb.login(multi_user.admin["username"], multi_user.admin["password"]) as admin:
        clone = clone_like_the_rotation(admin, multi_user.app["username"], clone_password)
    clone_login = app_login(mariadb, multi_user, clone, clone_password)
    with clone_login as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM prices")
        assert cursor.fetchone() == (3,)
        with pytest.raises(pymysql.err.OperationalError) as insert:
            cursor.execute("INSERT INTO prices VALUES (5, 'Clone', 0)")
        assert denied(insert.value)
    # Alternating users: the original keeps working while applications move to the clone.
    with app_login(mariadb, multi_user) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM prices")
        assert cursor.fetchone() == (3,)


def test_single_user_bootstrap_proves_the_admin_secret_opens_the_database(
    tmp_path, mariadb, secretsmanager, aws_environment
):
    deployment = deploy(
        SINGLE_USER, tmp_path, mariadb, secretsmanager, aws_environment, AdminUsername="soloadmin"
    )
    result = deployment.run_bootstrap()
    assert result.returncode == 0, result.stderr
    assert "soloadmin@" in result.stdout
    option_file = tmp_path / CREDENTIALS / "admin.cnf"
    assert stat.S_IMODE(option_file.stat().st_mode) == 0o600
    assert deployment.admin["password"] not in result.stdout + result.stderr


@pytest.mark.slow
def test_without_the_app_user_the_bootstrap_fails_and_shows_no_password(
    tmp_path, mariadb, secretsmanager, aws_environment
):
    # The instance no longer creates the user: should AppUser not have made it, the bootstrap
    # (and with it the instance's signal) fails instead of a demo that cannot log in.
    deployment = deploy(
        MULTI_USER,
        tmp_path,
        mariadb,
        secretsmanager,
        aws_environment,
        AdminUsername="loneadmin",
        DatabaseName="lonedb",
        AppUsername="loneuser",
    )
    result = deployment.run_bootstrap(instant_retries=True)
    assert result.returncode != 0
    assert "loneadmin@" in result.stdout, "the admin login still worked"
    assert "Could not log in to the database with" in result.stderr
    assert "app.cnf" in result.stderr
    assert deployment.app["password"] not in result.stdout + result.stderr
    with mariadb.root() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT User FROM mysql.user WHERE User = 'loneuser'")
        assert cursor.fetchall() == (), "the instance must not create the user"
        cursor.execute("SHOW DATABASES LIKE 'lonedb'")
        assert cursor.fetchall() == (), "nor the schema"


# ------------------------------------------------------------------ TLS only
def test_the_server_refuses_plaintext_as_aurora_does_with_require_secure_transport(
    mariadb, multi_user
):
    with pytest.raises(pymysql.err.OperationalError) as refused:
        mariadb.login(multi_user.admin["username"], multi_user.admin["password"], tls=False)
    assert refused.value.args[0] in INSECURE_TRANSPORT, refused.value.args
    # The same credentials over verified TLS work: the transport, not the password, was refused.
    admin = mariadb.login(multi_user.admin["username"], multi_user.admin["password"])
    with admin as connection, connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cursor.fetchone()[1], "the verified login is encrypted"


def test_with_the_ca_bundle_the_option_files_verify_the_server(multi_user):
    bundle = multi_user.root / CA_BUNDLE
    for name in ("admin.cnf", "app.cnf"):
        lines = (multi_user.root / CREDENTIALS / name).read_text().splitlines()
        assert lines[-3:] == ["ssl", f'ssl-ca="{bundle}"', "ssl-verify-server-cert"], name


def test_a_server_the_bundle_does_not_vouch_for_is_refused(
    tmp_path, mariadb, secretsmanager, aws_environment
):
    stranger = ServerCertificate.issue(tmp_path)  # a CA that did not sign the server
    deployment = deploy(
        SINGLE_USER,
        tmp_path / "instance",
        mariadb,
        secretsmanager,
        aws_environment,
        ca_bundle=stranger.ca_file,
        AdminUsername="strangeca",
    )
    result = deployment.run_bootstrap(instant_retries=True)
    assert result.returncode != 0
    assert "certificate" in result.stderr.lower(), result.stderr
    assert "Could not log in" in result.stderr
    assert deployment.admin["password"] not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def plain_mariadb(mariadb, tmp_path_factory) -> Iterator[MariaDB]:
    """A server that offers no TLS at all, shared by the refusals below. It asks for `mariadb`
    (the session's server, running anyway) so that without MariaDB they skip before moto starts."""
    with running_mariadb(tmp_path_factory.mktemp("plain"), certificate=None) as plain:
        yield plain


@pytest.fixture(params=[None, "test CA"], ids=["no-bundle", "bundle"])
def ca_bundle(request, server_certificate) -> Path | None:
    """Where the instance holds the RDS CA bundle: nothing, or the CA of the tests' servers."""
    return server_certificate.ca_file if request.param else None


def test_the_bootstrap_refuses_a_server_without_tls(
    tmp_path, plain_mariadb, secretsmanager, aws_environment, ca_bundle
):
    deployment = deploy(
        SINGLE_USER,
        tmp_path / "instance",
        plain_mariadb,
        secretsmanager,
        aws_environment,
        ca_bundle=ca_bundle,
        AdminUsername="withbundle" if ca_bundle else "nobundle",  # one server, two masters
    )
    result = deployment.run_bootstrap(instant_retries=True)
    assert result.returncode != 0
    if ca_bundle:  # the client itself refuses before sending anything
        assert "SSL is required" in result.stderr, result.stderr
    else:  # the client fell back; the bootstrap notices and stops
        assert "is not encrypted" in result.stderr, result.stderr
    assert deployment.admin["password"] not in result.stdout + result.stderr
