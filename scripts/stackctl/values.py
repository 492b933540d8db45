"""The values a deploy will really use, where each comes from, and the problems found in them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .template import TemplateFacts

GIVEN, PREVIOUS, DEFAULT, MISSING = "given", "previous", "default", "missing"
ORIGINS = {
    GIVEN: "",
    PREVIOUS: " (the stack's current value)",
    DEFAULT: " (the template's default)",
}


@dataclass(frozen=True)
class Problem:
    """One mistake, with the parameters it was judged on (they decide when it is certain)."""

    text: str
    names: tuple[str, ...] = ()
    variable: str = "PARAMS"  # what the user changes to fix it

    @property
    def line(self) -> str:
        return f"{self.variable}: {self.text}"


@dataclass
class Values:
    """PARAMS/PARAMS_FILE, else the stack's previous value, else the template's default.

    Before the stack is looked up `stack_known` is False and `previous` None: every value not
    given is the default, which is what a new stack would get.
    """

    facts: TemplateFacts
    given: dict[str, str]
    previous: dict[str, str] | None = None
    stack_known: bool = False
    kept: frozenset[str] = frozenset()  # PARAMS_FILE entries with UsePreviousValue
    today: dt.date | None = None  # the day window overlaps are searched from (None: today)
    invalid: set[str] = field(default_factory=set)  # names whose value CloudFormation refuses

    @classmethod
    def of_stack(cls, before: Values, stack: dict[str, Any] | None) -> Values:
        """The same request judged on a stack that exists (update) or does not (create)."""
        previous = (
            {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
            if stack is not None
            else None
        )
        return cls(
            before.facts,
            before.given,
            previous,
            stack_known=True,
            kept=before.kept,
            today=before.today,
            invalid=set(before.invalid),
        )

    @property
    def is_update(self) -> bool:
        return self.stack_known and self.previous is not None

    def source(self, name: str) -> str:
        if name in self.given:
            return GIVEN
        if self.previous is not None and name in self.previous:
            return PREVIOUS
        if "Default" in self.facts.parameters.get(name, {}):
            return DEFAULT
        return MISSING

    def get(self, name: str) -> str | None:
        """The value, or None when there is none (a parameter without default, not given)."""
        source = self.source(name)
        if source == GIVEN:
            return self.given[name]
        if source == PREVIOUS:
            return self.previous[name]
        if source == DEFAULT:
            return template_text(self.facts.parameters[name]["Default"])
        return None

    def shown(self, name: str) -> str:
        """`Name='value' (the stack's current value)`, for messages."""
        value = self.get(name)
        return f"{name}={value!r}{ORIGINS.get(self.source(name), '')}"

    def changed(self, name: str) -> bool | None:
        """Does this deploy change the parameter? None while the stack is not known yet."""
        if not self.stack_known:
            return None
        if self.previous is None or name not in self.previous:
            return False  # a new stack, or a parameter the stack did not have: nothing changes
        return self.get(name) != self.previous[name]

    def certain(self, problem: Problem) -> bool:
        """True once the stack is known, or when every value the problem read was given."""
        return self.stack_known or all(self.source(n) == GIVEN for n in problem.names)


def template_text(value: Any) -> str:
    """A template scalar as CloudFormation passes it on: booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(template_text(v) for v in value)
    return str(value)
