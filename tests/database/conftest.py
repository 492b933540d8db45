"""A real MariaDB server and a real moto server for the database tests.

MariaDB starts from a fresh data directory (a copy of one mariadb-install-db made once per
machine and MariaDB build, kept in the temporary directory) and listens on 127.0.0.1 at a free
port. Like an Aurora cluster with require_secure_transport ON, it refuses TCP connections without
TLS; its certificate comes from a CA the tests make (trustme). moto_server plays Secrets Manager
for the bootstrap's own AWS CLI calls. Without a MariaDB server or client the tests skip (with a
summary line), except in CI (CI=true), where that is a failure. MARIADB_BIN_DIRS replaces the
directories searched for the MariaDB programs.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pymysql
import pytest
import trustme

from tests.helpers.local_servers import NO_MARIADB, free_port, stop

PROGRAM_DIRECTORIES = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")
SERVER_NAMES = ("mariadbd", "mysqld")
INSTALL_DB_NAMES = ("mariadb-install-db", "mysql_install_db")
CLIENT_NAMES = ("mariadb", "mysql")
START_TIMEOUT = 120  # a hang guard: the wait ends as soon as the server answers
REGION = "us-east-1"
# Small InnoDB files, for the install and every server alike: the default 96 MiB redo log made
# each test server's data directory a 114 MiB copy (22 MiB with these).
INNODB_OPTIONS = ("--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M")

# What Aurora MySQL 3 grants its master user (Amazon Aurora User Guide, "Master user account
# privileges"), in MariaDB's names, WITH GRANT OPTION. Aurora also grants CREATE ROLE, DROP ROLE
# and MySQL 8 dynamic privileges (APPLICATION_PASSWORD_ADMIN, CONNECTION_ADMIN, ROLE_ADMIN,
# SET_USER_ID, XA_RECOVER_ADMIN, SHOW_ROUTINE, FLUSH_*) that MariaDB does not name that way; none
# of them takes part in creating, granting or cloning a user. No SUPER, FILE or SHUTDOWN.
AURORA_MASTER_PRIVILEGES = (
    "ALTER",
    "ALTER ROUTINE",
    "CREATE",
    "CREATE ROUTINE",
    "CREATE TEMPORARY TABLES",
    "CREATE USER",
    "CREATE VIEW",
    "DELETE",
    "DROP",
    "EVENT",
    "EXECUTE",
    "INDEX",
    "INSERT",
    "LOCK TABLES",
    "PROCESS",
    "REFERENCES",
    "RELOAD",
    "REPLICATION CLIENT",
    "REPLICATION SLAVE",
    "SELECT",
    "SHOW DATABASES",
    "SHOW VIEW",
    "TRIGGER",
    "UPDATE",
)


def find_program(names: tuple[str, ...]) -> str | None:
    """PATH and the usual directories, or only MARIADB_BIN_DIRS (colon-separated) when it is set."""
    override = os.environ.get("MARIADB_BIN_DIRS")
    for name in names:
        found = None if override else shutil.which(name)
        if found:
            return found
        for directory in override.split(":") if override else PROGRAM_DIRECTORIES:
            candidate = Path(directory) / name
            if directory and candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def skip_or_fail(message: str) -> None:
    """Skip locally (tests/conftest.py prints one summary line); fail under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} CI must run the database tests.")
    pytest.skip(message)


@dataclass(frozen=True)
class ServerCertificate:
    """PEM files of a test CA and the server certificate it issued (for 127.0.0.1 by default)."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def issue(
        cls,
        directory: Path,
        authority: trustme.CA | None = None,
        names: tuple[str, ...] = ("127.0.0.1", "localhost"),
    ) -> ServerCertificate:
        """`names`: the host names (and addresses) the certificate is issued to."""
        authority = authority or trustme.CA()
        server = authority.issue_cert(*names)
        files = cls(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
        authority.cert_pem.write_to_path(str(files.ca_file))
        server.cert_chain_pems[0].write_to_path(str(files.cert_file))
        server.private_key_pem.write_to_path(str(files.key_file))
        return files


@dataclass(frozen=True)
class MariaDB:
    """A running server: root over its socket, everyone else over TCP like on Aurora (with TLS,
    verified against the test CA, when the server has a certificate)."""

    port: int
    socket_path: Path
    client: str
    error_log: Path
    certificate: ServerCertificate | None = None

    def root(self) -> pymysql.Connection:
        return pymysql.connect(unix_socket=str(self.socket_path), user="root", autocommit=True)

    def login(
        self, user: str, password: str, database: str | None = None, *, tls: bool = True
    ) -> pymysql.Connection:
        # The hosted rotation functions pass {"ca": ...}: PyMySQL then verifies the chain and the
        # host name. tls=False is a client that never asks for TLS, as the hosted functions'
        # plaintext fallback (PyMySQL 1.0.2, ssl=None) does; newer PyMySQL needs ssl_disabled.
        ssl = {"ca": str(self.certificate.ca_file)} if tls and self.certificate else None
        return pymysql.connect(
            ssl_disabled=not tls,
            host="127.0.0.1",
            port=self.port,
            user=user,
            password=password,
            database=database,
            autocommit=True,
            connect_timeout=5,
            ssl=ssl,
        )

    def create_aurora_master(self, username: str, password: str) -> None:
        """A user with the privileges Aurora MySQL 3 gives its master user."""
        with self.root() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (username, password))
            cursor.execute(
                f"GRANT {', '.join(AURORA_MASTER_PRIVILEGES)} ON *.* TO %s@'%%' WITH GRANT OPTION",
                (username,),
            )


def wait_for_server(server: subprocess.Popen, socket_path: Path, error_log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            pymysql.connect(unix_socket=str(socket_path), user="root", connect_timeout=1).close()
            return
        except pymysql.err.OperationalError:
            log = error_log.read_text() if error_log.exists() else ""
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"MariaDB did not start; its error log ends:\n{log[-2000:]}")
            time.sleep(0.1)


def mariadb_programs() -> dict[str, str]:
    programs = {
        "server": find_program(SERVER_NAMES),
        "install-db": find_program(INSTALL_DB_NAMES),
        "client": find_program(CLIENT_NAMES),
    }
    missing = [role for role, path in programs.items() if path is None]
    if missing:
        skip_or_fail(
            f"{NO_MARIADB} ({' or '.join(missing)} program not found). Run "
            "scripts/ensure_mariadb.sh as root (make test does) or install mariadb-server and "
            "mariadb-client."
        )
    return programs


def tls_options(certificate: ServerCertificate | None) -> list[str]:
    """Aurora with require_secure_transport ON: TLS offered, plaintext TCP refused; without a
    certificate, a server that offers no TLS at all."""
    if certificate is None:
        return ["--skip-ssl"]
    return [
        f"--ssl-ca={certificate.ca_file}",
        f"--ssl-cert={certificate.cert_file}",
        f"--ssl-key={certificate.key_file}",
        "--require-secure-transport=ON",
    ]


def initial_datadir(programs: dict[str, str]) -> Path:
    """A data directory as mariadb-install-db leaves it, made once per machine, user and MariaDB
    build (it takes seconds; a copy takes a fraction of one). One maker at a time (a file lock):
    mariadb-install-db runs side by side sometimes fail, as pytest-xdist's workers of a fresh
    clone's first run made them."""
    server = Path(programs["server"]).stat()
    build = f"{programs['server']}:{server.st_size}:{server.st_mtime_ns}:{programs['install-db']}"
    build += ":" + " ".join(INNODB_OPTIONS)
    user = getpass.getuser()
    key = hashlib.sha256(build.encode()).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / f"rotation-toolkit-mariadb-{user}-{key}"
    if cached.is_dir():
        return cached
    with open(cached.with_name(f"{cached.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if cached.is_dir():  # made while this process waited
            return cached
        building = Path(tempfile.mkdtemp(prefix=f"{cached.name}.building-", dir=cached.parent))
        subprocess.run(
            [
                programs["install-db"],
                "--no-defaults",
                f"--user={user}",
                f"--datadir={building / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *INNODB_OPTIONS,
            ],
            check=True,
            capture_output=True,
        )
        (building / "data").rename(cached)  # whole or not at all, for the next reader
        shutil.rmtree(building, ignore_errors=True)
    return cached


@contextlib.contextmanager
def running_mariadb(base: Path, certificate: ServerCertificate | None) -> Iterator[MariaDB]:
    """A fresh server in `base`, stopped on exit."""
    programs = mariadb_programs()
    datadir, socket_path, error_log = base / "data", base / "mysqld.sock", base / "error.log"
    user = getpass.getuser()
    shutil.copytree(initial_datadir(programs), datadir, symlinks=True)
    port = free_port()
    server = subprocess.Popen(
        [
            programs["server"],
            "--no-defaults",
            f"--user={user}",
            f"--datadir={datadir}",
            f"--socket={socket_path}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            f"--pid-file={base / 'mysqld.pid'}",
            f"--log-error={error_log}",
            *INNODB_OPTIONS,
            *tls_options(certificate),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_server(server, socket_path, error_log)
        instance = MariaDB(port, socket_path, programs["client"], error_log, certificate)
        with instance.root() as connection, connection.cursor() as cursor:
            # Anonymous accounts would match logins meant for the test users.
            cursor.execute("SELECT User, Host FROM mysql.user WHERE User = ''")
            for user_name, host in cursor.fetchall():
                cursor.execute("DROP USER %s@%s", (user_name, host))
        yield instance
    finally:
        stop(server)


@pytest.fixture(scope="session")
def server_certificate(tmp_path_factory) -> ServerCertificate:
    return ServerCertificate.issue(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory, server_certificate) -> Iterator[MariaDB]:
    """The database every test uses: TLS required, like the templates' clusters by default."""
    with running_mariadb(tmp_path_factory.mktemp("mariadb"), server_certificate) as instance:
        yield instance


@pytest.fixture(scope="session")
def aws_environment(moto_endpoint, tmp_path_factory) -> dict[str, str]:
    """Environment for the bootstrap's `aws` calls: the project's AWS CLI, pointed at moto."""
    home = tmp_path_factory.mktemp("home")
    return {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "HOME": str(home),
    }


@pytest.fixture(scope="session")
def secretsmanager(aws_environment):
    return boto3.client(
        "secretsmanager",
        region_name=REGION,
        endpoint_url=aws_environment["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
