"""Rules for the RotationSchedule itself: the transform, exclusive properties, the rotation type."""

from __future__ import annotations

import difflib

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint import _facts
from .._rotation_lint._report import ModelRule, doc_url, finding

TAGS = ["secretsmanager", "rotation", "transform"]


def _transforms(cfn) -> list:
    return [t for t in cfn.transform_pre["Transform"] if isinstance(t, str)]


class HostedRotationWithoutTransform(ModelRule, CloudFormationLintRule):
    id = "ER001"
    shortdesc = "HostedRotationLambda without the Secrets Manager transform"
    description = (
        "A RotationSchedule with HostedRotationLambda only deploys when the template declares "
        "the AWS::SecretsManager transform, which builds the rotation function."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        if any(t.startswith(_facts.TRANSFORM_PREFIX) for t in _transforms(model.cfn)):
            return
        for rotation in model.rotations:
            if rotation.hosted is not None and rotation.app is None:
                yield finding(
                    rotation.hosted_path,
                    "HostedRotationLambda is used but the template declares no "
                    "AWS::SecretsManager transform, so CloudFormation cannot create the "
                    "rotation function and the deploy fails",
                    f"add `Transform: {_facts.LATEST_TRANSFORM}` at the top of the template "
                    "(in a list with any other transforms)",
                )


class UnknownSecretsManagerTransform(ModelRule, CloudFormationLintRule):
    id = "ER002"
    shortdesc = "Unknown AWS::SecretsManager transform version"
    description = (
        "The Secrets Manager transform exists in the versions "
        + " and ".join(_facts.TRANSFORM_VERSIONS)
        + "; any other version fails the deploy."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        declared = model.cfn.template.get("Transform")
        listed = isinstance(declared, list)
        for index, transform in enumerate(_transforms(model.cfn)):
            if not transform.lower().startswith(_facts.TRANSFORM_PREFIX.lower()):
                continue
            if transform in _facts.TRANSFORM_VERSIONS:
                continue
            yield finding(
                ["Transform", index] if listed else ["Transform"],
                f"transform {transform!r} is no version of the Secrets Manager transform, so "
                "CloudFormation rejects the template",
                f"use {_facts.LATEST_TRANSFORM} (or {_facts.TRANSFORM_VERSIONS[0]})",
            )


class ExclusiveRotationProperties(ModelRule, CloudFormationLintRule):
    id = "ER003"
    shortdesc = "Mutually exclusive rotation properties set together"
    description = (
        "A RotationSchedule takes HostedRotationLambda or RotationLambdaARN, not both; "
        "HostedRotationLambda takes MasterSecretArn or SuperuserSecretArn (and "
        "MasterSecretKmsKeyArn or SuperuserSecretKmsKeyArn), not both."
    )
    source_url = doc_url(id)
    tags = TAGS

    PAIRS = (
        ("MasterSecretArn", "SuperuserSecretArn"),
        ("MasterSecretKmsKeyArn", "SuperuserSecretKmsKeyArn"),
    )

    def check(self, model):
        for rotation in model.rotations:
            if rotation.hosted is None or rotation.app is not None:
                continue  # a rotation app's settings come through RotationLambdaARN
            if "RotationLambdaARN" in rotation.properties:
                yield finding(
                    rotation.path("RotationLambdaARN"),
                    "both HostedRotationLambda and RotationLambdaARN are set; a schedule uses "
                    "either a function the transform creates or an existing one, and the "
                    'transform fails ("Can only specify either HostedRotationLambda or '
                    'RotationLambdaARN")',
                    "keep HostedRotationLambda and remove RotationLambdaARN, or the reverse",
                )
            for first, second in self.PAIRS:
                if first in rotation.hosted and second in rotation.hosted:
                    yield finding(
                        [*rotation.hosted_path, second],
                        f"both {first} and {second} are set; they name the same thing and "
                        "CloudFormation accepts only one",
                        f"keep {first} and remove {second}",
                    )


class UnknownRotationType(ModelRule, CloudFormationLintRule):
    id = "ER004"
    shortdesc = "Unknown HostedRotationLambda RotationType"
    description = (
        "RotationType names the rotation function template: one of "
        + ", ".join(_facts.ROTATION_TYPES)
        + "."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation in model.rotations:
            if rotation.app is not None:
                continue  # its type is read from the application id: a known one
            for value in model.rotation_types(rotation) or ():
                if value in _facts.ROTATION_TYPES:
                    continue
                close = difflib.get_close_matches(value, _facts.ROTATION_TYPES, n=1, cutoff=0.6)
                hint = f"use {close[0]!r}" if close else "use one of the documented types"
                origin = model.reader.origin(rotation.hosted.get("RotationType"))
                yield finding(
                    [*rotation.hosted_path, "RotationType"],
                    f"RotationType {value!r}{origin} is not a rotation function template, so "
                    "the transform cannot build the function and the deploy fails",
                    f"{hint} ({', '.join(_facts.ROTATION_TYPES)})",
                )


class SecondScheduleForSecret(ModelRule, CloudFormationLintRule):
    id = "ER005"
    shortdesc = "Two RotationSchedules for one secret"
    description = (
        "A secret has one rotation configuration; a second RotationSchedule for the same secret "
        "(unless their conditions exclude each other) overwrites or breaks the first."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        schedules: dict[str, list[str]] = {}
        for rotation in model.rotations:
            if rotation.secret is None:
                continue
            names = schedules.setdefault(rotation.secret.name, [])
            if rotation.name not in names:
                names.append(rotation.name)
        for secret, names in schedules.items():
            for index, name in enumerate(names):
                earlier = [n for n in names[:index] if _can_coexist(model, n, name)]
                if earlier:
                    yield finding(
                        ["Resources", name],
                        f"secret {secret} already has RotationSchedule {earlier[0]}, and a secret "
                        "takes one rotation configuration, so one schedule overwrites the other "
                        "or the deploy fails",
                        f"keep one RotationSchedule for {secret} (remove {name} or {earlier[0]}), "
                        "or give the two conditions that exclude each other",
                    )


def _can_coexist(model, first: str, second: str) -> bool:
    """Whether both resources can exist in one deploy, as far as their conditions tell."""
    resources = model.reader.resources
    named = (resources[name].get("Condition") for name in (first, second))
    conditions = {c for c in named if isinstance(c, str)}
    if len(conditions) < 2:
        return True
    both = model.cfn.conditions.build_scenarios({c: {True} for c in conditions})
    return next(both, None) is not None
