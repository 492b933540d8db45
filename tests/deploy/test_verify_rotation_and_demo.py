"""`make verify ROTATE=1` and the demo through SSM Run Command, answered like AWS through Stubber.

moto's RotateSecret runs no rotation function code, and its Run Command runs no shell, so the
secret's alternation and the demo's output come from AWS-shaped answers.
"""

from __future__ import annotations

import json
import re

import pytest
from botocore.stub import ANY

from scripts.stackctl import cli, demo
from scripts.stackctl.report import Report
from scripts.stackctl.rotate_now import rotate
from scripts.stackctl.rotation_health import Secret
from tests.deploy.aws_stubs import T0, StubbedAws, stack_arn, stack_description

ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rotation-multi-app-AbCdEf"
OLD, NEW = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
INSTANCE = "i-0123456789abcdef0"
COMMAND = "0b7c8d9e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
PASSWORD = "not-for-any-output-9Zq"


def value(version: str, username: str) -> dict:
    secret = {"engine": "mysql", "username": username, "password": PASSWORD, "host": "db"}
    return {"ARN": ARN, "Name": "app", "VersionId": version, "SecretString": json.dumps(secret),
            "VersionStages": ["AWSCURRENT"]}  # fmt: skip


def stages(mapping: dict) -> dict:
    return {"ARN": ARN, "Name": "app", "VersionIdsToStages": mapping}


@pytest.mark.parametrize(
    ("before", "after", "result"),
    [("appuser", "appuser_clone", "ok"), ("appuser_clone", "appuser", "ok"),
     ("appuser", "appuser", "FAIL")],
)  # fmt: skip
def test_rotate_waits_for_the_new_version_and_checks_the_user_alternated(
    before, after, result, capsys
):
    stubs = StubbedAws()
    sm = stubs.secretsmanager
    sm.add_response("get_secret_value", value(OLD, before), {"SecretId": ARN})
    sm.add_response(
        "rotate_secret", {"ARN": ARN, "Name": "app", "VersionId": NEW}, {"SecretId": ARN}
    )
    sm.add_response("describe_secret", stages({OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}))
    sm.add_response("describe_secret", stages({OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}))
    sm.add_response("describe_secret", stages({OLD: ["AWSPREVIOUS"], NEW: ["AWSCURRENT"]}))
    sm.add_response("get_secret_value", value(NEW, after), {"SecretId": ARN})
    report = Report()
    rotate(stubs.aws, Secret(ARN, "app", {}), report, stubs.clock.as_clock())
    assert report.rows == [("app", "rotation alternates the user", result, f"{before} -> {after}")]
    assert stubs.clock.sleeps == [2.0, 3.0]  # looks again after 2 s, then half as long again
    assert PASSWORD not in capsys.readouterr().out + report.render()
    stubs.assert_done()


def test_a_rotation_that_never_finishes_fails_after_the_lambda_limit():
    stubs = StubbedAws()
    sm = stubs.secretsmanager
    sm.add_response("get_secret_value", value(OLD, "appuser"))
    sm.add_response("rotate_secret", {"ARN": ARN, "Name": "app", "VersionId": NEW})
    for _ in range(80):
        sm.add_response("describe_secret", stages({OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}))
    stubs.clock.t = 1000.0  # a monotonic clock starts anywhere
    report = Report()
    rotate(stubs.aws, Secret(ARN, "app", {}), report, stubs.clock.as_clock())
    assert report.rows == [("app", "rotation", "FAIL", f"version {NEW} not AWSCURRENT after 16 "
                            "minutes; see the function's log errors above")]  # fmt: skip
    assert stubs.clock.sleeps[:6] == [2.0, 3.0, 4.5, 6.75, 10.125, 15.0]
    assert max(stubs.clock.sleeps) == 15.0
    assert stubs.clock.t == 1971.375  # the first look later than 16 minutes gives up


@pytest.fixture
def stubs(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    return StubbedAws()


INSTANCE_RESOURCE = [{"ResourceType": "AWS::EC2::Instance", "PhysicalResourceId": INSTANCE}]


def running(stubs: StubbedAws, state: str = "running") -> None:
    stubs.ec2.add_response("describe_instances", {"Reservations": [{"Instances": [
        {"InstanceId": INSTANCE, "State": {"Code": 16, "Name": state}}]}]},
        {"InstanceIds": [INSTANCE]})  # fmt: skip


def run_demo(stubs: StubbedAws) -> Report:
    report = Report()
    demo.run(stubs.aws, INSTANCE_RESOURCE, {"DatabaseName": "demodb"}, True, report,
             stubs.clock.as_clock())  # fmt: skip
    return report


def test_the_demo_runs_through_ssm_and_reports_each_privilege():
    stubs = StubbedAws()
    running(stubs)
    stubs.ssm.add_response("send_command", {"Command": {"CommandId": COMMAND}}, {
        "InstanceIds": [INSTANCE], "DocumentName": "AWS-RunShellScript", "Comment": ANY,
        "Parameters": {"commands": demo.script("demodb")}})  # fmt: skip
    stubs.ssm.add_client_error("get_command_invocation", "InvocationDoesNotExist")
    stubs.ssm.add_response("get_command_invocation", {"Status": "InProgress"})
    stubs.ssm.add_response(
        "get_command_invocation",
        {"Status": "Success", "StandardOutputContent": "select=ok\ninsert=denied\nmysql_user=ok\n"},
    )
    report = run_demo(stubs)
    assert report.rows == [
        ("demo", "app user can SELECT prices", "ok", "select=ok, expected ok"),
        ("demo", "app user cannot INSERT", "ok", "insert=denied, expected denied"),
        ("demo", "app user cannot read mysql.user", "FAIL", "mysql_user=ok, expected denied"),
    ]
    assert stubs.clock.sleeps == [2.0, 3.0, 4.5]  # first look after 2 s, then half as long again
    stubs.assert_done()


def sent(stubs: StubbedAws) -> None:
    stubs.ssm.add_response("send_command", {"Command": {"CommandId": COMMAND}})


def test_a_command_still_running_after_five_minutes_fails_naming_it():
    stubs = StubbedAws()
    running(stubs)
    sent(stubs)
    for _ in range(33):
        stubs.ssm.add_response("get_command_invocation", {"Status": "InProgress"})
    stubs.clock.t = 1000.0  # a monotonic clock starts anywhere
    report = run_demo(stubs)
    assert report.rows == [("demo", "SSM Run Command", "FAIL", f"command {COMMAND} still running")]
    assert stubs.clock.sleeps == [2.0, 3.0, 4.5, 6.75] + [10.0] * 29  # at most 10 s apart
    assert stubs.clock.t == 1306.25  # the first look later than 300 s gives up
    stubs.assert_done()


@pytest.mark.parametrize(
    ("status", "output"),
    [("Failed", "select=ok\ninsert=denied\nmysql_user=denied\n"), ("Success", "no probe ran\n")],
)
def test_a_command_that_failed_or_printed_no_probe_fails_with_the_command_to_look_at_it(
    status, output
):
    stubs = StubbedAws()
    running(stubs)
    sent(stubs)
    stubs.ssm.add_response(
        "get_command_invocation", {"Status": status, "StandardOutputContent": output}
    )
    report = run_demo(stubs)
    assert report.rows == [(
        "demo", "SSM Run Command", "FAIL",
        f"{status}: is the SSM agent online? aws ssm get-command-invocation --command-id "
        f"{COMMAND} --instance-id {INSTANCE}",
    )]  # fmt: skip
    stubs.assert_done()


def test_a_probe_missing_from_the_output_fails_that_check():
    stubs = StubbedAws()
    running(stubs)
    sent(stubs)
    stubs.ssm.add_response(
        "get_command_invocation",
        {"Status": "Success", "StandardOutputContent": " select=ok \ninsert\nother=ok\n"},
    )
    assert run_demo(stubs).rows == [
        ("demo", "app user can SELECT prices", "ok", "select=ok, expected ok"),
        ("demo", "app user cannot INSERT", "FAIL", "insert=missing, expected denied"),
        ("demo", "app user cannot read mysql.user", "FAIL", "mysql_user=missing, expected denied"),
    ]


def test_a_terminated_instance_is_skipped_and_no_command_is_sent():
    stubs = StubbedAws()
    stubs.ec2.add_client_error("describe_instances", "InvalidInstanceID.NotFound")
    report = run_demo(stubs)
    assert report.rows == [(
        "demo", "app user on the test instance", "skipped",
        f"instance {INSTANCE} gone: aws ec2 start-instances --instance-ids {INSTANCE} "
        "--region eu-west-1, then verify again",
    )]  # fmt: skip
    stubs.assert_done()


def test_the_demo_is_skipped_without_an_application_secret_or_a_test_instance():
    stubs = StubbedAws()
    single, no_instance = Report(), Report()
    demo.run(stubs.aws, INSTANCE_RESOURCE, {}, False, single, stubs.clock.as_clock())
    demo.run(stubs.aws, [], {}, True, no_instance, stubs.clock.as_clock())
    assert single.rows == [
        ("demo", "app user on the test instance", "skipped", "no application secret")
    ]
    assert no_instance.rows == [
        ("demo", "app user on the test instance", "skipped", "no test instance")
    ]
    stubs.assert_done()  # no AWS call


def test_the_demo_script_reads_credentials_only_from_the_root_option_file():
    lines = demo.script("demodb")
    assert lines[0].startswith("/opt/rotation-demo/bootstrap.sh")
    assert all("--defaults-extra-file=/root/rotation-demo/app.cnf" in line for line in lines[1:])
    assert not any("--password" in line or "-p" in line.split() for line in lines)


def test_a_stopped_instance_is_skipped_with_the_command_that_starts_it():
    stubs = StubbedAws()
    running(stubs, "stopped")
    report = run_demo(stubs)
    (_subject, _check, result, detail) = report.rows[0]
    assert result == "skipped"
    assert (
        f"instance {INSTANCE} stopped: aws ec2 start-instances --instance-ids {INSTANCE}" in detail
    )
    assert not report.failed
    stubs.assert_done()


STACK = "rotation-multi"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rotation-multi-{}-AbCdEf"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:111122223333:function:rotation-multi-{}-rotation"


def verify(stubs: StubbedAws, *flags: str) -> int:
    return cli.main(["verify", "--stack", STACK, *flags], stubs.runtime())


def stack_with(stubs: StubbedAws, status: str, *resources: tuple[str, str, str]) -> None:
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks", stack_description(STACK, status), {"StackName": STACK}
    )
    stubs.cloudformation.add_response(
        "describe_stack_resources",
        {"StackResources": [resource(*r) for r in resources]},
        {"StackName": stack_arn(STACK)},
    )


def resource(logical: str, kind: str, physical: str) -> dict:
    return {"StackName": STACK, "LogicalResourceId": logical, "PhysicalResourceId": physical,
            "ResourceType": kind, "Timestamp": T0, "ResourceStatus": "UPDATE_COMPLETE"}  # fmt: skip


def test_verify_of_a_rolled_back_stack_without_secrets_fails_and_skips_rotate(stubs, capsys):
    stack_with(stubs, "UPDATE_ROLLBACK_COMPLETE")
    assert verify(stubs, "--rotate") == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        "subject         check                          result   detail",
        "rotation-multi  stack status                   FAIL     UPDATE_ROLLBACK_COMPLETE",
        "rotation-multi  secrets                        FAIL     "
        "the stack has no Secrets Manager secret",
        "rotation-multi  ROTATE=1                       skipped  "
        "no application secret (AppSecretArn output)",
        "demo            app user on the test instance  skipped  no application secret",
        "",
        "verify: FAILED (see the FAIL rows)",
    ]  # fmt: skip
    stubs.assert_done()


def test_verify_finds_nested_secrets_and_fails_on_what_is_missing(stubs, capsys):
    """Rotation off and no function; a function that is gone; a function whose paged log has a
    timeout and no connection; a resource policy in the stack that no secret carries."""
    nested = stack_arn("rotation-multi-Rotation-1A2B")
    stack_with(stubs, "UPDATE_COMPLETE",
               ("AdminSecret", "AWS::SecretsManager::Secret", SECRET_ARN.format("admin")),
               ("SecretPolicy", "AWS::SecretsManager::ResourcePolicy", "policy-1"),
               ("Rotation", "AWS::CloudFormation::Stack", nested))  # fmt: skip
    stubs.cloudformation.add_response("describe_stack_resources", {"StackResources": [
        resource("AppSecret", "AWS::SecretsManager::Secret", SECRET_ARN.format("app")),
        resource("MonitorSecret", "AWS::SecretsManager::Secret", SECRET_ARN.format("monitor")),
    ]}, {"StackName": nested})  # fmt: skip
    sm, lam, logs = stubs.secretsmanager, getattr(stubs, "lambda"), stubs.logs
    current = {"VersionIdsToStages": {OLD: ["AWSCURRENT"]}}
    sm.add_response("describe_secret", {"ARN": SECRET_ARN.format("admin"), "Name": "admin",
                                        "RotationEnabled": False, **current})  # fmt: skip
    sm.add_response("describe_secret", {
        "ARN": SECRET_ARN.format("app"), "Name": "app", "RotationEnabled": True,
        "RotationLambdaARN": FUNCTION_ARN.format("app"),
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
        "NextRotationDate": T0, **current})  # fmt: skip
    sm.add_response("describe_secret", {
        "ARN": SECRET_ARN.format("monitor"), "Name": "monitor", "RotationEnabled": True,
        "RotationLambdaARN": FUNCTION_ARN.format("monitor"),
        "RotationRules": {"AutomaticallyAfterDays": 7},
        "LastRotatedDate": T0, **current})  # fmt: skip
    lam.add_client_error("get_function_configuration", "ResourceNotFoundException",
                         expected_params={"FunctionName": FUNCTION_ARN.format("app")})  # fmt: skip
    lam.add_response("get_function_configuration", {
        "FunctionName": "rotation-multi-monitor-rotation",
        "Role": "arn:aws:iam::111122223333:role/monitor-rotation",
        "LoggingConfig": {"LogGroup": "/rotation/monitor"}})  # fmt: skip
    since = int(T0.timestamp() * 1000) - 15 * 60 * 1000  # a quarter of an hour before
    logs.add_response(
        "filter_log_events",
        {"events": [{"message": "[INFO] setSecret: start"}], "nextToken": "n2"},
        {"logGroupName": "/rotation/monitor", "startTime": since},
    )
    logs.add_response(
        "filter_log_events",
        {
            "events": [
                {"message": f"  Task timed out after 30.00   seconds {'x' * 200}\n"},
                {"message": "[ERROR] a later failure"},
            ]
        },
        {"logGroupName": "/rotation/monitor", "startTime": since, "nextToken": "n2"},
    )
    for name in ("admin", "app", "monitor"):
        sm.add_response("get_resource_policy", {"Name": name},
                        {"SecretId": SECRET_ARN.format(name)})  # fmt: skip
    assert verify(stubs) == 1
    table = capsys.readouterr().out.splitlines()[1:]
    assert table[0] == "subject" + " " * 26 + "check" + " " * 27 + "result   detail"
    assert table[-2:] == ["", "verify: FAILED (see the FAIL rows)"]
    never, t0 = "never", "2026-11-27 09:00 UTC"
    assert [tuple(re.split(r"\s{2,}", line, maxsplit=3)) for line in table[1:-2]] == [
        (STACK, "stack status", "ok", "UPDATE_COMPLETE"),
        ("admin", "rotation enabled", "FAIL", "RotationEnabled is false"),
        ("admin", "last rotated", "warn", never),
        ("admin", "next rotation", "warn", never),
        ("admin", "one AWSCURRENT", "ok", OLD),
        ("admin", "no stuck AWSPENDING", "ok"),
        ("admin", "rotation function", "FAIL", "the secret names no rotation function"),
        ("app", "rotation enabled", "ok", "rate(30 days)"),
        ("app", "last rotated", "warn", never),
        ("app", "next rotation", "ok", t0),
        ("app", "one AWSCURRENT", "ok", OLD),
        ("app", "no stuck AWSPENDING", "ok"),
        ("app", "rotation function", "FAIL", f"{FUNCTION_ARN.format('app')} does not exist"),
        ("monitor", "rotation enabled", "ok", "every 7 days"),
        ("monitor", "last rotated", "ok", t0),
        ("monitor", "next rotation", "warn", never),
        ("monitor", "one AWSCURRENT", "ok", OLD),
        ("monitor", "no stuck AWSPENDING", "ok"),
        ("monitor", "rotation function", "ok", "rotation-multi-monitor-rotation"),
        ("rotation-multi-monitor-rotation", "log errors since last rotation", "FAIL",
         "2; first: " + ("Task timed out after 30.00 seconds " + "x" * 200)[:200]),
        ("rotation-multi-monitor-rotation", "TLS connections", "skipped",
         "no connection logged since the last rotation"),
        ("resource policy", "present", "FAIL", "the stack has one but no secret carries it"),
        ("demo", "app user on the test instance", "skipped", "no application secret"),
    ]  # fmt: skip
    stubs.assert_done()


def test_the_table_probes_run_in_the_app_database_and_the_server_probe_in_none():
    # Without the database, MariaDB answers "No database selected" to SELECT/INSERT on prices,
    # and the demo would report a privilege the app user has as denied.
    probes = {line.rsplit("echo ", 1)[-1].split("=")[0]: line for line in demo.script("demodb")[1:]}
    assert set(probes) == {"select", "insert", "mysql_user"}
    for name in ("select", "insert"):
        assert " demodb -e " in probes[name], probes[name]
    assert "demodb" not in probes["mysql_user"]
