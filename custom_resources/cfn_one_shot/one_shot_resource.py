"""crhelper's CfnResource, set up through its constructor, so each request gets one timely answer.

crhelper 2.0.12 is used by its public API: the constructor's options, the decorators, `__call__`,
`init_failure` and `generate_physical_id`. Where its defaults do not fit here:
  - log_level DEBUG logs the whole event, ResponseURL included: the level comes from LOG_LEVEL
    (INFO by default) and log_redaction filters crhelper's loggers;
  - sleep_on_delete=120 delays every Delete: 0 here;
  - polling stays off (no poll_* function is registered), though crhelper still builds its clients;
  - a malformed event raises inside crhelper, which then answers at the previous request's URL:
    __call__ checks the envelope first and answers a malformed request itself;
  - init_failure makes crhelper answer FAILED to every later request, Delete included: here
    Create and Update fail with its reason and Delete still runs.
Two private methods are overridden, where crhelper's behaviour is unsafe here (each pinned by
tests/custom_resource/test_crhelper_pins.py, which fails when crhelper moves them):
  - _send: crhelper's sender retries forever without socket timeouts and logs the presigned URL,
    and the handler's answer must be dropped once the timer has answered;
  - _set_timeout: crhelper's timer answers with an empty PhysicalResourceId on a Create (shown by
    CloudFormation as "Invalid PhysicalResourceId", not the reason), on the wall clock, answers
    FAILED to a Delete, which must never block a stack's deletion (ours answers SUCCESS), and
    builds its answer from the instance, which a timer thawed in a later invocation would find
    holding that later request: ours answers from its own request's slot. A handler that returns
    while this timer's PUT is under way waits for it (up to the delivery deadline): Lambda would
    otherwise freeze the PUT halfway.
"""

import contextlib
import functools
import gc
import logging
import os
import random
import string
import threading

from crhelper import FAILED, SUCCESS, CfnResource

from cfn_one_shot import log_redaction
from cfn_one_shot.reasons import RequestRejected, clip
from cfn_one_shot.request_envelope import read_envelope
from cfn_one_shot.response_delivery import encode_body, put_response
from cfn_one_shot.time_budget import MONOTONIC, Deadlines

logger = logging.getLogger(__name__)

_ID_CHARACTERS = string.ascii_uppercase + string.digits  # as crhelper's generated ids
TIMED_OUT_REASON = (
    "The {work} did not finish before this function's timeout. Retry the stack operation; if it "
    "persists, raise the custom resource function's Timeout."
)


@contextlib.contextmanager
def startup_objects_frozen():
    """No garbage collection while crhelper builds its SDK clients, then everything made so far
    (the SDK's modules and service models, which live as long as the process) leaves the
    collector's view for good (gc.freeze). Otherwise the collections of the first request walk
    them all: a tenth of a cold start (docs/testing.md, "Cold start")."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


class ResponseSlot:
    """One per request: where and by when to answer; the first answer to claim it is sent."""

    def __init__(self, event: dict, response_url: str, deadlines: Deadlines) -> None:
        self.event = event  # the checked copy crhelper is given
        self.response_url = response_url
        self.deadlines = deadlines
        self.timer = None  # the timeout timer, once crhelper has asked for it
        self.delivered = threading.Event()  # set once the claimed answer is sent or given up
        self._lock = threading.Lock()
        self._claimed = False

    @property
    def claimed(self) -> bool:
        with self._lock:
            return self._claimed

    def claim(self) -> bool:
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def await_delivery(self) -> bool:
        """Waits until the claimed answer is sent or given up, at most until the put deadline
        (which the PUT never outlives); True if it was."""
        return self.deadlines.clock.wait(self.delivered, self.deadlines.put)


class OneShotResource(CfnResource):
    """`work` names what the function does in the timeout reason ("lookup"); `loggers` are the
    function's own module loggers, which get the same redaction as crhelper's. `clock` (a
    time_budget clock) times every request: the monotonic clock unless a test sets another."""

    def __init__(self, work: str = "request", loggers: tuple[str, ...] = (), clock=MONOTONIC):
        log_redaction.guard_loggers(loggers)
        self.clock = clock
        self._slot: ResponseSlot | None = None
        self._switching = threading.Lock()  # held to change requests; see _answer_timeout
        self._init_error: Exception | None = None
        self._timed_out_reason = TIMED_OUT_REASON.format(work=work)
        with startup_objects_frozen():
            super().__init__(
                json_logging=False,  # crhelper's JSON logging reads the event before it's checked
                log_level=log_redaction.level_from_environment(os.environ.get("LOG_LEVEL")),
                boto_level=log_redaction.BOTO_LEVEL,
                sleep_on_delete=0,
            )

    @property
    def deadlines(self) -> Deadlines:
        """The current request's deadlines (valid while a request is being handled)."""
        if self._slot is None:
            raise RuntimeError("no request is being handled")
        return self._slot.deadlines

    def __call__(self, event, context) -> None:
        envelope = read_envelope(event)
        if envelope.response_url is None:
            logger.error("Request ignored, nowhere to answer: %s", " ".join(envelope.problems))
            return
        deadlines = Deadlines.for_context(context, self.clock)
        slot = ResponseSlot(envelope.event, envelope.response_url, deadlines)
        with self._switching:
            self._slot = slot
        try:
            refusal = self._refusal(envelope)
            if refusal:
                logger.error(refusal)
                _answer(slot, FAILED, clip(refusal), self._physical_id_for(slot, ""))
                return
            logger.info(
                "%s %s (%s)",
                envelope.request_type,
                clip(envelope.event["LogicalResourceId"], 80),
                clip(envelope.event.get("PhysicalResourceId", "new resource"), 200),
            )
            super().__call__(envelope.event, context)
        finally:
            if slot.timer is not None:
                slot.timer.cancel()  # does not stop a timer that is already answering
            _await_answer(slot)

    def _refusal(self, envelope) -> str:
        """Why a Create or Update cannot run ("" if it can); a Delete always runs."""
        if envelope.request_type == "Delete":
            return ""
        if envelope.problems:
            return "Malformed CloudFormation request: " + " ".join(envelope.problems)
        if self._init_error is not None:
            return f"The function failed to initialise: {self._init_error}"
        return ""

    def _physical_id_for(self, slot: ResponseSlot, set_by_function: str) -> str:
        """The id to answer a request with when its function has not answered: the one the
        function set so far (a failed Create's rollback must find what it made), the request's
        own, or crhelper's form for a Create (never empty: CloudFormation would show "Invalid
        PhysicalResourceId" instead of the reason)."""
        return (
            set_by_function
            or slot.event.get("PhysicalResourceId")
            or self.generate_physical_id(slot.event)
        )

    def init_failure(self, error) -> None:
        """crhelper's hook for a failed initialisation: Create and Update then fail with it."""
        logger.error("Initialisation failed: %s", error)
        self._init_error = error

    # The decorators register each function wrapped, so that a RequestRejected (the user's
    # error, whose message is the whole story) is logged as one line instead of a traceback.
    def create(self, func):
        super().create(self._rejections_in_one_line(func))
        return func

    def update(self, func):
        super().update(self._rejections_in_one_line(func))
        return func

    def delete(self, func):
        super().delete(self._rejections_in_one_line(func))
        return func

    def _rejections_in_one_line(self, func):
        @functools.wraps(func)
        def run(event, context):
            try:
                return func(event, context)
            except RequestRejected as rejected:
                logger.error("Request rejected: %s", rejected)
                self.Status, self.Reason = FAILED, str(rejected)
                return self.PhysicalResourceId  # what crhelper keeps when a function raises

        return run

    # crhelper's sender retries forever, unbounded and logging the URL: send once, bounded.
    def _send(self, status=None, reason="", send_response=None) -> None:
        slot = self._slot
        if slot is None or not _first_answer(slot, status or self.Status):
            return
        try:
            super()._send(status, reason, send_response=functools.partial(_deliver, slot))
        finally:
            slot.delivered.set()  # _deliver sets it; this covers crhelper failing before that

    # crhelper's timer answers with an empty PhysicalResourceId: this one names the resource.
    def _set_timeout(self) -> None:
        slot = self._slot
        slot.timer = self.clock.call_at(slot.deadlines.timer, self._answer_timeout, slot)

    def _answer_timeout(self, slot: ResponseSlot) -> None:
        # Lambda freezes this thread with the process and may thaw it during a later request:
        # the check and the reading of the id the function set hold the lock that __call__ takes
        # to switch requests, and the answer goes to this request's slot, never the current one.
        with self._switching:
            if slot is not self._slot:  # a timer that outlived its request
                return
            physical_id = self._physical_id_for(slot, self.PhysicalResourceId)
        if slot.event.get("RequestType") == "Delete":  # a Delete never blocks the stack's deletion
            logger.error(
                "About to time out; answering SUCCESS to the Delete now: %s", self._timed_out_reason
            )
            _answer(slot, SUCCESS, "", physical_id)
            return
        logger.error("About to time out; answering FAILED now")
        _answer(slot, FAILED, self._timed_out_reason, physical_id)

    def generate_physical_id(self, event) -> str:
        """crhelper's stack_LogicalId_RANDOM id (for a failed Create), robust to odd StackIds."""
        stack_parts = str(event.get("StackId", "")).split("/")
        stack_name = stack_parts[1] if len(stack_parts) > 2 and stack_parts[1] else "stack"
        logical_id = str(event.get("LogicalResourceId") or "resource")
        suffix = "".join(random.choices(_ID_CHARACTERS, k=8))  # noqa: S311 - not a secret
        return f"{stack_name[:128]}_{logical_id[:128]}_{suffix}"


def _first_answer(slot: ResponseSlot, status: str) -> bool:
    """Claims the request's one answer; False (logged) when it was given already."""
    if slot.claim():
        return True
    logger.warning("Dropped a second answer (%s) to one request", status)
    return False


def _answer(slot: ResponseSlot, status: str, reason: str, physical_id: str) -> None:
    """An answer made from the request's own slot alone (no instance state, which may already
    belong to a later request), sent if it is the first to claim the slot."""
    event = slot.event
    body = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {},
        "NoEcho": False,
    }
    if _first_answer(slot, status):  # made first: from the claim on, only _deliver runs
        _deliver(slot, slot.response_url, body)


def _await_answer(slot: ResponseSlot) -> None:
    """Keeps the invocation alive while the timer's answer is on its way: once the handler
    returns, Lambda freezes the process, and a PUT frozen halfway is thawed (if ever) after the
    deadline, leaving the stack waiting an hour. Bounded by the put deadline; the timer's thread
    never waits on this one, so the two cannot deadlock."""
    if slot.claimed and not slot.await_delivery():
        logger.error("The timer's answer was still being sent at the delivery deadline")


def _deliver(slot: ResponseSlot, _url: str, body: dict, _ssl_verify=None) -> None:
    """crhelper's send_response signature; answers at the slot's checked URL, never a stale one."""
    try:
        logger.info("Answering %s for %s", body.get("Status"), clip(body["LogicalResourceId"], 80))
        put_response(slot.response_url, encode_body(body), slot.deadlines.put, slot.deadlines.clock)
    except Exception:  # the caller would only try a second answer, which the slot refuses
        logger.exception("Response delivery failed")
    finally:
        slot.delivered.set()  # sent or given up: a handler waiting for it may return


__all__ = ["FAILED", "SUCCESS", "OneShotResource"]
