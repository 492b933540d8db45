"""The rule classes, one module per subject. cfn-lint instantiates each class exported here.

A new rule: a `ModelRule, CloudFormationLintRule` subclass in the module of its subject (or a new
module here, named `_<subject>.py`: see by_path_guard.py), with the next free id of its series
(docs/lint-rules.md), imported below and named in `__all__`. A test fails when a rule class of
this folder is not exported.
"""

from ._alternating_users import (
    CloneUsernameTooLong,
    CloneUsernameUnbounded,
    MasterArnMissingFromSecret,
    MasterSecretArnMissing,
)
from ._hosted_rotation import (
    ExclusiveRotationProperties,
    HostedRotationWithoutTransform,
    SecondScheduleForSecret,
    UnknownRotationType,
    UnknownSecretsManagerTransform,
)
from ._kms_keys import RotationCannotDecrypt
from ._password_characters import ExcludedCharacterClass, MasterPasswordCharacters
from ._resource_policy import (
    DenyWithoutRotationException,
    PublicPolicyNotBlocked,
    WildcardPrincipalNotPinned,
    WildcardRolePattern,
)
from ._rotation_function import (
    FunctionNameRefused,
    InvokePermissionMissing,
    RotationRoleCannotRead,
    ScheduleBeforePermission,
)
from ._rotation_network import (
    NetworkReachUnknown,
    RotationOutsideDatabaseVpc,
    RotationWithoutNetworkPath,
    SecurityGroupsBlockDatabase,
)
from ._rotation_rules import (
    DaysAndScheduleTogether,
    RotationWindowInvalid,
    RotationWindowsOverlap,
    ScheduleExpressionInvalid,
)
from ._secret_contract import EngineMismatch, SecretJsonIncomplete, UsernameNotMasterUsername
from ._target_attachment import ScheduleBeforeAttachment

__all__ = [
    "CloneUsernameTooLong",
    "CloneUsernameUnbounded",
    "DaysAndScheduleTogether",
    "DenyWithoutRotationException",
    "EngineMismatch",
    "ExcludedCharacterClass",
    "ExclusiveRotationProperties",
    "FunctionNameRefused",
    "HostedRotationWithoutTransform",
    "InvokePermissionMissing",
    "MasterArnMissingFromSecret",
    "MasterPasswordCharacters",
    "MasterSecretArnMissing",
    "NetworkReachUnknown",
    "PublicPolicyNotBlocked",
    "RotationCannotDecrypt",
    "RotationOutsideDatabaseVpc",
    "RotationRoleCannotRead",
    "RotationWindowInvalid",
    "RotationWindowsOverlap",
    "RotationWithoutNetworkPath",
    "ScheduleBeforeAttachment",
    "ScheduleBeforePermission",
    "ScheduleExpressionInvalid",
    "SecondScheduleForSecret",
    "SecretJsonIncomplete",
    "SecurityGroupsBlockDatabase",
    "UnknownRotationType",
    "UnknownSecretsManagerTransform",
    "UsernameNotMasterUsername",
    "WildcardPrincipalNotPinned",
    "WildcardRolePattern",
]
