"""How a request's remaining time is shared out: the function's work stops first, then the
timer answers, then the response PUT gives up, all before Lambda's timeout, for any budget; and
the monotonic clock the functions use in Lambda."""

import threading
import time

import pytest
from cfn_one_shot.time_budget import MONOTONIC, Deadlines

from .local_endpoints import LambdaContext
from .virtual_clock import VirtualClock


def reserves(remaining_s: float) -> tuple[float, float, float]:
    """(work, timer, put) as seconds before the end of the budget."""
    clock = VirtualClock()
    end = clock.now() + remaining_s
    deadlines = Deadlines.starting_now(remaining_s, clock)
    return tuple(
        round(end - point, 9) for point in (deadlines.work, deadlines.timer, deadlines.put)
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
    clock = VirtualClock()
    deadlines = Deadlines.starting_now(-3.0, clock)
    assert max(deadlines.work, deadlines.timer, deadlines.put) <= clock.now()
    assert deadlines.left(deadlines.put) <= 0


def test_lambda_s_remaining_milliseconds_are_read_as_seconds():
    clock = VirtualClock()
    context = LambdaContext(60.0, clock)

    deadlines = Deadlines.for_context(context, clock)

    assert deadlines.timer == pytest.approx(context.deadline - 0.5)
    assert deadlines.left(deadlines.work) == pytest.approx(50.0)
    assert deadlines.clock is clock


def test_the_monotonic_clock_reads_time_monotonic_and_never_sleeps_a_negative_time():
    before = time.monotonic()
    assert before <= MONOTONIC.now() <= time.monotonic()
    MONOTONIC.sleep(-1.0)  # time.sleep(-1) would raise ValueError


def test_the_monotonic_clock_s_timer_runs_in_a_daemon_thread_and_can_be_cancelled():
    ran = threading.Event()

    fired = MONOTONIC.call_at(MONOTONIC.now() - 1.0, ran.set)  # already due: runs at once
    cancelled = MONOTONIC.call_at(MONOTONIC.now() + 3600, ran.clear)
    cancelled.cancel()

    assert ran.wait(60)  # a hang guard, not a speed bound
    assert fired.daemon
    assert cancelled.daemon
    cancelled.join(60)
    assert ran.is_set()  # the cancelled one never ran


def test_the_monotonic_clock_s_wait_returns_at_once_when_set_or_past_its_end():
    answered, never = threading.Event(), threading.Event()
    answered.set()

    assert MONOTONIC.wait(answered, MONOTONIC.now() + 3600)  # set: no waiting for the end
    assert not MONOTONIC.wait(never, MONOTONIC.now() - 1.0)  # an end that has passed
