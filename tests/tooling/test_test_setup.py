"""The set-up around the tests: virtualenv checks, the MariaDB fallback, make test and make clean.

Each check runs the real script or Makefile in a scratch directory, with stand-ins only for what
would be slow or change the machine (an old Python, a missing MariaDB, not being root, pytest).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_SH = REPO / "scripts" / "venv.sh"
ENSURE_MARIADB = REPO / "scripts" / "ensure_mariadb.sh"


def executable(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)
    return path


def old_python(directory: Path) -> Path:
    """A stand-in for Python 3.9: answers the version question the way python3.9 would."""
    return executable(directory / "python3.9", 'echo "3.9.2"')


def clean_env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHON", "PYTHON_EXPLICIT")}
    env.update(changes)
    return env


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


# The database tests without MariaDB: skipped with one loud line, or failed under CI=true.


def database_tests(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    empty = tmp_path / "no-mariadb-here"
    empty.mkdir(exist_ok=True)
    return run(
        [sys.executable, "-m", "pytest", "tests/database", "-q", "-p", "no:cacheprovider"],
        REPO,
        clean_env(MARIADB_BIN_DIRS=str(empty), **env),
    )


def test_without_mariadb_the_database_tests_skip_with_a_summary_line(tmp_path):
    result = database_tests(tmp_path)
    assert result.returncode == 0, result.stdout
    last_line = result.stdout.strip().splitlines()[-1]
    assert "database tests: no MariaDB server (install mariadb-server" in last_line
    assert last_line.strip("! ").startswith("SKIPPED ")
    assert " passed" not in result.stdout


def test_without_mariadb_ci_fails_the_database_tests(tmp_path):
    result = database_tests(tmp_path, CI="true")
    assert result.returncode == 1, result.stdout
    assert "CI must run the database tests" in result.stdout
    assert "database tests: no MariaDB server, and CI=true requires them" in result.stdout


# The install tests (pip into fresh venvs): left to CI locally, with a line saying so.

RECIPES = "tests/tooling/test_hook_for_other_repositories.py"


def planned(**env: str) -> subprocess.CompletedProcess:
    """pytest's plan for the recipe tests (fixtures and skips decided, nothing installed)."""
    return run(
        [sys.executable, "-m", "pytest", RECIPES, "--setup-plan", "-p", "no:cacheprovider"],
        REPO,
        clean_env(**env),
    )


def test_install_tests_are_left_to_ci_locally_with_a_closing_line(tmp_path):
    result = run(
        [sys.executable, "-m", "pytest", RECIPES, "-q", "-p", "no:cacheprovider"],
        REPO,
        clean_env(INSTALL_TESTS=""),
    )
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped" in result.stdout
    last_line = result.stdout.strip().splitlines()[-1]
    assert "NOT RUN 2 install tests" in last_line
    assert "make test INSTALL_TESTS=1" in last_line


@pytest.mark.parametrize("env", [{"CI": "true"}, {"INSTALL_TESTS": "1"}])
def test_ci_and_install_tests_1_run_the_install_tests(env):
    result = planned(**env)
    assert result.returncode == 0, result.stdout
    assert "SETUP    M release" in result.stdout
    assert "SKIPPED" not in result.stdout
    assert "NOT RUN" not in result.stdout


def test_ensure_mariadb_without_root_warns_and_lets_make_test_go_on(tmp_path):
    fake_bin = tmp_path / "bin"
    executable(fake_bin / "id", "echo 1000")  # not root
    executable(fake_bin / "apt-get", 'echo "apt-get must not run" >&2; exit 99')
    empty = tmp_path / "empty"
    empty.mkdir()
    env = clean_env(PATH=f"{fake_bin}:/usr/bin:/bin")
    env.pop("MARIADB_BIN_DIRS", None)
    env["MARIADB_BIN_DIRS"] = str(empty)
    result = run([str(ENSURE_MARIADB)], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "WARNING: no MariaDB server binary found" in result.stderr
    assert "sudo apt-get install mariadb-server" in result.stderr
    assert "apt-get must not run" not in result.stderr


def test_ensure_mariadb_finds_a_server_in_the_given_directories(tmp_path):
    executable(tmp_path / "sbin" / "mariadbd", "exit 0")
    env = clean_env(MARIADB_BIN_DIRS=str(tmp_path / "sbin"))
    result = run([str(ENSURE_MARIADB)], tmp_path, env)
    assert result.returncode == 0
    assert f"found for the database tests: {tmp_path}/sbin/mariadbd" in result.stdout


# scripts/venv.sh: a clear message before installing anything, and no reuse of a broken venv.


def venv_sh(
    tmp_path: Path, venv: Path, python: str, explicit: str = "", project: Path | None = None
) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.txt"
    if not requirements.exists():
        requirements.write_text("# nothing to install\n")
    env = clean_env(PYTHON=python, PYTHON_EXPLICIT=explicit)
    command = [str(VENV_SH), str(venv), str(requirements), "test tools", "a moment"]
    return run([*command, *([str(project)] if project else [])], tmp_path, env)


def test_an_old_python_is_refused_before_anything_is_installed(tmp_path):
    venv = tmp_path / ".venv"
    result = venv_sh(tmp_path, venv, str(old_python(tmp_path)))
    assert result.returncode == 1
    assert "is Python 3.9.2; the tools need Python 3.11 or newer" in result.stderr
    assert "make PYTHON=python3.12" in result.stderr
    assert "Nothing was installed." in result.stderr
    assert not venv.exists()


def test_a_missing_python_is_named(tmp_path):
    result = venv_sh(tmp_path, tmp_path / ".venv", "python3.99")
    assert result.returncode == 1
    assert "'python3.99' was not found." in result.stderr


def quick_python(directory: Path) -> Path:
    """This Python, except that `-m venv DIR` links DIR/bin/python to it instead of running
    ensurepip (seconds saved; venv.sh's own steps all run)."""
    real = sys.executable
    return executable(
        directory / "python3",
        f'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && ln -s {real} "$3/bin/python"; '
        f'exit; fi\nexec {real} "$@"',
    )


@pytest.mark.slow
def test_a_venv_left_by_an_old_python_is_rebuilt_and_stamped(tmp_path):
    venv = tmp_path / ".venv"
    old_python(venv / "bin")
    (venv / "bin" / "python3.9").rename(venv / "bin" / "python")
    python = str(quick_python(tmp_path / "bin"))
    result = venv_sh(tmp_path, venv, python)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Removing" in result.stdout
    assert "Python 3.9.2, older than 3.11" in result.stdout
    assert "Creating" in result.stdout
    version = ".".join(map(str, sys.version_info[:3]))
    stamp = (venv / ".installed").read_text()
    assert stamp.startswith(f"python {version}\nrequirements ")
    again = venv_sh(tmp_path, venv, python)
    assert (again.returncode, again.stdout) == (0, ""), "an up-to-date venv is left alone"


def pip_less_python(directory: Path) -> Path:
    """This Python, except that `-m pip` fails, as in a venv whose install was interrupted."""
    return executable(
        directory / "python",
        f'if [ "$1 $2" = "-m pip" ]; then echo "No module named pip" >&2; exit 1; fi\n'
        f'exec {sys.executable} "$@"',
    )


def test_a_venv_whose_pip_does_not_run_is_rebuilt(tmp_path):
    venv = tmp_path / ".venv"
    pip_less_python(venv / "bin")
    result = venv_sh(tmp_path, venv, str(quick_python(tmp_path / "bin")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Removing" in result.stdout
    assert "its pip does not run" in result.stdout
    assert (venv / ".installed").exists()


def test_an_up_to_date_venv_is_kept_without_starting_pip(tmp_path):
    # The check runs before every make command: it must not pay for starting pip (~0.4 s).
    venv = tmp_path / ".venv"
    python = str(quick_python(tmp_path / "bin"))
    assert venv_sh(tmp_path, venv, python).returncode == 0
    (venv / "bin" / "python").unlink()
    pip_less_python(venv / "bin")
    again = venv_sh(tmp_path, venv, python)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


def pip_recording_python(directory: Path, log: Path) -> Path:
    """This Python, except that `-m pip ...` only writes its arguments to LOG."""
    return executable(
        directory / "python",
        f'if [ "$1 $2" = "-m pip" ]; then echo "$@" >> {log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"',
    )


def test_the_project_is_installed_in_editable_mode_again_when_pyproject_changes(tmp_path):
    # .venv holds the rule pack as the package cfn_lint_rotation: a fresh clone's `make` installs
    # it, and a changed pyproject.toml (a new subpackage, a new command) installs it again.
    venv, log, project = tmp_path / ".venv", tmp_path / "pip.log", tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'a'\n")
    pip_recording_python(venv / "bin", log)
    assert venv_sh(tmp_path, venv, sys.executable, project=project).returncode == 0
    editable = f"--no-deps --editable {project}"
    assert log.read_text().count(editable) == 1
    assert venv_sh(tmp_path, venv, sys.executable, project=project).stdout == ""
    (project / "pyproject.toml").write_text("[project]\nname = 'b'\n")
    again = venv_sh(tmp_path, venv, sys.executable, project=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert log.read_text().count(editable) == 2


def test_a_failed_install_leaves_no_stamp(tmp_path):
    venv = tmp_path / ".venv"
    python = str(quick_python(tmp_path / "bin"))
    (tmp_path / "requirements.txt").write_text("--no-index\nno-such-package-anywhere==1.0\n")
    result = venv_sh(tmp_path, venv, python)
    assert result.returncode == 1
    assert "pip could not install" in result.stderr
    assert not (venv / ".installed").exists()


def test_a_symlinked_venv_is_never_deleted(tmp_path):
    target = tmp_path / "shared-venv"
    old_python(target / "bin")
    (target / "bin" / "python3.9").rename(target / "bin" / "python")
    (tmp_path / ".venv").symlink_to(target)
    result = venv_sh(tmp_path, tmp_path / ".venv", sys.executable)
    assert result.returncode == 1
    assert "is a symbolic link" in result.stderr
    assert (target / "bin" / "python").exists()


# The Makefile: make test's exit code, make clean and the pre-commit hook.


def makefile_sandbox(tmp_path: Path, pytest_exit: int) -> Path:
    """The real Makefile with stand-ins for the venv, MariaDB check and pytest."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "Makefile", root / "Makefile")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "requirements", root / "requirements")
    executable(root / "scripts" / "venv.sh", "exit 0")
    executable(root / "scripts" / "ensure_mariadb.sh", "exit 0")
    executable(root / ".venv" / "bin" / "pytest", f'echo "pytest $*"; exit {pytest_exit}')
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.mark.parametrize(("pytest_exit", "make_fails"), [(0, False), (1, True), (5, True)])
def test_make_test_passes_only_when_pytest_passes(tmp_path, pytest_exit, make_fails):
    root = makefile_sandbox(tmp_path, pytest_exit)
    result = run(["make", "--no-print-directory", "test"], root, clean_env())
    assert (result.returncode != 0) == make_fails, result.stdout + result.stderr
    cpus = int(subprocess.check_output(["getconf", "_NPROCESSORS_ONLN"], text=True))
    # One worker more than CPUs: the extra one fills the time tests spend waiting.
    assert f"-n {cpus + 1} --dist loadfile --durations=10" in result.stdout
    assert f"with TEST_WORKERS={cpus + 1} ({cpus} CPUs + 1)" in result.stdout
    assert ("found no test to run" in result.stderr) == (pytest_exit == 5)


def test_make_clean_removes_a_hook_that_runs_from_the_venv(tmp_path):
    root = makefile_sandbox(tmp_path, 0)
    hooks = root / ".git" / "hooks"
    hook = executable(hooks / "pre-commit", f"INSTALL_PYTHON={root}/.venv/bin/python3")
    other = executable(hooks / "pre-push", "exit 0")
    result = run(["make", "--no-print-directory", "clean"], root, clean_env())
    assert result.returncode == 0, result.stderr
    assert not hook.exists()
    assert "Removed the pre-commit hook" in result.stdout
    assert other.exists()
    assert not (root / ".venv").exists()


def test_make_clean_keeps_a_hook_it_did_not_install(tmp_path):
    root = makefile_sandbox(tmp_path, 0)
    hook = executable(root / ".git" / "hooks" / "pre-commit", "exec /usr/local/bin/pre-commit")
    result = run(["make", "--no-print-directory", "clean"], root, clean_env())
    assert result.returncode == 0, result.stderr
    assert hook.exists()


# make mutate: every source file of a part is mutated, against tests that exist.


def test_make_mutate_covers_every_source_file_with_existing_tests():
    from mutation import run as mutate

    for part, groups in mutate.PARTS.items():
        mutated = {source for group in groups for source in group.sources}
        sources = {str(p.relative_to(REPO)) for p in (REPO / part).rglob("*.py")}
        assert mutated == sources, f"map {sorted(sources - mutated)} to tests in mutation/run.py"
        for group in groups:
            assert group.tests, group.name
            missing = [t for t in group.tests if not (REPO / t.split("::")[0]).exists()]
            assert not missing, f"{group.name}: {missing} do not exist"
