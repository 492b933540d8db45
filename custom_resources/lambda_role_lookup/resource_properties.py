"""The resource's properties, as the template author wrote them, checked before any AWS call."""

import re
from collections.abc import Mapping
from typing import NamedTuple

from cfn_one_shot.reasons import RequestRejected, quoted, unknown_properties

FUNCTION_NAME = "FunctionName"
TRIGGERS = "Triggers"
KNOWN = frozenset({FUNCTION_NAME, TRIGGERS})

EXPECTED_FORMS = "a function name, partial ARN (123456789012:function:NAME) or function ARN"
NAME_RULE = "a name is 1-64 letters, digits, '-' or '_'"

# name | account:function:name | arn:partition:lambda:region:account:function:name, then an
# optional :qualifier that is recognised only to be refused with a precise message.
_FUNCTION_REF = re.compile(
    r"(?:(?:arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):)?"
    r"(?P<account>\d{12}):function:)?"
    r"(?P<name>[A-Za-z0-9_-]{1,64})"
    r"(?::(?P<qualifier>[^:]*))?"
)


class FunctionRef(NamedTuple):
    """The function to look up, as the template named it."""

    given: str
    name: str
    account: str | None = None
    region: str | None = None
    partition: str | None = None

    def api_identifier(self, partition: str, region: str) -> str:
        """The identifier sent to GetFunctionConfiguration.

        A partial ARN is expanded with this Lambda's own partition and region, which is what Lambda
        assumes for it anyway; one canonical form also keeps the IAM resource obvious.
        """
        if self.account is None or self.region is not None:
            return self.given
        return f"arn:{partition}:lambda:{region}:{self.account}:function:{self.name}"


def function_ref(properties: object, region: str | None) -> FunctionRef:
    """The validated FunctionName of `properties`, or RequestRejected naming every problem."""
    if not isinstance(properties, Mapping):
        raise RequestRejected(
            f"ResourceProperties must be an object with {FUNCTION_NAME} ({EXPECTED_FORMS})."
        )
    problems = unknown_properties(properties, KNOWN)
    try:
        ref = _parse_function_name(properties, region)
    except RequestRejected as rejected:
        raise RequestRejected(" ".join([*problems, str(rejected)])) from None
    if problems:
        raise RequestRejected(" ".join(problems))
    return ref


def _parse_function_name(properties: Mapping, region: str | None) -> FunctionRef:
    if FUNCTION_NAME not in properties:
        raise RequestRejected(f"{FUNCTION_NAME} is required: set it to {EXPECTED_FORMS}.")
    value = properties[FUNCTION_NAME]
    if not isinstance(value, str):
        raise RequestRejected(
            f"{FUNCTION_NAME} must be a string ({EXPECTED_FORMS}), not {type(value).__name__}."
        )
    if not value.strip():
        raise RequestRejected(f"{FUNCTION_NAME} is empty: set it to {EXPECTED_FORMS}.")
    match = _FUNCTION_REF.fullmatch(value)
    if match is None:
        raise RequestRejected(
            f"{FUNCTION_NAME} {quoted(value)} is not {EXPECTED_FORMS} ({NAME_RULE})."
        )
    if match["qualifier"] is not None:
        raise RequestRejected(
            f"{FUNCTION_NAME} {quoted(value)} has a version or alias qualifier "
            f"{quoted(':' + match['qualifier'])}: name the unqualified function, whose role is "
            "the one Secrets Manager uses."
        )
    if match["region"] and region and match["region"] != region:
        raise RequestRejected(
            f"{FUNCTION_NAME} {quoted(value)} is in {match['region']}, but this lookup runs in "
            f"{region}: deploy the stack in the function's region."
        )
    return FunctionRef(
        given=value,
        name=match["name"],
        account=match["account"],
        region=match["region"],
        partition=match["partition"],
    )
