"""Command line of stackctl; the Makefile's deploy, package, verify and delete targets call it.

Error messages name the make variables (TEMPLATE, STACK, PARAMS, ...) because that is what users
type. Exit status: 0 done, 1 AWS or a check failed, 2 a mistake to fix before anything changed.
"""

from __future__ import annotations

import argparse
import sys

import botocore.exceptions
import botocore.parsers

from .artifacts import lambda_zip, normalised_prefix, package
from .aws import AWS_ERRORS, error_code, error_message, unreadable
from .delete import delete
from .deploy import deploy
from .errors import OperationFailed, UsageError
from .runtime import Runtime
from .template import CODE_KEY_PARAMS, REPO, check_bucket
from .verify import verify

STS_FALLBACK_REGION = "us-east-1"
FLAGS = {
    # flag: (make variable, help)
    "--dry-run": ("DRY_RUN", "create and show the change set, do not execute it"),
    "--skip-lint": ("SKIP_LINT", "deploy without running cfn-lint first"),
    "--confirm-dangerous": ("CONFIRM_DANGEROUS", "apply dangerous changes without asking"),
    "--allow-replace": ("ALLOW_REPLACE", "lift the stack policy for this one update"),
    "--disable-rollback": ("DISABLE_ROLLBACK", "keep the resources of a failed create"),
    "--yes": ("YES", "delete without asking"),
    "--disable-deletion-protection": (
        "DISABLE_DELETION_PROTECTION",
        "turn the cluster's deletion protection off without asking",
    ),
    "--rotate": ("ROTATE", "verify: rotate the application secret and check the user alternated"),
}
OPTIONS = {
    # option: make variable
    "--stack": "STACK",
    "--template": "TEMPLATE",
    "--bucket": "BUCKET",
    "--prefix": "PREFIX",
    "--params": "PARAMS",
    "--params-file": "PARAMS_FILE",
    "--tags": "TAGS",
    "--role-arn": "ROLE_ARN",
    "--notification-arns": "NOTIFICATION_ARNS",
    "--termination-protection": "TERMINATION_PROTECTION",
    "--retain": "RETAIN",
}
DEPLOY_ONLY = (
    "--template", "--params", "--params-file", "--tags", "--role-arn", "--notification-arns",
    "--termination-protection", "--dry-run", "--skip-lint", "--confirm-dangerous",
    "--allow-replace", "--disable-rollback",
)  # fmt: skip
USES = {
    "package": ("--bucket", "--prefix"),
    "deploy": ("--stack", "--bucket", "--prefix", *DEPLOY_ONLY),
    "verify": ("--stack", "--rotate"),
    "delete": ("--stack", "--yes", "--disable-deletion-protection", "--retain"),
    "credentials": (),
}


def package_command(opts: argparse.Namespace, runtime: Runtime) -> int:
    if not opts.bucket:
        built = ", ".join(str(lambda_zip(f).relative_to(REPO)) for f in CODE_KEY_PARAMS.values())
        print(f"Built {built}. Set BUCKET=<name> to also upload them.")
        return 0
    check_bucket(
        opts.bucket,
        "the bucket receives the Lambda zips and the templates",
        "make package BUCKET=my-artifacts",
    )
    aws = runtime.connect(opts.region)
    aws.identify()
    uploaded = package(aws, opts.bucket, normalised_prefix(opts.prefix))
    print("\nUploaded. To create a stack from the console or the AWS CLI, use:")
    for line in uploaded:
        print(f"  {line}")
    return 0


def credentials_command(opts: argparse.Namespace, runtime: Runtime) -> int:
    """`make taskcat`'s check: credentials only; taskcat picks its own Regions."""
    try:
        aws = runtime.connect(opts.region)
    except UsageError:
        aws = runtime.connect(STS_FALLBACK_REGION)
    aws.identify()
    return 0


COMMANDS = {
    "package": package_command,
    "deploy": deploy,
    "verify": verify,
    "delete": delete,
    "credentials": credentials_command,
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="stack.py", description=__doc__.splitlines()[0])
    top.add_argument("--region", default="", help="AWS Region (default: AWS_REGION, ...)")
    commands = top.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        # Every command takes every option, so that one it does not use is refused with a
        # sentence (refuse_unused) rather than argparse's usage text.
        sub = commands.add_parser(name)
        for option, variable in OPTIONS.items():
            sub.add_argument(option, default="", help=f"make: {variable}=")
        for flag, (variable, text) in FLAGS.items():
            sub.add_argument(flag, action="store_true", help=f"{text} (make: {variable}=1)")
    return top


def refuse_unused(opts: argparse.Namespace) -> None:
    """A setting the command does not use is a mistake (delete ALLOW_REPLACE=1), not a no-op."""
    unused = []
    for option, variable in OPTIONS.items():
        value = getattr(opts, option[2:].replace("-", "_"))
        if value and option not in USES[opts.command]:
            unused.append(f"{variable}={value}")
    for flag, (variable, _) in FLAGS.items():
        if getattr(opts, flag[2:].replace("-", "_")) and flag not in USES[opts.command]:
            unused.append(f"{variable}=1")
    if unused:
        users = {
            variable: [c for c, uses in USES.items() if option in uses]
            for option, variable in [*OPTIONS.items(), *((f, v) for f, (v, _) in FLAGS.items())]
        }
        lines = [
            f"make {opts.command} does not use {setting}"
            + (
                f" (a setting of make {' and make '.join(users[setting.split('=')[0]])})"
                if users[setting.split("=")[0]]
                else ""
            )
            + "; run without it."
            for setting in unused
        ]
        raise UsageError("\n".join(lines))


def aws_failure(error: Exception) -> str:
    """One line for any error botocore raises, the answer's code and message first."""
    if isinstance(error, botocore.exceptions.ClientError):
        return f"AWS answered {error_code(error)}: {error_message(error)}"
    if isinstance(error, botocore.parsers.ResponseParserError):  # not a BotoCoreError
        return unreadable(error)
    return str(error)


def main(argv: list[str] | None = None, runtime: Runtime | None = None) -> int:
    opts = parser().parse_args(argv)
    try:
        refuse_unused(opts)
        return COMMANDS[opts.command](opts, runtime or Runtime())
    except AssertionError:  # a bug (or a test's stubbed AWS seeing a wrong call): show it all
        raise
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OperationFailed as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1
    except AWS_ERRORS as error:
        print(f"failed: {aws_failure(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
