"""Time as the waiting loops see it, so tests can run an hour-long delete without sleeping."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Clock:
    now: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)
    today: Callable[[], dt.date] = field(default=utc_today)  # the UTC day windows are judged from


def elapsed(seconds: float) -> str:
    """'+1:02:03' or '+02:03': the elapsed time column of the event stream."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours}:{minutes:02d}:{secs:02d}" if hours else f"+{minutes:02d}:{secs:02d}"
