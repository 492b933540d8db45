"""`make mutate`: cosmic-ray over one part of the project, through its command line and config.

    python mutation/run.py PART [--report]      (PART is a table of mutation/parts.toml)

cosmic-ray changes one thing in a source file (an operator, a constant, a condition), runs the
tests, and puts the file back; a mutant the tests notice is killed, one they miss survived. This
script only prepares and calls cosmic-ray's own commands, in .mutation/PART/:

- copies of the working tree, one per worker (files are mutated on disk; the checkout never is);
- an unmutated run of the part's tests under coverage, which records which tests execute which
  lines (mutation/coverage_map.py) and must pass; a mutant then runs only the tests that can see
  it (mutation/select_tests.py, cosmic-ray's `test-command`);
- `config.toml`, then `cosmic-ray init` (the session: every mutant), `cr-filter-operators` (the
  operators kept are in OPERATOR_FILTER), `cosmic-ray http-worker` per copy and `cosmic-ray exec`,
  which runs the mutants not run yet in random order: a stopped run resumes, and a run stopped
  early (MUTATE_MINUTES) has tested a random sample;
- the report: `cosmic-ray dump` counted, and `cr-report` for the survivors with their diffs.

The session starts over when the part's sources or this configuration change (or FRESH=1); when
only tests changed, results are kept and the line map is made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path.cwd()
BIN = Path(sys.executable).parent
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider"]
# cosmic-ray's HTTP distributor gives up on a worker after 300 s; a test run must end before.
MAX_TIMEOUT_S = 270.0
# A worker tree's own editable install: every Python process of a mutant's tests (PYTHONPATH
# names the folder, so site imports the file) finds `cfn_lint_rotation` in the tree's lint_rules/,
# as .venv's editable finder finds it in the checkout's. Not a link named cfn_lint_rotation: at
# the tree's top cfn-lint would take `append_rules: [cfn_lint_rotation]` for a folder's path.
PACKAGE_FINDER = Path(".mutant-import") / "sitecustomize.py"
PACKAGE_FINDER_CODE = """\
import importlib.util
import sys
from pathlib import Path

_RULES = Path(__file__).resolve().parent.parent / "lint_rules"


class _TreeRulePack:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "cfn_lint_rotation":
            return None
        return importlib.util.spec_from_file_location(
            name, _RULES / "__init__.py", submodule_search_locations=[str(_RULES)]
        )


sys.meta_path.insert(0, _TreeRulePack)
"""
# Each comparison or arithmetic site keeps the mutants of a realistic slip: its negation
# (== / !=, is / is not, in / not in) or boundary (< / <=), the inverse operation (+ / -).
# cosmic-ray's other replacements of the same site (== -> <, + -> ** ...) were mostly equivalent
# or duplicates; bitwise and shift operators are not used on purpose here, and exception-type
# swaps do not compile. cosmic-ray marks the filtered mutants as skipped.
KEPT_COMPARISONS = (
    "Eq_NotEq|NotEq_Eq|Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Is_IsNot|IsNot_Is|In_NotIn|NotIn_In"
)
KEPT_ARITHMETIC = "Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Mod_Div|Pow_Mul"
OPERATOR_FILTER = [
    rf"core/ReplaceComparisonOperator_(?!(?:{KEPT_COMPARISONS})$)",
    rf"core/ReplaceBinaryOperator_(?!(?:{KEPT_ARITHMETIC})$)",
    r"core/ExceptionReplacer",
]


def say(message: str) -> None:
    print(message, flush=True)


def command(*args: str, cwd: Path = ROOT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, check=True, text=True, **kwargs)


def parts() -> dict[str, dict]:
    return tomllib.loads((ROOT / "mutation" / "parts.toml").read_text())


def sources(part: dict) -> list[str]:
    found = {p for pattern in part["sources"] for p in ROOT.glob(pattern) if p.is_file()}
    return sorted(str(p.relative_to(ROOT)) for p in found if "__pycache__" not in p.parts)


def tree_files() -> list[str]:
    """Tracked and new files of the working tree (uncommitted changes included)."""
    listing = command("git", "ls-files", "-co", "--exclude-standard", "-z", capture_output=True)
    names = [name for name in listing.stdout.split("\0") if name and (ROOT / name).is_file()]
    return [name for name in names if not name.startswith(".mutation/")]  # even if not ignored


def digest(names: list[str], *extra: str) -> str:
    total = hashlib.sha256(repr(extra).encode())
    for name in sorted(names):
        total.update(name.encode() + b"\0" + (ROOT / name).read_bytes())
    return total.hexdigest()


def copy_tree(files: list[str], target: Path) -> None:
    """The working tree (again: a mutant an interrupted run left on disk goes), its venvs and uv
    linked, and `cfn_lint_rotation` found in the copy's lint_rules/ (PACKAGE_FINDER), so the
    editable install in .venv does not load the checkout's rules instead of the mutant."""
    shutil.rmtree(target / "tests", ignore_errors=True)
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    for venv in (".venv", ".venv-taskcat", ".venv-checkov", ".uv"):
        if (ROOT / venv).exists() and not (target / venv).is_symlink():
            (target / venv).symlink_to((ROOT / venv).resolve())
    (target / PACKAGE_FINDER).parent.mkdir(exist_ok=True)
    (target / PACKAGE_FINDER).write_text(PACKAGE_FINDER_CODE)


def worker_env(tree: Path, **extra: str) -> dict[str, str]:
    # No .pyc files: a mutant of the source's size written in the second its .pyc was made
    # would look current to Python, and the tests would run the unmutated code.
    path = os.pathsep.join([str(tree / PACKAGE_FINDER.parent), str(tree)])
    return {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1", **extra}


def baseline(part: dict, names: list[str], tree: Path, map_file: Path) -> float:
    """Runs the part's tests unmutated with coverage; writes select_tests' map; the seconds."""
    lines = map_file.with_name("lines.json")
    env = worker_env(tree, MUTATION_COVERAGE_MAP=str(lines), MUTATION_SOURCES=":".join(names))
    deselect = [f"--deselect={test}" for test in part.get("deselect", [])]
    for _attempt in range(2):  # a second chance for a test that flaked on a busy machine
        started = time.monotonic()
        result = subprocess.run(
            [*PYTEST, "-p", "mutation.coverage_map", f"--basetemp={tree / '.pytest-tmp'}",
             *part["tests"], *deselect],
            cwd=tree, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode == 0:
            break
    if result.returncode != 0:
        sys.exit(f"make mutate: the part's tests fail unmutated; fix them first:\n{result.stdout}")
    spec = {
        "pytest": PYTEST,
        "args": part["tests"],
        "deselect": deselect,
        "pristine": {name: (ROOT / name).read_text() for name in names},
        "lines": json.loads(lines.read_text())["lines"],
    }
    map_file.write_text(json.dumps(spec))
    return time.monotonic() - started


def write_config(path: Path, names: list[str], timeout: float, map_file: Path, urls: list[str]):
    test_command = f"{sys.executable} -m mutation.select_tests {map_file}"
    path.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(names)}\ntimeout = {timeout}\nexcluded-modules = []\n"
        f"test-command = {json.dumps(test_command)}\n\n"
        '[cosmic-ray.distributor]\nname = "http"\n\n'
        f"[cosmic-ray.distributor.http]\nworker-urls = {json.dumps(urls)}\n\n"
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(OPERATOR_FILTER)}\n"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # exec dies at once: mutants under way stay pending
    process.wait()


@contextlib.contextmanager
def http_workers(trees: list[Path], log: Path):
    """One `cosmic-ray http-worker` per copy of the tree (own sessions: Ctrl-C reaches only
    this script, which stops exec before the workers); yields their URLs."""
    ports = [free_port() for _ in trees]
    with log.open("a") as out:
        workers = [
            subprocess.Popen(
                [str(BIN / "cosmic-ray"), "http-worker", "--port", str(port)],
                cwd=tree, stdout=out, stderr=out, start_new_session=True,
                env=worker_env(tree),
            )
            for port, tree in zip(ports, trees, strict=True)
        ]  # fmt: skip
    try:
        for port in ports:
            for _ in range(150):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for worker in workers:
            stop(worker)


def outcomes(session: Path) -> dict[str, list[dict]]:
    """Mutants by outcome, from `cosmic-ray dump` (one JSON [work item, result] per line)."""
    found: dict[str, list[dict]] = {k: [] for k in ("killed", "survived", "skipped", "error")}
    found["pending"] = []
    dump = command(str(BIN / "cosmic-ray"), "dump", str(session), capture_output=True).stdout
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            found["pending"].append(item)
        elif result["worker_outcome"] == "skipped":
            found["skipped"].append(item)
        elif result["worker_outcome"] != "normal":
            found["error"].append(item)
        else:  # a test run past the timeout counts as killed, as cosmic-ray records it
            found["survived" if result["test_outcome"] == "survived" else "killed"].append(item)
    return found


def interval(killed: int, tested: int, population: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval for the kill rate of all `population` mutants when `tested` of them,
    drawn at random, were run; narrowed by the finite-population correction."""
    if not tested:
        return 0.0, 100.0
    rate = killed / tested
    fpc = math.sqrt((population - tested) / (population - 1)) if population > 1 else 0.0
    z *= fpc
    centre = (rate + z * z / (2 * tested)) / (1 + z * z / tested)
    half = (
        z * math.sqrt(rate * (1 - rate) / tested + z * z / (4 * tested**2)) / (1 + z * z / tested)
    )
    return 100 * max(centre - half, 0.0), 100 * min(centre + half, 1.0)


def report(name: str, part_dir: Path, found: dict[str, list[dict]] | None = None) -> str:
    """The part's summary line; `found`: its outcomes when already read since the last exec."""
    session = part_dir / "session.sqlite"
    if not session.exists():
        return f"{name:17} not run yet"
    if found is None:
        found = outcomes(session)
    killed, survived, pending = (len(found[k]) for k in ("killed", "survived", "pending"))
    tested = killed + survived
    survivors = part_dir / "survivors.txt"
    shown = command(
        str(BIN / "cr-report"), "--surviving-only", "--show-diff", str(session),
        capture_output=True,
    ).stdout  # fmt: skip
    survivors.write_text(shown.replace("worker outcome: WorkerOutcome.SKIPPED", "(filtered)"))
    score = 100 * killed / tested if tested else 0.0
    line = (
        f"{name:17} killed {killed:4}  survived {survived:4}  score {score:5.1f}%  "
        f"(filtered {len(found['skipped'])}, errors {len(found['error'])}, not run {pending}; "
        f"survivors in {survivors.relative_to(ROOT)})"
    )
    if pending:
        low, high = interval(killed, tested, tested + pending)
        line += (
            f"\n{'':17} a random sample of {tested} of {tested + pending} mutants: the whole "
            f"part's score lies in {low:.1f}-{high:.1f}% (95%)"
        )
    return line


def test_inputs(part: dict) -> tuple[str, ...]:
    """What the part's test runs read: its test folders (a test file's whole folder, for its
    helpers and conftest), the shared test helpers, the templates, pyproject.toml and mutation/."""
    folders = {t.split("::")[0] for t in part["tests"]}
    folders = {f if (ROOT / f).is_dir() else str(Path(f).parent) for f in folders}
    shared = ("tests/conftest.py", "tests/helpers/", "templates/", "pyproject.toml", "mutation/")
    return (*sorted(f"{folder}/" for folder in folders), *shared)


def carried_over(last: dict, now: dict, *, fresh: bool) -> str:
    """What a run keeps of the last one: "nothing" when the part's sources, its settings or the
    operator filter changed (or FRESH=1), "results" when only tests changed (a new test can kill
    a recorded survivor but not revive a kill; the line map is made again), else "everything"."""
    if fresh or last.get("mutants") != now["mutants"]:
        return "nothing"
    return "results" if last.get("tests") != now["tests"] else "everything"


def run_part(name: str, part: dict, workers_wanted: int) -> str:
    part_dir, names, files = ROOT / ".mutation" / name, sources(part), tree_files()
    session, config, map_file = (
        part_dir / n for n in ("session.sqlite", "config.toml", "map.json")
    )
    stamp_file = part_dir / "fingerprint.json"
    stamp = {
        "mutants": digest(names, OPERATOR_FILTER, part),
        "tests": digest([f for f in files if f.startswith(test_inputs(part))]),
    }
    last = json.loads(stamp_file.read_text()) if stamp_file.exists() else {}
    kept = carried_over(last, stamp, fresh=bool(os.environ.get("FRESH")))
    if session.exists() and kept == "nothing":
        say(f"{name}: starting over (FRESH=1, or its sources or settings changed since).")
        shutil.rmtree(part_dir)
    elif session.exists() and kept == "results":
        say(f"{name}: tests changed since the last run: results kept, the line map made again.")
        map_file.unlink(missing_ok=True)
    part_dir.mkdir(parents=True, exist_ok=True)
    trees = [part_dir / f"worker-{index}" for index in range(workers_wanted)]
    for tree in trees:
        copy_tree(files, tree)
    if not map_file.exists():
        say(f"{name}: unmutated run of {' '.join(part['tests'])} with coverage...")
        seconds = baseline(part, names, trees[0], map_file)
        timeout = round(min(max(60.0, 4 * seconds), MAX_TIMEOUT_S), 1)
        say(f"{name}: the tests take {seconds:.0f} s unmutated; a mutant's timeout is {timeout} s")
        stamp_file.write_text(json.dumps({**stamp, "timeout": timeout}))
    timeout = json.loads(stamp_file.read_text())["timeout"]
    write_config(config, names, timeout, map_file, ["http://127.0.0.1:1"])
    if not session.exists():
        command(str(BIN / "cosmic-ray"), "init", str(config), str(session), cwd=trees[0])
        command(str(BIN / "cr-filter-operators"), str(session), str(config), cwd=trees[0])
    found = outcomes(session)
    pending = len(found["pending"])
    minutes = float(os.environ.get("MUTATE_MINUTES") or 0)
    say(
        f"{name}: {pending} mutants of {len(names)} files to run on {len(trees)} workers"
        + (f", for at most {minutes:g} min" if minutes else "")
    )
    if pending:
        with http_workers(trees, part_dir / "workers.log") as urls:
            write_config(config, names, timeout, map_file, urls)
            execute(config, session, trees[0], minutes)
        found = None  # exec changed them
    return report(name, part_dir, found)


def execute(config: Path, session: Path, tree: Path, minutes: float) -> None:
    """`cosmic-ray exec`, stopped after `minutes` when given; a line every minute."""
    started = time.monotonic()
    process = subprocess.Popen(
        [str(BIN / "cosmic-ray"), "exec", str(config), str(session)],
        cwd=tree, start_new_session=True,
    )  # fmt: skip
    try:
        while process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
            if process.poll() is not None:
                break
            elapsed = (time.monotonic() - started) / 60
            found = outcomes(session)
            say(f"  {elapsed:.0f} min: {len(found['pending'])} to run, "
                f"{len(found['survived'])} survived so far")  # fmt: skip
            if minutes and elapsed >= minutes:
                say(f"  {minutes:g} min are over: stopped (make mutate resumes from here)")
                break
    finally:
        stop(process)
    if process.returncode not in (0, -signal.SIGTERM):
        sys.exit(f"make mutate: cosmic-ray exec failed (exit {process.returncode}), see above")


def main(argv: list[str]) -> int:
    known = parts()
    chosen = [a for a in argv if a != "--report"] or list(known)
    if unknown := [name for name in chosen if name not in known]:
        print(f"make mutate: unknown PART {', '.join(unknown)}; choose from {', '.join(known)}",
              file=sys.stderr)  # fmt: skip
        return 2
    workers = int(os.environ.get("MUTATE_WORKERS") or 2)
    lines = [
        report(name, ROOT / ".mutation" / name) if "--report" in argv
        else run_part(name, known[name], workers)
        for name in chosen
    ]  # fmt: skip
    say("\nMutation scores, killed / (killed + survived):")
    for line in lines:
        say("  " + line)
    return 0


if __name__ == "__main__":
    # Stopped by SIGTERM: unwind like Ctrl-C, so exec and the workers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
