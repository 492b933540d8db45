"""Events while a stack changes, the root cause of a failure, and deletes that take long or fail.

Shaped like AWS's answers through botocore's Stubber; the clock is injected, nothing sleeps.
"""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.stub import ANY

from scripts.stackctl import cli
from tests.deploy.aws_stubs import (
    T0,
    StubbedAws,
    Terminal,
    event,
    events,
    stack_arn,
    stack_description,
)

SINGLE = "templates/mysql-single-user.yaml"
STACK = "rotation-single"
NESTED = "rotation-single-SecretsManagerRDSMySQLRotationSingleUser-1A2B3C"
CHANGE_SET = f"arn:aws:cloudformation:eu-west-1:111122223333:changeSet/make-deploy/{'b' * 36}"
STACK_TYPE = "AWS::CloudFormation::Stack"
ENI_REASON = (
    'Resource handler returned message: "The provided execution role does not have permissions '
    'to call CreateNetworkInterface on EC2 (Service: Lambda, Status Code: 400)"'
)


@pytest.fixture
def stubs(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    return StubbedAws()


@pytest.mark.parametrize(
    ("flags", "final", "advice"),
    [
        ((), "ROLLBACK_COMPLETE", "DISABLE_ROLLBACK=1 keeps a failed create's resources"),
        (("--disable-rollback",), "CREATE_FAILED", "DISABLE_ROLLBACK=1 kept the resources"),
    ],
)
def test_a_failed_create_prints_the_root_cause_from_the_nested_stack(
    stubs, capsys, flags, final, advice
):
    stubs.identity()
    cf = stubs.cloudformation
    cf.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist"
    )
    cf.add_response(
        "create_change_set",
        {"Id": CHANGE_SET, "StackId": stack_arn(STACK)},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "CREATE",
            "Parameters": [
                {"ParameterKey": "TestInstanceImageId", "ParameterValue": "ami-0123456789abcdef0"}
            ],
            "Capabilities": ANY,
            "Description": ANY,
            "TemplateBody": ANY,
        },
    )
    cf.add_response(
        "describe_change_set",
        {
            "ChangeSetId": CHANGE_SET,
            "StackId": stack_arn(STACK),
            "Status": "CREATE_COMPLETE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "AdminSecretRotation",
                        "ResourceType": "AWS::SecretsManager::RotationSchedule",
                    },
                }
            ],
        },
    )
    root = stack_arn(STACK)
    nested = stack_arn(NESTED)
    cf.add_response(
        "describe_stack_events",
        events(
            event(STACK, STACK, "REVIEW_IN_PROGRESS", STACK_TYPE, "User Initiated", physical=root),
        ),
    )
    execute = {"ChangeSetName": CHANGE_SET, **({"DisableRollback": True} if flags else {})}
    cf.add_response("execute_change_set", {}, execute)
    cf.add_response(
        "describe_stack_events",
        events(
            event(STACK, STACK, "CREATE_IN_PROGRESS", STACK_TYPE, "User Initiated", physical=root),
            event(
                STACK, "AdminSecret", "CREATE_COMPLETE", "AWS::SecretsManager::Secret", seconds=5
            ),
            event(
                STACK,
                "SecretsManagerRDSMySQLRotationSingleUser",
                "CREATE_IN_PROGRESS",
                STACK_TYPE,
                physical=nested,
                seconds=900,
            ),
            event(
                STACK,
                "TestInstance",
                "CREATE_FAILED",
                "AWS::EC2::Instance",
                "Resource creation cancelled",
                seconds=1000,
            ),
            event(
                STACK,
                "SecretsManagerRDSMySQLRotationSingleUser",
                "CREATE_FAILED",
                STACK_TYPE,
                "Embedded stack was not successfully created: The following resource(s) failed to "
                "create: [SecretsManagerRDSMySQLRotationSingleUserLambda].",
                physical=nested,
                seconds=1001,
            ),
            event(STACK, STACK, final, STACK_TYPE, physical=root, seconds=1500),
        ),
    )
    cf.add_response("describe_stacks", stack_description(STACK, final), {"StackName": root})
    cf.add_response("describe_stack_events", events(), {"StackName": root})
    cf.add_response(
        "describe_stack_events",
        events(
            event(NESTED, NESTED, "CREATE_IN_PROGRESS", STACK_TYPE, physical=nested, seconds=901),
            event(
                NESTED,
                "SecretsManagerRDSMySQLRotationSingleUserLambda",
                "CREATE_FAILED",
                "AWS::Lambda::Function",
                ENI_REASON,
                seconds=990,
            ),
        ),
        {"StackName": nested},
    )
    code = cli.main(
        [
            "deploy",
            "--template",
            SINGLE,
            "--stack",
            STACK,
            "--skip-lint",
            "--params",
            "TestInstanceImageId=ami-0123456789abcdef0",
            *flags,
        ],
        stubs.runtime(),
    )
    out, err = capsys.readouterr()
    assert code == 1, err
    assert f"ended {final}" in err
    assert advice in err
    first_failure = err.split("First failure: ", 1)[1]
    assert first_failure.startswith(
        "SecretsManagerRDSMySQLRotationSingleUser/SecretsManagerRDSMySQLRotationSingleUserLambda"
    )
    assert "CreateNetworkInterface" in first_failure
    assert f"make delete STACK={STACK}" in err
    # The nested stack's events were streamed too, labelled with its place in the parent.
    assert (
        "SecretsManagerRDSMySQLRotationSingleUser/SecretsManagerRDSMySQLRotationSingleUserLambda"
        in out
    )
    stubs.assert_done()


def deletable(stubs: StubbedAws, protection: bool | None, status: str = "UPDATE_COMPLETE") -> None:
    """sts, the stack, its resources, its template (DeletionPolicy) and the cluster's protection."""
    stubs.identity()
    cf = stubs.cloudformation
    cf.add_response("describe_stacks", stack_description(STACK, status), {"StackName": STACK})
    resource = {
        "StackName": STACK,
        "StackId": stack_arn(STACK),
        "Timestamp": stack_description(STACK, "X")["Stacks"][0]["CreationTime"],
        "ResourceStatus": "CREATE_COMPLETE",
    }
    cf.add_response(
        "describe_stack_resources",
        {
            "StackResources": [
                {
                    **resource,
                    "LogicalResourceId": "DatabaseCluster",
                    "PhysicalResourceId": "rotation-single-databasecluster-abc",
                    "ResourceType": "AWS::RDS::DBCluster",
                },
                {
                    **resource,
                    "LogicalResourceId": "RotationSecurityGroup",
                    "PhysicalResourceId": "sg-0123",
                    "ResourceType": "AWS::EC2::SecurityGroup",
                },
            ]
        },
    )
    cf.add_response(
        "get_template",
        {
            "TemplateBody": (
                "Resources:\n  DatabaseCluster:\n    Type: AWS::RDS::DBCluster\n"
                "    DeletionPolicy: Snapshot\n    Properties: {Engine: aurora-mysql}\n"
            )
        },
    )
    if protection is None:  # the run stops before the cluster is examined
        return
    stubs.rds.add_response(
        "describe_db_clusters",
        {
            "DBClusters": [
                {
                    "DBClusterIdentifier": "rotation-single-databasecluster-abc",
                    "DeletionProtection": protection,
                }
            ]
        },
        {"DBClusterIdentifier": "rotation-single-databasecluster-abc"},
    )


def delete(stubs: StubbedAws, *flags: str) -> int:
    return cli.main(["delete", "--stack", STACK, *flags], stubs.runtime())


def test_delete_that_outlasts_an_hour_is_watched_to_the_end(stubs, capsys):
    deletable(stubs, protection=False)
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    cf.add_response("describe_stack_events", events())
    cf.add_response("delete_stack", {}, {"StackName": root})
    cf.add_response(
        "describe_stack_events",
        events(
            event(STACK, STACK, "DELETE_IN_PROGRESS", STACK_TYPE, "User Initiated", physical=root),
            event(
                STACK,
                "RotationSecurityGroup",
                "DELETE_IN_PROGRESS",
                "AWS::EC2::SecurityGroup",
                physical="sg-0123",
                seconds=60,
            ),
        ),
    )
    cf.add_response("describe_stacks", stack_description(STACK, "DELETE_IN_PROGRESS"))
    # 75 minutes of silence while Lambda holds the security group's network interfaces.
    while stubs.clock.t < 75 * 60:
        cf.add_response("describe_stack_events", events())
        cf.add_response("describe_stacks", stack_description(STACK, "DELETE_IN_PROGRESS"))
        stubs.clock.t += 30  # what the loop will sleep at most, so enough answers are queued
    stubs.clock.t = 0
    cf.add_response(
        "describe_stack_events",
        events(
            event(
                STACK,
                "RotationSecurityGroup",
                "DELETE_COMPLETE",
                "AWS::EC2::SecurityGroup",
                physical="sg-0123",
                seconds=4600,
            ),
            event(STACK, STACK, "DELETE_COMPLETE", STACK_TYPE, physical=root, seconds=4700),
        ),
    )
    cf.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {root} does not exist"
    )
    cf.add_response("describe_stack_events", events())
    stubs.rds.add_response(
        "describe_db_cluster_snapshots",
        {
            "DBClusterSnapshots": [
                {
                    "DBClusterSnapshotIdentifier": "rotation-single-databasecluster-abc-snapshot-1",
                    "SnapshotCreateTime": stack_description(STACK, "X")["Stacks"][0][
                        "CreationTime"
                    ],
                },
            ]
        },
    )
    code = delete(stubs, "--yes")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert stubs.clock.t > 60 * 60
    assert out.count("Lambda keeps the network interfaces") == 1
    assert "deleted" in out
    assert "Final snapshot kept: rotation-single-databasecluster-abc-snapshot-1" in out
    assert max(stubs.clock.sleeps) == 30  # the longest pause between polls
    stubs.assert_done()


def test_delete_failed_exits_non_zero_and_says_how_to_retry(stubs, capsys):
    deletable(stubs, protection=False)
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    cf.add_response("describe_stack_events", events())
    cf.add_response("delete_stack", {}, {"StackName": root})
    cf.add_response(
        "describe_stack_events",
        events(
            event(STACK, STACK, "DELETE_IN_PROGRESS", STACK_TYPE, "User Initiated", physical=root),
            event(
                STACK,
                "RotationSecurityGroup",
                "DELETE_FAILED",
                "AWS::EC2::SecurityGroup",
                "resource sg-0123 has a dependent object",
                physical="sg-0123",
                seconds=60,
            ),
            event(
                STACK,
                STACK,
                "DELETE_FAILED",
                STACK_TYPE,
                "The following resource(s) failed to delete: [RotationSecurityGroup].",
                physical=root,
                seconds=61,
            ),
        ),
    )
    cf.add_response("describe_stacks", stack_description(STACK, "DELETE_FAILED"))
    cf.add_response("describe_stack_events", events())
    code = delete(stubs, "--yes")
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines() == [
        f"failed: Stack {STACK} is DELETE_FAILED; what is left could not be deleted:",
        "  RotationSecurityGroup: resource sg-0123 has a dependent object",
        "First failure: RotationSecurityGroup (AWS::EC2::SecurityGroup): resource sg-0123 has a "
        "dependent object",
        "A DELETE_FAILED stack cannot be updated (deploying DeletionProtection=false won't work).",
        f"Fix the cause and retry: make delete STACK={STACK} REGION=eu-west-1",
        "or delete the rest and leave those behind (remove them by hand later): "
        f'make delete STACK={STACK} REGION=eu-west-1 RETAIN="RotationSecurityGroup"',
    ]
    stubs.assert_done()


def test_a_protected_cluster_stops_a_non_interactive_delete_before_anything_is_deleted(
    stubs, capsys
):
    deletable(stubs, protection=True)
    assert delete(stubs, "--yes") == 2
    err = capsys.readouterr().err
    assert "deletion protection" in err
    assert "DISABLE_DELETION_PROTECTION=1" in err
    stubs.assert_done()  # no delete_stack was queued, so none was made


def test_a_protected_cluster_is_unprotected_through_rds_then_deleted(stubs, capsys):
    deletable(stubs, protection=True)
    stubs.rds.add_response(
        "modify_db_cluster",
        {"DBCluster": {}},
        {
            "DBClusterIdentifier": "rotation-single-databasecluster-abc",
            "DeletionProtection": False,
            "ApplyImmediately": True,
        },
    )
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    cf.add_response("describe_stack_events", events())
    cf.add_response("delete_stack", {}, {"StackName": root})
    cf.add_response(
        "describe_stack_events",
        events(
            event(STACK, STACK, "DELETE_COMPLETE", STACK_TYPE, physical=root, seconds=600),
        ),
    )
    cf.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {root} does not exist"
    )
    cf.add_client_error(  # a stack gone may no longer have readable events
        "describe_stack_events", "ValidationError", f"Stack [{root}] does not exist"
    )
    stubs.rds.add_response("describe_db_cluster_snapshots", {"DBClusterSnapshots": []})
    assert delete(stubs, "--yes", "--disable-deletion-protection") == 0
    assert (
        "Deletion protection of rotation-single-databasecluster-abc turned off"
        in capsys.readouterr().out
    )
    stubs.assert_done()


def test_delete_asks_first_and_a_non_interactive_run_needs_yes(stubs, capsys):
    deletable(stubs, protection=None)
    assert delete(stubs) == 2
    assert "YES=1" in capsys.readouterr().err
    stubs.assert_done()


def deleted_at_once(
    stubs: StubbedAws, *, seconds: int = 600, snapshots: list | None = None, **delete_params
) -> None:
    """The events baseline, DeleteStack, one DELETE_COMPLETE event, then the final snapshots
    (none unless `snapshots` lists those of the stack's cluster)."""
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    cf.add_response("describe_stack_events", events())
    cf.add_response("delete_stack", {}, {"StackName": root, **delete_params})
    cf.add_response(
        "describe_stack_events",
        events(event(STACK, STACK, "DELETE_COMPLETE", STACK_TYPE, physical=root, seconds=seconds)),
    )
    cf.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {root} does not exist"
    )
    cf.add_response("describe_stack_events", events())
    if snapshots is None:
        stubs.rds.add_response("describe_db_cluster_snapshots", {"DBClusterSnapshots": []})
    else:
        stubs.rds.add_response(
            "describe_db_cluster_snapshots",
            {"DBClusterSnapshots": snapshots},
            {
                "DBClusterIdentifier": "rotation-single-databasecluster-abc",
                "SnapshotType": "manual",
            },
        )


@pytest.mark.parametrize(
    "status", ["UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"]
)
def test_delete_refuses_a_stack_busy_with_another_operation_naming_its_status(
    stubs, capsys, status
):
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks", stack_description(STACK, status), {"StackName": STACK}
    )
    assert delete(stubs, "--yes") == 2
    assert capsys.readouterr().err == (
        f"error: Stack {STACK} is busy ({status}); wait until it settles, then delete. Watch it: "
        f"aws cloudformation describe-stack-events --stack-name {STACK} --region eu-west-1\n"
    )
    stubs.assert_done()  # nothing was deleted


def test_a_delete_already_in_progress_is_watched_without_a_second_delete_stack(stubs, capsys):
    deletable(stubs, protection=False, status="DELETE_IN_PROGRESS")
    stubs.cloudformation.add_response("describe_stack_events", events())
    root = stack_arn(STACK)
    stubs.cloudformation.add_response(
        "describe_stack_events",
        events(event(STACK, STACK, "DELETE_COMPLETE", STACK_TYPE, physical=root, seconds=600)),
    )
    stubs.cloudformation.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {root} does not exist"
    )
    stubs.cloudformation.add_response("describe_stack_events", events())
    stubs.rds.add_response("describe_db_cluster_snapshots", {"DBClusterSnapshots": []})
    assert delete(stubs, "--yes") == 0
    out = capsys.readouterr().out
    assert f"Stack {STACK} (DELETE_IN_PROGRESS, 2 resources) will be deleted." in out
    assert f"\nStack {STACK} deleted.\n" in out
    stubs.assert_done()  # no delete_stack was queued, so none was made


@pytest.mark.parametrize("status", ["UPDATE_COMPLETE", "DELETE_IN_PROGRESS"])
def test_retain_is_refused_unless_the_stack_is_delete_failed(stubs, capsys, status):
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks", stack_description(STACK, status), {"StackName": STACK}
    )
    assert delete(stubs, "--yes", "--retain", "RotationSecurityGroup") == 2
    assert capsys.readouterr().err == (
        "error: RETAIN= applies only to a DELETE_FAILED stack; run without it first.\n"
    )
    stubs.assert_done()


def test_retain_deletes_a_delete_failed_stack_leaving_those_resources(stubs, capsys):
    deletable(stubs, protection=False, status="DELETE_FAILED")
    deleted_at_once(stubs, RetainResources=["RotationSecurityGroup", "Other"])
    assert delete(stubs, "--yes", "--retain", "RotationSecurityGroup  Other") == 0
    assert f"Stack {STACK} deleted." in capsys.readouterr().out
    stubs.assert_done()


@pytest.mark.parametrize(("answer", "code"), [("n\n", 2), ("", 2), ("yes\n", 0), (" Y \n", 0)])
def test_a_person_at_a_terminal_is_asked_before_the_delete(
    stubs, capsys, monkeypatch, answer, code
):
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    deletable(stubs, protection=False if code == 0 else None)
    if code == 0:
        deleted_at_once(stubs)
    assert delete(stubs) == code
    out, err = capsys.readouterr()
    assert f"Delete stack {STACK} in eu-west-1, account 111122223333? [y/N] " in out
    assert err == ("" if code == 0 else "error: Not deleted.\n")
    stubs.assert_done()  # after a no, no delete_stack


def test_ctrl_c_while_watching_says_the_delete_goes_on_and_how_to_watch_again(stubs, capsys):
    deletable(stubs, protection=False)
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    cf.add_response("describe_stack_events", events())
    cf.add_response("delete_stack", {}, {"StackName": root})
    cf.add_response(
        "describe_stack_events",
        events(event(STACK, STACK, "DELETE_IN_PROGRESS", STACK_TYPE, physical=root)),
    )
    cf.add_response("describe_stacks", stack_description(STACK, "DELETE_IN_PROGRESS"))

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    stubs.clock.sleep = ctrl_c
    assert delete(stubs, "--yes") == 2
    assert capsys.readouterr().err == (
        "error: Stopped watching; the delete goes on in CloudFormation. Watch it again with "
        f"make delete STACK={STACK} REGION=eu-west-1 YES=1\n"
    )
    stubs.assert_done()


def test_an_update_of_a_long_lived_stack_reads_one_page_of_old_events_and_shows_none(capsys):
    """A stack kept for years has thousands of events: the baseline is one page, not all."""
    from scripts.stackctl.events import Watcher

    stubs = StubbedAws()
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    old = event(STACK, STACK, "UPDATE_COMPLETE", STACK_TYPE, physical=root, seconds=100)
    cf.add_response("describe_stack_events", {**events(old), "NextToken": "page-2"})
    watcher = Watcher(stubs.aws.client("cloudformation"), root, stubs.clock.as_clock(), "UPDATE")
    watcher.mark_existing()
    cf.add_response("describe_stack_events", events(
        old,
        # at the same instant as the newest old event, and still new
        event(STACK, STACK, "UPDATE_IN_PROGRESS", STACK_TYPE, physical=root, seconds=100),
        event(STACK, STACK, "UPDATE_COMPLETE", STACK_TYPE, physical=root, seconds=300),
    ))  # fmt: skip
    cf.add_response("describe_stacks", stack_description(STACK, "UPDATE_COMPLETE"))
    cf.add_response("describe_stack_events", events())
    assert watcher.run() == "UPDATE_COMPLETE"
    shown = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in shown] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    stubs.assert_done()


def test_the_event_stream_shows_elapsed_time_backs_off_and_explains_a_slow_delete(capsys):
    """Each line: event time, time since the watch began, status, resource, reason. Polls come
    2 s after something was shown, 1.5 times later each time nothing was; 10 minutes into the
    stack's (or a security group's, subnet's...) delete, a note says why it is slow."""
    from scripts.stackctl.events import SLOW_DELETE_NOTE, Watcher

    stubs = StubbedAws()
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    sg, sg_type = "RotationSecurityGroup", "AWS::EC2::SecurityGroup"
    in_progress = stack_description(STACK, "DELETE_IN_PROGRESS")
    cf.add_response("describe_stack_events", events(
        event(STACK, STACK, "DELETE_IN_PROGRESS", STACK_TYPE, "User Initiated", physical=root),
    ))  # fmt: skip
    cf.add_response("describe_stacks", in_progress)
    cf.add_response("describe_stack_events", events(
        event(STACK, sg, "DELETE_IN_PROGRESS", sg_type, physical="sg-0123", seconds=65),
    ))  # fmt: skip
    cf.add_response("describe_stacks", in_progress)
    cf.add_response("describe_stack_events", events())  # 599 s into the delete
    cf.add_response("describe_stacks", in_progress)
    cf.add_response("describe_stack_events", events(  # 600 s: this event, then the note
        event(STACK, "FlowLogGroup", "DELETE_COMPLETE", "AWS::Logs::LogGroup", seconds=600),
    ))  # fmt: skip
    cf.add_response("describe_stacks", in_progress)
    cf.add_response("describe_stack_events", events(
        event(STACK, sg, "DELETE_COMPLETE", sg_type, physical="sg-0123", seconds=3725),
        event(STACK, STACK, "DELETE_COMPLETE", STACK_TYPE, physical=root, seconds=3725),
    ))  # fmt: skip
    cf.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {root} does not exist"
    )
    cf.add_response("describe_stack_events", events())
    stubs.clock.t = 1000.0  # the watch begins at 1000 s on the clock
    times = iter([1065, 1599, 1600, 4725])
    requested = []

    def sleep(seconds: float) -> None:  # the watcher asks for a delay; time jumps as scripted
        requested.append(seconds)
        stubs.clock.t = next(times)

    stubs.clock.sleep = sleep
    watcher = Watcher(stubs.aws.client("cloudformation"), root, stubs.clock.as_clock(), "DELETE")
    assert watcher.run() == "DELETE_COMPLETE"
    assert capsys.readouterr().out.splitlines() == [
        f"09:00:00     +00:00  DELETE_IN_PROGRESS           {STACK:<40} User Initiated",
        f"09:01:05     +01:05  DELETE_IN_PROGRESS           {sg}",
        "09:10:00     +10:00  DELETE_COMPLETE              FlowLogGroup",
        SLOW_DELETE_NOTE,
        f"10:02:05   +1:02:05  DELETE_COMPLETE              {sg}",
        f"10:02:05   +1:02:05  DELETE_COMPLETE              {STACK}",
    ]
    assert requested == [2.0, 2.0, 3.0, 2.0]
    stubs.assert_done()


def test_a_burst_of_events_over_two_pages_is_shown_whole_and_in_order(capsys):
    """More events than one DescribeStackEvents page between two polls: page back until an event
    already shown, never further."""
    from scripts.stackctl.events import Watcher

    stubs = StubbedAws()
    cf = stubs.cloudformation
    root = stack_arn(STACK)
    kind = "AWS::SecretsManager::Secret"
    first = event(STACK, STACK, "UPDATE_IN_PROGRESS", STACK_TYPE, physical=root)
    cf.add_response("describe_stack_events", events(first))
    cf.add_response("describe_stacks", stack_description(STACK, "UPDATE_IN_PROGRESS"))
    burst = [event(STACK, f"Secret{n}", "UPDATE_COMPLETE", kind, seconds=n) for n in range(1, 5)]
    cf.add_response(
        "describe_stack_events", {**events(*burst[2:]), "NextToken": "p2"}, {"StackName": root}
    )
    cf.add_response(  # the second page ends with an event already shown: no third page
        "describe_stack_events",
        {**events(first, *burst[:2]), "NextToken": "p3"},
        {"StackName": root, "NextToken": "p2"},
    )
    last = event(STACK, STACK, "UPDATE_COMPLETE", STACK_TYPE, physical=root, seconds=9)
    cf.add_response("describe_stacks", stack_description(STACK, "UPDATE_COMPLETE"))
    cf.add_response("describe_stack_events", events(first, *burst, last))
    watcher = Watcher(stubs.aws.client("cloudformation"), root, stubs.clock.as_clock(), "UPDATE")
    assert watcher.run() == "UPDATE_COMPLETE"
    shown = [line.split()[3] for line in capsys.readouterr().out.splitlines()]
    assert shown == [STACK, "Secret1", "Secret2", "Secret3", "Secret4", STACK]
    stubs.assert_done()


def test_a_cluster_already_gone_is_skipped_and_the_newest_final_snapshot_is_named(stubs, capsys):
    deletable(stubs, protection=None)
    stubs.rds.add_client_error(
        "describe_db_clusters",
        "DBClusterNotFoundFault",
        "DBCluster rotation-single-databasecluster-abc not found.",
    )
    snapshot = "rotation-single-databasecluster-abc-snapshot-{}"
    deleted_at_once(
        stubs,
        seconds=60,
        snapshots=[
            {"DBClusterSnapshotIdentifier": snapshot.format(1), "SnapshotCreateTime": T0},
            {"DBClusterSnapshotIdentifier": snapshot.format(2),
             "SnapshotCreateTime": T0 + dt.timedelta(days=1)},
            {"DBClusterSnapshotIdentifier": snapshot.format(0),
             "SnapshotCreateTime": T0 - dt.timedelta(days=1)},
        ],
    )  # fmt: skip
    assert delete(stubs, "--yes") == 0
    out = capsys.readouterr().out.splitlines()
    name = snapshot.format(2)
    assert out[1:3] == [
        f"Stack {STACK} (UPDATE_COMPLETE, 2 resources) will be deleted.",
        "CloudFormation keeps a final snapshot of cluster rotation-single-databasecluster-abc "
        "(DeletionPolicy: Snapshot).",
    ]
    assert out[-1] == (
        f"Final snapshot kept: {name}. Restore with 'aws rds restore-db-cluster-from-snapshot "
        f"--snapshot-identifier {name} ...'; it costs storage until you delete it "
        f"('aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier {name}')."
    )
    stubs.assert_done()
