"""The README's deploy recipes, run as written against a moto server.

Nothing is prepared that a reader would not have: credentials and a Region (the environment),
the AWS CLI (the project's, on PATH) and the S3 buckets the recipes name, which the README says
are the reader's own. moto cannot run the templates' resources (the Secrets Manager transform,
RDS in a VPC), so a deploy ends when CloudFormation executes the change set; every step of the
recipe before that, which is what the repository controls, must pass: no refusal, no traceback.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO, cli_env, clients

README = (REPO / "README.md").read_text()
pytestmark = pytest.mark.slow
MARK = "=== recipe command"


def shell_blocks(section: str) -> list[str]:
    """The ```sh blocks of one README section (from its heading to the next of its level)."""
    level = section.split(" ", 1)[0]
    start = README.index(f"\n{section}\n")
    rest = README[start + len(section) + 2 :]
    end = re.search(rf"^{level} ", rest, re.MULTILINE)
    text = rest[: end.start()] if end else rest
    return [textwrap.dedent(b) for b in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)]


def commands(block: str) -> list[str]:
    """Whole commands (continued lines kept together), without comments or `...` placeholders."""
    found: list[str] = []
    current: list[str] = []
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current.append(line)
        text = "\n".join(current)
        if line.endswith("\\") or text.count("'") % 2:
            continue
        current = []
        command = re.sub(r"\s+#[^'\"]*$", "", text).strip()  # a trailing comment
        if "..." not in command:
            found.append(command)
    return found


@pytest.fixture
def endpoint(moto_endpoint):
    """The session's moto server: moto fails the change sets' execution (the templates' transform),
    which leaves the recipes' stacks REVIEW_IN_PROGRESS; other stacks there are not affected."""
    return moto_endpoint


def run_as_written(block: str, endpoint: str, tmp_path: Path) -> list[tuple[str, str]]:
    """Run the block's commands in one bash, as a reader pastes them: (command, its output)."""
    env = cli_env(endpoint, tmp_path)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    listed = commands(block)
    for command in listed:  # the buckets are the reader's own
        for bucket in re.findall(r"BUCKET=([a-z0-9.-]+)", command):
            s3 = clients(endpoint)("s3")
            if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
                )
    script = "\n".join(f"echo {shlex.quote(f'{MARK} {i}')}\n{c}" for i, c in enumerate(listed))
    result = subprocess.run(
        ["bash", "-c", script + "\n"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    # stdout and stderr both: each command's part of the two, joined by the markers on stdout.
    outs = result.stdout.split(MARK)[1:]
    assert len(outs) == len(listed), result.stdout + result.stderr
    errors = result.stderr
    return [(c, o + errors) for c, o in zip(listed, outs, strict=True)]


def change_set_parameters(endpoint: str, stack: str) -> dict[str, str]:
    """The parameters of the stack's change set (moto lists every stack's change sets)."""
    cf = clients(endpoint)("cloudformation")
    [summary] = [s for s in cf.list_change_sets(StackName=stack)["Summaries"]
                 if s["StackName"] == stack]  # fmt: skip
    described = cf.describe_change_set(ChangeSetName=summary["ChangeSetId"])
    return {p["ParameterKey"]: p.get("ParameterValue") for p in described["Parameters"]}


def assert_reached_the_change_set(output: str) -> None:
    assert "Traceback" not in output
    assert "\nerror: " not in "\n" + output  # a refusal of the tool (exit status 2)
    assert re.search(r"Create change set make-deploy-\d{8}-\d{6} for stack ", output), output
    assert " action  logical id" in output  # the change table


def test_deploying_runs_as_written(endpoint, tmp_path, lambda_zips):
    [block] = shell_blocks("## Deploying")[:1]
    ran = run_as_written(block, endpoint, tmp_path)
    by_start = {command.split("\n", 1)[0][:40]: output for command, output in ran}
    deploys = [output for command, output in ran if command.startswith("make deploy")]
    assert len(deploys) == 2
    for output in deploys:
        assert_reached_the_change_set(output)
    multi = deploys[1]
    assert "Uploading dist/lambda_role_lookup.zip to s3://my-artifacts-eu-west-1/" in multi
    assert "Uploading dist/mysql_user.zip to s3://my-artifacts-eu-west-1/" in multi
    [package] = [o for c, o in by_start.items() if c.startswith("make package")]
    assert "Uploaded. To create a stack from the console or the AWS CLI, use:" in package
    # The image the first line looked up reached the change set.
    image = change_set_parameters(endpoint, "rotation-single")["TestInstanceImageId"]
    assert re.fullmatch(r"ami-[0-9a-f]{8,17}", image)


def test_the_existing_cluster_deploy_step_runs_as_written(endpoint, tmp_path, lambda_zips):
    blocks = shell_blocks("## Adding rotation to an existing cluster")
    [block] = [b for b in blocks if "make deploy" in b]
    ran = run_as_written(block, endpoint, tmp_path)
    [(command, output)] = [(c, o) for c, o in ran if c.startswith("make deploy")]
    assert_reached_the_change_set(output)
    assert "Uploading dist/lambda_role_lookup.zip to s3://my-artifacts-eu-west-1/" in output
    assert "Uploading dist/mysql_user.zip to s3://my-artifacts-eu-west-1/" in output
    values = change_set_parameters(endpoint, "orders-app-rotation")
    assert values["AdminSecretArn"].endswith(":secret:rds!cluster-0a1b2c-AbCdEf")
    assert values["SubnetIds"] == "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb"
    assert values["MySQLUserCodeS3Key"].startswith("mysql_user/")
    assert command.startswith("make deploy TEMPLATE=templates/mysql-rotation-existing-cluster.yaml")
