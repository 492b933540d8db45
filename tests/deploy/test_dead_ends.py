"""No dead ends and no tracebacks: every state a command can meet has a way on.

A stack DRY_RUN=1 left REVIEW_IN_PROGRESS is deleted by make delete (moto); DRY_RUN=1 names the
stack-policy refusal the real run would meet; an AWS answer without the fields the code reads
is shown, not a KeyError; a setting a command does not use is refused with a sentence.
"""

from __future__ import annotations

import pytest

from scripts.stackctl import cli
from scripts.stackctl.runtime import Runtime
from tests.deploy.aws_stubs import StubbedAws
from tests.deploy.conftest import FIXTURES, clients, make
from tests.deploy.test_change_review import CLUSTER_REPLACEMENT, STACK, up_to_review

LOOKUP = str(FIXTURES / "lookup-function-only.yaml")


@pytest.mark.slow
def test_a_dry_run_leaves_the_change_set_unexecuted_and_make_delete_removes_the_stack(
    aws_env, lambda_zip, moto_endpoint
):
    aws = clients(moto_endpoint)
    aws("s3").create_bucket(
        Bucket="dry-then-delete", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    dry = make(
        "deploy", f"TEMPLATE={LOOKUP}", "STACK=dry-then-delete", "BUCKET=dry-then-delete",
        "SKIP_LINT=1", "DRY_RUN=1", env=aws_env,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "DRY_RUN=1: change set created, not executed" in dry.stdout
    assert "aws cloudformation execute-change-set --change-set-name arn:" in dry.stdout
    assert "make delete STACK=dry-then-delete REGION=eu-west-1 YES=1 removes it" in dry.stdout
    cf = aws("cloudformation")
    assert cf.describe_stacks(StackName="dry-then-delete")["Stacks"][0]["StackStatus"] == (
        "REVIEW_IN_PROGRESS"
    )
    deleted = make("delete", "STACK=dry-then-delete", "REGION=eu-west-1", "YES=1", env=aws_env)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert "is REVIEW_IN_PROGRESS: a change set that was never executed (DRY_RUN=1)" in (
        deleted.stdout
    )
    assert "Stack dry-then-delete deleted." in deleted.stdout
    summaries = cf.list_stacks()["StackSummaries"]
    assert {s["StackStatus"] for s in summaries if s["StackName"] == "dry-then-delete"} == {
        "DELETE_COMPLETE"
    }


def test_dry_run_names_the_stack_policy_refusal_the_real_run_would_meet(capsys, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    stubs = StubbedAws()
    up_to_review(stubs, [CLUSTER_REPLACEMENT])
    argv = ["deploy", "--template", "templates/mysql-single-user.yaml", "--stack", STACK,
            "--skip-lint", "--params", "LogRetentionInDays=30", "--dry-run"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 0
    out = capsys.readouterr().out
    assert (
        "DRY_RUN=1: the real run would be refused: the stack policy denies replacing or removing "
        "DatabaseCluster, so this update would fail and roll back. If you mean it, run again "
        "with ALLOW_REPLACE=1 CONFIRM_DANGEROUS=1"
    ) in out
    assert "DRY_RUN=1: change set created, not executed." in out
    stubs.assert_done()  # the change set stays for the user to read; nothing executed


def test_a_change_without_resource_type_or_details_is_shown_not_a_traceback(capsys, monkeypatch):
    """ResourceChange's members are all optional in the API; a hook or a module change can come
    without ResourceType (this once raised KeyError)."""
    monkeypatch.delenv("CI", raising=False)
    stubs = StubbedAws()
    bare = {"Type": "Resource", "ResourceChange": {"Action": "Modify", "LogicalResourceId": "X"}}
    up_to_review(stubs, [bare, {"Type": "Resource"}])
    argv = ["deploy", "--template", "templates/mysql-single-user.yaml", "--stack", STACK,
            "--skip-lint", "--params", "LogRetentionInDays=30", "--dry-run"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 0
    out = capsys.readouterr().out
    assert " Modify  X           ?" in out
    assert " ?       ?           ?" in out
    stubs.assert_done()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["delete", "--stack", "demo", "--allow-replace"],
            "make delete does not use ALLOW_REPLACE=1 (a setting of make deploy); run without it.",
        ),
        (
            ["verify", "--stack", "demo", "--template", "templates/mysql-multi-user.yaml"],
            "make verify does not use TEMPLATE=templates/mysql-multi-user.yaml (a setting of make "
            "deploy); run without it.",
        ),
        (
            ["delete", "--stack", "demo", "--rotate", "--params", "A=1"],
            "make delete does not use PARAMS=A=1 (a setting of make deploy); run without it.\n"
            "make delete does not use ROTATE=1 (a setting of make verify); run without it.",
        ),
        (
            ["package", "--bucket", "b-1", "--stack", "demo"],
            "make package does not use STACK=demo (a setting of make deploy and make verify and "
            "make delete); run without it.",
        ),
        (
            ["deploy", "--template", "t.yaml", "--stack", "demo", "--yes"],
            "make deploy does not use YES=1 (a setting of make delete); run without it.",
        ),
    ],
)
def test_a_setting_the_command_does_not_use_is_refused_before_aws(argv, message, capsys):
    def no_aws(region: str):
        raise AssertionError("refused before AWS is asked")

    assert cli.main(argv, Runtime(connect=no_aws)) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_make_passes_every_setting_so_a_stray_one_is_refused(aws_env):
    env = {**aws_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens there
    result = make("delete", "STACK=demo", "ALLOW_REPLACE=1", "YES=1", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: make delete does not use ALLOW_REPLACE=1 (a setting of make deploy); run "
        "without it.\n"
    )


def test_a_stack_name_that_starts_with_a_dash_gets_the_stack_name_rule(aws_env):
    """make passes --stack=-rot, so argparse takes it as a value, not an unknown option."""
    result = make("delete", "STACK=-rot", env=aws_env)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: STACK=-rot is not a valid stack name: start with a letter, then letters, digits "
        "and hyphens only.\n"
    )
    assert "expected one argument" not in result.stderr
