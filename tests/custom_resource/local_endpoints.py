"""Real local stand-ins for what the role-lookup function talks to, shared by tests and bench.

- ResponseReceiver: an HTTPS server on 127.0.0.1 with a trustme certificate that records the
  response PUTs CloudFormation would read from its presigned S3 URL.
- LambdaApiFaults: an HTTP hop in front of an AWS API (Lambda, Secrets Manager) that answers
  scripted errors (429 throttling, 403 access denied, 5xx) and forwards everything else.
- LambdaContext: the runtime context's clock (get_remaining_time_in_millis), on a time_budget
  clock (the tests' VirtualClock; without one, time.monotonic, as in Lambda).
"""

import http.client
import io
import json
import socket
import ssl
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/app-db/8a1c6f30-2b1e-11f0-9c3b-0a1b2c3d4e5f"
)
SERVICE_TOKEN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-db-role-lookup"
# Stands for the presigned URL's credential: it must never show up in a log.
URL_SIGNATURE = "X-Amz-Signature=5ec7e75ec7e75ec7e7"
AWS_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}
# Set on a developer's machine, never in the function's environment.
UNSET_FOR_THE_FUNCTION = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "LOG_LEVEL")


class LambdaContext:
    """The Lambda runtime's context object, as far as a custom resource uses it."""

    def __init__(
        self, seconds: float, clock=None, function_name: str = "app-db-role-lookup"
    ) -> None:
        self.clock = clock
        self._now = clock.now if clock is not None else time.monotonic
        self.deadline = self._now() + seconds
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = "128"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self._now()) * 1000))


def cloudformation_event(
    request_type: str,
    response_url: str,
    properties: dict | None = None,
    *,
    physical_id: str | None = None,
    old_properties: dict | None = None,
    logical_id: str = "AppRotationRole",
) -> dict:
    """A request shaped like the ones CloudFormation sends to a Lambda-backed custom resource."""
    event = {
        "RequestType": request_type,
        "ServiceToken": SERVICE_TOKEN,
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": "Custom::LambdaRoleLookup",
        "ResourceProperties": {"ServiceToken": SERVICE_TOKEN, **(properties or {})},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = {"ServiceToken": SERVICE_TOKEN, **old_properties}
    return event


@dataclass(frozen=True)
class ReceivedPut:
    path: str
    headers: dict
    body: bytes
    at: float  # when it arrived, on the receiver's clock

    @property
    def document(self) -> dict:
        return json.loads(self.body)


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *_args):  # keep test output quiet
        pass


# How often the serving loop looks for close(): close() waits for that look (socketserver's
# default, half a second, made each package teardown wait a second for two servers).
POLL_INTERVAL_S = 0.05


class LoopbackServer:
    """A threaded HTTP(S) server on 127.0.0.1, serving from a daemon thread until closed."""

    def __init__(self, handler_class: type[BaseHTTPRequestHandler], tls=None) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL_S,), daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc_info) -> None:
        self.close()


class ResponseReceiver(LoopbackServer):
    """HTTPS server on loopback recording PUTs; answers queued statuses first, then 200. `clock`
    stamps each arrival (a test sets the clock its function runs on)."""

    def __init__(self, ca: trustme.CA) -> None:
        self.clock = None  # a test sets its VirtualClock; time.monotonic without one
        self.real_delay_s = 0.0  # how long each answer takes, in real seconds
        self.trickle_s = (
            0.0  # if set, the answer goes a byte at a time, the clock moved before each
        )
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._puts: list[ReceivedPut] = []
        self._statuses: deque[int] = deque()
        self.first_put = threading.Event()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(tls)
        super().__init__(self._handler_class(), tls)

    def _handler_class(self):
        receiver = self

        class Handler(QuietHandler):
            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver._record(
                    ReceivedPut(self.path, dict(self.headers), body, receiver.now())
                )
                time.sleep(receiver.real_delay_s)  # a slow or busy endpoint, in real time
                if receiver.trickle_s:
                    receiver.trickle(self.wfile, status)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def _record(self, put: ReceivedPut) -> int:
        with self._arrived:
            self._puts.append(put)
            self.first_put.set()
            self._arrived.notify_all()
            return self._statuses.popleft() if self._statuses else 200

    def now(self) -> float:
        return self.clock.now() if self.clock is not None else time.monotonic()

    def trickle(self, stream, status: int) -> None:
        """An endpoint that sends each byte of its answer alone, trickle_s apart on the clock,
        until the client hangs up."""
        for byte in f"HTTP/1.1 {status} OK\r\nContent-Length: 0\r\n\r\n".encode():
            self.clock.advance(self.trickle_s)
            try:
                stream.write(bytes([byte]))
                stream.flush()
            except OSError:  # the client gave up
                return

    def url(self, token: str = "") -> str:
        token = token or uuid.uuid4().hex
        return (
            f"https://127.0.0.1:{self.port}/cloudformation-custom-resource-response/{token}"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&{URL_SIGNATURE}"
        )

    def answer_next(self, *statuses: int) -> None:
        with self._lock:
            self._statuses.extend(statuses)

    def puts(self, token: str | None = None) -> list[ReceivedPut]:
        with self._lock:
            return [p for p in self._puts if token is None or f"/{token}?" in p.path]

    def wait_for_puts(self, count: int, timeout: float) -> list[ReceivedPut]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._puts) >= count, timeout)
            return list(self._puts)

    def reset(self) -> None:
        with self._lock:
            self._puts.clear()
            self._statuses.clear()
            self.first_put.clear()
            self.real_delay_s = self.trickle_s = 0.0


class ConnectionCounter:
    """A TCP listener on loopback that counts the connections made to it and closes each at once:
    the place to point URLs that must never be answered, so that any attempt is seen whatever
    the protocol (plain HTTP, TLS) the function would try."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            with self._lock:
                self._count += 1
            connection.close()

    @property
    def connections(self) -> int:
        with self._lock:
            return self._count

    def close(self) -> None:
        self._listener.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc_info) -> None:
        self.close()


def write_ca_bundle(ca: trustme.CA, directory: Path) -> Path:
    """The CA file to point SSL_CERT_FILE at, so the function trusts the receiver."""
    path = directory / "loopback-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def function_zip() -> bytes:
    """A deployment package for the rotation function stand-in (never invoked)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def create_rotation_function(iam, lambda_client, name: str, role_path="/service-role/rotation/"):
    """An IAM role (with a path) and a function using it; returns (function_arn, role_arn)."""
    role_name = f"{name}-role"[:64]
    try:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role_arn = iam.create_role(
            RoleName=role_name,
            Path=role_path,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
    function = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": function_zip()},
    )
    return function["FunctionArn"], role_arn


# How long a stalled request waits for its release before the hop gives up (a hang guard).
STALL_LIMIT_S = 60.0


@dataclass
class _Fault:
    status: int  # 0: forward upstream (once `until` is set, if any); -1: hang up, no answer
    error_type: str = ""
    message: str = ""
    until: threading.Event | None = None


class LambdaApiFaults(LoopbackServer):
    """An HTTP hop in front of a Lambda API: scripted error replies first, then forwarding."""

    def __init__(self, upstream_url: str) -> None:
        self._upstream = upstream_url.removeprefix("http://")
        self._lock = threading.Lock()
        self._faults: deque[_Fault] = deque()
        self._always: _Fault | None = None
        self._arrived = threading.Condition(self._lock)
        self.requests = 0
        super().__init__(self._handler_class())
        self.url = f"http://127.0.0.1:{self.port}"

    def fail_next(self, count: int, status: int, error_type: str, message: str) -> None:
        with self._lock:
            self._faults.extend(_Fault(status, error_type, message) for _ in range(count))

    def hang_up_next(self, count: int) -> None:
        """Close the connection without an answer on the next `count` requests (botocore: a
        ConnectionClosedError, a BotoCoreError)."""
        with self._lock:
            self._faults.extend(_Fault(-1) for _ in range(count))

    def stall_next(self, count: int, until: threading.Event) -> None:
        """Forward the next `count` requests only once `until` is set (a stalled API)."""
        with self._lock:
            self._faults.extend(_Fault(0, until=until) for _ in range(count))

    def fail_always(self, status: int, error_type: str, message: str) -> None:
        with self._lock:
            self._always = _Fault(status, error_type, message)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._always = None
            self.requests = 0

    def wait_for_requests(self, count: int, timeout: float = 60.0) -> None:
        """Until `count` requests have reached the hop (a hang guard, not a speed bound)."""
        with self._arrived:
            assert self._arrived.wait_for(lambda: self.requests >= count, timeout)

    def _next_fault(self) -> _Fault | None:
        with self._arrived:
            self.requests += 1
            self._arrived.notify_all()
            return self._faults.popleft() if self._faults else self._always

    def _handler_class(self):
        hop = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fault = hop._next_fault()
                if fault is not None and fault.until is not None:
                    fault.until.wait(STALL_LIMIT_S)
                if fault is not None and fault.status < 0:
                    self.close_connection = True
                    return
                if fault is not None and fault.status:
                    # x-amzn-ErrorType is read by REST JSON APIs (Lambda), __type by JSON ones
                    # (Secrets Manager): one fault serves both.
                    error = {"__type": fault.error_type, "Type": "User", "message": fault.message}
                    payload = json.dumps(error).encode()
                    self.send_response(fault.status)
                    self.send_header("x-amzn-ErrorType", fault.error_type)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(hop._upstream, timeout=10)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    reply = upstream.getresponse()
                    payload = reply.read()
                finally:
                    upstream.close()
                self.send_response(reply.status)
                for header, value in reply.getheaders():
                    if header.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(header, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _relay

        return Handler
