"""The stack policy: no update may replace or delete the cluster, a secret or an attachment.

Set when a stack is created (and on the next deploy of a stack that lacks it). For a deliberate
replacement, `ALLOW_REPLACE=1` lifts it for that one update and puts it back afterwards; the same
by hand: `aws cloudformation update-stack ... --stack-policy-during-update-body`.
"""

from __future__ import annotations

import json
from typing import Any

from .template import REPO

POLICY_FILE = REPO / "policies" / "stack-policy.json"
ALLOW_ALL = json.dumps(
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}]}
)


def protective() -> str:
    return POLICY_FILE.read_text()


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
    wanted = json.loads(protective())
    if current(cf, stack) != wanted:
        cf.set_stack_policy(StackName=stack, StackPolicyBody=json.dumps(wanted))
        print(
            f"Stack policy set ({POLICY_FILE.relative_to(REPO)}): updates may not replace or "
            "delete the cluster, the secrets or their attachments.",
            flush=True,
        )


def lift(cf: Any, stack: str) -> None:
    cf.set_stack_policy(StackName=stack, StackPolicyBody=ALLOW_ALL)
    print("ALLOW_REPLACE=1: stack policy lifted for this update; it is restored afterwards.")
