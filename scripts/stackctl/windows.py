"""Refuse rotation windows that can overlap, judged on the values this deploy will use.

The alternating-users rotation logs in with the admin secret; were the admin password rotating at
that moment, it would fail. The templates' Rule can only compare the two schedules as text, and
cfn-lint (WR804) sees only defaults, so the real values are judged here, before any change.
"""

from __future__ import annotations

from typing import Any

from .errors import UsageError
from .template import TemplateFacts

ADMIN = ("AdminRotationSchedule", "AdminRotationWindow")
APP = ("AppRotationSchedule", "AppRotationWindow")


def effective_values(
    facts: TemplateFacts, overrides: dict[str, str], stack: dict[str, Any] | None
) -> dict[str, str]:
    """What each parameter will be: PARAMS, else the stack's previous value, else the default."""
    previous = {
        p["ParameterKey"]: p.get("ParameterValue", "") for p in (stack or {}).get("Parameters", [])
    }
    values = {}
    for name, spec in facts.parameters.items():
        if name in overrides:
            values[name] = overrides[name]
        elif name in previous:
            values[name] = previous[name]
        elif "Default" in spec:
            values[name] = str(spec["Default"])
    return values


def check(facts: TemplateFacts, overrides: dict[str, str], stack: dict[str, Any] | None) -> None:
    """UsageError when the admin and application rotation windows can be open at once."""
    names = (*ADMIN, *APP)
    if not all(name in facts.parameters for name in names):
        return  # one rotation only: nothing can collide
    values = effective_values(facts, overrides, stack)
    if not all(name in values for name in names):
        return
    admin_schedule, admin_window, app_schedule, app_window = (values[n] for n in names)
    # Imported here: the rule pack brings cfn-lint's rule machinery, which only this check needs.
    from cfn_lint_rotation import rotation_windows_overlap  # noqa: PLC0415

    try:
        overlap = rotation_windows_overlap(
            admin_schedule, admin_window or None, app_schedule, app_window or None
        )
    except ValueError as error:  # the parameters' patterns let through what Secrets Manager won't
        raise UsageError(f"PARAMS: a rotation schedule Secrets Manager refuses: {error}") from None
    if overlap:
        raise UsageError(
            f"PARAMS: the admin and the application rotation can run at the same time: {overlap}; "
            "the application rotation would then log in with an admin password that is changing. "
            "Choose AdminRotationSchedule/AppRotationSchedule (or their windows) that never meet."
        )
