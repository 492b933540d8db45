"""The pack loads as users load it: `cfn-lint -a cfn_lint_rotation`, `cfn-lint-rotation`,
.cfnlintrc; it has one name, its ids a prefix of their own; a folder path is refused clearly.

Two tests start the real commands (`cfn-lint -a cfn_lint_rotation`, `cfn-lint-rotation`): they
prove the console scripts, the exit codes and a fresh interpreter. The others call the same
`main()` the commands call, in this process (a cfn-lint process costs about a second of CPU to
start), with the command's argv, working directory and exit handling.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import re
import runpy
import subprocess
import sys
import tomllib
import warnings
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
from cfnlint.rules import CloudFormationLintRule, Rules
from cfnlint.runner import main as cfn_lint_main
from lint_rules_kit import HERE, LINT_RULES, PACKAGE, REPO, TEMPLATES

import cfn_lint_rotation
from cfn_lint_rotation.__main__ import main as cfn_lint_rotation_main
from cfn_lint_rotation._rotation_lint._release import DOCS_URL, RULE_ID, VERSION

BIN = Path(sys.executable).parent
CFN_LINT = BIN / "cfn-lint"
EMPTY_CONFIG = HERE / "cfnlintrc"
BAD = TEMPLATES / "bad_every_pitfall.yaml"
# Every rule but ER001 (ER002 stands in for it when the transform version is unknown) and WR101
# (ER103 stands in for it when the parameter's default is already too long).
EVERY_PITFALL = {
    "ER002", "ER003", "ER004", "ER005",
    "ER101", "ER102", "ER103", "ER201", "ER202", "ER301", "ER302", "ER401",
    "ER701", "ER703", "ER801", "ER802", "ER803",
    "WR501", "WR601", "WR602", "WR603",
}  # fmt: skip
# Rules tested with templates of their own (test_lint_rules_windows.py, …_reach.py).
NOT_IN_THE_PITFALL_TEMPLATE = {
    "ER001", "WR101", "WR804", "ER303", "ER604", "ER702", "IR704", "ER901", "ER902", "ER903",
    "WR904",
}  # fmt: skip
DOCS = REPO / "docs" / "lint-rules.md"
# Id prefixes that other rule sets own: cfn-lint's (a severity letter and a digit, E9/W9/I9 left to
# users' own rules and packs such as cfn-lint-cfn-handler, cfn-lint-ax, qs-cfn-lint-rules) and
# serverless-rules' (ES, WS, IS).
OTHER_PREFIXES = [f"{letter}{digit}" for letter in "EWI" for digit in range(10)] + [
    "ES",
    "WS",
    "IS",
]


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def in_process(monkeypatch, capsys):
    """Run a command's `main()` here as its process would run: its argv and working directory,
    and SystemExit turned into an exit code as the interpreter does (a message goes to stderr
    with code 1). cfn-lint's logger, which the CLI points at this test's stderr, is put back."""

    def run(main, *argv: str | Path, cwd: Path) -> Ran:
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", [str(part) for part in argv])
        logger = logging.getLogger("cfnlint")
        handlers, level = list(logger.handlers), logger.level
        capsys.readouterr()
        try:
            main()
            code: int | str | None = 0
        except SystemExit as exit_:
            code = exit_.code
        finally:
            logger.handlers[:] = handlers
            logger.setLevel(level)
        out, err = capsys.readouterr()
        if isinstance(code, str):
            return Ran(1, out, f"{err}{code}\n")
        return Ran(code or 0, out, err)

    return run


def run_module_as_main() -> None:
    """`python -m cfn_lint_rotation`: the package's __main__ run as the script."""
    with warnings.catch_warnings():
        # The test imported cfn_lint_rotation.__main__ already; runpy warns that it runs it again.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="runpy")
        runpy.run_module(PACKAGE, run_name="__main__", alter_sys=True)


def ours(output: str) -> set[str]:
    return set(re.findall(rf"^({RULE_ID.pattern}) ", output, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def loaded() -> Rules:
    return Rules.create_from_module(PACKAGE)


def test_append_rules_names_the_module(tmp_path):
    (tmp_path / "template.yaml").write_text(BAD.read_text())
    result = run(
        CFN_LINT, "--config-file", EMPTY_CONFIG, "-a", PACKAGE, "--", "template.yaml", cwd=tmp_path
    )
    assert result.returncode & 2, result.stdout + result.stderr  # cfn-lint's error bit
    assert ours(result.stdout) == EVERY_PITFALL, result.stderr


ARGUMENTS = ("--format", "json", "--config-file", EMPTY_CONFIG, "--", BAD)


def assert_every_pitfall_in_json(result: subprocess.CompletedProcess | Ran) -> None:
    assert result.returncode & 2, result.stderr
    found = {match["Rule"]["Id"] for match in json.loads(result.stdout)}
    assert {i for i in found if RULE_ID.fullmatch(i)} == EVERY_PITFALL, result.stderr


def test_cfn_lint_rotation_appends_the_rules_and_passes_every_argument(tmp_path):
    # The command the pre-commit hook `cfn-lint-rotation` runs: the user's arguments, the first
    # one included, reach cfn-lint unchanged after --append-rules.
    assert_every_pitfall_in_json(run(BIN / "cfn-lint-rotation", *ARGUMENTS, cwd=tmp_path))


def test_python_m_cfn_lint_rotation_is_the_same_command(tmp_path, in_process):
    assert_every_pitfall_in_json(in_process(run_module_as_main, PACKAGE, *ARGUMENTS, cwd=tmp_path))


@pytest.mark.parametrize(
    "appended",
    [
        ("-a", PACKAGE),
        ("--append-rules", f"{PACKAGE}.rules"),
        (f"--append-rules={PACKAGE}",),
        ("-a", f"{PACKAGE}.rules"),
        (f"-a{PACKAGE}",),
    ],
    ids=" ".join,
)
def test_cfn_lint_rotation_given_the_pack_appends_it_once(tmp_path, in_process, appended):
    # A DuplicateRuleError (the pack loaded twice) would escape main() and fail the test.
    result = in_process(
        cfn_lint_rotation_main, "cfn-lint-rotation", *appended, "--config-file", EMPTY_CONFIG,
        "--", BAD, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode & 2, result.stderr
    assert ours(result.stdout) == EVERY_PITFALL


def test_cfn_lint_rotation_version_names_the_pack_and_cfn_lint(tmp_path, in_process):
    result = in_process(cfn_lint_rotation_main, "cfn-lint-rotation", "--version", cwd=tmp_path)
    cfn_lint_version = in_process(cfn_lint_main, "cfn-lint", "--version", cwd=tmp_path)
    assert cfn_lint_version.stdout.startswith("cfn-lint "), cfn_lint_version
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f"cfn-lint-rotation {VERSION} (cfn-lint {cfn_lint_version.stdout.split()[-1]})\n"
    )


def test_bare_cfn_lint_in_the_repository_reads_cfnlintrc(in_process):
    result = in_process(cfn_lint_main, "cfn-lint", "--", BAD, cwd=REPO)
    assert "ER101" in ours(result.stdout), result.stdout + result.stderr


@pytest.mark.parametrize("folder", ["lint_rules", "lint_rules/rules"])
@pytest.mark.parametrize("where", ["repository", "elsewhere"])
def test_a_folder_path_is_refused_with_the_module_to_name_instead(
    tmp_path, in_process, where, folder
):
    # 0.2.0's recipe; the rules now import their shared code relatively and load as a package.
    given = REPO / folder
    (tmp_path / "template.yaml").write_text(BAD.read_text())
    result = in_process(
        cfn_lint_main, "cfn-lint", "--config-file", EMPTY_CONFIG,
        "-a", folder if where == "repository" else given, "--", tmp_path / "template.yaml",
        cwd=REPO if where == "repository" else tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"cfn-lint --append-rules {given}: this folder is " in result.stderr
    assert "the rotation rule pack, a Python package since 0.3.0" in result.stderr
    assert f"`pip install -e {REPO}`" in result.stderr
    assert "`cfn-lint -a cfn_lint_rotation`" in result.stderr


def test_given_the_rules_folder_cfn_lint_loads_only_its_guard():
    # cfn-lint loads the files of a folder whose names match this pattern (cfnlint.helpers
    # .load_plugins), in the file system's order: a rule module among them could load before the
    # guard and fail on its relative imports with a traceback.
    loaded_by_path = [
        p.name for p in (LINT_RULES / "rules").glob("*.py") if fnmatch(p.name, "[A-Za-z1-9]*.py")
    ]
    assert loaded_by_path == ["by_path_guard.py"]


def test_the_pack_has_one_name(monkeypatch, loaded):
    """Loaded by cfn-lint (`loaded`: what -a does), every file of the pack is one module
    `cfn_lint_rotation.…`, loaded once; importing the folder under its own name is refused."""
    pack = [
        (name, module.__file__)
        for name, module in list(sys.modules.items())
        if getattr(module, "__file__", None) and Path(module.__file__).is_relative_to(LINT_RULES)
    ]
    names = [name for name, _ in pack]
    assert f"{PACKAGE}.rules._rotation_rules" in names
    assert "cfn_lint_rotation._rotation_lint._release" in names
    assert all(name == PACKAGE or name.startswith(f"{PACKAGE}.") for name in names), names
    assert len({file for _, file in pack}) == len(pack)  # no file loaded twice
    monkeypatch.syspath_prepend(str(REPO))
    with pytest.raises(ImportError) as refused:
        importlib.import_module("lint_rules")
    assert "imported as 'lint_rules'; it has one name: import cfn_lint_rotation" in str(
        refused.value
    )
    assert "lint_rules" not in sys.modules


def test_the_venv_holds_this_checkout_in_editable_mode():
    # `make install` installs the repository into .venv in editable mode: a fresh clone's tests,
    # `make lint` and pre-commit load the rules being edited, by the package's name.
    assert Path(cfn_lint_rotation.__file__).parent == LINT_RULES


def test_every_rule_module_and_folder_is_packaged():
    packaged = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = sorted(p.parent for p in LINT_RULES.rglob("__init__.py"))
    names = [".".join((PACKAGE, *f.relative_to(LINT_RULES).parts)) for f in folders]
    assert packaged["package-dir"] == {PACKAGE: "lint_rules"}
    assert sorted(packaged["packages"]) == sorted(names)


def test_every_rule_class_is_exported_and_no_helper_is_taken_for_a_rule(loaded):
    defined = {
        cls
        for path in (LINT_RULES / "rules").glob("_[a-z]*.py")
        for _, cls in inspect.getmembers(
            importlib.import_module(f"{PACKAGE}.rules.{path.stem}"), inspect.isclass
        )
        if issubclass(cls, CloudFormationLintRule) and cls.__module__.endswith(path.stem)
    }
    assert {type(rule) for rule in loaded.values()} == defined
    assert set(loaded) == EVERY_PITFALL | NOT_IN_THE_PITFALL_TEMPLATE


def test_rule_ids_are_the_packs_own(loaded, linter):
    for rule_id, rule in loaded.items():
        assert RULE_ID.fullmatch(rule_id), rule_id
        assert rule.severity == {"E": "error", "W": "warning", "I": "informational"}[rule_id[0]]
        # cfn-lint matches ignore/include/mandatory checks as prefixes: another rule set's
        # prefix must not reach these rules, and this pack's prefix must reach only them.
        assert rule.is_enabled(ignore_rules=OTHER_PREFIXES, include_rules=["E", "W", "I"])
        assert not rule.is_enabled(ignore_rules=[rule_id[:2]], include_rules=["E", "W", "I"])
    # cfn-lint's own rules, as a runner given `-a cfn_lint_rotation` loads them with the pack's.
    packs = {type(rule) for rule in loaded.values()}
    cfn_lints_own = [i for i, rule in linter.loaded.items() if type(rule) not in packs]
    assert len(cfn_lints_own) > 200
    assert set(linter.loaded) - set(cfn_lints_own) == set(loaded)
    assert not [i for i in cfn_lints_own if i[:2] in {"ER", "WR", "IR"}]


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


def test_the_pack_imports_without_touching_sys_path():
    # The pack's modules run again from their files (the loaded ones are put back afterwards, so
    # the other tests keep the rule classes cfn-lint holds).
    loaded = {
        name: module
        for name, module in sys.modules.items()
        if name == PACKAGE or name.startswith(f"{PACKAGE}.")
    }
    before = list(sys.path)
    for name in loaded:
        del sys.modules[name]
    try:
        fresh = importlib.import_module(PACKAGE)
        assert sys.path == before
        assert fresh is not loaded[PACKAGE]  # it did run again
        assert f"{PACKAGE}.rules._rotation_rules" in sys.modules
    finally:
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        sys.modules.update(loaded)
        sys.path[:] = before
    assert not [p for p in LINT_RULES.rglob("*.py") if "sys.path" in p.read_text()]


# The rules of 0.2.0, renamed in 0.3.0 (E9101 -> ER101): users look the old ids up.
RENAMED_IN_0_3_0 = [
    "ER001", "ER002", "ER003", "ER004", "ER005", "ER101", "ER102", "ER103", "WR101", "ER201",
    "ER202", "ER301", "ER302", "ER303", "ER401", "WR501", "WR601", "WR602", "WR603", "ER701",
    "ER702", "ER801", "ER802", "ER803", "WR804",
]  # fmt: skip


@pytest.mark.parametrize("rule_id", RENAMED_IN_0_3_0)
def test_each_renamed_rule_names_its_old_id_in_the_changelog_and_docs(loaded, rule_id):
    old = f"{rule_id[0]}9{rule_id[2:]}"
    docs = DOCS.read_text()
    assert rule_id in loaded
    assert f"| {old} | {rule_id} |" in (REPO / "CHANGELOG.md").read_text()
    assert f"| [{rule_id}](#{rule_id.lower()}) | {old} |" in docs
    assert re.search(rf"^## {rule_id}\n\n\*\*.+\*\* Before 0\.3\.0: {old}\.$", docs, re.MULTILINE)
