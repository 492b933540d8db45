"""The README states what users rely on; these checks keep it true to the repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cfnlint.rules import Rules

from cfn_lint_rotation._rotation_lint._release import RULE_ID

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def test_parameter_tables_match_the_templates():
    result = subprocess.run(
        [sys.executable, "scripts/parameter_tables.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_test_one():
    quick_start = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.strip().splitlines()]
    assert commands == ["make", "make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_every_lint_rule_has_a_troubleshooting_row():
    rule_ids = set(Rules.create_from_module("cfn_lint_rotation"))
    documented = set(re.findall(rf"^\| ({RULE_ID.pattern}) \|", README, re.MULTILINE))
    assert rule_ids, "no lint rules found"
    assert documented == rule_ids


def test_every_make_target_in_the_readme_exists():
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    mentioned = set(re.findall(r"`make ([a-z][a-z-]*)", README))
    assert mentioned <= targets, mentioned - targets
