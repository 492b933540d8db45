"""What the role of a rotation function of the template may do, from the template's IAM resources.

The statements of a role are those of its inline `Policies`, of the template's
`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and `AWS::IAM::RolePolicy` attached to it, and of
the managed policies its `ManagedPolicyArns` names. A function of the SAM transform without a
`Role` gets the role SAM generates from its `Policies` (documents, managed policy names and the
two SAM policy templates that grant Secrets Manager access). When any of them cannot be read (a
role or managed policy from outside the template), the role's permissions are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._functions import names_function
from ._json_text import JsonObject
from ._model import SECRET
from ._policies import may_include, read_document, statement_paths, text_of, values_of
from ._values import Hole, is_intrinsic, literal, literal_parts

ROLE = "AWS::IAM::Role"
ATTACHED_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
ROTATION_LAMBDA_KEY = "secretsmanager:resource/allowrotationlambdaarn"
# AWS managed policies Lambda roles carry that grant nothing in Secrets Manager.
GRANT_NO_SECRET = (
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaENIManagementAccess",
    "AWSXRayDaemonWriteAccess",
    "AWSXrayWriteOnlyAccess",
    "CloudWatchLambdaInsightsExecutionRolePolicy",
)
# The SAM policy templates that grant Secrets Manager actions (SAM's policy template list).
_SECRET_ARN = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"  # noqa: S105
_FUNCTION_ARN = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${name}"


def _sam_template(name: str, parameters: Any) -> dict | None:
    parameters = parameters if isinstance(parameters, dict) else {}
    if name == "AWSSecretsManagerRotationPolicy":
        function = parameters.get("FunctionName", {"Fn::Sub": "${FunctionName}"})
        return {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:GetSecretValue",
                        "secretsmanager:PutSecretValue",
                        "secretsmanager:UpdateSecretVersionStage",
                    ],
                    "Resource": {"Fn::Sub": _SECRET_ARN},
                    "Condition": {
                        "StringEquals": {
                            "secretsmanager:resource/AllowRotationLambdaArn": {
                                "Fn::Sub": [_FUNCTION_ARN, {"name": function}]
                            }
                        }
                    },
                }
            ]
        }
    if name == "AWSSecretsManagerGetSecretValuePolicy":
        secret = parameters.get("SecretArn", {"Ref": "SecretArn"})
        return {
            "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
            ]
        }
    return {"Statement": []}  # the other SAM policy templates grant no Secrets Manager action


@dataclass
class Statement:
    origin: str  # "inline policy P of role R", "AWS::IAM::Policy P", ...
    path: list
    body: JsonObject


@dataclass
class RolePolicies:
    """The statements that apply to a role, and template policies that apply to no role."""

    role: str | None  # the template role; None for the role SAM generates for a function
    path: list  # where to fix: the role, or the function's Policies
    statements: list[Statement] = field(default_factory=list)
    unattached: list[Statement] = field(default_factory=list)


class _Unknown(Exception):
    """A permission source the rules cannot read: the role's permissions are unknown."""


def role_policies(model, function: str) -> RolePolicies | None:
    """The permissions of the function's role, None when they cannot all be read."""
    reader = model.reader
    body = reader.resources[function]
    properties = body.get("Properties")
    if not isinstance(properties, dict):
        return None
    try:
        if "Role" not in properties and body.get("Type") == "AWS::Serverless::Function":
            found = RolePolicies(None, ["Resources", function, "Properties"])
            for _, settled in model.settled(function):
                _sam_policies(model, function, settled.get("Policies"), found)
        else:
            role = reader.resource(properties.get("Role"), ROLE)
            if role is None:
                return None
            found = RolePolicies(role, ["Resources", role, "Properties"])
            _role(model, role, found)
    except _Unknown:
        return None
    return found


def _add(model, found: list, origin: str, path: list, raw: Any) -> None:
    parsed, as_list = read_document(model, raw)
    if parsed is None:
        raise _Unknown
    for where, statement in statement_paths(parsed, path, as_list):
        found.append(Statement(origin, where, statement))


def _sam_policies(model, function: str, policies: Any, found: RolePolicies) -> None:
    path = ["Resources", function, "Properties", "Policies"]
    items = policies if isinstance(policies, list) else [] if policies is None else [policies]
    for index, item in enumerate(items):
        where = [*path, index] if isinstance(policies, list) else path
        if isinstance(item, str) or (isinstance(item, dict) and is_intrinsic(item)):
            _managed(model, item, found)
        elif isinstance(item, dict) and "Statement" in item:
            _add(model, found.statements, f"Policies of function {function}", where, item)
        elif isinstance(item, dict) and len(item) == 1:
            ((name, parameters),) = item.items()
            template = _sam_template(name, parameters)
            _add(model, found.statements, f"SAM policy {name} of {function}", where, template)
        else:
            raise _Unknown


def _managed(model, value: Any, found: RolePolicies) -> None:
    """A managed policy by ARN (or SAM's bare name): a template one, or one known to grant
    nothing in Secrets Manager; anything else is unknown."""
    reader = model.reader
    policy = reader.resource(value, MANAGED_POLICY)
    if policy is not None:
        properties = reader.resources[policy].get("Properties") or {}
        path = ["Resources", policy, "Properties", "PolicyDocument"]
        document = properties.get("PolicyDocument")
        _add(model, found.statements, f"managed policy {policy}", path, document)
        return
    text = reader.text(value) or (Hole("?"),)
    tail = text[-1] if isinstance(text[-1], str) else ""
    if not any(tail == name or tail.endswith("/" + name) for name in GRANT_NO_SECRET):
        raise _Unknown


def _role(model, role: str, found: RolePolicies) -> None:
    reader = model.reader
    for _, properties in model.settled(role):
        for index, policy in enumerate(properties.get("Policies") or []):
            if not isinstance(policy, dict):
                raise _Unknown
            path = ["Resources", role, "Properties", "Policies", index, "PolicyDocument"]
            name = literal(reader.text(policy.get("PolicyName"))) or str(index)
            origin = f"inline policy {name} of role {role}"
            _add(model, found.statements, origin, path, policy.get("PolicyDocument"))
        arns = properties.get("ManagedPolicyArns") or []
        for arn in arns if isinstance(arns, list) else [arns]:
            _managed(model, arn, found)
    listed = _listed_managed_policies(model)
    for name, body in reader.resources.items():
        properties = body.get("Properties")
        if body.get("Type") not in ATTACHED_POLICIES or not isinstance(properties, dict):
            continue
        origin = f"{body['Type']} {name}"
        path = ["Resources", name, "Properties", "PolicyDocument"]
        document = properties.get("PolicyDocument")
        if _attached_to(model, properties, role) is not False:
            _add(model, found.statements, origin, path, document)
        elif name not in listed and not _attached_anywhere(properties):
            try:
                _add(model, found.unattached, origin, path, document)
            except _Unknown:
                continue


def _listed_managed_policies(model) -> set[str]:
    """Template managed policies some role lists in ManagedPolicyArns (read there already)."""
    reader = model.reader
    listed = set()
    for body in reader.resources.values():
        properties = body.get("Properties")
        if body.get("Type") != ROLE or not isinstance(properties, dict):
            continue
        arns = properties.get("ManagedPolicyArns")
        for arn in arns if isinstance(arns, list) else []:
            named = reader.resource(arn, MANAGED_POLICY)
            if named:
                listed.add(named)
    return listed


def _attached_anywhere(properties: dict) -> bool:
    return any(properties.get(key) for key in ("Roles", "Users", "Groups", "RoleName"))


def _attached_to(model, properties: dict, role: str) -> bool | None:
    """Whether a policy resource is attached to the role: Roles (or RoleName) naming it."""
    reader = model.reader
    names = properties.get("Roles")
    names = list(names) if isinstance(names, list) else [names] if names is not None else []
    if "RoleName" in properties:
        names.append(properties["RoleName"])
    own = reader.resources[role].get("Properties")
    own_names = reader.scalar(own.get("RoleName")) if isinstance(own, dict) else None
    verdict: bool | None = False
    for value in names:
        named = reader.resource(value, ROLE)
        if named is not None:
            if named == role:
                return True
            continue
        values = reader.scalar(value)
        if values is None:
            verdict = None  # a parameter or import: it may be this role
        elif own_names is not None and set(values) & set(own_names):
            return True
    return verdict


# -- what a statement grants ------------------------------------------------------------------
GRANTS, SCOPED, NO = "grants", "scoped", "no"


def grant(model, statement: JsonObject, action: str, secret: str | None, function: str):
    """(GRANTS | SCOPED | NO, the AllowRotationLambdaArn value naming another function)."""
    effect = literal(text_of(statement.fields.get("Effect")))
    if effect not in (None, "Allow") or not may_include(statement, action):
        return NO, None
    if not _resource_may_be(model, statement, secret):
        return NO, None
    other = _rotation_lambda_elsewhere(model, statement, function)
    return (SCOPED, other) if other is not None else (GRANTS, None)


def _resource_may_be(model, statement: JsonObject, secret: str | None) -> bool:
    if "NotResource" in statement.fields:
        return True
    reader = model.reader
    for value in values_of(statement.fields.get("Resource")):
        text = text_of(value)
        if text is None:
            return True
        named = reader.resource_in(text)
        if named is not None:
            kind = reader.resources[named].get("Type")
            if kind == SECRET and (secret is None or named == secret):
                return True
            continue  # another secret, a key, a table...
        parts = literal_parts(text)
        if "arn:" in parts and "secretsmanager" not in parts and "*" not in parts:
            continue  # an ARN of another service
        return True
    return False


def _rotation_lambda_elsewhere(model, statement: JsonObject, function: str):
    """The AllowRotationLambdaArn value when it surely names another function, else None."""
    conditions = statement.fields.get("Condition")
    if not isinstance(conditions, JsonObject):
        return None
    for operator, tests in conditions.fields.items():
        base = operator.split(":")[-1].removesuffix("IfExists")
        if not isinstance(tests, JsonObject) or base not in ("StringEquals", "ArnEquals"):
            continue
        for key, value in tests.fields.items():
            if key.lower() != ROTATION_LAMBDA_KEY:
                continue
            texts = [text_of(v) for v in values_of(value)]
            if texts and all(
                t is not None and names_function(model, t, function) is False for t in texts
            ):
                return texts[0]
    return None
