""".pre-commit-config.yaml: valid, and pinned to the tool versions the project tests with."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

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
