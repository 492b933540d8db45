"""Which schedules and windows Secrets Manager refuses, when windows are open, and whether two
schedules' windows can meet.

Pure functions over the strings RotationRules holds (ScheduleExpression, Duration), for the
lint rules (on literals and defaults) and for tooling that checks real parameter values (make
deploy): `schedule_problem`, `window_problem` and `rotation_windows_overlap`. The semantics,
from the Secrets Manager user guide ("Schedule expressions in Secrets Manager rotation") and
the API reference (RotationRulesType):

- Times are UTC. Windows open on the hour. Secrets Manager rotates at any time in the window.
- `rate(N days)`: the window opens at 00:00. The day counts from the previous rotation, so
  seen from a template it can fall on any day.
- `rate(N hours)`: a window opens at 00:00 and every N hours after it. When N does not divide 24
  the hours drift from day to day, so a window can open at any hour.
- `cron(0 H DOM MONTH DOW *)`: a window opens at each hour H on each day the other fields
  select; an hours list or step (`4/12`) starts again each day.
- Duration `<n>h`, 1 to 24. Without it a schedule in hours (a rate in hours, or a cron with more
  than one hour a day) has a one-hour window; a schedule in days has a window that closes at the
  end of the UTC day. A window never runs into the next UTC day (RotateSecret refuses it), so
  windows of two schedules can only meet on the same day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from dataclasses import dataclass

HOURS_A_DAY = 24
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # cron numbers them 1-7
RATE = re.compile(r"^rate\((\d+) (hours?|days?)\)$")
CRON = re.compile(r"^cron\((.*)\)$")
DURATION = re.compile(r"^(\d+)h$")
MIN_HOURS, MAX_DAYS = 4, 999
# Weekdays and month lengths repeat every 28 years (within 1901-2099): every combination a
# cron day can depend on occurs within that many days of any start.
_CYCLE_DAYS = 28 * 366


def cron_hours(field: str) -> list[int] | None:
    """The hours a cron hours field opens a window at, or None when malformed."""
    found: set[int] = set()
    for part in field.split(","):
        values = _range(part, 0, 23, {})
        if values is None:
            return None
        found.update(values)
    return sorted(found)


def _range(part: str, low: int, high: int, names: dict[str, int]) -> range | None:
    """The values of one cron list item: `*`, `n`, `a-b`, each with an optional `/step`."""
    base, slash, step = part.partition("/")
    if slash and not (step.isdecimal() and int(step) > 0):
        return None
    if base == "*":
        first, last = low, high
    elif "-" in base:
        first_text, _, last_text = base.partition("-")
        first, last = _number(first_text, names), _number(last_text, names)
    else:
        first = _number(base, names)
        last = high if step else first
    if first is None or last is None or not low <= first <= last <= high:
        return None
    return range(first, last + 1, int(step) if step else 1)


def _number(text: str, names: dict[str, int]) -> int | None:
    if text.isdecimal():
        return int(text)
    return names.get(text.upper())


@dataclass(frozen=True)
class _Days:
    """The days a cron expression's day-of-month, month and day-of-week fields select."""

    months: frozenset[int]
    month_days: frozenset[int] | None  # None: any day of the month
    last_of_month: bool
    weekdays: frozenset[int] | None  # cron numbering, 1 = Sunday; None: any weekday
    nth_weekdays: frozenset[tuple[int, int]]  # (weekday, n): the nth such weekday
    last_weekdays: frozenset[int]  # the last such weekday of the month

    def select(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        length = calendar.monthrange(day.year, day.month)[1]
        if self.month_days is not None or self.last_of_month:
            in_month = self.month_days is not None and day.day in self.month_days
            if not (in_month or (self.last_of_month and day.day == length)):
                return False
        if self.weekdays is None and not self.nth_weekdays and not self.last_weekdays:
            return True
        weekday = (day.weekday() + 1) % 7 + 1
        return (
            (self.weekdays is not None and weekday in self.weekdays)
            or (weekday, (day.day - 1) // 7 + 1) in self.nth_weekdays
            or (weekday in self.last_weekdays and day.day + 7 > length)
        )


def _days(day_field: str, month_field: str, weekday_field: str) -> _Days:
    month_names = {name: index for index, name in enumerate(MONTHS, 1)}
    months: set[int] = set()
    for part in month_field.split(","):
        values = _range(part, 1, 12, month_names)
        if values is None:
            raise ValueError(f"month field {month_field!r} is not 1-12 or JAN-DEC")
        months.update(values)
    open_day, open_weekday = day_field in ("*", "?"), weekday_field in ("*", "?")
    if not open_day and not open_weekday:
        raise ValueError("day-of-month and day-of-week are both set; one of them must be ?")
    month_days: set[int] | None = None if open_day else set()
    last_of_month = False
    for part in [] if open_day else day_field.split(","):
        if part == "L":
            last_of_month = True
            continue
        values = _range(part, 1, 31, {})
        if values is None:
            raise ValueError(f"day-of-month field {day_field!r} is not 1-31 with , - * ? / L")
        month_days.update(values)
    weekdays, nth, last = _weekdays(weekday_field) if not open_weekday else (None, set(), set())
    return _Days(
        frozenset(months),
        None if month_days is None else frozenset(month_days),
        last_of_month,
        weekdays,
        frozenset(nth),
        frozenset(last),
    )


def _weekdays(field: str):
    names = {name: index for index, name in enumerate(WEEKDAYS, 1)}
    weekdays: set[int] = set()
    nth: set[tuple[int, int]] = set()
    last: set[int] = set()
    wrong = ValueError(f"day-of-week field {field!r} is not 1-7 or SUN-SAT with # , - * ? / L")
    for part in field.split(","):
        if part == "L":
            weekdays.add(7)  # the last day of the week: Saturday
        elif part.upper().endswith("L"):
            weekday = _number(part[:-1], names)
            if weekday is None or not 1 <= weekday <= 7:
                raise wrong
            last.add(weekday)
        elif "#" in part:
            day_text, _, n_text = part.partition("#")
            weekday = _number(day_text, names)
            if weekday is None or not 1 <= weekday <= 7 or n_text not in "12345" or not n_text:
                raise wrong
            nth.add((weekday, int(n_text)))
        else:
            values = _range(part, 1, 7, names)
            if values is None:
                raise wrong
            weekdays.update(values)
    return (weekdays or None) if not (nth or last) else weekdays, nth, last


@dataclass(frozen=True)
class Schedule:
    """A parsed ScheduleExpression: the hours its windows open and the days it runs."""

    text: str
    starts: tuple[int, ...]
    in_hours: bool  # a schedule in hours: one-hour default window
    days: _Days | None  # None: any day (a rate; for rate(N days) the day is not fixed)

    def windows(self, duration: str | None) -> list[tuple[int, int]]:
        """(opens, closes) hours of each window on a day the schedule runs."""
        hours = parse_duration(duration)
        if hours is None:
            hours = 1 if self.in_hours else HOURS_A_DAY
        return [(start, min(start + hours, HOURS_A_DAY)) for start in self.starts]

    def runs_on(self, day: dt.date) -> bool:
        return self.days is None or self.days.select(day)


def parse_schedule(expression: str) -> Schedule:
    """A ScheduleExpression as Secrets Manager reads it; ValueError when it refuses it."""
    text = expression.strip()
    rate = RATE.match(text)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1:
            raise ValueError(f"{text}: the rate must be at least 1")
        if unit.startswith("day"):
            return Schedule(text, (0,), in_hours=False, days=None)
        if HOURS_A_DAY % count:
            return Schedule(text, tuple(range(HOURS_A_DAY)), in_hours=True, days=None)
        return Schedule(text, tuple(range(0, HOURS_A_DAY, count)), in_hours=True, days=None)
    cron = CRON.match(text)
    if not cron:
        raise ValueError(f"{text!r} is neither rate(<n> hours|days) nor cron(<6 fields>)")
    fields = cron.group(1).split()
    if len(fields) != 6 or fields[0] != "0" or fields[5] != "*":
        raise ValueError(f"{text!r}: a cron expression is cron(0 <hours> <day> <month> <dow> *)")
    starts = cron_hours(fields[1])
    if not starts:
        raise ValueError(f"{text!r}: hours field {fields[1]!r} is not 0-23 with , - * /")
    return Schedule(text, tuple(starts), len(starts) > 1, _days(*fields[2:5]))


def parse_duration(duration: str | None) -> int | None:
    """Hours of a Duration (`<n>h`, 1 to 24); None for no Duration; ValueError otherwise."""
    if duration is None:
        return None
    match = DURATION.match(duration.strip())
    if not match or not 1 <= int(match.group(1)) <= HOURS_A_DAY:
        raise ValueError(f"Duration {duration!r} is not <n>h with n from 1 to 24")
    return int(match.group(1))


def rotation_windows_overlap(
    schedule_a: str,
    duration_a: str | None,
    schedule_b: str,
    duration_b: str | None,
    *,
    start: dt.date | None = None,
) -> str | None:
    """The first time both rotation windows can be open, described; None when they never are.

    `duration_*` is the Duration string (`"2h"`) or None when RotationRules has none. The
    search starts on `start` (default: today, UTC). Raises ValueError for an expression or a
    Duration Secrets Manager refuses.
    """
    first, second = parse_schedule(schedule_a), parse_schedule(schedule_b)
    shared = _shared_hours(first.windows(duration_a), second.windows(duration_b))
    if shared is None:
        return None
    day = start or dt.datetime.now(dt.UTC).date()
    for _ in range(_CYCLE_DAYS):
        if first.runs_on(day) and second.runs_on(day):
            (opens, closes), window_a, window_b = shared
            return (
                f"{day:%A} {day.isoformat()} from {opens:02d}:00 to {closes:02d}:00 UTC, "
                f"when {_window(first, duration_a, window_a)} and "
                f"{_window(second, duration_b, window_b)} are both open"
            )
        day += dt.timedelta(days=1)
    return None


def _shared_hours(first, second):
    """((from, to), window a, window b) of the earliest hours two lists of windows share."""
    common = [
        ((max(a[0], b[0]), min(a[1], b[1])), a, b)
        for a in first
        for b in second
        if max(a[0], b[0]) < min(a[1], b[1])
    ]
    return min(common) if common else None


def _window(schedule: Schedule, duration: str | None, window: tuple[int, int]) -> str:
    length = f"Duration {duration}" if duration else "no Duration"
    text = f"the window of {schedule.text} with {length} ({window[0]:02d}:00-{window[1]:02d}:00"
    if schedule.days is None and not schedule.in_hours:
        text += ", on any day: a rate in days counts from the previous rotation"
    return text + ")"


def schedule_problem(expression: str) -> str | None:
    """Why Secrets Manager refuses a schedule expression, or None when it accepts it."""
    rate = RATE.match(expression)
    if rate:
        return _rate_problem(int(rate.group(1)), rate.group(2))
    cron = CRON.match(expression)
    if not cron:
        return "it is neither rate(<n> hours|days) nor cron(<6 fields>)"
    return _cron_problem(cron.group(1).split())


def _rate_problem(count: int, unit: str) -> str | None:
    if unit.startswith("hour") and count < MIN_HOURS:
        return f"rotation can be at most every {MIN_HOURS} hours"
    if unit.startswith("day") and not 1 <= count <= MAX_DAYS:
        return f"a rate in days must be 1 to {MAX_DAYS}"
    return None


def _cron_problem(fields: list[str]) -> str | None:
    if len(fields) != 6:
        return f"a cron expression has 6 fields, this one {len(fields)}"
    minutes, hours, day, month, weekday, year = fields
    if minutes != "0":
        return "the minutes field must be 0 (rotation windows open on the hour)"
    if year != "*":
        return "the year field must be *"
    return _hours_problem(hours) or _day_problem(day, month, weekday)


def _hours_problem(hours: str) -> str | None:
    starts = cron_hours(hours)
    if starts is None:
        return f"hours field {hours!r} is not 0-23 with , - * /"
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    if gaps and min(gaps) < MIN_HOURS:
        return f"hours {hours!r} rotate more often than every {MIN_HOURS} hours"
    return None


def _day_problem(day: str, month: str, weekday: str) -> str | None:
    if not re.fullmatch(r"[0-9,\-*/?LW]+", day):
        return f"day-of-month field {day!r} is not 1-31 with , - * ? / L"
    month_words = "|".join(MONTHS)
    if not re.fullmatch(rf"([0-9]+|{month_words}|[,\-*/])+", month.upper()):
        return f"month field {month!r} is not 1-12 or JAN-DEC with , - * /"
    day_words = "|".join(WEEKDAYS)
    if not re.fullmatch(rf"([0-9]+|{day_words}|[#,\-*/?L])+", weekday.upper()):
        return f"day-of-week field {weekday!r} is not 1-7 or SUN-SAT with # , - * ? / L"
    if day not in ("*", "?") and weekday not in ("*", "?"):
        return "day-of-month and day-of-week are both set; one of them must be ?"
    return None


def window_problem(duration: str, expression: str | None) -> str | None:
    """Why Secrets Manager refuses a Duration with this schedule (None: no schedule), or None."""
    match = DURATION.match(duration)
    if not match or not 1 <= int(match.group(1)) <= 24:
        return "it must be 1h to 24h"
    if expression is None or schedule_problem(expression):
        return None
    hours = int(match.group(1))
    rate = RATE.match(expression)
    if rate:
        every = int(rate.group(1)) if rate.group(2).startswith("hour") else 24
        return f"it is longer than the {every} hours between rotations" if hours > every else None
    starts = cron_hours(CRON.match(expression).group(1).split()[1]) or []
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    if gaps and hours > min(gaps):
        return f"it is longer than the {min(gaps)} hours between two windows"
    if starts and starts[-1] + hours > 24:
        return f"a window opening at {starts[-1]}:00 would run into the next UTC day"
    return None
