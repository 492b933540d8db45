"""Stack events as they happen, nested stacks included, and the root cause of a failure.

Polls DescribeStackEvents with backoff (2 s, growing to 30 s while nothing happens) for as long as
the operation runs: there is no time limit, because a delete that waits for Lambda's VPC network
interfaces can take 20-45 minutes and CloudFormation, not this loop, decides when it is over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from .aws import error_code, error_message
from .clock import Clock, elapsed

NESTED_STACK = "AWS::CloudFormation::Stack"
FIRST_DELAY, MAX_DELAY = 2.0, 30.0
# Types whose deletion waits for the network interfaces Lambda keeps after a VPC function goes.
ENI_BOUND_TYPES = frozenset(
    {
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::Subnet",
        "AWS::EC2::VPC",
        "AWS::Lambda::Function",
        NESTED_STACK,
    }
)
SLOW_AFTER = 10 * 60
SLOW_DELETE_NOTE = (
    "Lambda keeps the network interfaces of a deleted VPC function for up to 45 minutes, and the "
    "security groups and subnets they sit in cannot go before them: this is normal, still waiting "
    "(Ctrl-C stops watching; the delete goes on)."
)
# Failures that only echo another resource's failure.
ECHOES = ("Resource creation cancelled", "Resource update cancelled", "cancelled")


def terminal(status: str) -> bool:
    return status.endswith(("_COMPLETE", "_FAILED")) and not status.endswith("CLEANUP_COMPLETE")


def succeeded(status: str, operation: str) -> bool:
    return status == f"{operation}_COMPLETE"


@dataclass
class Watcher:
    """Streams the events of one stack operation; remembers them to explain a failure."""

    cf: Any
    stack_id: str
    clock: Clock = field(default_factory=Clock)
    operation: str = "CREATE"  # CREATE, UPDATE or DELETE: what success looks like
    seen: set[str] = field(default_factory=set)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    nested: dict[str, str] = field(default_factory=dict)  # nested stack id -> logical id in parent
    slow: dict[str, float] = field(default_factory=dict)
    slow_noted: bool = False
    started: float | None = None  # set by the first run(); a second run() goes on counting
    since: dt.datetime | None = None

    def mark_existing(self) -> None:
        """Events from before this operation are not shown again (nor those of nested stacks)."""
        earlier = self.fetch(self.stack_id, first_page_only=True)
        self.events.pop(self.stack_id, None)
        stamps = [e["Timestamp"] for e in earlier if e.get("Timestamp")]
        self.since = max(stamps) if stamps else None

    def fetch(self, stack_id: str, first_page_only: bool = False) -> list[dict[str, Any]]:
        """New events of one stack, oldest first (paging back until an event already seen)."""
        fresh: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs = {"StackName": stack_id, **({"NextToken": token} if token else {})}
            try:
                page = self.cf.describe_stack_events(**kwargs)
            except botocore.exceptions.ClientError as error:
                if "does not exist" in error_message(error):
                    return []
                raise
            batch = page.get("StackEvents", [])
            new = [e for e in batch if e["EventId"] not in self.seen]
            fresh += new
            token = page.get("NextToken")
            if not token or len(new) < len(batch) or first_page_only:
                break
        fresh.reverse()
        if self.since is not None:
            fresh = [e for e in fresh if not e.get("Timestamp") or e["Timestamp"] >= self.since]
        self.events.setdefault(stack_id, []).extend(fresh)
        for event in fresh:
            self.seen.add(event["EventId"])
        return fresh

    def label(self, stack_id: str, logical_id: str) -> str:
        parent = self.nested.get(stack_id)
        return f"{parent}/{logical_id}" if parent else logical_id

    def show(self, stack_id: str, event: dict[str, Any]) -> None:
        stamp = event.get("Timestamp")
        when = stamp.astimezone(dt.UTC).strftime("%H:%M:%S") if stamp else "--:--:--"
        reason = event.get("ResourceStatusReason") or ""
        status = event.get("ResourceStatus", "")
        print(
            f"{when}  {elapsed(self.clock.now() - (self.started or 0.0)):>9}  {status:<28} "
            f"{self.label(stack_id, event.get('LogicalResourceId', '')):<40} {reason}".rstrip(),
            flush=True,
        )
        self.follow_nested(stack_id, event)
        self.track_slow(event)

    def follow_nested(self, stack_id: str, event: dict[str, Any]) -> None:
        physical = event.get("PhysicalResourceId") or ""
        if (
            event.get("ResourceType") == NESTED_STACK
            and physical.startswith("arn:")
            and physical != self.stack_id
            and physical not in self.nested
        ):
            self.nested[physical] = self.label(stack_id, event.get("LogicalResourceId", ""))

    def track_slow(self, event: dict[str, Any]) -> None:
        key = event.get("PhysicalResourceId") or event.get("LogicalResourceId", "")
        if event.get("ResourceType") not in ENI_BOUND_TYPES:
            return
        if event.get("ResourceStatus") == "DELETE_IN_PROGRESS":
            self.slow.setdefault(key, self.clock.now())
        else:
            self.slow.pop(key, None)

    def note_slow_delete(self) -> None:
        if self.slow_noted or self.operation != "DELETE":
            return
        if any(self.clock.now() - since >= SLOW_AFTER for since in self.slow.values()):
            print(SLOW_DELETE_NOTE, flush=True)
            self.slow_noted = True

    def status(self) -> str:
        try:
            stacks = self.cf.describe_stacks(StackName=self.stack_id)["Stacks"]
        except botocore.exceptions.ClientError as error:
            if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
                return "DELETE_COMPLETE"
            raise
        return stacks[0]["StackStatus"]

    def poll_once(self) -> int:
        shown = 0
        for stack_id in [self.stack_id, *self.nested]:
            for event in self.fetch(stack_id):
                self.show(stack_id, event)
                shown += 1
        return shown

    def run(self) -> str:
        """Stream events until the stack settles; returns its final status."""
        if self.started is None:
            self.started = self.clock.now()
        delay = FIRST_DELAY
        while True:
            shown = self.poll_once()
            status = self.status()
            if terminal(status):
                self.poll_once()  # the last events arrive with the final status
                return status
            self.note_slow_delete()
            delay = FIRST_DELAY if shown else min(delay * 1.5, MAX_DELAY)
            self.clock.sleep(delay)

    def root_cause(self) -> str:
        """The first failure's reason, descending into nested stacks ('' when there is none)."""
        return first_failure(self, self.stack_id, depth=0)


def failed_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("ResourceStatus", "").endswith("_FAILED")]


def first_failure(watcher: Watcher, stack_id: str, depth: int) -> str:
    if stack_id not in watcher.events:
        watcher.fetch(stack_id)
    failures = [
        e
        for e in failed_events(watcher.events.get(stack_id, []))
        if e.get("PhysicalResourceId") != stack_id
    ]
    real = [
        e for e in failures if not any(x in (e.get("ResourceStatusReason") or "") for x in ECHOES)
    ]
    for event in real or failures:
        label = watcher.label(stack_id, event.get("LogicalResourceId", ""))
        reason = event.get("ResourceStatusReason") or "(no reason given)"
        physical = event.get("PhysicalResourceId") or ""
        if event.get("ResourceType") == NESTED_STACK and physical.startswith("arn:") and depth < 5:
            watcher.nested.setdefault(physical, label)
            deeper = first_failure(watcher, physical, depth + 1)
            if deeper:
                return deeper
        return f"{label} ({event.get('ResourceType', '?')}): {reason}"
    return ""
