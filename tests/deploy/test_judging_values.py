"""Judging the real values before any change set, and before credentials are needed.

Without credentials a user learns every mistake in one run: PARAMS, PARAMS_FILE, the stack
settings, each parameter's constraints, the template's Rules and the rotation windows. What
depends on whether the stack exists (required parameters, Rules on defaults) is listed as
such; once the stack is looked up, the same judgements run on the values CloudFormation will
use and stop the deploy before a change set.
"""

from __future__ import annotations

import argparse
import json

import pytest

from scripts.stackctl import cli
from scripts.stackctl.judge import judge
from scripts.stackctl.rules import UNKNOWN, evaluate
from scripts.stackctl.template import read_template
from scripts.stackctl.values import Values
from tests.deploy.aws_stubs import StubbedAws, stack_description
from tests.deploy.conftest import make

SINGLE = "templates/mysql-single-user.yaml"
MULTI = "templates/mysql-multi-user.yaml"
EXISTING = "templates/mysql-rotation-existing-cluster.yaml"


def options(**given) -> argparse.Namespace:
    """make deploy's options as the Makefile passes them (--name=value)."""
    argv = ["deploy"]
    for name, value in given.items():
        flag = "--" + name.replace("_", "-")
        argv += [flag] if value is True else [f"{flag}={value}"]
    return cli.parser().parse_args(argv)


def no_credentials(env: dict[str, str]) -> dict[str, str]:
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")
    return {k: v for k, v in env.items() if k not in keys}


def test_without_credentials_every_mistake_is_reported_in_one_run(aws_env, tmp_path):
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps([{"ParameterKey": "DatabaseName", "ParameterValue": 5}]))
    result = make(
        "deploy",
        f"TEMPLATE={MULTI}",
        "STACK=rotation-multi",
        "SKIP_LINT=1",
        f"PARAMS_FILE={params_file}",
        "PARAMS=DatabaseMinCapacity=4 DatabaseMaxCapacity=2 AppUsername=webuserwebuser "
        'AdminRotationSchedule="cron(0 23 ? * SUN *)" AdminRotationWindow=3h '
        'AppRotationSchedule="cron(0 2 * * ? *)"',
        "TAGS=aws:team=x",
        "ROLE_ARN=cloudformation-deployer",
        "NOTIFICATION_ARNS=arn:aws:sns:eu-west-1:123:topic",
        "TERMINATION_PROTECTION=maybe",
        env=no_credentials(aws_env),
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    expected = [
        "error: BUCKET is missing: mysql-multi-user.yaml needs its Lambda code "
        "(lambda_role_lookup.zip, mysql_user.zip) in S3. For example: make deploy "
        "TEMPLATE=templates/mysql-multi-user.yaml STACK=rotation-multi BUCKET=my-artifacts",
        "PARAMS_FILE: entry 1 (DatabaseName) has ParameterValue 5, a number, not a string; write "
        '"5".',
        "PARAMS: AppUsername has 14 characters, at most 10 are allowed",
        "TAGS: aws:team: the prefix aws: is reserved for AWS's tags; choose another key.",
        "ROLE_ARN=cloudformation-deployer is not an IAM role ARN",
        "NOTIFICATION_ARNS: arn:aws:sns:eu-west-1:123:topic is not an SNS topic ARN",
        "TERMINATION_PROTECTION=maybe is neither true nor false: write "
        "TERMINATION_PROTECTION=true or TERMINATION_PROTECTION=false.",
        "PARAMS: rule CapacityRange: DatabaseMinCapacity must not exceed DatabaseMaxCapacity.",
        "PARAMS: AdminRotationWindow='3h' is a rotation window Secrets Manager refuses with "
        "AdminRotationSchedule='cron(0 23 ? * SUN *)': a window opening at 23:00 would run "
        "into the next UTC day",
    ]
    for text in expected:
        assert any(line.startswith(text) for line in lines), (text, result.stderr)
    assert "No usable AWS credentials" not in result.stderr  # stopped before AWS was needed
    assert "Traceback" not in result.stderr


def test_what_depends_on_the_stack_comes_with_the_credentials_error(aws_env, stackctl):
    """No mistake is certain, so the run goes on to STS; the missing credentials end it, and the
    message also lists what a new stack would need, since whether it is new cannot be known."""
    result = stackctl(
        no_credentials(aws_env),
        "deploy",
        f"--template={EXISTING}",
        "--stack=orders-rotation",
        "--bucket=my-artifacts",
        "--skip-lint",
        "--params=ClusterIdentifier=orders AdminSecretKind=rds-managed",
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: No usable AWS credentials")
    assert "AWS_PROFILE" in result.stderr  # how to give them
    assert "Traceback" not in result.stderr
    assert lines[1] == (
        "If STACK=orders-rotation is a new stack (AWS was not asked yet; an update keeps the "
        "stack's current values instead), also:"
    )
    missing = [line.split(":")[1].split()[0] for line in lines if line.startswith("  PARAMS:")]
    assert missing == [
        "ClusterEndpoint", "AdminSecretArn", "VpcId", "SubnetIds", "DatabaseSecurityGroupId"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("template", "given", "message"),
    [
        (
            SINGLE,
            {},
            "rule TestInstanceImage: TestInstanceImageId is required when CreateTestInstance is "
            "true: pass the current arm64 Amazon Linux 2023 AMI (see the parameter's "
            "description), or CreateTestInstance=false. Judged on CreateTestInstance='true' "
            "(the template's default) and TestInstanceImageId='' (the template's default).",
        ),
        (
            MULTI,
            {"DatabaseMinCapacity": "8", "DatabaseMaxCapacity": "4"},
            "rule CapacityRange: DatabaseMinCapacity must not exceed DatabaseMaxCapacity.",
        ),
        (
            MULTI,
            {"AdminRotationSchedule": "rate(7 days)", "AppRotationSchedule": "rate(7 days)"},
            "rule SeparateRotationWindows: AdminRotationSchedule and AppRotationSchedule must "
            "differ",
        ),
        (
            MULTI,
            {"AppUsername": "dbadmin"},
            "rule UsableApplicationNames: AppUsername must differ from AdminUsername",
        ),
        (
            EXISTING,
            {"DatabaseName": "mysql"},
            "rule UsableApplicationNames: DatabaseName must not be a MySQL system schema",
        ),
        (
            EXISTING,
            {"AdminSecretKind": "rds-managed", "ManageAdminSecretPolicy": "true"},
            "rule ResourcePolicyOnlyOnSelfManagedSecrets: ManageAdminSecretPolicy must be false "
            "for an rds-managed admin secret",
        ),
    ],
)
def test_each_templates_rules_are_evaluated_on_the_values(template, given, message):
    values = Values.of_stack(Values(read_template(template), given), None)
    rule = message.split(":")[0]
    rule_lines = [line for line in judge(values).certain if f"{rule}:" in line]
    assert len(rule_lines) == 1, rule_lines
    assert rule_lines[0].startswith("PARAMS: " + message)


def test_a_rule_passes_when_its_condition_does_not_hold():
    facts = read_template(SINGLE)
    values = Values.of_stack(Values(facts, {"CreateTestInstance": "false"}), None)
    assert judge(values).certain == []


def test_rule_functions_only_aws_can_answer_are_left_to_cloudformation(tmp_path):
    template = tmp_path / "rules.yaml"
    template.write_text(
        "Parameters:\n"
        "  Subnets: {Type: 'List<AWS::EC2::Subnet::Id>', Default: 'subnet-1,subnet-2'}\n"
        "  Zone: {Type: String, Default: a}\n"
        "Rules:\n"
        "  InOneVpc:\n"
        "    Assertions:\n"
        "      - Assert: !EachMemberEquals [!ValueOfAll ['AWS::EC2::Subnet::Id', VpcId], vpc-1]\n"
        "  KnownSubnets:\n"
        "    Assertions:\n"
        "      - Assert: !EachMemberIn [!Ref Subnets, [subnet-1, subnet-3]]\n"
        "        AssertDescription: Subnets must be subnet-1 or subnet-3.\n"
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n"
    )
    facts = read_template(str(template))
    assert judge(Values.of_stack(Values(facts, {}), None)).certain == [
        "PARAMS: rule KnownSubnets: Subnets must be subnet-1 or subnet-3. Judged on "
        "Subnets='subnet-1,subnet-2' (the template's default)."
    ]
    values = Values(facts, {})
    assert evaluate({"Fn::ValueOf": ["Zone", "Tag"]}, values, set()) is UNKNOWN
    assert evaluate({"Ref": "AWS::Region"}, values, set()) is UNKNOWN
    assert evaluate({"Fn::Or": [{"Ref": "AWS::Region"}, True]}, values, set()) is UNKNOWN
    assert evaluate({"Fn::Or": [{"Fn::Equals": ["a", "a"]}, {"Ref": "x"}]}, values, set()) is True


def test_values_changed_is_unknown_before_the_stack_and_known_after():
    """The hook a check of updates uses (issue 19 item 1: parameters in GenerateSecretString)."""
    facts = read_template(MULTI)
    before = Values(facts, {"AppUsername": "orders"})
    assert before.changed("AppUsername") is None  # offline: the stack is not known yet
    update = Values.of_stack(before, {"Parameters": [
        {"ParameterKey": "AppUsername", "ParameterValue": "webuser"},
        {"ParameterKey": "DatabaseName", "ParameterValue": "appdb"},
    ]})  # fmt: skip
    assert update.changed("AppUsername") is True
    assert update.changed("DatabaseName") is False
    assert Values.of_stack(before, None).changed("AppUsername") is False  # a new stack


def test_an_update_refuses_a_kept_value_the_template_no_longer_accepts(capsys):
    """An older stack pinned the image as an SSM path; the template now takes an AMI ID only,
    and CloudFormation would refuse the kept value after creating the change set."""
    stubs = StubbedAws()
    stubs.identity()
    old = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    stubs.cloudformation.add_response(
        "describe_stacks",
        stack_description("rotation-single", "UPDATE_COMPLETE", [("TestInstanceImageId", old)]),
    )
    argv = ["deploy", "--template", SINGLE, "--stack", "rotation-single", "--skip-lint",
            "--params", "LogRetentionInDays=30"]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    assert capsys.readouterr().err == (
        "error: PARAMS: the stack's current value of TestInstanceImageId no longer passes the "
        f"template: TestInstanceImageId='{old}' does not match the parameter's AllowedPattern "
        "(empty, or an AMI ID such as ami-0123456789abcdef0). Give TestInstanceImageId=... in "
        "PARAMS.\n"
    )
    stubs.assert_done()  # no change set


def test_use_previous_value_on_a_new_stack_is_refused_before_any_change_set(tmp_path, capsys):
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps([
        {"ParameterKey": "TestInstanceImageId", "UsePreviousValue": True},
    ]))  # fmt: skip
    stubs = StubbedAws()
    stubs.identity()
    stubs.cloudformation.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id rotation-single does not exist"
    )
    argv = ["deploy", "--template", SINGLE, "--stack", "rotation-single", "--skip-lint",
            "--params-file", str(params_file)]  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    assert capsys.readouterr().err == (
        "error: PARAMS_FILE: TestInstanceImageId has UsePreviousValue, which only an update can "
        "use; a new stack needs its ParameterValue.\n"
    )
    stubs.assert_done()


def test_a_problem_read_partly_on_a_default_waits_for_the_stack():
    """A given schedule with the template's default window: an update keeps the stack's window,
    so the problem holds only for a new stack and does not stop the run before AWS."""
    from scripts.stackctl.clock import Clock
    from scripts.stackctl.deploy import check_inputs

    schedule = 'AdminRotationSchedule="cron(0 23 ? * SUN *)"'
    opts = options(template=SINGLE, stack="s", params=schedule, skip_lint=True)
    verdict = check_inputs(opts, Clock()).verdict
    past_midnight = [line for line in verdict.if_new if "would run into the next UTC day" in line]
    assert past_midnight, verdict.if_new
    assert verdict.certain == []


def test_the_injected_day_is_where_the_overlap_search_starts():
    """The day comes from the run's clock (a test's, here a Sunday years away), not the machine."""
    import datetime as dt

    from scripts.stackctl.clock import Clock
    from scripts.stackctl.deploy import check_inputs

    opts = options(template=MULTI, stack="m", bucket="my-artifacts", skip_lint=True,
                   params='AppRotationSchedule="cron(0 1 * * ? *)"')  # fmt: skip
    verdict = check_inputs(opts, Clock(today=lambda: dt.date(2031, 3, 2))).verdict
    [overlap] = [line for line in verdict.if_new if "can run at the same time" in line]
    assert "Sunday 2031-03-02 from 01:00 to 03:00 UTC" in overlap


def test_use_previous_value_is_not_also_reported_missing(tmp_path, capsys):
    """A PARAMS_FILE UsePreviousValue on a parameter without default: before the stack is known
    the only finding is that a new stack cannot use it, not that the value is missing."""
    from scripts.stackctl.errors import UsageError
    from scripts.stackctl.runtime import Runtime
    from tests.deploy.test_stack_settings import CONSTRAINED

    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps([{"ParameterKey": "Required", "UsePreviousValue": True}]))

    def no_credentials_here(region: str):
        raise UsageError("No usable AWS credentials (test).")

    argv = ["deploy", "--template", CONSTRAINED, "--stack", "kept", "--skip-lint",
            "--params-file", str(params_file)]  # fmt: skip
    assert cli.main(argv, Runtime(connect=no_credentials_here)) == 2
    assert capsys.readouterr().err == (
        "error: No usable AWS credentials (test).\n"
        "If STACK=kept is a new stack (AWS was not asked yet; an update keeps the stack's current "
        "values instead), also:\n"
        "  PARAMS_FILE: Required has UsePreviousValue, which only an update can use; a new stack "
        "needs its ParameterValue.\n"
    )


def test_use_previous_value_on_an_update_keeps_the_stack_s_value(tmp_path):
    from scripts.stackctl.policy import POLICY_FILE
    from tests.deploy.test_change_review import (
        HARMLESS,
        KEPT_BUT_LOG_RETENTION,
        applied,
        deploy,
        up_to_review,
    )

    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps([
        {"ParameterKey": "TestInstanceImageId", "UsePreviousValue": True},
        {"ParameterKey": "AdminUsername", "UsePreviousValue": True},
    ]))  # fmt: skip
    stubs = StubbedAws()
    up_to_review(stubs, [HARMLESS], parameters=KEPT_BUT_LOG_RETENTION)
    applied(stubs, POLICY_FILE.read_text())
    assert deploy(stubs, "--params-file", str(params_file)) == 0
    stubs.assert_done()
