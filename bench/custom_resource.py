"""Benchmark of the Custom::LambdaRoleLookup function against local endpoints.

Figures (each row: figure, value, target, ok):
  1. Delete latency with 300 s left on the clock (crhelper's default would sleep 120 s first);
  2. cold invocation in a fresh interpreter (import, init, Create, response PUT), packaged
     function vs. a minimal cfnresponse-style function doing the same lookup, as a ratio of
     medians;
  3. size of the built zip.
Lambda and IAM are moto's server on loopback; the response goes to an HTTPS server on loopback
with a trustme certificate. Run directly to print the rows.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import trustme  # noqa: E402

from tests.custom_resource.local_endpoints import (  # noqa: E402
    AWS_TEST_ENVIRONMENT,
    ResponseReceiver,
    cloudformation_event,
    create_rotation_function,
    write_ca_bundle,
)
from tests.helpers.local_servers import moto_server  # noqa: E402

COLD_RUNS = 7
DELETE_RUNS = 5
DELETE_TARGET_S = 1.0
RATIO_TARGET = 1.3
SIZE_TARGET = 64 * 1024
FUNCTION_NAME = "bench-rotation"

# Runs in a fresh interpreter; the clock starts just before the function's module is imported.
COLD_INVOCATION = """
import sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[1])
module = __import__(sys.argv[2])
import json

class Context:
    aws_request_id = "bench"
    def __init__(self):
        self.deadline = time.monotonic() + 60
    def get_remaining_time_in_millis(self):
        return int((self.deadline - time.monotonic()) * 1000)

module.handler(json.loads(sys.argv[3]), Context())
print(time.perf_counter() - started)
"""


def measure() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-role-lookup-") as scratch:
        work = Path(scratch)
        package = build_package(work / "lambda_role_lookup.zip")
        size = size_row(package)
        task_root = work / "task"
        with zipfile.ZipFile(package) as archive:
            archive.extractall(task_root)
        baseline_root = work / "baseline"
        baseline_root.mkdir()
        shutil.copy(Path(__file__).with_name("cfnresponse_baseline.py"), baseline_root)

        ca = trustme.CA()
        environment = {
            **os.environ,
            **AWS_TEST_ENVIRONMENT,
            "SSL_CERT_FILE": str(write_ca_bundle(ca, work)),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with ResponseReceiver(ca) as receiver, moto_server() as moto_endpoint:
            environment["AWS_ENDPOINT_URL_LAMBDA"] = moto_endpoint
            moto_session = boto3.Session(
                aws_access_key_id=AWS_TEST_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=AWS_TEST_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
                region_name=AWS_TEST_ENVIRONMENT["AWS_REGION"],
            )
            create_rotation_function(
                moto_session.client("iam", endpoint_url=moto_endpoint),
                moto_session.client("lambda", endpoint_url=moto_endpoint),
                FUNCTION_NAME,
            )
            cold = cold_invocations(task_root, baseline_root, receiver, environment)
            delete = delete_latency(task_root, receiver, environment)
    return [delete, cold, size]


def build_package(output: Path) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lambda_zip.py"), "--output", str(output)],
        check=True,
        capture_output=True,
    )
    return output


def cold_invocations(task_root, baseline_root, receiver, environment) -> dict:
    """Median cold Create of each function, alternating runs so drift affects both alike."""
    timings = {"app": [], "cfnresponse_baseline": []}
    for _ in range(COLD_RUNS):
        for module, root in (("app", task_root), ("cfnresponse_baseline", baseline_root)):
            receiver.reset()
            event = cloudformation_event("Create", receiver.url(), {"FunctionName": FUNCTION_NAME})
            result = subprocess.run(
                [sys.executable, "-c", COLD_INVOCATION, str(root), module, json.dumps(event)],
                capture_output=True,
                text=True,
                check=True,
                env=environment,
            )
            (put,) = receiver.puts()
            if put.document["Status"] != "SUCCESS":
                raise RuntimeError(f"{module} answered {put.document}")
            timings[module].append(float(result.stdout.strip().splitlines()[-1]))
    ours = statistics.median(timings["app"])
    baseline = statistics.median(timings["cfnresponse_baseline"])
    ratio = ours / baseline
    return {
        "figure": "cold Create in a fresh process (import, init, lookup, PUT) vs cfnresponse",
        "value": f"{ours * 1000:.0f} ms vs {baseline * 1000:.0f} ms = {ratio:.2f}x "
        f"(median of {COLD_RUNS})",
        "target": f"<= {RATIO_TARGET}x",
        "ok": ratio <= RATIO_TARGET,
    }


def delete_latency(task_root, receiver, environment) -> dict:
    """Warm Delete with 300 s left, timed from the call until the handler returns (PUT done)."""
    code = (
        "import json, sys, time\n"
        f"sys.path.insert(0, {str(task_root)!r})\n"
        f"sys.path.append({str(ROOT)!r})\n"
        "import app\n"
        "from tests.custom_resource.local_endpoints import LambdaContext\n"
        "for line in sys.stdin:\n"
        "    started = time.perf_counter()\n"
        "    app.handler(json.loads(line), LambdaContext(300))\n"
        "    print(time.perf_counter() - started, flush=True)\n"
    )
    receiver.reset()
    events = [
        cloudformation_event(
            "Delete",
            receiver.url(),
            {"FunctionName": FUNCTION_NAME},
            physical_id=f"arn:aws:lambda:us-east-1:123456789012:function:x{i}",
        )
        for i in range(DELETE_RUNS)
    ]
    result = subprocess.run(
        [sys.executable, "-c", code],
        input="\n".join(json.dumps(e) for e in events) + "\n",
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=300,
    )
    answers = [put.document["Status"] for put in receiver.puts()]
    if answers != ["SUCCESS"] * DELETE_RUNS:
        raise RuntimeError(f"Delete answers: {answers}")
    latency = statistics.median(float(v) for v in result.stdout.split())
    return {
        "figure": "Delete latency with 300 s left (crhelper default sleeps 120 s)",
        "value": f"{latency * 1000:.0f} ms (median of {DELETE_RUNS})",
        "target": f"< {DELETE_TARGET_S:.0f} s",
        "ok": latency < DELETE_TARGET_S,
    }


def size_row(package: Path) -> dict:
    size = package.stat().st_size
    return {
        "figure": "Lambda zip size (function + vendored crhelper)",
        "value": f"{size / 1024:.1f} KB ({size} bytes)",
        "target": f"<= {SIZE_TARGET // 1024} KB",
        "ok": size <= SIZE_TARGET,
    }


def main() -> int:
    started = time.monotonic()
    rows = measure()
    for row in rows:
        print(
            f"{'ok ' if row['ok'] else 'MISS'} {row['figure']}: {row['value']} "
            f"(target {row['target']})"
        )
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
