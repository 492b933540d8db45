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
import subprocess
import sys
from pathlib import Path

import pytest

from mutation.run import worker_env

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
# not loading them makes each of its pytest runs ~0.2 s instead of ~1 s. .pyc files are the
# tool's business (mutation/run.py's worker_env turns them off; make test lets Python write them).
SCRATCH_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


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
    env = worker_env(  # the environment make mutate gives the part's tests
        root,
        **SCRATCH_ENV,
        MUTATION_COVERAGE_MAP=str(root / "lines.json"),
        MUTATION_SOURCES="calc.py:late.py",
    )
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
            env=worker_env(project, **SCRATCH_ENV, RUNS_LOG=str(runs_log)),  # as make mutate's
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


def test_a_mutant_that_every_test_of_its_modules_already_passed_survives(project, tmp_path):
    # Step 2 then has no test left to run (pytest exit code 5): that is a survivor, not a kill.
    status, runs = mutate(
        project, "return GREETING", "return GREETING or 'x'", tmp_path, source=("late.py", LATE)
    )
    assert status == 0, "survived"
    assert runs == [
        ["tests/test_late_a.py::test_greets", "tests/test_late_b.py::test_greets_with_hi"],
        [],
    ]


# make mutate itself (mutation/run.py): cosmic-ray's own commands on a scratch project.


def make_mutate(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "mutation/run.py", *args],
        cwd=root,
        env={**os.environ, **SCRATCH_ENV, "MUTATE_WORKERS": "1", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


# The smallest source that shows every outcome: one mutant killed, two survivors, and
# operators filtered out (each mutant run costs a pytest run under cosmic-ray's worker).
FITS_ONLY = """\
LIMIT = 10


def fits(text):
    return len(text) <= LIMIT
"""


@pytest.mark.slow
def test_make_mutate_runs_cosmic_ray_and_resumes(tmp_path):
    root = tmp_path / "scratch"
    (root / "tests").mkdir(parents=True)
    (root / "mutation").mkdir()
    (root / "calc.py").write_text(FITS_ONLY)
    (root / "tests" / "test_fits.py").write_text(TESTS["tests/test_fits.py"])
    for module in ("run.py", "select_tests.py", "coverage_map.py"):
        (root / "mutation" / module).symlink_to(REPO / "mutation" / module)
    (root / "mutation" / "parts.toml").write_text(
        '[calc]\nsources = ["calc.py"]\ntests = ["tests"]\n'
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)

    first = make_mutate(root, "calc")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "unmutated run of tests with coverage" in first.stdout
    # Kept after the operator filter: LIMIT 10 -> 11 (killed by the 11-character test), LIMIT
    # 10 -> 9 and `<=` -> `<` (no test at the limit: survived). `<=` -> `>`, `==` ... are
    # filtered.
    summary = first.stdout.strip().splitlines()[-1]
    assert "killed    1  survived    2  score  33.3%  (filtered 6, errors 0" in summary
    assert "not run 0" in summary
    survivors = (root / ".mutation" / "calc" / "survivors.txt").read_text()
    assert "-    return len(text) <= LIMIT\n+    return len(text) < LIMIT" in survivors

    again = make_mutate(root, "calc")
    assert "calc: 0 mutants of 1 files to run" in again.stdout, again.stdout
    assert "unmutated run" not in again.stdout, "resumed: no new baseline, no mutant run again"
    assert again.stdout.strip().splitlines()[-1] == summary


def test_a_run_starts_over_when_the_sources_change_and_keeps_results_when_only_tests_do():
    from mutation.run import carried_over

    last = {"mutants": "m1", "tests": "t1"}
    assert carried_over(last, {"mutants": "m1", "tests": "t1"}, fresh=False) == "everything"
    assert carried_over(last, {"mutants": "m1", "tests": "t2"}, fresh=False) == "results"
    assert carried_over(last, {"mutants": "m2", "tests": "t1"}, fresh=False) == "nothing"
    assert carried_over(last, {"mutants": "m1", "tests": "t1"}, fresh=True) == "nothing"
    assert carried_over({}, {"mutants": "m1", "tests": "t1"}, fresh=False) == "nothing"


def test_an_unknown_part_names_the_parts():
    result = make_mutate(REPO, "no_such_part")
    assert result.returncode == 2
    assert "unknown PART no_such_part; choose from custom_resources, lint_rules, scripts" in (
        result.stderr
    )


def test_a_sample_s_interval_holds_its_rate_and_closes_when_every_mutant_ran():
    from mutation.run import interval

    assert interval(90, 100, 100) == pytest.approx((90.0, 90.0))
    low, high = interval(90, 100, 1000)
    assert 82 < low < 90 < high < 95
    assert interval(20, 20, 1000)[0] < 100.0, "no survivor yet still leaves room for some"
    narrower = interval(90, 100, 200)
    assert low < narrower[0], "a larger share tested narrows it"
    assert narrower[1] < high


def test_only_what_a_part_s_tests_read_decides_whether_its_results_carry_over():
    from mutation.run import test_inputs

    inputs = test_inputs({"tests": ["tests/deploy", "tests/tooling/test_readme.py::test_x"]})
    assert "tests/deploy/" in inputs
    assert "tests/tooling/" in inputs, "a test file's folder: its helpers and conftest"
    assert "tests/helpers/" in inputs
    assert not any(i.startswith("tests/lint_rules") for i in inputs), "another part's tests"


def test_a_worker_tree_loads_its_own_rule_pack_under_the_package_name(tmp_path):
    # A mutant lives in the worker tree's lint_rules/: the tests there (cfn-lint's subprocesses
    # included) must load that copy as cfn_lint_rotation, not the checkout's through .venv's
    # editable install, and cfn-lint must still take `-a cfn_lint_rotation` for a module.
    from mutation.run import copy_tree, worker_env

    tree = tmp_path / "worker-0"
    files = [str(p.relative_to(REPO)) for p in (REPO / "lint_rules").rglob("*.py")]
    copy_tree(files, tree)
    env = worker_env(tree)
    # Where `import cfn_lint_rotation` would load it from (without loading cfn-lint for that).
    where = "import importlib.util as u; print(u.find_spec('cfn_lint_rotation').origin)"
    found = subprocess.run(
        [sys.executable, "-c", where],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert found.stdout.strip() == str(tree / "lint_rules" / "__init__.py")
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Rotation:\n    Type: AWS::SecretsManager::RotationSchedule\n"
        "    Properties:\n      SecretId: s\n      HostedRotationLambda:\n"
        "        RotationType: MySQLSingleUser\n"
    )
    linted = subprocess.run(
        [str(REPO / ".venv" / "bin" / "cfn-lint"), "-a", "cfn_lint_rotation", "--", str(template)],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "ER001" in linted.stdout, linted.stdout + linted.stderr
