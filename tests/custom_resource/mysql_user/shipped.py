"""Custom::MySQLUser as shipped: the zip `make build` makes (scripts/build_lambda_zip.py), unpacked
like Lambda's /var/task and run in an interpreter of its own, so what a template's properties
meet is the packaged code with its vendored PyMySQL and crhelper, not the sources.

Its AWS calls go to a moto_server (another process can't see an in-process mock_aws), its answer
to the loopback HTTPS receiver, its SQL to the tests' TLS-only MariaDB."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import zipfile
from pathlib import Path

from ..local_endpoints import UNSET_FOR_THE_FUNCTION

ROOT = Path(__file__).resolve().parents[3]
BUILD = ROOT / "scripts" / "build_lambda_zip.py"
RUN_TIMEOUT_S = 120  # a hung run fails the test instead of the suite
# One warm interpreter, as Lambda keeps one container for consecutive invocations: it reads a
# request per line ({"event": ..., "seconds": ...}), runs the handler, and answers one line.
_RUNNER = """
import json, sys, traceback
task_root, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, task_root)
sys.path.append(root)  # for LambdaContext only, after the zip's own modules
import app, pymysql
assert app.__file__.startswith(task_root) and pymysql.__file__.startswith(task_root)
from tests.custom_resource.local_endpoints import LambdaContext
for line in sys.stdin:
    request = json.loads(line)
    try:
        app.handler(request["event"], LambdaContext(request["seconds"]))
        print("done", flush=True)
    except BaseException:
        print(json.dumps(traceback.format_exc()), flush=True)
"""


def build_and_unpack(directory: Path) -> Path:
    """Build dist/mysql_user.zip's twin into `directory` and unpack it; the task root."""
    package = directory / "mysql_user.zip"
    subprocess.run(
        [sys.executable, str(BUILD), "--function", "mysql_user", "--output", str(package)],
        check=True,
        capture_output=True,
    )
    task_root = directory / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(task_root)
    return task_root


class ShippedFunction:
    """Stands where the handler module does in the tests' Scenario: `handler(event, context)`
    runs the unpacked zip's app.handler in its own (warm) interpreter."""

    def __init__(self, task_root: Path, aws_endpoint: str, variables: dict[str, str]) -> None:
        """`variables`: the function's environment (region, credentials, SSL_CERT_FILE)."""
        self.task_root = task_root
        self._log = task_root.parent / "runner.log"  # the function's log lines, for failures
        self._log_file = self._log.open("w")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _RUNNER, str(task_root), str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env={
                **{k: v for k, v in os.environ.items() if k not in UNSET_FOR_THE_FUNCTION},
                **variables,
                "AWS_ENDPOINT_URL": aws_endpoint,
            },
        )

    def handler(self, event: dict, context) -> None:
        seconds = context.get_remaining_time_in_millis() / 1000
        request = {"event": event, "seconds": seconds}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        ready, _, _ = select.select([self._process.stdout], [], [], RUN_TIMEOUT_S)
        assert ready, f"the shipped function did not return within {RUN_TIMEOUT_S} s"
        answer = self._process.stdout.readline().strip()
        if answer != "done":
            died = "the runner exited; its log ends:\n" + self._log.read_text()[-3000:]
            raise AssertionError(json.loads(answer) if answer else died)

    def close(self) -> None:
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log_file.close()
