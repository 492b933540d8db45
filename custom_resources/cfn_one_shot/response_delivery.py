"""Delivery of the one response body to CloudFormation's presigned URL, bounded by a deadline.

Replaces crhelper's utils._send_response, whose sockets have no timeout and whose retry loop never
ends: here every blocking step of an attempt (connect, TLS handshake, send, each read of the reply)
waits at most for the time left before the deadline, so an endpoint that trickles its reply a byte
at a time cannot hold an attempt past it; retries stop at the deadline, and a 4xx (an expired or
wrong URL) stops at once. The URL itself is never logged: its query string is a credential.
"""

import io
import json
import logging
import socket
import ssl
from http.client import HTTPException, HTTPSConnection
from urllib.parse import urlsplit

from cfn_one_shot.reasons import TRUNCATION_MARK
from cfn_one_shot.time_budget import MONOTONIC

logger = logging.getLogger(__name__)

BODY_LIMIT = 4096  # bytes CloudFormation accepts
ATTEMPT_TIMEOUT_S = 5.0
FIRST_DELAY_S, MAX_DELAY_S = 0.25, 2.0
# Shortened when a body would exceed BODY_LIMIT: the reason first, then the largest of the
# identifiers echoed from the request (only a malformed request makes those long).
_ECHOED = ("PhysicalResourceId", "LogicalResourceId", "StackId", "RequestId")


def encode_body(body: dict) -> bytes:
    """`body` as JSON within BODY_LIMIT bytes, shortening the fields that can give way."""
    body = dict(body)
    encoded = _encode(body)
    largest_first = sorted(_ECHOED, key=lambda field: -len(_encode(body.get(field, ""))))
    for field in ("Reason", *largest_first):
        if len(encoded) <= BODY_LIMIT:
            break
        body[field] = _longest_fitting_prefix(body, field)
        encoded = _encode(body)
    return encoded


def _encode(body: object) -> bytes:
    return json.dumps(body, default=str).encode()


def _longest_fitting_prefix(body: dict, field: str) -> str:
    text = str(body.get(field, ""))
    low, high = 0, len(text)  # binary search on the kept length; JSON escaping makes sizes uneven
    while low < high:
        keep = (low + high + 1) // 2
        if len(_encode({**body, field: text[:keep] + TRUNCATION_MARK})) <= BODY_LIMIT:
            low = keep
        else:
            high = keep - 1
    return text[:low] + TRUNCATION_MARK if low < len(text) else text


def put_response(url: str, body: bytes, deadline: float, clock=MONOTONIC) -> bool:
    """PUT `body` to `url` until a 2xx, a 4xx or `deadline` (on `clock`); True if delivered."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    tls = ssl.create_default_context()
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    attempt, delay = 0, FIRST_DELAY_S
    while True:
        attempt += 1
        if deadline - clock.now() <= 0:
            logger.error("Response not delivered: no time left after %d attempts", attempt - 1)
            return False
        connection = _BoundedConnection(parts.netloc, tls, deadline, clock)
        try:
            connection.request("PUT", target, body=body, headers=headers)
            status = connection.getresponse().status
        except (OSError, HTTPException) as error:
            outcome = f"{type(error).__name__}: {error}"
        else:
            if 200 <= status < 300:
                logger.info("Response delivered (HTTP %d, attempt %d)", status, attempt)
                return True
            if status < 500 and status not in (408, 429):
                logger.error(
                    "Response refused with HTTP %d: the presigned URL is wrong or expired", status
                )
                return False
            outcome = f"HTTP {status}"
        finally:
            connection.close()
        pause = min(delay, deadline - clock.now())
        logger.warning(
            "Response attempt %d failed (%s); retrying in %.2f s", attempt, outcome, max(pause, 0)
        )
        clock.sleep(pause)
        delay = min(delay * 2, MAX_DELAY_S)


class _BoundedConnection(HTTPSConnection):
    """An HTTPS connection whose every blocking step waits at most ATTEMPT_TIMEOUT_S and never
    past `deadline` (a socket timeout alone bounds each step, not their sum)."""

    def __init__(self, netloc: str, tls: ssl.SSLContext, deadline: float, clock) -> None:
        super().__init__(netloc)
        self._tls, self._deadline, self._clock = tls, deadline, clock

    def time_left(self) -> float:
        left = min(ATTEMPT_TIMEOUT_S, self._deadline - self._clock.now())
        if left <= 0:
            raise TimeoutError("the response deadline passed during the attempt")
        return self._clock.io_timeout(left)

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.time_left())
        try:
            raw.settimeout(self.time_left())  # the TLS handshake: one bound for all of it
            self.sock = _BoundedSocket(
                self._tls.wrap_socket(raw, server_hostname=self.host), self.time_left
            )
        except BaseException:
            raw.close()
            raise


class _BoundedSocket(io.RawIOBase):
    """The TLS socket as http.client uses it (sendall, makefile, close), each call's timeout set
    from the time left. It is also the raw stream the reply is read from: one reply per socket."""

    def __init__(self, tls_socket: ssl.SSLSocket, time_left) -> None:
        super().__init__()
        self._socket, self._time_left = tls_socket, time_left

    def sendall(self, data: bytes) -> None:
        self._socket.settimeout(self._time_left())
        self._socket.sendall(data)

    def makefile(self, _mode: str = "rb") -> io.BufferedReader:
        return io.BufferedReader(self)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._socket.settimeout(self._time_left())
        return self._socket.recv_into(buffer)

    def close(self) -> None:
        super().close()
        self._socket.close()
