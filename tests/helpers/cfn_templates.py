"""Read the project's templates the way cfn-lint does, and evaluate the few intrinsic functions the
tests need (Ref, Fn::Sub, Fn::FindInMap, Fn::Join, Fn::If, Fn::Select, Fn::Split, Fn::GetAZs, and
the Rules functions).

The evaluator is deliberately small: it raises on anything it does not know, so a template change
that a test cannot follow fails loudly instead of passing by accident.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
SINGLE_USER = REPO / "templates" / "mysql-single-user.yaml"
MULTI_USER = REPO / "templates" / "mysql-multi-user.yaml"
EXISTING_CLUSTER = REPO / "templates" / "mysql-rotation-existing-cluster.yaml"
TEMPLATES = {"single-user": SINGLE_USER, "multi-user": MULTI_USER}
LAMBDA_NAME_MAX = 64
# The ARN the templates' MySQLUserFunction.Arn evaluates to in tests (the ServiceToken of AppUser).
MYSQL_USER_FUNCTION_ARN = (
    "arn:aws:lambda:us-east-1:123456789012:function:rotation-demo-MySQLUserFunction-1"
)

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@functools.cache
def _load(path: Path) -> dict:
    template, matches = decode(str(path))
    assert not matches, f"{path.name} does not parse: {matches}"
    assert isinstance(template, dict)
    return template


def load(path: Path) -> dict:
    """The decoded template (short-form tags become Fn:: mappings). Do not mutate it."""
    return _load(Path(path))


def resources(template: dict, type_name: str | None = None) -> dict[str, dict]:
    found = template["Resources"]
    if type_name is None:
        return dict(found)
    return {name: body for name, body in found.items() if body["Type"] == type_name}


def the_resource(template: dict, type_name: str) -> tuple[str, dict]:
    """The only resource of `type_name`, with its logical id."""
    matching = resources(template, type_name)
    assert len(matching) == 1, f"expected one {type_name}, found {sorted(matching)}"
    return next(iter(matching.items()))


def properties(template: dict, logical_id: str) -> dict:
    return template["Resources"][logical_id].get("Properties", {})


def parameter_defaults(template: dict) -> dict[str, str]:
    """Each parameter's default as CloudFormation passes it: a string."""
    return {
        name: _as_text(spec["Default"])
        for name, spec in template["Parameters"].items()
        if "Default" in spec
    }


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Context:
    """Values for Ref, Fn::GetAtt and Fn::Sub: parameters, pseudo parameters and chosen resource
    values (an attribute under "LogicalId.Attribute")."""

    def __init__(self, template: dict, **values: str) -> None:
        self.template = template
        self.values: dict[str, Any] = {
            "AWS::StackName": "rotation-demo",
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
            # What Fn::GetAZs returns: the Region's zones in name order.
            "AZs:us-east-1": [f"us-east-1{letter}" for letter in "abcdef"],
            **parameter_defaults(template),
            **values,
        }

    def ref(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"no value chosen for Ref {name}")
        return self.values[name]

    def condition(self, name: str) -> bool:
        return bool(evaluate(self.template["Conditions"][name], self))


def evaluate(node: Any, context: Context) -> Any:
    """The value of `node` under `context`; Fn::If branches use the template's Conditions."""
    if isinstance(node, list):
        return [evaluate(item, context) for item in node]
    if not isinstance(node, Mapping):
        return _as_text(node) if isinstance(node, (bool, int, float)) else node
    if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
        return {key: evaluate(value, context) for key, value in node.items()}
    function, argument = next(iter(node.items()))
    if function == "Ref":
        return context.ref(argument)
    if function == "Condition":
        return context.condition(argument)
    return _FUNCTIONS[function](argument, context)


def _sub(argument: Any, context: Context) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    local = {name: evaluate(value, context) for name, value in variables.items()}

    def replace(match: re.Match) -> str:
        name = match.group(1)
        return str(local[name] if name in local else context.ref(name))

    return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


def _find_in_map(argument: list, context: Context) -> Any:
    mapping, top, second = (evaluate(part, context) for part in argument)
    return context.template["Mappings"][mapping][top][second]


def _join(argument: list, context: Context) -> str:
    delimiter, items = argument
    return delimiter.join(str(item) for item in evaluate(items, context))


def _if(argument: list, context: Context) -> Any:
    condition, when_true, when_false = argument
    return evaluate(when_true if context.condition(condition) else when_false, context)


def _equals(argument: list, context: Context) -> bool:
    left, right = (evaluate(part, context) for part in argument)
    return left == right


def _contains(argument: list, context: Context) -> bool:
    choices, value = (evaluate(part, context) for part in argument)
    return value in choices


def _select(argument: list, context: Context) -> Any:
    index, items = (evaluate(part, context) for part in argument)
    return items[int(index)]


def _split(argument: list, context: Context) -> list[str]:
    delimiter, text = argument
    return evaluate(text, context).split(delimiter)


def _get_azs(argument: Any, context: Context) -> list[str]:
    region = evaluate(argument, context) or context.ref("AWS::Region")
    return context.ref(f"AZs:{region}")


def _get_att(argument: Any, context: Context) -> Any:
    name = ".".join(argument) if isinstance(argument, list) else argument
    return context.ref(name)


_FUNCTIONS = {
    "Fn::Sub": _sub,
    "Fn::GetAtt": _get_att,
    "Fn::FindInMap": _find_in_map,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::GetAZs": _get_azs,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Contains": _contains,
    "Fn::Not": lambda argument, context: not evaluate(argument[0], context),
    "Fn::And": lambda argument, context: all(evaluate(argument, context)),
    "Fn::Or": lambda argument, context: any(evaluate(argument, context)),
}


def rule_violations(template: dict, **parameters: str) -> list[str]:
    """AssertDescriptions of the Rules that fail for these parameter values (defaults otherwise)."""
    context = Context(template, **parameters)
    failures = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], context):
            continue
        failures.extend(
            assertion["AssertDescription"]
            for assertion in rule["Assertions"]
            if not evaluate(assertion["Assert"], context)
        )
    return failures


def cfn_init_files(template: dict, logical_id: str) -> dict[str, dict]:
    """The `files` entries of a resource's AWS::CloudFormation::Init config, by path."""
    init = template["Resources"][logical_id]["Metadata"]["AWS::CloudFormation::Init"]
    return init["config"]["files"]


def user_data(template: dict, context: Context) -> str:
    _, launch_template = the_resource(template, "AWS::EC2::LaunchTemplate")
    encoded = launch_template["Properties"]["LaunchTemplateData"]["UserData"]
    return evaluate(encoded["Fn::Base64"], context)


def referenced_names(node: Any) -> set[str]:
    """Logical ids and parameters that `node` names through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= referenced_names(item)
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {name.split(".")[0] for name in _SUB_VARIABLE.findall(text)}
                if not isinstance(value, str):
                    found |= referenced_names(value[1])
            else:
                found |= referenced_names(value)
    return found


def direct_dependencies(template: dict, logical_id: str) -> set[str]:
    """Resources CloudFormation creates before `logical_id`: DependsOn, and references anywhere
    in its Properties or Metadata (a reference in Metadata also orders creation)."""
    body = template["Resources"][logical_id]
    depends_on = body.get("DependsOn", [])
    names = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    names |= referenced_names(body.get("Properties", {}))
    names |= referenced_names(body.get("Metadata", {}))
    return names & set(template["Resources"])


def all_dependencies(template: dict, logical_id: str) -> set[str]:
    """Every resource created before `logical_id`, directly or through others."""
    seen: set[str] = set()
    pending = [logical_id]
    while pending:
        for name in direct_dependencies(template, pending.pop()):
            if name not in seen:
                seen.add(name)
                pending.append(name)
    return seen


def exclude_character_copies(template: dict) -> dict[str, Any]:
    """Every ExcludeCharacters the template sets, by where it is: each secret's
    GenerateSecretString and each schedule's HostedRotationLambda."""
    copies = {}
    for name, body in resources(template, "AWS::SecretsManager::Secret").items():
        copies[f"{name}.GenerateSecretString"] = body["Properties"]["GenerateSecretString"].get(
            "ExcludeCharacters"
        )
    for name, body in resources(template, "AWS::SecretsManager::RotationSchedule").items():
        copies[f"{name}.HostedRotationLambda"] = body["Properties"]["HostedRotationLambda"].get(
            "ExcludeCharacters"
        )
    return copies


def exclude_characters(template: dict) -> str:
    """The one exclude list every generated and rotated password of the template uses."""
    values = set(map(str, exclude_character_copies(template).values()))
    assert len(values) == 1, f"the ExcludeCharacters copies differ: {values}"
    return values.pop()


def rotation_name_suffix(schedule: dict) -> str:
    """What follows ${AWS::StackName} in a schedule's RotationLambdaName."""
    name = schedule["Properties"]["HostedRotationLambda"]["RotationLambdaName"]
    text = name["Fn::Sub"]
    assert text.startswith("${AWS::StackName}"), text
    return text.removeprefix("${AWS::StackName}")
