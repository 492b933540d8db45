"""The rules load as users load them: `cfn-lint --append-rules`, from anywhere, and .cfnlintrc."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.rules import Rules
from lint_rules_kit import HERE, LINT_RULES, REPO, TEMPLATES

from lint_rules._rotation_lint._release import DOCS_URL, VERSION

CFN_LINT = Path(sys.executable).parent / "cfn-lint"
EMPTY_CONFIG = HERE / "cfnlintrc"
BAD = TEMPLATES / "bad_every_pitfall.yaml"
# Every rule but E9001 (E9002 stands in for it when the transform version is unknown) and W9101
# (E9103 stands in for it when the parameter's default is already too long).
EVERY_PITFALL = {
    *(f"E900{n}" for n in (2, 3, 4, 5)),
    "E9101", "E9102", "E9103", "E9201", "E9202", "E9301", "E9302", "E9401",
    "E9701", "E9801", "E9802", "E9803",
    "W9501", "W9601", "W9602", "W9603",
}  # fmt: skip
# Rules tested with templates of their own (test_lint_rules_windows.py, …_reach.py).
NOT_IN_THE_PITFALL_TEMPLATE = {"E9001", "W9101", "W9804", "E9303", "E9702"}
DOCS = REPO / "docs" / "lint-rules.md"


def cfn_lint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CFN_LINT), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def rule_ids(output: str) -> set[str]:
    return set(re.findall(r"^([EWI]\d{4}) ", output, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def loaded() -> Rules:
    return Rules.create_from_directory(str(LINT_RULES))


def test_relative_append_rules_from_the_repository_root():
    result = cfn_lint(
        "--config-file", str(EMPTY_CONFIG), "--append-rules", "lint_rules", "--", str(BAD), cwd=REPO
    )
    assert result.returncode != 0
    assert {i for i in rule_ids(result.stdout) if i[1] == "9"} == EVERY_PITFALL, result.stderr


def test_python_m_lint_rules_appends_the_rules_and_passes_every_argument(tmp_path):
    # The entry point behind `cfn-lint-rotation` (the pre-commit hook): the user's arguments,
    # the first one included, reach cfn-lint unchanged after --append-rules.
    result = subprocess.run(
        [
            *(sys.executable, "-m", "lint_rules", "--format", "json"),
            *("--config-file", str(EMPTY_CONFIG), "--", str(BAD)),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    found = {match["Rule"]["Id"] for match in json.loads(result.stdout)}
    assert {i for i in found if i[1] == "9"} == EVERY_PITFALL, result.stderr


def test_absolute_append_rules_from_another_directory(tmp_path):
    copy = tmp_path / "template.yaml"
    copy.write_text(BAD.read_text())
    result = cfn_lint("--append-rules", str(LINT_RULES), "--", copy.name, cwd=tmp_path)
    assert {i for i in rule_ids(result.stdout) if i[1] == "9"} == EVERY_PITFALL, result.stderr


def test_bare_cfn_lint_in_the_repository_reads_cfnlintrc():
    result = cfn_lint("--", str(BAD), cwd=REPO)
    assert "E9101" in rule_ids(result.stdout), result.stdout + result.stderr


def test_every_rule_file_loads_and_no_helper_is_taken_for_a_rule(loaded):
    ids = set(loaded)
    assert ids == EVERY_PITFALL | NOT_IN_THE_PITFALL_TEMPLATE
    assert all(type(rule).__module__[0].isalpha() for rule in loaded.values())


def test_each_rule_explains_itself_and_is_documented(loaded):
    docs = DOCS.read_text()
    for rule_id, rule in loaded.items():
        assert rule.shortdesc, rule_id
        assert rule.description, rule_id
        assert rule.source_url == f"{DOCS_URL}#{rule_id.lower()}"
        assert re.search(rf"^## {rule_id}$", docs, flags=re.MULTILINE), f"{rule_id} not in docs"


def test_findings_link_to_the_documentation_of_the_release_that_made_them():
    assert DOCS_URL.startswith("https://github.com/")
    assert DOCS_URL.endswith(f"/blob/v{VERSION}/docs/lint-rules.md")
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[?{re.escape(VERSION)}\]?", changelog, flags=re.MULTILINE)


LOAD_EACH_FOLDER = """
import json, sys
from cfnlint.rules import Rules
path = list(sys.path)
found = {}
for folder in sys.argv[1:]:
    sys.path[:] = path  # a fresh cfn-lint process for each folder
    for module in [m for m in sys.modules if m.startswith("_rotation_lint")]:
        del sys.modules[module]
    try:
        found[folder] = sorted(Rules.create_from_directory(folder))
    except Exception as error:
        found[folder] = repr(error)
print(json.dumps(found))
"""


def test_each_rule_file_loads_first_from_its_folder(tmp_path, loaded):
    """cfn-lint reads a folder's files in the file system's order, so any rule file may be the
    first to load: each one puts its folder on sys.path for the shared code it imports."""
    folders = []
    for rule_file in sorted(LINT_RULES.glob("[a-z]*.py")):
        folder = tmp_path / rule_file.stem
        shutil.copytree(LINT_RULES / "_rotation_lint", folder / "_rotation_lint")
        shutil.copy(rule_file, folder)
        folders.append(str(folder))
    result = subprocess.run(
        [sys.executable, "-c", LOAD_EACH_FOLDER, *folders],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(result.stdout)
    by_file = {
        Path(folder).name: rules if isinstance(rules, str) else set(rules)
        for folder, rules in found.items()
    }
    expected = {}
    for rule_id, rule in loaded.items():
        expected.setdefault(type(rule).__module__, set()).add(rule_id)
    assert by_file == expected
