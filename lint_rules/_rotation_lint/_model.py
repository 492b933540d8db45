"""The rotations a template declares, read once per template and shared by every rule.

A `Rotation` is one RotationSchedule under one condition scenario: every Fn::If in the schedule
and in the secrets it names is settled the same way, so a branch is checked only together with
the branches it can really meet. A schedule without conditions has one scenario.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from . import _facts
from ._json_text import JsonObject, parse_object
from ._values import Hole, Reader, condition_names, literal, referenced_names, settle

SCHEDULE = "AWS::SecretsManager::RotationSchedule"
SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type, no password
ATTACHMENT = "AWS::SecretsManager::SecretTargetAttachment"
_ATTACHABLE = (
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::DocDB::DBCluster",
    "AWS::DocDB::DBInstance",
    "AWS::Redshift::Cluster",
)


@dataclass
class Document:
    """What a secret's value holds, as far as the template tells."""

    kind: str  # "json", "plain" (a bare generated password), "invalid", "empty" or "unknown"
    path: list
    value: JsonObject | None = None


@dataclass
class SecretView:
    name: str
    properties: dict
    attachments: list[str]  # SecretTargetAttachments that fill in engine, host and port
    attached_family: str | None  # database family of the attached target, when known
    read: Document | None = field(default=None, compare=False, repr=False)  # see Model.document

    @property
    def path(self) -> list:
        return ["Resources", self.name, "Properties"]


@dataclass
class Rotation:
    name: str
    scenario: dict[str, bool]
    properties: dict
    secret: SecretView | None
    master: SecretView | None
    hosted: dict | None = None

    def path(self, *keys: Any) -> list:
        return ["Resources", self.name, "Properties", *keys]

    @property
    def hosted_path(self) -> list:
        return self.path("HostedRotationLambda")


@dataclass
class Model:
    cfn: Any
    reader: Reader
    rotations: list[Rotation] = field(default_factory=list)
    attachments: dict[str, list[str]] = field(default_factory=dict)
    # One view per secret and settling of the conditions its own properties use, shared by all
    # the rotations (and scenarios) that meet it, so that its JSON is read once.
    views: dict[tuple, SecretView] = field(default_factory=dict)

    def secrets(self) -> list[SecretView]:
        """Every secret of the template, once per condition scenario of its own properties."""
        views = []
        for name, body in self.reader.resources.items():
            if body.get("Type") != SECRET:
                continue
            properties = body.get("Properties")
            conditional = condition_names(properties)
            for scenario in _scenarios(self.cfn, {_condition(body)}, conditional):
                views.append(_secret_view(self, {"Ref": name}, scenario))
        return views

    def settled(self, name: str) -> list[tuple[dict[str, bool], dict]]:
        """(scenario, Properties) of a resource once per different settling of its Fn::Ifs."""
        body = self.reader.resources[name]
        raw = body.get("Properties")
        found: list[tuple[dict[str, bool], dict]] = []
        conditional = condition_names(raw)
        for scenario in _scenarios(self.cfn, {_condition(body)}, conditional):
            properties = settle(raw, scenario)
            if isinstance(properties, dict) and all(properties != p for _, p in found):
                own = {c: v for c, v in scenario.items() if c in conditional}
                found.append((own, properties))
        return found

    def admin_secrets(self) -> set[str]:
        """Secrets an alternating-users rotation logs in with (MasterSecretArn / masterarn)."""
        found = {r.master.name for r in self.rotations if r.master is not None}
        for rotation in self.rotations:
            if rotation.secret is None:
                continue
            document = self.document(rotation.secret)
            if document.kind == "json":
                named = self.reader.resource_in(document.value.fields.get("masterarn"), SECRET)
                if named:
                    found.add(named)
        return found

    def rotation_types(self, rotation: Rotation) -> list[str] | None:
        """The RotationType values the hosted rotation can have, None when unknown."""
        if rotation.hosted is None:
            return None
        return self.reader.scalar(rotation.hosted.get("RotationType"))

    def family(self, rotation: Rotation) -> tuple[str, str] | None:
        """(database family, strategy) of a hosted rotation with one known, valid type."""
        types = self.rotation_types(rotation)
        if not types or len(set(types)) != 1 or types[0] not in _facts.ROTATION_TYPES:
            return None
        for strategy in (_facts.SINGLE_USER, _facts.MULTI_USER):
            if types[0].endswith(strategy):
                return types[0][: -len(strategy)], strategy
        return None

    def document(self, secret: SecretView) -> Document:
        """The secret's JSON from SecretString or GenerateSecretString, read once per view."""
        if secret.read is None:
            secret.read = self._read(secret)
        return secret.read

    def _read(self, secret: SecretView) -> Document:
        properties = secret.properties
        if "SecretString" in properties:
            path = [*secret.path, "SecretString"]
            return self._document(self.reader.text(properties["SecretString"]), path, None)
        generate = properties.get("GenerateSecretString")
        if not isinstance(generate, dict):
            kind = "unknown" if generate is not None else "empty"
            return Document(kind, secret.path)
        path = [*secret.path, "GenerateSecretString"]
        if "SecretStringTemplate" not in generate:
            return Document("plain", path)
        text = self.reader.text(generate["SecretStringTemplate"])
        key = literal(self.reader.text(generate.get("GenerateStringKey")))
        return self._document(text, [*path, "SecretStringTemplate"], key)

    @staticmethod
    def _document(text: Any, path: list, generated_key: str | None) -> Document:
        if text is None:
            return Document("unknown", path)
        parsed = parse_object(text)
        if parsed is None:
            readable = literal(text) is not None  # no hole, no dynamic reference
            return Document("invalid" if readable else "unknown", path)
        if generated_key is not None:
            parsed.fields.setdefault(generated_key, ("",))
        return Document("json", path, parsed)


_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def model_for(cfn: Any) -> Model:
    """The rotation model of a cfn-lint Template, built on first use."""
    model = _MODELS.get(cfn)
    if model is None:
        model = _build(cfn)
        _MODELS[cfn] = model
    return model


def _build(cfn: Any) -> Model:
    reader = Reader(cfn.template)
    model = Model(cfn, reader)
    for name, body in reader.resources.items():
        if body.get("Type") == ATTACHMENT and isinstance(body.get("Properties"), dict):
            secret = reader.resource(body["Properties"].get("SecretId"), SECRET)
            if secret:
                model.attachments.setdefault(secret, []).append(name)
    for name, body in reader.resources.items():
        if body.get("Type") == SCHEDULE and isinstance(body.get("Properties"), dict):
            model.rotations.extend(_rotations(cfn, model, name, body))
    return model


def _rotations(cfn: Any, model: Model, name: str, body: dict) -> list[Rotation]:
    reader = model.reader
    raw = body["Properties"]
    named = (reader.resource_in((Hole("Ref", other),), SECRET) for other in referenced_names(raw))
    secrets = {secret: reader.resources[secret] for secret in named if secret}
    fixed = {_condition(body)} | {_condition(secret) for secret in secrets.values()}
    conditional = condition_names(raw).union(
        *(condition_names(s.get("Properties")) for s in secrets.values())
    )
    rotations = []
    for scenario in _scenarios(cfn, fixed, conditional):
        properties = settle(raw, scenario)
        if not isinstance(properties, dict):
            continue  # the whole Properties is AWS::NoValue (or no map) in this scenario
        hosted = properties.get("HostedRotationLambda")
        hosted = hosted if isinstance(hosted, dict) else None
        master = None
        if hosted is not None:
            master_arn = hosted.get("MasterSecretArn", hosted.get("SuperuserSecretArn"))
            master = _secret_view(model, master_arn, scenario)
        secret = _secret_view(model, properties.get("SecretId"), scenario)
        rotation = Rotation(name, scenario, properties, secret, master, hosted)
        if not any(_same(rotation, seen) for seen in rotations):
            rotations.append(rotation)
    return rotations


def _same(first: Rotation, second: Rotation) -> bool:
    """Whether two scenarios settle a schedule and its secrets alike (only one is checked)."""
    return (
        first.secret is second.secret
        and first.master is second.master
        and first.properties == second.properties
    )


def _condition(body: dict) -> str | None:
    """The resource's Condition when it is a name (anything else is no condition to settle)."""
    condition = body.get("Condition")
    return condition if isinstance(condition, str) else None


def _scenarios(cfn: Any, fixed: set, conditional: set[str]) -> list[dict[str, bool]]:
    wanted: dict[str, set[bool]] = {c: {True, False} for c in conditional}
    wanted.update({c: {True} for c in fixed if isinstance(c, str)})
    if not wanted:
        return [{}]
    return list(cfn.conditions.build_scenarios(wanted))


def _secret_view(model: Model, value: Any, scenario: dict[str, bool]) -> SecretView | None:
    reader = model.reader
    name = reader.resource(value, SECRET)
    if name is None:
        return None
    raw = reader.resources[name].get("Properties")
    own = condition_names(raw)
    key = (name, *sorted((c, v) for c, v in scenario.items() if c in own))
    if key not in model.views:
        properties = settle(raw, scenario)
        attachments = model.attachments.get(name, [])
        families = {_attached_family(reader, a) for a in attachments}
        family = families.pop() if len(families) == 1 else None
        properties = properties if isinstance(properties, dict) else {}
        model.views[key] = SecretView(name, properties, attachments, family)
    return model.views[key]


def _attached_family(reader: Reader, attachment: str) -> str | None:
    """The database family a SecretTargetAttachment writes into the secret, when known."""
    properties = reader.resources[attachment]["Properties"]
    target = reader.resource(properties.get("TargetId"), *_ATTACHABLE)
    if target is None:
        return None
    target_type = reader.resources[target].get("Type")
    if target_type in _facts.TARGET_TYPE_FAMILIES:
        return _facts.TARGET_TYPE_FAMILIES[target_type]
    target_properties = reader.resources[target].get("Properties")
    if not isinstance(target_properties, dict):
        return None
    engines = reader.scalar(target_properties.get("Engine")) or []
    families = {_engine_family(engine) for engine in engines}
    return families.pop() if len(families) == 1 else None


def _engine_family(engine: str) -> str | None:
    lowered = engine.lower()
    for prefix, family in _facts.TARGET_ENGINE_FAMILIES:
        if lowered.startswith(prefix):
            return family
    return None
