"""`ROTATE=1`: rotate the application secret now and check that the user alternated.

Only the `username` field of the secret value is read; nothing else leaves `username()`.
"""

from __future__ import annotations

import json

from .aws import Aws
from .clock import Clock
from .report import FAIL, PASS, Report
from .rotation_health import Secret

ROTATION_TIMEOUT = 16 * 60  # a Lambda runs at most 15 minutes per step


def username(aws: Aws, arn: str) -> tuple[str, str]:
    """(AWSCURRENT version id, username): nothing else of the value leaves this function."""
    value = aws.client("secretsmanager").get_secret_value(SecretId=arn)
    return value["VersionId"], json.loads(value["SecretString"]).get("username", "")


def rotate(aws: Aws, secret: Secret, report: Report, clock: Clock) -> None:
    sm = aws.client("secretsmanager")
    _, before = username(aws, secret.arn)
    new_version = sm.rotate_secret(SecretId=secret.arn)["VersionId"]
    print(f"ROTATE=1: rotating {secret.name} (version {new_version}) ...", flush=True)
    started, delay = clock.now(), 2.0
    while True:
        stages = sm.describe_secret(SecretId=secret.arn).get("VersionIdsToStages", {})
        if "AWSCURRENT" in stages.get(new_version, []):
            break
        if clock.now() - started > ROTATION_TIMEOUT:
            report.add(
                secret.name,
                "rotation",
                FAIL,
                f"version {new_version} not AWSCURRENT after {ROTATION_TIMEOUT // 60} "
                "minutes; see the function's log errors above",
            )
            return
        clock.sleep(delay)
        delay = min(delay * 1.5, 15.0)
    _, after = username(aws, secret.arn)
    alternated = after in (f"{before}_clone", before.removesuffix("_clone")) and after != before
    report.add(
        secret.name,
        "rotation alternates the user",
        PASS if alternated else FAIL,
        f"{before} -> {after}",
    )
