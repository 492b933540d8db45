"""ALLOW_REPLACE=1 lifts the stack policy for one update; it comes back on every path out of it.

Success, a failed ExecuteChangeSet, a rollback, Ctrl-C (once: keeps watching; twice: stops), an
AWS answer that cannot be read, and a restore AWS refuses. CloudFormation answers through the
Stubber (moto computes no replacement); the clock is injected, nothing sleeps.
"""

from __future__ import annotations

import botocore.parsers
import pytest

from scripts.stackctl import cli
from scripts.stackctl.policy import ALLOW_ALL, protective_body
from tests.deploy.aws_stubs import StubbedAws, event, events, stack_arn, stack_description
from tests.deploy.test_change_review import (
    CHANGE_SET,
    CLUSTER_REPLACEMENT,
    HARMLESS,
    STACK,
    up_to_review,
)

STACK_TYPE = "AWS::CloudFormation::Stack"
RESTORED = "Stack policy restored (policies/stack-policy.json)."


@pytest.fixture
def stubs(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    stubs = StubbedAws()
    up_to_review(stubs, [CLUSTER_REPLACEMENT])
    cf = stubs.cloudformation
    cf.add_response("describe_stack_events", events())  # the events before this update
    cf.add_response(
        "set_stack_policy", {}, {"StackName": stack_arn(STACK), "StackPolicyBody": ALLOW_ALL}
    )
    return stubs


def restored(stubs: StubbedAws) -> None:
    stubs.cloudformation.add_response(
        "set_stack_policy",
        {},
        {"StackName": stack_arn(STACK), "StackPolicyBody": protective_body()},
    )


def stack_event(status: str, seconds: int, logical: str = STACK, reason: str = "") -> dict:
    kind = STACK_TYPE if logical == STACK else "AWS::RDS::DBCluster"
    physical = stack_arn(STACK) if logical == STACK else ""
    return event(STACK, logical, status, kind, reason, physical=physical, seconds=seconds)


def ends(stubs: StubbedAws, status: str, *more: dict) -> None:
    """One poll that sees the update end with `status` (and the final poll of events)."""
    cf = stubs.cloudformation
    cf.add_response("describe_stack_events", events(*more, stack_event(status, 60)))
    cf.add_response("describe_stacks", stack_description(STACK, status))
    cf.add_response("describe_stack_events", events())


def still_running(stubs: StubbedAws) -> None:
    cf = stubs.cloudformation
    cf.add_response("describe_stack_events", events(stack_event("UPDATE_IN_PROGRESS", 10)))
    cf.add_response("describe_stacks", stack_description(STACK, "UPDATE_IN_PROGRESS"))


def deploy(stubs: StubbedAws) -> int:
    argv = ["deploy", "--template", "templates/mysql-single-user.yaml", "--stack", STACK,
            "--skip-lint", "--params", "LogRetentionInDays=30", "--confirm-dangerous",
            "--allow-replace"]  # fmt: skip
    return cli.main(argv, stubs.runtime())


def test_success_restores_the_policy(stubs, capsys):
    stubs.cloudformation.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    ends(stubs, "UPDATE_COMPLETE")
    restored(stubs)
    stubs.cloudformation.add_response(
        "describe_stacks", stack_description(STACK, "UPDATE_COMPLETE")
    )
    assert deploy(stubs) == 0
    out = capsys.readouterr().out
    assert "ALLOW_REPLACE=1: stack policy lifted for this update" in out
    assert out.index(RESTORED) < out.index(f"Stack {STACK}: UPDATE_COMPLETE.")
    stubs.assert_done()


def test_a_failed_execute_restores_the_policy(stubs, capsys):
    message = "ChangeSet [make-deploy] cannot be executed in its current status of [OBSOLETE]"
    stubs.cloudformation.add_client_error("execute_change_set", "InvalidChangeSetStatus", message)
    restored(stubs)
    assert deploy(stubs) == 1
    captured = capsys.readouterr()
    assert RESTORED in captured.out
    assert captured.err == f"failed: AWS answered InvalidChangeSetStatus: {message}\n"
    stubs.assert_done()


def test_a_rollback_restores_the_policy_and_names_the_cause(stubs, capsys):
    stubs.cloudformation.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    reason = "Cannot upgrade aurora-mysql from 8.0.mysql_aurora.3.10.3 to 8.0.mysql_aurora.3.02.0"
    failure = stack_event("UPDATE_FAILED", 30, "DatabaseCluster", reason)
    ends(stubs, "UPDATE_ROLLBACK_COMPLETE", failure)
    restored(stubs)
    assert deploy(stubs) == 1
    captured = capsys.readouterr()
    assert RESTORED in captured.out
    assert captured.err.startswith(f"failed: Stack {STACK} ended UPDATE_ROLLBACK_COMPLETE. First ")
    assert reason in captured.err
    stubs.assert_done()


def test_one_ctrl_c_keeps_watching_and_restores_the_policy_when_the_update_ends(stubs, capsys):
    stubs.cloudformation.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    still_running(stubs)
    ends(stubs, "UPDATE_COMPLETE")
    restored(stubs)
    stubs.cloudformation.add_response(
        "describe_stacks", stack_description(STACK, "UPDATE_COMPLETE")
    )
    pressed = []

    def ctrl_c_once(seconds: float) -> None:
        if not pressed:
            pressed.append(seconds)
            raise KeyboardInterrupt

    stubs.clock.sleep = ctrl_c_once
    assert deploy(stubs) == 0
    out = capsys.readouterr().out
    assert (
        "Ctrl-C: the stack policy is lifted for this update and goes back when the update " in out
    )
    assert out.index("Ctrl-C again") < out.index(RESTORED) < out.index("UPDATE_COMPLETE.")
    stubs.assert_done()


def test_a_second_ctrl_c_restores_the_policy_at_once_and_stops_watching(stubs, capsys):
    stubs.cloudformation.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    still_running(stubs)
    still_running(stubs)
    restored(stubs)

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    stubs.clock.sleep = ctrl_c
    assert deploy(stubs) == 2
    captured = capsys.readouterr()
    assert RESTORED in captured.out
    assert captured.err == (
        "error: Stopped watching; the update goes on in CloudFormation with the stack policy "
        f"back in place. Watch it: aws cloudformation describe-stack-events --stack-name {STACK} "
        "--region eu-west-1\n"
    )
    stubs.assert_done()


def test_an_answer_botocore_cannot_read_restores_the_policy_without_a_traceback(stubs, capsys):
    """A proxy's HTML page instead of AWS's XML: botocore raises ResponseParserError, which is
    not a BotoCoreError."""
    cf = stubs.cloudformation
    cf.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    restored(stubs)

    client = stubs.aws.client("cloudformation")
    first = client.describe_stack_events  # the events before the update come from the Stubber

    def html_page(**kwargs):
        client.describe_stack_events = first
        raise botocore.parsers.ResponseParserError(
            "Unable to parse response (syntax error), invalid XML received:\nb'<html>'"
        )

    def once(**kwargs):
        client.describe_stack_events = html_page
        return first(**kwargs)

    client.describe_stack_events = once
    assert deploy(stubs) == 1
    captured = capsys.readouterr()
    assert RESTORED in captured.out
    assert captured.err == (
        "failed: AWS's answer could not be read (Unable to parse response (syntax error), invalid "
        "XML received:); something between you and AWS (a proxy, AWS_ENDPOINT_URL) may have "
        "answered instead. The change set may have run: check the stack's status first (aws "
        f"cloudformation describe-stacks --stack-name {STACK} --region eu-west-1), then run the "
        "command again.\n"
    )
    stubs.assert_done()


def test_a_restore_aws_refuses_fails_the_run_with_the_command_to_restore_by_hand(stubs, capsys):
    cf = stubs.cloudformation
    cf.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    ends(stubs, "UPDATE_COMPLETE")
    cf.add_client_error("set_stack_policy", "Throttling", "Rate exceeded")
    assert deploy(stubs) == 1
    err = capsys.readouterr().err
    assert err.startswith("failed: the stack policy could not be put back (An error occurred ")
    assert err.endswith(
        f"stack {STACK} is unprotected until you run: aws cloudformation set-stack-policy "
        f"--stack-name {STACK} --stack-policy-body file://policies/stack-policy.json "
        "--region eu-west-1\n"
    )
    stubs.assert_done()


def test_without_allow_replace_ctrl_c_stops_watching_and_touches_no_policy(monkeypatch, capsys):
    monkeypatch.delenv("CI", raising=False)
    stubs = StubbedAws()
    up_to_review(stubs, [HARMLESS])  # nothing to lift
    cf = stubs.cloudformation
    cf.add_response("describe_stack_events", events())
    cf.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    still_running(stubs)

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    stubs.clock.sleep = ctrl_c
    argv = ["deploy", "--template", "templates/mysql-single-user.yaml", "--stack", STACK,
            "--skip-lint", "--params", "LogRetentionInDays=30"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    assert capsys.readouterr().err == (
        "error: Stopped watching; the update goes on in CloudFormation. Watch it: aws "
        f"cloudformation describe-stack-events --stack-name {STACK} --region eu-west-1\n"
    )
    stubs.assert_done()  # no set_stack_policy was queued, so none was called


def test_ctrl_c_while_execute_change_set_is_asked_restores_the_policy(stubs, capsys):
    def ctrl_c(**kwargs):
        raise KeyboardInterrupt

    stubs.aws.client("cloudformation").execute_change_set = ctrl_c  # the user's key, mid-call
    restored(stubs)
    assert deploy(stubs) == 130
    assert RESTORED in capsys.readouterr().out
    stubs.assert_done()


def test_an_unreadable_answer_to_the_restore_still_names_the_command(stubs, capsys):
    cf = stubs.cloudformation
    cf.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    ends(stubs, "UPDATE_COMPLETE")
    client = stubs.aws.client("cloudformation")
    lift = client.set_stack_policy  # the Stubber answers the lift

    def html_page_on_restore(**kwargs):
        if kwargs["StackPolicyBody"] == ALLOW_ALL:
            return lift(**kwargs)
        raise botocore.parsers.ResponseParserError("Unable to parse response, invalid XML")

    client.set_stack_policy = html_page_on_restore
    assert deploy(stubs) == 1
    err = capsys.readouterr().err
    assert err.startswith("failed: the stack policy could not be put back (Unable to parse ")
    assert err.endswith(
        f"stack {STACK} is unprotected until you run: aws cloudformation set-stack-policy "
        f"--stack-name {STACK} --stack-policy-body file://policies/stack-policy.json "
        "--region eu-west-1\n"
    )
    stubs.assert_done()


def test_allow_replace_on_a_create_is_refused_before_any_change_set(monkeypatch, capsys):
    """A new stack has nothing to replace, and a REVIEW_IN_PROGRESS stack takes no stack policy:
    the setting is refused like any other this run does not use."""
    monkeypatch.delenv("CI", raising=False)
    stubs = StubbedAws()
    stubs.identity()
    stubs.cloudformation.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist"
    )
    argv = ["deploy", "--template", "templates/mysql-single-user.yaml", "--stack", STACK,
            "--skip-lint", "--params", "TestInstanceImageId=ami-0123456789abcdef0",
            "--allow-replace"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    assert capsys.readouterr().err == (
        "error: make deploy creates this stack: ALLOW_REPLACE=1 does nothing for a new stack (it "
        "lifts an existing stack's policy for one update); run without it.\n"
    )
    stubs.assert_done()  # no change set, no stack policy call
