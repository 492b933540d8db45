"""Rules for the characters a generated password may hold."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint import _facts
from .._rotation_lint._model import SECRET
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import as_bool, holes

TAGS = ["secretsmanager", "rotation", "password"]
SAFE_EXAMPLE = {
    "lowercase letters": "a",
    "uppercase letters": "A",
    "digits": "0",
    "punctuation": "_",
}
ERROR = f'"{_facts.CLASS_EXCLUDED_ERROR}"'


def _emptied(excluded: str, classes) -> list[str]:
    """The classes whose every character is in `excluded`."""
    return [c for c in classes if set(_facts.CHARACTER_CLASSES[c]) <= set(excluded)]


class ExcludedCharacterClass(ModelRule, CloudFormationLintRule):
    id = "ER201"
    shortdesc = "ExcludeCharacters removes a whole character class the password needs"
    description = (
        "GetRandomPassword fails with " + ERROR + " when ExcludeCharacters removes every "
        "character of a class the password must include. The hosted rotation function requires "
        "all four classes (lowercase, uppercase, digits, punctuation); a secret's "
        "GenerateSecretString requires each class it does not switch off while "
        "RequireEachIncludedType is true (the default)."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        yield from self._rotations(model)
        yield from self._secrets(model)

    def _rotations(self, model):
        for rotation in model.rotations:
            if rotation.hosted is None or "ExcludeCharacters" not in rotation.hosted:
                continue
            value = rotation.hosted["ExcludeCharacters"]
            for excluded in model.reader.scalar(value) or ():
                for gone in _emptied(excluded, _facts.CHARACTER_CLASSES):
                    yield finding(
                        rotation.setting_path("ExcludeCharacters"),
                        f"ExcludeCharacters{model.reader.origin(value)} removes all {gone}, "
                        "and the hosted rotation function always asks for each class (it has "
                        f"no {_facts.CLASS_SWITCHES[gone]} switch), so every rotation fails "
                        f"with {ERROR}",
                        f"leave at least one of the {gone} out of ExcludeCharacters "
                        f"(for example {SAFE_EXAMPLE[gone]!r})",
                    )

    def _secrets(self, model):
        for secret in model.secrets():
            generate = secret.properties.get("GenerateSecretString")
            if not isinstance(generate, dict) or "ExcludeCharacters" not in generate:
                continue
            wanted = _wanted_classes(model, generate)
            if wanted is None:
                continue
            required, each = wanted
            path = [*secret.path, "GenerateSecretString", "ExcludeCharacters"]
            for excluded in model.reader.scalar(generate["ExcludeCharacters"]) or ():
                gone = _emptied(excluded, required)
                if gone and each is True:
                    for name in gone:
                        yield finding(
                            path,
                            f"ExcludeCharacters removes all {name} while "
                            f"{_facts.CLASS_SWITCHES[name]} is not set and "
                            "RequireEachIncludedType is true (its default), so creating secret "
                            f"{secret.name} fails with {ERROR}",
                            f"set {_facts.CLASS_SWITCHES[name]}: true, or leave one of the "
                            f"{name} out of ExcludeCharacters",
                        )
                elif gone and len(gone) == len(required):
                    yield finding(
                        path,
                        "ExcludeCharacters removes every character the Exclude switches leave, "
                        f"so creating secret {secret.name} fails with {ERROR}",
                        "leave some characters out of ExcludeCharacters",
                    )


def _wanted_classes(model, generate: dict):
    """(classes the password draws from, RequireEachIncludedType) or None when unknown."""
    required = []
    for name, switch in _facts.CLASS_SWITCHES.items():
        switched_off = as_bool(model.reader.scalar(generate.get(switch, False)))
        if switched_off is None or len(switched_off) != 1:
            return None
        if not switched_off.pop():
            required.append(name)
    each = as_bool(model.reader.scalar(generate.get("RequireEachIncludedType", True)))
    return required, (each.pop() if each and len(each) == 1 else None)


# RDS and DocumentDB refuse these characters in a master password.
_RDS_REFUSED = {
    "AWS::RDS::DBCluster": '/@"',
    "AWS::RDS::DBInstance": '/@"',
    "AWS::DocDB::DBCluster": '/@"',
}


class MasterPasswordCharacters(ModelRule, CloudFormationLintRule):
    id = "ER202"
    shortdesc = "Generated master password may hold characters the database refuses"
    description = (
        "RDS and DocumentDB refuse a master password with '/', '@', '\"' or a space. A "
        "MasterUserPassword that resolves a generated secret must exclude them "
        "(ExcludeCharacters, or ExcludePunctuation: true), or most deploys fail."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        secrets = {}
        for view in model.secrets():
            secrets.setdefault(view.name, []).append(view)
        for name, body in model.reader.resources.items():
            kind, properties = body.get("Type"), body.get("Properties")
            refused = _RDS_REFUSED.get(kind) if isinstance(kind, str) else None
            if refused is None or not isinstance(properties, dict):
                continue
            text = model.reader.text(properties.get("MasterUserPassword"))
            if not text or "{{resolve:secretsmanager:" not in "".join(
                p for p in text if isinstance(p, str)
            ):
                continue
            for hole in holes(text):
                if model.reader.resource_in((hole,), SECRET) is None:
                    continue
                for view in secrets.get(hole.target, ()):
                    missing = _unexcluded(model, view, refused)
                    if missing:
                        yield finding(
                            ["Resources", name, "Properties", "MasterUserPassword"],
                            f"the master password comes from secret {view.name}, whose "
                            f"generated password may contain any of {missing!r}, which "
                            f"{body['Type'].split('::')[1]} refuses in a master password, so the "
                            "deploy fails whenever the password holds one",
                            f"add {missing!r} to ExcludeCharacters of {view.name}'s "
                            "GenerateSecretString",
                        )


def _unexcluded(model, view, refused: str) -> str:
    """The refused characters the secret's generated password may contain."""
    generate = view.properties.get("GenerateSecretString")
    if not isinstance(generate, dict):
        return ""
    punctuation_off = as_bool(model.reader.scalar(generate.get("ExcludePunctuation", False)))
    space = as_bool(model.reader.scalar(generate.get("IncludeSpace", False)))
    options = model.reader.scalar(generate.get("ExcludeCharacters", ""))
    if punctuation_off != {False} or space is None or options is None:
        return ""  # no punctuation at all, or only known at deploy time
    characters = refused + (" " if True in space else "")
    return "".join(c for c in characters if any(c not in excluded for excluded in options))
