"""A real MariaDB server that requires TLS, for Custom::MySQLUser, built on the database tests'
helpers (tests/database/conftest.py): program lookup, start-up wait, the Aurora master's grants.

The server's certificate comes from its own trustme CA, so the function must be pointed at that
CA (TlsCaFile) to connect; the receiver's CA, which SSL_CERT_FILE names, does not vouch for it.
"""

from __future__ import annotations

import contextlib
import getpass
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import trustme

from tests.database.conftest import (
    CLIENT_NAMES,
    INSTALL_DB_NAMES,
    SERVER_NAMES,
    MariaDB,
    find_program,
    skip_or_fail,
    wait_for_server,
)
from tests.helpers.local_servers import free_port


@dataclass
class TlsMariaDB:
    server: MariaDB
    ca_file: Path  # the CA that signed the server's certificate
    tls: bool
    admin_password: str = ""

    @property
    def port(self) -> int:
        return self.server.port

    def root(self) -> pymysql.Connection:
        return self.server.root()

    def login(self, user: str, password: str) -> pymysql.Connection:
        """A TCP login over verified TLS, as an application would make it."""
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user=user,
            password=password,
            ssl_ca=str(self.ca_file),
            ssl_verify_identity=True,
            autocommit=True,
            connect_timeout=5,
        )

    def query(self, statement: str, args: tuple = ()) -> list[tuple]:
        with self.root() as connection, connection.cursor() as cursor:
            cursor.execute(statement, args)
            return list(cursor.fetchall())

    def users(self) -> set[str]:
        return {user for (user,) in self.query("SELECT User FROM mysql.user WHERE Host = '%%'")}

    def grants(self, user: str) -> set[str]:
        """SHOW GRANTS of user@'%', without the USAGE line that only says the user exists."""
        lines = {line for (line,) in self.query("SHOW GRANTS FOR %s@'%%'", (user,))}
        return {line for line in lines if not line.startswith("GRANT USAGE ON *.*")}


def server_certificate(ca: trustme.CA, directory: Path) -> dict[str, Path]:
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    files = {
        "ca": directory / "db-ca.pem",
        "cert": directory / "db-server.pem",
        "key": directory / "db-server.key",
    }
    ca.cert_pem.write_to_path(str(files["ca"]))
    certificate.cert_chain_pems[0].write_to_path(str(files["cert"]))
    certificate.private_key_pem.write_to_path(str(files["key"]))
    return files


@contextlib.contextmanager
def running_mariadb(base: Path, ca: trustme.CA, *, tls: bool = True) -> Iterator[TlsMariaDB]:
    """A fresh server in `base`; with `tls`, TLS is required on every TCP connection."""
    programs = {
        "server": find_program(SERVER_NAMES),
        "install-db": find_program(INSTALL_DB_NAMES),
        "client": find_program(CLIENT_NAMES),
    }
    if None in programs.values():
        skip_or_fail("No MariaDB server programs found. Run scripts/ensure_mariadb.sh.")
    datadir, socket_path, error_log = base / "data", base / "mysqld.sock", base / "error.log"
    user = getpass.getuser()
    subprocess.run(
        [
            programs["install-db"],
            "--no-defaults",
            f"--user={user}",
            f"--datadir={datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    certificate = server_certificate(ca, base)
    tls_options = (
        [
            f"--ssl-ca={certificate['ca']}",
            f"--ssl-cert={certificate['cert']}",
            f"--ssl-key={certificate['key']}",
            "--require-secure-transport=ON",
        ]
        if tls
        else ["--skip-ssl"]
    )
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
            "--innodb-buffer-pool-size=16M",
            *tls_options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_server(server, socket_path, error_log)
        instance = TlsMariaDB(
            MariaDB(port, socket_path, programs["client"], error_log), certificate["ca"], tls
        )
        for user_name, host in instance.query("SELECT User, Host FROM mysql.user WHERE User = ''"):
            instance.query("DROP USER %s@%s", (user_name, host))
        yield instance
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a database that is not
    reachable in the MySQL sense (a security group dropping packets looks the same to a client
    once its connect timeout runs out)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]
