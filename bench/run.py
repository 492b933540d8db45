"""Print one table with every figure the project measures (`make bench`).

Each bench module exposes `measure() -> list[dict]` with the keys figure, value, target and ok;
the first line of its docstring says what it measures and is printed before it runs. With
--with-tests (make bench BENCH_TESTS=1) the runner also times a whole `make test`, which takes
minutes. A missed target shows as NO in the table (timings are reported, never asserted).
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
TEST_TIME_TARGET_S = 120


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


def announce(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def collect(with_tests: bool) -> list[dict]:
    rows: list[dict] = []
    for name in MODULES:
        started = time.perf_counter()
        module = importlib.import_module(name)
        what = (module.__doc__ or name).strip().splitlines()[0].rstrip(".:")
        announce(f"Measuring: {what} ({name})...")
        rows += module.measure()
        announce(f"  done in {time.perf_counter() - started:.1f} s")
    if with_tests:
        announce("Measuring: the wall time of a whole `make test` (a few minutes)...")
        rows += measure_make_test()
    else:
        announce("Not timing `make test` (make bench BENCH_TESTS=1 does).")
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
    rows = collect(with_tests="--with-tests" in sys.argv)
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
