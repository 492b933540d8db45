"""cfn-lint rules for Secrets Manager rotation, as a module: `cfn-lint -a cfn_lint_rotation`.

cfn-lint's `--append-rules <module>` imports the module and instantiates every
CloudFormationLintRule subclass it finds among the module's attributes, so each rule class is
imported here. Installed with pip, this folder is the package `cfn_lint_rotation`; in a checkout
it is also loaded as a folder (`--append-rules lint_rules`), where cfn-lint reads the rule files
one by one and skips this file (its name starts with `_`).
"""

from ._rotation_lint._release import VERSION as __version__
from .alternating_users import (
    CloneUsernameTooLong,
    CloneUsernameUnbounded,
    MasterArnMissingFromSecret,
    MasterSecretArnMissing,
)
from .hosted_rotation import (
    ExclusiveRotationProperties,
    HostedRotationWithoutTransform,
    SecondScheduleForSecret,
    UnknownRotationType,
    UnknownSecretsManagerTransform,
)
from .kms_keys import RotationCannotDecrypt
from .password_characters import ExcludedCharacterClass, MasterPasswordCharacters
from .resource_policy import PublicPolicyNotBlocked, WildcardPrincipalNotPinned, WildcardRolePattern
from .rotation_network import RotationOutsideDatabaseVpc, RotationWithoutNetworkPath
from .rotation_rules import (
    DaysAndScheduleTogether,
    RotationWindowInvalid,
    RotationWindowsOverlap,
    ScheduleExpressionInvalid,
)
from .secret_contract import EngineMismatch, SecretJsonIncomplete, UsernameNotMasterUsername
from .target_attachment import ScheduleBeforeAttachment

__all__ = [
    "CloneUsernameTooLong",
    "CloneUsernameUnbounded",
    "DaysAndScheduleTogether",
    "EngineMismatch",
    "ExcludedCharacterClass",
    "ExclusiveRotationProperties",
    "HostedRotationWithoutTransform",
    "MasterArnMissingFromSecret",
    "MasterPasswordCharacters",
    "MasterSecretArnMissing",
    "PublicPolicyNotBlocked",
    "RotationCannotDecrypt",
    "RotationOutsideDatabaseVpc",
    "RotationWindowInvalid",
    "RotationWindowsOverlap",
    "RotationWithoutNetworkPath",
    "ScheduleBeforeAttachment",
    "ScheduleExpressionInvalid",
    "SecondScheduleForSecret",
    "SecretJsonIncomplete",
    "UnknownRotationType",
    "UnknownSecretsManagerTransform",
    "UsernameNotMasterUsername",
    "WildcardPrincipalNotPinned",
    "WildcardRolePattern",
    "__version__",
]
