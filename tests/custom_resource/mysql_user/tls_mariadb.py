"""A real MariaDB server that requires TLS, for Custom::MySQLUser: the database tests' server
(tests/database/conftest.py: start-up, anonymous users dropped, the Aurora master's grants) with a
certificate from this folder's own CA, and SQL helpers for what the tests check.

The server's certificate comes from its own trustme CA, so the function must be pointed at that
CA (TlsCaFile) to connect; the receiver's CA, which SSL_CERT_FILE names, does not vouch for it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymysql
import trustme

from tests.database.conftest import MariaDB, ServerCertificate
from tests.database.conftest import running_mariadb as database_server


@dataclass
class TlsMariaDB:
    server: MariaDB
    ca_file: Path  # the CA that signed the server's certificate
    tls: bool
    admin_password: str = ""
    # query()'s root connection, kept for the server's life: a connection per query (hundreds
    # per run) cost more CPU, here and in the server, than the queries themselves.
    _connection: pymysql.Connection | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        """One statement as root (autocommit), on the kept connection (made again if lost)."""
        with self._lock:
            if self._connection is None or not _alive(self._connection):
                self._connection = self.root()
            with self._connection.cursor() as cursor:
                cursor.execute(statement, args)
                return list(cursor.fetchall())

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def users(self) -> set[str]:
        return {user for (user,) in self.query("SELECT User FROM mysql.user WHERE Host = '%%'")}

    def grants(self, user: str) -> set[str]:
        """SHOW GRANTS of user@'%', without the USAGE line that only says the user exists."""
        lines = {line for (line,) in self.query("SHOW GRANTS FOR %s@'%%'", (user,))}
        return {line for line in lines if not line.startswith("GRANT USAGE ON *.*")}


def _alive(connection: pymysql.Connection) -> bool:
    try:
        connection.ping(reconnect=False)
    except pymysql.err.Error:
        return False
    return True


@contextlib.contextmanager
def running_mariadb(
    base: Path,
    ca: trustme.CA,
    *,
    tls: bool = True,
    names: tuple[str, ...] = ("127.0.0.1", "localhost"),
) -> Iterator[TlsMariaDB]:
    """A fresh server in `base` whose certificate `ca` issued to `names`; with `tls`, TLS is
    required on every TCP connection, without it the server offers no TLS at all."""
    certificate = ServerCertificate.issue(base, ca, names)
    with database_server(base, certificate if tls else None) as server:
        instance = TlsMariaDB(server, certificate.ca_file, tls)
        try:
            yield instance
        finally:
            instance.close()


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a database that is not
    reachable in the MySQL sense (a security group dropping packets looks the same to a client
    once its connect timeout runs out)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]
