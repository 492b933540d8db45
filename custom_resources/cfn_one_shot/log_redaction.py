"""Keeps the request's presigned ResponseURL and the raw event out of the logs.

crhelper logs the whole event (ResponseURL included) at DEBUG as a dict, and its response sender
logs the URL. Both go through crhelper's module loggers, so a filter there drops event records
and masks URLs whatever level LOG_LEVEL sets; this function's own loggers get the same filter.
"""

import logging
import re

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LEVEL = "INFO"
# botocore at DEBUG prints signed request headers (session token included): never lower.
BOTO_LEVEL = "WARNING"
SDK_LOGGERS = ("boto", "boto3", "botocore", "urllib3")  # the ones crhelper's boto_level sets
GUARDED_LOGGERS = (
    "crhelper",
    "crhelper.resource_helper",
    "crhelper.utils",
    "crhelper.log_helper",
    "cfn_one_shot.one_shot_resource",
    "cfn_one_shot.response_delivery",
)
_URL = re.compile(r"https?://[^\s'\"<>]+", re.IGNORECASE)
URL_MASK = "<url redacted>"


class RedactRequestSecrets(logging.Filter):
    """Drops records whose message is an object (crhelper logs events that way), masks URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str | BaseException):
            return False
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format call: keep only its template
            message = str(record.msg)
        masked = _URL.sub(URL_MASK, message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            traceback_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = _URL.sub(URL_MASK, traceback_text)
        return True


_FILTER = RedactRequestSecrets()


def guard_loggers(function_loggers: tuple[str, ...] = ()) -> None:
    """Attach the filter to every logger that can see a request (idempotent): crhelper's, this
    package's and the function's own (a filter on a logger does not apply to its children).
    The SDK's loggers go to BOTO_LEVEL at once, before crhelper builds its clients."""
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(BOTO_LEVEL)
    for name in (*GUARDED_LOGGERS, *function_loggers):
        guarded = logging.getLogger(name)
        if _FILTER not in guarded.filters:
            guarded.addFilter(_FILTER)


def level_from_environment(value: str | None) -> str:
    """LOG_LEVEL's value if it names a level, else INFO."""
    level = (value or "").strip().upper()
    return level if level in LEVELS else DEFAULT_LEVEL
