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
STACKCTL = SCRIPT.parent / "stackctl"
BEGIN, END = parameter_tables.BEGIN, parameter_tables.END
UPDATES_BEGIN, UPDATES_END = parameter_tables.UPDATES_BEGIN, parameter_tables.UPDATES_END
RESOURCES = {"Topic": {"Type": "AWS::SNS::Topic"}}


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A scratch checkout with the script (and the stackctl package it reads secrets with),
    templates/, README.md and docs/templates.md with an empty block: the script run there, or
    imported with its paths pointed there, reads them instead of ours."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "scripts").mkdir()
    (tmp_path / "docs").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "scripts")
    shutil.copytree(
        STACKCTL, tmp_path / "scripts" / "stackctl", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "docs" / "templates.md").write_text(f"# Doc\n\n{UPDATES_BEGIN}\n{UPDATES_END}\n")
    monkeypatch.setattr(parameter_tables, "REPO", tmp_path)
    monkeypatch.setattr(parameter_tables, "README", tmp_path / "README.md")
    monkeypatch.setattr(parameter_tables, "TEMPLATES_DOC", tmp_path / "docs" / "templates.md")
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
    doc = repo / "docs" / "templates.md"
    doc.write_text(f"# Doc\n\n{parameter_tables.generated_secret_tables()}\n")
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


# ---------------------------------------------------------------- the secret parameter tables
GENERATE = {"GenerateStringKey": "password", "PasswordLength": 32}


def secret_template(repo: Path, *, follower: str | None, name: str = "stack.yaml") -> None:
    """A template whose secret names parameter User under "username"; `follower` is "user" (a
    Custom::MySQLUser with AppSecretGeneration), "cluster" (a cluster resolving the secret),
    or None."""
    generate = {"SecretStringTemplate": {"Fn::Sub": '{"username":"${User}","port":${Port}}'}}
    generate |= GENERATE
    resources = {"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}}}
    resources["Secret"]["Properties"]["GenerateSecretString"] = generate
    if follower == "user":
        resources["User"] = {
            "Type": "Custom::MySQLUser",
            "Properties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "AdminSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf",
                "AppSecretArn": {"Ref": "Secret"},
                "Grants": [],
                "RetainOnDelete": {"Ref": "Keep"},
                "AppSecretGeneration": generate,
            },
        }
    if follower == "cluster":
        resources["Cluster"] = {
            "Type": "AWS::RDS::DBCluster",
            "Properties": {
                "Engine": "aurora-mysql",
                "MasterUsername": {
                    "Fn::Sub": "{{resolve:secretsmanager:${Secret}:SecretString:username}}"
                },
            },
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {name: {"Type": "String"} for name in ("User", "Port", "Keep")},
        "Resources": resources,
    }
    (repo / "templates" / name).write_text(yaml.safe_dump(template, sort_keys=False))


def secret_rows(repo: Path) -> list[str]:
    return [
        line for line in parameter_tables.generated_secret_tables().splitlines() if line[:2] == "| "
    ][1:]


def test_a_parameter_a_custom_mysql_user_follows_says_what_it_does_with_the_new_password(repo):
    secret_template(repo, follower="user")
    assert secret_rows(repo) == [
        "| `User` | `Secret`: `username` | CloudFormation generates a new password in `Secret`; "
        "`User` creates the user of the new name with it and exactly its grants (refused, before "
        "any change, when someone else's account has that name); the next rotation makes its "
        "`_clone`. The old user and its clone are dropped, or kept (no longer the stack's) while "
        "`Keep` was `true`. |",
        "| `Port` | `Secret`: `port` | CloudFormation generates a new password in `Secret`; `User` "
        "finds the user on the new port and sets it there; the old port's cleanup reaches no "
        "server once the cluster moved, and keeps the user while `Keep` is `true` if it does. "
        "Change it after the cluster's port changed. |",
    ]


def test_a_parameter_in_a_secret_the_cluster_resolves_is_refused(repo):
    secret_template(repo, follower="cluster")
    (row, _) = secret_rows(repo)
    assert row.startswith(
        "| `User` | `Secret`: `username` | Refused by `make deploy`: CloudFormation would write a "
        "new user name and password into `Secret` while `Cluster` keeps its master user"
    )
    assert row.endswith(
        "Keep the stack's value; a cluster's master user name never changes: another name needs "
        "a new stack. |"
    )


def test_a_parameter_nothing_follows_is_refused_as_breaking_logins(repo):
    secret_template(repo, follower=None)
    assert secret_rows(repo)[0] == (
        "| `User` | `Secret`: `username` | Refused by `make deploy`: CloudFormation would write a "
        "new password into `Secret` that nothing sets in the database, so logins with the secret "
        "and its next rotation would fail. Keep the stack's value; to change it, the template "
        "must first let something set the new password (a Custom::MySQLUser with "
        "AppSecretGeneration; see docs/templates.md, Parameters inside a generated secret). |"
    )


def test_a_template_without_generated_secrets_says_so(repo):
    write_template(repo, "stack.yaml", {"P": {"Type": "String"}})
    assert parameter_tables.generated_secret_tables() == "\n".join(
        [
            UPDATES_BEGIN,
            "",
            "### `templates/stack.yaml`",
            "",
            "No parameter reaches a `GenerateSecretString`.",
            "",
            UPDATES_END,
        ]
    )


def test_check_reports_a_stale_secret_table(repo, capsys, monkeypatch):
    secret_template(repo, follower="user")
    readme(repo, parameter_tables.generated())
    doc = repo / "docs" / "templates.md"
    before = doc.read_text()

    assert make_docs(capsys, monkeypatch, "--check") == (
        1,
        "docs/templates.md secret parameter tables are stale: run 'make docs'\n",
    )
    assert doc.read_text() == before
    assert make_docs(capsys, monkeypatch) == (0, "")
    assert parameter_tables.generated_secret_tables() in doc.read_text()
    assert make_docs(capsys, monkeypatch, "--check") == (0, "")


def test_a_doc_without_its_block_stops_make_docs_before_any_file_is_written(
    repo, capsys, monkeypatch
):
    secret_template(repo, follower="user")
    path = readme(repo, f"{BEGIN}\nold table\n{END}")
    (repo / "docs" / "templates.md").write_text("no block\n")
    before = path.read_text()

    assert make_docs(capsys, monkeypatch) == (
        1,
        f"docs/templates.md has no '{UPDATES_BEGIN}' block\n",
    )
    assert path.read_text() == before
