"""Change sets: create one, wait for it, show what it does, and judge which changes are dangerous.

Dangerous changes are the ones that break a rotating stack in ways an update cannot undo:
- replacing or removing the cluster, a secret, a secret's attachment, the VPC or a subnet (a new
  cluster has no data; a new secret's value has no host/port and a password the database never
  got; subnets in use by the cluster fail mid-update);
- any change under a secret's GenerateSecretString: CloudFormation generates a whole new value
  with a new password (CloudFormation coverage roadmap issue #2210), which reaches the database
  only where a Custom::MySQLUser mirrors the block (secret_parameters.py); applications must read
  the secret again either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from .aws import error_message
from .clock import Clock
from .errors import OperationFailed

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
GUARDED_TYPES = frozenset(
    {
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::SecretTargetAttachment",
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
    }
)
GENERATED_SECRET = "GenerateSecretString"  # noqa: S105 (a property name)
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
WHY_REGENERATION_BREAKS_ROTATION = (
    "a change under GenerateSecretString makes CloudFormation generate a new secret value and "
    "password (CloudFormation coverage roadmap #2210); the database gets it only where a "
    "Custom::MySQLUser mirrors the block (AppSecretGeneration), and applications must read the "
    "secret again"
)


@dataclass
class Change:
    action: str
    logical_id: str
    resource_type: str
    replacement: str
    paths: list[str] = field(default_factory=list)

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Change:
        change = raw.get("ResourceChange", {})
        paths = []
        for detail in change.get("Details", []):
            target = detail.get("Target", {})
            path = target.get("Path") or "/".join(
                p for p in (target.get("Attribute"), target.get("Name")) if p
            )
            if path and path not in paths:
                paths.append(path)
        return cls(
            action=change.get("Action", "?"),
            logical_id=change.get("LogicalResourceId", "?"),
            resource_type=change.get("ResourceType", "?"),
            replacement=change.get("Replacement", "") or "",
            paths=paths,
        )

    @property
    def danger(self) -> str:
        """Why this change is dangerous, or '' when it is not."""
        if self.resource_type in GUARDED_TYPES:
            if self.action == "Remove":
                return f"removes {self.resource_type}"
            if self.action == "Modify" and self.replacement in ("True", "Conditional"):
                certainty = "replaces" if self.replacement == "True" else "may replace"
                return f"{certainty} {self.resource_type}"
        if self.action == "Modify" and any(GENERATED_SECRET in p for p in self.paths):
            return WHY_REGENERATION_BREAKS_ROTATION
        return ""


@dataclass
class ChangeSet:
    """A computed change set. `empty` only when CloudFormation refused it for holding nothing:
    a CREATE_COMPLETE one without resource changes still changes Outputs or stack settings (tags,
    notification ARNs, the service role) and must be executed."""

    arn: str
    stack_id: str
    changes: list[Change]
    empty: bool

    @property
    def dangerous(self) -> list[Change]:
        return [c for c in self.changes if c.danger]


def create(
    cf: Any,
    stack: str,
    *,
    change_type: str,
    template: dict[str, str],
    parameters: list[dict[str, Any]],
    name: str,
    options: dict[str, Any] | None = None,
) -> tuple[str, str] | None:
    """(change set ARN, stack id), or None when CloudFormation says there is nothing to change.

    `options`: Tags, RoleARN, NotificationARNs (TAGS=, ROLE_ARN=, NOTIFICATION_ARNS=).
    """
    try:
        answer = cf.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            ChangeSetType=change_type,
            Parameters=parameters,
            Capabilities=CAPABILITIES,
            Description="make deploy",
            **template,
            **(options or {}),
        )
    except botocore.exceptions.ClientError as error:
        message = error_message(error)
        if any(text in message for text in NO_CHANGES):
            return None
        raise OperationFailed(f"CloudFormation refused the change set: {message}") from None
    return answer["Id"], answer["StackId"]


def wait_until_ready(cf: Any, arn: str, clock: Clock) -> ChangeSet:
    """Poll until the change set is computed; collect every page of changes."""
    delay = 1.0
    while True:
        described = cf.describe_change_set(ChangeSetName=arn)
        status = described["Status"]
        if status in ("CREATE_COMPLETE", "FAILED"):
            break
        clock.sleep(delay)
        delay = min(delay * 1.5, 10.0)
    reason = described.get("StatusReason") or ""
    if status == "FAILED":
        if any(text in reason for text in NO_CHANGES):
            return ChangeSet(arn, described["StackId"], [], empty=True)
        raise OperationFailed(f"The change set failed: {reason}")
    raw = list(described.get("Changes", []))
    while described.get("NextToken"):
        described = cf.describe_change_set(ChangeSetName=arn, NextToken=described["NextToken"])
        raw += described.get("Changes", [])
    changes = [Change.from_api(c) for c in raw if c.get("Type", "Resource") == "Resource"]
    return ChangeSet(arn, described["StackId"], changes, empty=False)


def table(changes: list[Change]) -> str:
    """action | logical id | type | replacement | changed properties, aligned for a terminal."""
    rows = [(" action", "logical id", "type", "replacement", "changed properties")]
    for c in changes:
        replacement = c.replacement if c.action == "Modify" else ""
        paths = ", ".join(c.paths) if c.action == "Modify" else ""
        marker = "!" if c.danger else " "
        rows.append((f"{marker}{c.action}", c.logical_id, c.resource_type, replacement, paths))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
