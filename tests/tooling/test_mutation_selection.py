"""make mutate's test selection: a mutant runs the tests that execute its line, and survives only
when every test that could see it passes.

A scratch project (one source module, three test modules, one of them starting the source in a
subprocess) gets the real baseline run under mutation/coverage_map.py, then mutants are put on
disk by hand and mutation/select_tests.py decides, as cosmic-ray's test command, with the pytest
runs it starts recorded by a pytest plugin in the scratch project.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SOURCE = """\
LIMIT = 10


def fits(text):
    return len(text) <= LIMIT


def shout(text):
    return text.upper()


def never_called():
    return 1
"""
LATE = """\
GREETING = "hi"


def greet():
    return GREETING
"""
TESTS = {
    "tests/test_fits.py": """\
from calc import fits


def test_short_fits():
    assert fits("abc")


def test_long_does_not_fit():
    assert not fits("x" * 11)
""",
    "tests/test_shout.py": """\
from calc import shout


def test_shout():
    assert shout("a") == "A"


def test_unrelated():
    assert True
""",
    # `late` is imported inside the tests: its module-level lines run under whichever test
    # imports it first, yet a change there matters to both.
    "tests/test_late_a.py": """\
def test_greets():
    import late
    assert late.greet()
""",
    "tests/test_late_b.py": """\
def test_greets_with_hi():
    import late
    assert late.greet() == "hi"
""",
    "tests/test_cli.py": """\
import os, subprocess, sys


def test_shout_in_a_subprocess():
    out = subprocess.run([sys.executable, "-c", "import calc; print(calc.shout('b'))"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "."})
    assert out.stdout.strip() == "B"
""",
}
# Records which tests each pytest run executed (one JSON line per run), to see what was selected.
RECORDER = """\
import json, os

def pytest_sessionfinish(session):
    with open(os.environ["RUNS_LOG"], "a") as log:
        log.write(json.dumps(sorted(i.nodeid for i in session.items)) + "\\n")
"""


# The scratch project needs none of the plugins installed in .venv (hypothesis, xdist, ...):
# not loading them makes each of its pytest runs ~0.2 s instead of ~1 s.
NO_PLUGIN_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scratch")
    (root / "calc.py").write_text(SOURCE)
    (root / "late.py").write_text(LATE)
    for name, text in TESTS.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(text)
    (root / "recorder.py").write_text(RECORDER)
    (root / "mutation").symlink_to(REPO / "mutation")
    env = {
        **os.environ,
        **NO_PLUGIN_AUTOLOAD,
        "PYTHONPATH": str(root),
        "MUTATION_COVERAGE_MAP": str(root / "lines.json"),
        "MUTATION_SOURCES": "calc.py:late.py",
    }
    baseline = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "mutation.coverage_map", "tests"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    pytest_cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    spec = {
        "pytest": [*pytest_cmd, "-p", "recorder"],
        "args": ["tests"],
        "deselect": [],
        "pristine": {"calc.py": SOURCE, "late.py": LATE},
        "lines": json.loads((root / "lines.json").read_text())["lines"],
    }
    (root / "map.json").write_text(json.dumps(spec))
    return root


def line_of(text: str) -> int:
    return SOURCE.splitlines().index(text) + 1


def test_the_map_names_the_tests_of_each_line(project):
    lines = json.loads((project / "map.json").read_text())["lines"]["calc.py"]
    assert lines[str(line_of("    return len(text) <= LIMIT"))] == [
        "tests/test_fits.py::test_long_does_not_fit",
        "tests/test_fits.py::test_short_fits",
    ]
    # shout runs in this process and in a subprocess started by another test: both are named.
    assert lines[str(line_of("    return text.upper()"))] == [
        "tests/test_cli.py::test_shout_in_a_subprocess",
        "tests/test_shout.py::test_shout",
    ]
    assert lines[str(line_of("LIMIT = 10"))] is None, "import-time lines belong to no test"
    assert str(line_of("    return 1")) not in lines, "a line never run is absent"


def mutate(
    project: Path,
    old: str,
    new: str,
    tmp_path: Path,
    *,
    map_name: str = "map.json",
    source: tuple[str, str] = ("calc.py", SOURCE),
) -> tuple[int, list[list[str]]]:
    """Puts one mutant on disk, runs the selection as cosmic-ray would, restores the source."""
    runs_log = tmp_path / "runs.jsonl"
    name, text = source
    (project / name).write_text(text.replace(old, new, 1))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mutation.select_tests", str(project / map_name)],
            cwd=project,
            env={
                **os.environ,
                **NO_PLUGIN_AUTOLOAD,
                "PYTHONPATH": str(project),
                "RUNS_LOG": str(runs_log),
            },
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        (project / name).write_text(text)
    runs = [json.loads(line) for line in runs_log.read_text().splitlines()]
    return result.returncode, runs


def test_a_mutant_caught_by_its_covering_tests_runs_only_those(project, tmp_path):
    status, runs = mutate(project, "<= LIMIT", "< LIMIT + 5", tmp_path)
    assert status == 1, "killed"
    assert runs == [
        ["tests/test_fits.py::test_long_does_not_fit", "tests/test_fits.py::test_short_fits"]
    ]


def test_a_surviving_mutant_is_tried_on_the_rest_of_its_test_modules(project, tmp_path):
    status, runs = mutate(project, "text.upper()", "text.upper() or 'unused'", tmp_path)
    assert status == 0, "survived"
    first, second = runs
    assert first == [
        "tests/test_cli.py::test_shout_in_a_subprocess",
        "tests/test_shout.py::test_shout",
    ]
    assert second == ["tests/test_shout.py::test_unrelated"]


FITS_AND_SHOUT = [
    "tests/test_cli.py::test_shout_in_a_subprocess",
    "tests/test_fits.py::test_long_does_not_fit",
    "tests/test_fits.py::test_short_fits",
    "tests/test_shout.py::test_shout",
]


def test_a_mutant_on_an_import_time_line_runs_the_tests_that_use_its_file(project, tmp_path):
    status, runs = mutate(project, "LIMIT = 10", "LIMIT = 11", tmp_path)
    assert status == 1, "killed by test_long_does_not_fit"
    assert runs == [FITS_AND_SHOUT]


def test_a_mutant_on_a_line_never_run_survives_the_tests_that_use_its_file(project, tmp_path):
    status, runs = mutate(project, "return 1", "return 2", tmp_path)
    assert status == 0
    assert runs == [FITS_AND_SHOUT, ["tests/test_shout.py::test_unrelated"]]


def test_a_constant_of_a_module_imported_by_a_test_reaches_every_test_that_uses_it(
    project, tmp_path
):
    status, runs = mutate(project, '"hi"', '"ho"', tmp_path, source=("late.py", LATE))
    assert status == 1, "killed by test_greets_with_hi, though test_greets imported it first"
    assert runs == [
        ["tests/test_late_a.py::test_greets", "tests/test_late_b.py::test_greets_with_hi"]
    ]


COPY_TEST = """\
from pathlib import Path


def test_a_copy_of_calc_never_called_returns_one():
    namespace = {}
    exec(Path("calc.py").read_text(), namespace)  # a copy: coverage credits no line of calc.py
    assert namespace["never_called"]() == 1
"""


def test_a_test_the_group_names_by_node_id_runs_with_every_mutant(project, tmp_path):
    # Like the rule files loaded from scratch folders: the only test that sees the mutant uses a
    # copy of the source, so coverage never names it.
    (project / "copies").mkdir(exist_ok=True)
    (project / "copies" / "test_copy.py").write_text(COPY_TEST)
    pinned = "copies/test_copy.py::test_a_copy_of_calc_never_called_returns_one"
    spec = json.loads((project / "map.json").read_text())
    spec["args"] = [*spec["args"], pinned]
    (project / "pinned-map.json").write_text(json.dumps(spec))

    status, runs = mutate(project, "return 1", "return 2", tmp_path, map_name="pinned-map.json")

    assert status == 1, "killed by the copy test"
    assert runs == [sorted([*FITS_AND_SHOUT, pinned])]


def test_a_file_no_test_runs_gets_the_whole_group(project, tmp_path):
    spec = json.loads((project / "map.json").read_text())
    spec["lines"]["calc.py"] = {}
    (project / "unrun-map.json").write_text(json.dumps(spec))
    status, runs = mutate(project, "return 1", "return 2", tmp_path, map_name="unrun-map.json")
    assert status == 0
    assert [len(run) for run in runs] == [7]


# The score of a partial run: cosmic-ray runs a group's mutants in random order.


def rows(killed: int, survived: int, pending: int) -> list[dict]:
    done = [{"result": {"worker_outcome": "normal", "test_outcome": "killed"}}] * killed
    alive = [{"result": {"worker_outcome": "normal", "test_outcome": "survived"}}] * survived
    return [*done, *alive, *[{"result": None}] * pending]


def test_groups_run_to_the_end_give_their_exact_score():
    from mutation.run import sampled_interval

    low, high = sampled_interval({"a": rows(9, 1, 0), "b": rows(27, 3, 0)})
    assert low == pytest.approx(90.0)
    assert high == pytest.approx(90.0)


def test_a_sampled_group_widens_the_interval_around_the_weighted_rate():
    from mutation.run import sampled_interval

    # Group a (10 mutants) is known: 50%. Group b (90 mutants) ran 30: all killed so far.
    low, high = sampled_interval({"a": rows(5, 5, 0), "b": rows(30, 0, 60)})
    assert low < 95.0 < high  # 0.1 * 50% + 0.9 * 100%
    assert high == 100.0
    more_low, _ = sampled_interval({"a": rows(5, 5, 0), "b": rows(60, 0, 30)})
    assert low < more_low < 95.0, "a larger sample narrows the interval"


def test_a_survivor_waiting_to_run_again_still_counts_as_survived():
    """After the tests change, survivors run again in random order with the untested mutants; a
    run stopped before they ran must not report the kills alone."""
    from mutation.run import sampled_interval, scored

    waiting = {"result": None, "reopened": True}
    assert scored(waiting) == "survived"
    assert scored({"result": None, "reopened": False}) == "pending"
    group = [*rows(8, 0, 0), waiting, waiting]
    low, high = sampled_interval({"a": group})
    assert (low, high) == (pytest.approx(80.0), pytest.approx(80.0))


def test_survivors_sent_back_after_a_test_change_run_before_untested_mutants(tmp_path):
    """A real cosmic-ray session: after the tests change, exec sees only the survivors first;
    the other pending mutants come back afterwards, and the survivors count as survived until
    they have run again."""
    from mutation import run as mutation_run

    (tmp_path / "thing.py").write_text("def f(a, b):\n    return a + b == 2 and a < b\n")
    config = tmp_path / "thing.toml"
    config.write_text(
        '[cosmic-ray]\nmodule-path = "thing.py"\ntimeout = 10.0\nexcluded-modules = []\n'
        'test-command = "true"\n\n[cosmic-ray.distributor]\nname = "local"\n'
    )
    session = tmp_path / "thing.sqlite"
    cosmic_ray = str(Path(sys.executable).parent / "cosmic-ray")
    subprocess.run([cosmic_ray, "init", str(config), str(session)], cwd=tmp_path, check=True)
    ids = [row["item"]["job_id"] for row in mutation_run.results(session)]
    assert len(ids) > 4
    survived, killed = ids[:2], ids[2:3]
    with sqlite3.connect(session) as db:
        db.executemany(
            "INSERT INTO work_results (worker_outcome, output, test_outcome, diff, job_id)"
            " VALUES ('NORMAL', '', ?, '', ?)",
            [("SURVIVED", i) for i in survived] + [("KILLED", i) for i in killed],
        )
    db.close()
    assert mutation_run.reopen_survivors(tmp_path) == 2

    rows = mutation_run.results(session)
    assert [mutation_run.scored(r) for r in rows].count("survived") == 2
    assert [mutation_run.outcome(r) for r in rows].count("pending") == len(ids) - 1

    def pending() -> set[str]:
        with sqlite3.connect(session) as db:
            found = db.execute(
                "SELECT job_id FROM mutation_specs WHERE job_id NOT IN"
                " (SELECT job_id FROM work_results)"
            ).fetchall()
        db.close()
        return {job_id for (job_id,) in found}

    with mutation_run.held_back(session, rows) as waiting:
        assert waiting == 2
        assert pending() == set(survived)  # what cosmic-ray exec would run now
    assert pending() == set(ids) - set(killed)
