"""Checks of a stack's secrets: rotation state, versions, the functions' logs, the resource policy.

The rotation function of each secret comes from the secret itself (RotationLambdaARN), so nothing
depends on logical ids. No secret value is read here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from .aws import Aws, error_code
from .report import FAIL, PASS, SKIP, WARN, Report

SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
NESTED_STACK = "AWS::CloudFormation::Stack"
TOPIC = "AWS::SNS::Topic"
ERROR_MARKS = ("[ERROR]", "Task timed out", "Traceback (most recent call last)")


@dataclass
class Secret:
    arn: str
    name: str
    described: dict[str, Any]

    @property
    def function_arn(self) -> str:
        return self.described.get("RotationLambdaARN", "")


def stack_resources(cf: Any, stack_id: str) -> list[dict[str, Any]]:
    """Resources of the stack and of its nested stacks (the transform's rotation functions)."""
    found = cf.describe_stack_resources(StackName=stack_id)["StackResources"]
    for resource in list(found):
        physical = resource.get("PhysicalResourceId", "")
        if resource.get("ResourceType") == NESTED_STACK and physical.startswith("arn:"):
            found += stack_resources(cf, physical)
    return found


def find_secrets(aws: Aws, stack: dict[str, Any], resources: list[dict[str, Any]]) -> list[Secret]:
    arns = [
        r["PhysicalResourceId"]
        for r in resources
        if r.get("ResourceType") == SECRET and r.get("PhysicalResourceId")
    ]
    arns += [
        o["OutputValue"]
        for o in stack.get("Outputs", [])
        if o["OutputKey"].endswith("SecretArn") and o["OutputValue"] not in arns
    ]
    sm = aws.client("secretsmanager")
    secrets = []
    for arn in arns:
        described = sm.describe_secret(SecretId=arn)
        secrets.append(Secret(described["ARN"], described["Name"], described))
    return secrets


def when(value: Any) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def check_versions(secret: Secret, report: Report, region: str) -> None:
    stages = secret.described.get("VersionIdsToStages", {})
    current = [v for v, s in stages.items() if "AWSCURRENT" in s]
    if len(current) == 1:
        report.add(secret.name, "one AWSCURRENT", PASS, current[0])
    else:
        report.add(secret.name, "one AWSCURRENT", FAIL, f"{len(current)} versions carry it")
    stuck = [v for v, s in stages.items() if "AWSPENDING" in s and "AWSCURRENT" not in s]
    for version in stuck:
        report.add(
            secret.name,
            "no stuck AWSPENDING",
            FAIL,
            f"version {version} is AWSPENDING: a rotation is running or one failed and now blocks "
            "the next. If none is running, clear it: aws secretsmanager "
            f"update-secret-version-stage --secret-id {secret.arn} --version-stage AWSPENDING "
            f"--remove-from-version-id {version} --region {region}",
        )
    if not stuck:
        report.add(secret.name, "no stuck AWSPENDING", PASS)


def check_rotation(secret: Secret, report: Report) -> None:
    d = secret.described
    if d.get("RotationEnabled"):
        rules = d.get("RotationRules", {})
        schedule = (
            rules.get("ScheduleExpression") or f"every {rules.get('AutomaticallyAfterDays')} days"
        )
        report.add(secret.name, "rotation enabled", PASS, schedule)
    else:
        report.add(secret.name, "rotation enabled", FAIL, "RotationEnabled is false")
    last = d.get("LastRotatedDate")
    report.add(secret.name, "last rotated", PASS if last else WARN, when(last))
    report.add(
        secret.name,
        "next rotation",
        PASS if d.get("NextRotationDate") else WARN,
        when(d.get("NextRotationDate")),
    )


def function_config(aws: Aws, function_arn: str) -> dict[str, Any] | None:
    try:
        return aws.client("lambda").get_function_configuration(FunctionName=function_arn)
    except botocore.exceptions.ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise


def log_lines(aws: Aws, group: str, since: dt.datetime | None) -> list[str]:
    start = int((since or dt.datetime.now(dt.UTC) - dt.timedelta(days=14)).timestamp() * 1000)
    logs = aws.client("logs")
    lines: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start - 15 * 60 * 1000}
    try:
        while True:
            page = logs.filter_log_events(**kwargs)
            lines += [e.get("message", "") for e in page.get("events", [])]
            if not page.get("nextToken") or len(lines) > 20_000:
                break
            kwargs["nextToken"] = page["nextToken"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return []
        raise
    return lines


def check_function(aws: Aws, secret: Secret, report: Report) -> str:
    """The rotation function exists; its log since the last rotation: errors, TLS. Its role."""
    if not secret.function_arn:
        report.add(secret.name, "rotation function", FAIL, "the secret names no rotation function")
        return ""
    config = function_config(aws, secret.function_arn)
    if config is None:
        report.add(secret.name, "rotation function", FAIL, f"{secret.function_arn} does not exist")
        return ""
    name = config["FunctionName"]
    report.add(secret.name, "rotation function", PASS, name)
    group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
    lines = log_lines(aws, group, secret.described.get("LastRotatedDate"))
    errors = [line.strip() for line in lines if any(mark in line for mark in ERROR_MARKS)]
    if errors:
        first = " ".join(errors[0].split())[:200]
        report.add(name, "log errors since last rotation", FAIL, f"{len(errors)}; first: {first}")
    else:
        report.add(name, "log errors since last rotation", PASS, f"none in {group}")
    plain = sum("non SSL/TLS" in line for line in lines)
    tls = sum("SSL/TLS" in line for line in lines) - plain
    if plain:
        report.add(name, "TLS connections", FAIL, f"{plain} connection(s) without TLS")
    elif tls:
        report.add(name, "TLS connections", PASS, f"{tls} connection(s), all TLS")
    else:
        report.add(name, "TLS connections", SKIP, "no connection logged since the last rotation")
    return config["Role"]


def policy_principals(document: str) -> set[str]:
    principals: set[str] = set()
    for statement in json.loads(document).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        aws_principal = statement.get("Principal") or {}
        aws_principal = aws_principal.get("AWS", []) if isinstance(aws_principal, dict) else ["*"]
        principals.update([aws_principal] if isinstance(aws_principal, str) else aws_principal)
    return principals


def check_policies(
    aws: Aws, secrets: list[Secret], roles: set[str], report: Report, expects_policy: bool
) -> None:
    sm = aws.client("secretsmanager")
    found = False
    for secret in secrets:
        document = sm.get_resource_policy(SecretId=secret.arn).get("ResourcePolicy")
        if not document:
            continue
        found = True
        principals = policy_principals(document)
        if principals == roles:
            report.add(secret.name, "policy names the rotation roles", PASS, f"{len(roles)} roles")
        else:
            extra, missing = sorted(principals - roles), sorted(roles - principals)
            report.add(
                secret.name,
                "policy names the rotation roles",
                FAIL,
                f"extra: {extra or 'none'}; missing: {missing or 'none'}",
            )
    if expects_policy and not found:
        report.add("resource policy", "present", FAIL, "the stack has one but no secret carries it")


def check_alarm_topics(aws: Aws, resources: list[dict[str, Any]], report: Report) -> None:
    """A rotation-failure alarm helps only if someone receives it."""
    for resource in resources:
        if resource.get("ResourceType") != TOPIC or not resource.get("PhysicalResourceId"):
            continue
        arn = resource["PhysicalResourceId"]
        # The listing, not the topic's counters: those are updated only now and then.
        pages = (
            aws.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
        )
        arns = [sub["SubscriptionArn"] for page in pages for sub in page["Subscriptions"]]
        pending = sum(a == "PendingConfirmation" for a in arns)
        confirmed = len(arns) - pending
        name = arn.rsplit(":", 1)[-1]
        if confirmed:
            report.add(name, "alarm topic has a subscriber", PASS, f"{confirmed} confirmed")
        else:
            report.add(
                name, "alarm topic has a subscriber", WARN,
                (f"{pending} waiting for confirmation; " if pending else "")
                + "nobody hears of a failed rotation: aws sns subscribe --topic-arn "
                f"{arn} --protocol email --notification-endpoint you@example.com "
                f"--region {aws.region}",
            )  # fmt: skip
