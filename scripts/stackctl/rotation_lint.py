"""The rule pack's rotation-schedule logic, applied by make deploy to real parameter values.

The one place stackctl reaches into the rule pack, so that a deploy judges schedules and windows
with exactly the code the lint rules (ER802, ER803, WR804) apply to literals.
"""

from cfn_lint_rotation._rotation_lint._windows import (
    parse_schedule,
    rotation_windows_overlap,
    schedule_problem,
    window_problem,
)

__all__ = ["parse_schedule", "rotation_windows_overlap", "schedule_problem", "window_problem"]
