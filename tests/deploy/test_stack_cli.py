"""`make deploy`, `make delete` and `make package`: the commands they run and the errors they give.

Dry runs check the exact AWS CLI commands; real runs go through the pinned AWS CLI to a local moto
server for what moto implements (S3 uploads, change-set deploys, deletes).
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STACK_PY = REPO / "scripts" / "stack.py"
MULTI = "templates/mysql-multi-user.yaml"
SINGLE = "templates/mysql-single-user.yaml"
FIXTURE = str(Path(__file__).parent / "fixtures" / "lookup-function-only.yaml")


def execute(command: list[str], env: dict | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, env=env, check=False, timeout=300
    )


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """scripts/stack.py, as the Makefile runs it."""
    return execute([sys.executable, str(STACK_PY), *args], env)


def commands(output: str) -> list[list[str]]:
    """The AWS CLI commands a run printed, without the CLI path itself."""
    return [shlex.split(line[2:])[1:] for line in output.splitlines() if line.startswith("+ ")]


def make(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return execute(["make", "--no-print-directory", *args], env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy", "--stack", "demo"], "TEMPLATE is missing"),
        (["deploy", "--template", MULTI], "STACK is missing"),
        (["deploy", "--template", "templates/nope.yaml", "--stack", "demo"], "does not exist"),
        (["deploy", "--template", MULTI, "--stack", "demo"], "BUCKET is missing"),
        (["deploy", "--template", SINGLE, "--stack", "9lives"], "not a valid stack name"),
        (["deploy", "--template", MULTI, "--stack", "d", "--bucket", "Bad_Bucket"], "not a valid"),
        (["deploy", "--template", SINGLE, "--stack", "d", "--params", "oops"], "not Key=Value"),
        (["delete"], "STACK is missing"),
    ],
)
def test_user_mistakes_give_a_message_not_a_traceback(args, message):
    result = run("--dry-run", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_stack_names_longer_than_the_rotation_function_names_allow_are_refused():
    result = run("--dry-run", "deploy", "--template", MULTI, "--stack", "s" * 60, "--bucket", "b-1")
    assert result.returncode == 2
    assert "too long" in result.stderr
    assert "at most 64 characters" in result.stderr


def test_make_deploy_without_variables_names_them(lambda_zip):
    result = make("deploy", "DRY_RUN=1")
    assert result.returncode != 0
    assert "TEMPLATE is missing" in result.stderr
    assert "make deploy TEMPLATE=" in result.stderr


def test_deploy_without_credentials_explains_what_is_missing(aws_env, lambda_zip):
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")
    env = {k: v for k, v in aws_env.items() if k not in keys}
    result = make("deploy", f"TEMPLATE={SINGLE}", "STACK=demo", env=env)
    assert result.returncode != 0
    assert "No usable AWS credentials" in result.stderr
    assert "AWS_PROFILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_multi_user_uploads_the_code_then_deploys_with_the_right_flags(lambda_zip):
    result = run(
        "--dry-run", "--region", "eu-west-1", "deploy", "--template", MULTI, "--stack", "demo",
        "--bucket", "my-artifacts", "--prefix", "rotation", "--params", "DeletionProtection=false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    upload, deploy, outputs = commands(result.stdout)
    digest = hashlib.sha256(lambda_zip.read_bytes()).hexdigest()[:16]
    key = f"rotation/lambda_role_lookup/{digest}.zip"
    assert upload[:4] == ["s3", "cp", str(lambda_zip), f"s3://my-artifacts/{key}"]
    assert deploy[:2] == ["cloudformation", "deploy"]
    assert deploy[deploy.index("--template-file") + 1] == MULTI
    assert deploy[deploy.index("--stack-name") + 1] == "demo"
    caps = deploy[deploy.index("--capabilities") + 1 : deploy.index("--capabilities") + 3]
    assert caps == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert "--no-fail-on-empty-changeset" in deploy
    assert deploy[deploy.index("--s3-bucket") + 1] == "my-artifacts"
    overrides = deploy[deploy.index("--parameter-overrides") + 1 : deploy.index("--region")]
    assert overrides == [
        "DeletionProtection=false",
        "RoleLookupCodeS3Bucket=my-artifacts",
        f"RoleLookupCodeS3Key={key}",
    ]
    assert deploy[-2:] == ["--region", "eu-west-1"]
    assert outputs[:2] == ["cloudformation", "describe-stacks"]


def test_dry_run_single_user_needs_no_bucket():
    result = run("--dry-run", "deploy", "--template", SINGLE, "--stack", "demo")
    assert result.returncode == 0, result.stderr
    (deploy, _outputs) = commands(result.stdout)
    assert "--s3-bucket" not in deploy
    assert "--parameter-overrides" not in deploy


def test_dry_run_delete_waits_for_the_stack_to_go():
    result = run("--dry-run", "delete", "--stack", "demo")
    assert result.returncode == 0, result.stderr
    assert commands(result.stdout) == [
        ["cloudformation", "delete-stack", "--stack-name", "demo"],
        ["cloudformation", "wait", "stack-delete-complete", "--stack-name", "demo"],
    ]


def aws(env: dict, *args: str) -> dict:
    """The pinned AWS CLI against the moto server, in its own process like a user's shell.

    In-process boto3 clients are avoided on purpose: another test's moto mock would answer them
    instead of the server.
    """
    result = execute([str(Path(sys.executable).parent / "aws"), *args, "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def make_bucket(env: dict, name: str) -> None:
    aws(env, "s3api", "create-bucket", "--bucket", name,
        "--create-bucket-configuration", "LocationConstraint=eu-west-1")  # fmt: skip


def test_deploy_and_delete_against_moto_server(aws_env, lambda_zip, tmp_path):
    make_bucket(aws_env, "deploy-test")
    result = run(
        "deploy", "--template", FIXTURE, "--stack", "lookup-only", "--bucket", "deploy-test",
        env=aws_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    key = f"lambda_role_lookup/{hashlib.sha256(lambda_zip.read_bytes()).hexdigest()[:16]}.zip"
    downloaded = tmp_path / "code.zip"
    aws(aws_env, "s3api", "get-object", "--bucket", "deploy-test", "--key", key, str(downloaded))
    assert downloaded.read_bytes() == lambda_zip.read_bytes()

    stack = aws(aws_env, "cloudformation", "describe-stacks", "--stack-name", "lookup-only")
    stack = stack["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params == {"RoleLookupCodeS3Bucket": "deploy-test", "RoleLookupCodeS3Key": key}
    resource = aws(
        aws_env, "cloudformation", "describe-stack-resource",
        "--stack-name", "lookup-only", "--logical-resource-id", "RoleLookupFunction",
    )  # fmt: skip
    name = resource["StackResourceDetail"]["PhysicalResourceId"]
    function = aws(aws_env, "lambda", "get-function-configuration", "--function-name", name)
    assert function["Handler"] == "app.handler"

    result = run("delete", "--stack", "lookup-only", env=aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    remaining = aws(aws_env, "cloudformation", "list-stacks")["StackSummaries"]
    assert [s["StackStatus"] for s in remaining if s["StackName"] == "lookup-only"] == [
        "DELETE_COMPLETE"
    ]


def test_package_uploads_the_zip_and_both_templates(aws_env, lambda_zip):
    make_bucket(aws_env, "package-test")
    result = run("package", "--bucket", "package-test", "--prefix", "v1/", env=aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    listing = aws(aws_env, "s3api", "list-objects-v2", "--bucket", "package-test")
    keys = {o["Key"] for o in listing["Contents"]}
    digest = hashlib.sha256(lambda_zip.read_bytes()).hexdigest()[:16]
    expected_templates = {f"v1/templates/{p.name}" for p in (REPO / "templates").glob("*.yaml")}
    assert keys == {f"v1/lambda_role_lookup/{digest}.zip", *expected_templates}
    assert f"RoleLookupCodeS3Key=v1/lambda_role_lookup/{digest}.zip" in result.stdout
