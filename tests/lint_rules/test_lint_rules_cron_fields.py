"""The cron and Duration reading behind WR804 and the schedule checks, field by field.

Each case is what Secrets Manager does with the expression (the user guide's "Schedule
expressions in Secrets Manager rotation"): which hours a window opens at, how long it stays open,
which days it runs, and which expressions it refuses.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cfn_lint_rotation._rotation_lint._windows import (
    cron_hours,
    parse_duration,
    parse_schedule,
    rotation_windows_overlap,
)


@pytest.mark.parametrize(
    ("field", "hours"),
    [
        ("*", list(range(24))),
        ("0", [0]),
        ("23", [23]),
        ("4/12", [4, 16]),  # a start and a step run to the end of the day
        ("*/6", [0, 6, 12, 18]),
        ("20-23/1", [20, 21, 22, 23]),  # a step of 1 is allowed
        ("1-3", [1, 2, 3]),
        ("1-7/3", [1, 4, 7]),
        ("9,1,3-4", [1, 3, 4, 9]),  # sorted, each hour once
        ("2,2", [2]),
        ("22-23", [22, 23]),
    ],
)
def test_cron_hours_a_window_opens_at(field, hours):
    assert cron_hours(field) == hours


@pytest.mark.parametrize("field", ["24", "-1", "5-3", "1-24", "*/0", "*/x", "1/", "", "1,", "MON"])
def test_cron_hours_refused(field):
    assert cron_hours(field) is None


@pytest.mark.parametrize(
    ("expression", "starts", "in_hours"),
    [
        ("rate(1 day)", (0,), False),
        ("rate(30 days)", (0,), False),
        ("rate(1 hour)", tuple(range(24)), True),
        ("rate(4 hours)", (0, 4, 8, 12, 16, 20), True),
        ("rate(24 hours)", (0,), True),
        ("rate(12 hours)", (0, 12), True),
        # 5 does not divide 24: the hours drift from day to day, so any hour can open one.
        ("rate(5 hours)", tuple(range(24)), True),
        ("rate(7 hours)", tuple(range(24)), True),
        ("cron(0 4 * * ? *)", (4,), False),  # one hour a day: a schedule in days
        ("cron(0 4,16 * * ? *)", (4, 16), True),  # more than one: a schedule in hours
        ("  cron(0 1 ? * SUN *)  ", (1,), False),
    ],
)
def test_schedule_window_starts(expression, starts, in_hours):
    schedule = parse_schedule(expression)
    assert (schedule.starts, schedule.in_hours) == (starts, in_hours)
    assert schedule.text == expression.strip()


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(0 days)", "rate(0 days): the rate must be at least 1"),
        ("rate(0 hours)", "rate(0 hours): the rate must be at least 1"),
        ("rate(1 week)", "is neither rate(<n> hours|days) nor cron(<6 fields>)"),
        ("rate(-1 days)", "is neither"),
        ("cron(0 4 * * ?)", "a cron expression is cron(0 <hours> <day> <month> <dow> *)"),
        ("cron(0 4 * * ? * *)", "a cron expression is cron(0"),
        ("cron(15 4 * * ? *)", "a cron expression is cron(0"),  # windows open on the hour
        ("cron(0 4 * * ? 2027)", "a cron expression is cron(0"),
        ("cron(0 25 * * ? *)", "hours field '25' is not 0-23 with , - * /"),
        ("cron(0 4 32 * ? *)", "day-of-month field '32' is not 1-31 with , - * ? / L"),
        ("cron(0 4 0 * ? *)", "day-of-month field '0'"),
        ("cron(0 4 * 13 ? *)", "month field '13' is not 1-12 or JAN-DEC"),
        ("cron(0 4 * 0 ? *)", "month field '0'"),
        ("cron(0 4 * JANUARY ? *)", "month field 'JANUARY'"),
        ("cron(0 4 ? * 8 *)", "day-of-week field '8' is not 1-7 or SUN-SAT with # , - * ? / L"),
        ("cron(0 4 ? * 0 *)", "day-of-week field '0'"),
        ("cron(0 4 ? * SUN#6 *)", "day-of-week field 'SUN#6'"),
        ("cron(0 4 ? * SUN#0 *)", "day-of-week field 'SUN#0'"),
        ("cron(0 4 ? * SUN# *)", "day-of-week field 'SUN#'"),
        ("cron(0 4 ? * 8#1 *)", "day-of-week field '8#1'"),
        ("cron(0 4 ? * 0#1 *)", "day-of-week field '0#1'"),
        ("cron(0 4 ? * 8L *)", "day-of-week field '8L'"),
        ("cron(0 4 ? * 0L *)", "day-of-week field '0L'"),
        ("cron(0 4 ? * XL *)", "day-of-week field 'XL'"),
        ("cron(0 4 1 * MON *)", "day-of-month and day-of-week are both set; one of them must be ?"),
    ],
)
def test_expressions_secrets_manager_refuses_say_which_field(expression, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_schedule(expression)


@pytest.mark.parametrize(
    ("duration", "hours"), [(None, None), ("1h", 1), ("24h", 24), (" 3h ", 3), ("12h", 12)]
)
def test_durations(duration, hours):
    assert parse_duration(duration) == hours


@pytest.mark.parametrize("duration", ["0h", "25h", "2", "2H", "h", "1.5h", "-1h", ""])
def test_durations_refused(duration):
    with pytest.raises(ValueError, match=r"is not <n>h with n from 1 to 24"):
        parse_duration(duration)


@pytest.mark.parametrize(
    ("expression", "duration", "windows"),
    [
        ("rate(1 day)", None, [(0, 24)]),  # days: open to the end of the UTC day
        ("rate(1 day)", "2h", [(0, 2)]),
        ("cron(0 4 * * ? *)", None, [(4, 24)]),
        ("cron(0 22 * * ? *)", "4h", [(22, 24)]),  # never into the next day
        ("rate(12 hours)", None, [(0, 1), (12, 13)]),  # hours: one hour each
        ("rate(12 hours)", "3h", [(0, 3), (12, 15)]),
        ("cron(0 4,16 * * ? *)", None, [(4, 5), (16, 17)]),
    ],
)
def test_windows_open_and_close(expression, duration, windows):
    assert parse_schedule(expression).windows(duration) == windows


# The days a cron runs, on real calendar days (2027 starts on a Friday; 2028 is a leap year).
@pytest.mark.parametrize(
    ("expression", "day", "runs"),
    [
        ("cron(0 1 * * ? *)", dt.date(2027, 6, 9), True),
        ("cron(0 1 ? * * *)", dt.date(2027, 6, 9), True),
        ("cron(0 1 9 * ? *)", dt.date(2027, 6, 9), True),
        ("cron(0 1 9 * ? *)", dt.date(2027, 6, 10), False),
        ("cron(0 1 1-10/3 * ? *)", dt.date(2027, 6, 7), True),
        ("cron(0 1 1-10/3 * ? *)", dt.date(2027, 6, 8), False),
        ("cron(0 1 L * ? *)", dt.date(2027, 2, 28), True),
        ("cron(0 1 L * ? *)", dt.date(2028, 2, 28), False),  # leap year: the 29th is last
        ("cron(0 1 L * ? *)", dt.date(2028, 2, 29), True),
        ("cron(0 1 L * ? *)", dt.date(2027, 4, 30), True),
        ("cron(0 1 L * ? *)", dt.date(2027, 5, 30), False),
        ("cron(0 1 15,L * ? *)", dt.date(2027, 5, 15), True),
        ("cron(0 1 15,L * ? *)", dt.date(2027, 5, 31), True),
        ("cron(0 1 15,L * ? *)", dt.date(2027, 5, 16), False),
        ("cron(0 1 L,15 * ? *)", dt.date(2027, 5, 15), True),  # L first in the list
        ("cron(0 1 31 * ? *)", dt.date(2027, 4, 30), False),
        ("cron(0 1 * JUN ? *)", dt.date(2027, 6, 9), True),
        ("cron(0 1 * JUN ? *)", dt.date(2027, 7, 9), False),
        ("cron(0 1 * jun-aug ? *)", dt.date(2027, 8, 31), True),
        ("cron(0 1 * 12 ? *)", dt.date(2027, 12, 1), True),
        ("cron(0 1 * 1/6 ? *)", dt.date(2027, 7, 1), True),  # January and July
        ("cron(0 1 * 1/6 ? *)", dt.date(2027, 6, 1), False),
        # Weekdays count 1 = Sunday to 7 = Saturday. 2027-06-06 is a Sunday.
        ("cron(0 1 ? * 1 *)", dt.date(2027, 6, 6), True),
        ("cron(0 1 ? * SUN *)", dt.date(2027, 6, 6), True),
        ("cron(0 1 ? * sun *)", dt.date(2027, 6, 6), True),
        ("cron(0 1 ? * SUN *)", dt.date(2027, 6, 7), False),
        ("cron(0 1 ? * 7 *)", dt.date(2027, 6, 12), True),
        ("cron(0 1 ? * SAT *)", dt.date(2027, 6, 12), True),
        ("cron(0 1 ? * L *)", dt.date(2027, 6, 12), True),  # L alone: Saturday
        ("cron(0 1 ? * L *)", dt.date(2027, 6, 11), False),
        ("cron(0 1 ? * MON-FRI *)", dt.date(2027, 6, 7), True),
        ("cron(0 1 ? * MON-FRI *)", dt.date(2027, 6, 11), True),
        ("cron(0 1 ? * MON-FRI *)", dt.date(2027, 6, 12), False),
        ("cron(0 1 ? * MON-FRI *)", dt.date(2027, 6, 6), False),
        ("cron(0 1 ? * 2,4 *)", dt.date(2027, 6, 9), True),  # Wednesday
        ("cron(0 1 ? * 2,4 *)", dt.date(2027, 6, 10), False),
        # The nth weekday: days 1-7 are the first, 8-14 the second... 2027-06-01 is a Tuesday.
        ("cron(0 1 ? * TUE#1 *)", dt.date(2027, 6, 1), True),
        ("cron(0 1 ? * TUE#1 *)", dt.date(2027, 6, 8), False),
        ("cron(0 1 ? * 3#2 *)", dt.date(2027, 6, 8), True),
        ("cron(0 1 ? * MON#1 *)", dt.date(2027, 6, 7), True),
        ("cron(0 1 ? * MON#1 *)", dt.date(2027, 6, 14), False),
        ("cron(0 1 ? * TUE#5 *)", dt.date(2027, 6, 29), True),
        ("cron(0 1 ? * TUE#4 *)", dt.date(2027, 6, 29), False),
        ("cron(0 1 ? * MON#1,FRI *)", dt.date(2027, 6, 4), True),  # a list mixes both
        ("cron(0 1 ? * MON#1,FRI *)", dt.date(2027, 6, 7), True),
        ("cron(0 1 ? * MON#1,FRI *)", dt.date(2027, 6, 8), False),
        # The last such weekday of the month: within 7 days of its end.
        ("cron(0 1 ? * 6L *)", dt.date(2027, 6, 25), True),
        ("cron(0 1 ? * 6L *)", dt.date(2027, 6, 18), False),
        ("cron(0 1 ? * FRIL *)", dt.date(2027, 2, 26), True),
        ("cron(0 1 ? * friL *)", dt.date(2027, 2, 26), True),
        ("cron(0 1 ? * THUL *)", dt.date(2027, 6, 24), True),  # 6 days before the 30th
        ("cron(0 1 ? * THUL *)", dt.date(2027, 6, 17), False),
        ("cron(0 1 ? * 1L *)", dt.date(2027, 6, 27), True),  # weekdays 1 and 7 are allowed
        ("cron(0 1 ? * 7L *)", dt.date(2027, 6, 26), True),
        ("cron(0 1 ? * 1#1 *)", dt.date(2027, 6, 6), True),
        ("cron(0 1 ? * 7#2 *)", dt.date(2027, 6, 12), True),
        ("cron(0 1 ? * 7#2 *)", dt.date(2027, 6, 5), False),
        ("cron(0 1 ? * 6L,MON *)", dt.date(2027, 6, 7), True),
        ("cron(0 1 ? * 6L,MON *)", dt.date(2027, 6, 8), False),
        ("cron(0 1 ? JUN 6L *)", dt.date(2027, 7, 30), False),  # months still apply
        ("cron(0 1 ? JUN SUN#1 *)", dt.date(2027, 7, 4), False),
        ("cron(0 1 ? JUN SUN *)", dt.date(2027, 7, 4), False),
        ("cron(0 1 L JUN ? *)", dt.date(2027, 7, 31), False),
    ],
)
def test_the_days_a_cron_runs(expression, day, runs):
    assert parse_schedule(expression).runs_on(day) is runs


def test_a_rate_runs_on_any_day():
    for expression in ("rate(1 day)", "rate(9 days)", "rate(6 hours)"):
        assert parse_schedule(expression).runs_on(dt.date(2027, 2, 28))


def test_days_that_never_come_never_meet():
    """February 30th does not exist: the whole 28-year cycle is searched, then None."""
    assert (
        rotation_windows_overlap(
            "cron(0 1 30 FEB ? *)", "2h", "rate(1 day)", None, start=dt.date(2027, 1, 1)
        )
        is None
    )


def test_the_first_common_day_can_be_many_years_ahead():
    """A Tuesday 29th of February is 2028's, then 2056's: found from a start after 2028."""
    found = rotation_windows_overlap(
        "cron(0 1 29 FEB ? *)", "2h", "cron(0 2 ? * TUE *)", "1h", start=dt.date(2028, 3, 1)
    )
    assert found.startswith("Tuesday 2056-02-29 from 02:00 to 03:00 UTC")


def test_the_earliest_shared_hours_are_reported_in_full():
    found = rotation_windows_overlap(
        "rate(12 hours)", "3h", "cron(0 2,13 * * ? *)", "2h", start=dt.date(2027, 6, 6)
    )
    assert found == (
        "Sunday 2027-06-06 from 02:00 to 03:00 UTC, "
        "when the window of rate(12 hours) with Duration 3h (00:00-03:00) and "
        "the window of cron(0 2,13 * * ? *) with Duration 2h (02:00-04:00) are both open"
    )


def test_a_rate_in_days_says_it_can_fall_on_any_day():
    found = rotation_windows_overlap(
        "rate(30 days)", None, "cron(0 4 ? * SUN *)", "2h", start=dt.date(2027, 6, 6)
    )
    assert found == (
        "Sunday 2027-06-06 from 04:00 to 06:00 UTC, "
        "when the window of rate(30 days) with no Duration (00:00-24:00, on any day: a rate in "
        "days counts from the previous rotation) and "
        "the window of cron(0 4 ? * SUN *) with Duration 2h (04:00-06:00) are both open"
    )


def test_windows_that_only_touch_do_not_meet():
    """01:00-03:00 closes as 03:00-05:00 opens."""
    assert (
        rotation_windows_overlap(
            "cron(0 1 * * ? *)", "2h", "cron(0 3 * * ? *)", "2h", start=dt.date(2027, 6, 6)
        )
        is None
    )


def test_the_tooling_call_takes_names_and_start_only_by_name():
    """`rotation_windows_overlap` is public for tooling: its arguments can be named, and `start`
    must be, so that a date is never taken for a Duration."""
    found = rotation_windows_overlap(
        schedule_a="rate(1 day)",
        duration_a="1h",
        schedule_b="rate(2 days)",
        duration_b=None,
        start=dt.date(2027, 6, 6),
    )
    assert found.startswith("Sunday 2027-06-06 from 00:00 to 01:00 UTC")
    with pytest.raises(TypeError):
        rotation_windows_overlap("rate(1 day)", None, "rate(2 days)", None, dt.date(2027, 6, 6))
