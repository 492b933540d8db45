"""A TLS-only, time-bounded connection to the MySQL server as the admin user.

The server's certificate is verified against a CA bundle and its name against the host; a server
that does not offer TLS is refused before the password is sent. Every failure becomes a
RequestRejected naming the likely fix; the password never appears in it.
"""

import os
import socket
import ssl
from dataclasses import dataclass

import pymysql
from cfn_one_shot.reasons import RequestRejected, quoted
from pymysql.constants import CR, ER

MIN_TIMEOUT_S = 0.5
CONNECT_TIMEOUT_S = 10.0
# No (complete) greeting from the server: a TCP connect that hangs or a handshake that times out.
_NO_ANSWER = (
    CR.CR_CONN_HOST_ERROR,
    CR.CR_CONNECTION_ERROR,
    CR.CR_SERVER_LOST,
    CR.CR_SERVER_GONE_ERROR,
)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class DatabaseUnreachable(RequestRejected):
    """Nothing answered at the endpoint: on Delete the database may simply be gone."""


TASK_ROOT = os.path.dirname(os.path.abspath(__file__))  # /var/task: where the zip is unpacked


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Verifies the chain against `ca_file` (relative: a file shipped in the zip) and the name."""
    ca_file = os.path.join(TASK_ROOT, ca_file)  # an absolute ca_file stays as it is
    if not os.path.isfile(ca_file):
        raise RequestRejected(
            f"TlsCaFile {quoted(ca_file)} does not exist in the function: name a CA bundle file "
            "shipped in the zip (default rds-ca-bundle.pem: run 'make build') or an absolute path."
        )
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (ssl.SSLError, OSError) as error:
        raise RequestRejected(
            f"TlsCaFile {quoted(ca_file)} is not a PEM CA bundle ({type(error).__name__})."
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The defaults of create_default_context, stated: a certificate from a trusted CA issued to
    # another endpoint must be refused too (PyMySQL passes the host as server_hostname).
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def connect(endpoint: Endpoint, user: str, password: str, ca_file: str, deadlines):
    """An autocommit pymysql connection over verified TLS, or RequestRejected; it starts only
    before `deadlines.work` (the request's Deadlines) and each wait ends by then."""
    context = tls_context(ca_file)
    remaining = deadlines.left(deadlines.work)
    if remaining < MIN_TIMEOUT_S:
        raise RequestRejected(
            f"No time left to connect to {endpoint}: raise this function's Timeout and retry."
        )
    try:
        connection = pymysql.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=user,
            password=password,
            ssl=context,  # an SSLContext makes TLS required: pymysql refuses a server without it
            connect_timeout=min(CONNECT_TIMEOUT_S, remaining),
            read_timeout=remaining,
            write_timeout=remaining,
            autocommit=True,
            charset="utf8mb4",
        )
    except pymysql.err.MySQLError as error:  # never its text in a reason: a code and the fix
        raise _connect_failure(endpoint, user, ca_file, error) from None
    if not isinstance(connection._sock, ssl.SSLSocket):
        connection.close()
        raise RequestRejected(f"The connection to {endpoint} is not encrypted; refusing to use it.")
    return connection


def _connect_failure(endpoint, user, ca_file, error) -> RequestRejected:  # noqa: PLR0911 - a reason per cause
    code = error.args[0] if error.args and isinstance(error.args[0], int) else 0
    cause = getattr(error, "original_exception", None)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return RequestRejected(
            f"TLS refused: the certificate of {endpoint} is not trusted by TlsCaFile "
            f"{quoted(ca_file)} or does not name the host ({cause.verify_message}). Use the "
            "cluster endpoint as Host and a CA bundle with the RDS root CAs."
        )
    if isinstance(cause, ssl.SSLError) or code == CR.CR_SSL_CONNECTION_ERROR:
        return RequestRejected(
            f"TLS refused: {endpoint} did not complete a TLS handshake. The resource never "
            "connects without TLS: enable TLS on the server (Aurora always offers it)."
        )
    if isinstance(cause, ConnectionRefusedError):
        return DatabaseUnreachable(
            f"Connection refused at {endpoint}: nothing listens there. Check Host and Port "
            "(or the secret's host/port) against the cluster endpoint."
        )
    if isinstance(cause, socket.gaierror):
        return DatabaseUnreachable(
            f"Host {quoted(endpoint.host)} does not resolve: check Host (or the secret's host), "
            "and that the VPC has DNS resolution enabled."
        )
    if cause is not None or code in _NO_ANSWER:
        return DatabaseUnreachable(
            f"Database unreachable: no answer from {endpoint} in time. Put this function in "
            "subnets that route to the cluster and allow port "
            f"{endpoint.port} from its security group in the cluster's security group."
        )
    if code in (ER.ACCESS_DENIED_ERROR, ER.DBACCESS_DENIED_ERROR):
        return RequestRejected(
            f"Login refused for admin user {quoted(user)} at {endpoint}: the admin secret's "
            "username or password does not match the database (was it rotated elsewhere?)."
        )
    return RequestRejected(
        f"Connecting to {endpoint} as {quoted(user)} failed: MySQL error {code}."
    )
