"""ER101-ER103 and WR101: the alternating users strategy."""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import FORMS, hosted, properties, render

APP_JSON = properties("AppSecret", "GenerateSecretString", "SecretStringTemplate")


def app_template(template: dict) -> dict:
    return template["Resources"]["AppSecret"]["Properties"]["GenerateSecretString"]


@pytest.mark.parametrize("form", FORMS)
def test_er101_secret_json_without_masterarn(linter, multi_user, form):
    sub = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"]
    sub[0] = '{"engine": "${Engine}", "username": "${User}"}'
    assert linter.findings(render(multi_user, form)) == {("ER101", APP_JSON)}


def test_er101_names_the_fix_with_the_admin_secret(linter, multi_user):
    app_template(multi_user)["SecretStringTemplate"] = '{"engine": "mysql", "username": "app"}'
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert match.rule.id == "ER101"
    assert 'add "masterarn": "${AdminSecret}"' in match.message


@pytest.mark.parametrize("form", FORMS)
def test_er101_masterarn_naming_another_secret_than_master_secret_arn(linter, multi_user, form):
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["Admin"] = {"Ref": "AppSecret"}
    assert linter.findings(render(multi_user, form)) == {("ER101", APP_JSON)}


def test_er101_silent_when_a_key_is_only_known_at_deploy_time(linter, multi_user):
    multi_user["Parameters"]["ExtraKey"] = {"Type": "String", "Description": "a key"}
    app_template(multi_user)["SecretStringTemplate"] = {
        "Fn::Sub": '{"engine": "mysql", "username": "app", "${ExtraKey}": "${AdminSecret}"}'
    }
    assert linter.findings(render(multi_user, "json")) == set()


def _change(statement: dict, change: dict) -> None:
    """Apply a change to a policy statement; a key set to None is removed."""
    statement.update(change)
    for key in [key for key, value in change.items() if value is None]:
        statement.pop(key, None)


def _without_master_secret_arn(template: dict) -> dict:
    del template["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"][
        "MasterSecretArn"
    ]
    return template["Resources"]["AdminPolicy"]["Properties"]["ResourcePolicy"]["Statement"][0]


@pytest.mark.parametrize("form", FORMS)
def test_er102_multi_user_without_master_secret_arn(linter, multi_user, form):
    _without_master_secret_arn(multi_user)
    del multi_user["Resources"]["AdminPolicy"]
    assert linter.findings(render(multi_user, form)) == {("ER102", hosted("AppRotation"))}


ROLE_LOOKUP = {
    "Type": "Custom::LambdaRoleLookup",
    "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:lookup"},
}


@pytest.mark.parametrize(
    "grant",
    [
        pytest.param({}, id="wildcard-principal-pinned-to-a-role-arn"),
        pytest.param(
            {"Principal": {"AWS": {"Fn::GetAtt": ["Lookup", "RoleArn"]}}, "Condition": None},
            id="the-looked-up-role-as-principal",
        ),
        pytest.param(
            {"Action": ["secretsmanager:Get*", "secretsmanager:DescribeSecret"]},
            id="action-wildcard",
        ),
        pytest.param(
            {"Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "1"}}},
            id="any-principal-of-the-account",
        ),
        pytest.param(
            {"NotAction": "secretsmanager:DeleteSecret", "Action": None},
            id="not-action-leaves-the-read-in",
        ),
        pytest.param(
            {"Principal": {"AWS": "{{resolve:ssm:/platform/rotation-role}}"}, "Condition": None},
            id="principal-from-a-dynamic-reference",
        ),
        pytest.param(
            # Allow with NotPrincipal admits every principal but those named: the role may read.
            {
                "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/someone-else"},
                "Principal": None,
                "Condition": None,
            },
            id="not-principal",
        ),
    ],
)
def test_er102_silent_when_the_admin_secrets_policy_grants_the_rotation_role(
    linter, multi_user, grant
):
    """Such stacks rotate: within one account a resource policy that names the role (or any
    principal its conditions admit) is enough for GetSecretValue without an identity policy."""
    statement = _without_master_secret_arn(multi_user)
    multi_user["Resources"]["Lookup"] = ROLE_LOOKUP
    _change(statement, grant)
    rules = {rule for rule, _ in linter.findings(render(multi_user, "yaml"))}
    assert "ER102" not in rules
    assert "E0002" not in rules  # no rule stopped on the value


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            {
                "Principal": {
                    "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
                }
            },
            id="account-principal-delegates-to-iam-policies",
        ),
        pytest.param({"Principal": {"AWS": "123456789012"}}, id="account-id-principal"),
        pytest.param({"Principal": {"AWS": {"Ref": "AWS::AccountId"}}}, id="this-account"),
        pytest.param(
            {"Principal": {"AWS": ["arn:aws:iam::123456789012:root", "210987654321"]}},
            id="two-accounts",
        ),
        pytest.param({"Effect": "Deny"}, id="deny"),
        pytest.param(
            {"NotAction": ["secretsmanager:Get*"], "Action": None}, id="not-action-without-the-read"
        ),
        pytest.param({"Action": "secretsmanager:DescribeSecret"}, id="another-action"),
        pytest.param({"Principal": {"Service": "lambda.amazonaws.com"}}, id="service-principal"),
    ],
)
def test_er102_when_the_admin_secrets_policy_does_not_grant_a_role_the_read(
    linter, multi_user, change
):
    statement = _without_master_secret_arn(multi_user)
    _change(statement, change)
    assert ("ER102", hosted("AppRotation")) in linter.findings(render(multi_user, "yaml"))


def test_er102_when_the_granting_policy_is_on_another_secret(linter, multi_user):
    _without_master_secret_arn(multi_user)
    multi_user["Resources"]["AdminPolicy"]["Properties"]["SecretId"] = {"Ref": "AppSecret"}
    assert ("ER102", hosted("AppRotation")) in linter.findings(render(multi_user, "yaml"))


@pytest.mark.parametrize("form", FORMS)
def test_er103_parameter_default_too_long(linter, multi_user, form):
    multi_user["Parameters"]["AppUsername"].update(Default="websiteuser", MaxLength=16)
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER103", "Parameters/AppUsername/Default")
    }
    assert "'websiteuser_clone' (17 characters)" in matches[0].message


def test_er103_literal_username_too_long_short_form(linter):
    source = """
Transform: AWS::SecretsManager-2020-07-23
Resources:
  Admin:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{"engine": "mysql", "username": "admin", "password": "p", "host": "h"}'
  Website:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: !Join
          - ""
          - - '{"engine": "mysql", "username": "websiteuser", "host": "h", "masterarn": "'
            - !Ref Admin
            - '"}'
        GenerateStringKey: password
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Website
      HostedRotationLambda:
        RotationType: MySQLMultiUser
        MasterSecretArn: !Ref Admin
"""
    assert linter.findings(source) == {
        ("ER103", properties("Website", "GenerateSecretString", "SecretStringTemplate"))
    }


def test_er103_allowed_value_too_long(linter, multi_user):
    multi_user["Parameters"]["AppUsername"] = {
        "Type": "String",
        "AllowedValues": ["app", "application"],
        "Default": "app",
        "Description": "Application user",
    }
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER103", "Parameters/AppUsername/AllowedValues")
    }


def test_er103_limit_follows_the_engine(linter, multi_user):
    """MariaDB's alternating-users function allows 80 characters with _clone."""
    multi_user["Parameters"]["AppUsername"].update(Default="website_user_42", MaxLength=74)
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["Engine"] = "mariadb"
    multi_user["Resources"]["Cluster"]["Properties"]["Engine"] = "mariadb"
    for rotation in ("AdminRotation", "AppRotation"):
        lambda_ = multi_user["Resources"][rotation]["Properties"]["HostedRotationLambda"]
        lambda_["RotationType"] = lambda_["RotationType"].replace("MySQL", "MariaDB")
    multi_user["Resources"]["AdminSecret"]["Properties"]["GenerateSecretString"][
        "SecretStringTemplate"
    ]["Fn::Sub"] = '{"engine": "mariadb", "username": "${AdminUsername}"}'
    assert linter.findings(render(multi_user, "yaml")) == set()


@pytest.mark.parametrize(
    ("family", "engine", "limit"),
    [("MariaDB", "mariadb", 80), ("Oracle", "oracle", 30), ("PostgreSQL", "postgres", 63),
     ("SQLServer", "sqlserver", 128)],
)  # fmt: skip
def test_er103_each_engines_clone_limit_to_the_character(linter, multi_user, family, engine, limit):
    """The `_clone` length each family's multi-user function checks (only ER103 is looked at:
    a MySQL cluster under another engine's rotation has findings of its own)."""
    app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]["Engine"] = engine
    hosted = multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]
    hosted["RotationType"] = f"{family}MultiUser"
    longest = limit - len("_clone")
    username = multi_user["Parameters"]["AppUsername"]
    username.update(Default="a" * longest, MaxLength=longest + 1)
    found = {m for m in linter.matches(render(multi_user, "yaml")) if m.rule.id == "ER103"}
    assert found == set()
    username["Default"] += "a"
    (match,) = [m for m in linter.matches(render(multi_user, "yaml")) if m.rule.id == "ER103"]
    assert f"({limit + 1} characters), longer than the {limit} the {family}MultiUser" in (
        match.message
    )


@pytest.mark.parametrize("form", FORMS)
def test_wr101_parameter_without_max_length(linter, multi_user, form):
    del multi_user["Parameters"]["AppUsername"]["MaxLength"]
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("WR101", "Parameters/AppUsername")}
    assert "set MaxLength: 10" in matches[0].message


def test_wr101_max_length_budget_shared_with_a_literal_prefix(linter, multi_user):
    """'svc_' + a 10-character parameter can reach 14 characters: 20 with _clone."""
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["User"] = {"Fn::Sub": "svc_${AppUsername}"}
    multi_user["Parameters"]["AppUsername"]["Default"] = "app"
    assert linter.findings(render(multi_user, "yaml")) == {("WR101", "Parameters/AppUsername")}


def test_er103_default_with_a_literal_prefix(linter, multi_user):
    """'svc_' + the default 'appuser' is 11 characters: 17 with _clone."""
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["User"] = {"Fn::Sub": "svc_${AppUsername}"}
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER103", "Parameters/AppUsername/Default")
    }


def test_wr101_silent_with_a_short_enough_max_length(linter, multi_user):
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["User"] = {"Fn::Join": ["_", ["svc", {"Ref": "AppUsername"}]]}
    multi_user["Parameters"]["AppUsername"].update(Default="app", MaxLength=6)
    assert linter.findings(render(multi_user, "json")) == set()


@pytest.mark.parametrize(
    "pattern", ["^[a-z][a-z0-9_]{0,9}$", "[a-z]{1,5}(_[a-z]{1,4})?", "^(app|reporting)$"]
)
def test_wr101_silent_when_allowed_pattern_bounds_the_length(linter, multi_user, pattern):
    """CloudFormation matches AllowedPattern against the whole value: it can bound the length."""
    parameter = multi_user["Parameters"]["AppUsername"]
    del parameter["MaxLength"]
    parameter.update(Default="app", AllowedPattern=pattern)
    assert linter.findings(render(multi_user, "yaml")) == set()


@pytest.mark.parametrize("pattern", ["^[a-z]+$", "^[a-z]{1,11}$", "[a-z", "^\\p{Alpha}{1,5}$"])
def test_wr101_allowed_pattern_that_does_not_bound_the_length(linter, multi_user, pattern):
    """Unbounded, too long, or not readable (a Java-only class): the warning stays."""
    parameter = multi_user["Parameters"]["AppUsername"]
    del parameter["MaxLength"]
    parameter.update(Default="app", AllowedPattern=pattern)
    assert linter.findings(render(multi_user, "yaml")) == {("WR101", "Parameters/AppUsername")}


def _add_report_user(template: dict, username) -> list:
    """A second alternating-users secret, ReportSecret, rotated by ReportRotation like AppSecret.

    Returns its Fn::Sub [text, variables] to change."""
    resources = template["Resources"]
    secret = resources["ReportSecret"] = copy.deepcopy(resources["AppSecret"])
    sub = secret["Properties"]["GenerateSecretString"]["SecretStringTemplate"]["Fn::Sub"]
    sub[1]["User"] = username
    attachment = resources["ReportAttachment"] = copy.deepcopy(resources["AppAttachment"])
    attachment["Properties"]["SecretId"] = {"Ref": "ReportSecret"}
    rotation = resources["ReportRotation"] = copy.deepcopy(resources["AppRotation"])
    rotation["Properties"]["SecretId"] = {"Ref": "ReportSecret"}
    rotation["DependsOn"] = ["ReportAttachment", "AdminRotation"]
    return sub


def _arn_parameter(template: dict, name: str) -> dict:
    template["Parameters"][name] = {
        "Type": "String",
        "AllowedPattern": "^arn:.+$",
        "Description": "ARN of a secret made elsewhere",
    }
    return {"Ref": name}


def _report_hosted(template: dict) -> dict:
    return template["Resources"]["ReportRotation"]["Properties"]["HostedRotationLambda"]


def test_er101_second_secret_checked_after_one_of_another_stack(linter, multi_user):
    """The first rotation's secret is made elsewhere (nothing to read); the second's still is."""
    sub = _add_report_user(multi_user, "report")
    sub[0] = '{"engine": "${Engine}", "username": "${User}"}'
    app_rotation = multi_user["Resources"]["AppRotation"]["Properties"]
    app_rotation["SecretId"] = _arn_parameter(multi_user, "ExistingSecretArn")
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER101", properties("ReportSecret", "GenerateSecretString", "SecretStringTemplate"))
    }


def test_er101_masterarn_naming_a_secret_that_sorts_before_master_secret_arn(linter, multi_user):
    resources = multi_user["Resources"]
    resources["OldAdminSecret"] = copy.deepcopy(resources["AdminSecret"])
    resources["AppRotation"]["Properties"]["HostedRotationLambda"]["MasterSecretArn"] = {
        "Ref": "OldAdminSecret"
    }
    assert ("ER101", APP_JSON) in linter.findings(render(multi_user, "yaml"))


def test_er102_second_rotation_without_master_secret_arn(linter, multi_user):
    _add_report_user(multi_user, "report")
    del _report_hosted(multi_user)["MasterSecretArn"]
    del multi_user["Resources"]["AdminPolicy"]
    assert linter.findings(render(multi_user, "yaml")) == {("ER102", hosted("ReportRotation"))}


def test_er102_second_rotation_whose_admin_secret_no_policy_opens(linter, multi_user):
    """AppRotation needs no MasterSecretArn (AdminPolicy grants the read); ReportRotation's
    admin secret is another stack's, with no policy here: it does."""
    sub = _add_report_user(multi_user, "report")
    sub[1]["Admin"] = _arn_parameter(multi_user, "OtherAdminArn")
    del _report_hosted(multi_user)["MasterSecretArn"]
    _without_master_secret_arn(multi_user)
    assert linter.findings(render(multi_user, "yaml")) == {("ER102", hosted("ReportRotation"))}


def test_er102_secret_of_another_stack(linter, multi_user):
    """Nothing says which admin secret the rotated secret names: MasterSecretArn is needed."""
    app_rotation = multi_user["Resources"]["AppRotation"]["Properties"]
    app_rotation["SecretId"] = _arn_parameter(multi_user, "ExistingSecretArn")
    _without_master_secret_arn(multi_user)
    assert linter.findings(render(multi_user, "yaml")) == {("ER102", hosted("AppRotation"))}


def test_er102_when_the_granting_policy_is_on_a_secret_that_sorts_first(linter, multi_user):
    _without_master_secret_arn(multi_user)
    resources = multi_user["Resources"]
    resources["AcmeSecret"] = copy.deepcopy(resources["AdminSecret"])
    resources["AdminPolicy"]["Properties"]["SecretId"] = {"Ref": "AcmeSecret"}
    assert ("ER102", hosted("AppRotation")) in linter.findings(render(multi_user, "yaml"))


def test_er102_silent_when_masterarn_and_policy_name_the_admin_secret_differently(
    linter, multi_user
):
    """`!GetAtt AdminSecret.Id` and `!Ref AdminSecret` are both the admin secret's ARN."""
    _without_master_secret_arn(multi_user)
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["Admin"] = {"Fn::GetAtt": ["AdminSecret", "Id"]}
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er102_silent_when_a_policy_opens_the_admin_secret_of_another_stack(linter, multi_user):
    """masterarn and the policy's SecretId are the same ARN parameter."""
    _without_master_secret_arn(multi_user)
    admin = _arn_parameter(multi_user, "AdminSecretArn")
    app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]["Admin"] = admin
    multi_user["Resources"]["AdminPolicy"]["Properties"]["SecretId"] = admin
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_wr101_ten_character_default_without_max_length(linter, multi_user):
    """A default of exactly the longest name fits, but a longer value may come: WR101."""
    del multi_user["Parameters"]["AppUsername"]["MaxLength"]
    multi_user["Parameters"]["AppUsername"]["Default"] = "a" * 10
    assert linter.findings(render(multi_user, "yaml")) == {("WR101", "Parameters/AppUsername")}


def test_wr101_second_username_parameter_without_max_length(linter, multi_user):
    _add_report_user(multi_user, {"Ref": "ReportUsername"})
    multi_user["Parameters"]["ReportUsername"] = {
        "Type": "String",
        "Default": "report",
        "Description": "Reporting user",
    }
    assert linter.findings(render(multi_user, "yaml")) == {("WR101", "Parameters/ReportUsername")}


def test_er101_each_secret_without_masterarn(linter, multi_user):
    no_masterarn = '{"engine": "${Engine}", "username": "${User}"}'
    _add_report_user(multi_user, "report")[0] = no_masterarn
    app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][0] = no_masterarn
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER101", APP_JSON),
        ("ER101", properties("ReportSecret", "GenerateSecretString", "SecretStringTemplate")),
    }


def test_wr101_second_username_after_one_known_only_at_deploy_time(linter, multi_user):
    """AppSecret's username is imported (nothing to judge); ReportSecret's is unbounded."""
    _add_report_user(multi_user, {"Ref": "ReportUsername"})
    multi_user["Parameters"]["ReportUsername"] = {
        "Type": "String",
        "Default": "report",
        "Description": "Reporting user",
    }
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["User"] = {"Fn::ImportValue": "shared-app-username"}
    del multi_user["Parameters"]["AppUsername"]
    assert linter.findings(render(multi_user, "yaml")) == {("WR101", "Parameters/ReportUsername")}


def test_wr101_a_long_prefix_leaves_one_character(linter, multi_user):
    """'reporting' takes 9 of MySQL's 10 characters: the parameter may have one."""
    del multi_user["Parameters"]["AppUsername"]["MaxLength"]
    multi_user["Parameters"]["AppUsername"]["Default"] = "a"
    variables = app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]
    variables["User"] = {"Fn::Sub": "reporting${AppUsername}"}
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert (match.rule.id, match.path_string) == ("WR101", "Parameters/AppUsername")
    assert match.message.endswith("Fix: set MaxLength: 1 on parameter AppUsername")


def test_er102_once_when_an_fn_if_settles_the_schedule_alike_both_ways(linter, multi_user):
    """Both values of the condition give the same schedule: one rotation, one finding."""
    _without_master_secret_arn(multi_user)
    del multi_user["Resources"]["AdminPolicy"]
    rules = multi_user["Resources"]["AppRotation"]["Properties"]["RotationRules"]
    rules["Duration"] = {"Fn::If": ["UseShortWindow", rules["Duration"], rules["Duration"]]}
    matches = linter.matches(render(multi_user, "yaml"))
    assert [(m.rule.id, m.path_string) for m in matches] == [("ER102", hosted("AppRotation"))]


def test_wr101_second_username_after_one_with_nothing_to_bound(linter, multi_user):
    """AppSecret's username is written out (no parameter to bound); ReportSecret's comes from a
    parameter without MaxLength and is still reported."""
    app_template(multi_user)["SecretStringTemplate"]["Fn::Sub"][1]["User"] = "app"
    multi_user["Parameters"]["ReportUsername"] = {
        "Type": "String",
        "Default": "report",
        "Description": "username of the reporting application",
    }
    _add_report_user(multi_user, {"Ref": "ReportUsername"})
    assert linter.findings(render(multi_user, "yaml")) == {("WR101", "Parameters/ReportUsername")}


def test_wr101_empty_allowed_values_fall_back_to_max_length(linter, multi_user):
    """`AllowedValues: []` admits nothing to measure; MaxLength 10 still bounds the username."""
    multi_user["Parameters"]["AppUsername"]["AllowedValues"] = []
    rules = {rule for rule, _ in linter.findings(render(multi_user, "yaml"))}
    assert "WR101" not in rules
    assert "E0002" not in rules  # no rule stopped on the empty list


def test_er103_second_rotation_after_one_whose_secret_cannot_be_read(linter, multi_user):
    """AppSecret's JSON comes from a parameter (nothing to read); ReportSecret's is written out
    and its username is too long."""
    _add_report_user(multi_user, "websiteuser")
    multi_user["Parameters"]["AppJson"] = {"Type": "String", "Description": "the JSON"}
    app_template(multi_user)["SecretStringTemplate"] = {"Ref": "AppJson"}
    report_json = properties("ReportSecret", "GenerateSecretString", "SecretStringTemplate")
    assert ("ER103", report_json) in linter.findings(render(multi_user, "yaml"))


def test_er102_silent_when_the_principal_key_is_known_only_at_deploy_time(linter, multi_user):
    """`{"${PrincipalKind}": ...}` may be an AWS principal naming the role: counted as may."""
    _without_master_secret_arn(multi_user)
    multi_user["Parameters"]["PrincipalKind"] = {"Type": "String", "Description": "AWS or *"}
    policy = multi_user["Resources"]["AdminPolicy"]["Properties"]
    policy["ResourcePolicy"] = {
        "Fn::Sub": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Principal": {"${PrincipalKind}": "${AWS::AccountId}"}, '
        '"Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}'
    }
    assert "ER102" not in {rule for rule, _ in linter.findings(render(multi_user, "yaml"))}


@pytest.mark.parametrize(
    "before",
    [
        pytest.param({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, id="a-deny"),
        pytest.param("not a statement", id="no-object"),
    ],
)  # fmt: skip
def test_er102_silent_when_the_grant_follows_another_statement(linter, multi_user, before):
    statement = _without_master_secret_arn(multi_user)
    multi_user["Resources"]["Lookup"] = ROLE_LOOKUP
    statements = multi_user["Resources"]["AdminPolicy"]["Properties"]["ResourcePolicy"]
    statements["Statement"] = [before, statement]
    assert "ER102" not in {rule for rule, _ in linter.findings(render(multi_user, "yaml"))}


def test_er102_for_the_schedule_that_exists_in_one_condition_value(linter, multi_user):
    """Properties that are AWS::NoValue one way: the other way is judged, whichever comes first."""
    _without_master_secret_arn(multi_user)
    del multi_user["Resources"]["AdminPolicy"]
    rotation = multi_user["Resources"]["AppRotation"]
    settings = rotation["Properties"]
    for branches in (({"Ref": "AWS::NoValue"}, settings), (settings, {"Ref": "AWS::NoValue"})):
        rotation["Properties"] = {"Fn::If": ["UseShortWindow", *branches]}
        found = {f for f in linter.findings(render(multi_user, "yaml")) if f[0] == "ER102"}
        assert found == {("ER102", hosted("AppRotation"))}
