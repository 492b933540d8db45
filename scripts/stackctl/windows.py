"""Rotation schedules and windows, judged on the values a deploy will use, as Secrets Manager does.

For each `AWS::SecretsManager::RotationSchedule` of the template: a schedule Secrets Manager
refuses, a window longer than the gap to the next one or running past midnight UTC; and for an
alternating-users rotation (`MasterSecretArn`) whose admin secret rotates in the same template,
windows that can be open at once: the application rotation would log in with an admin password
that is changing. The templates' Rules compare schedules only as text, and cfn-lint (ER802,
ER803, WR804) sees literals and defaults; this applies the lint rules' own logic to PARAMS and
the stack's previous values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import rotation_lint
from .values import Problem, Values

ROTATION_SCHEDULE = "AWS::SecretsManager::RotationSchedule"
SCHEDULE_FIX = (
    "write rate(<n> days), rate(<n> hours) with n >= 4, or cron(0 <hours> <day> <month> <weekday> "
    '*), for example "cron(0 4 ? * SUN *)"'
)


@dataclass(frozen=True)
class Setting:
    """One RotationRules value: its text (None when unset or beyond a Ref), whence, for messages."""

    text: str | None
    names: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class Window:
    logical_id: str
    schedule: Setting
    duration: Setting

    @property
    def names(self) -> tuple[str, ...]:
        return self.schedule.names + self.duration.names


def check(values: Values) -> list[Problem]:
    problems: list[Problem] = []
    valid: dict[str, Window] = {}
    for logical_id, properties in rotation_schedules(values):
        window = read_window(logical_id, properties, values)
        if window is None:
            continue
        problem = window_refused(window)
        if problem:
            problems.append(problem)
        else:
            valid[logical_id] = window
    for app_id, admin_id in admin_pairs(values):
        if app_id in valid and admin_id in valid:
            problems += overlap(valid[app_id], valid[admin_id], values)
    return problems


def rotation_schedules(values: Values) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, resource.get("Properties") or {})
        for logical_id, resource in values.facts.resources.items()
        if resource.get("Type") == ROTATION_SCHEDULE
        and isinstance(resource.get("Properties") or {}, dict)
    ]


def setting(node: Any, values: Values, label: str) -> Setting:
    """A literal, or a Ref to a parameter (read through `values`); anything else is not judged."""
    if isinstance(node, (str, int)) and not isinstance(node, bool):
        return Setting(str(node).strip(), (), f"{label} {str(node)!r}")
    name = node.get("Ref") if isinstance(node, dict) and len(node) == 1 else None
    if isinstance(name, str) and name in values.facts.parameters:
        value = values.get(name)
        return Setting(None if value is None else value.strip(), (name,), values.shown(name))
    return Setting(None, (), label)


def read_window(logical_id: str, properties: dict[str, Any], values: Values) -> Window | None:
    rules = properties.get("RotationRules")
    if not isinstance(rules, dict):
        return None
    where = f"{logical_id}'s RotationRules"
    schedule = setting(rules.get("ScheduleExpression"), values, f"{where} ScheduleExpression")
    if schedule.text is None and "AutomaticallyAfterDays" in rules:
        days = setting(rules["AutomaticallyAfterDays"], values, f"{where} AutomaticallyAfterDays")
        if days.text is not None:
            schedule = Setting(f"rate({days.text} days)", days.names, days.label)
    if schedule.text is None:
        return None
    duration = setting(rules.get("Duration"), values, f"{where} Duration")
    if "Duration" in rules and duration.text == "":
        duration = Setting(None, duration.names, duration.label)
    return Window(logical_id, schedule, duration)


def window_refused(window: Window) -> Problem | None:
    schedule, duration = window.schedule, window.duration
    problem = rotation_lint.schedule_problem(schedule.text)
    if problem is None:
        try:
            rotation_lint.parse_schedule(schedule.text)
        except ValueError as error:
            problem = str(error)
    if problem:
        return Problem(
            f"{schedule.label} is a rotation schedule Secrets Manager refuses: {problem}; "
            f"{SCHEDULE_FIX}.",
            schedule.names,
        )
    if duration.text is None:
        return None
    problem = rotation_lint.window_problem(duration.text, schedule.text)
    if problem:
        return Problem(
            f"{duration.label} is a rotation window Secrets Manager refuses with "
            f"{schedule.label}: {problem}; choose a shorter window or another schedule.",
            window.names,
        )
    return None


def admin_pairs(values: Values) -> list[tuple[str, str]]:
    """(alternating-users rotation, rotation of its admin secret), both in this template."""
    schedules = rotation_schedules(values)
    by_secret = {
        str(properties.get("SecretId")): logical_id
        for logical_id, properties in schedules
        if isinstance(properties.get("SecretId"), dict)
    }
    pairs = []
    for logical_id, properties in schedules:
        hosted = properties.get("HostedRotationLambda")
        master = hosted.get("MasterSecretArn") if isinstance(hosted, dict) else None
        admin = by_secret.get(str(master)) if isinstance(master, dict) else None
        if admin and admin != logical_id:
            pairs.append((logical_id, admin))
    return pairs


def overlap(app: Window, admin: Window, values: Values) -> list[Problem]:
    try:
        found = rotation_lint.rotation_windows_overlap(
            admin.schedule.text,
            admin.duration.text,
            app.schedule.text,
            app.duration.text,
            start=values.today,
        )
    except ValueError as error:
        names = admin.names + app.names
        return [Problem(f"a rotation schedule Secrets Manager refuses: {error}", names)]
    if not found:
        return []
    settings = " and ".join(
        s.label for s in (admin.schedule, admin.duration, app.schedule, app.duration) if s.names
    )
    choose = "/".join(admin.names + app.names) or "the schedules"
    return [
        Problem(
            f"the rotations {admin.logical_id} and {app.logical_id} can run at the same time: "
            f"{found}; {app.logical_id} logs in with the admin secret's password, which would be "
            f"changing ({settings}). Choose {choose} whose windows never meet.",
            admin.names + app.names,
        )
    ]
