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


def try_hook(other: Path, template: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path.parent / "pre-commit-home")}
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(REPO), "cfn-lint-rotation", "--files", template],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=540,
    )


@pytest.mark.slow
def test_hook_reports_a_rotation_mistake_in_another_repository(other_repository, tmp_path):
    result = try_hook(other_repository, "templates/rotation.yaml", tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "E9001" in result.stdout


@pytest.mark.slow
def test_hook_passes_a_correct_template(other_repository, tmp_path):
    result = try_hook(other_repository, "templates/good.yaml", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
