"""The rule pack's rotation-schedule logic, applied by make deploy to real parameter values.

The one place stackctl reaches into the rule pack, so that a deploy judges schedules and windows
with exactly the code the lint rules (E9802, E9803, W9804) apply to literals. The module is pure
standard library and is loaded from its file, so deploying does not import cfn-lint's rule
machinery. Once the pack is the installed package `cfn_lint_rotation`, this file becomes:

    from cfn_lint_rotation._rotation_lint._windows import (
        parse_schedule, rotation_windows_overlap, schedule_problem, window_problem)
"""

from __future__ import annotations

import importlib.util
import sys

from .template import REPO

WINDOWS_MODULE = REPO / "lint_rules" / "_rotation_lint" / "_windows.py"


def _load():
    spec = importlib.util.spec_from_file_location("_stackctl_rotation_windows", WINDOWS_MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


_windows = _load()
parse_schedule = _windows.parse_schedule
schedule_problem = _windows.schedule_problem
window_problem = _windows.window_problem
rotation_windows_overlap = _windows.rotation_windows_overlap

__all__ = ["parse_schedule", "rotation_windows_overlap", "schedule_problem", "window_problem"]
