"""`make verify`: is rotation healthy on a deployed stack? One table, non-zero exit on a failure.

Resources are found by type (DescribeStackResources, nested stacks included), secrets also by the
stack's `*SecretArn` outputs. No secret value or password is ever printed.
"""

from __future__ import annotations

import argparse

from . import demo, stacks
from .report import FAIL, PASS, SKIP, Report
from .rotate_now import rotate
from .rotation_health import (
    check_alarm_topics,
    check_function,
    check_policies,
    check_rotation,
    check_versions,
    find_secrets,
    stack_resources,
)
from .runtime import Runtime
from .template import check_stack_name

RESOURCE_POLICY = "AWS::SecretsManager::ResourcePolicy"


def verify(opts: argparse.Namespace, runtime: Runtime) -> int:
    check_stack_name(opts.stack, None, "verify")
    aws = runtime.connect(opts.region)
    aws.identify()
    cf = aws.client("cloudformation")
    stack = stacks.existing(cf, opts.stack, aws.region, aws.account)
    resources = stack_resources(cf, stack["StackId"])
    secrets = find_secrets(aws, stack, resources)
    report = Report()
    report.add(
        opts.stack,
        "stack status",
        PASS
        if stack["StackStatus"].endswith("_COMPLETE") and "ROLLBACK" not in stack["StackStatus"]
        else FAIL,
        stack["StackStatus"],
    )
    if not secrets:
        report.add(opts.stack, "secrets", FAIL, "the stack has no Secrets Manager secret")
    roles = set()
    for secret in secrets:
        check_rotation(secret, report)
        check_versions(secret, report, aws.region)
        role = check_function(aws, secret, report)
        if role:
            roles.add(role)
    expects_policy = any(r.get("ResourceType") == RESOURCE_POLICY for r in resources)
    check_policies(aws, secrets, roles, report, expects_policy)
    check_alarm_topics(aws, resources, report)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    app = next((s for s in secrets if s.arn == outputs.get("AppSecretArn")), None)
    if opts.rotate:
        if app is None:
            report.add(opts.stack, "ROTATE=1", SKIP, "no application secret (AppSecretArn output)")
        else:
            rotate(aws, app, report, runtime.clock)
    demo.run(aws, resources, outputs, app is not None, report, runtime.clock)
    print(report.render())
    if report.failed:
        print("\nverify: FAILED (see the FAIL rows)")
        return 1
    print("\nverify: all checks passed")
    return 0
