"""Servers the tests start on loopback: a free port, and moto_server for the AWS CLI."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
MOTO_START_TIMEOUT = 120  # a hang guard: the wait ends as soon as the server answers
STOP_GRACE_S = 30
# How the database tests' skip reason starts; tests/conftest.py counts those skips in its summary.
NO_MARIADB = "No MariaDB server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto_server on loopback; yields its endpoint URL (for AWS_ENDPOINT_URL)."""
    port = free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + MOTO_START_TIMEOUT
    try:
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310
                break
            except OSError as error:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from error
                time.sleep(0.1)
        yield endpoint
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """Terminate `server` and wait for it; kill it if it is still there after STOP_GRACE_S (a
    busy machine can take seconds to let it finish: that is no failure of the test)."""
    server.terminate()
    try:
        server.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
