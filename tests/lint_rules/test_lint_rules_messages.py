"""Each rule's finding in full, as cfn-lint prints it: where, the cause with its names and
numbers, and the fix. Users act on these words, so every figure in them is asserted.

Each case breaks the good alternating-users template one way and lists every finding it draws.
The cases run on the template without AWS::LanguageExtensions, as the other rule tests do, and
again as written, with it: cfn-lint's transform rewrites the template before the rules read it,
and the findings must not change.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lint_rules_kit import LANGUAGE_EXTENSIONS, load, render

CASES: dict[str, Callable[[dict], None]] = {}
EXPECTED: dict[str, set[tuple[str, str, str]]] = {}


def case(*expected: tuple[str, str, str]):
    """Register a change to the good template with the findings (rule, path, message) it draws."""

    def register(change: Callable[[dict], None]) -> Callable[[dict], None]:
        CASES[change.__name__] = change
        EXPECTED[change.__name__] = set(expected)
        return change

    return register


def _app_sub(template: dict) -> list:
    generate = template["Resources"]["AppSecret"]["Properties"]["GenerateSecretString"]
    return generate["SecretStringTemplate"]["Fn::Sub"]


def _app_hosted(template: dict) -> dict:
    return template["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]


APP_JSON = "Resources/AppSecret/Properties/GenerateSecretString/SecretStringTemplate"
APP_HOSTED = "Resources/AppRotation/Properties/HostedRotationLambda"
CLONE_16 = "makes `<username>_clone` longer than the 16 the MySQLMultiUser function accepts"


@case(
    (
        "ER101",
        APP_JSON,
        f"{APP_JSON}: secret AppSecret is rotated with alternating users but its JSON has no "
        "`masterarn` key, so the rotation function cannot find the admin credentials and every "
        "rotation fails (KeyError: 'masterarn'). "
        'Fix: add "masterarn": "${AdminSecret}" (Fn::Sub) to the JSON',
    )
)
def er101_no_masterarn(template):
    _app_sub(template)[0] = '{"engine": "${Engine}", "username": "${User}"}'


@case(
    (
        "ER101",
        APP_JSON,
        f"{APP_JSON}: `masterarn` names secret AppSecret but HostedRotationLambda grants the "
        "rotation role access to AdminSecret, so reading the admin secret is denied. "
        "Fix: point both at the same admin secret (!Ref AdminSecret)",
    )
)
def er101_masterarn_names_another_secret(template):
    _app_sub(template)[1]["Admin"] = {"Ref": "AppSecret"}


@case(
    (
        "ER102",
        APP_HOSTED,
        f"{APP_HOSTED}: RotationType MySQLMultiUser rotates with alternating users but "
        "MasterSecretArn is missing, and no resource policy on the admin secret lets a role read "
        "it, so the rotation role may not read the admin secret and the rotation fails. "
        "Fix: set MasterSecretArn to the admin secret (for example !Ref AdminSecret)",
    )
)
def er102_no_master_secret_arn(template):
    del _app_hosted(template)["MasterSecretArn"]
    del template["Resources"]["AdminPolicy"]


@case(
    (
        "ER103",
        "Parameters/AppUsername/Default",
        "Parameters/AppUsername/Default: username 'websiteuser' of secret AppSecret makes "
        "'websiteuser_clone' (17 characters), longer than the 16 the MySQLMultiUser function "
        'accepts, so the first rotation fails ("Unable to clone user, username length with '
        '_clone appended would exceed 16 characters"). '
        "Fix: use a username of at most 10 characters",
    )
)
def er103_default_too_long(template):
    template["Parameters"]["AppUsername"].update(Default="websiteuser", MaxLength=16)


@case(
    (
        "WR101",
        "Parameters/AppUsername",
        "Parameters/AppUsername: parameter AppUsername gives the username of secret AppSecret "
        f"and has no MaxLength; a value over 10 characters {CLONE_16}. "
        "Fix: set MaxLength: 10 on parameter AppUsername",
    )
)
def wr101_no_max_length(template):
    del template["Parameters"]["AppUsername"]["MaxLength"]


@case(
    (
        "WR101",
        "Parameters/AppUsername",
        "Parameters/AppUsername: parameter AppUsername gives the username of secret AppSecret "
        f"and has no MaxLength; a value over 10 characters {CLONE_16}. "
        "Fix: set MaxLength: 10 on parameter AppUsername",
    )
)
def wr101_allowed_pattern_without_a_bound(template):
    parameter = template["Parameters"]["AppUsername"]
    del parameter["MaxLength"]
    parameter["AllowedPattern"] = "^[a-z]+$"


@case(
    *(
        (
            "WR101",
            f"Parameters/{name}",
            f"Parameters/{name}: parameter {name} gives the username of secret AppSecret and "
            f"allows 8 characters; a value over 9 characters {CLONE_16}. "
            f"Fix: set MaxLength: 4 on parameter {name}",
        )
        for name in ("Team", "AppUsername")
    )
)
def wr101_two_parameters_share_the_length(template):
    """'${Team}_${AppUsername}': 1 literal character leaves 9 for the two parameters."""
    template["Parameters"]["Team"] = {
        "Type": "String",
        "Default": "ab",
        "MaxLength": 8,
        "Description": "Team",
    }
    template["Parameters"]["AppUsername"].update(Default="cd", MaxLength=8)
    _app_sub(template)[1]["User"] = {"Fn::Sub": "${Team}_${AppUsername}"}


@case(
    (
        "WR101",
        "Parameters/AppUsername",
        "Parameters/AppUsername: parameter AppUsername gives the username of secret AppSecret "
        f"and allows 10 characters; a value over 7 characters {CLONE_16}. "
        "Fix: set MaxLength: 7 on parameter AppUsername",
    )
)
def wr101_mapped_prefix_takes_its_longest_value(template):
    """A prefix from a mapping, 'd' or 'prd': 3 characters of the 10 are taken. (Without
    AWS::LanguageExtensions, which cfn-lint resolves for one value of the key.)"""
    template["Transform"] = "AWS::SecretsManager-2024-09-16"
    template["Parameters"]["Stage"] = {
        "Type": "String",
        "Default": "dev",
        "AllowedValues": ["dev", "prod"],
        "Description": "Stage",
    }
    template["Mappings"] = {"Stages": {"dev": {"Prefix": "d"}, "prod": {"Prefix": "prd"}}}
    prefix = {"Fn::FindInMap": ["Stages", {"Ref": "Stage"}, "Prefix"]}
    _app_sub(template)[1]["User"] = {"Fn::Join": ["", [prefix, {"Ref": "AppUsername"}]]}


ADMIN_HOSTED = "Resources/AdminRotation/Properties/HostedRotationLambda"
NO_TRANSFORM = (
    "HostedRotationLambda is used but the template declares no AWS::SecretsManager transform, "
    "so CloudFormation cannot create the rotation function and the deploy fails. Fix: add "
    "`Transform: AWS::SecretsManager-2024-09-16` at the top of the template (in a list with any "
    "other transforms)"
)


@case(
    ("ER001", ADMIN_HOSTED, f"{ADMIN_HOSTED}: {NO_TRANSFORM}"),
    ("ER001", APP_HOSTED, f"{APP_HOSTED}: {NO_TRANSFORM}"),
)
def er001_no_transform(template):
    del template["Transform"]


@case(
    (
        "ER002",
        "Transform",
        "Transform: transform 'AWS::SecretsManager-2020-07-24' is no version of the Secrets "
        "Manager transform, so CloudFormation rejects the template. "
        "Fix: use AWS::SecretsManager-2024-09-16 (or AWS::SecretsManager-2020-07-23)",
    )
)
def er002_unknown_transform_version(template):
    template["Transform"] = "AWS::SecretsManager-2020-07-24"


@case(
    (
        "ER003",
        f"{APP_HOSTED}/SuperuserSecretArn",
        f"{APP_HOSTED}/SuperuserSecretArn: both MasterSecretArn and SuperuserSecretArn are set; "
        "they name the same thing and CloudFormation accepts only one. "
        "Fix: keep MasterSecretArn and remove SuperuserSecretArn",
    )
)
def er003_master_and_superuser_secret_arn(template):
    _app_hosted(template)["SuperuserSecretArn"] = {"Ref": "AdminSecret"}


@case(
    (
        "ER004",
        f"{ADMIN_HOSTED}/RotationType",
        f"{ADMIN_HOSTED}/RotationType: RotationType 'MySqlSingleUser' is not a rotation function "
        "template, so the transform cannot build the function and the deploy fails. "
        "Fix: use 'MySQLSingleUser' (Db2SingleUser, Db2MultiUser, MariaDBSingleUser, "
        "MariaDBMultiUser, MongoDBSingleUser, MongoDBMultiUser, MySQLSingleUser, MySQLMultiUser, "
        "OracleSingleUser, OracleMultiUser, PostgreSQLSingleUser, PostgreSQLMultiUser, "
        "RedshiftSingleUser, RedshiftMultiUser, SQLServerSingleUser, SQLServerMultiUser)",
    )
)
def er004_misspelt_rotation_type(template):
    hosted = template["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    hosted["RotationType"] = "MySqlSingleUser"


@case(
    *(
        (
            "ER005",
            f"Resources/{name}",
            f"Resources/{name}: secret AppSecret already has RotationSchedule AppRotation, and a "
            "secret takes one rotation configuration, so one schedule overwrites the other or the "
            f"deploy fails. Fix: keep one RotationSchedule for AppSecret (remove {name} or "
            "AppRotation), or give the two conditions that exclude each other",
        )
        for name in ("AppRotation2", "AppRotation3")
    )
)
def er005_three_schedules_for_one_secret(template):
    """The third schedule is told about the first, the one to compare with."""
    for name in ("AppRotation2", "AppRotation3"):
        template["Resources"][name] = copy.deepcopy(template["Resources"]["AppRotation"])


@case(
    (
        "ER401",
        ADMIN_HOSTED,
        f"{ADMIN_HOSTED}: secret AdminSecret is encrypted with a customer managed key "
        "(AdminSecret.KmsKeyId) but HostedRotationLambda has no KmsKeyArn, so the rotation role "
        "may not decrypt the secret and every rotation fails (AccessDeniedException: Access to "
        "KMS is not allowed). Fix: set KmsKeyArn to the ARN of that key (for example "
        "!GetAtt Key.Arn)",
    ),
    (
        "ER401",
        APP_HOSTED,
        f"{APP_HOSTED}: admin secret AdminSecret is encrypted with a customer managed key but "
        "HostedRotationLambda has no MasterSecretKmsKeyArn, so the rotation role may not decrypt "
        "the admin credentials and every rotation fails (AccessDeniedException: Access to KMS is "
        "not allowed). Fix: set MasterSecretKmsKeyArn to the ARN of AdminSecret's key",
    ),
)
def er401_no_kms_key_arns(template):
    del template["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]["KmsKeyArn"]
    del _app_hosted(template)["MasterSecretKmsKeyArn"]


ALL_EXCLUDED = '"All characters of the desired type have been excluded"'


@case(
    (
        "ER201",
        f"{ADMIN_HOSTED}/ExcludeCharacters",
        f"{ADMIN_HOSTED}/ExcludeCharacters: ExcludeCharacters removes all digits, and the hosted "
        "rotation function always asks for each class (it has no ExcludeNumbers switch), so "
        f"every rotation fails with {ALL_EXCLUDED}. "
        "Fix: leave at least one of the digits out of ExcludeCharacters (for example '0')",
    )
)
def er201_rotation_excludes_every_digit(template):
    hosted = template["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    hosted["ExcludeCharacters"] = "0123456789"


APP_EXCLUDED = "Resources/AppSecret/Properties/GenerateSecretString/ExcludeCharacters"


@case(
    (
        "ER201",
        APP_EXCLUDED,
        f"{APP_EXCLUDED}: ExcludeCharacters removes all digits while ExcludeNumbers is not set "
        "and RequireEachIncludedType is true (its default), so creating secret AppSecret fails "
        f"with {ALL_EXCLUDED}. "
        "Fix: set ExcludeNumbers: true, or leave one of the digits out of ExcludeCharacters",
    )
)
def er201_secret_excludes_every_digit(template):
    generate = template["Resources"]["AppSecret"]["Properties"]["GenerateSecretString"]
    generate["ExcludeCharacters"] = "0123456789"


@case(
    (
        "ER202",
        "Resources/Cluster/Properties/MasterUserPassword",
        "Resources/Cluster/Properties/MasterUserPassword: the master password comes from secret "
        "AdminSecret, whose generated password may contain any of '@', which RDS refuses in a "
        "master password, so the deploy fails whenever the password holds one. "
        "Fix: add '@' to ExcludeCharacters of AdminSecret's GenerateSecretString",
    )
)
def er202_master_password_may_hold_an_at_sign(template):
    generate = template["Resources"]["AdminSecret"]["Properties"]["GenerateSecretString"]
    generate["ExcludeCharacters"] = '"/\\'


STATEMENT = "Resources/AdminPolicy/Properties/ResourcePolicy/Statement/0"
ROTATION_ROLES = (
    "and name the rotation roles exactly; Custom::LambdaRoleLookup "
    "(docs/Custom__LambdaRoleLookup.md) returns each rotation function's RoleArn"
)


def _admin_statement(template: dict) -> dict:
    return template["Resources"]["AdminPolicy"]["Properties"]["ResourcePolicy"]["Statement"][0]


@case(
    (
        "WR601",
        STATEMENT,
        f'{STATEMENT}: resource policy AdminPolicy allows Principal "*" with no '
        "aws:PrincipalArn condition, so any principal its other conditions admit can use the "
        "secret. Fix: pin the statement with Condition ArnEquals aws:PrincipalArn: "
        f"[!GetAtt <Lookup>.RoleArn, ...] {ROTATION_ROLES}",
    )
)
def wr601_any_principal_of_the_account(template):
    _admin_statement(template)["Condition"] = {
        "StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}
    }


@case(
    (
        "WR602",
        STATEMENT,
        f"{STATEMENT}: resource policy AdminPolicy admits aws:PrincipalArn ArnLike "
        "'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}*SecretsManager*', "
        "a pattern that matches any role whose name fits. "
        f"Fix: use exact ARNs with ArnEquals {ROTATION_ROLES}",
    )
)
def wr602_role_name_pattern(template):
    _admin_statement(template)["Condition"] = {
        "ArnLike": {
            "aws:PrincipalArn": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                "${AWS::StackName}*SecretsManager*"
            }
        }
    }


BLOCK = "Resources/AdminPolicy/Properties/BlockPublicPolicy"


@case(
    (
        "WR603",
        BLOCK,
        f"{BLOCK}: resource policy AdminPolicy sets BlockPublicPolicy to false, so Secrets "
        "Manager accepts a policy that opens the secret to a wide range of principals. "
        "Fix: set BlockPublicPolicy: true and name exactly the principals that need the secret "
        "(Principal or an aws:PrincipalArn condition with exact ARNs)",
    )
)
def wr603_block_public_policy_false_on_the_app_secret(template):
    template["Resources"]["AdminPolicy"]["Properties"].update(
        BlockPublicPolicy=False, SecretId={"Ref": "AppSecret"}
    )


APP_SUBNETS = f"{APP_HOSTED}/VpcSubnetIds"


@case(
    *(
        (
            "ER701",
            APP_SUBNETS,
            f"{APP_SUBNETS}: the rotation function of AppRotation runs in subnet {subnet}, which "
            "cannot reach Secrets Manager: VPC Vpc has no Secrets Manager interface endpoint; "
            "route table RouteTable has no 0.0.0.0/0 route through a NAT gateway; every rotation "
            'times out ("Connect timeout on endpoint URL: '
            'https://secretsmanager.<region>.amazonaws.com/"). Fix: add an AWS::EC2::VPCEndpoint '
            "for com.amazonaws.${AWS::Region}.secretsmanager (VpcEndpointType: Interface, "
            "PrivateDnsEnabled: true) in that VPC, or a NAT gateway route for 0.0.0.0/0 in the "
            "subnet's route table",
        )
        for subnet in ("SubnetA", "SubnetB")
    ),
    (
        "ER703",
        "Resources/Cluster/Properties/VpcSecurityGroupIds",
        "Resources/Cluster/Properties/VpcSecurityGroupIds: the security groups of database "
        "Cluster (DatabaseSecurityGroup) admit no traffic on port 3306 from the rotation function "
        "of AdminRotation, which runs outside any VPC and so comes from a public address; every "
        "rotation times out connecting. Fix: run the function in the VPC of Cluster with a "
        "security group that the database admits",
    ),
)
def er701_no_endpoint_after_a_rotation_outside_any_vpc(template):
    """AdminRotation, first, runs outside any VPC (its cluster may be public): only
    AppRotation's subnets need a way to Secrets Manager, and the cluster admits only the
    rotation functions' group, which a function outside the VPC is not in (ER703)."""
    del template["Resources"]["SecretsManagerEndpoint"]
    hosted = template["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    del hosted["VpcSubnetIds"]


@case(
    (
        "ER702",
        APP_SUBNETS,
        f"{APP_SUBNETS}: schedule AppRotation rotates secret AppSecret of database Cluster, "
        "which is not publicly accessible (each of its instances is private: Writer sets "
        "PubliclyAccessible: false), but HostedRotationLambda has no VpcSubnetIds, so the "
        "function runs outside any VPC, cannot reach the database and every rotation fails (it "
        "times out connecting). Fix: set VpcSubnetIds and VpcSecurityGroupIds to subnets that "
        "reach Cluster and a security group it admits (its VPC also needs a way to Secrets "
        "Manager, see ER701)",
    )
)
def er702_private_cluster_rotated_outside_any_vpc(template):
    template["Resources"]["Writer"] = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {
            "DBClusterIdentifier": {"Ref": "Cluster"},
            "DBInstanceClass": "db.r6g.large",
            "Engine": "aurora-mysql",
            "PubliclyAccessible": False,
        },
    }
    del _app_hosted(template)["VpcSubnetIds"]


ADMIN_JSON = "Resources/AdminSecret/Properties/GenerateSecretString/SecretStringTemplate"
MYSQL_ONLY = "(\"Database engine must be set to 'mysql' in order to use this rotation lambda\")"


def _detach_admin(template: dict, secret_json: str) -> None:
    """The admin secret without its attachment: its JSON alone describes the database."""
    resources = template["Resources"]
    del resources["AdminAttachment"]
    resources["AdminRotation"]["DependsOn"] = "Cluster"
    generate = resources["AdminSecret"]["Properties"]["GenerateSecretString"]
    generate["SecretStringTemplate"] = {"Fn::Sub": secret_json}


@case(
    (
        "ER301",
        ADMIN_JSON,
        f'{ADMIN_JSON}: rotated secret AdminSecret has "engine": "postgres" but RotationType is '
        f"MySQLSingleUser, so the MySQLSingleUser function fails every rotation {MYSQL_ONLY}. "
        'Fix: set "engine" to "mysql" or "aurora-mysql", or use RotationType '
        "PostgreSQLSingleUser",
    )
)
def er301_secret_engine_of_another_family(template):
    _detach_admin(template, '{"engine": "postgres", "username": "${AdminUsername}", "host": "h"}')


@case(
    *(
        (
            "ER301",
            f"Resources/{schedule}/Properties/HostedRotationLambda/RotationType",
            f"Resources/{schedule}/Properties/HostedRotationLambda/RotationType: rotated secret "
            f"{secret} is attached ({attachment}) to a PostgreSQL database, whose engine the "
            f"attachment writes into the secret, so the MySQL{strategy} function fails every "
            f"rotation {MYSQL_ONLY}. Fix: use RotationType PostgreSQL{strategy}",
        )
        for schedule, secret, attachment, strategy in (
            ("AdminRotation", "AdminSecret", "AdminAttachment", "SingleUser"),
            ("AppRotation", "AppSecret", "AppAttachment", "MultiUser"),
        )
    )
)
def er301_attached_database_of_another_family(template):
    template["Resources"]["Cluster"]["Properties"]["Engine"] = "aurora-postgresql"


@case(
    (
        "ER302",
        ADMIN_JSON,
        f"{ADMIN_JSON}: the JSON of rotated secret AdminSecret has no `engine`, `host`, which the "
        "MySQLSingleUser rotation function (schedule AdminRotation) needs, so every rotation "
        "fails (KeyError: \"Database engine must be set to 'mysql' ...\"). Fix: add a "
        "SecretTargetAttachment for the database (it writes engine, host and port), or write "
        '"engine": "mysql" and "host" into the JSON',
    )
)
def er302_no_engine_and_no_host(template):
    _detach_admin(template, '{"username": "${AdminUsername}"}')


@case(
    (
        "ER303",
        ADMIN_JSON,
        f"{ADMIN_JSON}: secret AdminSecret holds username 'dbadmin' but gives database Cluster "
        "its master password, while Cluster is created with MasterUsername 'admin'; the rotation "
        "function logs in as 'dbadmin' with the master password and every rotation fails "
        '("Unable to log into database"). Fix: write the username once: MasterUsername: '
        "!Sub '{{resolve:secretsmanager:${AdminSecret}:SecretString:username}}', or put 'admin' "
        "as username in the secret",
    )
)
def er303_master_username_other_than_the_secrets(template):
    template["Resources"]["Cluster"]["Properties"]["MasterUsername"] = "admin"


@case(
    (
        "WR501",
        "Resources/AdminRotation",
        "Resources/AdminRotation: schedule AdminRotation rotates secret AdminSecret, whose "
        "engine, host and port come from SecretTargetAttachment AdminAttachment, but nothing "
        "makes it wait for AdminAttachment; CloudFormation may start the first rotation before "
        "the secret holds them, and that rotation fails. "
        "Fix: add AdminAttachment to the DependsOn of AdminRotation",
    )
)
def wr501_schedule_without_depends_on(template):
    del template["Resources"]["AdminRotation"]["DependsOn"]


APP_RULES = "Resources/AppRotation/Properties/RotationRules"


def _app_rules(template: dict) -> dict:
    return template["Resources"]["AppRotation"]["Properties"]["RotationRules"]


@case(
    (
        "ER801",
        APP_RULES,
        f"{APP_RULES}: RotationRules sets both AutomaticallyAfterDays and ScheduleExpression, "
        "which Secrets Manager refuses, so the deploy fails. Fix: keep ScheduleExpression (for "
        "example rate(30 days)) and remove AutomaticallyAfterDays, or the reverse",
    )
)
def er801_days_and_schedule_expression(template):
    _app_rules(template)["AutomaticallyAfterDays"] = 30


@case(
    (
        "ER802",
        f"{APP_RULES}/ScheduleExpression",
        f"{APP_RULES}/ScheduleExpression: ScheduleExpression 'rate(1000 days)' is refused by "
        "Secrets Manager: a rate in days must be 1 to 999; the deploy fails. Fix: write "
        "rate(<n> days), rate(<n> hours) with n >= 4, or cron(0 <hours> <day> <month> <weekday> "
        "*), for example cron(0 4 ? * SUN *)",
    )
)
def er802_rate_of_a_thousand_days(template):
    _app_rules(template)["ScheduleExpression"] = "rate(1000 days)"
    del _app_rules(template)["Duration"]


@case(
    (
        "ER803",
        f"{APP_RULES}/Duration",
        f"{APP_RULES}/Duration: Duration '3h' is refused by Secrets Manager: a window opening at "
        "22:00 would run into the next UTC day; the deploy fails. Fix: write the window as "
        "<hours>h, 1h to 24h, short enough to end before the next window and the end of the UTC "
        "day",
    )
)
def er803_window_past_midnight(template):
    _app_rules(template).update(ScheduleExpression="cron(0 22 * * ? *)", Duration="3h")


def _findings(linter, template: dict) -> set[tuple[str, str, str]]:
    return {(m.rule.id, m.path_string, m.message) for m in linter.matches(render(template, "yaml"))}


@pytest.mark.parametrize("name", CASES)
def test_each_finding_says_what_fails_and_what_to_type(linter, multi_user, name):
    CASES[name](multi_user)
    assert _findings(linter, multi_user) == EXPECTED[name]


@pytest.fixture(scope="module")
def as_written() -> dict:
    return load("good_multi_user_short.yaml")


@pytest.mark.parametrize("name", CASES)
def test_each_finding_is_the_same_through_aws_language_extensions(linter, as_written, name):
    """The template as written declares AWS::LanguageExtensions; the rules read what cfn-lint's
    transform makes of it and must find the same (the cases that set a Transform of their own
    run twice alike)."""
    template = copy.deepcopy(as_written)
    assert LANGUAGE_EXTENSIONS in template["Transform"]
    CASES[name](template)
    assert _findings(linter, template) == EXPECTED[name]


def test_every_pitfall_draws_the_same_findings_through_aws_language_extensions(linter):
    template = load("bad_every_pitfall.yaml")
    template["Transform"] = [template["Transform"]]
    plain = _findings(linter, template)
    template["Transform"].append(LANGUAGE_EXTENSIONS)
    assert len({rule_id for rule_id, _, _ in plain}) > 20, plain
    assert _findings(linter, template) == plain
