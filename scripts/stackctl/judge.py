"""Judging the values a deploy will really use, before any change set.

The same judgements run twice. First before any AWS call (no credentials needed), on PARAMS,
PARAMS_FILE and the template's defaults: a problem whose parameters all come from PARAMS or
PARAMS_FILE is certain; one that read a default holds only for a new stack, since an update
keeps the stack's current values, and is shown as such. Then, once the stack is looked up, on
the values CloudFormation will use (given, else the stack's previous value, else the default):
every problem is certain and stops the deploy before a change set is made.

A judgement is `def judgement(values: Values) -> list[Problem]`, each Problem naming the
parameters it read. VALUE_JUDGEMENTS judge single values; TEMPLATE_JUDGEMENTS judge what the
template makes of them and skip problems that involve a value already refused. One of them
judges what an update changes (secret_parameters: a parameter inside a GenerateSecretString that
nothing follows into the database): `values.changed(name)` is True/False on an update, None
before the stack is known, so it adds nothing to the first pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import rules, secret_parameters, windows
from .params import SET_BY_THE_SCRIPT, value_problems, what_it_is
from .values import MISSING, PREVIOUS, Problem, Values

Judgement = Callable[[Values], list[Problem]]


def required(values: Values) -> list[Problem]:
    """A parameter without default needs a value (an update has the stack's)."""
    return [
        Problem(
            f"{name} has no default: add {name}=... to PARAMS"
            + (f" ({described}" if (described := what_it_is(values.facts, name)) else "."),
            (name,),
        )
        for name in values.facts.parameters
        if values.source(name) == MISSING
        and name not in SET_BY_THE_SCRIPT
        and name not in values.kept
    ]


def kept_values(values: Values) -> list[Problem]:
    """CloudFormation checks the values an update keeps against the template as it is now."""
    problems = []
    for name, spec in values.facts.parameters.items():
        if values.source(name) != PREVIOUS or name in SET_BY_THE_SCRIPT:
            continue
        for problem in value_problems(name, values.get(name), spec):
            problems.append(
                Problem(
                    f"the stack's current value of {name} no longer passes the template: "
                    f"{problem} Give {name}=... in PARAMS.",
                    (name,),
                )
            )
    return problems


def kept_on_create(values: Values) -> list[Problem]:
    """UsePreviousValue (PARAMS_FILE) needs a stack that has a previous value."""
    if values.is_update:
        return [
            Problem(f"{name} has UsePreviousValue, but the stack has no value for it; give its "
                    "ParameterValue.", (name,), "PARAMS_FILE")
            for name in sorted(values.kept)
            if name not in values.previous
        ]  # fmt: skip
    return [
        Problem(
            f"{name} has UsePreviousValue, which only an update can use; a new stack needs its "
            "ParameterValue.",
            (name,),  # not given: certain only once the stack is known to be new
            "PARAMS_FILE",
        )
        for name in sorted(values.kept)
    ]


VALUE_JUDGEMENTS: tuple[Judgement, ...] = (required, kept_values, kept_on_create)
TEMPLATE_JUDGEMENTS: tuple[Judgement, ...] = (rules.check, windows.check, secret_parameters.check)


@dataclass
class Verdict:
    certain: list[str]
    if_new: list[str]  # found on defaults before the stack was known: hold for a new stack

    def pending(self, stack: str) -> str:
        """The findings that wait for the stack to be known, as lines to add to a message."""
        if not self.if_new:
            return ""
        lines = [
            f"If STACK={stack} is a new stack (AWS was not asked yet; an update keeps the stack's "
            "current values instead), also:"
        ]
        return "\n" + "\n".join(lines + [f"  {line}" for line in self.if_new])


def judge(values: Values) -> Verdict:
    verdict = Verdict([], [])
    found = [p for judgement in VALUE_JUDGEMENTS for p in judgement(values)]
    values.invalid.update(name for p in found for name in p.names)
    for judgement in TEMPLATE_JUDGEMENTS:
        found += [p for p in judgement(values) if not values.invalid & set(p.names)]
    for problem in found:
        (verdict.certain if values.certain(problem) else verdict.if_new).append(problem.line)
    return verdict
