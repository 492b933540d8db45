"""What AWS accepts, as documented or as the hosted rotation functions' code checks it.

Sources (see docs/lint-rules.md): the CloudFormation reference for
AWS::SecretsManager::RotationSchedule HostedRotationLambda (rotation types, transform versions),
the Secrets Manager user guide (secret JSON structure, schedule expressions) and the rotation
function templates in aws-samples/aws-secrets-manager-rotation-lambdas (engine checks, the
`_clone` length limits, the default ExcludeCharacters).
"""

from __future__ import annotations

import string

TRANSFORM_PREFIX = "AWS::SecretsManager-"
TRANSFORM_VERSIONS = ("AWS::SecretsManager-2020-07-23", "AWS::SecretsManager-2024-09-16")
LATEST_TRANSFORM = TRANSFORM_VERSIONS[-1]

# Database family -> the `engine` values its hosted rotation functions accept.
ENGINES: dict[str, tuple[str, ...]] = {
    "Db2": ("db2",),
    "MariaDB": ("mariadb",),
    "MongoDB": ("mongo",),
    "MySQL": ("mysql", "aurora-mysql"),
    "Oracle": ("oracle",),
    "PostgreSQL": ("postgres", "aurora-postgresql"),
    "Redshift": ("redshift",),
    "SQLServer": ("sqlserver",),
}
SINGLE_USER, MULTI_USER = "SingleUser", "MultiUser"
ROTATION_TYPES = tuple(
    family + strategy for family in ENGINES for strategy in (SINGLE_USER, MULTI_USER)
)

# Alternating users: the longest `<username>_clone` each multi-user function accepts. The other
# families' functions do not check a length, so no limit is assumed for them.
CLONE_SUFFIX = "_clone"
CLONE_LIMITS = {"MySQL": 16, "MariaDB": 80, "Oracle": 30, "PostgreSQL": 63, "SQLServer": 128}

# The database engine of a SecretTargetAttachment's target, by engine name prefix.
TARGET_ENGINE_FAMILIES = (
    ("aurora-postgresql", "PostgreSQL"),
    ("aurora-mysql", "MySQL"),
    ("aurora", "MySQL"),
    ("mysql", "MySQL"),
    ("mariadb", "MariaDB"),
    ("postgres", "PostgreSQL"),
    ("oracle", "Oracle"),
    ("sqlserver", "SQLServer"),
    ("db2", "Db2"),
    ("docdb", "MongoDB"),
)
TARGET_TYPE_FAMILIES = {
    "AWS::DocDB::DBCluster": "MongoDB",
    "AWS::DocDB::DBInstance": "MongoDB",
    "AWS::Redshift::Cluster": "Redshift",
}

# GetRandomPassword's character classes; punctuation is the set its ExcludePunctuation removes.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
CHARACTER_CLASSES = {
    "lowercase letters": string.ascii_lowercase,
    "uppercase letters": string.ascii_uppercase,
    "digits": string.digits,
    "punctuation": PUNCTUATION,
}
# GenerateSecretString switch that drops each class from the password.
CLASS_SWITCHES = {
    "lowercase letters": "ExcludeLowercase",
    "uppercase letters": "ExcludeUppercase",
    "digits": "ExcludeNumbers",
    "punctuation": "ExcludePunctuation",
}
CLASS_EXCLUDED_ERROR = "All characters of the desired type have been excluded"

# aws/secretsmanager, the AWS managed key a secret uses without KmsKeyId.
AWS_MANAGED_KEY_ALIAS = "alias/aws/secretsmanager"
