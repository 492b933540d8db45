#!/usr/bin/env python3
"""Package, deploy and delete the toolkit's stacks with the AWS CLI.

The Makefile's `package`, `deploy` and `delete` targets call this script; the error messages name
the make variables (TEMPLATE, STACK, BUCKET, ...) because that is what users type. `--dry-run`
prints the exact AWS CLI commands instead of running them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cfnlint.decode import decode  # the reader cfn-lint uses: short-form tags included

REPO = Path(__file__).resolve().parent.parent
LAMBDA_ZIP = REPO / "dist" / "lambda_role_lookup.zip"
CODE_BUCKET_PARAM = "RoleLookupCodeS3Bucket"
CODE_KEY_PARAM = "RoleLookupCodeS3Key"
# IAM resources get generated names (CAPABILITY_IAM); the transform expands a nested stack
# (CAPABILITY_AUTO_EXPAND).
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
LAMBDA_NAME_MAX = 64
EXAMPLE = (
    "make deploy TEMPLATE=templates/mysql-multi-user.yaml STACK=rotation-demo BUCKET=my-artifacts"
)


class UsageError(Exception):
    """A mistake the user can fix; printed without a stack trace."""


@dataclass(frozen=True)
class TemplateFacts:
    path: Path
    parameters: frozenset[str]
    rotation_name_suffixes: tuple[str, ...]

    @property
    def needs_lambda_code(self) -> bool:
        return CODE_BUCKET_PARAM in self.parameters


def aws_cli() -> list[str]:
    """The AWS CLI to run: $AWS_CLI, else the project's pinned one, else `aws` on PATH."""
    if os.environ.get("AWS_CLI"):
        return shlex.split(os.environ["AWS_CLI"])
    pinned = Path(sys.executable).parent / "aws"
    if pinned.exists():
        return [str(pinned)]
    found = shutil.which("aws")
    if not found:
        raise UsageError(
            "The AWS CLI was not found. Run 'make install' (it brings a pinned one) or install it."
        )
    return [found]


def read_template(path_text: str) -> TemplateFacts:
    if not path_text:
        raise UsageError(f"TEMPLATE is missing. For example: {EXAMPLE}")
    path = Path(path_text)
    if not path.is_file():
        choices = ", ".join(sorted(str(p.relative_to(REPO)) for p in REPO.glob("templates/*.yaml")))
        raise UsageError(f"TEMPLATE={path_text} does not exist. Templates here: {choices}")
    template, matches = decode(str(path))
    if matches or not isinstance(template, dict):
        raise UsageError(f"TEMPLATE={path_text} is not a readable CloudFormation template.")
    suffixes = []
    for resource in (template.get("Resources") or {}).values():
        hosted = ((resource or {}).get("Properties") or {}).get("HostedRotationLambda") or {}
        name = hosted.get("RotationLambdaName")
        sub = name.get("Fn::Sub") if isinstance(name, dict) else None
        if isinstance(sub, str) and sub.startswith("${AWS::StackName}"):
            suffixes.append(sub.removeprefix("${AWS::StackName}"))
    return TemplateFacts(path, frozenset(template.get("Parameters") or {}), tuple(suffixes))


def check_stack_name(stack: str, facts: TemplateFacts | None) -> None:
    if not stack:
        raise UsageError(f"STACK is missing. For example: {EXAMPLE}")
    if not STACK_NAME.match(stack):
        raise UsageError(
            f"STACK={stack} is not a valid stack name: start with a letter, then letters, "
            "digits and hyphens only."
        )
    longest = max((len(s) for s in facts.rotation_name_suffixes), default=0) if facts else 0
    if facts and len(stack) + longest > LAMBDA_NAME_MAX:
        raise UsageError(
            f"STACK={stack} is too long for {facts.path.name}: its rotation functions are named "
            f"after the stack and a Lambda name has at most {LAMBDA_NAME_MAX} characters, so the "
            f"stack name may have at most {LAMBDA_NAME_MAX - longest}."
        )


def check_bucket(bucket: str, why: str) -> None:
    if not bucket:
        raise UsageError(f"BUCKET is missing: {why}. For example: {EXAMPLE}")
    if not BUCKET_NAME.match(bucket):
        raise UsageError(f"BUCKET={bucket} is not a valid S3 bucket name.")


def parse_overrides(text: str) -> list[str]:
    overrides = shlex.split(text or "")
    for item in overrides:
        if "=" not in item or item.startswith("="):
            raise UsageError(
                f"PARAMS has '{item}', which is not Key=Value. "
                'For example: PARAMS="DeletionProtection=false CreateTestInstance=false"'
            )
    return overrides


def code_key(prefix: str) -> str:
    """A content-addressed key: new code gets a new key, so CloudFormation updates the function."""
    digest = hashlib.sha256(LAMBDA_ZIP.read_bytes()).hexdigest()[:16]
    return f"{prefix}lambda_role_lookup/{digest}.zip"


def normalised_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


class Runner:
    """Runs AWS CLI commands, or prints them in dry-run mode."""

    def __init__(self, dry_run: bool, region: str) -> None:
        self.dry_run = dry_run
        self.region_args = ["--region", region] if region else []

    def aws(self, *args: str, check: bool = True) -> int:
        command = [*aws_cli(), *args, *self.region_args]
        print("+ " + shlex.join(command), flush=True)
        if self.dry_run:
            return 0
        result = subprocess.run(command, check=False)
        if check and result.returncode != 0:
            failed = f"aws {args[0]} {args[1]}"
            raise UsageError(f"'{failed}' failed (exit {result.returncode}); see its output above.")
        return result.returncode

    def check_credentials(self) -> None:
        if self.dry_run:
            return
        command = [*aws_cli(), "sts", "get-caller-identity", "--output", "text", *self.region_args]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise UsageError(
                "No usable AWS credentials: 'aws sts get-caller-identity' failed"
                + (f" ({detail[-1]})" if detail else "")
                + ". Set AWS_PROFILE (after 'aws sso login' or 'aws configure'), or export "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and set AWS_REGION or REGION=."
            )


def upload_lambda_code(runner: Runner, bucket: str, prefix: str) -> str:
    if not LAMBDA_ZIP.is_file():
        raise UsageError(f"{LAMBDA_ZIP.relative_to(REPO)} is missing: run 'make build' first.")
    key = code_key(prefix)
    runner.aws("s3", "cp", str(LAMBDA_ZIP), f"s3://{bucket}/{key}", "--only-show-errors")
    return key


def package(args: argparse.Namespace) -> None:
    if not args.bucket:
        print(f"Built {LAMBDA_ZIP.relative_to(REPO)}. Set BUCKET=<name> to also upload it.")
        return
    check_bucket(args.bucket, "the bucket receives the Lambda zip and the templates")
    runner = Runner(args.dry_run, args.region)
    runner.check_credentials()
    prefix = normalised_prefix(args.prefix)
    key = upload_lambda_code(runner, args.bucket, prefix)
    for template in sorted(REPO.glob("templates/*.yaml")):
        runner.aws(
            "s3", "cp", str(template), f"s3://{args.bucket}/{prefix}templates/{template.name}",
            "--only-show-errors",
        )  # fmt: skip
    print(
        f"\nUploaded. Stacks from these templates take {CODE_BUCKET_PARAM}={args.bucket} "
        f"{CODE_KEY_PARAM}={key}"
    )


def deploy(args: argparse.Namespace) -> None:
    facts = read_template(args.template)
    check_stack_name(args.stack, facts)
    overrides = parse_overrides(args.params)
    if facts.needs_lambda_code:
        check_bucket(args.bucket, f"{facts.path.name} needs the role-lookup Lambda zip in S3")
    elif args.bucket:
        check_bucket(args.bucket, "it stores the template for the deploy")
    runner = Runner(args.dry_run, args.region)
    runner.check_credentials()
    prefix = normalised_prefix(args.prefix)
    if facts.needs_lambda_code:
        key = upload_lambda_code(runner, args.bucket, prefix)
        overrides += [f"{CODE_BUCKET_PARAM}={args.bucket}", f"{CODE_KEY_PARAM}={key}"]
    command = [
        "cloudformation", "deploy",
        "--template-file", str(facts.path),
        "--stack-name", args.stack,
        "--capabilities", *CAPABILITIES,
        "--no-fail-on-empty-changeset",
    ]  # fmt: skip
    if args.bucket:  # templates over 51,200 bytes must travel through S3
        command += ["--s3-bucket", args.bucket]
        if prefix:
            command += ["--s3-prefix", prefix.rstrip("/")]
    if overrides:
        command += ["--parameter-overrides", *overrides]
    runner.aws(*command)
    runner.aws("cloudformation", "describe-stacks", "--stack-name", args.stack,
               "--query", "Stacks[0].Outputs", "--output", "table")  # fmt: skip


def delete(args: argparse.Namespace) -> None:
    check_stack_name(args.stack, None)
    runner = Runner(args.dry_run, args.region)
    runner.check_credentials()
    runner.aws("cloudformation", "delete-stack", "--stack-name", args.stack)
    if runner.aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", args.stack,
                  check=False):  # fmt: skip
        raise UsageError(
            f"Stack {args.stack} did not delete. If its cluster has deletion protection, deploy "
            "again with PARAMS=DeletionProtection=false, then run make delete; the stack's events "
            "('aws cloudformation describe-stack-events') name the resource that failed."
        )


def credentials(args: argparse.Namespace) -> None:
    Runner(args.dry_run, args.region).check_credentials()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print the AWS CLI commands only")
    parser.add_argument("--region", default="", help="AWS Region (default: the CLI's)")
    commands = parser.add_subparsers(dest="command", required=True)
    subcommands = (
        ("package", package), ("deploy", deploy), ("delete", delete), ("credentials", credentials),
    )  # fmt: skip
    for name, func in subcommands:
        sub = commands.add_parser(name)
        sub.set_defaults(func=func)
        sub.add_argument("--stack", default="")
        sub.add_argument("--template", default="")
        sub.add_argument("--bucket", default="")
        sub.add_argument("--prefix", default="")
        sub.add_argument("--params", default="")
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
