"""GetFunctionConfiguration with retries bounded by a deadline: the function's ARN and role."""

import logging
import random
from typing import NamedTuple

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable
from cfn_one_shot.reasons import RequestRejected, quoted
from cfn_one_shot.time_budget import MONOTONIC
from resource_properties import FunctionRef

logger = logging.getLogger(__name__)

PERMISSION = "lambda:GetFunctionConfiguration"
FIRST_DELAY_S = 0.2
MAX_DELAY_S = 2.0  # once the function exists, the answer follows within about this long

_THROTTLING = frozenset({"TooManyRequestsException", "RequestLimitExceeded", "SlowDown"})
_ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})


class FunctionRole(NamedTuple):
    function_arn: str
    role_arn: str

    @property
    def role_name(self) -> str:
        """What IAM's role APIs take: the ARN's last segment, after any path
        (arn:aws:iam::123456789012:role/service-role/NAME)."""
        return self.role_arn.rsplit("/", 1)[-1]


def find_role(client, ref: FunctionRef, deadline: float, clock=MONOTONIC) -> FunctionRole:
    """Look the function up until it answers or `deadline` (on `clock`) passes.

    Not-found (the function's stack may still be settling), throttling and transient service or
    network errors are retried with capped, jittered exponential backoff; anything else fails at
    once. Every failure is a RequestRejected whose message names the function and the fix.
    """
    identifier = ref.api_identifier(client.meta.partition, client.meta.region_name)
    started = clock.now()
    attempts, delay = 0, FIRST_DELAY_S
    while True:
        attempts += 1
        try:
            configuration = client.get_function_configuration(FunctionName=identifier)
        except (ClientError, BotoCoreError) as error:
            transient = _transient_kind(error)
            if transient is None:
                raise _permanent_failure(ref, error) from error
            now = clock.now()
            if now >= deadline:
                raise _gave_up(ref, transient, error, attempts, now - started) from error
            pause = min(delay * random.uniform(0.5, 1.0), deadline - now)  # noqa: S311 - jitter
            logger.info(
                "Attempt %d for %s: %s; retrying in %.2f s",
                attempts,
                quoted(ref.given),
                transient,
                pause,
            )
            clock.sleep(pause)
            delay = min(delay * 2, MAX_DELAY_S)
            continue
        return _function_role(ref, configuration)


def _transient_kind(error: Exception) -> str | None:
    if isinstance(error, EndpointUnreachable | HTTPClientError):
        return "Lambda unreachable"
    if not isinstance(error, ClientError):
        return None
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code == "ResourceNotFoundException":
        return "not found"
    if code in _THROTTLING or code.startswith("Throttl") or status == 429:
        return "throttled"
    if status >= 500:
        return "Lambda service error"
    return None


def _gave_up(ref, kind, error, attempts, elapsed) -> RequestRejected:
    name = quoted(ref.given)
    spent = f"{attempts} attempts in {elapsed:.0f} s"
    if kind == "not found":
        return RequestRejected(
            f"Lambda function {name} was not found ({spent}). Check FunctionName, and make this "
            "resource DependsOn the resource that creates the function (for a hosted rotation "
            "function, its AWS::SecretsManager::RotationSchedule)."
        )
    if kind == "throttled":
        return RequestRejected(
            f"Lambda kept throttling {PERMISSION} for {name} ({spent}). Retry the stack "
            "operation when fewer Lambda control-plane calls run in this account and region."
        )
    return RequestRejected(
        f"Could not reach Lambda to look up {name} ({spent}; last error: {error}). Retry the "
        "stack operation; if it persists, check the Lambda endpoint and network settings."
    )


def _permanent_failure(ref: FunctionRef, error: Exception) -> RequestRejected:
    name = quoted(ref.given)
    code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
    if code in _ACCESS_DENIED or code.endswith("AccessDenied"):
        return RequestRejected(
            f"Access denied: this custom resource's execution role may not call {PERMISSION} on "
            f"{name}. Allow {PERMISSION} on that function's ARN in the role's policy."
        )
    return RequestRejected(f"Looking up Lambda function {name} failed: {error}")


def _function_role(ref: FunctionRef, configuration: dict) -> FunctionRole:
    function_arn, role_arn = configuration.get("FunctionArn"), configuration.get("Role")
    if not function_arn or not role_arn:
        raise RequestRejected(
            f"Lambda returned no {'FunctionArn' if not function_arn else 'Role'} for "
            f"{quoted(ref.given)}; retry the stack operation."
        )
    logger.info("Function %s runs as role %s", function_arn, role_arn)
    return FunctionRole(function_arn=function_arn, role_arn=role_arn)
