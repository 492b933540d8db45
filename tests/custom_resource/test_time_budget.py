"""How a request's remaining time is shared out: the function's work stops first, then crhelper's
timer answers, then the response PUT gives up, all before Lambda's timeout, for any budget."""

import time

import pytest
from cfn_one_shot.time_budget import Deadlines

from .local_endpoints import LambdaContext


def reserves(remaining_s: float) -> tuple[float, float, float]:
    """(work, timer, put) as seconds before the end of the budget."""
    before = time.monotonic()
    deadlines = Deadlines.starting_now(remaining_s)
    after = time.monotonic()
    # The end lies between before + remaining and after + remaining; the reserves are exact
    # to within that window.
    end = (before + after) / 2 + remaining_s
    return tuple(
        round(end - point, 3) for point in (deadlines.work, deadlines.timer, deadlines.put)
    )


def test_the_template_s_60_second_timeout_reserves_10_then_half_then_a_fifth_of_a_second():
    assert reserves(60.0) == (10.0, 0.5, 0.2)


def test_a_short_budget_shrinks_each_reserve_in_proportion():
    assert reserves(2.0) == (0.5, 0.2, 0.08)


@pytest.mark.parametrize("remaining_s", [0.05, 0.3, 1.0, 4.9, 5.0, 20.0, 40.0, 41.0, 900.0])
def test_work_stops_before_the_timer_which_fires_before_the_put_gives_up(remaining_s):
    work, timer, put = reserves(remaining_s)
    assert remaining_s >= work > timer > put > 0


def test_no_time_left_gives_deadlines_that_have_passed():
    deadlines = Deadlines.starting_now(-3.0)
    now = time.monotonic()
    assert max(deadlines.work, deadlines.timer, deadlines.put) <= now


def test_lambda_s_remaining_milliseconds_are_read_as_seconds():
    context = LambdaContext(60.0)

    deadlines = Deadlines.for_context(context)

    # The timer fires 0.5 s before the end Lambda gives (to the millisecond the context rounds to).
    assert context.deadline - 0.5 - 0.002 <= deadlines.timer <= context.deadline - 0.5
