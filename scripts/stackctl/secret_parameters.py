"""Parameters inside a generated secret: which ones, and what an update of one does.

CloudFormation writes a whole new value, with a new password, into an AWS::SecretsManager::Secret
whenever anything under its GenerateSecretString changes, a parameter in SecretStringTemplate
included (cloudformation-coverage-roadmap #1161, #2210). The template itself says whether
anything follows such a value into the database:

- FOLLOWED: a Custom::MySQLUser whose AppSecretArn is the secret and whose AppSecretGeneration is
  the same GenerateSecretString hears of it and sets the new password (or creates a renamed user);
- REFUSED: a cluster that takes its master user and password from the secret through dynamic
  references cannot: CloudFormation does not resolve an unchanged reference again, and a new
  master user name would replace the cluster;
- BREAKS: nothing follows; logins with the secret and its next rotation would fail.

make deploy refuses a change of a REFUSED or BREAKS parameter before any change set (`check`,
one of judge.TEMPLATE_JUDGEMENTS); `make docs` writes the table of all of them into
docs/templates.md, and each such parameter's Description says the same for `aws cloudformation
deploy` users.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .values import Problem, Values

SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 (a type name)
USER = "Custom::MySQLUser"
CLUSTER_TYPES = frozenset({"AWS::RDS::DBCluster", "AWS::RDS::DBInstance"})
GENERATION = "AppSecretGeneration"
DYNAMIC_REFERENCE = "{{resolve:secretsmanager:"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_PLACEHOLDER = "9{:04d}27182818"
_PLACEHOLDER_FOUND = re.compile(r"9(\d{4})27182818")
# Phrases each parameter's Description carries, so `aws cloudformation deploy` users read it too.
DESCRIPTION_SAYS = {
    "followed": "new application password",
    "refused": "Fixed for the stack's life",
}


class Effect(enum.Enum):
    FOLLOWED = "followed"
    REFUSED = "refused"
    BREAKS = "breaks"


@dataclass(frozen=True)
class SecretParameter:
    """`name` (a parameter, or a resource's Ref/attribute) reaches `secret`'s GenerateSecretString,
    under `keys` of its SecretStringTemplate JSON ("" when the place is not a plain JSON value)."""

    name: str
    secret: str
    keys: tuple[str, ...]
    effect: Effect
    follower: str = ""  # the Custom::MySQLUser, or the cluster, whose reaction decides
    retain_parameter: str = ""  # what the follower's RetainOnDelete comes from
    admin_readers: tuple[str, ...] = ()  # Custom::MySQLUser resources that log in with it

    @property
    def refused(self) -> bool:
        return self.effect is not Effect.FOLLOWED

    def what_breaks(self, code: bool = False) -> str:
        """For a refused change: what would happen, in one sentence (`code`: names in
        backquotes, for Markdown)."""

        def name(text: str) -> str:
            return f"`{text}`" if code else text

        if self.effect is Effect.REFUSED:
            written = (
                "a new user name and password" if "username" in self.keys else "a new password"
            )
            failing = [
                "every login with the admin secret",
                "its rotation",
                *(f"{name(reader)}'s updates" for reader in self.admin_readers),
            ]
            listed = ", ".join(failing[:-1]) + " and " + failing[-1]
            return (
                f"CloudFormation would write {written} into {name(self.secret)} while "
                f"{name(self.follower)} keeps its master user and password (CloudFormation does "
                "not resolve an unchanged dynamic reference again, and a new master user name "
                f"would replace the cluster), so {listed} would fail"
            )
        return (
            f"CloudFormation would write a new password into {name(self.secret)} that nothing "
            "sets in the database, so logins with the secret and its next rotation would fail"
        )

    @property
    def way_out(self) -> str:
        """For a refused change: what to do instead, after "keep the stack's value"."""
        if self.effect is Effect.REFUSED and "username" in self.keys:
            return "a cluster's master user name never changes: another name needs a new stack"
        if self.effect is Effect.REFUSED:
            return "the cluster never takes a value its admin secret was given anew"
        return (
            "to change it, the template must first let something set the new password (a "
            "Custom::MySQLUser with AppSecretGeneration; see docs/templates.md, Parameters inside "
            "a generated secret)"
        )

    def what_an_update_does(self) -> str:
        """The docs table's text: what an update of this value alone does."""
        if self.refused:
            return (
                f"Refused by `make deploy`: {self.what_breaks(code=True)}. Keep the stack's "
                f"value; {self.way_out}."
            )
        first = f"CloudFormation generates a new password in `{self.secret}`; `{self.follower}` "
        return first + _FOLLOWS.get(self.keys[0] if self.keys else "", _FOLLOWS[""]).format(
            retain=f"`{self.retain_parameter}`" if self.retain_parameter else "`RetainOnDelete`"
        )


_FOLLOWS = {
    "username": (
        "creates the user of the new name with it and exactly its grants (refused, before any "
        "change, when someone else's account has that name); the next rotation makes its "
        "`_clone`. The old user and its clone are dropped, or kept (no longer the stack's) while "
        "{retain} was `true`."
    ),
    "dbname": (
        "sets it and moves the grants of the user and its clone to the new database, which must "
        "exist or be created by the stack; the old database stays."
    ),
    "host": (
        "finds the user at the new address and sets it there. For the same cluster renamed, the "
        "user is the stack's own (its ownership mark) and stays; a self-managed admin secret's "
        "`host` must name the new endpoint too, since the rotation refuses two hosts. The old "
        "address's cleanup keeps the user while {retain} is `true`."
    ),
    "port": (
        "finds the user on the new port and sets it there; the old port's cleanup reaches no "
        "server once the cluster moved, and keeps the user while {retain} is `true` if it does. "
        "Change it after the cluster's port changed."
    ),
    "dbClusterIdentifier": "sets it; nothing else changes.",
    "masterarn": (
        "logs in with the new admin secret and sets it; the rotation reads the new admin secret "
        "from then on, so it must open the same cluster."
    ),
    "": "sets it in the database.",
}


def analyse(template: Mapping[str, Any]) -> list[SecretParameter]:
    """Every parameter and resource reference inside a secret's GenerateSecretString, in the
    order the secrets and then their template text name them."""
    resources = {k: v for k, v in (template.get("Resources") or {}).items() if isinstance(v, dict)}
    parameters = template.get("Parameters") or {}
    found = []
    for secret, body in resources.items():
        generate = (body.get("Properties") or {}).get("GenerateSecretString")
        if body.get("Type") != SECRET or not isinstance(generate, Mapping):
            continue
        effect, follower, retain = _reaction(secret, generate, resources)
        readers = tuple(
            name
            for name, other in resources.items()
            if other.get("Type") == USER
            and (other.get("Properties") or {}).get("AdminSecretArn") == {"Ref": secret}
        )
        keys = _json_keys(generate.get("SecretStringTemplate"))
        for name in _ordered_references(generate):
            base = name.split(".", 1)[0]
            if base.startswith("AWS::") or (base not in parameters and base not in resources):
                continue
            found.append(
                SecretParameter(
                    name=name,
                    secret=secret,
                    keys=tuple(keys.get(name, ())) or ("",),
                    effect=effect,
                    follower=follower,
                    retain_parameter=retain,
                    admin_readers=readers,
                )
            )
    return found


def parameters_in_secrets(template: Mapping[str, Any]) -> list[SecretParameter]:
    """`analyse`, parameters only (resource references change only when a resource is
    replaced)."""
    names = set(template.get("Parameters") or {})
    return [found for found in analyse(template) if found.name in names]


def _reaction(
    secret: str, generate: Mapping, resources: dict[str, dict]
) -> tuple[Effect, str, str]:
    """Who follows a new value of `secret`, and how; with the follower's logical ID and the
    parameter its RetainOnDelete comes from."""
    for name, body in resources.items():
        if body.get("Type") in CLUSTER_TYPES and _resolves_secret(body.get("Properties"), secret):
            return Effect.REFUSED, name, ""
    for name, body in resources.items():
        given = body.get("Properties") or {}
        if (
            body.get("Type") == USER
            and given.get("AppSecretArn") == {"Ref": secret}
            and given.get(GENERATION) == generate
        ):
            retain = given.get("RetainOnDelete")
            ref = retain.get("Ref") if isinstance(retain, Mapping) else None
            return Effect.FOLLOWED, name, ref if isinstance(ref, str) else ""
    return Effect.BREAKS, "", ""


def _resolves_secret(node: Any, secret: str) -> bool:
    """Whether `node` holds a secretsmanager dynamic reference to `secret` (by Ref or ${})."""
    text = json.dumps(node)
    return DYNAMIC_REFERENCE in text and (
        "${" + secret + "}" in text or json.dumps({"Ref": secret}) in text
    )


def _ordered_references(node: Any) -> list[str]:
    """Names a value refers to, first occurrence first: Ref targets, Fn::GetAtt as
    "Resource.Attribute", and ${Name} in Fn::Sub (not its own variables)."""
    names: list[str] = []

    def add(name: str) -> None:
        if name not in names:
            names.append(name)

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
            return
        if not isinstance(value, Mapping):
            return
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                add(argument)
            elif key == "Fn::GetAtt" and isinstance(argument, list):
                add(".".join(str(part) for part in argument))
            elif key == "Fn::GetAtt" and isinstance(argument, str):
                add(argument)
            elif key == "Fn::Sub":
                text, local = (argument, {}) if isinstance(argument, str) else [*argument, {}][:2]
                for name in _SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
                    if name not in local:
                        add(name)
                walk(local)
            else:
                walk(argument)

    walk(node)
    return names


def _json_keys(value: Any) -> dict[str, list[str]]:
    """For a SecretStringTemplate written as Fn::Sub over JSON: the JSON key each ${Name} lands
    in. Other forms give {} (the place of a value is then unknown)."""
    argument = value.get("Fn::Sub") if isinstance(value, Mapping) else None
    text = argument if isinstance(argument, str) else None
    if text is None:
        return {}
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        names.append(match.group(1))
        return _PLACEHOLDER.format(len(names) - 1)

    # Digits only: a valid JSON number where ${Port} stands unquoted, and plain text in a string.
    try:
        document = json.loads(_SUB_VARIABLE.sub(placeholder, text))
    except ValueError:
        return {}
    keys: dict[str, list[str]] = {}
    if isinstance(document, dict):
        for key, item in document.items():
            for index in _PLACEHOLDER_FOUND.findall(str(item)):
                keys.setdefault(names[int(index)], []).append(key)
    return keys


def check(values: Values) -> list[Problem]:
    """A judgement (judge.TEMPLATE_JUDGEMENTS): on an update, each parameter inside a generated
    secret that nothing would follow and that this deploy changes, with what would break and the
    way out. Adds nothing before the stack is known (`values.changed` is None then) nor to a new
    stack, whose secrets are generated for the first time."""
    facts = values.facts
    template = {"Parameters": facts.parameters, "Resources": facts.resources}
    problems = []
    for found in parameters_in_secrets(template):
        name = found.name
        if not found.refused or not values.changed(name):
            continue
        old = values.previous[name]
        problems.append(
            Problem(
                f"{name} cannot change on this stack ({old!r} now, {values.get(name)!r} given): "
                f"{found.what_breaks()}. Keep {name}={old} (leave it out of PARAMS); "
                f"{found.way_out}.",
                (name,),
            )
        )
    return problems
