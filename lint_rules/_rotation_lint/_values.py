"""Static reading of template values: intrinsic functions become text with holes.

A value is read into a `Text`: a tuple of literal strings and `Hole`s, one hole per piece that
only CloudFormation knows at deploy time (a `Ref`, a `Fn::GetAtt`, any other function). Checks
look at the literal parts, and at a hole's parameter declaration when the hole is a parameter
reference; anything else stays unknown, and a check that needs it stays silent.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

NO_VALUE = "AWS::NoValue"
# `{{resolve:ssm:...}}` and friends: CloudFormation puts in a value the template does not hold.
DYNAMIC_REFERENCE = "{{resolve:"
# Parameter types whose value CloudFormation reads from SSM: their Default is the SSM name.
SSM_VALUE_TYPE = "AWS::SSM::Parameter::Value<"
# Resources whose Ref is the ARN of the secret their SecretId names.
_SECRET_REF_ALIASES = (
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::SecretsManager::RotationSchedule",
)
_MAX_ALIAS_HOPS = 3  # a schedule naming an attachment naming a secret; never a loop
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")
_MAX_CANDIDATES = 64


@dataclass(frozen=True)
class Hole:
    """A piece of a string known only at deploy time."""

    function: str  # "Ref", "Fn::GetAtt" or the name of any other intrinsic function
    target: str = ""  # the parameter, resource or pseudo parameter it refers to
    attribute: str = ""  # the attribute of a Fn::GetAtt
    choices: tuple[str, ...] = ()  # the values the template lists for it (a mapping's entries)

    def placeholder(self) -> str:
        if self.function == "Ref" and self.target:
            return "${" + self.target + "}"
        if self.function == "Fn::GetAtt" and self.target:
            return "${" + self.target + "." + self.attribute + "}"
        return "${" + self.function + "}"


Text = tuple  # tuple[str | Hole, ...]


def literal(text: Text | None) -> str | None:
    """The text's value when it has no hole (nor dynamic reference), else None."""
    if text is None or any(isinstance(piece, Hole) for piece in text):
        return None
    value = "".join(text)
    return None if DYNAMIC_REFERENCE in value else value


def literal_parts(text: Text) -> str:
    """The text's literal pieces joined, holes left out."""
    return "".join(piece for piece in text if isinstance(piece, str))


def render(text: Text) -> str:
    """The text for a message, each hole written as ${Name} the way Fn::Sub would."""
    return "".join(piece if isinstance(piece, str) else piece.placeholder() for piece in text)


def holes(text: Text) -> list[Hole]:
    return [piece for piece in text if isinstance(piece, Hole)]


def settle(value: Any, scenario: dict[str, bool]) -> Any:
    """The value with each Fn::If the scenario decides replaced by its branch.

    `{"Ref": "AWS::NoValue"}` removes the key or list item that holds it; the whole value
    becomes None when it is AWS::NoValue itself.
    """
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if (
                key == "Fn::If"
                and isinstance(argument, list)
                and len(argument) == 3
                and isinstance(argument[0], str)
                and argument[0] in scenario
            ):
                return settle(argument[1] if scenario[argument[0]] else argument[2], scenario)
            if key == "Ref" and argument == NO_VALUE:
                return None
        settled = ((k, settle(v, scenario)) for k, v in value.items())
        return {k: v for k, v in settled if v is not None}
    if isinstance(value, list):
        return [item for item in (settle(v, scenario) for v in value) if item is not None]
    return value


def referenced_names(value: Any) -> set[str]:
    """Logical names a value refers to through Ref, Fn::GetAtt or Fn::Sub variables."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        if not isinstance(item, dict):
            continue
        for key, argument in item.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt" and isinstance(argument, (str, list)) and argument:
                target = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
                if isinstance(target, str):
                    found.add(target)
            elif key == "Fn::Sub":
                source = argument[0] if isinstance(argument, list) and argument else argument
                if isinstance(source, str):
                    found.update(
                        name.split(".", 1)[0]
                        for escaped, name in _SUB_VARIABLE.findall(source)
                        if not escaped
                    )
            stack.append(argument)
    return found


def condition_names(value: Any) -> set[str]:
    """Names of the conditions every Fn::If inside the value depends on."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            branch = item.get("Fn::If")
            if isinstance(branch, list) and branch and isinstance(branch[0], str):
                found.add(branch[0])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class Reader:
    """Reads template values the way CloudFormation will resolve them, as far as it can."""

    def __init__(self, template: dict[str, Any]) -> None:
        parameters = template.get("Parameters")
        resources = template.get("Resources")
        # An SSM-typed parameter is left out: its value is as unknown as a resource's attribute.
        self.parameters: dict[str, dict] = {
            name: spec
            for name, spec in (parameters.items() if isinstance(parameters, dict) else ())
            if isinstance(spec, dict) and not str(spec.get("Type", "")).startswith(SSM_VALUE_TYPE)
        }
        self._functions = {
            "Ref": lambda argument: (self._ref(argument),),
            "Fn::GetAtt": lambda argument: (self._getatt(argument),),
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::ToJsonString": self.json_text,
            "Fn::FindInMap": self._find_in_map,
        }
        mappings = template.get("Mappings")
        self.mappings: dict = mappings if isinstance(mappings, dict) else {}
        self.resources: dict[str, dict] = {
            name: body
            for name, body in (resources.items() if isinstance(resources, dict) else ())
            if isinstance(body, dict)
        }

    # -- text --------------------------------------------------------------------------------
    def text(self, value: Any) -> Text | None:
        """The value as text with holes, or None when it is no string (a map, a list)."""
        if isinstance(value, bool):
            return ("true" if value else "false",)
        if isinstance(value, (str, int, float)):
            return (str(value),)
        if not isinstance(value, dict) or len(value) != 1:
            return None
        ((function, argument),) = value.items()
        if not isinstance(function, str):
            return None
        read = self._functions.get(function)
        if read is not None:
            return read(argument)
        return (Hole(function),) if function.startswith("Fn::") else None

    def _ref(self, name: Any) -> Hole:
        return Hole("Ref", name if isinstance(name, str) else "")

    @staticmethod
    def _getatt(argument: Any) -> Hole:
        if isinstance(argument, str) and "." in argument:
            target, attribute = argument.split(".", 1)
            return Hole("Fn::GetAtt", target, attribute)
        if isinstance(argument, list) and len(argument) == 2:
            target, attribute = argument
            if isinstance(target, str) and isinstance(attribute, str):
                return Hole("Fn::GetAtt", target, attribute)
        return Hole("Fn::GetAtt")

    def _sub(self, argument: Any) -> Text | None:
        variables: dict = {}
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            argument, variables = argument
        if not isinstance(argument, str):
            return (Hole("Fn::Sub"),)
        pieces: list = []
        position = 0
        for found in _SUB_VARIABLE.finditer(argument):
            pieces.append(argument[position : found.start()])
            position = found.end()
            escaped, name = found.groups()
            if escaped:
                pieces.append("${" + name + "}")
            elif name in variables:
                pieces.extend(self.text(variables[name]) or (Hole("Fn::Sub"),))
            elif "." in name:
                pieces.append(self._getatt(name))
            else:
                pieces.append(self._ref(name))
        pieces.append(argument[position:])
        return _merge(pieces)

    def _find_in_map(self, argument: Any) -> Text | None:
        """The mapped value, or a hole with every value the keys can select.

        A key from a parameter takes the parameter's values; a key known only at deploy time
        (`!Ref AWS::Region`) takes every key of its level. Keys a deploy cannot find fail that
        deploy, so they add nothing, unless a default value (AWS::LanguageExtensions) is given.
        """
        unknown = (Hole("Fn::FindInMap"),)
        if not isinstance(argument, list) or len(argument) not in (3, 4):
            return unknown
        levels, missing = [self.mappings], False
        for key in argument[:3]:
            names = self.candidates(self.text(key))
            deeper = []
            for level in levels:
                if not isinstance(level, dict):
                    return unknown
                for name in list(level) if names is None else names:
                    if name in level:
                        deeper.append(level[name])
                    else:
                        missing = True
            levels = deeper
        if missing and len(argument) == 4:
            default = argument[3]
            levels.append(default.get("DefaultValue") if isinstance(default, dict) else default)
        if not levels or not all(_is_scalar(value) for value in levels):
            return unknown
        values = list(dict.fromkeys(_scalar_text(value) for value in levels))
        if len(values) == 1:
            return (values[0],)
        return (Hole("Fn::FindInMap", choices=tuple(values[:_MAX_CANDIDATES])),)

    def _join(self, argument: Any) -> Text | None:
        if not (isinstance(argument, list) and len(argument) == 2):
            return (Hole("Fn::Join"),)
        delimiter, items = argument
        if not isinstance(delimiter, str) or not isinstance(items, list):
            return (Hole("Fn::Join"),)
        pieces: list = []
        for index, item in enumerate(items):
            if index:
                pieces.append(delimiter)
            pieces.extend(self.text(item) or (Hole("Fn::Join"),))
        return _merge(pieces)

    def json_text(self, value: Any) -> Text:
        """A map or list written out as JSON text (Fn::ToJsonString), intrinsics as holes."""
        if isinstance(value, dict) and not is_intrinsic(value):
            pieces: list = ["{"]
            for index, (key, item) in enumerate(value.items()):
                pieces.append(("," if index else "") + json.dumps(str(key)) + ":")
                pieces.extend(self.json_text(item))
            pieces.append("}")
            return _merge(pieces)
        if isinstance(value, list):
            pieces = ["["]
            for index, item in enumerate(value):
                pieces.append("," if index else "")
                pieces.extend(self.json_text(item))
            pieces.append("]")
            return _merge(pieces)
        if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
            return (json.dumps(value),)
        text = self.text(value) or (Hole("Fn::ToJsonString"),)
        quoted = [json.dumps(p)[1:-1] if isinstance(p, str) else p for p in text]
        return _merge(['"', *quoted, '"'])

    # -- parameters and resources ----------------------------------------------------------
    def parameter(self, hole: Hole) -> dict | None:
        """The declaration of the parameter a hole refers to, if it refers to one."""
        if hole.function == "Ref":
            return self.parameters.get(hole.target)
        return None

    def resource(self, value: Any, *types: str) -> str | None:
        """The logical id of the template resource a value names (Ref, GetAtt or "${Name}")."""
        return self.resource_in(self.text(value), *types)

    def resource_in(self, text: Text | None, *types: str) -> str | None:
        """The logical id of the template resource a text consists of, if it is just that.

        A SecretTargetAttachment or RotationSchedule stands for the secret it names: its Ref is
        that secret's ARN.
        """
        if text is None or len(text) != 1 or not isinstance(text[0], Hole):
            return None
        hole = text[0]
        if hole.function not in ("Ref", "Fn::GetAtt"):
            return None
        name = hole.target
        for _ in range(_MAX_ALIAS_HOPS):
            body = self.resources.get(name)
            if body is None:
                return None
            kind = body.get("Type")
            if not types or kind in types:
                return name
            properties = body.get("Properties")
            if kind not in _SECRET_REF_ALIASES or not isinstance(properties, dict):
                return None
            name = self._named(properties.get("SecretId"))
        return None

    def _named(self, value: Any) -> str:
        """The logical id a Ref or Fn::GetAtt value names, '' for anything else."""
        text = self.text(value) or ()
        named = len(text) == 1 and isinstance(text[0], Hole)
        return text[0].target if named and text[0].function in ("Ref", "Fn::GetAtt") else ""

    def candidates(self, text: Text | None, defaults: bool = True) -> list[str] | None:
        """Every value the text can take by the template's own declarations, or None.

        A parameter contributes its AllowedValues, else its Default, a mapping the values it
        lists; any other hole, or a parameter with neither, makes the value unknown. With
        `defaults=False` only literals and AllowedValues count: a Default, or a mapping (whose
        keys may come from one), makes the value unknown.
        """
        if text is None:
            return None
        choices: list[list[str]] = []
        for piece in text:
            if isinstance(piece, str):
                choices.append([piece])
                continue
            if defaults:
                values = list(piece.choices) or parameter_values(self.parameter(piece))
            else:
                values = allowed_values(self.parameter(piece))
            if values is None:
                return None
            choices.append(values)
        combined = itertools.islice(itertools.product(*choices), _MAX_CANDIDATES)
        values = ["".join(parts) for parts in combined]
        return None if any(DYNAMIC_REFERENCE in value for value in values) else values

    def known(self, hole: Hole) -> bool:
        """Whether the template declares the values a hole can take (a parameter, a mapping)."""
        return bool(hole.choices) or self.parameter(hole) is not None

    def scalar(self, value: Any, defaults: bool = True) -> list[str] | None:
        """`candidates` of a value read as text."""
        return self.candidates(self.text(value), defaults)

    def origin(self, value: Any) -> str:
        """`text_origin` of a value."""
        return self.text_origin(self.text(value))

    def text_origin(self, *texts: Text | None) -> str:
        """' (from parameter X)' when the value comes from parameters, and ' (with the default
        of parameter Y)' when only Y's Default gave it (Y has no AllowedValues): a finding on
        a default says so, since a deploy may pass another value."""
        found = [h for t in texts for h in holes(t or ()) if self.parameter(h)]
        names = list(dict.fromkeys(h.target for h in found))
        if not names:
            return ""
        defaulted = [n for n in names if allowed_values(self.parameters[n]) is None]
        declared = [n for n in names if n not in defaulted]
        said = [f"from parameter {', '.join(declared)}"] if declared else []
        if defaulted:
            said.append(f"with the default of parameter {', '.join(defaulted)}")
        return f" ({'; '.join(said)})"


def allowed_values(declaration: dict | None) -> list[str] | None:
    """A parameter's AllowedValues (every value a deploy can pass), else None."""
    allowed = declaration.get("AllowedValues") if declaration is not None else None
    if isinstance(allowed, list) and allowed and all(_is_scalar(v) for v in allowed):
        return [_scalar_text(v) for v in allowed]
    return None


def parameter_values(declaration: dict | None) -> list[str] | None:
    """The values a parameter declares: its AllowedValues, else its Default, else None."""
    if declaration is None:
        return None
    allowed = allowed_values(declaration)
    if allowed is not None:
        return allowed
    default = declaration.get("Default")
    if _is_scalar(default):
        return [_scalar_text(default)]
    return None


def as_bool(values: list[str] | None) -> set[bool] | None:
    """The booleans a set of candidate strings means, or None when one is no boolean."""
    if values is None:
        return None
    found = set()
    for value in values:
        lowered = value.lower()
        if lowered not in ("true", "false"):
            return None
        found.add(lowered == "true")
    return found


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_intrinsic(value: dict) -> bool:
    if len(value) != 1:
        return False
    key = next(iter(value))  # YAML allows a number as a key
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


def _merge(pieces: list) -> Text:
    """Join neighbouring literal pieces and drop empty ones."""
    merged: list = []
    for piece in pieces:
        if isinstance(piece, str):
            if not piece:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += piece
                continue
        merged.append(piece)
    return tuple(merged)
