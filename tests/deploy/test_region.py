"""Which Region a command acts on: REGION=, then AWS_REGION, AWS_DEFAULT_REGION, the profile.

The pinned AWS CLI v1 and botocore read only AWS_DEFAULT_REGION; a user who exported AWS_REGION
must still get that Region, and every client must be built for it.
"""

from __future__ import annotations

import boto3
import botocore.exceptions
import pytest

from scripts.stackctl import cli
from scripts.stackctl.aws import Aws
from scripts.stackctl.errors import UsageError
from scripts.stackctl.runtime import Runtime
from tests.deploy.aws_stubs import StubbedAws, stack_description
from tests.deploy.conftest import clients

FIXTURE = "tests/deploy/fixtures/lookup-function-only.yaml"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ap-southeast-2\n[profile other]\nregion = us-west-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return monkeypatch


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        (
            "eu-central-1",
            {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"},
            ("eu-central-1", "REGION"),
        ),
        (
            "",
            {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"},
            ("eu-west-1", "AWS_REGION"),
        ),
        ("", {"AWS_DEFAULT_REGION": "us-east-1"}, ("us-east-1", "AWS_DEFAULT_REGION")),
        ("", {}, ("ap-southeast-2", "profile default")),
        ("", {"AWS_PROFILE": "other"}, ("us-west-2", "profile other")),
    ],
)
def test_region_order(clean_env, explicit, env, expected):
    for key, value in env.items():
        clean_env.setenv(key, value)
    aws = Aws.connect(explicit)
    assert (aws.region, aws.region_source) == expected
    assert aws.client("cloudformation").meta.region_name == expected[0]
    assert aws.client("s3").meta.region_name == expected[0]


def test_no_region_anywhere_says_what_to_set(clean_env, tmp_path):
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(UsageError, match=r"No AWS Region: set REGION="):
        Aws.connect("")


def test_a_malformed_region_is_refused(clean_env):
    clean_env.setenv("AWS_REGION", "eu-west")
    with pytest.raises(UsageError, match=r"AWS_REGION=eu-west is not an AWS Region name"):
        Aws.connect("")


def test_region_and_account_are_printed_before_any_change(capsys):
    stubs = StubbedAws()
    stubs.identity()
    stubs.cloudformation.add_response(
        "describe_stacks", stack_description("gone", "DELETE_COMPLETE")
    )
    assert cli.main(["delete", "--stack", "gone", "--yes"], stubs.runtime()) == 2
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == (
        "Region eu-west-1 (from REGION), account 111122223333 as arn:aws:iam::111122223333:user/dev"
    )
    assert "There is no stack gone in eu-west-1 (account 111122223333)" in err
    stubs.assert_done()


def test_make_deploy_with_aws_region_deploys_there_not_to_the_cli_default(
    aws_env, lambda_zip, moto_endpoint, stackctl
):
    env = {**aws_env, "AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "us-east-1"}
    s3 = clients(moto_endpoint, "eu-west-2")("s3")
    s3.create_bucket(
        Bucket="region-test-2", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    result = stackctl(
        env,
        "--region=",  # make passes REGION= empty when it is not set
        "deploy",
        f"--template={FIXTURE}",
        "--stack=region-rule",
        "--bucket=region-test-2",
        "--skip-lint",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Region eu-west-2 (from AWS_REGION)" in result.stdout
    there = clients(moto_endpoint, "eu-west-2")("cloudformation")
    assert (
        there.describe_stacks(StackName="region-rule")["Stacks"][0]["StackStatus"]
        == "CREATE_COMPLETE"
    )
    default = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t")
    cli_default = default.client(
        "cloudformation", region_name="us-east-1", endpoint_url=moto_endpoint
    )
    names = [s["StackName"] for s in cli_default.list_stacks()["StackSummaries"]]
    assert "region-rule" not in names


def test_the_taskcat_credentials_check_needs_no_region_and_asks_sts_in_us_east_1(capsys):
    """`make taskcat` checks credentials only: taskcat picks its Regions, so none need be set."""
    stubs = StubbedAws()
    stubs.identity()
    asked = []

    def connect(region: str) -> Aws:
        asked.append(region)
        if not region:
            raise UsageError("No AWS Region: set REGION=")
        return stubs.aws

    assert cli.main(["credentials"], Runtime(connect=connect)) == 0
    assert asked == ["", "us-east-1"]
    assert "account 111122223333 as arn:aws:iam::111122223333:user/dev" in capsys.readouterr().out
    stubs.assert_done()


def test_an_aws_refusal_exits_1_naming_its_code_and_message(capsys):
    stubs = StubbedAws()
    stubs.identity()
    stubs.cloudformation.add_client_error(
        "describe_stacks", "AccessDenied", "User dev is not authorized to perform DescribeStacks"
    )
    assert cli.main(["delete", "--stack", "kept", "--yes"], stubs.runtime()) == 1
    assert capsys.readouterr().err == (
        "failed: AWS answered AccessDenied: User dev is not authorized to perform DescribeStacks\n"
    )


def test_aws_out_of_reach_exits_1_naming_the_endpoint(capsys):
    stubs = StubbedAws()
    stubs.identity()
    url = "https://cloudformation.eu-west-1.amazonaws.com/"

    def unreachable(**_):
        raise botocore.exceptions.EndpointConnectionError(endpoint_url=url)

    cf = stubs.aws.client("cloudformation")
    cf.meta.events.register("before-call.cloudformation.DescribeStacks", unreachable)
    assert cli.main(["delete", "--stack", "kept", "--yes"], stubs.runtime()) == 1
    assert capsys.readouterr().err == f'failed: Could not connect to the endpoint URL: "{url}"\n'


def test_expired_credentials_are_named_with_the_fix_before_anything_else(capsys):
    stubs = StubbedAws()
    stubs.sts.add_client_error("get_caller_identity", "ExpiredToken", "The token has expired")
    assert cli.main(["delete", "--stack", "kept", "--yes"], stubs.runtime()) == 2
    assert capsys.readouterr().err == (
        "error: No usable AWS credentials: sts:GetCallerIdentity failed (ExpiredToken). "
        "Set AWS_PROFILE (after 'aws sso login' or 'aws configure'), or export "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n"
    )
    stubs.assert_done()


def test_an_unknown_profile_is_named_with_the_fix(clean_env):
    clean_env.setenv("AWS_PROFILE", "typo")
    with pytest.raises(UsageError) as refused:
        Aws.connect("")
    assert str(refused.value) == (
        "The config profile (typo) could not be found. Set AWS_PROFILE (after 'aws sso login' or "
        "'aws configure'), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
    )
