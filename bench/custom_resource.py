"""Benchmark of the Custom::LambdaRoleLookup function against local endpoints.

Figures (each row: figure, value, target, ok):
  1. Delete latency with 300 s left on the clock (crhelper's default would sleep 120 s first);
  2. cold invocation in a fresh interpreter (import, init, Create, response PUT), packaged
     function vs. a minimal cfnresponse-style function doing the same lookup, as the ratio of
     the medians of the CPU time each process spent (user + system, all threads) over runs that
     alternate between the two; wall time is shown too, but other work on the machine inflates
     it unevenly;
  3. the same cold invocation counted in instructions (valgrind's callgrind, one run each, the
     interpreter's own start-up subtracted): the same on a busy machine as on an idle one; only
     when valgrind is installed;
  4. size of the built zip.
Lambda and IAM are moto's server on loopback; the response goes to an HTTPS server on loopback
with a trustme certificate. Run directly to print the rows.
"""

import json
import os
import re
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

COLD_RUNS = 15
DELETE_RUNS = 5
DELETE_TARGET_S = 1.0
RATIO_TARGET = 1.15
SIZE_TARGET = 64 * 1024
FUNCTION_NAME = "bench-rotation"

# Runs in a fresh interpreter; the clocks start just before the function's module is imported.
# Prints the wall and CPU seconds, then the full garbage collections the run made.
COLD_INVOCATION = """
import sys, time
wall, cpu = time.perf_counter(), time.process_time()
sys.path.insert(0, sys.argv[1])
module = __import__(sys.argv[2])
import gc, json

class Context:
    aws_request_id = "bench"
    def __init__(self):
        self.deadline = time.monotonic() + 60
    def get_remaining_time_in_millis(self):
        return int((self.deadline - time.monotonic()) * 1000)

module.handler(json.loads(sys.argv[3]), Context())
print(time.perf_counter() - wall, time.process_time() - cpu, gc.get_stats()[2]["collections"])
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
            counted = counted_invocations(task_root, baseline_root, receiver, environment)
            delete = delete_latency(task_root, receiver, environment)
    return [delete, cold, counted, size]


def build_package(output: Path) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lambda_zip.py"), "--output", str(output)],
        check=True,
        capture_output=True,
    )
    return output


MODULES = ("app", "cfnresponse_baseline")


def cold_create(root, module, receiver, environment, prefix=()) -> subprocess.CompletedProcess:
    """One Create answered SUCCESS by `module` in a fresh interpreter (under `prefix`)."""
    receiver.reset()
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": FUNCTION_NAME})
    result = subprocess.run(
        [*prefix, sys.executable, "-c", COLD_INVOCATION, str(root), module, json.dumps(event)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    (put,) = receiver.puts()
    if put.document["Status"] != "SUCCESS":
        raise RuntimeError(f"{module} answered {put.document}")
    return result


def cold_invocations(task_root, baseline_root, receiver, environment) -> dict:
    """Median cold Create of each function, alternating runs so drift affects both alike."""
    runs = {module: [] for module in MODULES}
    roots = dict(zip(MODULES, (task_root, baseline_root), strict=True))
    for _ in range(COLD_RUNS):
        for module in MODULES:
            result = cold_create(roots[module], module, receiver, environment)
            wall, cpu, full_collections = result.stdout.split()[-3:]
            runs[module].append((float(wall), float(cpu), int(full_collections)))
    ours, baseline = (
        [statistics.median(run[i] for run in runs[module]) for i in range(3)] for module in MODULES
    )
    ratio, wall_ratio = ours[1] / baseline[1], ours[0] / baseline[0]
    return {
        "figure": "cold Create in a fresh process (import, init, lookup, PUT) vs cfnresponse, "
        "CPU time",
        "value": f"{ours[1] * 1000:.0f} ms vs {baseline[1] * 1000:.0f} ms = {ratio:.2f}x "
        f"(median of {COLD_RUNS}; wall {ours[0] * 1000:.0f} vs {baseline[0] * 1000:.0f} ms = "
        f"{wall_ratio:.2f}x; full GCs {ours[2]:.0f} vs {baseline[2]:.0f})",
        "target": f"<= {RATIO_TARGET}x",
        "ok": ratio <= RATIO_TARGET,
    }


def counted_invocations(task_root, baseline_root, receiver, environment) -> dict:
    """The same cold Creates in instructions (callgrind), less an empty interpreter's."""
    figure = "the same cold Create in instructions (callgrind), vs cfnresponse"
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {"figure": figure, "value": "not measured: no valgrind", "target": "", "ok": True}
    prefix = (valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null")
    empty = [*prefix, sys.executable, "-c", "pass"]
    start_up = _instructions(subprocess.run(empty, capture_output=True, text=True, check=True))
    roots = dict(zip(MODULES, (task_root, baseline_root), strict=True))
    ours, baseline = (
        _instructions(cold_create(roots[module], module, receiver, environment, prefix)) - start_up
        for module in MODULES
    )
    ratio = ours / baseline
    return {
        "figure": figure,
        "value": f"{ours / 1e6:.0f} M vs {baseline / 1e6:.0f} M = {ratio:.2f}x (one run each)",
        "target": f"<= {RATIO_TARGET}x",
        "ok": ratio <= RATIO_TARGET,
    }


def _instructions(result: subprocess.CompletedProcess) -> int:
    return int(re.search(r"Collected : (\d+)", result.stderr)[1])


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
