"""How one invocation spends the time Lambda gives it, so the answer always beats the timeout.

With the 60 s Timeout the template sets, a request that starts with ~60 s left gets:
  - work:   the function's own calls (API calls, SQL) start until 10 s before the end;
  - timer:  the timeout timer (a last resort that answers FAILED) fires 0.5 s before it;
  - put:    delivery of the response gives up 0.2 s before it.
Each reserve shrinks in proportion for short budgets, so the order holds for any remaining time.

Every reading of the time, every pause, every wait for another thread and the timer go through
one Clock: the monotonic clock in Lambda; in the tests a clock that moves only when the code
sleeps or the test moves it, so that no test depends on how fast the machine runs.
"""

import threading
import time

WORK_RESERVE_S, WORK_RESERVE_SHARE = 10.0, 0.25  # covers one last call + the response PUT
TIMER_MARGIN_S, TIMER_MARGIN_SHARE = 0.5, 0.1  # crhelper's own margin, scaled down when short
PUT_MARGIN_S, PUT_MARGIN_SHARE = 0.2, 0.04


class MonotonicClock:
    """time.monotonic(), time.sleep() and a daemon threading.Timer: the clock in Lambda."""

    @staticmethod
    def now() -> float:
        return time.monotonic()

    @staticmethod
    def sleep(seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    @staticmethod
    def wait(event: threading.Event, until: float) -> bool:
        """Wait for `event` until the time `until` at the latest; True if it was set."""
        return event.wait(max(until - time.monotonic(), 0.0))

    @staticmethod
    def io_timeout(seconds: float) -> float:
        """How long a socket may block to fit `seconds` of this clock's time: the same here."""
        return seconds

    @staticmethod
    def call_at(when: float, function, *args) -> threading.Timer:
        """Run function(*args) in a thread of its own at `when`; the result has cancel()."""
        timer = threading.Timer(max(when - time.monotonic(), 0.0), function, args)
        timer.daemon = True  # never keeps the process alive
        timer.start()
        return timer


MONOTONIC = MonotonicClock()


class Deadlines:
    """Points on `clock`'s timeline for one request."""

    __slots__ = ("clock", "put", "timer", "work")

    def __init__(self, work: float, timer: float, put: float, clock=MONOTONIC) -> None:
        self.work, self.timer, self.put, self.clock = work, timer, put, clock

    @classmethod
    def starting_now(cls, remaining_s: float, clock=MONOTONIC) -> "Deadlines":
        remaining_s = max(remaining_s, 0.0)
        end = clock.now() + remaining_s
        return cls(
            work=end - min(WORK_RESERVE_S, remaining_s * WORK_RESERVE_SHARE),
            timer=end - min(TIMER_MARGIN_S, remaining_s * TIMER_MARGIN_SHARE),
            put=end - min(PUT_MARGIN_S, remaining_s * PUT_MARGIN_SHARE),
            clock=clock,
        )

    @classmethod
    def for_context(cls, context: object, clock=MONOTONIC) -> "Deadlines":
        remaining_ms = context.get_remaining_time_in_millis()  # type: ignore[attr-defined]
        return cls.starting_now(remaining_ms / 1000, clock)

    def left(self, point: float) -> float:
        """Seconds from now until `point` (one of this request's deadlines); negative once past."""
        return point - self.clock.now()
