"""`make mutate`: mutation testing with cosmic-ray, each file against the tests that cover it.

    python mutation/run.py [custom_resources|lint_rules|scripts ...] [--report]

cosmic-ray changes one thing in a source file (an operator, a constant, a condition), runs the
tests, and puts the file back. A mutant the tests notice is "killed"; one they miss "survived".
Files are mutated on disk, so each part runs in its own copies of the working tree under
.mutation/<part>/ (two workers by default, MUTATE_WORKERS=n), never in the checkout itself.

Results are kept in .mutation/<part>/*.sqlite: an interrupted run picks up where it stopped, and
a part starts over only when its sources, its tests or its settings here change. The report lists
killed, survived and timed-out mutants per part, the score, and every survivor with its diff in
.mutation/<part>/survivors.txt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".mutation"
BIN = Path(sys.executable).parent
PYTEST = (
    f"{sys.executable} -m pytest -x -q --no-header -p no:cacheprovider -p no:randomly"
    " -p mutation.fast_first"
)
# cosmic-ray's HTTP distributor gives up on a worker after 300 s; a test run must end before.
MAX_TIMEOUT_S = 270.0
# Each operator, comparison or arithmetic site gets the mutants that model a realistic slip, as
# mutmut makes them: negation (== / !=, is / is not, in / not in) and the boundary (< / <=, > / >=)
# for comparisons, the inverse for arithmetic (+ / -, * / /, // -> /). cosmic-ray's other
# replacements of the same site (== -> <, ==  -> is, + -> ** ...) mostly make equivalent or
# duplicate mutants. Bitwise and shift operators (never used on purpose here) and exception-type
# swaps (which cosmic-ray cannot compile) are left out. Changing this list applies to the results
# already recorded too (see apply_operator_filter).
KEPT_COMPARISONS = (
    "Eq_NotEq|NotEq_Eq|Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Is_IsNot|IsNot_Is|In_NotIn|NotIn_In"
)
KEPT_ARITHMETIC = "Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Mod_Div|Pow_Mul"
EXCLUDED_OPERATORS = [
    rf"core/ReplaceComparisonOperator_(?!(?:{KEPT_COMPARISONS})$)",
    rf"core/ReplaceBinaryOperator_(?!(?:{KEPT_ARITHMETIC})$)",
    r"core/ExceptionReplacer",
]
FILTERED = "Filtered operator"  # cosmic-ray's own output for an item its filter skipped
HELD = "Held back: survivors run again first"  # see held_back()


@dataclass(frozen=True)
class Group:
    """Source files and the tests that cover them."""

    name: str
    sources: tuple[str, ...]
    tests: tuple[str, ...]
    # Tests left out: ones whose outcome depends on machine load, which would "kill" mutants
    # (or fail the unmutated baseline) at random on a busy machine.
    deselect: tuple[str, ...] = ()

    def deselect_args(self) -> list[str]:
        return [f"--deselect={test}" for test in self.deselect]

    def pytest_args(self) -> list[str]:
        return [*self.tests, *self.deselect_args()]


def lint_rule_groups() -> tuple[Group, ...]:
    """Each rule file against the test files that name its rule ids (and the no-false-positive
    test); the shared _rotation_lint modules against every rule test; the package's own files
    (entry points, exports) against the CLI test.
    The CLI test (cfn-lint in subprocesses) is left out elsewhere: it is slow and covers no rule
    logic the in-process tests do not."""
    tests_dir = REPO / "tests" / "lint_rules"
    cli_test = "tests/lint_rules/test_lint_rules_cli.py"
    rule_tests = {
        str(p.relative_to(REPO)): p.read_text() for p in sorted(tests_dir.glob("test_*.py"))
    }
    rule_tests.pop(cli_test, None)
    groups = []
    for source in sorted((REPO / "lint_rules" / "rules").glob("[a-z]*.py")):
        ids = set(re.findall(r'^\s+id = "([EWI]R\d{3})"', source.read_text(), re.MULTILINE))
        if not ids:
            continue
        tests = [t for t, text in rule_tests.items() if any(i in text for i in ids)]
        good = "tests/lint_rules/test_lint_rules_good.py"
        groups.append(
            Group(
                source.stem,
                (str(source.relative_to(REPO)),),
                tuple(sorted({*tests, good})),
            )
        )
    shared = tuple(
        sorted(
            str(p.relative_to(REPO)) for p in (REPO / "lint_rules" / "_rotation_lint").glob("*.py")
        )
    )
    groups.append(Group("_rotation_lint", shared, tuple(rule_tests)))
    groups.append(
        Group(
            "lint_rules_cli",
            tuple(
                str(p.relative_to(REPO))
                for p in sorted(
                    [*(REPO / "lint_rules").glob("*.py"), REPO / "lint_rules/rules/__init__.py"]
                )
            ),
            (cli_test,),
        )
    )
    return tuple(groups)


PARTS: dict[str, tuple[Group, ...]] = {
    "custom_resources": (
        Group(
            "lambda_role_lookup",
            tuple(
                sorted(str(p.relative_to(REPO)) for p in (REPO / "custom_resources").rglob("*.py"))
            ),
            ("tests/custom_resource",),
            deselect=(
                # 0.2 s left on the Lambda clock: under load the answer can miss it.
                "tests/custom_resource/test_faults.py::"
                "test_little_time_left_still_gets_one_timely_answer[0.2-reasons1]",
            ),
        ),
    ),
    "lint_rules": lint_rule_groups(),
    "scripts": (
        Group(
            "stack",
            (
                "scripts/stack.py",
                *sorted(str(p.relative_to(REPO)) for p in (REPO / "scripts/stackctl").glob("*.py")),
            ),
            ("tests/deploy",),
        ),
        Group(
            "update_rds_ca_bundle",
            ("scripts/update_rds_ca_bundle.py",),
            ("tests/tooling/test_rds_ca_bundle.py",),
        ),
        Group(
            "build_lambda_zip",
            ("scripts/build_lambda_zip.py",),
            ("tests/custom_resource/test_build_zip.py",),
        ),
        Group(
            "parameter_tables",
            ("scripts/parameter_tables.py",),
            ("tests/tooling/test_readme.py", "tests/tooling/test_parameter_tables.py"),
        ),
    ),
}


def say(message: str) -> None:
    print(message, flush=True)


def run(*args: str, cwd: Path = REPO, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, check=True, text=True, **kwargs)


def tree_files() -> list[str]:
    """Tracked and new files of the working tree (uncommitted changes included)."""
    listing = run("git", "ls-files", "-co", "--exclude-standard", "-z", capture_output=True)
    return [name for name in listing.stdout.split("\0") if name and (REPO / name).is_file()]


def fingerprint(part: str, files: list[str], root: Path = REPO) -> dict[str, str]:
    """What the part's results depend on. Per group ("mutants:<group>"): its sources, the
    operators and the pytest command (a change there starts that group over); "tests": the
    tests, what they read and this tool's test selection (a change there re-runs the survivors
    only: added tests kill, never revive)."""
    stamp = {}
    for group in PARTS[part]:
        # The group's tests are not part of it: new tests re-run the survivors (below).
        mutants = hashlib.sha256(repr((group.name, group.sources, PYTEST)).encode())
        for name in sorted(group.sources):
            mutants.update(name.encode() + b"\0" + (root / name).read_bytes())
        stamp[f"mutants:{group.name}"] = mutants.hexdigest()
    tests = hashlib.sha256()
    for name in sorted(files):
        if name.startswith(("tests/", "templates/", "mutation/", "pyproject")):
            tests.update(name.encode() + b"\0" + (root / name).read_bytes())
    stamp["tests"] = tests.hexdigest()
    return stamp


def apply_operator_filter(session: Path) -> None:
    """Marks every mutant of an excluded operator as filtered, run or not, and puts back to
    pending any the filter skipped that the current list no longer excludes."""
    excluded = re.compile("|".join(f"(?:{pattern})" for pattern in EXCLUDED_OPERATORS))
    with contextlib.closing(sqlite3.connect(session)) as db, db:
        specs = db.execute(
            "SELECT s.job_id, s.operator_name, r.output FROM mutation_specs s"
            " LEFT JOIN work_results r ON r.job_id = s.job_id"
        ).fetchall()
        for job_id, operator, output in specs:
            if excluded.match(operator) and output != FILTERED:
                db.execute(
                    "INSERT OR REPLACE INTO work_results (worker_outcome, output, test_outcome,"
                    " diff, job_id) VALUES ('SKIPPED', ?, NULL, NULL, ?)",
                    (FILTERED, job_id),
                )
            elif not excluded.match(operator) and output == FILTERED:
                db.execute("DELETE FROM work_results WHERE job_id = ?", (job_id,))


@contextlib.contextmanager
def held_back(session: Path, rows: list[dict]):
    """Hides every pending mutant but the survivors waiting to run again from cosmic-ray exec
    (which takes pending mutants in random order), so they run first; always put back after.
    Yields how many survivors wait."""
    waiting = {r["item"]["job_id"] for r in rows if r["result"] is None and r["reopened"]}
    others = [r["item"]["job_id"] for r in rows if r["result"] is None and not r["reopened"]]
    with contextlib.closing(sqlite3.connect(session)) as db, db:
        if waiting:
            db.executemany(
                "INSERT INTO work_results (worker_outcome, output, test_outcome, diff, job_id)"
                " VALUES ('SKIPPED', ?, NULL, NULL, ?)",
                [(HELD, job_id) for job_id in others],
            )
    try:
        yield len(waiting)
    finally:
        release_held(session)


def release_held(session: Path) -> None:
    with contextlib.closing(sqlite3.connect(session)) as db, db:
        db.execute("DELETE FROM work_results WHERE output = ?", (HELD,))


def forget_group(part_dir: Path, group: Group) -> None:
    for name in (
        f"{group.name}.sqlite",
        f"{group.name}-map.json",
        f"{group.name}.toml",
        f"{group.name}-reopened.json",
    ):
        (part_dir / name).unlink(missing_ok=True)


def reopen_errors(part_dir: Path) -> int:
    """Puts back to pending the mutants whose run failed for want of a worker (not a test
    outcome): a stopped run can leave some."""
    reopened = 0
    for session in part_dir.glob("*.sqlite"):
        with contextlib.closing(sqlite3.connect(session)) as db, db:
            reopened += db.execute(
                "DELETE FROM work_results WHERE worker_outcome NOT IN ('NORMAL', 'SKIPPED')"
            ).rowcount
    return reopened


def reopen_survivors(part_dir: Path) -> int:
    """Forgets the outcome of survived and failed mutants (they run again) and every group's
    line map (the new tests may run other lines). Returns how many mutants will run again."""
    reopened = 0
    for session in part_dir.glob("*.sqlite"):
        with contextlib.closing(sqlite3.connect(session)) as db, db:
            survivors = db.execute(
                "SELECT job_id FROM work_results WHERE test_outcome = 'SURVIVED'"
            ).fetchall()
            remember_reopened(session, {job_id for (job_id,) in survivors})
            reopened += db.execute(
                "DELETE FROM work_results WHERE test_outcome = 'SURVIVED'"
                " OR worker_outcome NOT IN ('NORMAL', 'SKIPPED')"
            ).rowcount
    for line_map in part_dir.glob("*-map.json"):
        line_map.unlink()
    return reopened


def reopened_file(session: Path) -> Path:
    return session.with_name(f"{session.stem}-reopened.json")


def reopened_ids(session: Path) -> set[str]:
    """Survivors sent back to run against changed tests: until they have run again they still
    count as survived (see `scored`)."""
    known = reopened_file(session)
    return set(json.loads(known.read_text())) if known.exists() else set()


def remember_reopened(session: Path, job_ids: set[str]) -> None:
    reopened_file(session).write_text(json.dumps(sorted(reopened_ids(session) | job_ids)))


def worker_trees(part_dir: Path, files: list[str], wanted: int) -> list[Path]:
    """The first `wanted` workers' copies of the tree, made when missing (MUTATE_WORKERS can ask
    for more or fewer than the last run made)."""
    workers = [part_dir / f"worker-{index}" for index in range(wanted)]
    for worker in workers:
        if not worker.is_dir():
            copy_tree(files, worker)
    return workers


def copy_tree(files: list[str], target: Path) -> None:
    for stale in ("tests", "templates"):  # a test file deleted since the last copy goes too
        shutil.rmtree(target / stale, ignore_errors=True)
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, destination)
    for venv in (".venv", ".venv-taskcat", ".venv-checkov"):
        if (REPO / venv).exists() and not (target / venv).is_symlink():
            (target / venv).symlink_to((REPO / venv).resolve())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, group: Group, timeout: float, urls: list[str]) -> None:
    config = {
        "module-path": list(group.sources),
        "timeout": timeout,
        "excluded-modules": [],
        "test-command": f"{sys.executable} -m mutation.select_tests {map_file(path.parent, group)}",
        "distributor": {"name": "http", "http": {"worker-urls": urls}},
        "filters": {"operators-filter": {"exclude-operators": EXCLUDED_OPERATORS}},
    }
    lines = ["[cosmic-ray]"]
    for key in ("module-path", "timeout", "excluded-modules", "test-command"):
        lines.append(f"{key} = {json.dumps(config[key])}")
    lines += [
        "",
        "[cosmic-ray.distributor]",
        'name = "http"',
        "",
        "[cosmic-ray.distributor.http]",
        f"worker-urls = {json.dumps(urls)}",
        "",
        "[cosmic-ray.filters.operators-filter]",
        f"exclude-operators = {json.dumps(EXCLUDED_OPERATORS)}",
    ]
    path.write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def http_workers(directories: list[Path]):
    """One cosmic-ray http-worker per copy of the tree; yields their URLs."""
    ports = [free_port() for _ in directories]
    log = open(directories[0].parent / "workers.log", "a")  # noqa: SIM115
    workers = [
        subprocess.Popen(
            [str(BIN / "cosmic-ray"), "http-worker", "--port", str(port)],
            cwd=directory,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        for port, directory in zip(ports, directories, strict=True)
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cosmic-ray http-worker on port {port} did not start")
                time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=5)
            except subprocess.TimeoutExpired:  # still finishing a test run: stop it now
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        log.close()


def map_file(part_dir: Path, group: Group) -> Path:
    return part_dir / f"{group.name}-map.json"


def baseline_seconds(group: Group, directories: list[Path]) -> float:
    """Runs the group's tests unmutated under coverage; records each test module's mean time per
    test, and writes the group's map for mutation/select_tests.py (which tests run which line)."""
    report = directories[0].parent / f"{group.name}-baseline.xml"
    lines = directories[0].parent / f"{group.name}-lines.json"
    env = {
        **os.environ,
        "MUTATION_COVERAGE_MAP": str(lines),
        "MUTATION_SOURCES": os.pathsep.join(group.sources),
    }
    for _attempt in range(2):  # a second chance for a test that flaked on a busy machine
        started = time.monotonic()
        result = subprocess.run(
            [
                *PYTEST.split(),
                "-p",
                "mutation.coverage_map",
                f"--basetemp={directories[0] / '.pytest-tmp'}",
                f"--junitxml={report}",
                *group.pytest_args(),
            ],
            cwd=directories[0],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            break
    if result.returncode != 0:
        sys.exit(
            f"make mutate: the tests for {group.name} fail before any mutation "
            f"({' '.join(group.tests)}); fix them first:\n{result.stdout[-3000:]}"
        )
    seconds = time.monotonic() - started
    per_module: dict[str, list[float]] = {}
    for case in ElementTree.parse(report).iter("testcase"):  # noqa: S314 (pytest's own report)
        module = case.get("classname", "").replace(".", "/") + ".py"
        per_module.setdefault(module, []).append(float(case.get("time", "0")))
    for directory in directories:
        durations = directory / ".mutation-durations.json"
        known = json.loads(durations.read_text()) if durations.exists() else {}
        known.update({m: sum(t) / len(t) for m, t in per_module.items()})
        durations.write_text(json.dumps(known, indent=1))
    spec = {
        "pytest": PYTEST.split(),
        "args": list(group.tests),
        "deselect": group.deselect_args(),
        "pristine": {s: (directories[0] / s).read_text() for s in group.sources},
        "lines": json.loads(lines.read_text())["lines"],
    }
    map_file(directories[0].parent, group).write_text(json.dumps(spec))
    return seconds


def results(session: Path) -> list[dict]:
    dump = run(str(BIN / "cosmic-ray"), "dump", str(session), capture_output=True).stdout
    reopened = reopened_ids(session)
    rows = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        rows.append({"item": item, "result": result, "reopened": item["job_id"] in reopened})
    return rows


def outcome(row: dict) -> str:
    result = row["result"]
    if result is None:
        return "pending"
    if result.get("worker_outcome") == "skipped":
        return "skipped"
    if result.get("worker_outcome") != "normal":
        return "error"
    if result.get("test_outcome") == "killed":
        return "timeout" if result.get("output") == "timeout" else "killed"
    return result.get("test_outcome") or "error"


def scored(row: dict) -> str:
    """The outcome a report counts. A survivor sent back to run against changed tests counts
    as survived until it has run again: cosmic-ray picks pending mutants at random, so a run
    stopped early would otherwise drop survivors from the sample and keep every kill."""
    if row["result"] is None and row.get("reopened"):
        return "survived"
    return outcome(row)


def finished(session: Path) -> tuple[int, int]:
    """(mutants with an outcome, survivors) in a session, read while cosmic-ray writes it."""
    with contextlib.closing(sqlite3.connect(session, timeout=30)) as db:
        done, survived = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(test_outcome = 'SURVIVED'), 0) FROM work_results"
            " WHERE worker_outcome != 'SKIPPED'"
        ).fetchone()
    return done, survived


@contextlib.contextmanager
def progress(name: str, session: Path, pending: int, every_s: float = 60.0):
    """A line every minute while cosmic-ray runs a group: how far, survivors, time left."""
    stop = threading.Event()
    done_before, _ = finished(session)
    started = time.monotonic()

    def report() -> None:
        while not stop.wait(every_s):
            with contextlib.suppress(sqlite3.Error):
                done, survived = finished(session)
                ran = done - done_before
                left = (time.monotonic() - started) / ran * (pending - ran) if ran else None
                eta = f", about {left / 60:.0f} min left" if left is not None else ""
                say(f"  {name}: {ran}/{pending} run, {survived} survived so far{eta}")

    thread = threading.Thread(target=report, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_group(
    part_dir: Path, group: Group, workers: list[Path], slice_minutes: float | None = None
) -> list[dict]:
    session = part_dir / f"{group.name}.sqlite"
    config = part_dir / f"{group.name}.toml"
    if not session.exists() or not map_file(part_dir, group).exists():
        say(f"  {group.name}: baseline run of {' '.join(group.tests)} (unmutated)...")
        seconds = baseline_seconds(group, workers)
        timeout = round(min(max(60.0, 4 * seconds), MAX_TIMEOUT_S), 1)
        write_config(config, group, timeout, ["http://127.0.0.1:1"])
        say(f"  {group.name}: tests take {seconds:.0f} s unmutated; timeout {timeout:.0f} s")
    if not session.exists():
        run(str(BIN / "cosmic-ray"), "init", str(config), str(session), cwd=workers[0])
    release_held(session)  # a run killed outright can leave mutants held back
    apply_operator_filter(session)
    rows = results(session)
    pending = sum(outcome(r) == "pending" for r in rows)
    say(
        f"  {group.name}: {len(rows)} mutants of {len(group.sources)} file(s), {pending} to run "
        f"on {len(workers)} worker(s)..."
    )
    if pending:
        started = time.monotonic()
        timeout = float(
            next(
                line.split("=")[1]
                for line in config.read_text().splitlines()
                if line.startswith("timeout")
            )
        )
        with http_workers(workers) as urls, progress(group.name, session, pending):
            write_config(config, group, timeout, urls)
            with held_back(session, rows) as waiting:
                if waiting:  # not part of the slice: a partial score must not skip them
                    say(f"  {group.name}: first the {waiting} survivors, against the new tests")
                    execute(config, session, workers[0], None)
            finished_in_time = execute(config, session, workers[0], slice_minutes)
        for worker in workers:  # a stopped exec can leave a mutant of this group on disk
            for source in group.sources:
                shutil.copy2(REPO / source, worker / source)
        ran = pending - sum(outcome(r) == "pending" for r in results(session))
        say(
            f"  {group.name}: ran {ran} mutants in {time.monotonic() - started:.0f} s"
            + ("" if finished_in_time else f"; its slice of {slice_minutes:g} min is over")
        )
    return results(session)


def execute(config: Path, session: Path, directory: Path, slice_minutes: float | None) -> bool:
    """cosmic-ray exec, stopped after `slice_minutes` if given. True if it ran to the end."""
    command = [str(BIN / "cosmic-ray"), "exec", str(config), str(session)]
    process = subprocess.Popen(command, cwd=directory)
    try:
        status = process.wait(timeout=slice_minutes * 60 if slice_minutes else None)
    except subprocess.TimeoutExpired:
        return False
    finally:
        # Stopped (slice over, Ctrl-C, SIGTERM): stop exec before its workers go, or it hands
        # every remaining mutant to a dead worker and records each as an error.
        if process.poll() is None:
            process.terminate()
            process.wait()
    if status != 0:
        raise subprocess.CalledProcessError(status, command)
    return True


def summarise(part: str, by_group: dict[str, list[dict]], part_dir: Path) -> str:
    rows = [row for group_rows in by_group.values() for row in group_rows]
    counts = {
        k: sum(scored(r) == k for r in rows)
        for k in ("killed", "timeout", "survived", "error", "skipped", "pending")
    }
    tested = counts["killed"] + counts["timeout"] + counts["survived"]
    score = 100 * (counts["killed"] + counts["timeout"]) / tested if tested else 0.0
    survivors = [r for r in rows if scored(r) == "survived"]
    with (part_dir / "survivors.txt").open("w") as out:
        for row in survivors:
            mutation = row["item"]["mutations"][0]
            out.write(
                f"## {mutation['module_path']}:{mutation['start_pos'][0]} "
                f"{mutation['operator_name']} #{mutation['occurrence']}\n"
            )
            if row["result"] is None:
                out.write("(survived before the tests changed; not run again yet)\n\n")
            else:
                out.write((row["result"].get("diff") or "") + "\n")
    line = (
        f"{part:17} killed {counts['killed']:4}  timeout {counts['timeout']:3}  "
        f"survived {counts['survived']:4}  score {score:5.1f}%  "
        f"(filtered {counts['skipped']}, errors {counts['error']}, not run {counts['pending']}; "
        f"survivors in {(part_dir / 'survivors.txt').relative_to(REPO)})"
    )
    not_started = [
        name
        for name, group_rows in by_group.items()
        if not any(scored(r) in ("killed", "timeout", "survived") for r in group_rows)
    ]
    if not_started:
        line += f"\n{'':17} partial: not started yet: {', '.join(not_started)}"
    elif counts["pending"]:
        low, high = sampled_interval(by_group)
        line += (
            f"\n{'':17} partial: {tested} of {tested + counts['pending']} mutants; cosmic-ray "
            f"runs them in random order, so the whole part's score lies in {low:.1f}-{high:.1f}% "
            "(95% interval)"
        )
    return line


def sampled_interval(by_group: dict[str, list[dict]], z: float = 1.96) -> tuple[float, float]:
    """A 95% interval, in percent, for the score of all mutants when each group has run a random
    sample of its own: each group's kill rate weighted by its number of mutants (a stratified
    estimate; each group's variance uses the Agresti-Coull rate, (killed + 2) / (tested + 4), so
    a sample with no survivor yet still gets an honest width)."""
    estimate, variance, total = 0.0, 0.0, 0
    for group_rows in by_group.values():
        outcomes = [scored(row) for row in group_rows]
        size = sum(o in ("killed", "timeout", "survived", "pending") for o in outcomes)
        tested = sum(o in ("killed", "timeout", "survived") for o in outcomes)
        if not size:
            continue
        killed = sum(o in ("killed", "timeout") for o in outcomes)
        rate = killed / tested if tested else 0.0
        total += size
        estimate += size * rate
        if tested < size:  # a group that ran every mutant is known exactly
            adjusted = (killed + 2) / (tested + 4)
            fraction_unknown = (size - tested) / size
            variance += size * size * adjusted * (1 - adjusted) / (tested + 4) * fraction_unknown
    estimate, spread = estimate / total, z * math.sqrt(variance) / total
    return 100 * max(estimate - spread, 0.0), min(100 * (estimate + spread), 100.0)


def run_part(part: str, workers_wanted: int) -> str:
    files = tree_files()
    part_dir = WORK / part
    stamp = fingerprint(part, files)
    stamp_file = part_dir / "fingerprint.json"
    last = json.loads(stamp_file.read_text()) if stamp_file.exists() else {}
    if part_dir.exists():
        for group in PARTS[part]:
            key = f"mutants:{group.name}"
            if last.get(key) != stamp[key] and (part_dir / f"{group.name}.sqlite").exists():
                say(f"{part}: {group.name}'s sources changed since the last run; it starts over.")
                forget_group(part_dir, group)
        if last.get("tests") != stamp["tests"]:
            reopened = reopen_survivors(part_dir)
            say(
                f"{part}: tests changed since the last run; killed mutants kept, the {reopened} "
                "survivors (and any mutant a stopped run left untested) run again against the new "
                "tests."
            )
            for worker in sorted(part_dir.glob("worker-*")):
                copy_tree(files, worker)
        else:
            say(f"{part}: resuming the last run (results kept in {part_dir.relative_to(REPO)}).")
        if reopened_errors := reopen_errors(part_dir):
            say(f"{part}: {reopened_errors} mutants a stopped run could not test run again.")
    workers = worker_trees(part_dir, files, workers_wanted)
    stamp_file.write_text(json.dumps(stamp))
    for worker in workers:  # an interrupted run can leave a mutant on disk: put the sources back
        for group in PARTS[part]:
            for source in group.sources:
                shutil.copy2(REPO / source, worker / source)
    started = time.monotonic()
    chosen = chosen_groups(part)
    say(f"{part}: mutating {', '.join(g.name for g in chosen)}...")
    slice_minutes = float(os.environ.get("MUTATE_GROUP_MINUTES") or 0) or None
    by_group = {
        group.name: run_group(part_dir, group, workers, slice_minutes)
        if group in chosen
        else recorded(part_dir, group)
        for group in PARTS[part]
    }
    say(f"{part}: done in {time.monotonic() - started:.0f} s")
    return summarise(part, by_group, part_dir)


def chosen_groups(part: str) -> tuple[Group, ...]:
    """The groups MUTATE_GROUPS names (comma-separated), or all of the part's."""
    names = [n.strip() for n in os.environ.get("MUTATE_GROUPS", "").split(",") if n.strip()]
    return tuple(g for g in PARTS[part] if not names or g.name in names)


def unknown_groups(parts: list[str]) -> list[str]:
    names = [n.strip() for n in os.environ.get("MUTATE_GROUPS", "").split(",") if n.strip()]
    known = {g.name for part in parts for g in PARTS[part]}
    return [n for n in names if n not in known]


def recorded(part_dir: Path, group: Group) -> list:
    """What the last run recorded for a group (nothing when it never ran)."""
    session = part_dir / f"{group.name}.sqlite"
    return results(session) if session.exists() else []


def report_only(part: str) -> str:
    """The summary of what the last run of a part recorded, without running anything."""
    part_dir = WORK / part
    by_group = {group.name: recorded(part_dir, group) for group in PARTS[part]}
    if not any(by_group.values()):
        return f"{part:17} not run yet"
    return summarise(part, by_group, part_dir)


def main(argv: list[str]) -> int:
    report = "--report" in argv
    argv = [a for a in argv if a != "--report"]
    parts = argv or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        print(
            f"make mutate: unknown PART {', '.join(unknown)}; choose from {', '.join(PARTS)}",
            file=sys.stderr,
        )
        return 2
    if unknown := unknown_groups(parts):
        print(
            f"make mutate: unknown MUTATE_GROUPS {', '.join(unknown)}; the groups of "
            f"{', '.join(parts)} are "
            f"{', '.join(g.name for part in parts for g in PARTS[part])}",
            file=sys.stderr,
        )
        return 2
    workers = int(os.environ.get("MUTATE_WORKERS", "2"))
    try:
        lines = [report_only(part) if report else run_part(part, workers) for part in parts]
    except subprocess.CalledProcessError as error:
        print(
            f"make mutate: '{' '.join(map(str, error.cmd))}' failed (exit {error.returncode}); "
            "see its output above (git is needed: the parts run in copies of the tracked files). "
            "Run make mutate again to resume.",
            file=sys.stderr,
        )
        return 1
    say("\nMutation scores (killed + timeout) / tested:")
    for line in lines:
        say("  " + line)
    return 0


if __name__ == "__main__":
    # Stopped by SIGTERM: unwind like Ctrl-C, so the workers are stopped and the session is kept.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
