"""Rules for resource policies on secrets (AWS::SecretsManager::ResourcePolicy)."""

from __future__ import annotations

import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # cfn-lint loads rule files by path, outside any package
    sys.path.append(_HERE)

from _rotation_lint._json_text import JsonObject, parse  # noqa: E402
from _rotation_lint._report import ModelRule, doc_url, finding  # noqa: E402
from _rotation_lint._values import (  # noqa: E402
    as_bool,
    is_intrinsic,
    literal,
    literal_parts,
    render,
)

TAGS = ["secretsmanager", "rotation", "resource-policy"]
POLICY = "AWS::SecretsManager::ResourcePolicy"
LOOKUP = (
    "Custom::LambdaRoleLookup (docs/Custom__LambdaRoleLookup.md) returns each rotation "
    "function's RoleArn"
)
PIN = "Condition ArnEquals aws:PrincipalArn: [!GetAtt <Lookup>.RoleArn, ...]"


def _policies(model):
    for name, body in model.reader.resources.items():
        if body.get("Type") == POLICY and isinstance(body.get("Properties"), dict):
            yield name, body["Properties"]


def _document(model, properties):
    """(policy document, written as a map) when the policy is readable, else (None, False)."""
    raw = properties.get("ResourcePolicy")
    as_map = isinstance(raw, dict) and not is_intrinsic(raw)  # else JSON text (!Sub, !Join…)
    text = model.reader.json_text(raw) if as_map else model.reader.text(raw)
    document = parse(text)
    if not isinstance(document, JsonObject):
        return None, False
    return document, as_map and isinstance(raw.get("Statement"), list)


def _all_statements(document: JsonObject) -> list:
    statements = document.fields.get("Statement")
    return statements if isinstance(statements, list) else [statements]


def _statements(model, name, properties):
    """(path, statement) for each Allow statement of the policy document, when readable."""
    document, written_as_map = _document(model, properties)
    if document is None:
        return
    for index, statement in enumerate(_all_statements(document)):
        if not isinstance(statement, JsonObject):
            continue
        if literal(_text(statement.fields.get("Effect"))) != "Allow":
            continue
        path = ["Resources", name, "Properties", "ResourcePolicy"]
        if written_as_map:
            path += ["Statement", index]
        yield path, statement


def _only_denies(model, properties) -> bool:
    """Whether every statement of a readable policy surely denies: it can open nothing."""
    document, _ = _document(model, properties)
    if document is None:
        return False
    return all(
        isinstance(statement, JsonObject)
        and literal(_text(statement.fields.get("Effect"))) == "Deny"
        for statement in _all_statements(document)
    )


def _text(value):
    return value if isinstance(value, tuple) else None


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


def _wildcard_principal(statement: JsonObject) -> bool:
    principal = statement.fields.get("Principal")
    if isinstance(principal, JsonObject):
        principal = principal.fields.get("AWS")
    return any(literal(_text(p)) == "*" for p in _values(principal))


def _principal_arn_conditions(statement: JsonObject):
    """(operator without set/IfExists qualifiers, values) of each aws:PrincipalArn condition."""
    conditions = statement.fields.get("Condition")
    if not isinstance(conditions, JsonObject):
        return
    for operator, tests in conditions.fields.items():
        if not isinstance(tests, JsonObject):
            continue
        base = operator.split(":")[-1].removesuffix("IfExists")
        for key, value in tests.fields.items():
            if key.lower() == "aws:principalarn":
                yield base, [_text(v) for v in _values(value)]


def _is_pattern(text) -> bool:
    return text is not None and any(c in literal_parts(text) for c in "*?")


class WildcardPrincipalNotPinned(ModelRule, CloudFormationLintRule):
    id = "W9601"
    shortdesc = "Secret resource policy allows any principal without pinning role ARNs"
    description = (
        'A statement with Principal "*" and no aws:PrincipalArn condition lets every '
        "principal the other conditions admit read the secret; name the rotation roles instead."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for name, properties in _policies(model):
            for path, statement in _statements(model, name, properties):
                pinned = next(_principal_arn_conditions(statement), None) is not None
                if _wildcard_principal(statement) and not pinned:
                    yield finding(
                        path,
                        f'resource policy {name} allows Principal "*" with no aws:PrincipalArn '
                        "condition, so any principal its other conditions admit can use the "
                        "secret",
                        f"pin the statement to the exact rotation role ARNs ({PIN}); {LOOKUP}",
                    )


class WildcardRolePattern(ModelRule, CloudFormationLintRule):
    id = "W9602"
    shortdesc = "Secret resource policy matches role ARNs with a wildcard pattern"
    description = (
        "An aws:PrincipalArn condition with * or ? under StringLike or ArnLike admits every "
        "role whose name fits the pattern, such as every rotation role in the account, not "
        "just the ones that need the secret."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for name, properties in _policies(model):
            for path, statement in _statements(model, name, properties):
                for operator, values in _principal_arn_conditions(statement):
                    if operator not in ("StringLike", "ArnLike"):
                        continue
                    for value in values:
                        if _is_pattern(value):
                            yield finding(
                                path,
                                f"resource policy {name} admits aws:PrincipalArn {operator} "
                                f"{render(value)!r}, a pattern that matches any role whose name "
                                "fits",
                                f"use the exact role ARNs with ArnEquals instead; {LOOKUP}",
                            )


class PublicPolicyNotBlocked(ModelRule, CloudFormationLintRule):
    id = "W9603"
    shortdesc = "Secret resource policy without BlockPublicPolicy: true"
    description = (
        "Without BlockPublicPolicy: true Secrets Manager accepts a policy that grants broad "
        "access to the secret (the API does not block public policies by default)."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for name, properties in _policies(model):
            path = ["Resources", name, "Properties"]
            if _only_denies(model, properties):
                continue  # nothing to open, so nothing to block (the CDK writes such policies)
            if "BlockPublicPolicy" not in properties:
                state = "does not set BlockPublicPolicy, and Secrets Manager then accepts"
            elif as_bool(model.reader.scalar(properties["BlockPublicPolicy"])) == {False}:
                path.append("BlockPublicPolicy")
                state = "sets BlockPublicPolicy to false, so Secrets Manager accepts"
            else:
                continue
            yield finding(
                path,
                f"resource policy {name} {state} a policy that opens the secret to a wide "
                "range of principals",
                "set BlockPublicPolicy: true and name the rotation roles exactly; " + LOOKUP,
            )
