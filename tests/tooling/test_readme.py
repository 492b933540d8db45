"""The README states what users rely on; these checks keep it true to the repository."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from cfnlint.rules import Rules

from cfn_lint_rotation._rotation_lint._release import RULE_ID

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def test_parameter_tables_match_the_templates(monkeypatch, capsys):
    # `make docs --check` in process (cfn-lint is loaded here already); the script's own entry
    # point runs in test_parameter_tables.py::test_the_command_make_docs_runs_rewrites_the_readme.
    from scripts import parameter_tables

    monkeypatch.setattr(sys, "argv", ["scripts/parameter_tables.py", "--check"])
    assert parameter_tables.main() == 0, capsys.readouterr().err


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


def test_every_make_test_example_selects_tests():
    """`make test TESTS=... PYTEST_ARGS=...` in the docs, as written, runs at least one test."""
    examples = []
    for doc in (README, (REPO / "docs" / "testing.md").read_text()):
        examples += re.findall(r"make test (TESTS=[^`#\n]*?)\s*(?:#|`|\n)", doc)
    examples = sorted(set(examples))
    assert len(examples) >= 2, examples
    for example in examples:
        settings = dict(item.split("=", 1) for item in shlex.split(example))
        paths = settings["TESTS"].split()
        assert all((REPO / path).exists() for path in paths), example
        if "PYTEST_ARGS" not in settings:
            continue  # a folder or file that exists runs (collecting a folder takes long)
        argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist"]
        argv += [*shlex.split(settings["PYTEST_ARGS"]), *paths]
        collected = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
        assert collected.returncode == 0, (example, collected.stdout[-2000:], collected.stderr)
        assert re.search(r"^\d+(/\d+)? tests? collected", collected.stdout, re.MULTILINE), (
            example,
            collected.stdout[-500:],
        )
