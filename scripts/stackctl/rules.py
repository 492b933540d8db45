"""The template's `Rules`, evaluated on the values a deploy will use, as CloudFormation does.

CloudFormation evaluates Rules when it creates a change set; judged here, a failed assertion is
found before any AWS call (or, for an update, before any change set) with its AssertDescription.
Rule functions: Fn::And, Fn::Or, Fn::Not, Fn::Equals, Fn::Contains, Fn::EachMemberEquals,
Fn::EachMemberIn and Ref to a parameter. Fn::ValueOf, Fn::ValueOfAll, Fn::RefAll and pseudo
parameters need AWS: an assertion that uses them is left to CloudFormation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .values import Problem, Values, template_text

UNKNOWN = object()  # a value only AWS knows (or a malformed rule): the assertion is not judged
LIST_TYPES = ("CommaDelimitedList", "List<")


def check(values: Values) -> list[Problem]:
    problems = []
    for rule_name, rule in values.facts.rules.items():
        read: set[str] = set()
        if "RuleCondition" in rule and evaluate(rule["RuleCondition"], values, read) is not True:
            continue  # the rule does not apply (or cannot be judged without AWS)
        for assertion in rule.get("Assertions") or []:
            if not isinstance(assertion, dict):
                continue
            names = set(read)
            if evaluate(assertion.get("Assert"), values, names) is False:
                text = " ".join(str(assertion.get("AssertDescription") or "").split())
                shown = " and ".join(values.shown(n) for n in sorted(names))
                problems.append(
                    Problem(
                        f"rule {rule_name}: {text or 'an assertion fails.'} Judged on {shown}.",
                        tuple(sorted(names)),
                    )
                )
    return problems


def evaluate(node: Any, values: Values, read: set[str]) -> Any:
    """The node's value: a string, a list, True/False, or UNKNOWN. `read` collects parameters."""
    if isinstance(node, dict):
        if len(node) != 1:
            return UNKNOWN
        ((function, argument),) = node.items()
        if function == "Ref":
            return reference(argument, values, read)
        handler = FUNCTIONS.get(function)
        return handler(argument, values, read) if handler else UNKNOWN
    if isinstance(node, list):
        items = [evaluate(item, values, read) for item in node]
        return UNKNOWN if any(item is UNKNOWN for item in items) else items
    if isinstance(node, (str, int, float, bool)):
        return template_text(node)
    return UNKNOWN


def reference(name: Any, values: Values, read: set[str]) -> Any:
    spec = values.facts.parameters.get(name) if isinstance(name, str) else None
    if spec is None:
        return UNKNOWN  # a pseudo parameter (AWS::Region, ...)
    read.add(name)
    value = values.get(name)
    if value is None:
        return UNKNOWN
    if str(spec.get("Type", "String")).startswith(LIST_TYPES):
        return [item.strip() for item in value.split(",")] if value else []
    return value


def _arguments(argument: Any, values: Values, read: set[str], count: int) -> list[Any] | None:
    if not isinstance(argument, list) or len(argument) != count:
        return None
    evaluated = [evaluate(item, values, read) for item in argument]
    return None if any(item is UNKNOWN for item in evaluated) else evaluated


def _condition(argument: Any, values: Values, read: set[str]) -> list[Any] | None:
    """The values of a list of conditions; None when one is not a boolean."""
    if not isinstance(argument, list):
        return None
    results = [evaluate(item, values, read) for item in argument]
    return results if all(isinstance(r, bool) or r is UNKNOWN for r in results) else None


def _junction(decisive: bool) -> Callable[[Any, Values, set[str]], Any]:
    """Fn::And (one False decides) or Fn::Or (one True decides), in three-valued logic."""

    def junction(argument, values, read):
        results = _condition(argument, values, read)
        if results is None:
            return UNKNOWN
        if decisive in results:
            return decisive
        return UNKNOWN if UNKNOWN in results else not decisive

    return junction


def _not(argument, values, read):
    results = _condition(argument, values, read)
    if results is None or len(results) != 1 or results[0] is UNKNOWN:
        return UNKNOWN
    return not results[0]


def _equals(argument, values, read):
    pair = _arguments(argument, values, read, 2)
    return UNKNOWN if pair is None else pair[0] == pair[1]


def _contains(argument, values, read):
    pair = _arguments(argument, values, read, 2)
    if pair is None or not isinstance(pair[0], list):
        return UNKNOWN
    return pair[1] in pair[0]


def _each_member_equals(argument, values, read):
    pair = _arguments(argument, values, read, 2)
    if pair is None or not isinstance(pair[0], list):
        return UNKNOWN
    return all(member == pair[1] for member in pair[0])


def _each_member_in(argument, values, read):
    pair = _arguments(argument, values, read, 2)
    if pair is None or not all(isinstance(p, list) for p in pair):
        return UNKNOWN
    return all(member in pair[1] for member in pair[0])


FUNCTIONS: dict[str, Callable[[Any, Values, set[str]], Any]] = {
    "Fn::And": _junction(decisive=False),
    "Fn::Or": _junction(decisive=True),
    "Fn::Not": _not,
    "Fn::Equals": _equals,
    "Fn::Contains": _contains,
    "Fn::EachMemberEquals": _each_member_equals,
    "Fn::EachMemberIn": _each_member_in,
}
