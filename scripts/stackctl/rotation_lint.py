"""The rule pack's rotation-schedule logic, applied by make deploy to real parameter values.

The one place stackctl reaches into the rule pack, so that a deploy judges schedules and windows
with exactly the code the lint rules (ER802, ER803, WR804) apply to literals.

Imported on first use (PEP 562): the pack's package imports cfn-lint (about 0.6 s of CPU), which
every stackctl command would otherwise pay at start, even one that judges no rotation window.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfn_lint_rotation._rotation_lint._windows import (
        parse_schedule,
        rotation_windows_overlap,
        schedule_problem,
        window_problem,
    )

__all__ = ["parse_schedule", "rotation_windows_overlap", "schedule_problem", "window_problem"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    windows = importlib.import_module("cfn_lint_rotation._rotation_lint._windows")
    value = getattr(windows, name)
    globals()[name] = value
    return value
