"""Rules for RotationRules: the schedule and the rotation window."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint import _facts
from .._rotation_lint._model import SECRET
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._windows import rotation_windows_overlap, schedule_problem, window_problem

TAGS = ["secretsmanager", "rotation", "schedule"]
MAX_AFTER_DAYS = 1000


def _rules(model):
    """(rotation, RotationRules map) for each schedule with rotation rules."""
    for rotation in model.rotations:
        rules = rotation.properties.get("RotationRules")
        if isinstance(rules, dict):
            yield rotation, rules


def _values(model, rules: dict, key: str):
    """(value, origin) for each value a RotationRules key can take by the template."""
    if key not in rules:
        return []
    origin = model.reader.origin(rules[key])
    return [(value, origin) for value in model.reader.scalar(rules[key]) or ()]


class DaysAndScheduleTogether(ModelRule, CloudFormationLintRule):
    id = "ER801"
    shortdesc = "RotationRules with both AutomaticallyAfterDays and ScheduleExpression"
    description = (
        "RotateSecret takes AutomaticallyAfterDays or ScheduleExpression, not both; the deploy "
        "fails with both."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation, rules in _rules(model):
            if "AutomaticallyAfterDays" in rules and "ScheduleExpression" in rules:
                yield finding(
                    rotation.path("RotationRules"),
                    "RotationRules sets both AutomaticallyAfterDays and ScheduleExpression, "
                    "which Secrets Manager refuses, so the deploy fails",
                    "keep ScheduleExpression (for example rate(30 days)) and remove "
                    "AutomaticallyAfterDays, or the reverse",
                )


class ScheduleExpressionInvalid(ModelRule, CloudFormationLintRule):
    id = "ER802"
    shortdesc = "Schedule Secrets Manager refuses"
    description = (
        "ScheduleExpression must be rate(<n> hours|days) with at least 4 hours and at most 999 "
        "days, or cron() with 6 fields, minutes 0 and year *; AutomaticallyAfterDays must be "
        "1 to 1000."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation, rules in _rules(model):
            for expression, origin in _values(model, rules, "ScheduleExpression"):
                problem = schedule_problem(expression.strip())
                if problem:
                    yield finding(
                        rotation.path("RotationRules", "ScheduleExpression"),
                        f"ScheduleExpression {expression!r}{origin} is refused by Secrets "
                        f"Manager: {problem}; the deploy fails",
                        "write rate(<n> days), rate(<n> hours) with n >= 4, or "
                        "cron(0 <hours> <day> <month> <weekday> *), for example "
                        "cron(0 4 ? * SUN *)",
                    )
            for days, origin in _values(model, rules, "AutomaticallyAfterDays"):
                if not days.isdecimal() or not 1 <= int(days) <= MAX_AFTER_DAYS:
                    yield finding(
                        rotation.path("RotationRules", "AutomaticallyAfterDays"),
                        f"AutomaticallyAfterDays {days}{origin} is outside 1 to "
                        f"{MAX_AFTER_DAYS}, so the deploy fails",
                        f"use a number of days from 1 to {MAX_AFTER_DAYS}",
                    )


class RotationWindowInvalid(ModelRule, CloudFormationLintRule):
    id = "ER803"
    shortdesc = "Rotation window (Duration) Secrets Manager refuses"
    description = (
        "Duration is the window length in hours, 1h to 24h; the window must end before the "
        "next one opens and before the end of the UTC day."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation, rules in _rules(model):
            expressions = [e for e, _ in _values(model, rules, "ScheduleExpression")] or [None]
            for duration, origin in _values(model, rules, "Duration"):
                for expression in expressions:
                    problem = window_problem(duration.strip(), expression)
                    if problem:
                        yield finding(
                            rotation.path("RotationRules", "Duration"),
                            f"Duration {duration!r}{origin} is refused by Secrets Manager: "
                            f"{problem}; the deploy fails",
                            "write the window as <hours>h, 1h to 24h, short enough to end "
                            "before the next window and the end of the UTC day",
                        )


def _schedules(model, rotation) -> list[tuple[str, str]]:
    """(schedule expression, origin) a rotation can run on, as a rate when in days only."""
    rules = rotation.properties.get("RotationRules")
    if not isinstance(rules, dict) or {"AutomaticallyAfterDays", "ScheduleExpression"} <= set(
        rules
    ):
        return []  # refused whole (ER801)
    found = [(e.strip(), o) for e, o in _values(model, rules, "ScheduleExpression")]
    found += [(f"rate({d} days)", o) for d, o in _values(model, rules, "AutomaticallyAfterDays")]
    return [(e, o) for e, o in found if not schedule_problem(e)]  # else ER802 reports it


def _durations(model, rotation, expression: str) -> list[tuple[str | None, str]]:
    rules = rotation.properties["RotationRules"]
    if "Duration" not in rules:
        return [(None, "")]
    found = [(d.strip(), o) for d, o in _values(model, rules, "Duration")]
    return [(d, o) for d, o in found if not window_problem(d, expression)]  # else ER803


def _windows(model, rotation):
    """(schedule, duration, origin text) of each window setting a rotation can take."""
    for expression, origin in _schedules(model, rotation):
        for duration, duration_origin in _durations(model, rotation, expression):
            yield expression, duration, origin + duration_origin


def _admin_rotations(model, rotation):
    """The schedules of the admin secret an alternating-users rotation logs in with."""
    admin = rotation.master.name if rotation.master else None
    if admin is None and rotation.secret is not None:
        document = model.document(rotation.secret)
        if document.kind == "json":
            admin = model.reader.resource_in(document.value.fields.get("masterarn"), SECRET)
    for other in model.rotations:
        if admin and other.secret is not None and other.secret.name == admin:
            shared = set(other.scenario) & set(rotation.scenario)
            if all(other.scenario[c] == rotation.scenario[c] for c in shared):
                yield other


class RotationWindowsOverlap(ModelRule, CloudFormationLintRule):
    id = "WR804"
    shortdesc = "Alternating-users rotation window can overlap the admin secret's"
    description = (
        "The alternating-users function logs in with the admin secret's current password; "
        "while the admin secret rotates, that password is changing, and an application "
        "rotation that runs then can fail. Both schedules are read for what they mean (rate, "
        "cron days, hours, Duration and its default), not compared as text."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation in model.rotations:
            family = model.family(rotation)
            if family is None or family[1] != _facts.MULTI_USER:
                continue
            for admin in _admin_rotations(model, rotation):
                found = self._first_overlap(model, rotation, admin)
                if found is None:
                    continue
                overlap, origin = found
                yield finding(
                    rotation.path("RotationRules"),
                    f"the rotation window of {rotation.secret.name if rotation.secret else ''} "
                    f"can overlap that of its admin secret {admin.secret.name}{origin}, for "
                    f"example on {overlap}; a rotation that runs while the admin password "
                    "changes cannot log in and fails",
                    "choose schedules whose windows never share an hour, for example the admin "
                    "secret cron(0 1 ? * SUN *) with Duration 2h and the application secret "
                    "cron(0 4 * * ? *) with Duration 2h (two rate() windows both open at "
                    "00:00 UTC)",
                )

    @staticmethod
    def _first_overlap(model, rotation, admin):
        for schedule, duration, origin in _windows(model, rotation):
            for admin_schedule, admin_duration, admin_origin in _windows(model, admin):
                overlap = rotation_windows_overlap(
                    schedule, duration, admin_schedule, admin_duration
                )
                if overlap:
                    return overlap, origin + admin_origin
        return None
