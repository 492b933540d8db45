"""Reads the admin and application secrets (AWSCURRENT) the way the rotation functions do.

Throttling, 5xx and network errors are retried by botocore's standard mode within a few seconds;
everything else becomes a RequestRejected whose reason names the secret and the fix. Secret values
never appear in a reason or a log line.
"""

import json
import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from cfn_one_shot.reasons import RequestRejected, quoted
from user_request import port_number

logger = logging.getLogger(__name__)

READ = "secretsmanager:GetSecretValue"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    host: str | None
    port: int | None

    def __repr__(self) -> str:  # never show the password, even in a traceback's locals
        return f"Credentials(username={self.username!r}, host={self.host!r}, port={self.port!r})"


class SecretGone(RequestRejected):
    """The secret does not exist (any more): a Delete may treat that as nothing left to do."""


def read_credentials(client, role: str, arn: str) -> Credentials:
    """The secret's current username, password and optional host/port; `role` ("admin secret"
    or "application secret") names it in reasons."""
    name = quoted(arn)
    try:
        value = client.get_secret_value(SecretId=arn)
    except ClientError as error:
        raise _refused(role, name, error) from None
    except BotoCoreError as error:
        raise RequestRejected(
            f"Could not reach Secrets Manager to read the {role} {name} ({type(error).__name__}). "
            "Give this function's subnets a Secrets Manager interface endpoint (or a NAT route)."
        ) from None
    text = value.get("SecretString")
    try:
        document = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise RequestRejected(
            f"The {role} {name} is not a JSON object: store it as JSON with username and password."
        )
    missing = [key for key in ("username", "password") if not _text(document.get(key))]
    if missing:
        raise RequestRejected(
            f"The {role} {name} lacks {' and '.join(missing)}: add {'/'.join(missing)} to its "
            "JSON (the keys of the AWS rotation contract)."
        )
    port = document.get("port")
    if port is not None and port_number(port) is None:
        raise RequestRejected(
            f"The {role} {name} has a port that is not a port number (1-65535): fix its JSON."
        )
    return Credentials(
        username=document["username"],
        password=document["password"],
        host=document.get("host") if _text(document.get("host")) else None,
        port=port_number(port),
    )


def _text(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _refused(role: str, name: str, error: ClientError) -> RequestRejected:
    code = error.response.get("Error", {}).get("Code", "")
    message = str(error.response.get("Error", {}).get("Message", ""))
    if code == "ResourceNotFoundException":
        return SecretGone(
            f"The {role} {name} was not found: check the ARN, and that the secret is in this "
            "stack's account and Region."
        )
    if code == "DecryptionFailure" or (
        code.startswith("AccessDenied") and "kms" in message.lower()
    ):
        return RequestRejected(
            f"Secrets Manager could not decrypt the {role} {name} for this function: allow "
            "kms:Decrypt on the secret's KMS key to this function's role (with "
            "kms:ViaService secretsmanager), in the key policy too."
        )
    if code.startswith("AccessDenied"):
        return RequestRejected(
            f"Access denied reading the {role} {name}: allow {READ} on this exact ARN to this "
            "function's role (and in the secret's resource policy, if it has one)."
        )
    if code == "InvalidRequestException" and "deletion" in message.lower():
        return SecretGone(
            f"The {role} {name} is scheduled for deletion: restore it "
            "(aws secretsmanager restore-secret) or name another secret."
        )
    return RequestRejected(f"Reading the {role} {name} failed with {code or 'an error'}.")


def drop_stale_pending(client, role: str, arn: str) -> None:
    """Remove the AWSPENDING label from every version of the secret that is not AWSCURRENT.

    Called right after CloudFormation generated the secret anew. A pending version then holds the
    secret's previous values (from a rotation that failed or is under way): a rotation that took
    it up again would set its user and password and make it current, bringing back the user name,
    database or host the update just changed, or it would fail on every later attempt. Without
    the label the next rotation starts from the new value. Best effort: when Secrets Manager
    refuses, the log names the fix and the update goes on (its other work does not depend on it).
    """
    name = quoted(arn)
    try:
        stages = client.describe_secret(SecretId=arn).get("VersionIdsToStages") or {}
        stale = [
            version
            for version, labels in stages.items()
            if "AWSPENDING" in labels and "AWSCURRENT" not in labels
        ]
        for version in stale:
            client.update_secret_version_stage(
                SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=version
            )
            logger.info(
                "Removed AWSPENDING from version %s of the %s %s: it was made from the values "
                "before CloudFormation generated the secret anew",
                version,
                role,
                name,
            )
    except (ClientError, BotoCoreError) as error:
        # BotoCoreErrors have no answer to quote (HTTPClientError's `response` is None).
        code = (
            error.response.get("Error", {}).get("Code", "")
            if isinstance(error, ClientError)
            else ""
        )
        logger.warning(
            "Could not find or remove a stale AWSPENDING label on the %s %s (%s): allow "
            "secretsmanager:DescribeSecret and secretsmanager:UpdateSecretVersionStage on it to "
            "this function's role; until then remove the label by hand (aws secretsmanager "
            "update-secret-version-stage --version-stage AWSPENDING --remove-from-version-id ...)",
            role,
            name,
            code or type(error).__name__,
        )
