"""Messages a newcomer tripped on, each with what to type next."""

from __future__ import annotations

import subprocess

import boto3
import botocore.exceptions
import pytest

from scripts.stackctl import cli
from scripts.stackctl.aws import Aws
from scripts.stackctl.errors import UsageError
from scripts.stackctl.params import validate
from scripts.stackctl.runtime import Runtime
from scripts.stackctl.template import read_template
from tests.deploy.conftest import REPO, make

SINGLE = "templates/mysql-single-user.yaml"
EXISTING = "templates/mysql-rotation-existing-cluster.yaml"


def refused(params: str, template: str = SINGLE) -> str:
    with pytest.raises(UsageError) as caught:
        validate(params, read_template(template))
    return str(caught.value)


def test_a_number_not_allowed_is_pointed_to_its_neighbours_not_a_lookalike():
    message = refused("DatabaseMinCapacity=3")
    assert message.endswith(
        "The nearest: DatabaseMinCapacity=2 or DatabaseMinCapacity=4."
    )  # not 32, which merely starts with a 3
    assert "=32" not in message
    assert refused("DatabaseMaxCapacity=512").endswith("The nearest: DatabaseMaxCapacity=256.")


def test_a_word_not_allowed_still_gets_the_closest_spelling():
    assert refused("TestInstanceType=t4g.micr").endswith("Did you mean TestInstanceType=t4g.micro?")


def test_the_quoting_example_names_parameters_of_the_template_in_use():
    single = refused("AdminRotationSchedule=rate(30 days)")
    assert "PARAMS='AdminRotationSchedule=\"rate(30 days)\" LogRetentionInDays=30'" in single
    assert "AppUsername" not in single
    existing = refused("AppRotationSchedule=rate(30 days)", EXISTING)
    assert "PARAMS='AppRotationSchedule=\"rate(30 days)\" AppUsername=webuser'" in existing


def test_a_missing_bucket_s_example_names_the_template_and_stack_given(capsys):
    def no_aws(region: str):
        raise AssertionError("found before AWS is asked")

    argv = ["deploy", "--template", EXISTING, "--stack", "orders-rotation", "--skip-lint"]
    assert cli.main(argv, Runtime(connect=no_aws)) == 2
    assert capsys.readouterr().err.startswith(
        "error: BUCKET is missing: mysql-rotation-existing-cluster.yaml needs its Lambda code "
        "(lambda_role_lookup.zip, mysql_user.zip) in S3. For example: make deploy "
        f"TEMPLATE={EXISTING} STACK=orders-rotation BUCKET=my-artifacts\n"
    )


def unreachable_aws(region: str) -> Aws:
    """Keys but no way to STS in that Region, as when the Region's endpoint has no DNS name."""
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example", region_name=region
    )
    aws = Aws(region, "REGION", session)
    url = f"https://sts.{region}.amazonaws.com/"

    def unreachable(**_):
        raise botocore.exceptions.EndpointConnectionError(endpoint_url=url)

    aws.client("sts").meta.events.register("before-call.sts.GetCallerIdentity", unreachable)
    return aws


def test_an_unknown_region_is_named_with_the_regions_it_may_have_meant(capsys):
    aws = unreachable_aws("eu-west-9")
    assert cli.main(["verify", "--stack", "demo"], Runtime(connect=lambda region: aws)) == 2
    assert capsys.readouterr().err == (
        "error: No AWS endpoint answers: eu-west-9 (from REGION) is not an AWS Region this AWS "
        "SDK knows; did you mean REGION=eu-west-1 or REGION=eu-west-2 or REGION=eu-west-3? "
        "Regions: aws ec2 describe-regions --query 'Regions[].RegionName'\n"
    )


def test_a_known_region_out_of_reach_names_what_to_check(capsys):
    aws = unreachable_aws("eu-west-1")
    url = "https://sts.eu-west-1.amazonaws.com/"
    assert cli.main(["verify", "--stack", "demo"], Runtime(connect=lambda region: aws)) == 1
    assert capsys.readouterr().err == (
        f'failed: Could not connect to the endpoint URL: "{url}": check the network, a proxy '
        "(HTTPS_PROXY) and AWS_ENDPOINT_URL if set.\n"
    )


def test_without_credentials_an_unknown_region_is_named_too(aws_env, stackctl):
    """Both mistakes in one run: credentials are looked for before any connection."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")
    env = {k: v for k, v in aws_env.items() if k not in keys}
    result = stackctl(env, "--region=eu-west-9", "verify", "--stack=demo")
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: No usable AWS credentials (Unable to locate credentials)")
    assert lines[1].startswith(
        "Also: eu-west-9 (from REGION) is not an AWS Region this AWS SDK knows; did you mean "
        "REGION=eu-west-1"
    )


def test_make_build_says_when_the_zips_are_up_to_date(lambda_zips):
    result = make("build", env=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "dist/lambda_role_lookup.zip dist/mysql_user.zip: up to date (rebuilt when "
        "custom_resources/ or scripts/build_lambda_zip.py change).\n"
    )


def test_make_does_not_echo_its_internal_command_line(aws_env):
    result = subprocess.run(
        ["make", "--no-print-directory", "delete"],
        cwd=REPO, capture_output=True, text=True, env=aws_env, check=False, timeout=120,
    )  # fmt: skip
    assert "STACK is missing. For example: make delete STACK=rotation-demo" in result.stderr
    assert "scripts/stack.py" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("template", "example"),
    [
        (SINGLE, f"make deploy TEMPLATE={SINGLE} STACK=rotation-demo\n"),
        (EXISTING, f"make deploy TEMPLATE={EXISTING} STACK=rotation-demo BUCKET=my-artifacts\n"),
    ],
)
def test_a_missing_stack_s_example_names_bucket_only_where_the_template_needs_one(
    capsys, template, example
):
    def no_aws(region: str):
        raise AssertionError("found before AWS is asked")

    argv = ["deploy", "--template", template, "--skip-lint", "--bucket", "", "--params", ""]
    assert cli.main(argv, Runtime(connect=no_aws)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: STACK is missing. For example: ")
    assert f"For example: {example}" in err
