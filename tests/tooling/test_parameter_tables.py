"""scripts/parameter_tables.py (`make docs`): what a README reader sees in each parameter table,
and how the script keeps the README's generated block in step with the templates.

The README test only checks today's templates; these run the script on scratch templates, so a
cell rendered wrong for a parameter the templates do not have yet is caught too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import parameter_tables

SCRIPT = Path(parameter_tables.__file__)
BEGIN, END = parameter_tables.BEGIN, parameter_tables.END
RESOURCES = {"Topic": {"Type": "AWS::SNS::Topic"}}


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A scratch checkout with the script, templates/ and README.md: the script run there, or
    imported with its paths pointed there, reads them instead of ours."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "scripts").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "scripts")
    monkeypatch.setattr(parameter_tables, "REPO", tmp_path)
    monkeypatch.setattr(parameter_tables, "README", tmp_path / "README.md")
    return tmp_path


def write_template(repo: Path, name: str, parameters: dict, outputs: tuple[str, ...] = ()) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": parameters,
        "Resources": RESOURCES,
        "Outputs": {output: {"Value": {"Ref": "Topic"}} for output in outputs},
    }
    (repo / "templates" / name).write_text(yaml.safe_dump(template, sort_keys=False))


def row(repo: Path, spec: dict) -> str:
    """The README row of a parameter `P` declared with `spec`."""
    write_template(repo, "stack.yaml", {"P": spec})
    (line,) = [line for line in parameter_tables.generated().splitlines() if "`P`" in line]
    return line


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        ({"Type": "String", "AllowedValues": ["a", "b"]}, "`a`, `b`"),
        # The values are exact; a ConstraintDescription only says them in other words.
        (
            {"Type": "String", "AllowedValues": ["x"], "ConstraintDescription": "Must be x."},
            "`x`",
        ),
        # A ConstraintDescription says more than the bounds (which characters, for instance).
        (
            {
                "Type": "String",
                "MinLength": 1,
                "MaxLength": 16,
                "ConstraintDescription": "1 to 16 letters.",
            },
            "1 to 16 letters",
        ),
        ({"Type": "Number", "MinValue": 1}, "at least 1"),
        ({"Type": "Number", "MaxValue": 35}, "at most 35"),
        ({"Type": "String", "MinLength": 2}, "length at least 2"),
        ({"Type": "String", "MaxLength": 64}, "length at most 64"),
        (
            {"Type": "Number", "MinValue": 0, "MaxValue": 9, "MinLength": 1, "MaxLength": 3},
            "at least 0, at most 9, length at least 1, length at most 3",
        ),
        ({"Type": "CommaDelimitedList"}, "CommaDelimitedList"),
    ],
)
def test_allowed_column(repo, spec, allowed):
    assert row(repo, {**spec, "Default": "d"}) == f"| `P` | `d` | {allowed} |  |"


@pytest.mark.parametrize(
    ("spec", "default"),
    [
        ({}, "(required)"),
        ({"Default": ""}, "(empty)"),
        ({"Default": "dbadmin"}, "`dbadmin`"),
        ({"Default": 0}, "`0`"),  # a number zero is a value, not an empty default
    ],
)
def test_default_column(repo, spec, default):
    assert row(repo, {"Type": "String", **spec}) == f"| `P` | {default} | String |  |"


def test_unquoted_yaml_booleans_read_as_cloudformation_passes_them(repo):
    """`Default: false` and `AllowedValues: [true, false]` are the strings "false" and "true" to
    CloudFormation (and cfn-lint accepts them); the README must not tell readers to type False."""
    spec = {"Type": "String", "Default": False, "AllowedValues": [True, False]}
    assert row(repo, spec) == "| `P` | `false` | `true`, `false` |  |"


def test_cells_fold_whitespace_and_escape_pipes(repo):
    # A folded or multi-line YAML description is one table row; a | must not open a new column.
    spec = {
        "Type": "String",
        "Default": "a|b",
        "AllowedValues": ["a|b", "c"],
        "Description": "  First line,\n  second  line:\tx | y.\n",
    }
    assert row(repo, spec) == (r"| `P` | `a\|b` | `a\|b`, `c` | First line, second line: x \| y. |")


def test_a_table_per_template_with_its_outputs(repo):
    write_template(repo, "stack.yaml", {"A": {"Type": "String"}}, outputs=("Arn", "Name"))
    assert parameter_tables.generated() == "\n".join(
        [
            BEGIN,
            "",
            "### `templates/stack.yaml`",
            "",
            "| Parameter | Default | Allowed | Description |",
            "|---|---|---|---|",
            "| `A` | (required) | String |  |",
            "",
            "Outputs: `Arn`, `Name`.",
            "",
            END,
        ]
    )


def test_the_stacks_that_build_a_cluster_come_first_then_the_others_by_name(repo):
    for name in ("zz.yaml", "mysql-multi-user.yaml", "aa.yaml", "mysql-single-user.yaml"):
        write_template(repo, name, {"P": {"Type": "String"}})
    headings = [line for line in parameter_tables.generated().splitlines() if line[:3] == "###"]
    assert headings == [
        "### `templates/mysql-single-user.yaml`",
        "### `templates/mysql-multi-user.yaml`",
        "### `templates/aa.yaml`",
        "### `templates/zz.yaml`",
    ]


def test_a_template_cfn_lint_cannot_read_stops_with_its_name_and_first_finding(repo):
    write_template(repo, "good.yaml", {"P": {"Type": "String"}})
    duplicates = "Parameters:\n  A: {Type: String}\n  A: {Type: String}\n  B: {Type: String}\n"
    (repo / "templates" / "broken.yaml").write_text(duplicates + "  B: {Type: String}\n")
    with pytest.raises(SystemExit) as stopped:
        parameter_tables.generated()
    # cfn-lint finds both duplicates; the first (A, line 2) is the one to fix first.
    assert str(stopped.value).startswith(f"{repo / 'templates' / 'broken.yaml'}: ")
    assert "'A'" in str(stopped.value)
    assert "'B'" not in str(stopped.value)


def readme(repo: Path, block: str) -> Path:
    path = repo / "README.md"
    path.write_text(f"# Title\n\nBefore.\n\n{block}\n\nAfter.\n")
    return path


def make_docs(capsys, monkeypatch, *args: str) -> tuple[int, str]:
    """main() in process (so make mutate's coverage map names these tests), as `make docs` or,
    with --check, the README test calls it: its exit code and what it printed to stderr."""
    monkeypatch.setattr(sys, "argv", ["scripts/parameter_tables.py", *args])
    code = parameter_tables.main()
    return code, capsys.readouterr().err


def test_make_docs_rewrites_only_the_block_and_then_check_passes(repo, capsys, monkeypatch):
    write_template(repo, "stack.yaml", {"P": {"Type": "String"}}, outputs=("Out",))
    path = readme(repo, f"{BEGIN}\nold table\n{END}")

    assert make_docs(capsys, monkeypatch) == (0, "")
    assert path.read_text() == f"# Title\n\nBefore.\n\n{parameter_tables.generated()}\n\nAfter.\n"
    assert make_docs(capsys, monkeypatch, "--check") == (0, "")


def test_check_reports_a_stale_readme_and_leaves_it(repo, capsys, monkeypatch):
    write_template(repo, "stack.yaml", {"P": {"Type": "String"}})
    path = readme(repo, f"{BEGIN}\nold table\n{END}")
    before = path.read_text()

    assert make_docs(capsys, monkeypatch, "--check") == (
        1,
        "README.md parameter tables are stale: run 'make docs'\n",
    )
    assert path.read_text() == before


@pytest.mark.parametrize("args", [(), ("--check",)])
def test_a_readme_without_the_markers_is_an_error_not_a_rewrite(repo, capsys, monkeypatch, args):
    write_template(repo, "stack.yaml", {"P": {"Type": "String"}})
    path = readme(repo, "no block here")
    before = path.read_text()

    assert make_docs(capsys, monkeypatch, *args) == (1, f"README.md has no '{BEGIN}' block\n")
    assert path.read_text() == before


def test_the_command_make_docs_runs_rewrites_the_readme(repo):
    """`python scripts/parameter_tables.py` itself, in the scratch checkout: the script's own
    entry point, which the in-process tests above do not go through."""
    write_template(repo, "stack.yaml", {"P": {"Type": "String"}})
    path = readme(repo, f"{BEGIN}\nold table\n{END}")

    result = subprocess.run(
        [sys.executable, "scripts/parameter_tables.py"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert parameter_tables.generated() in path.read_text()


def test_a_template_without_parameters_or_outputs_says_so(repo):
    (repo / "templates" / "bare.yaml").write_text(
        yaml.safe_dump({"AWSTemplateFormatVersion": "2010-09-09", "Resources": RESOURCES})
    )
    assert parameter_tables.generated() == "\n".join(
        [BEGIN, "", "### `templates/bare.yaml`", "", "No parameters.", "", "No outputs.", "", END]
    )
