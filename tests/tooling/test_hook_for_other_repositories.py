"""The pre-commit hook other repositories use: `cfn-lint-rotation` from .pre-commit-hooks.yaml.

pre-commit installs this repository the way it would for a user (a fresh virtualenv, pip install
of the project and cfn-lint from the package index), then lints a template of another repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
NO_TRANSFORM = """\
Resources:
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf
      HostedRotationLambda:
        RotationType: MySQLSingleUser
      RotationRules:
        ScheduleExpression: rate(30 days)
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def other_repository(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("other-repository")
    git(path, "init", "-q")
    (path / "templates").mkdir()
    (path / "templates" / "rotation.yaml").write_text(NO_TRANSFORM)
    (path / "templates" / "good.yaml").write_text(
        "Transform: AWS::SecretsManager-2024-09-16\n" + NO_TRANSFORM
    )
    git(path, "add", ".")
    return path


@pytest.fixture(scope="module")
def hook_run(other_repository, tmp_path_factory) -> subprocess.CompletedProcess:
    """One `pre-commit try-repo` over both templates: installing the hook is most of the time."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(REPO), "cfn-lint-rotation", "--verbose", "--files",
         "templates/rotation.yaml", "templates/good.yaml"],
        cwd=other_repository,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
        timeout=540,
    )  # fmt: skip


def findings(result: subprocess.CompletedProcess, template: str) -> list[str]:
    """The rule ids cfn-lint reported for one template (each finding ends with file:line:col)."""
    blocks = [block.strip().splitlines() for block in result.stdout.split("\n\n")]
    return [
        block[0].split()[0]
        for block in blocks
        if len(block) >= 2 and block[-1].startswith(f"{template}:")
    ]


@pytest.mark.slow
def test_hook_reports_a_rotation_mistake_in_another_repository(hook_run):
    assert hook_run.returncode == 1, hook_run.stdout + hook_run.stderr
    assert "E9001" in findings(hook_run, "templates/rotation.yaml"), hook_run.stdout


@pytest.mark.slow
def test_hook_passes_a_correct_template(hook_run):
    # 1: the hook ran and failed on rotation.yaml only (an install or hook error exits 3).
    assert hook_run.returncode == 1, hook_run.stdout + hook_run.stderr
    assert "Traceback" not in hook_run.stdout + hook_run.stderr
    assert findings(hook_run, "templates/good.yaml") == [], hook_run.stdout
