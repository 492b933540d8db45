"""`make verify` against a moto server holding real Secrets Manager versions, Lambda and Logs.

The healthy stack goes through make (the target's wiring); the failing ones run the same command
in-process (conftest `stackctl`).
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

import pytest

from tests.deploy.conftest import FIXTURES, cli_env, clients, make

PASSWORD = "never-printed-Pa55word"
TLS_LINE = "[INFO] Successfully established SSL/TLS connection as user 'appuser' with host: 'db'"
PLAIN_LINE = (
    "[INFO] Successfully established non SSL/TLS connection as user 'appuser' with host: 'db'"
)
ERROR_LINE = (
    "[ERROR] 2026-11-27T04:00:03Z setSecret: Unable to log into database with previous, current, "
    "or pending secret of secret arn x"
)


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


class RotationStack:
    """Two secrets rotated by two functions, as the multi-user template leaves them."""

    def __init__(self, endpoint: str, name: str) -> None:
        self.aws = clients(endpoint)
        self.name = name
        iam, lam, sm = self.aws("iam"), self.aws("lambda"), self.aws("secretsmanager")
        trust = json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ]
            }
        )
        self.roles, self.functions, self.secrets = {}, {}, {}
        for kind in ("admin", "app"):
            role = iam.create_role(RoleName=f"{name}-{kind}-role", AssumeRolePolicyDocument=trust)
            self.roles[kind] = role["Role"]["Arn"]
            self.functions[kind] = lam.create_function(
                FunctionName=f"{name}-{kind}-rotation",
                Runtime="python3.13",
                Handler="app.handler",
                Role=self.roles[kind],
                Code={"ZipFile": code_zip()},
            )["FunctionName"]
            value = {"engine": "mysql", "username": f"{kind}user", "password": PASSWORD}
            self.secrets[kind] = sm.create_secret(
                Name=f"{name}-{kind}", SecretString=json.dumps(value)
            )["ARN"]
            # A rotation not run at once (RotateImmediately false) leaves an AWSPENDING version.
            sm.rotate_secret(
                SecretId=self.secrets[kind],
                RotationLambdaARN=self.functions[kind],
                RotationRules={"AutomaticallyAfterDays": 1},
                RotateImmediately=False,
            )
            self.log(kind, TLS_LINE)
        self.policy(list(self.roles.values()))

    def pending(self, kind: str) -> str:
        stages = self.aws("secretsmanager").describe_secret(SecretId=self.secrets[kind])
        return next(v for v, s in stages["VersionIdsToStages"].items() if s == ["AWSPENDING"])

    def finish_rotations(self) -> None:
        for kind in ("admin", "app"):
            self.aws("secretsmanager").update_secret_version_stage(
                SecretId=self.secrets[kind],
                VersionStage="AWSPENDING",
                RemoveFromVersionId=self.pending(kind),
            )

    def log(self, kind: str, message: str) -> None:
        logs = self.aws("logs")
        group = f"/aws/lambda/{self.functions[kind]}"
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
        )

    def policy(self, principals: list[str]) -> None:
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": principals},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
        self.aws("secretsmanager").put_resource_policy(
            SecretId=self.secrets["admin"], ResourcePolicy=json.dumps(document)
        )


@pytest.fixture
def env(lambda_moto, tmp_path):
    return cli_env(lambda_moto, tmp_path)


def deployed(endpoint: str, name: str) -> RotationStack:
    """Created with CreateStack: moto computes no Outputs for stacks made from change sets."""
    stack = RotationStack(endpoint, name)
    stack.aws("cloudformation").create_stack(
        StackName=name,
        TemplateBody=(FIXTURES / "secrets-by-output.yaml").read_text(),
        Parameters=[
            {"ParameterKey": "AdminSecretArn", "ParameterValue": stack.secrets["admin"]},
            {"ParameterKey": "AppSecretArn", "ParameterValue": stack.secrets["app"]},
        ],
    )
    return stack


def row(output: str, subject: str | None, check: str) -> tuple[str, str]:
    """(result, detail) of the verify table's row for subject (None: any) and check."""
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=3)
        if cells[1:2] == [check] and subject in (None, cells[0]):
            return cells[2], cells[3] if len(cells) > 3 else ""
    raise AssertionError(f"no row {subject!r} {check!r} in:\n{output}")


@pytest.mark.slow
def test_a_healthy_stack_passes(env, lambda_moto):
    stack = deployed(lambda_moto, "healthy")
    stack.finish_rotations()
    result = make("verify", "STACK=healthy", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "FAIL" not in out
    assert "verify: all checks passed" in out
    for kind in ("admin", "app"):
        assert row(out, f"healthy-{kind}", "rotation enabled") == ("ok", "every 1 days")
        assert row(out, f"healthy-{kind}", "no stuck AWSPENDING")[0] == "ok"
        assert row(out, f"healthy-{kind}-rotation", "TLS connections") == (
            "ok",
            "1 connection(s), all TLS",
        )
        assert row(out, f"healthy-{kind}-rotation", "log errors since last rotation")[0] == "ok"
    assert row(out, "healthy-admin", "policy names the rotation roles") == ("ok", "2 roles")
    assert row(out, "demo", "app user on the test instance") == ("skipped", "no test instance")
    alarm, detail = row(out, None, "alarm topic has a subscriber")
    assert alarm == "warn"
    assert "aws sns subscribe --topic-arn arn:aws:sns:eu-west-1:123456789012:" in detail
    assert PASSWORD not in out + result.stderr


def test_a_policy_that_names_every_rotation_role_and_someone_else_fails(env, lambda_moto, stackctl):
    """Only the rotation roles may read the admin secret: one more principal is a failure, even
    when none of the rotation roles is missing."""
    stack = deployed(lambda_moto, "one-more")
    stack.finish_rotations()
    stranger = "arn:aws:iam::123456789012:role/someone-else"
    stack.policy([*stack.roles.values(), stranger])
    result = stackctl(env, "verify", "--stack=one-more")
    assert result.returncode != 0
    assert row(result.stdout, "one-more-admin", "policy names the rotation roles") == (
        "FAIL",
        f"extra: ['{stranger}']; missing: none",
    )
    assert "verify: FAILED (see the FAIL rows)" in result.stdout


def test_stuck_pending_log_errors_plain_connections_and_a_wrong_policy_fail(
    env, lambda_moto, stackctl
):
    stack = deployed(lambda_moto, "unwell")
    stack.aws("secretsmanager").update_secret_version_stage(
        SecretId=stack.secrets["admin"],
        VersionStage="AWSPENDING",
        RemoveFromVersionId=stack.pending("admin"),
    )
    pending = stack.pending("app")
    stack.log("app", ERROR_LINE)
    stack.log("app", PLAIN_LINE)
    topic = stack.aws("cloudformation").describe_stack_resources(StackName="unwell")
    topic_arn = topic["StackResources"][0]["PhysicalResourceId"]
    queue = stack.aws("sqs").create_queue(QueueName="unwell-alarms")["QueueUrl"]
    queue_arn = stack.aws("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    stack.aws("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    stranger = "arn:aws:iam::123456789012:role/someone-else"
    stack.policy([stack.roles["admin"], stranger])
    result = stackctl(env, "verify", "--stack=unwell")
    out = result.stdout
    assert result.returncode != 0
    assert "verify: FAILED" in out
    assert (
        f"aws secretsmanager update-secret-version-stage --secret-id {stack.secrets['app']} "
        f"--version-stage AWSPENDING --remove-from-version-id {pending} --region eu-west-1"
    ) in out
    result_, detail = row(out, "unwell-app-rotation", "log errors since last rotation")
    assert result_ == "FAIL"
    assert "Unable to log into database" in detail
    assert row(out, "unwell-app-rotation", "TLS connections") == (
        "FAIL",
        "1 connection(s) without TLS",
    )
    assert row(out, "unwell-admin", "policy names the rotation roles") == (
        "FAIL",
        f"extra: ['{stranger}']; missing: ['{stack.roles['app']}']",
    )
    assert row(out, "unwell-admin", "no stuck AWSPENDING")[0] == "ok"
    assert row(out, None, "alarm topic has a subscriber") == ("ok", "1 confirmed")
    assert row(out, "unwell-app", "no stuck AWSPENDING")[0] == "FAIL"
    assert PASSWORD not in out + result.stderr


def test_the_policy_check_reads_the_principals_of_every_allow_statement_after_a_deny():
    from scripts.stackctl.rotation_health import policy_principals

    document = json.dumps(
        {
            "Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "*", "Condition": {}},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/a"}, "Action": "x"},
                {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:role/b"]}, "Action": "x"},
            ]
        }
    )

    assert policy_principals(document) == {"arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"}


@pytest.mark.parametrize(
    ("error", "outcome"),
    [("ResourceNotFoundException", "no lines"), ("AccessDeniedException", "raised")],
)
def test_a_log_group_not_created_yet_has_no_lines_and_other_errors_are_raised(error, outcome):
    # A rotation function that never ran has no log group: nothing to read, not a failure. Any
    # other error (a missing logs:FilterLogEvents permission) must reach the user.
    import botocore.exceptions

    from scripts.stackctl.rotation_health import log_lines
    from tests.deploy.aws_stubs import StubbedAws

    stubs = StubbedAws()
    stubs.logs.add_client_error("filter_log_events", error, "no")
    if outcome == "no lines":
        assert log_lines(stubs.aws, "/aws/lambda/never-ran", None) == []
    else:
        with pytest.raises(botocore.exceptions.ClientError):
            log_lines(stubs.aws, "/aws/lambda/never-ran", None)
