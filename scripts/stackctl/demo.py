"""The seed post's demo on the test instance, through SSM Run Command (no SSH, no password typed).

The instance's bootstrap keeps client option files (mode 600, root only) written from the secrets;
refreshing them first makes the demo use the credentials the secret holds now. The command prints
one word per check, never a credential.
"""

from __future__ import annotations

import shlex
from typing import Any

import botocore.exceptions

from .aws import Aws, error_code
from .clock import Clock
from .report import FAIL, PASS, SKIP, Report

INSTANCE = "AWS::EC2::Instance"
APP_CNF = "/root/rotation-demo/app.cnf"
REFRESH = "/opt/rotation-demo/bootstrap.sh"
WAIT_LIMIT = 5 * 60
EXPECTED = {"select": "ok", "insert": "denied", "mysql_user": "denied"}
WHAT = {
    "select": "app user can SELECT prices",
    "insert": "app user cannot INSERT",
    "mysql_user": "app user cannot read mysql.user",
}


PROBES = {
    "select": "SELECT COUNT(*) FROM prices",
    "insert": "INSERT INTO prices VALUES (999, 'verify', 0)",
    "mysql_user": "SELECT user FROM mysql.user",
}


def script(database: str) -> list[str]:
    """Shell lines for AWS-RunShellScript: refresh the option files, then one probe each."""
    lines = [f"{REFRESH} >/dev/null 2>&1 || true"]
    for name, sql in PROBES.items():
        db = shlex.quote(database) if name != "mysql_user" else ""
        lines.append(
            f"mariadb --defaults-extra-file={APP_CNF} {db} -e {shlex.quote(sql)} >/dev/null 2>&1"
            f" && echo {name}=ok || echo {name}=denied"
        )
    return lines


def instance_state(aws: Aws, instance_id: str) -> str:
    try:
        reservations = aws.client("ec2").describe_instances(InstanceIds=[instance_id])[
            "Reservations"
        ]
    except botocore.exceptions.ClientError as error:
        if error_code(error).startswith("InvalidInstanceID"):
            return "gone"
        raise
    instances = [i for r in reservations for i in r["Instances"]]
    return instances[0]["State"]["Name"] if instances else "gone"


def parse(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key in EXPECTED:
            found[key] = value
    return found


def run(  # noqa: PLR0917 (each argument is one thing verify found)
    aws: Aws,
    resources: list[dict[str, Any]],
    outputs: dict[str, str],
    multi_user: bool,
    report: Report,
    clock: Clock,
) -> None:
    instances = [
        r["PhysicalResourceId"]
        for r in resources
        if r.get("ResourceType") == INSTANCE and r.get("PhysicalResourceId")
    ]
    if not multi_user:
        report.add("demo", "app user on the test instance", SKIP, "no application secret")
        return
    if not instances:
        report.add("demo", "app user on the test instance", SKIP, "no test instance")
        return
    instance = instances[0]
    state = instance_state(aws, instance)
    if state != "running":
        report.add(
            "demo",
            "app user on the test instance",
            SKIP,
            f"instance {instance} {state}: aws ec2 start-instances --instance-ids "
            f"{instance} --region {aws.region}, then verify again",
        )
        return
    ssm = aws.client("ssm")
    command = ssm.send_command(
        InstanceIds=[instance],
        DocumentName="AWS-RunShellScript",
        Comment="make verify: the seed post's demo",
        Parameters={"commands": script(outputs.get("DatabaseName", "demodb"))},
    )["Command"]["CommandId"]
    started, delay = clock.now(), 2.0
    while True:
        clock.sleep(delay)
        try:
            result = ssm.get_command_invocation(CommandId=command, InstanceId=instance)
        except botocore.exceptions.ClientError as error:
            if error_code(error) != "InvocationDoesNotExist":
                raise
            result = {"Status": "Pending"}
        if result["Status"] not in ("Pending", "InProgress", "Delayed"):
            break
        if clock.now() - started > WAIT_LIMIT:
            report.add("demo", "SSM Run Command", FAIL, f"command {command} still running")
            return
        delay = min(delay * 1.5, 10.0)
    found = parse(result.get("StandardOutputContent", ""))
    if result["Status"] != "Success" or not found:
        report.add(
            "demo",
            "SSM Run Command",
            FAIL,
            f"{result['Status']}: is the SSM agent online? aws ssm "
            f"get-command-invocation --command-id {command} --instance-id {instance}",
        )
        return
    for key, expected in EXPECTED.items():
        got = found.get(key, "missing")
        report.add(
            "demo",
            WHAT[key],
            PASS if got == expected else FAIL,
            f"{key}={got}, expected {expected}",
        )
