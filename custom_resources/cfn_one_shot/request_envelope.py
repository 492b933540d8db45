"""The parts of a CloudFormation request that every answer depends on, checked before crhelper.

crhelper indexes the event directly and keeps the previous request's ResponseURL and ids on the
instance, so a malformed event could raise or be answered at a stale URL. Reading the envelope
here first gives crhelper only well-typed events and yields a clear reason for everything else.
"""

from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from cfn_one_shot.reasons import quoted

REQUEST_TYPES = ("Create", "Update", "Delete")
IDENTIFIERS = ("StackId", "RequestId", "LogicalResourceId")
_CRHELPER_INTERNAL_PREFIX = "CrHelper"  # crhelper's polling state; CloudFormation never sends it


class Envelope(NamedTuple):  # not a frozen dataclass: 0.1 ms to define at cold start, not 0.8
    event: dict  # a copy crhelper can index safely
    response_url: str | None = None  # None: nowhere to answer
    problems: tuple[str, ...] = ()

    @property
    def request_type(self) -> str | None:
        return self.event.get("RequestType")


def read_envelope(raw: object) -> Envelope:
    if not isinstance(raw, Mapping):
        problem = f"The request is a {type(raw).__name__}, not a JSON object."
        return Envelope(event={}, problems=(problem,))
    event = {
        key: value
        for key, value in raw.items()
        if not (isinstance(key, str) and key.startswith(_CRHELPER_INTERNAL_PREFIX))
    }
    problems = []
    response_url = event.get("ResponseURL")
    if not _is_https_url(response_url):
        problems.append("ResponseURL must be an https URL.")
        response_url = None
    for name in IDENTIFIERS:
        if not isinstance(event.get(name), str) or not event[name]:
            problems.append(f"{name} must be a non-empty string.")
            event[name] = event[name] if isinstance(event.get(name), str) else ""
    if event.get("RequestType") not in REQUEST_TYPES:
        problems.append(
            f"RequestType {quoted(event.get('RequestType'))} is not one of "
            f"{', '.join(REQUEST_TYPES)}."
        )
        event["RequestType"] = None
    physical_id = event.get("PhysicalResourceId")
    if "PhysicalResourceId" in event and not (isinstance(physical_id, str) and physical_id):
        del event["PhysicalResourceId"]
    if event["RequestType"] == "Update" and "PhysicalResourceId" not in event:
        problems.append("An Update must carry the PhysicalResourceId of the resource.")
    return Envelope(event=event, response_url=response_url, problems=tuple(problems))


def _is_https_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)
