"""The set-up around the tests: virtualenv checks, the MariaDB fallback, make test and make clean.

Each check runs the real script or Makefile in a scratch directory, with stand-ins only for what
would be slow or change the machine (an old Python, a missing MariaDB, not being root, pytest).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
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
    # make exports its command-line variables (make test TESTS=... TEST_WORKERS=2), directly and
    # in MAKEFLAGS, into the makes these tests start: they must see none of them.
    dropped = ("CI", "PYTHON", "PYTHON_EXPLICIT", "TESTS", "TEST_WORKERS", "PYTEST_ARGS")
    dropped += ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(changes)
    return env


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


# The database and install tests that do not run here: each gets one loud closing line, and
# the database tests fail instead under CI=true. pytest runs in a subprocess with the
# environment each case needs, without the plugins installed in .venv (the lines come from
# tests/conftest.py; loading hypothesis and xdist would only add CPU time).

RECIPES = "tests/tooling/test_hook_for_other_repositories.py"
# One file of tests/database is enough where only the failure under CI is checked.
A_DATABASE_TEST_FILE = "tests/database/test_existing_cluster_user.py"


def pytest_in_repo(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"],
        REPO,
        clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", **env),
    )


def no_mariadb(tmp_path: Path) -> str:
    """A MARIADB_BIN_DIRS that finds no MariaDB program."""
    empty = tmp_path / "no-mariadb-here"
    empty.mkdir(exist_ok=True)
    return str(empty)


def test_locally_the_database_tests_without_mariadb_and_the_install_tests_close_with_a_line_each(
    tmp_path,
):
    # One run of the whole database folder and the recipe tests: every database test skips,
    # the install tests are left to CI, the run passes, and its last two lines say both.
    result = pytest_in_repo(
        RECIPES, "tests/database", "-q", MARIADB_BIN_DIRS=no_mariadb(tmp_path), INSTALL_TESTS=""
    )
    assert result.returncode == 0, result.stdout
    *_, install_line, database_line = result.stdout.strip().splitlines()
    assert "NOT RUN 2 install tests" in install_line
    assert "make test INSTALL_TESTS=1" in install_line
    assert "database tests: no MariaDB server (install mariadb-server" in database_line
    assert database_line.strip("! ").startswith("SKIPPED ")
    database_tests = int(re.search(r"SKIPPED (\d+) database tests", database_line).group(1))
    # The one test that passed is the recipes' README check: no database test passes without
    # a server, and the two install tests are skipped.
    summary = f"1 passed, {database_tests + 2} skipped in "
    assert re.search(f"^{summary}", result.stdout, re.MULTILINE), result.stdout


def test_without_mariadb_ci_fails_the_database_tests(tmp_path):
    result = pytest_in_repo(
        A_DATABASE_TEST_FILE, "-q", MARIADB_BIN_DIRS=no_mariadb(tmp_path), CI="true"
    )
    assert result.returncode == 1, result.stdout
    assert "CI must run the database tests" in result.stdout
    assert "database tests: no MariaDB server, and CI=true requires them" in result.stdout


@pytest.mark.parametrize("env", [{"CI": "true"}, {"INSTALL_TESTS": "1"}])
def test_ci_and_install_tests_1_run_the_install_tests(env):
    # pytest's plan for the recipe tests: fixtures and skips decided, nothing installed.
    result = pytest_in_repo(RECIPES, "--setup-plan", **env)
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


# scripts/venv.sh: a clear message before installing anything, no reuse of a broken venv, uv
# with pip's package sources. uv runs for real, offline: the packages are wheels made here.

UV_PIN = next(
    line
    for line in (REPO / "requirements" / "uv.txt").read_text().splitlines()
    if line.startswith("uv==")
)


def the_uv() -> str:
    """The uv make installed (or the user's own, UV=): the tests never download one."""
    uv = os.environ.get("UV") or str(REPO / ".uv" / "bin" / "uv")
    if not shutil.which(uv):
        pytest.fail(f"no uv at {uv}: run make install first (it installs the pinned uv)")
    return shutil.which(uv)


def wheel(directory: Path, name: str, version: str, scripts: dict[str, str] | None = None) -> Path:
    """A minimal wheel: one module `name` whose VERSION is `version` (plus data scripts)."""
    directory.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        **{f"{name}-{version}.data/scripts/{k}": v for k, v in (scripts or {}).items()},
    }
    record = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in {**files, f"{info}/RECORD": record}.items():
            entry = zipfile.ZipInfo(member)
            entry.external_attr = (0o100755 if ".data/scripts/" in member else 0o100644) << 16
            archive.writestr(entry, text)
    return path


def venv_sh(
    tmp_path: Path, venv: Path, python: str, explicit: str = "", **env: str
) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.txt"
    if not requirements.exists():
        requirements.write_text("# nothing to install\n")
    settings = {"UV": the_uv(), "PIP_CONFIG_FILE": os.devnull, **env}
    environment = clean_env(PYTHON=python, PYTHON_EXPLICIT=explicit, **settings)
    for name in list(environment):
        if name.startswith(("PIP_", "UV_")) and name not in settings:
            del environment[name]  # the machine's own package sources stay out of these runs
    return run(
        [str(VENV_SH), str(venv), str(requirements), "test tools", "a moment"],
        tmp_path,
        environment,
    )


def offline(tmp_path: Path, requirements: str) -> None:
    """Requirements that uv resolves from the wheels in tmp_path/wheels only."""
    (tmp_path / "requirements.txt").write_text(
        f"--no-index\n--find-links {tmp_path / 'wheels'}\n{requirements}\n"
    )


def installed_version(venv: Path, name: str) -> str:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", f"import {name}; print({name}.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_an_old_python_is_refused_before_anything_is_installed(tmp_path):
    venv = tmp_path / ".venv"
    result = venv_sh(tmp_path, venv, str(old_python(tmp_path)), UV="")
    assert result.returncode == 1
    assert "is Python 3.9.2; the tools need Python 3.11 or newer" in result.stderr
    assert "make PYTHON=python3.12" in result.stderr
    assert "Nothing was installed." in result.stderr
    assert not venv.exists()
    assert not (tmp_path / ".uv").exists(), "not even uv"


def test_a_missing_python_is_named(tmp_path):
    result = venv_sh(tmp_path, tmp_path / ".venv", "python3.99")
    assert result.returncode == 1
    assert "'python3.99' was not found." in result.stderr


@pytest.mark.slow
def test_a_venv_left_by_an_old_python_is_rebuilt_and_stamped(tmp_path):
    venv = tmp_path / ".venv"
    old_python(venv / "bin")
    (venv / "bin" / "python3.9").rename(venv / "bin" / "python")
    wheel(tmp_path / "wheels", "tinypkg", "1.0")
    offline(tmp_path, "tinypkg==1.0")
    result = venv_sh(tmp_path, venv, sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Removing" in result.stdout
    assert "Python 3.9.2, older than 3.11" in result.stdout
    assert "Creating" in result.stdout
    assert installed_version(venv, "tinypkg") == "1.0"
    # Compiled at install: with PYTHONDONTWRITEBYTECODE (set on CI machines) nothing else would
    # write the .pyc files, and every process would compile moto, boto3, cfn-lint again.
    assert list(venv.glob("lib/python*/site-packages/tinypkg/__pycache__/*.pyc"))
    version = ".".join(map(str, sys.version_info[:3]))
    stamp = (venv / ".installed").read_text()
    assert stamp.startswith(f"python {version}\nrequirements ")
    again = venv_sh(tmp_path, venv, sys.executable)
    assert (again.returncode, again.stdout) == (0, ""), "an up-to-date venv is left alone"


def test_changed_requirements_sync_the_venv_in_place_and_an_interrupted_sync_completes(tmp_path):
    venv = tmp_path / ".venv"
    wheel(tmp_path / "wheels", "tinypkg", "1.0")
    wheel(tmp_path / "wheels", "tinypkg", "2.0")
    wheel(tmp_path / "wheels", "extrapkg", "1.0")
    offline(tmp_path, "tinypkg==1.0\nextrapkg==1.0")
    assert venv_sh(tmp_path, venv, sys.executable).returncode == 0
    marker = venv / "kept-from-before"
    marker.touch()
    offline(tmp_path, "tinypkg==2.0")
    result = venv_sh(tmp_path, venv, sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Updating" in result.stdout
    assert marker.exists(), "synced in place, not rebuilt"
    assert installed_version(venv, "tinypkg") == "2.0"
    assert not list(venv.glob("lib/python*/site-packages/extrapkg")), "exactly the pins"
    # An install stopped half-way leaves no stamp (and maybe missing packages): the next run syncs.
    (venv / ".installed").unlink()
    for installed in venv.glob("lib/python*/site-packages/tinypkg*"):
        shutil.rmtree(installed)
    result = venv_sh(tmp_path, venv, sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "tinypkg") == "2.0"
    assert (venv / ".installed").exists()


def logging_uv(directory: Path, log: Path) -> Path:
    """A uv stand-in that records its arguments and succeeds."""
    return executable(directory / "uv", f'echo "$*" >> {log}')


@pytest.fixture(scope="module")
def made_venv(tmp_path_factory) -> Path:
    """A venv that venv.sh made, with nothing to install: the tests that start from such a venv
    take a copy of it (making one starts python, pip and uv: about 0.4 s of CPU)."""
    scratch = tmp_path_factory.mktemp("made-venv")
    result = venv_sh(scratch, scratch / ".venv", sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    return scratch / ".venv"


def copy_of(made_venv: Path, tmp_path: Path) -> Path:
    venv = tmp_path / ".venv"
    shutil.copytree(made_venv, venv, symlinks=True)
    return venv


def test_an_up_to_date_venv_is_kept_without_starting_uv(tmp_path, made_venv):
    # The check runs before every make command: it must not pay for starting uv or pip.
    venv = copy_of(made_venv, tmp_path)
    log = tmp_path / "uv.log"
    again = venv_sh(tmp_path, venv, sys.executable, UV=str(logging_uv(tmp_path / "bin", log)))
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert not log.exists()


def test_a_venv_that_installs_the_project_follows_pyproject_toml(tmp_path, made_venv):
    """`-e .` installs the project: a pyproject.toml change (an entry point, a dependency)
    syncs the venv again; a venv of other requirements ignores it."""
    venv = copy_of(made_venv, tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    log = tmp_path / "uv.log"
    uv = str(logging_uv(tmp_path / "bin", log))
    assert venv_sh(tmp_path, venv, sys.executable, UV=uv).stdout == ""
    (tmp_path / "requirements.txt").write_text("-e .\n")
    assert venv_sh(tmp_path, venv, sys.executable, UV=uv).returncode == 0
    log.unlink()
    assert venv_sh(tmp_path, venv, sys.executable, UV=uv).stdout == ""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '2'\n")
    result = venv_sh(tmp_path, venv, sys.executable, UV=uv)
    assert "Updating" in result.stdout
    assert "pip sync" in log.read_text()


def test_a_failed_install_leaves_no_stamp(tmp_path):
    venv = tmp_path / ".venv"
    (tmp_path / "requirements.txt").write_text("--no-index\nno-such-package-anywhere==1.0\n")
    result = venv_sh(tmp_path, venv, sys.executable)
    assert result.returncode == 1
    assert "uv could not install" in result.stderr
    assert "run make again" in result.stderr
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


def test_python_on_the_command_line_rebuilds_a_venv_of_another_version(tmp_path, made_venv):
    venv = copy_of(made_venv, tmp_path)
    # A Python that says it is 3.12.0 when venv.sh asks (and is this one otherwise).
    other = executable(
        tmp_path / "bin" / "python3.12",
        f'if [ "$1 $2" = "-I -S" ]; then echo 3.12.0; exit; fi\nexec {sys.executable} "$@"',
    )
    kept = venv_sh(tmp_path, venv, str(other))
    assert (kept.returncode, kept.stdout) == (0, ""), "PYTHON from make's default: venv kept"
    result = venv_sh(tmp_path, venv, str(other), explicit="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"PYTHON={other} is Python 3.12.0" in result.stdout
    assert "Creating" in result.stdout


# uv itself: installed once with PYTHON's pip, exactly the pinned version, into .uv/.


def uv_wheel_forwarding_to_the_real_uv(directory: Path) -> None:
    version = UV_PIN.removeprefix("uv==")
    wheel(directory, "uv", version, {"uv": f'#!/bin/sh\nexec {the_uv()} "$@"\n'})


def install_uv_with_pip_from_wheelhouse(tmp_path: Path) -> subprocess.CompletedProcess:
    """scripts/venv.sh with no uv of the user's (UV=""), pip reading only tmp_path/wheelhouse."""
    return venv_sh(
        tmp_path,
        tmp_path / ".venv",
        sys.executable,
        UV="",
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(tmp_path / "wheelhouse"),
    )


def test_the_pinned_uv_is_installed_with_pip_when_missing(tmp_path):
    uv_wheel_forwarding_to_the_real_uv(tmp_path / "wheelhouse")
    result = install_uv_with_pip_from_wheelhouse(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Installing {UV_PIN} into .uv with pip" in result.stderr  # stdout names the uv
    assert (tmp_path / ".uv" / "bin" / "uv").exists()
    assert (tmp_path / ".venv" / ".installed").exists()
    assert not list(tmp_path.glob(".uv.*")), "no half-installed copy left behind"


def test_a_uv_that_pip_cannot_install_is_explained_and_nothing_is_left(tmp_path):
    (tmp_path / "wheelhouse").mkdir()
    result = install_uv_with_pip_from_wheelhouse(tmp_path)
    assert result.returncode == 1
    assert f"pip could not install {UV_PIN}" in result.stderr
    assert "make UV=uv" in result.stderr
    assert not (tmp_path / ".uv").exists()
    assert not list(tmp_path.glob(".uv.*"))
    assert not (tmp_path / ".venv").exists()


def test_uv_gets_the_package_sources_pip_is_configured_with(tmp_path):
    """A machine whose pip finds packages in a local folder only (pip.conf): uv finds them too."""
    wheel(tmp_path / "wheels", "tinypkg", "1.0")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nno-index = true\nfind-links = {tmp_path / 'wheels'}\n")
    (tmp_path / "requirements.txt").write_text("tinypkg==1.0\n")
    venv = tmp_path / ".venv"
    result = venv_sh(tmp_path, venv, sys.executable, PIP_CONFIG_FILE=str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(venv, "tinypkg") == "1.0"


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
    # One worker more than CPUs: the extra one fills the time tests spend waiting. xdist keeps
    # the collection's order (slow files first), not its own by test count.
    assert f"-n {cpus + 1} --dist loadfile --no-loadscope-reorder --durations=10" in result.stdout
    assert f"with TEST_WORKERS={cpus + 1} ({cpus} CPUs + 1)" in result.stdout
    assert ("found no test to run" in result.stderr) == (pytest_exit == 5)


def test_make_clean_removes_a_hook_that_runs_from_the_venv(tmp_path):
    root = makefile_sandbox(tmp_path, 0)
    hooks = root / ".git" / "hooks"
    hook = executable(hooks / "pre-commit", f"INSTALL_PYTHON={root}/.venv/bin/python3")
    message_hook = executable(hooks / "commit-msg", f"INSTALL_PYTHON={root}/.venv/bin/python3")
    other = executable(hooks / "pre-push", "exit 0")
    result = run(["make", "--no-print-directory", "clean"], root, clean_env())
    assert result.returncode == 0, result.stderr
    assert not hook.exists()
    assert not message_hook.exists()
    assert "Removed the pre-commit hook" in result.stdout
    assert "Removed the commit-msg hook" in result.stdout
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
    import tomllib

    parts = tomllib.loads((REPO / "mutation" / "parts.toml").read_text())
    assert sorted(parts) == ["custom_resources", "lint_rules", "scripts"]
    for part, settings in parts.items():
        mutated = {p for pattern in settings["sources"] for p in REPO.glob(pattern)}
        assert mutated == set((REPO / part).rglob("*.py")), part
        for test in [*settings["tests"], *settings.get("deselect", [])]:
            assert (REPO / test.split("::")[0]).exists(), f"{part}: {test} does not exist"


def test_collection_puts_slow_files_first_then_the_largest():
    # make test hands files to workers in collection order: a long file started last would
    # be the run's tail, so files with a `slow` test come first, then by number of tests.
    files = [
        "tests/deploy/test_messages.py",  # 11 tests
        "tests/deploy/test_params.py",  # 53 tests
        "tests/deploy/test_readme_recipes.py",  # 2 tests, marked slow
    ]
    result = run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        REPO,
        clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    order = list(
        dict.fromkeys(line.split("::")[0] for line in result.stdout.splitlines() if "::" in line)
    )
    assert order == [files[2], files[1], files[0]]
