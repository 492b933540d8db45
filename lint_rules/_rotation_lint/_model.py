"""The rotations a template declares, read once per template and shared by every rule.

A `Rotation` is one RotationSchedule under one condition scenario: every Fn::If in the schedule
and in the secrets it names is settled the same way, so a branch is checked only together with
the branches it can really meet. A schedule without conditions has one scenario.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx

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
# Rotation functions a RotationLambdaARN can name in the template.
APPLICATIONS = ("AWS::Serverless::Application", "AWS::CloudFormation::Stack")
FUNCTIONS = ("AWS::Lambda::Function", "AWS::Serverless::Function")
# The Serverless Application Repository's rotation apps, as older templates and the CDK use
# them: SecretsManagerRDSMySQLRotationMultiUser, SecretsManagerMongoDBRotationSingleUser…
_APP_ID = re.compile(r"SecretsManager(?:RDS)?([A-Za-z0-9]+?)Rotation(SingleUser|MultiUser)$")
_APP_TAG = "serverlessrepo:applicationId"  # the SAM transform tags the nested stack with it
# HostedRotationLambda key -> the same setting among a rotation app's parameters.
APP_PARAMETERS = {
    "MasterSecretArn": "masterSecretArn",
    "MasterSecretKmsKeyArn": "masterSecretKmsKeyArn",
    "KmsKeyArn": "kmsKeyArn",
    "VpcSubnetIds": "vpcSubnetIds",
    "VpcSecurityGroupIds": "vpcSecurityGroupIds",
    "ExcludeCharacters": "excludeCharacters",
    "RotationLambdaName": "functionName",
}


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
    # Engine values the attached targets can have (their parameters' AllowedValues included).
    attached_engines: list[tuple[str, str]] = field(default_factory=list)  # (engine, target)
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
    # The rotation function's settings under HostedRotationLambda's names: the
    # HostedRotationLambda itself, or those a Serverless Application Repository app takes.
    hosted: dict | None = None
    app: str | None = None  # the rotation app (AWS::Serverless::Application) providing them
    function: str | None = None  # a Lambda function of the template named by RotationLambdaARN

    def path(self, *keys: Any) -> list:
        return ["Resources", self.name, "Properties", *keys]

    @property
    def hosted_path(self) -> list:
        if self.app:
            return ["Resources", self.app, "Properties", "Parameters"]
        return self.path("HostedRotationLambda")

    def setting_path(self, key: str) -> list:
        """Where a HostedRotationLambda setting is written (or would go) for this function."""
        if self.app and key == "RotationType":
            return ["Resources", self.app, "Properties", "Location"]
        if self.app:
            return [*self.hosted_path, *([APP_PARAMETERS[key]] if key in self.hosted else [])]
        return [*self.hosted_path, key]

    def setting(self, key: str) -> str:
        """A setting's name as the template writes it, for messages."""
        if self.app:
            return f"parameter {APP_PARAMETERS.get(key, key)} of application {self.app}"
        return key

    @property
    def provider(self) -> str:
        """What builds the rotation function, for messages."""
        return f"rotation application {self.app}" if self.app else "HostedRotationLambda"


@dataclass
class Model:
    # Weak: _MODELS keeps a model while cfn-lint keeps its template; a strong reference here
    # would keep the template, and with it the model, for as long as the process runs.
    template_ref: weakref.ReferenceType
    reader: Reader
    rotations: list[Rotation] = field(default_factory=list)
    attachments: dict[str, list[str]] = field(default_factory=dict)
    # One view per secret and settling of the conditions its own properties use, shared by all
    # the rotations (and scenarios) that meet it, so that its JSON is read once.
    views: dict[tuple, SecretView] = field(default_factory=dict)
    # What several rules derive from the template (the network, the security groups), built
    # by the first rule that asks.
    derived: dict[str, Any] = field(default_factory=dict)

    @property
    def cfn(self) -> Any:
        """The cfn-lint Template the model reads."""
        return self.template_ref()

    def shared(self, key: str, build: Callable[[Model], Any]) -> Any:
        """The value `build(model)` gives, built once per template."""
        if key not in self.derived:
            self.derived[key] = build(self)
        return self.derived[key]

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

    def waits_for(self, name: str, other: str) -> bool | None:
        """Whether resource `name` is created after `other` (DependsOn, a reference, or through
        other resources: cfn-lint's template graph); None when the graph does not hold both."""
        graph = getattr(self.cfn.graph, "graph", None)
        if graph is None or name not in graph or other not in graph:
            return None
        return networkx.has_path(graph, name, other)

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
    model = Model(weakref.ref(cfn), reader)
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
    named = {
        found
        for other in referenced_names(raw)
        if (found := reader.resource_in((Hole("Ref", other),), SECRET, *APPLICATIONS))
    }
    secrets = {secret: reader.resources[secret] for secret in named}
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
        app = function = None
        if hosted is None and "RotationLambdaARN" in properties:
            target = reader.resource(properties["RotationLambdaARN"], *APPLICATIONS, *FUNCTIONS)
            if target and reader.resources[target].get("Type") in FUNCTIONS:
                function = target
            elif target:
                hosted = _app_settings(reader, target, scenario)
                app = target if hosted is not None else None
        master = None
        if hosted is not None:
            master_arn = hosted.get("MasterSecretArn", hosted.get("SuperuserSecretArn"))
            master = _secret_view(model, master_arn, scenario)
        secret = _secret_view(model, properties.get("SecretId"), scenario)
        rotation = Rotation(name, scenario, properties, secret, master, hosted, app, function)
        if not any(_same(rotation, seen) for seen in rotations):
            rotations.append(rotation)
    return rotations


def _app_settings(reader: Reader, name: str, scenario: dict[str, bool]) -> dict | None:
    """A rotation app's settings under HostedRotationLambda's names; None when no known app."""
    properties = settle(reader.resources[name].get("Properties"), scenario)
    if not isinstance(properties, dict):
        return None
    location = properties.get("Location")
    app_id = location.get("ApplicationId") if isinstance(location, dict) else None
    tags = properties.get("Tags")
    if app_id is None and isinstance(tags, list):  # after the SAM transform: a nested stack
        tagged = (t.get("Value") for t in tags if isinstance(t, dict) and t.get("Key") == _APP_TAG)
        app_id = next(tagged, None)
    # The app's name ends its id, written out even when the partition or account is a Ref.
    text = reader.text(app_id) or (None,)
    last = text[-1]
    names = [last] if isinstance(last, str) else list(getattr(last, "choices", ()))
    found = {_APP_ID.search(value) for value in names}
    types = {m.group(1) + m.group(2) for m in found if m}
    if len(types) != 1 or None in found or not found:
        return None
    parameters = properties.get("Parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    settings = {"RotationType": types.pop()}
    for key, parameter in APP_PARAMETERS.items():
        if parameter in parameters:
            settings[key] = parameters[parameter]
    return settings


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
        engines = [e for a in attachments for e in _attached_engines(reader, a)]
        model.views[key] = SecretView(name, properties, attachments, family, engines)
    return model.views[key]


def attached_target(reader: Reader, attachment: str) -> str | None:
    """The template database a SecretTargetAttachment names, if any."""
    properties = reader.resources[attachment]["Properties"]
    return reader.resource(properties.get("TargetId"), *_ATTACHABLE)


def _attached_engines(reader: Reader, attachment: str) -> list[tuple[str, str]]:
    """(engine, database) for each Engine value the attached RDS database can have."""
    target = attached_target(reader, attachment)
    if target is None or not reader.resources[target].get("Type", "").startswith("AWS::RDS::"):
        return []
    target_properties = reader.resources[target].get("Properties")
    if not isinstance(target_properties, dict):
        return []
    return [(engine, target) for engine in reader.scalar(target_properties.get("Engine")) or ()]


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
    families = {engine_family(engine) for engine in engines}
    return families.pop() if len(families) == 1 else None


def engine_family(engine: str) -> str | None:
    """The database family of an RDS Engine value (aurora-mysql -> MySQL), None if unknown."""
    lowered = engine.lower()
    for prefix, family in _facts.TARGET_ENGINE_FAMILIES:
        if lowered.startswith(prefix):
            return family
    return None
