"""Rules for resource policies on secrets (AWS::SecretsManager::ResourcePolicy)."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint._json_text import JsonObject
from .._rotation_lint._model import SECRET
from .._rotation_lint._policies import (
    all_statements,
    document,
    policies,
    statements,
    text_of,
    values_of,
)
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import as_bool, literal, literal_parts, render

TAGS = ["secretsmanager", "rotation", "resource-policy"]
LOOKUP = (
    "Custom::LambdaRoleLookup (docs/Custom__LambdaRoleLookup.md) returns each rotation "
    "function's RoleArn"
)
PIN = "Condition ArnEquals aws:PrincipalArn: [!GetAtt <Lookup>.RoleArn, ...]"
GENERIC = "Principal or an aws:PrincipalArn condition with exact ARNs"


def _only_denies(model, policy) -> bool:
    """Whether every statement of a readable policy surely denies: it can open nothing."""
    parsed, _ = document(model, policy.properties)
    if parsed is None:
        return False
    return all(
        isinstance(statement, JsonObject)
        and literal(text_of(statement.fields.get("Effect"))) == "Deny"
        for statement in all_statements(parsed)
    )


def _fix(model, policy, first: str) -> str:
    """The fix: about rotation roles only when the policy's secret is an admin secret."""
    secret = model.reader.resource(policy.properties.get("SecretId"), SECRET)
    if secret and secret in model.admin_secrets():
        return f"{first} and name the rotation roles exactly; {LOOKUP}"
    return f"{first} and name exactly the principals that need the secret ({GENERIC})"


def _wildcard_principal(statement: JsonObject) -> bool:
    principal = statement.fields.get("Principal")
    if isinstance(principal, JsonObject):
        principal = principal.fields.get("AWS")
    return any(literal(text_of(p)) == "*" for p in values_of(principal))


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
                yield base, [text_of(v) for v in values_of(value)]


def _is_pattern(text) -> bool:
    return text is not None and any(c in literal_parts(text) for c in "*?")


class WildcardPrincipalNotPinned(ModelRule, CloudFormationLintRule):
    id = "WR601"
    shortdesc = "Secret resource policy allows any principal without pinning role ARNs"
    description = (
        'A statement with Principal "*" and no aws:PrincipalArn condition lets every '
        "principal the other conditions admit read the secret; name the rotation roles instead."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for policy in policies(model):
            for path, statement in statements(model, policy):
                pinned = next(_principal_arn_conditions(statement), None) is not None
                if _wildcard_principal(statement) and not pinned:
                    yield finding(
                        path,
                        f'resource policy {policy.name} allows Principal "*" with no '
                        "aws:PrincipalArn condition, so any principal its other conditions "
                        f"admit can use the secret{policy.when}",
                        _fix(model, policy, f"pin the statement with {PIN}"),
                    )


class WildcardRolePattern(ModelRule, CloudFormationLintRule):
    id = "WR602"
    shortdesc = "Secret resource policy matches role ARNs with a wildcard pattern"
    description = (
        "An aws:PrincipalArn condition with * or ? under StringLike or ArnLike admits every "
        "role whose name fits the pattern, such as every rotation role in the account, not "
        "just the ones that need the secret."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for policy in policies(model):
            for path, statement in statements(model, policy):
                for operator, values in _principal_arn_conditions(statement):
                    if operator not in ("StringLike", "ArnLike"):
                        continue
                    for value in values:
                        if _is_pattern(value):
                            yield finding(
                                path,
                                f"resource policy {policy.name} admits aws:PrincipalArn "
                                f"{operator} {render(value)!r}, a pattern that matches any role "
                                f"whose name fits{policy.when}",
                                _fix(model, policy, "use exact ARNs with ArnEquals"),
                            )


class PublicPolicyNotBlocked(ModelRule, CloudFormationLintRule):
    id = "WR603"
    shortdesc = "Secret resource policy without BlockPublicPolicy: true"
    description = (
        "Without BlockPublicPolicy: true Secrets Manager accepts a policy that grants broad "
        "access to the secret (the API does not block public policies by default)."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for policy in policies(model):
            properties, path = policy.properties, policy.path
            if _only_denies(model, policy):
                continue  # nothing to open, so nothing to block (the CDK writes such policies)
            if "BlockPublicPolicy" not in properties:
                state = "does not set BlockPublicPolicy, and Secrets Manager then accepts"
                if "BlockPublicPolicy" in model.reader.resources[policy.name]["Properties"]:
                    path = [*path, "BlockPublicPolicy"]  # an Fn::If branch removes it
            elif as_bool(model.reader.scalar(properties["BlockPublicPolicy"])) == {False}:
                path = [*path, "BlockPublicPolicy"]
                state = "sets BlockPublicPolicy to false, so Secrets Manager accepts"
            else:
                continue
            yield finding(
                path,
                f"resource policy {policy.name}{policy.when} {state} a policy that opens the "
                "secret to a wide range of principals",
                _fix(model, policy, "set BlockPublicPolicy: true"),
            )
