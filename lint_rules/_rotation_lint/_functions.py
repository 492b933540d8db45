"""Rotation functions the template defines itself, and what names them.

A rotation function of the template is an `AWS::Lambda::Function` or `AWS::Serverless::Function`
that a RotationSchedule names (`RotationLambdaARN: !GetAtt Fn.Arn`), or one an
`AWS::Lambda::Permission` opens to Secrets Manager (a template that ships the function and
attaches it to a secret elsewhere). Whether a value names a function is answered with three
states: True (surely that function), False (surely another one) and None (cannot be known).
"""

from __future__ import annotations

import re

from ._model import FUNCTIONS
from ._values import literal_parts

PERMISSION = "AWS::Lambda::Permission"
# A permission on an alias or a version covers only that qualified ARN, never the unqualified
# function a schedule names (Lambda, resource-based policies: qualifiers).
QUALIFIED = ("AWS::Lambda::Alias", "AWS::Lambda::Version")
SECRETS_MANAGER = "secretsmanager"  # the service principal's first label
_ARN_MARK = ":function:"


def function_name(reader, function: str):
    """The FunctionName text of a template function, None when Lambda generates the name."""
    properties = reader.resources[function].get("Properties")
    if not isinstance(properties, dict) or "FunctionName" not in properties:
        return None
    return reader.text(properties["FunctionName"])


def _bare_name(value: str) -> str:
    """The function name inside a name, an ARN or a partial ARN (qualifier dropped)."""
    if _ARN_MARK in value:
        return value.split(_ARN_MARK, 1)[1].split(":", 1)[0]
    return value


def _name_text(text: tuple) -> tuple:
    """The pieces after the last literal ':function:' of an ARN text (the text if none)."""
    for index in range(len(text) - 1, -1, -1):
        piece = text[index]
        if isinstance(piece, str) and _ARN_MARK in piece:
            rest = piece.rsplit(_ARN_MARK, 1)[1]
            return tuple(p for p in (rest, *text[index + 1 :]) if p != "")
    return text


def names_function(model, text: tuple | None, function: str) -> bool | None:
    """Whether a value read as text (a name, an ARN, a Ref or Fn::GetAtt) names the template
    function."""
    reader = model.reader
    if text is None:
        return None
    named = reader.resource_in(text)
    if named is not None:
        kind = reader.resources[named].get("Type")
        if named == function and kind in FUNCTIONS:
            return True
        return False if kind in (*FUNCTIONS, *QUALIFIED) else None
    own = function_name(reader, function)
    return same_name(reader, text, own, others=_other_names(reader, function))


def _other_names(reader, function: str) -> list[tuple]:
    return [
        text
        for name, body in reader.resources.items()
        if name != function
        and body.get("Type") in FUNCTIONS
        and (text := function_name(reader, name)) is not None
    ]


def same_name(reader, text: tuple, own: tuple | None, others=()) -> bool | None:
    """Whether a function ARN or name text names the function whose FunctionName is `own`
    (None: Lambda generates the name; `others`: the names of the template's other functions)."""
    wanted = _name_text(text)
    if own is not None:
        return True if wanted == own else _may_equal(reader, wanted, own)
    # A generated name is unknown, but a name another function of the template has is not it.
    values = _names(reader, wanted)
    if values and any(set(values) <= set(_names(reader, other) or ()) for other in others):
        return False
    return None


def _names(reader, text: tuple) -> list[str] | None:
    values = reader.candidates(text)
    return None if values is None else [_bare_name(v) for v in values]


def _may_equal(reader, first: tuple, second: tuple) -> bool | None:
    """Whether two name texts can be the same name: False when their known values or their
    literal parts rule it out, None when only deploy time can tell."""
    values, others = _names(reader, first), _names(reader, second)
    if values is not None and others is not None:
        return bool(set(values) & set(others))
    if values is None and others is None:
        return None if _fits(first, second) else False
    known, pattern = (values, second) if values is not None else (others, first)
    shape = re.compile(_pattern(pattern))
    return None if any(shape.fullmatch(v) for v in known) else False


def _pattern(text: tuple) -> str:
    return "".join(re.escape(p) if isinstance(p, str) else ".*" for p in text)


def _fits(first: tuple, second: tuple) -> bool:
    """Whether two texts with holes agree in their fixed start and end (neither rules the
    other out)."""
    if not first or not second:
        return True
    start_a, start_b = (t[0] if isinstance(t[0], str) else "" for t in (first, second))
    end_a, end_b = (t[-1] if isinstance(t[-1], str) else "" for t in (first, second))
    starts = start_a.startswith(start_b) or start_b.startswith(start_a)
    return starts and (end_a.endswith(end_b) or end_b.endswith(end_a))


def _principal_may_be_secrets_manager(reader, value) -> bool:
    values = reader.scalar(value)
    if values is None:  # `secretsmanager.${AWS::URLSuffix}`, or unknown from its first piece
        text = reader.text(value) or ("",)
        values = [text[0] if isinstance(text[0], str) else "*"]
    return any(v == "*" or v.split(".", 1)[0] == SECRETS_MANAGER for v in values)


def _action_may_invoke(reader, value) -> bool:
    values = reader.scalar(value)
    if values is None:
        return True
    return any(v.lower() in ("lambda:invokefunction", "lambda:*", "*") for v in values)


def _qualified(reader, text: tuple | None) -> bool:
    """Whether a FunctionName surely names a qualified function (`name:alias`, an ARN with a
    version, `${Fn.Arn}:live`): a permission on it does not cover the unqualified function."""
    if not text:
        return False
    first = reader.resource_in(text[:1], *FUNCTIONS)
    if first is not None and len(text) > 1:
        return isinstance(text[1], str) and text[1].startswith(":")
    return any(isinstance(p, str) and ":" in p for p in _name_text(text))


def invoke_permissions(model, function: str, secret: str | None = None) -> list[str] | None:
    """The permissions that may let Secrets Manager invoke the function for the secret.

    A permission counts unless it surely names another function, another principal, another
    action or (SourceArn) another secret of the template. The list is empty when none may.
    """
    reader = model.reader
    found = []
    for name, body in reader.resources.items():
        if body.get("Type") != PERMISSION:
            continue
        properties = body.get("Properties")
        if not isinstance(properties, dict):
            found.append(name)  # unreadable: it may be the one
            continue
        text = reader.text(properties.get("FunctionName"))
        if _qualified(reader, text) or names_function(model, text, function) is False:
            continue
        if not _principal_may_be_secrets_manager(reader, properties.get("Principal")):
            continue
        if not _action_may_invoke(reader, properties.get("Action")):
            continue
        source = reader.resource(properties.get("SourceArn"), "AWS::SecretsManager::Secret")
        if secret is not None and source is not None and source != secret:
            continue
        found.append(name)
    return found


def opened_functions(model) -> list[str]:
    """Template functions a permission surely lets Secrets Manager invoke (named by Ref,
    Fn::GetAtt, or their name)."""
    reader = model.reader
    functions = [n for n, b in reader.resources.items() if b.get("Type") in FUNCTIONS]
    found: list[str] = []
    for body in reader.resources.values():
        properties = body.get("Properties")
        if body.get("Type") != PERMISSION or not isinstance(properties, dict):
            continue
        principal = reader.scalar(properties.get("Principal")) or [
            literal_parts(reader.text(properties.get("Principal")) or ())
        ]
        if not all(p.split(".", 1)[0] == SECRETS_MANAGER for p in principal):
            continue
        text = reader.text(properties.get("FunctionName"))
        found.extend(f for f in functions if f not in found and names_function(model, text, f))
    return found


def rotation_functions(model) -> dict[str, list]:
    """Each rotation function of the template -> the rotations (schedules) that use it."""
    found: dict[str, list] = {}
    for rotation in model.rotations:
        if rotation.function is not None:
            found.setdefault(rotation.function, []).append(rotation)
    for function in opened_functions(model):
        found.setdefault(function, [])
    return found
