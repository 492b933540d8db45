"""How one invocation spends the time Lambda gives it, so the answer always beats the timeout.

With the 60 s Timeout the template sets, a request that starts with ~60 s left gets:
  - work:   the function's own calls (API calls, SQL) start until 10 s before the end;
  - timer:  crhelper's timeout timer (a last resort that answers FAILED) fires 0.5 s before it;
  - put:    delivery of the response gives up 0.2 s before it.
Each reserve shrinks in proportion for short budgets, so the order holds for any remaining time.
"""

import time
from dataclasses import dataclass

WORK_RESERVE_S, WORK_RESERVE_SHARE = 10.0, 0.25  # covers one last call + the response PUT
TIMER_MARGIN_S, TIMER_MARGIN_SHARE = 0.5, 0.1  # crhelper's own margin, scaled down when short
PUT_MARGIN_S, PUT_MARGIN_SHARE = 0.2, 0.04


@dataclass(frozen=True)
class Deadlines:
    """Points on the time.monotonic() clock for one request."""

    work: float
    timer: float
    put: float

    @classmethod
    def starting_now(cls, remaining_s: float) -> "Deadlines":
        remaining_s = max(remaining_s, 0.0)
        end = time.monotonic() + remaining_s
        return cls(
            work=end - min(WORK_RESERVE_S, remaining_s * WORK_RESERVE_SHARE),
            timer=end - min(TIMER_MARGIN_S, remaining_s * TIMER_MARGIN_SHARE),
            put=end - min(PUT_MARGIN_S, remaining_s * PUT_MARGIN_SHARE),
        )

    @classmethod
    def for_context(cls, context: object) -> "Deadlines":
        return cls.starting_now(context.get_remaining_time_in_millis() / 1000)  # type: ignore[attr-defined]
