"""botocore Stubbers behind stackctl's Aws object, and a clock that never sleeps.

For what moto does not do like AWS: change sets that modify or replace resources, nested stacks'
failures, DELETE_FAILED, deletion protection, an hour-long delete.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from dataclasses import dataclass, field

import boto3
from botocore.stub import Stubber

from scripts.stackctl.aws import Aws
from scripts.stackctl.clock import Clock
from scripts.stackctl.runtime import Runtime

REGION = "eu-west-1"
ACCOUNT = "111122223333"
T0 = dt.datetime(2026, 11, 27, 9, 0, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


def stack_arn(name: str) -> str:
    suffix = f"{name[:12]:0>12}"
    return (
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/1f2e3d4c-0000-4000-8000-{suffix}"
    )


@dataclass
class FakeClock:
    """Time moves only when the code under test sleeps."""

    t: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def as_clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


class Terminal(io.StringIO):
    """stdin as a person's terminal."""

    def isatty(self) -> bool:
        return True


class StubbedAws:
    def __init__(self) -> None:
        session = boto3.session.Session(
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example", region_name=REGION
        )
        self.aws = Aws(REGION, "REGION", session)
        self.stubs: dict[str, Stubber] = {}
        self.clock = FakeClock()

    def __getattr__(self, service: str) -> Stubber:
        """stubs.cloudformation.add_response(...): the Stubber of that service's client."""
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self.stubs:
            stubber = Stubber(self.aws.client(service))
            stubber.activate()
            self.stubs[service] = stubber
        return self.stubs[service]

    def runtime(self) -> Runtime:
        return Runtime(clock=self.clock.as_clock(), connect=lambda region: self.aws)

    def identity(self) -> None:
        self.sts.add_response(
            "get_caller_identity",
            {
                "UserId": "AIDAEXAMPLE",
                "Account": ACCOUNT,
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/dev",
            },
        )

    def assert_done(self) -> None:
        for stubber in self.stubs.values():
            stubber.assert_no_pending_responses()


def event(  # noqa: PLR0917 (mirrors the fields of a stack event)
    stack: str,
    logical: str,
    status: str,
    kind: str,
    reason: str = "",
    physical: str = "",
    seconds: int = 0,
) -> dict:
    """One StackEvents entry shaped like DescribeStackEvents returns it."""
    item = {
        "StackId": stack_arn(stack),
        "EventId": f"{logical}-{status}-{next(_ids)}",
        "StackName": stack,
        "LogicalResourceId": logical,
        "PhysicalResourceId": physical or logical,
        "ResourceType": kind,
        "Timestamp": T0 + dt.timedelta(seconds=seconds),
        "ResourceStatus": status,
    }
    if reason:
        item["ResourceStatusReason"] = reason
    return item


def events(*items: dict) -> dict:
    """DescribeStackEvents' answer: newest first."""
    return {"StackEvents": list(reversed(items))}


def stack_description(name: str, status: str, parameters=(), outputs=()) -> dict:
    stack = {
        "StackId": stack_arn(name),
        "StackName": name,
        "CreationTime": T0,
        "StackStatus": status,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters],
    }
    if outputs:
        stack["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs]
    return {"Stacks": [stack]}
