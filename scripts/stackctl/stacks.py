"""Looking up a stack and judging what can be done with it now."""

from __future__ import annotations

from typing import Any

import botocore.exceptions

from .aws import error_message
from .errors import UsageError


def describe(cf: Any, stack: str) -> dict[str, Any] | None:
    """The stack, or None when there is none (or only a deleted one) under that name."""
    try:
        stacks = cf.describe_stacks(StackName=stack)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if "does not exist" in error_message(error):
            return None
        raise
    return stacks[0] if stacks and stacks[0]["StackStatus"] != "DELETE_COMPLETE" else None


def existing(cf: Any, stack: str, region: str, account: str) -> dict[str, Any]:
    """The stack, or a UsageError that names where it was looked for."""
    found = describe(cf, stack)
    if found is None:
        raise UsageError(
            f"There is no stack {stack} in {region} (account {account}); check STACK= and REGION=."
        )
    return found


def change_type(stack: dict[str, Any] | None, name: str, region: str) -> str:
    """CREATE or UPDATE, or a UsageError that says what to do with a stack in this state."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    status = stack["StackStatus"]
    delete = f"make delete STACK={name} REGION={region}"
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"):
        raise UsageError(
            f"Stack {name} is {status}: its first create failed, and such a stack cannot be "
            f"updated. Run '{delete}', then deploy again."
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        raise UsageError(
            f"Stack {name} is UPDATE_ROLLBACK_FAILED: fix the resource its events name, then "
            f"'aws cloudformation continue-update-rollback --stack-name {name} --region "
            f"{region}', then deploy again."
        )
    if status.endswith("_IN_PROGRESS"):
        raise UsageError(
            f"Stack {name} is busy ({status}); wait until it settles, then deploy again. Watch "
            f"it: aws cloudformation describe-stack-events --stack-name {name} --region {region}"
        )
    if status.startswith("DELETE_"):
        raise UsageError(f"Stack {name} is {status}: finish the delete ({delete}).")
    return "UPDATE"


def outputs_table(stack: dict[str, Any]) -> str:
    outputs = sorted(stack.get("Outputs", []), key=lambda o: o["OutputKey"])
    if not outputs:
        return ""
    width = max(len(o["OutputKey"]) for o in outputs)
    return "\n".join(f"  {o['OutputKey']:<{width}}  {o.get('OutputValue', '')}" for o in outputs)
