"""Using the rules from another repository, exactly as the README says.

The README's section "Using the lint rules in another repository" is read and its recipes are run
as written in a scratch repository: pip install into a fresh virtualenv and `cfn-lint -a
cfn_lint_rotation`, a `.cfnlintrc` with `templates:` and `append_rules:`, and the pre-commit
config that `pre-commit autoupdate` pins. The only change is the address: the repository URL
becomes a scratch git repository made from this working tree on a branch `main`, as the repository
holds it; no tag is made. pip and pre-commit install cfn-lint and its dependencies as for a user,
from a local folder of wheels (PIP_NO_INDEX, PIP_FIND_LINKS) instead of the package index: the
folder is downloaded once per set of pins into the user's cache, so a run makes no registry round
trip. The user's pre-commit is the one this project pins.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from tests.helpers.hook_templates import write_hook_templates

REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
SECTION = "## Using the lint rules in another repository"


def release_facts():
    """The pack's version, URLs and rule ids, imported when a test runs rather than when pytest
    collects this file: importing the pack loads cfn-lint (about 1 s of CPU), which the pytest
    runs of tests/tooling/test_test_setup.py that only plan or skip these tests never need."""
    from cfn_lint_rotation._rotation_lint import _release

    return _release


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def recipes() -> list[tuple[str, str]]:
    """(language, text) of each fenced block of the README's section, in order."""
    readme = (REPO / "README.md").read_text()
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)


def pins_for_the_wheelhouse() -> list[str]:
    """What installing the rule pack needs, at the versions the project tests with: cfn-lint and
    every other pin of requirements/dev.txt as constraints, and the build backend."""
    build = re.search(r"^requires = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.M)
    pins = re.findall(r"^[a-z0-9_.-]+==\S+", (REPO / "requirements" / "dev.txt").read_text(), re.M)
    return [*json.loads(f"[{build.group(1)}]"), *pins]


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    """The wheels the recipes install, downloaded once per set of pins (pip's own sources)."""
    pins = pins_for_the_wheelhouse()
    # Binary wheels fit one Python and platform: the folder is theirs too.
    python = f"{sys.implementation.cache_tag} {sysconfig.get_platform()}"
    key = hashlib.sha256("\n".join([python, *pins]).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "aurora-mysql-secret-rotation" / f"wheelhouse-{key}"
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".download-"))
    build_backend, constraints = pins[0], scratch / "constraints.txt"
    constraints.write_text("\n".join(pins[1:]) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--dest",
            str(scratch),
            "-c",
            str(constraints),
            "cfn-lint",
            build_backend,
            "wheel",
        ],
        check=True,
    )
    constraints.unlink()
    with contextlib.suppress(OSError):  # another run filled it meanwhile: keep that one
        scratch.rename(folder)
    shutil.rmtree(scratch, ignore_errors=True)
    return folder


def scratch_env(home: Path, wheels: Path) -> dict[str, str]:
    """The user's environment: the Python the project runs on and pre-commit first on PATH, no
    project venv, pip reading packages from the wheelhouse only."""
    # Not compiling every installed module to .pyc (sympy alone is ~8 s of CPU per install):
    # the user's first cfn-lint run writes the .pyc files of what it imports.
    unset = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PIP_COMPILE"] = "0"  # --no-compile (PIP_NO_COMPILE=1 would mean --compile to pip)
    tools = home / "user-bin"
    tools.mkdir(exist_ok=True)
    if not (tools / "pre-commit").exists():
        (tools / "pre-commit").symlink_to(PRE_COMMIT)
    python_dir = str(Path(sys._base_executable).parent)
    env["PATH"] = os.pathsep.join([str(tools), python_dir, env.get("PATH", "")])
    env["PRE_COMMIT_HOME"] = str(home / "pre-commit-home")
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    return env


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """This working tree as a git repository on its branch main, standing in for the URL."""
    path = tmp_path_factory.mktemp("toolkit")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, path / name)
    git(path, "init", "-q", "--initial-branch=main")
    git(path, "add", ".")
    git(path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "main")
    return path


def head(repository: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def other_repository(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("other-repository")
    git(path, "init", "-q")
    write_hook_templates(path)
    git(path, "add", ".")
    return path


def localised(text: str, release: Path) -> str:
    """A recipe with the repository's URL replaced by the scratch release repository."""
    url = release_facts().REPOSITORY_URL
    assert url in text or "cfn_lint_rotation" in text or ".venv/bin/cfn-lint" in text
    return text.replace(f"git+{url}", f"git+file://{release}").replace(url, str(release))


def run_lines(script: str, cwd: Path, env: dict) -> list[subprocess.CompletedProcess]:
    results = []
    for line in script.strip().splitlines():
        results.append(
            subprocess.run(
                ["bash", "-c", line],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=540,
            )
        )
    return results


def rule_lines(output: str) -> list[str]:
    return re.findall(rf"^{release_facts().RULE_ID.pattern} .*$", output, flags=re.MULTILINE)


def test_readme_recipes_take_main_and_no_tag():
    # The repository holds no release tag: a recipe that pins one fails for every reader.
    blocks = recipes()
    url = release_facts().REPOSITORY_URL
    assert [language for language, _ in blocks] == ["sh", "yaml", "sh", "yaml", "sh"]
    text = "".join(body for _, body in blocks)
    assert f"{url}@main" in text
    assert "rev: main" in blocks[3][1]
    assert f"pre-commit autoupdate --repo {url}" in blocks[4][1]
    assert not re.search(r"@v\d|rev: v\d", text)
    assert "templates:" in blocks[1][1]
    assert "- cfn_lint_rotation" in blocks[1][1]


@pytest.mark.slow
@pytest.mark.installs
def test_pip_install_then_cfn_lint_a_module_and_cfnlintrc(
    release, other_repository, wheelhouse, tmp_path
):
    (install_and_run, _), (cfnlintrc, _), (bare_run, _), *_ = (
        (body, language) for language, body in recipes()
    )
    env = scratch_env(tmp_path, wheelhouse)
    *setup, version, linted = run_lines(localised(install_and_run, release), other_repository, env)
    for step in [*setup, version]:
        assert step.returncode == 0, step.args[-1] + step.stdout + step.stderr
    # pip wrote down the commit it installed: the pin the README promises.
    pinned = (other_repository / "requirements-lint.txt").read_text()
    assert pinned == f"aurora-mysql-secret-rotation @ git+file://{release}@{head(release)}\n"
    facts = release_facts()
    assert version.stdout.startswith(f"cfn-lint-rotation {facts.VERSION} (cfn-lint ")
    assert linted.returncode & 2, linted.stdout + linted.stderr  # cfn-lint's error bit
    found = rule_lines(linted.stdout)
    assert found, linted.stdout
    assert all(line.startswith("ER001") for line in found), linted.stdout
    assert "templates/rotation.yaml" in linted.stdout
    assert "templates/good.yaml" not in linted.stdout

    (other_repository / ".cfnlintrc").write_text(cfnlintrc)
    (bare,) = run_lines(bare_run, other_repository, env)
    assert rule_lines(bare.stdout) == found, bare.stdout + bare.stderr

    # Each finding links to its rule's documentation at the tag of the pack's version.
    as_json = run_lines(
        ".venv/bin/cfn-lint -a cfn_lint_rotation -f json -- templates/rotation.yaml",
        other_repository,
        env,
    )[0]
    sources = {
        m["Rule"]["Source"]
        for m in json.loads(as_json.stdout)
        if facts.RULE_ID.fullmatch(m["Rule"]["Id"])
    }
    assert sources == {f"{facts.DOCS_URL}#er001"}


@pytest.mark.slow
@pytest.mark.installs
def test_pre_commit_config_from_the_readme(release, other_repository, wheelhouse, tmp_path):
    *_, (config, _), (pin_and_run, _) = ((body, language) for language, body in recipes())
    (other_repository / ".pre-commit-config.yaml").write_text(localised(config, release))
    env = scratch_env(tmp_path.parent, wheelhouse)
    autoupdate, result = run_lines(localised(pin_and_run, release), other_repository, env)
    assert autoupdate.returncode == 0, autoupdate.stdout + autoupdate.stderr
    pinned = (other_repository / ".pre-commit-config.yaml").read_text()
    assert f"rev: {head(release)}" in pinned  # no tag yet: the commit at the tip of main
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mutable reference" not in result.stdout + result.stderr
    assert "ER001" in result.stdout
    assert "templates/rotation.yaml" in result.stdout
    assert "templates/good.yaml" not in result.stdout  # a correct template passes the hook
