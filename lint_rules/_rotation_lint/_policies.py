"""Secret resource policies (AWS::SecretsManager::ResourcePolicy) as the rules read them.

Each policy is read once per condition scenario of its own properties: an `Fn::If` in
`BlockPublicPolicy` or in a statement is judged branch by branch, as everywhere else.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from ._json_text import JsonObject, parse
from ._values import Hole, is_intrinsic, literal, literal_parts

POLICY = "AWS::SecretsManager::ResourcePolicy"
GET_SECRET_VALUE = "secretsmanager:getsecretvalue"  # noqa: S105 - an action name
_ACCOUNT = re.compile(r"^(\d{12}|arn:aws[\w-]*:iam::\d{12}:root)$")


class Policy(NamedTuple):
    name: str
    properties: dict  # settled for one scenario
    scenario: dict  # the conditions of its own Fn::Ifs, settled

    @property
    def when(self) -> str:
        """' (when C is true)' for a policy read in a scenario, '' otherwise."""
        if not self.scenario:
            return ""
        settled = ", ".join(f"{c} is {str(v).lower()}" for c, v in sorted(self.scenario.items()))
        return f" (when {settled})"

    @property
    def path(self) -> list:
        return ["Resources", self.name, "Properties"]


def policies(model) -> Iterator[Policy]:
    """Each resource policy of the template, once per scenario of its own conditions."""
    for name, body in model.reader.resources.items():
        if body.get("Type") != POLICY:
            continue
        for scenario, properties in model.settled(name):
            yield Policy(name, properties, scenario)


def document(model, properties: dict) -> tuple[JsonObject | None, bool]:
    """(policy document, written as a map) when the policy is readable, else (None, False)."""
    return read_document(model, properties.get("ResourcePolicy"))


def read_document(model, raw: Any) -> tuple[JsonObject | None, bool]:
    """(policy document, statements written as a list) of a map or JSON text, else (None,
    False). IAM and resource policies alike."""
    as_map = isinstance(raw, dict) and not is_intrinsic(raw)  # else JSON text (!Sub, !Join…)
    text = model.reader.json_text(raw) if as_map else model.reader.text(raw)
    parsed = parse(text)
    if not isinstance(parsed, JsonObject):
        return None, False
    return parsed, as_map and isinstance(raw.get("Statement"), list)


def statement_paths(parsed: JsonObject, path: list, as_list: bool):
    """(path, statement) of each statement of a read document; `path` leads to the document."""
    for index, statement in enumerate(all_statements(parsed)):
        if isinstance(statement, JsonObject):
            yield ([*path, "Statement", index] if as_list else path), statement


def all_statements(parsed: JsonObject) -> list:
    statements = parsed.fields.get("Statement")
    return statements if isinstance(statements, list) else [statements]


def statements(model, policy: Policy, effect: str = "Allow"):
    """(path, statement) for each statement of the given effect, when the policy is readable."""
    parsed, written_as_map = document(model, policy.properties)
    if parsed is None:
        return
    where = [*policy.path, "ResourcePolicy"]
    for path, statement in statement_paths(parsed, where, written_as_map):
        if literal(text_of(statement.fields.get("Effect"))) == effect:
            yield path, statement


def text_of(value: Any):
    return value if isinstance(value, tuple) else None


def values_of(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def may_let_a_role_read(model, policy: Policy) -> bool:
    """Whether the policy may let a role of this account call GetSecretValue on its secret.

    True for an Allow statement whose actions may include GetSecretValue and whose principal may
    be a role: `*` (conditions may admit the role), a role ARN or a value only known at deploy
    time. An account principal (`123456789012`, `arn:aws:iam::123456789012:root`) is not enough:
    it delegates to the account's IAM policies, and within one account a role then still needs
    an identity policy that allows the call. Anything the rules cannot read counts as may.
    """
    parsed, _ = document(model, policy.properties)
    if parsed is None:
        return "ResourcePolicy" in policy.properties
    return any(
        may_include(statement) and _may_name_a_role(statement)
        for _, statement in statements(model, policy)
    )


def may_include(statement: JsonObject, action: str = GET_SECRET_VALUE) -> bool:
    """Whether the statement's actions may include the action (lower case)."""
    if "NotAction" in statement.fields:
        excluded = [literal(text_of(v)) for v in values_of(statement.fields["NotAction"])]
        return not any(x is not None and _matches(x, action) for x in excluded)
    for value in values_of(statement.fields.get("Action")):
        name = literal(text_of(value))
        if name is None or _matches(name, action):
            return True
    return False


def surely_includes(statement: JsonObject, action: str) -> bool:
    """Whether the statement's actions surely include the action (lower case)."""
    if "NotAction" in statement.fields:
        excluded = [literal(text_of(v)) for v in values_of(statement.fields["NotAction"])]
        return None not in excluded and not any(_matches(x, action) for x in excluded)
    return any(
        (name := literal(text_of(value))) is not None and _matches(name, action)
        for value in values_of(statement.fields.get("Action"))
    )


def _may_name_a_role(statement: JsonObject) -> bool:
    if "NotPrincipal" in statement.fields:
        return True
    principal = statement.fields.get("Principal")
    if isinstance(principal, JsonObject):
        if principal.open_keys:
            return True
        principal = principal.fields.get("AWS")
    return any(not _is_account(text_of(value)) for value in values_of(principal))


def _is_account(text) -> bool:
    """Whether a principal surely names an account (or is no AWS principal at all)."""
    if text is None:
        return True
    name = literal(text)
    if name is not None:
        return bool(_ACCOUNT.match(name))
    if len(text) == 1 and isinstance(text[0], Hole):
        return text[0].target == "AWS::AccountId"
    return literal_parts(text).endswith(":root")


def _matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action, pattern.lower())
