"""Command line of stackctl; the Makefile's deploy, package, verify and delete targets call it.

Error messages name the make variables (TEMPLATE, STACK, PARAMS, ...) because that is what users
type. Exit status: 0 done, 1 AWS or a check failed, 2 a mistake to fix before anything changed.
"""

from __future__ import annotations

import argparse
import sys

import botocore.exceptions

from .artifacts import lambda_zip, normalised_prefix, package
from .aws import error_code, error_message
from .delete import delete
from .deploy import deploy
from .errors import OperationFailed, UsageError
from .runtime import Runtime
from .template import CODE_BUCKET_PARAM, CODE_KEY_PARAMS, REPO, check_bucket
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


def package_command(opts: argparse.Namespace, runtime: Runtime) -> int:
    if not opts.bucket:
        built = ", ".join(str(lambda_zip(f).relative_to(REPO)) for f in CODE_KEY_PARAMS.values())
        print(f"Built {built}. Set BUCKET=<name> to also upload them.")
        return 0
    check_bucket(opts.bucket, "the bucket receives the Lambda zips and the templates")
    aws = runtime.connect(opts.region)
    aws.identify()
    keys = package(aws, opts.bucket, normalised_prefix(opts.prefix))
    values = " ".join(f"{name}={key}" for name, key in keys.items())
    print(
        f"\nUploaded. Stacks from these templates take {CODE_BUCKET_PARAM}={opts.bucket} "
        f"and those of {values} that they have."
    )
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
        sub = commands.add_parser(name)
        for option in ("--stack", "--template", "--bucket", "--prefix", "--params", "--retain"):
            sub.add_argument(option, default="")
        for flag, (variable, text) in FLAGS.items():
            sub.add_argument(flag, action="store_true", help=f"{text} (make: {variable}=1)")
    return top


def main(argv: list[str] | None = None, runtime: Runtime | None = None) -> int:
    opts = parser().parse_args(argv)
    try:
        return COMMANDS[opts.command](opts, runtime or Runtime())
    except AssertionError:  # a bug (or a test's stubbed AWS seeing a wrong call): show it all
        raise
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OperationFailed as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1
    except botocore.exceptions.ClientError as error:
        print(f"failed: AWS answered {error_code(error)}: {error_message(error)}", file=sys.stderr)
        return 1
    except botocore.exceptions.BotoCoreError as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
