"""Asking the user, the way `sam deploy` and `cdk deploy` do: only on a terminal, never in CI."""

from __future__ import annotations

import os
import sys


def interactive() -> bool:
    """True when a person can answer: stdin is a terminal and this is not a CI job."""
    ci = os.environ.get("CI", "").strip().lower()
    return sys.stdin.isatty() and ci in ("", "0", "false", "no")


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; anything but 'y'/'yes' is no."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
