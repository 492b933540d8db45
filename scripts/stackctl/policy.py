"""The stack policy: no update may replace or delete the cluster, a secret or an attachment.

Set when a stack is created (and on the next deploy of a stack that lacks it). For a deliberate
replacement, `ALLOW_REPLACE=1` lifts it for that one update and puts it back however the update
ends: success, a failed execute, a rollback, Ctrl-C, an error. CloudFormation takes no temporary
policy with a change set (only `update-stack --stack-policy-during-update-body` does), hence the
lift and the restore around ExecuteChangeSet.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .aws import AWS_ERRORS
from .errors import OperationFailed
from .template import REPO

POLICY_FILE = REPO / "policies" / "stack-policy.json"
ALLOW_ALL = json.dumps(
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}]}
)


def protective() -> str:
    return POLICY_FILE.read_text()


def protective_body() -> str:
    return json.dumps(json.loads(protective()))


def protected_types() -> frozenset[str]:
    """Resource types the policy keeps from replacement and deletion (read from the file)."""
    types: set[str] = set()
    for statement in json.loads(protective())["Statement"]:
        if statement["Effect"] == "Deny":
            types.update(
                statement.get("Condition", {}).get("StringEquals", {}).get("ResourceType", [])
            )
    return frozenset(types)


def current(cf: Any, stack: str) -> dict[str, Any] | None:
    body = cf.get_stack_policy(StackName=stack).get("StackPolicyBody")
    return json.loads(body) if body else None


def ensure(cf: Any, stack: str) -> None:
    """Put the protective policy on the stack unless it already has exactly that policy."""
    if current(cf, stack) != json.loads(protective()):
        cf.set_stack_policy(StackName=stack, StackPolicyBody=protective_body())
        print(
            f"Stack policy set ({POLICY_FILE.relative_to(REPO)}): updates may not replace or "
            "delete the cluster, the secrets or their attachments.",
            flush=True,
        )


@contextmanager
def lifted(cf: Any, stack_id: str, name: str, region: str) -> Iterator[None]:
    """The allow-everything policy while the block runs, the protective one after, always.

    When AWS refuses the restore, the way to do it by hand is printed; after a block that ended
    normally that is an OperationFailed, so no run ends green with the stack unprotected.
    """
    cf.set_stack_policy(StackName=stack_id, StackPolicyBody=ALLOW_ALL)
    print(
        "ALLOW_REPLACE=1: stack policy lifted for this update; it is put back however the "
        "update ends.",
        flush=True,
    )
    try:
        yield
    except BaseException:
        failure = restore(cf, stack_id, name, region)
        if failure:
            print(f"warning: {failure}", file=sys.stderr, flush=True)
        raise
    failure = restore(cf, stack_id, name, region)
    if failure:
        raise OperationFailed(failure)


def restore(cf: Any, stack_id: str, name: str, region: str) -> str:
    """Put the protective policy back: '' when done, else what happened and the command to run."""
    try:
        cf.set_stack_policy(StackName=stack_id, StackPolicyBody=protective_body())
    except AWS_ERRORS as error:
        return (
            f"the stack policy could not be put back ({error}); stack {name} is unprotected until "
            f"you run: aws cloudformation set-stack-policy --stack-name {name} "
            f"--stack-policy-body file://{POLICY_FILE.relative_to(REPO)} --region {region}"
        )
    print(f"Stack policy restored ({POLICY_FILE.relative_to(REPO)}).", flush=True)
    return ""
