""".pre-commit-config.yaml: valid, and pinned to the tool versions the project tests with."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pre_commit.languages import pygrep

from tests.helpers.hook_templates import write_hook_templates

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / ".pre-commit-config.yaml"


def pinned(requirements: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", requirements.read_text(), re.MULTILINE)
    return {name.lower(): version for name, version in pins}


def hooks() -> dict[str, dict]:
    config = yaml.safe_load(CONFIG.read_text())
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def test_pre_commit_accepts_the_config():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "validate-config", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hooks_use_the_tool_versions_the_project_pins():
    dev = pinned(REPO / "requirements" / "dev.txt")
    for hook in hooks().values():
        for requirement in hook.get("additional_dependencies", []):
            name, version = requirement.split("==")
            if name.lower() in dev:
                assert dev[name.lower()] == version, f"{hook['id']}: {requirement}"


def test_the_hooks_the_project_promises_are_there():
    configured = hooks()
    assert {"cfn-lint", "ruff", "ruff-format", "check-yaml", "end-of-file-fixer",
            "trailing-whitespace"} <= set(configured)  # fmt: skip
    assert "--unsafe" in configured["check-yaml"]["entry"]  # so !Ref and !Sub parse
    assert re.search(configured["cfn-lint"]["files"], "templates/mysql-multi-user.yaml")


def test_the_cfn_lint_hook_lints_the_templates_with_the_rule_pack(tmp_path):
    """The hook as `make hooks` installs it, in a scratch repository holding this one's hook and
    cfn-lint configuration and .venv: a template that breaks a rotation rule fails the commit."""
    root = tmp_path / "repo"
    write_hook_templates(root)
    for name in (".pre-commit-config.yaml", ".cfnlintrc"):
        shutil.copy(REPO / name, root / name)
    (root / ".venv").symlink_to(REPO / ".venv")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "run", "cfn-lint", "--all-files"],
        cwd=root,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^ER001 .*\ntemplates/rotation\.yaml:", result.stdout, re.MULTILINE), (
        result.stdout
    )
    assert "templates/good.yaml" not in result.stdout


SUBJECT_HOOK = "commit-subject-length"


@pytest.mark.parametrize(
    ("message", "accepted"),
    [
        ("x" * 72 + "\n\nThe body's lines may be longer than the subject's limit of 72.\n", True),
        ("x" * 73 + "\n", False),
        ("Subject\n\n" + "y" * 100 + "\n", True),
    ],
)
def test_the_commit_msg_hook_limits_the_subject_to_72_characters(tmp_path, message, accepted):
    # The command pre-commit runs for a pygrep hook (`python -m pre_commit.languages.pygrep
    # ARGS ENTRY FILE`), called in this process; the test below runs it through pre-commit.
    hook = hooks()[SUBJECT_HOOK]
    assert hook["language"] == "pygrep"
    (tmp_path / "message").write_text(message)
    status = pygrep.main([*hook.get("args", []), hook["entry"], str(tmp_path / "message")])
    assert (status == 0) == accepted


def test_pre_commit_runs_the_subject_hook_on_the_commit_message(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".pre-commit-config.yaml").write_text(CONFIG.read_text())
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    (tmp_path / "message").write_text("x" * 73 + "\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "run", "--hook-stage", "commit-msg",
         "--commit-msg-filename", "message", SUBJECT_HOOK],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "commit subject at most 72 characters" in result.stdout
    assert "Failed" in result.stdout


def test_make_hooks_installs_the_commit_msg_hook_too():
    config = yaml.safe_load(CONFIG.read_text())
    assert set(config["default_install_hook_types"]) == {"pre-commit", "commit-msg"}
    assert "commit-msg" not in config["default_stages"], "the file hooks skip the message"
