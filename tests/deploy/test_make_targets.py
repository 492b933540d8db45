"""`make deploy`, `make delete`, `make package` against the session moto server.

The first test runs make itself, end to end; the others run the command make runs in-process
(conftest `stackctl`). Which option each make variable becomes is pinned for every target by
test_make_wiring.py; the README's recipes (test_readme_recipes.py) run `make package` and `make
deploy` as written.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from scripts.stackctl import cli
from scripts.stackctl.policy import POLICY_FILE
from scripts.stackctl.runtime import Runtime
from tests.deploy.aws_stubs import StubbedAws
from tests.deploy.conftest import FIXTURES, REPO, clients, make

LOOKUP = str(FIXTURES / "lookup-function-only.yaml")
BOTH_FUNCTIONS = str(FIXTURES / "custom-resource-functions.yaml")


def content_key(path, prefix: str = "") -> str:
    """Where the tooling puts a zip: its folder, then the first 16 hex digits of its SHA-256."""
    return f"{prefix}{path.stem}/{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.zip"


@pytest.fixture
def moto(moto_endpoint):
    return clients(moto_endpoint)


def bucket(moto, name: str) -> None:
    moto("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )


@pytest.mark.slow
def test_deploy_creates_through_a_change_set_redeploys_as_no_change_and_delete_asks_first(
    aws_env, lambda_zip, moto, stackctl
):
    """make deploy and make delete as a user runs them (the variables reach the stack); the runs
    in between are the same command in-process."""
    bucket(moto, "deploy-test")
    args = (
        "deploy",
        f"TEMPLATE={LOOKUP}",
        "STACK=lookup-only",
        "BUCKET=deploy-test",
        "PREFIX=v1/",
        'TAGS=team=payments cost-center="CC 1234"',
        "SKIP_LINT=1",
    )
    result = make(*args, env=aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Region eu-west-1 (from AWS_DEFAULT_REGION), account 123456789012" in out
    assert " Add     RoleLookupFunction  AWS::Lambda::Function" in out
    assert "CREATE_COMPLETE" in out  # streamed events
    assert out.index("Region eu-west-1") < out.index("Create change set")

    cf = moto("cloudformation")
    stack = cf.describe_stacks(StackName="lookup-only")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    key = content_key(lambda_zip, "v1/")
    assert f"Uploading dist/lambda_role_lookup.zip to s3://deploy-test/{key}\n" in out
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params == {"RoleLookupCodeS3Bucket": "deploy-test", "RoleLookupCodeS3Key": key}
    # The quotes in TAGS survive make and the shell.
    assert stack["Tags"] == [
        {"Key": "team", "Value": "payments"},
        {"Key": "cost-center", "Value": "CC 1234"},
    ]
    body = moto("s3").get_object(Bucket="deploy-test", Key=key)["Body"].read()
    assert body == lambda_zip.read_bytes()
    # Only the zip this template names: no mysql_user zip for a template without its key.
    listing = moto("s3").list_objects_v2(Bucket="deploy-test")["Contents"]
    assert [o["Key"] for o in listing] == [key]
    policy = json.loads(cf.get_stack_policy(StackName="lookup-only")["StackPolicyBody"])
    assert policy == json.loads(POLICY_FILE.read_text())

    deploy = (f"--template={LOOKUP}", "--stack=lookup-only", "--bucket=deploy-test")
    again = stackctl(aws_env, "deploy", *deploy, "--prefix=v1/", "--skip-lint",
                     '--tags=team=payments cost-center="CC 1234"')  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "No changes: stack lookup-only is up to date." in again.stdout

    refused = stackctl(aws_env, "delete", "--stack=lookup-only")
    assert refused.returncode != 0
    # The hint names the Region the run acted on, so pasting it acts on the same stack.
    assert "run 'make delete STACK=lookup-only REGION=eu-west-1 YES=1'" in refused.stderr
    assert cf.describe_stacks(StackName="lookup-only")["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )

    deleted = make("delete", "STACK=lookup-only", "YES=1", env=aws_env)
    assert deleted.returncode == 0, deleted.stderr
    assert "DELETE_COMPLETE" in deleted.stdout
    assert "Stack lookup-only deleted." in deleted.stdout
    summaries = cf.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in summaries if s["StackName"] == "lookup-only"] == [
        "DELETE_COMPLETE"
    ]

    gone = stackctl(aws_env, "delete", "--stack=lookup-only", "--yes")
    assert gone.returncode == 2
    assert "There is no stack lookup-only in eu-west-1" in gone.stderr


def test_a_lint_error_stops_the_deploy_before_aws(aws_env, stackctl):
    env = {**aws_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens there
    result = stackctl(env, "deploy", f"--template={FIXTURES / 'lint-error.yaml'}", "--stack=lint")
    assert result.returncode != 0
    assert "E3002" in result.stdout
    assert "cfn-lint found errors" in result.stderr
    assert "SKIP_LINT=1" in result.stderr
    assert "Region" not in result.stdout


def test_make_deploy_without_variables_names_them(aws_env, stackctl):
    result = stackctl(aws_env, "deploy")
    assert result.returncode != 0
    assert "TEMPLATE is missing" in result.stderr
    assert "make deploy TEMPLATE=" in result.stderr


def test_package_uploads_every_zip_and_every_template(
    aws_env, lambda_zips, moto, moto_endpoint, stackctl
):
    bucket(moto, "package-test")
    result = stackctl(aws_env, "package", "--bucket=package-test", "--prefix=v1/")
    assert result.returncode == 0, result.stdout + result.stderr
    listing = moto("s3").list_objects_v2(Bucket="package-test")
    keys = {o["Key"] for o in listing["Contents"]}
    expected_templates = {f"v1/templates/{p.name}" for p in (REPO / "templates").glob("*.yaml")}
    zips = {content_key(path, "v1/") for path in lambda_zips.values()}
    assert keys == zips | expected_templates
    assert f"RoleLookupCodeS3Key={content_key(lambda_zips['lambda_role_lookup'], 'v1/')}" in (
        result.stdout
    )
    assert f"MySQLUserCodeS3Key={content_key(lambda_zips['mysql_user'], 'v1/')}" in result.stdout
    # What to type next: each template's URL and the code parameters it takes.
    lines = result.stdout.splitlines()
    start = lines.index("Uploaded. To create a stack from the console or the AWS CLI, use:")
    url = f"{moto_endpoint}/package-test/v1/templates"
    assert lines[start + 3] == (
        f"  mysql-single-user.yaml: template URL {url}/mysql-single-user.yaml; no code parameters"
    )
    assert lines[start + 1].startswith(
        f"  mysql-multi-user.yaml: template URL {url}/mysql-multi-user.yaml; parameters "
        "RoleLookupCodeS3Bucket=package-test RoleLookupCodeS3Key=v1/lambda_role_lookup/"
    )


def test_package_without_a_bucket_only_builds_and_says_how_to_upload(capsys):
    def no_aws(region: str):
        raise AssertionError("make package without BUCKET reaches no AWS")

    assert cli.main(["package"], Runtime(connect=no_aws)) == 0
    assert capsys.readouterr().out == (
        "Built dist/lambda_role_lookup.zip, dist/mysql_user.zip. "
        "Set BUCKET=<name> to also upload them.\n"
    )


def test_deploy_uploads_the_zip_of_each_code_key_the_template_takes(
    aws_env, lambda_zips, moto, stackctl
):
    bucket(moto, "two-zips")
    result = stackctl(
        aws_env,
        "deploy",
        f"--template={BOTH_FUNCTIONS}",
        "--stack=two-functions",
        "--bucket=two-zips",
        "--prefix=app",
        "--skip-lint",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stack = moto("cloudformation").describe_stacks(StackName="two-functions")["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params == {
        "RoleLookupCodeS3Bucket": "two-zips",
        "RoleLookupCodeS3Key": content_key(lambda_zips["lambda_role_lookup"], "app/"),
        "MySQLUserCodeS3Key": content_key(lambda_zips["mysql_user"], "app/"),
    }
    s3 = moto("s3")
    for name, folder in (
        ("RoleLookupCodeS3Key", "lambda_role_lookup"),
        ("MySQLUserCodeS3Key", "mysql_user"),
    ):
        body = s3.get_object(Bucket="two-zips", Key=params[name])["Body"].read()
        assert body == lambda_zips[folder].read_bytes(), name


def test_a_template_over_51200_bytes_travels_through_the_bucket(
    aws_env, lambda_zip, moto, tmp_path, stackctl
):
    """The multi-user template is close to CreateChangeSet's inline limit and growing."""
    big = tmp_path / "big.yaml"
    padding = "".join(f"# padding line {i:05d} {'.' * 60}\n" for i in range(800))
    big.write_text(padding + "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    assert big.stat().st_size > 51_200
    bucket(moto, "big-template")
    deploy = (aws_env, "deploy", f"--template={big}", "--stack=big", "--skip-lint")
    without_bucket = stackctl(*deploy)
    assert without_bucket.returncode != 0
    assert "has more than 51,200 bytes and must go through S3" in without_bucket.stderr
    result = stackctl(*deploy, "--bucket=big-template")
    assert result.returncode == 0, result.stdout + result.stderr
    keys = [o["Key"] for o in moto("s3").list_objects_v2(Bucket="big-template")["Contents"]]
    assert any(k.startswith("templates/") and k.endswith("-big.yaml") for k in keys)
    stack = moto("cloudformation").describe_stacks(StackName="big")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_an_upload_s3_refuses_names_the_bucket_and_what_to_check(lambda_zips, capsys):
    stubs = StubbedAws()
    stubs.identity()
    stubs.s3.add_client_error("put_object", "NoSuchBucket", "The specified bucket does not exist")
    assert cli.main(["package", "--bucket", "missing-bucket"], stubs.runtime()) == 1
    key = content_key(lambda_zips["lambda_role_lookup"])
    assert capsys.readouterr().err == (
        f"failed: Upload to s3://missing-bucket/{key} failed: bucket missing-bucket does not "
        "exist in eu-west-1. Create it (aws s3 mb s3://missing-bucket --region eu-west-1) or "
        "name an existing one with BUCKET=, then run the command again.\n"
    )
