"""Rules for resource policies on secrets (AWS::SecretsManager::ResourcePolicy)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint._iam import ROLE
from .._rotation_lint._json_text import JsonObject
from .._rotation_lint._model import SECRET
from .._rotation_lint._policies import (
    all_statements,
    document,
    policies,
    statements,
    surely_includes,
    text_of,
    values_of,
)
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import Hole, as_bool, literal, literal_parts, render

TAGS = ["secretsmanager", "rotation", "resource-policy"]
SAM_FUNCTION = "AWS::Serverless::Function"
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


# -- ER604: a Deny the rotation function falls under ------------------------------------------
# What a rotation function calls on the secret it rotates, and on an admin secret it logs in with
# (the actions of the execution role policy in the Secrets Manager user guide).
ROTATED_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
ADMIN_ACTIONS = ("secretsmanager:GetSecretValue",)
_EXCEPTIONS = ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike")
# The stack's own account as a principal: `!Ref AWS::AccountId` or its root ARN. It stands for
# every principal of the account, the rotation role (a Lambda function's role is in the
# function's account) included. A literal account id may be another account: not judged.
_OWN_ACCOUNT = re.compile(
    r"\$\{AWS::AccountId\}|arn:(aws[\w-]*|\$\{AWS::Partition\}):iam::\$\{AWS::AccountId\}:root"
)
# Pseudo parameters a principal ARN is built with; any other hole may be any principal.
_PSEUDO = ("AWS::Partition", "AWS::AccountId", "AWS::Region", "AWS::URLSuffix")


@dataclass(frozen=True)
class RotationRole:
    """Who the rotation function runs as: a role of the template, a role made elsewhere (by the
    transform, a rotation app or SAM), or a role the template does not tell."""

    kind: str  # "template", "elsewhere" or "unknown"
    name: str | None = None

    @classmethod
    def of(cls, model, rotation) -> RotationRole:
        if rotation.hosted is not None:
            return cls("elsewhere")
        if rotation.function is None:
            return cls("unknown")
        properties = model.reader.resources[rotation.function].get("Properties") or {}
        if "Role" not in properties:  # SAM generates one; a Lambda function needs one
            generated = model.reader.resources[rotation.function].get("Type") == SAM_FUNCTION
            return cls("elsewhere" if generated else "unknown")
        role = model.reader.resource(properties["Role"], ROLE)
        return cls("template", role) if role else cls("unknown")

    def described(self) -> str:
        return f"role {self.name}" if self.kind == "template" else "the rotation role"


def _read_secrets(model):
    """(rotation, secret, what it is, actions the function calls on it)."""
    for rotation in model.rotations:
        if rotation.secret is not None:
            yield rotation, rotation.secret.name, "rotated secret", ROTATED_ACTIONS
        admin = rotation.master.name if rotation.master is not None else None
        if admin is None and rotation.hosted is not None and rotation.secret is not None:
            document = model.document(rotation.secret)
            if document.kind == "json":
                admin = model.reader.resource_in(document.value.fields.get("masterarn"), SECRET)
        if admin is not None:
            yield rotation, admin, "admin secret", ADMIN_ACTIONS


def _is_not_role(model, text, role: RotationRole) -> bool:
    """Whether an aws:PrincipalArn value surely names someone other than the rotation role."""
    if text is None or "*" in literal_parts(text) or "?" in literal_parts(text):
        return False
    named = model.reader.resource_in(text)
    if named is not None:
        kind = model.reader.resources[named].get("Type")
        principal = kind in (ROLE, "AWS::IAM::User")
        return principal and (
            named != role.name if role.kind == "template" else role.kind == "elsewhere"
        )
    tail = text[-1] if isinstance(text[-1], str) else ""
    if tail.endswith(":root") or ":user/" in tail:
        return True  # an account's root user, or an IAM user, is never the role
    return _other_role_name(model, tail, role)


def _other_role_name(model, tail: str, role: RotationRole) -> bool:
    """Whether an ARN ending in a literal `role/<name>` names another role than the template's
    role: its RoleName differs, or it has none (CloudFormation then generates a name with a
    random suffix, which no name written in the template equals)."""
    name = tail.rsplit("role/", 1)[-1].rsplit("/", 1)[-1] if "role/" in tail else ""
    if role.kind != "template" or not name:
        return False
    properties = model.reader.resources[role.name].get("Properties")
    if not isinstance(properties, dict):
        return False
    if "RoleName" not in properties:
        return True
    names = model.reader.scalar(properties.get("RoleName"))
    return names is not None and name not in names


def _aws_principals(value) -> list | None:
    """The AWS principals of a Principal or NotPrincipal value; None when a key is unknown."""
    if isinstance(value, JsonObject):
        if value.open_keys:
            return None
        value = value.fields.get("AWS")
        if value is None:
            return []
    return values_of(value)


def _may_spare_session(model, value) -> bool:
    """Whether a NotPrincipal value may name the rotation function's role session.

    With Deny, NotPrincipal spares a role's session only when it lists the session's
    assumed-role ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`); the role's ARN
    or its account's ARN alone leave the session denied (IAM, "NotPrincipal with Deny")."""
    text = text_of(value)
    if text is None:
        return True
    named = model.reader.resource_in(text)
    if named is not None:
        return model.reader.resources[named].get("Type") not in (ROLE, "AWS::IAM::User")
    if any(isinstance(p, Hole) and p.target not in _PSEUDO for p in text):
        return True  # a parameter, an import: any principal
    written = literal_parts(text)
    return "*" in written or "assumed-role/" in written


def _covers_role(model, statement: JsonObject, role: RotationRole) -> bool:
    if "NotPrincipal" in statement.fields:
        spared = _aws_principals(statement.fields["NotPrincipal"])
        return spared is not None and not any(_may_spare_session(model, v) for v in spared)
    for value in _aws_principals(statement.fields.get("Principal")) or ():
        text = text_of(value)
        if literal(text) == "*" or (text and _OWN_ACCOUNT.fullmatch(render(text))):
            return True
        if role.kind == "template" and model.reader.resource_in(text, ROLE) == role.name:
            return True
    return False


def _applies(model, statement: JsonObject, role: RotationRole) -> bool:
    """Whether every condition of the Deny surely holds for the rotation function's calls."""
    conditions = statement.fields.get("Condition")
    if conditions is None:
        return True
    if not isinstance(conditions, JsonObject) or conditions.open_keys:
        return False
    for operator, tests in conditions.fields.items():
        base = operator.split(":")[-1].removesuffix("IfExists")
        if not isinstance(tests, JsonObject) or tests.open_keys:
            return False
        for key, value in tests.fields.items():
            texts = [_condition_text(v) for v in values_of(value)]
            if not _holds(model, base, key.lower(), texts, role):
                return False
    return True


def _holds(model, operator: str, key: str, texts: list, role: RotationRole) -> bool:
    """Whether one condition test surely holds for the rotation function's calls: an
    aws:PrincipalArn exception that names only others, or aws:SecureTransport true (the
    function calls over TLS). Any other test cannot be evaluated here."""
    if key == "aws:principalarn" and operator in _EXCEPTIONS:
        return all(_is_not_role(model, t, role) for t in texts)
    if key == "aws:securetransport" and operator == "Bool":
        return {(literal(t) or "").lower() for t in texts} == {"true"}
    return False


def _condition_text(value):
    """A condition value as text: an unquoted YAML/JSON boolean is its text, as IAM reads it."""
    if isinstance(value, bool):
        return ("true" if value else "false",)
    return text_of(value)


class DenyWithoutRotationException(ModelRule, CloudFormationLintRule):
    id = "ER604"
    shortdesc = "Secret resource policy denies the rotation function"
    description = (
        "An explicit Deny overrides every Allow. A resource policy on a rotated secret (or on "
        "the admin secret an alternating-users rotation logs in with) that denies the actions "
        "the rotation function calls to every principal, with no exception for the rotation "
        "role, makes every rotation fail."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        read = list(_read_secrets(model))
        if not read:
            return
        for policy in policies(model):
            secret = model.reader.resource(policy.properties.get("SecretId"), SECRET)
            for rotation, name, what, actions in read:
                if name != secret:
                    continue
                role = RotationRole.of(model, rotation)
                for path, statement in statements(model, policy, "Deny"):
                    denied = [a for a in actions if surely_includes(statement, a.lower())]
                    if not denied or not _covers_role(model, statement, role):
                        continue
                    if not _applies(model, statement, role):
                        continue
                    yield finding(
                        path,
                        f"resource policy {policy.name}{policy.when} denies "
                        f"{', '.join(denied)} on {what} {name} to {_whom(statement)}, with no "
                        f"exception for {role.described()} of schedule {rotation.name}; an "
                        "explicit Deny overrides every Allow, so the rotation function is "
                        "refused (AccessDeniedException) and every rotation fails",
                        "exempt the rotation role: Condition ArnNotEquals aws:PrincipalArn: "
                        f"[{_role_arn(role)}], or deny only actions the rotation does not call",
                    )


def _whom(statement: JsonObject) -> str:
    if "NotPrincipal" in statement.fields:
        return (
            "every principal but those NotPrincipal names (with Deny it spares a role's session "
            "only by its assumed-role ARN, not by the role's ARN)"
        )
    principals = [text_of(v) for v in _aws_principals(statement.fields.get("Principal")) or ()]
    if any(literal(t) == "*" for t in principals):
        return "every principal"
    if any(t and _OWN_ACCOUNT.fullmatch(render(t)) for t in principals):
        return "every principal of the stack's account"
    return "the rotation role itself"


def _role_arn(role: RotationRole) -> str:
    if role.kind == "template":
        return f"!GetAtt {role.name}.Arn"
    return (
        "the rotation role's ARN (for a hosted rotation, !GetAtt <Lookup>.RoleArn of a "
        "Custom::LambdaRoleLookup)"
    )
