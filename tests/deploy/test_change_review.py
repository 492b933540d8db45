"""The change-set review of `make deploy`: dangerous changes refused unless agreed, others applied.

CloudFormation answers through botocore's Stubber with responses shaped like AWS's: moto computes
no Modify/Replace details for an update.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY

from scripts.stackctl import cli
from scripts.stackctl.policy import POLICY_FILE
from tests.deploy.aws_stubs import (
    StubbedAws,
    Terminal,
    event,
    events,
    stack_arn,
    stack_description,
)

SINGLE = "templates/mysql-single-user.yaml"
STACK = "rotation-single"
CHANGE_SET = f"arn:aws:cloudformation:eu-west-1:111122223333:changeSet/make-deploy/{'a' * 36}"
# The stack's parameters: a deployed single-user stack has a test instance image.
DEPLOYED = [
    ("AdminUsername", "dbadmin"),
    ("VpcCidr", "10.0.0.0/16"),
    ("TestInstanceImageId", "ami-0123456789abcdef0"),
]


def modify(logical: str, kind: str, replacement: str, *paths: tuple[str, str]) -> dict:
    details = [
        {
            "Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation},
            "Evaluation": "Static",
            "ChangeSource": "DirectModification",
        }
        for name, recreation in paths
    ]
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": logical,
            "PhysicalResourceId": logical,
            "ResourceType": kind,
            "Replacement": replacement,
            "Scope": ["Properties"],
            "Details": details,
        },
    }


GENERATED_SECRET_CHANGE = modify(
    "AdminSecret", "AWS::SecretsManager::Secret", "False", ("GenerateSecretString", "Never")
)
CLUSTER_REPLACEMENT = modify(
    "DatabaseCluster", "AWS::RDS::DBCluster", "True", ("DBSubnetGroupName", "Always")
)
HARMLESS = modify("FlowLogGroup", "AWS::Logs::LogGroup", "False", ("RetentionInDays", "Never"))


# The parameters of an update of DEPLOYED that gives LogRetentionInDays=30 only.
KEPT_BUT_LOG_RETENTION = [
    {"ParameterKey": "VpcCidr", "UsePreviousValue": True},
    {"ParameterKey": "LogRetentionInDays", "ParameterValue": "30"},
    {"ParameterKey": "AdminUsername", "UsePreviousValue": True},
    {"ParameterKey": "TestInstanceImageId", "UsePreviousValue": True},
]


@pytest.fixture
def stubs(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    return StubbedAws()


def up_to_review(stubs: StubbedAws, changes: list[dict], parameters=ANY) -> None:
    """sts, the existing stack, the change set and its description."""
    created(stubs, parameters)
    stubs.cloudformation.add_response(
        "describe_change_set",
        {
            "ChangeSetId": CHANGE_SET,
            "StackId": stack_arn(STACK),
            "StackName": STACK,
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": changes,
        },
        {"ChangeSetName": CHANGE_SET},
    )


def created(stubs: StubbedAws, parameters=ANY) -> None:
    """sts, the existing stack and the change set's creation."""
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks",
        stack_description(STACK, "UPDATE_COMPLETE", DEPLOYED),
        {"StackName": STACK},
    )
    stubs.cloudformation.add_response(
        "create_change_set",
        {"Id": CHANGE_SET, "StackId": stack_arn(STACK)},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "Parameters": parameters,
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Description": ANY,
            "TemplateBody": ANY,
        },
    )


def applied(stubs: StubbedAws, policy: str | None) -> None:
    """Execution of the change set, its events, the stack policy check and the outputs."""
    cf = stubs.cloudformation
    cf.add_response(
        "describe_stack_events",
        events(
            event(
                STACK,
                STACK,
                "UPDATE_COMPLETE",
                "AWS::CloudFormation::Stack",
                physical=stack_arn(STACK),
            ),
        ),
    )
    cf.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    cf.add_response(
        "describe_stack_events",
        events(
            event(
                STACK,
                STACK,
                "UPDATE_IN_PROGRESS",
                "AWS::CloudFormation::Stack",
                "User Initiated",
                physical=stack_arn(STACK),
                seconds=10,
            ),
            event(
                STACK, "AdminSecret", "UPDATE_COMPLETE", "AWS::SecretsManager::Secret", seconds=20
            ),
            event(STACK, "FlowLogGroup", "UPDATE_COMPLETE", "AWS::Logs::LogGroup", seconds=20),
            event(
                STACK,
                STACK,
                "UPDATE_COMPLETE",
                "AWS::CloudFormation::Stack",
                physical=stack_arn(STACK),
                seconds=30,
            ),
        ),
    )
    cf.add_response("describe_stacks", stack_description(STACK, "UPDATE_COMPLETE"))
    cf.add_response("describe_stack_events", events())
    cf.add_response("get_stack_policy", {"StackPolicyBody": policy} if policy else {})
    if policy is None or json.loads(policy) != json.loads(POLICY_FILE.read_text()):
        cf.add_response(
            "set_stack_policy", {}, {"StackName": stack_arn(STACK), "StackPolicyBody": ANY}
        )
    cf.add_response(
        "describe_stacks",
        stack_description(
            STACK, "UPDATE_COMPLETE", outputs=[("ClusterPort", "3306"), ("AdminSecretArn", "arn")]
        ),
    )


def deploy(stubs: StubbedAws, *flags: str, params: str = "LogRetentionInDays=30") -> int:
    return cli.main(
        [
            "deploy",
            "--template",
            SINGLE,
            "--stack",
            STACK,
            "--skip-lint",
            "--params",
            params,
            *flags,
        ],
        stubs.runtime(),
    )


def test_a_change_under_generate_secret_string_is_refused_without_a_person(stubs, capsys):
    up_to_review(stubs, [GENERATED_SECRET_CHANGE, HARMLESS])
    stubs.cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    assert deploy(stubs) == 1
    out, err = capsys.readouterr()
    assert "!Modify  AdminSecret" in out
    assert "Properties/GenerateSecretString" in out
    assert "#2210" in out
    assert "CONFIRM_DANGEROUS=1" in err
    assert "Traceback" not in err
    stubs.assert_done()  # the change set was deleted and never executed


@pytest.mark.parametrize(
    ("replacement", "said"),
    [("True", "replaces AWS::RDS::DBCluster"), ("Conditional", "may replace AWS::RDS::DBCluster")],
)
def test_the_refusal_says_whether_the_cluster_will_or_may_be_replaced(
    stubs, capsys, replacement, said
):
    change = modify(
        "DatabaseCluster", "AWS::RDS::DBCluster", replacement, ("DBSubnetGroupName", "Always")
    )
    up_to_review(stubs, [change])
    stubs.cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    assert deploy(stubs) == 1
    out, _ = capsys.readouterr()
    assert f"  ! DatabaseCluster: {said}\n" in out
    stubs.assert_done()


def test_a_person_who_says_no_on_the_terminal_keeps_the_stack(stubs, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    up_to_review(stubs, [GENERATED_SECRET_CHANGE])
    stubs.cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    assert deploy(stubs) == 1
    assert "Refused by you" in capsys.readouterr().err
    stubs.assert_done()


def test_confirm_dangerous_applies_it(stubs, capsys):
    up_to_review(stubs, [GENERATED_SECRET_CHANGE])
    applied(stubs, POLICY_FILE.read_text())
    assert deploy(stubs, "--confirm-dangerous") == 0
    out = capsys.readouterr().out
    assert out.endswith(
        f"\nStack {STACK}: UPDATE_COMPLETE.\n"
        "Outputs:\n  AdminSecretArn  arn\n  ClusterPort     3306\n"
    )
    stubs.assert_done()


def test_a_harmless_change_is_applied_and_the_missing_stack_policy_set(stubs, capsys):
    up_to_review(stubs, [HARMLESS])
    applied(stubs, policy=None)
    assert deploy(stubs, params="LogRetentionInDays=30") == 0
    out = capsys.readouterr().out
    assert " Modify  FlowLogGroup" in out
    assert "dangerous" not in out
    assert "AdminSecret" in out  # the streamed events
    assert "Stack policy set" in out
    stubs.assert_done()


def test_unspecified_parameters_keep_the_stack_values_on_update(stubs):
    """As `aws cloudformation deploy` does: an update resets nothing the user did not name."""
    up_to_review(stubs, [HARMLESS], parameters=KEPT_BUT_LOG_RETENTION)
    applied(stubs, POLICY_FILE.read_text())
    assert deploy(stubs, params="LogRetentionInDays=30") == 0
    stubs.assert_done()


def test_replacing_the_cluster_is_refused_because_the_stack_policy_would_deny_it(stubs, capsys):
    up_to_review(stubs, [CLUSTER_REPLACEMENT])
    stubs.cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    assert deploy(stubs, "--confirm-dangerous") == 1
    err = capsys.readouterr().err
    assert "stack policy denies replacing or removing DatabaseCluster" in err
    assert "ALLOW_REPLACE=1" in err
    stubs.assert_done()


def test_removing_a_protected_resource_is_refused_like_replacing_it(stubs, capsys):
    remove = {"Type": "Resource", "ResourceChange": {
        "Action": "Remove", "LogicalResourceId": "AppSecret", "PhysicalResourceId": "arn",
        "ResourceType": "AWS::SecretsManager::Secret"}}  # fmt: skip
    up_to_review(stubs, [remove])
    stubs.cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    assert deploy(stubs, "--confirm-dangerous") == 1
    err = capsys.readouterr().err
    assert "stack policy denies replacing or removing AppSecret" in err
    assert "ALLOW_REPLACE=1" in err
    stubs.assert_done()  # never executed


def test_a_stack_policy_other_than_the_protective_one_is_replaced(stubs, capsys):
    """An allow-everything policy left behind (a restore that failed, a hand edit) is not kept."""
    from scripts.stackctl.policy import ALLOW_ALL

    up_to_review(stubs, [HARMLESS])
    applied(stubs, ALLOW_ALL)  # queues the set_stack_policy that must follow
    assert deploy(stubs) == 0
    assert "Stack policy set (policies/stack-policy.json)" in capsys.readouterr().out
    stubs.assert_done()


def test_an_empty_change_set_says_no_changes_and_succeeds(stubs, capsys):
    stubs.identity()
    cf = stubs.cloudformation
    cf.add_response("describe_stacks", stack_description(STACK, "CREATE_COMPLETE", DEPLOYED))
    cf.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": stack_arn(STACK)})
    cf.add_response(
        "describe_change_set",
        {
            "ChangeSetId": CHANGE_SET,
            "StackId": stack_arn(STACK),
            "StackName": STACK,
            "Status": "FAILED",
            "ExecutionStatus": "UNAVAILABLE",
            "StatusReason": "The submitted information didn't contain changes. Submit different "
            "information to create a change set.",
        },
    )
    cf.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    cf.add_response("get_stack_policy", {"StackPolicyBody": POLICY_FILE.read_text()})
    assert deploy(stubs, params="") == 0
    assert "No changes" in capsys.readouterr().out
    stubs.assert_done()


def test_a_change_set_of_outputs_or_stack_settings_only_is_executed(stubs, capsys):
    """CREATE_COMPLETE with no resource changes (an Output or the tags changed): AWS executes it;
    only a FAILED one that "didn't contain changes" is empty."""
    up_to_review(stubs, [])
    applied(stubs, POLICY_FILE.read_text())
    assert deploy(stubs) == 0
    out = capsys.readouterr().out
    assert "No resource changes (outputs or stack settings)." in out
    assert "No changes:" not in out
    assert f"Stack {STACK}: UPDATE_COMPLETE." in out
    stubs.assert_done()  # execute_change_set was queued, so it was called


def test_dry_run_shows_the_changes_and_does_not_execute(stubs, capsys):
    up_to_review(stubs, [GENERATED_SECRET_CHANGE])
    assert deploy(stubs, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "!Modify  AdminSecret" in out
    assert f"execute-change-set --change-set-name {CHANGE_SET} --region eu-west-1" in out
    stubs.assert_done()  # no execute_change_set was queued, so none was called


def test_ci_is_never_asked_even_with_a_terminal(stubs, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    monkeypatch.setenv("CI", "true")
    up_to_review(stubs, [GENERATED_SECRET_CHANGE])
    stubs.cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    assert deploy(stubs) == 1
    assert "CONFIRM_DANGEROUS=1" in capsys.readouterr().err
    stubs.assert_done()


def test_a_person_who_says_yes_on_the_terminal_gets_the_change(stubs, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    up_to_review(stubs, [GENERATED_SECRET_CHANGE])
    applied(stubs, POLICY_FILE.read_text())
    assert deploy(stubs) == 0
    stubs.assert_done()


def test_the_stack_policy_guards_exactly_the_cluster_the_secrets_and_the_attachments():
    from scripts.stackctl.policy import protected_types

    statements = json.loads(POLICY_FILE.read_text())["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert [sorted(s["Action"]) for s in deny] == [["Update:Delete", "Update:Replace"]]
    assert protected_types() == {
        "AWS::RDS::DBCluster",
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::SecretTargetAttachment",
    }
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert allow == [{"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}]


def described(status: str, changes: list[dict], **extra) -> dict:
    return {"ChangeSetId": CHANGE_SET, "StackId": stack_arn(STACK), "StackName": STACK,
            "Status": status, "Changes": changes, **extra}  # fmt: skip


def test_the_review_waits_for_every_page_of_changes_and_prints_one_aligned_table(stubs, capsys):
    add = {"Type": "Resource", "ResourceChange": {
        "Action": "Add", "LogicalResourceId": "AppSecret",
        "ResourceType": "AWS::SecretsManager::Secret"}}  # fmt: skip
    remove = {"Type": "Resource", "ResourceChange": {
        "Action": "Remove", "LogicalResourceId": "PrivateSubnet", "PhysicalResourceId": "subnet-1",
        "ResourceType": "AWS::EC2::Subnet"}}  # fmt: skip
    created(stubs)
    cf = stubs.cloudformation  # the change set takes nine looks; its changes come in two pages
    for _ in range(8):
        cf.add_response("describe_change_set", described("CREATE_PENDING", []))
    cf.add_response(
        "describe_change_set",
        described("CREATE_COMPLETE", [HARMLESS, add], NextToken="page-2"),
        {"ChangeSetName": CHANGE_SET},
    )
    cf.add_response(
        "describe_change_set",
        described("CREATE_COMPLETE", [remove, GENERATED_SECRET_CHANGE]),
        {"ChangeSetName": CHANGE_SET, "NextToken": "page-2"},
    )
    assert deploy(stubs, "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    header = " action  logical id     type                         replacement  changed properties"
    start = out.index(header)
    assert out[start : start + 9] == [
        header,
        " Modify  FlowLogGroup   AWS::Logs::LogGroup          False        "
        "Properties/RetentionInDays",
        " Add     AppSecret      AWS::SecretsManager::Secret",
        "!Remove  PrivateSubnet  AWS::EC2::Subnet",
        "!Modify  AdminSecret    AWS::SecretsManager::Secret  False        "
        "Properties/GenerateSecretString",
        "",
        "2 dangerous change(s):",
        "  ! PrivateSubnet: removes AWS::EC2::Subnet",
        "  ! AdminSecret: a change under GenerateSecretString makes CloudFormation generate a new "
        "secret value and password (CloudFormation coverage roadmap #2210); the database gets it "
        "only where a Custom::MySQLUser mirrors the block (AppSecretGeneration), and applications "
        "must read the secret again",
    ]
    assert stubs.clock.sleeps == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0]
    stubs.assert_done()


def test_a_change_set_that_fails_exits_1_with_its_reason(stubs, capsys):
    created(stubs)
    cf = stubs.cloudformation
    reason = "Template error: instance of Fn::GetAtt references undefined resource Missing"
    cf.add_response("describe_change_set", described("FAILED", [], StatusReason=reason))
    cf.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    assert deploy(stubs) == 1
    captured = capsys.readouterr()
    assert captured.err == f"failed: The change set failed: {reason}\n"
    assert captured.out.endswith(f"Change set deleted; stack {STACK} unchanged.\n")
    stubs.assert_done()  # the failed change set was deleted, the stack left alone


def test_a_failed_first_change_set_deletes_its_empty_stack(stubs, capsys):
    """A create's change set lives in a REVIEW_IN_PROGRESS stack that holds nothing else."""
    stubs.identity()
    cf = stubs.cloudformation
    cf.add_response("describe_stacks", stack_description(STACK, "REVIEW_IN_PROGRESS"))
    cf.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": stack_arn(STACK)})
    reason = "Parameter 'VpcCidr' must be a CIDR"
    cf.add_response("describe_change_set", described("FAILED", [], StatusReason=reason))
    cf.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    cf.add_response("delete_stack", {}, {"StackName": stack_arn(STACK)})
    assert (
        deploy(stubs, params="AdminUsername=dbadmin TestInstanceImageId=ami-0123456789abcdef0") == 1
    )
    assert capsys.readouterr().err == f"failed: The change set failed: {reason}\n"
    stubs.assert_done()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        *[
            (
                status,
                f"Stack {STACK} is {status}: its first create failed, and such a stack cannot be "
                f"updated. Run 'make delete STACK={STACK} REGION=eu-west-1', then deploy again.",
            )
            for status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED")
        ],
        (
            "UPDATE_ROLLBACK_FAILED",
            f"Stack {STACK} is UPDATE_ROLLBACK_FAILED: fix the resource its events name, then "
            f"'aws cloudformation continue-update-rollback --stack-name {STACK} --region "
            "eu-west-1', then deploy again.",
        ),
        (
            "UPDATE_IN_PROGRESS",
            f"Stack {STACK} is busy (UPDATE_IN_PROGRESS); wait until it settles, then deploy "
            "again. Watch it: aws cloudformation describe-stack-events --stack-name "
            f"{STACK} --region eu-west-1",
        ),
        (
            "DELETE_FAILED",
            f"Stack {STACK} is DELETE_FAILED: finish the delete (make delete STACK={STACK} "
            "REGION=eu-west-1).",
        ),
    ],
)
def test_a_stack_that_cannot_take_an_update_is_refused_saying_what_to_do(
    stubs, capsys, status, message
):
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks", stack_description(STACK, status), {"StackName": STACK}
    )
    assert deploy(stubs) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    stubs.assert_done()  # no change set


def test_a_change_set_cloudformation_refuses_exits_1_with_its_message(stubs, capsys):
    stubs.identity()
    cf = stubs.cloudformation
    cf.add_response("describe_stacks", stack_description(STACK, "UPDATE_COMPLETE", DEPLOYED))
    message = "Requires capabilities : [CAPABILITY_NAMED_IAM]"
    cf.add_client_error("create_change_set", "InsufficientCapabilitiesException", message)
    assert deploy(stubs) == 1
    assert capsys.readouterr().err == f"failed: CloudFormation refused the change set: {message}\n"
    stubs.assert_done()
