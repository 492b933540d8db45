"""Print one table with every figure the project measures (`make bench`).

Each bench module exposes `measure() -> list[dict]` with the keys figure, value, target and ok.
This runner adds the wall time of `make test` and prints the table; a missed target shows as NO
in the table (timings are reported, never asserted).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODULES = ("bench.custom_resource", "bench.lint")
TEST_TIME_TARGET_S = 300


def measure_make_test() -> list[dict]:
    started = time.perf_counter()
    result = subprocess.run(
        ["make", "--no-print-directory", "test"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTEST_ADDOPTS": "-q"},
    )
    elapsed = time.perf_counter() - started
    summary = next(
        (line for line in reversed(result.stdout.splitlines()) if " in " in line), "no summary"
    )
    return [
        {
            "figure": "make test wall time",
            "value": f"{elapsed:.1f} s ({summary.strip('= ')})",
            "target": f"< {TEST_TIME_TARGET_S} s, all pass",
            "ok": result.returncode == 0 and elapsed < TEST_TIME_TARGET_S,
        }
    ]


def collect(skip_tests: bool) -> list[dict]:
    rows: list[dict] = []
    for name in MODULES:
        started = time.perf_counter()
        module = importlib.import_module(name)
        rows += module.measure()
        print(f"  measured {name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if not skip_tests:
        rows += measure_make_test()
    return rows


def render(rows: list[dict]) -> str:
    headers = ("figure", "value", "target", "ok")
    cells = [
        [row["figure"], row["value"], row["target"], "yes" if row["ok"] else "NO"] for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]

    def line(values):
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), separator, *(line(c) for c in cells)])


def main() -> int:
    sys.path.insert(0, str(REPO))
    rows = collect(skip_tests="--skip-tests" in sys.argv)
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
