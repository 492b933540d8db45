"""PARAMS: parsed with shell quoting and checked against the template's Parameters.

Every mistake becomes one line that names the fix, before any AWS call, so a typo costs a second
instead of a 20-minute deploy. The checks are CloudFormation's own: AllowedValues, AllowedPattern
(which must match the whole value), Min/MaxLength, Min/MaxValue and the Number type.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
from typing import Any

from .errors import UsageError
from .template import CODE_BUCKET_PARAM, CODE_KEY_PARAMS, REPO, TemplateFacts, read_template

# A value that itself holds ",Name=" is almost always two pairs joined by a comma.
SECOND_PAIR = re.compile(r",\s*([A-Za-z][A-Za-z0-9]*)=")
LINE_CONTINUATION = re.compile(r"\\\r?\n")
SET_BY_THE_SCRIPT = {
    CODE_BUCKET_PARAM: "BUCKET=",
    **dict.fromkeys(CODE_KEY_PARAMS, "BUCKET= (the key is the zip's content hash)"),
}


def quoting_example(facts: TemplateFacts | None) -> str:
    """PARAMS='Schedule="rate(30 days)" Other=value' with parameters this template has."""
    names = facts.parameters if facts else {}
    schedule = next((n for n in names if n.endswith("RotationSchedule")), None)
    other = next((n for n in ("AppUsername", "LogRetentionInDays") if n in names), None)
    if schedule is None:
        return "PARAMS='Name=\"a value with spaces\" Other=value'"
    example = {"AppUsername": "webuser", "LogRetentionInDays": "30"}
    return f'PARAMS=\'{schedule}="rate(30 days)"' + (
        f" {other}={example[other]}'" if other else "'"
    )


def split_pairs(
    text: str, variable: str = "PARAMS", example: str = ""
) -> tuple[list[tuple[str, str]], list[str]]:
    """'A=1 B="two words"' -> [('A', '1'), ('B', 'two words')] and the problems; shell quoting."""
    example = example or quoting_example(None)
    # A backslash at the end of a line inside PARAMS='...' reaches here as written: read it as
    # the line continuation it was meant to be, not as a word of its own.
    text = LINE_CONTINUATION.sub(" ", text or "")
    try:
        items = shlex.split(text)
    except ValueError as error:  # "No closing quotation", "No escaped character"
        return [], [
            f"{variable}: cannot be read ({str(error).lower()}): close every quote. "
            f"Quote a value with spaces like this: {example}"
        ]
    pairs, problems = [], []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            problems.append(
                f"{variable}: '{item}' is not Key=Value"
                + (" (the key is missing)" if sep else "")
                + f". For example: {example}"
            )
            continue
        pairs.append((key, value))
    return pairs, problems


def describe_allowed(spec: dict[str, Any]) -> str:
    constraint = str(spec.get("ConstraintDescription") or "").strip().rstrip(".")
    return f" ({constraint})" if constraint else ""


def number(value: str) -> float | None:
    try:
        result = float(value)
    except ValueError:
        return None
    return result if math.isfinite(result) else None


def list_problems(name: str, value: str, spec: dict[str, Any], kind: str) -> list[str]:
    """CommaDelimitedList and List<...>: CloudFormation splits the value at commas, trims each
    item and applies AllowedPattern and AllowedValues (and, for List<Number>, the type) to each."""
    if not value.strip():
        return []
    element = kind[len("List<") : -1] if kind.startswith("List<") else "String"
    per_item = {k: v for k, v in spec.items() if k not in ("MinLength", "MaxLength")}
    per_item["Type"] = element
    problems = []
    for index, item in enumerate((part.strip() for part in value.split(",")), start=1):
        label = f"{name} item {index}"
        if not item and element != "String":
            problems.append(
                f"{label} is empty; remove the extra comma ({name}={value!r}: items are "
                "separated by single commas)."
            )
            continue
        problems += value_problems(label, item, per_item)
    return problems


def value_problems(name: str, value: str, spec: dict[str, Any]) -> list[str]:
    """What CloudFormation would refuse about this value, each with the fix."""
    kind = str(spec.get("Type", "String"))
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        return list_problems(name, value, spec, kind)
    problems: list[str] = []
    if kind == "Number":
        parsed = number(value)
        if parsed is None:
            return [f"{name}={value!r} is not a number{describe_allowed(spec)}."]
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if low is not None and parsed < float(low):
            problems.append(f"{name}={value} is below the minimum {low}{describe_allowed(spec)}.")
        if high is not None and parsed > float(high):
            problems.append(f"{name}={value} is above the maximum {high}{describe_allowed(spec)}.")
    allowed = spec.get("AllowedValues")
    if allowed is not None and not is_allowed(value, allowed, kind):
        choices = ", ".join(str(a) for a in allowed)
        problems.append(
            f"{name}={value!r} is not allowed; use one of: {choices}."
            + suggestion(name, value, [str(a) for a in allowed], kind)
        )
    if kind == "String" or kind.startswith("AWS::"):
        problems += string_problems(name, value, spec)
    return problems


def suggestion(name: str, value: str, allowed: list[str], kind: str) -> str:
    """' Did you mean ...?': the nearest numbers for a number (a text match would turn 3 into
    32), the closest spelling for a text."""
    parsed = number(value) if kind == "Number" else None
    if parsed is not None:
        numbers = sorted((number(a), a) for a in allowed if number(a) is not None)
        below = [text for n, text in numbers if n < parsed][-1:]
        above = [text for n, text in numbers if n > parsed][:1]
        nearest = " or ".join(f"{name}={text}" for text in below + above)
        return f" The nearest: {nearest}." if nearest else ""
    hint = difflib.get_close_matches(value, allowed, n=1)
    return f" Did you mean {name}={hint[0]}?" if hint else ""


def is_allowed(value: str, allowed: list[Any], kind: str) -> bool:
    texts = {str(a) for a in allowed}
    if kind == "Number":
        parsed = number(value)
        return parsed is not None and any(number(t) == parsed for t in texts)
    return value in texts


def string_problems(name: str, value: str, spec: dict[str, Any]) -> list[str]:
    problems = []
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), value) is None:
        problems.append(
            f"{name}={value!r} does not match the parameter's AllowedPattern"
            f"{describe_allowed(spec) or ' ' + str(pattern)}."
        )
    low, high = spec.get("MinLength"), spec.get("MaxLength")
    if low is not None and len(value) < int(low):
        problems.append(f"{name} needs at least {low} characters{describe_allowed(spec)}.")
    if high is not None and len(value) > int(high):
        problems.append(
            f"{name} has {len(value)} characters, at most {high} are allowed"
            f"{describe_allowed(spec)}."
        )
    return problems


def other_templates_with(name: str, facts: TemplateFacts) -> list[str]:
    """Templates of this repository that do have the parameter (a multi-user one, say)."""
    found = []
    for path in sorted((REPO / "templates").glob("*.yaml")):
        # Read as templates: a plain text search also found Outputs of the same name.
        if path.resolve() != facts.path.resolve() and name in read_template(str(path)).parameters:
            found.append(path.name)
    return found


def unknown_name(name: str, facts: TemplateFacts) -> str:
    elsewhere = other_templates_with(name, facts)
    if elsewhere:
        which = "that TEMPLATE" if len(elsewhere) == 1 else "one of those as TEMPLATE"
        return (
            f"{name} is a parameter of {' and '.join(elsewhere)}, not of {facts.path.name}; "
            f"drop it or choose {which}."
        )
    known = sorted(facts.parameters)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"{facts.path.name} has no parameter {name}; did you mean {close[0]}?"
    return f"{facts.path.name} has no parameter {name}; its parameters: {', '.join(known)}."


def read_pairs(
    pairs: list[tuple[str, str]], facts: TemplateFacts, variable: str = "PARAMS"
) -> tuple[dict[str, str], list[str]]:
    """The values by name, and every problem as one line naming the fix."""
    problems: list[str] = []
    values: dict[str, str] = {}
    for name, value in pairs:
        joined = joined_pairs(name, value, variable) if variable == "PARAMS" else ""
        if joined:
            problems.append(joined)
            continue
        if name in values:
            problems.append(
                f"{name} is given twice ({name}={values[name]!r} and {name}={value!r}); keep one."
            )
            continue
        if name in SET_BY_THE_SCRIPT:
            problems.append(f"{name} is set by make deploy; set {SET_BY_THE_SCRIPT[name]} instead.")
            continue
        if name not in facts.parameters:
            problems.append(unknown_name(name, facts))
            continue
        problems += value_problems(name, value, facts.parameters[name])
        values[name] = value
    return values, [f"{variable}: {p}" for p in problems]


def joined_pairs(name: str, value: str, variable: str) -> str:
    """'' unless the value holds ',Name=': then the two pairs, separated as they should be."""
    joined = SECOND_PAIR.search(value)
    if not joined:
        return ""
    return (
        f"'{name}={value}' looks like two pairs joined by a comma; separate pairs with a space: "
        f"{variable}='{name}={value[: joined.start()]} {value[joined.start() + 1 :].lstrip()}'."
    )


def validate(text: str, facts: TemplateFacts) -> dict[str, str]:
    """PARAMS as a dict, or UsageError listing every problem, one per line."""
    pairs, problems = split_pairs(text, "PARAMS", quoting_example(facts))
    values, more = read_pairs(pairs, facts)
    if problems + more:
        raise UsageError("\n".join(problems + more))
    return values


# Where a description's first sentence ends ("e.g. us-east-1b" goes on: a lower-case word).
SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z])")


def what_it_is(facts: TemplateFacts, name: str) -> str:
    """The first sentence of the parameter's description, which often says where a value comes
    from (the rest may say what a later change does, which a new stack does not need)."""
    description = " ".join(str(facts.parameters[name].get("Description", "")).split())
    first = SENTENCE_END.split(description, maxsplit=1)[0]
    return f"{first.rstrip('.')})." if first else ""
