"""Rule for the order of a secret's SecretTargetAttachment and its RotationSchedule."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint._report import ModelRule, doc_url, finding

TAGS = ["secretsmanager", "rotation", "dependencies"]


class ScheduleBeforeAttachment(ModelRule, CloudFormationLintRule):
    id = "WR501"
    shortdesc = "RotationSchedule does not wait for the secret's SecretTargetAttachment"
    description = (
        "The SecretTargetAttachment writes engine, host and port into the secret. A "
        "RotationSchedule that does not depend on it (DependsOn, or a Ref/GetAtt, directly or "
        "through other resources) may start its first rotation before the secret holds them."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation in model.rotations:
            if rotation.secret is None:
                continue
            body = model.reader.resources[rotation.name]
            for attachment in rotation.secret.attachments:
                if model.waits_for(rotation.name, attachment) is not False:
                    continue
                where = ["Resources", rotation.name]
                if "DependsOn" in body:
                    where.append("DependsOn")
                yield finding(
                    where,
                    f"schedule {rotation.name} rotates secret {rotation.secret.name}, whose "
                    f"engine, host and port come from SecretTargetAttachment {attachment}, but "
                    f"nothing makes it wait for {attachment}; CloudFormation may start the first "
                    "rotation before the secret holds them, and that rotation fails",
                    f"add {attachment} to the DependsOn of {rotation.name}",
                )
