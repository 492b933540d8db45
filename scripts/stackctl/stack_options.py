"""What a deploy sets on the stack besides parameters, as `sam deploy`, `rain` and the CDK CLI do:
tags, a CloudFormation service role, notification topics and termination protection.

Each is checked before any AWS call, as CloudFormation would check it. Left unset, an update
keeps what the stack has (CloudFormation keeps the role, tags and topics it was given before).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from .params import joined_pairs, split_pairs

TAG_LIMIT, TAG_KEY_MAX, TAG_VALUE_MAX = 50, 128, 256
TAG_CHARACTERS = "_.:/=+-@"  # and letters, digits, spaces: what every taggable service accepts
TAGS_EXAMPLE = "TAGS='team=payments cost-center=\"CC 1234\"'"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:[\w-]{1,256}$")
NOTIFICATION_LIMIT = 5
NONE = "none"  # TAGS=none / NOTIFICATION_ARNS=none: remove them all
SWITCH = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class StackOptions:
    tags: list[dict[str, str]] | None = None  # None: keep the stack's
    role_arn: str = ""
    notification_arns: list[str] | None = None
    termination_protection: bool | None = None

    def change_set_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.tags is not None:
            arguments["Tags"] = self.tags
        if self.role_arn:
            arguments["RoleARN"] = self.role_arn
        if self.notification_arns is not None:
            arguments["NotificationARNs"] = self.notification_arns
        return arguments

    def dropped_tags(self, stack: dict[str, Any] | None) -> list[str]:
        """Tags the stack has that TAGS, which replaces them all, leaves out."""
        if self.tags is None or stack is None:
            return []
        kept = {tag["Key"] for tag in self.tags}
        return [
            f"{tag['Key']}={tag.get('Value', '')}"
            for tag in stack.get("Tags", [])
            if tag["Key"] not in kept
        ]


def read(opts: argparse.Namespace) -> tuple[StackOptions, list[str]]:
    tags, problems = read_tags(opts.tags)
    role = opts.role_arn.strip()
    if role and not ROLE_ARN.match(role):
        problems.append(
            f"ROLE_ARN={role} is not an IAM role ARN; CloudFormation's service role looks like "
            "ROLE_ARN=arn:aws:iam::123456789012:role/cloudformation-deployer."
        )
    topics, topic_problems = read_topics(opts.notification_arns)
    protection = opts.termination_protection.strip().lower()
    if protection and protection not in SWITCH:
        problems.append(
            f"TERMINATION_PROTECTION={opts.termination_protection} is neither true nor false: "
            "write TERMINATION_PROTECTION=true or TERMINATION_PROTECTION=false."
        )
    options = StackOptions(tags, role, topics, SWITCH.get(protection))
    return options, problems + topic_problems


def read_tags(text: str) -> tuple[list[dict[str, str]] | None, list[str]]:
    if not text.strip():
        return None, []
    if text.strip().lower() == NONE:
        return [], []
    pairs, problems = split_pairs(text, "TAGS", TAGS_EXAMPLE)
    seen: set[str] = set()
    for key, value in pairs:
        joined = joined_pairs(key, value, "TAGS")
        if joined:
            problems.append(f"TAGS: {joined}")
            continue
        problems += [f"TAGS: {p}" for p in tag_problems(key, value, seen)]
        seen.add(key)
    if len(pairs) > TAG_LIMIT:
        problems.append(f"TAGS: {len(pairs)} tags; a stack takes at most {TAG_LIMIT}.")
    return [{"Key": k, "Value": v} for k, v in pairs], problems


def tag_problems(key: str, value: str, seen: set[str]) -> list[str]:
    problems = []
    if key in seen:
        problems.append(f"{key} is given twice; keep one.")
    if key.lower().startswith("aws:"):
        problems.append(f"{key}: the prefix aws: is reserved for AWS's tags; choose another key.")
    if len(key) > TAG_KEY_MAX:
        problems.append(f"{key[:20]}...: a tag key has at most {TAG_KEY_MAX} characters.")
    if len(value) > TAG_VALUE_MAX:
        problems.append(f"{key}: a tag value has at most {TAG_VALUE_MAX} characters.")
    odd = sorted(
        {c for c in key + value if not (c.isalnum() or c.isspace() or c in TAG_CHARACTERS)}
    )
    if odd:
        problems.append(
            f"{key}={value!r} holds {' '.join(odd)}; tags the stack passes on to its resources "
            f"may hold letters, digits, spaces and {TAG_CHARACTERS} only."
        )
    return problems


def read_topics(text: str) -> tuple[list[str] | None, list[str]]:
    if not text.strip():
        return None, []
    if text.strip().lower() == NONE:
        return [], []
    topics = text.replace(",", " ").split()
    problems = [
        f"NOTIFICATION_ARNS: {topic} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:"
        "<name>); separate several with spaces."
        for topic in topics
        if not TOPIC_ARN.match(topic)
    ]
    if len(topics) > NOTIFICATION_LIMIT:
        problems.append(
            f"NOTIFICATION_ARNS: {len(topics)} topics; a stack takes at most {NOTIFICATION_LIMIT}."
        )
    return topics, problems
