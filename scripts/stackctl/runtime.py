"""What a command gets from outside: a clock and a way to reach AWS (tests pass their own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .aws import Aws
from .clock import Clock


@dataclass
class Runtime:
    clock: Clock = field(default_factory=Clock)
    connect: Callable[[str], Aws] = Aws.connect
