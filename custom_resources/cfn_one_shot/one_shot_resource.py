"""crhelper's CfnResource, configured and bounded so each request gets exactly one timely answer.

What crhelper 2.0.12 does by default, and what this subclass does instead:
  - log_level DEBUG logs the whole event: level comes from LOG_LEVEL (default INFO) and
    log_redaction filters crhelper's loggers, so events and URLs never reach the logs;
  - sleep_on_delete=120 delays every Delete: 0 here, Delete answers at once;
  - a timer answers FAILED 0.5 s before the timeout while the handler goes on, so a second answer
    can follow: the timer is kept as a last resort (answering SUCCESS to a Delete, which must
    never block a stack's deletion), but every answer must first claim the request's single
    ResponseSlot, so whichever comes second is dropped;
  - _send_response retries forever with unbounded sockets: response_delivery replaces it with
    attempts bounded by the request's deadlines;
  - a malformed event raises inside crhelper or is answered at the previous request's URL:
    request_envelope checks it first.
"""

import functools
import logging
import os
import threading
import time

from crhelper import FAILED, SUCCESS, CfnResource, log_helper

from cfn_one_shot import log_redaction
from cfn_one_shot.reasons import RequestRejected, clip
from cfn_one_shot.request_envelope import read_envelope
from cfn_one_shot.response_delivery import encode_body, put_response
from cfn_one_shot.time_budget import Deadlines

logger = logging.getLogger(__name__)

TIMED_OUT_REASON = (
    "The {work} did not finish before this function's timeout. Retry the stack operation; if it "
    "persists, raise the custom resource function's Timeout."
)


class ResponseSlot:
    """One per request: the first answer to claim it is sent, any later one is dropped."""

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines
        self._lock = threading.Lock()
        self._claimed = False

    def claim(self) -> bool:
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
            return True


class OneShotResource(CfnResource):
    """`work` names what the function does in the timeout reason ("lookup"); `loggers` are the
    function's own module loggers, which get the same redaction as crhelper's."""

    def __init__(self, work: str = "request", loggers: tuple[str, ...] = ()) -> None:
        log_redaction.guard_loggers(loggers)
        self._set_up_crhelper_state(self._log_level_now())
        self._slot: ResponseSlot | None = None
        self._timed_out_reason = TIMED_OUT_REASON.format(work=work)

    def _set_up_crhelper_state(self, log_level: str) -> None:
        """The state CfnResource.__init__ (2.0.12) sets, with this resource's settings.

        CfnResource.__init__ is not called because it also builds Lambda, Events and Logs clients
        for a polling mode this resource never uses: about a fifth of a cold start, and a failure
        to build them would fail every request, Delete included. A test checks that this sets
        exactly the attributes crhelper's own __init__ does.
        """
        self._create_func = self._update_func = self._delete_func = None
        self._poll_create_func = self._poll_update_func = self._poll_delete_func = None
        self._lambda_client = self._events_client = self._logs_client = None  # polling only
        self._timer = self._init_failed = self._context = None
        self._json_logging, self._send_response, self.NoEcho = False, False, False
        self._log_level, self._boto_level = log_level, log_redaction.BOTO_LEVEL
        self._sleep_on_delete = 0  # no 120 s wait before answering a Delete
        self._polling_interval = 2
        self.Status = self.Reason = self.PhysicalResourceId = ""
        self.StackId = self.RequestId = self.LogicalResourceId = self._response_url = ""
        self.Data, self._event = {}, {}
        self._sam_local = os.getenv("AWS_SAM_LOCAL")
        self._region = os.getenv("AWS_REGION")
        self._ssl_verify = None
        log_helper.setup(log_level, formatter_cls=None, boto_level=self._boto_level)

    @staticmethod
    def _log_level_now() -> str:
        return log_redaction.level_from_environment(os.environ.get("LOG_LEVEL"))

    @property
    def deadlines(self) -> Deadlines:
        """The current request's deadlines (valid while a request is being handled)."""
        if self._slot is None:
            raise RuntimeError("no request is being handled")
        return self._slot.deadlines

    # --- crhelper hooks -------------------------------------------------------------------------

    def _log_setup(self, event, context) -> None:
        log_helper.setup(
            self._log_level_now(), formatter_cls=None, boto_level=log_redaction.BOTO_LEVEL
        )

    def _crhelper_init(self, event, context) -> bool:
        if self._timer:
            self._timer.cancel()
        self._response_url = ""  # never answer at the previous request's URL
        self._slot = ResponseSlot(Deadlines.for_context(context))
        envelope = read_envelope(event)
        if envelope.response_url is None:
            logger.error("Request ignored, nowhere to answer: %s", " ".join(envelope.problems))
            return False
        if envelope.problems and envelope.request_type != "Delete":
            self._answer_malformed(envelope, context)
            return False
        logger.info(
            "%s %s (%s)",
            envelope.request_type,
            clip(envelope.event["LogicalResourceId"], 80),
            clip(envelope.event.get("PhysicalResourceId", "new resource"), 200),
        )
        return super()._crhelper_init(envelope.event, context)

    def _answer_malformed(self, envelope, context) -> None:
        event = envelope.event
        self._event, self._context, self._response_url = event, context, envelope.response_url
        self.StackId, self.RequestId = event["StackId"], event["RequestId"]
        self.LogicalResourceId = event["LogicalResourceId"]
        self.PhysicalResourceId = event.get("PhysicalResourceId") or self.generate_physical_id(
            event
        )
        self.Data, self.Status = {}, FAILED
        self.Reason = clip("Malformed CloudFormation request: " + " ".join(envelope.problems))
        logger.error(self.Reason)
        self._send()

    def _wrap_function(self, func) -> None:
        # crhelper logs every failure with a traceback; a RequestRejected is the user's error and
        # its message is the whole story, so it is logged as one line.
        try:
            self.PhysicalResourceId = func(self._event, self._context) if func else ""
        except RequestRejected as rejected:
            logger.error("Request rejected: %s", rejected)
            self.Reason, self.Status = str(rejected), FAILED
        except Exception as error:  # a bug: keep crhelper's traceback for the operator
            logger.error(str(error), exc_info=True)
            self.Reason, self.Status = str(error), FAILED

    def _cfn_response(self, event) -> None:
        # crhelper passes the raw event here; answer from the checked copy instead.
        super()._cfn_response(self._event)

    def _set_timeout(self) -> None:
        slot = self._slot
        delay = max(slot.deadlines.timer - time.monotonic(), 0.0)
        self._timer = threading.Timer(delay, self._answer_timeout, args=(slot,))
        self._timer.daemon = True
        self._timer.start()

    def _answer_timeout(self, slot: ResponseSlot) -> None:
        if slot is not self._slot:
            return
        if not self.PhysicalResourceId:  # crhelper's timer would send an empty one
            self.PhysicalResourceId = self._event.get(
                "PhysicalResourceId"
            ) or self.generate_physical_id(self._event)
        if self._event.get("RequestType") == "Delete":  # a Delete never blocks the stack's
            logger.error(
                "About to time out; answering SUCCESS to the Delete now: %s", self._timed_out_reason
            )
            self._send(SUCCESS, "")
            return
        logger.error("About to time out; answering FAILED now")
        self._send(FAILED, self._timed_out_reason)

    def _send(self, status=None, reason="", send_response=None) -> None:
        slot = self._slot
        if slot is None or not slot.claim():
            logger.warning("Dropped a second answer (%s) to one request", status or self.Status)
            return
        super()._send(status, reason, send_response=functools.partial(self._deliver, slot))

    @staticmethod
    def _deliver(slot: ResponseSlot, url: str, body: dict, _ssl_verify=None) -> None:
        logger.info("Answering %s for %s", body.get("Status"), clip(body["LogicalResourceId"], 80))
        try:
            put_response(url, encode_body(body), slot.deadlines.put)
        except Exception:  # the caller would only try a second answer, which the slot refuses
            logger.exception("Response delivery failed")

    def generate_physical_id(self, event) -> str:
        """crhelper's stack_LogicalId_RANDOM id (for a failed Create), robust to odd StackIds."""
        stack_parts = str(event.get("StackId", "")).split("/")
        stack_name = stack_parts[1] if len(stack_parts) > 2 and stack_parts[1] else "stack"
        logical_id = str(event.get("LogicalResourceId") or "resource")
        return f"{stack_name[:128]}_{logical_id[:128]}_{self._rand_string(8)}"


__all__ = ["FAILED", "SUCCESS", "OneShotResource"]
