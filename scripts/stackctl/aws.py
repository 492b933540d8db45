"""Which Region and account a command acts on, and the clients it uses there.

Region order: REGION= (the make variable), then AWS_REGION, AWS_DEFAULT_REGION, then the profile's
`region`. The pinned AWS CLI v1 and botocore read only AWS_DEFAULT_REGION, so the Region is passed
explicitly to every client instead of trusting the environment.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
import botocore.parsers
from botocore.config import Config

from .errors import OperationFailed, UsageError

# Whatever an AWS call can raise: botocore's ResponseParserError is not a BotoCoreError.
AWS_ERRORS = (
    botocore.exceptions.ClientError,
    botocore.exceptions.BotoCoreError,
    botocore.parsers.ResponseParserError,
)
REGION_FORMAT = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# Standard retries ride out throttling on long polls (describe-stack-events every few seconds).
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})
CREDENTIALS_FIX = (
    "Set AWS_PROFILE (after 'aws sso login' or 'aws configure'), or export "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
)


def resolve_region(explicit: str, session: boto3.session.Session) -> tuple[str, str]:
    """(region, where it came from). Raises UsageError when there is none or it is malformed."""
    candidates = (
        ("REGION", explicit),
        ("AWS_REGION", os.environ.get("AWS_REGION", "")),
        ("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION", "")),
        (f"profile {session.profile_name}", session.region_name or ""),
    )
    for source, raw in candidates:
        value = raw.strip()
        if not value:
            continue
        if not REGION_FORMAT.match(value):
            raise UsageError(
                f"{source}={value} is not an AWS Region name; use one such as eu-west-1 "
                "(make deploy REGION=eu-west-1 ...)."
            )
        return value, source
    raise UsageError(
        "No AWS Region: set REGION= (e.g. make deploy REGION=eu-west-1 ...), AWS_REGION, or a "
        "region in your AWS profile."
    )


@dataclass
class Aws:
    """A session pinned to one Region; `client()` never falls back to another Region."""

    region: str
    region_source: str
    session: boto3.session.Session
    account: str = ""
    caller: str = ""
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def connect(cls, explicit_region: str) -> Aws:
        try:
            session = boto3.session.Session()
        except botocore.exceptions.ProfileNotFound as error:
            raise UsageError(f"{error}. {CREDENTIALS_FIX}") from None
        region, source = resolve_region(explicit_region, session)
        return cls(region, source, session)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.region, config=CLIENT_CONFIG
            )
        return self._clients[service]

    def unknown_region(self) -> str:
        """'' for a Region botocore knows; else why REGION looks wrong and what to type."""
        known = {
            region
            for partition in self.session.get_available_partitions()
            for region in self.session.get_available_regions("sts", partition)
        }
        if self.region in known:
            return ""
        family = self.region.rsplit("-", 1)[0] + "-"
        close = sorted(r for r in known if r.startswith(family)) or difflib.get_close_matches(
            self.region, sorted(known), n=3
        )
        guess = f"did you mean {' or '.join(f'REGION={r}' for r in close)}? " if close else ""
        return (
            f"{self.region} (from {self.region_source}) is not an AWS Region this AWS SDK knows; "
            f"{guess}Regions: aws ec2 describe-regions --query 'Regions[].RegionName'"
        )

    def identify(self) -> None:
        """Ask STS who we are and print Region and account before anything changes."""
        try:
            identity = self.client("sts").get_caller_identity()
        except (
            botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError,
            botocore.exceptions.TokenRetrievalError,
            botocore.exceptions.SSOError,
        ) as error:
            region = self.unknown_region()
            raise UsageError(
                f"No usable AWS credentials ({error}). {CREDENTIALS_FIX}"
                + (f"\nAlso: {region}" if region else "")
            ) from None
        except botocore.exceptions.ClientError as error:
            raise UsageError(
                f"No usable AWS credentials: sts:GetCallerIdentity failed "
                f"({error.response['Error'].get('Code')}). {CREDENTIALS_FIX}"
            ) from None
        except botocore.exceptions.EndpointConnectionError as error:
            region = self.unknown_region()
            if region:
                raise UsageError(f"No AWS endpoint answers: {region}") from None
            raise OperationFailed(
                f"{error}: check the network, a proxy (HTTPS_PROXY) and AWS_ENDPOINT_URL if set."
            ) from None
        self.account = identity["Account"]
        self.caller = identity["Arn"]
        print(
            f"Region {self.region} (from {self.region_source}), account {self.account} "
            f"as {self.caller}",
            flush=True,
        )


def error_code(error: botocore.exceptions.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def error_message(error: botocore.exceptions.ClientError) -> str:
    return error.response.get("Error", {}).get("Message", str(error))


def unreadable(error: Exception, then: str = "Run the command again.") -> str:
    """A ResponseParserError (a proxy's page instead of AWS's answer) in one line, and `then`."""
    first = (str(error).splitlines() or [type(error).__name__])[0][:300]
    return (
        f"AWS's answer could not be read ({first}); something between you and AWS (a proxy, "
        f"AWS_ENDPOINT_URL) may have answered instead. {then}"
    )
