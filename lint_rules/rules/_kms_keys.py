"""Rules for secrets encrypted with a customer managed KMS key."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint import _facts
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import holes

TAGS = ["secretsmanager", "rotation", "kms"]
KMS_DENIED = "AccessDeniedException: Access to KMS is not allowed"


def customer_managed(model, secret) -> bool:
    """Whether the secret is surely encrypted with a customer managed key."""
    if secret is None or "KmsKeyId" not in secret.properties:
        return False
    value = secret.properties["KmsKeyId"]
    values = model.reader.scalar(value)
    if values is None:
        text = model.reader.text(value) or ()
        pieces = holes(text)
        # A key or alias defined in this template is customer managed by definition.
        return bool(pieces) and all(
            model.reader.resource_in((p,), "AWS::KMS::Key", "AWS::KMS::Alias") for p in pieces
        )
    return all(v and not v.endswith(_facts.AWS_MANAGED_KEY_ALIAS) for v in values)


class RotationCannotDecrypt(ModelRule, CloudFormationLintRule):
    id = "ER401"
    shortdesc = "Secret under a customer managed key without the rotation's KMS key ARN"
    description = (
        "The role of a hosted rotation function gets kms:Decrypt only for the keys named in "
        "HostedRotationLambda.KmsKeyArn (the rotated secret's key) and MasterSecretKmsKeyArn "
        "(the admin secret's key, alternating users); without them it cannot read a secret "
        "under a customer managed key and every rotation fails."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation in model.rotations:
            if rotation.hosted is None:
                continue
            secret = rotation.secret
            if customer_managed(model, secret) and "KmsKeyArn" not in rotation.hosted:
                yield finding(
                    rotation.hosted_path,
                    f"secret {secret.name} is encrypted with a customer managed key "
                    f"({secret.name}.KmsKeyId) but {rotation.provider} has no "
                    f"{rotation.setting('KmsKeyArn')}, so "
                    "the rotation role may not decrypt the secret and every rotation fails "
                    f"({KMS_DENIED})",
                    f"set {rotation.setting('KmsKeyArn')} to the ARN of that key (for example "
                    "!GetAtt Key.Arn)",
                )
            family = model.family(rotation)
            if family is None or family[1] != _facts.MULTI_USER:
                continue
            master = rotation.master
            named = {"MasterSecretKmsKeyArn", "SuperuserSecretKmsKeyArn"} & set(rotation.hosted)
            if customer_managed(model, master) and not named:
                yield finding(
                    rotation.hosted_path,
                    f"admin secret {master.name} is encrypted with a customer managed key but "
                    f"{rotation.provider} has no {rotation.setting('MasterSecretKmsKeyArn')}, so "
                    "the rotation role may not decrypt the admin credentials and every rotation "
                    f"fails ({KMS_DENIED})",
                    f"set {rotation.setting('MasterSecretKmsKeyArn')} to the ARN of "
                    f"{master.name}'s key",
                )
