"""ER001-ER004: the transform, exclusive properties and the rotation type."""

from __future__ import annotations

import copy

import pytest
from lint_rules_kit import FORMS, hosted, load, properties, render

BOTH = ("AdminRotation", "AppRotation")


@pytest.mark.parametrize("form", FORMS)
def test_er001_hosted_rotation_without_any_transform(linter, multi_user, form):
    del multi_user["Transform"]
    assert linter.findings(render(multi_user, form)) == {("ER001", hosted(s)) for s in BOTH}


@pytest.mark.parametrize("form", FORMS)
def test_er001_transform_list_without_the_secrets_manager_one(linter, multi_user, form):
    multi_user["Transform"] = ["AWS::LanguageExtensions"]
    assert linter.findings(render(multi_user, form)) == {("ER001", hosted(s)) for s in BOTH}


@pytest.mark.parametrize(
    "transform", ["AWS::SecretsManager-2020-07-23", ["AWS::SecretsManager-2024-09-16"]]
)
def test_er001_silent_for_a_string_or_a_list(linter, multi_user, transform):
    multi_user["Transform"] = transform
    assert linter.findings(render(multi_user, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_er002_unknown_transform_version_in_a_list(linter, multi_user, form):
    multi_user["Transform"] = ["AWS::LanguageExtensions", "AWS::SecretsManager-2023-01-01"]
    assert linter.findings(render(multi_user, form)) == {("ER002", "Transform/1")}


def test_er002_unknown_transform_version_as_a_string(linter, multi_user):
    multi_user["Transform"] = "AWS::SecretsManager-2020-07-24"
    assert linter.findings(render(multi_user, "json")) == {("ER002", "Transform")}


@pytest.mark.parametrize("form", FORMS)
def test_er003_hosted_rotation_and_rotation_lambda_arn(linter, multi_user, form):
    multi_user["Resources"]["AdminRotation"]["Properties"]["RotationLambdaARN"] = {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:rotate"
    }
    found = linter.findings(render(multi_user, form))
    assert found == {("ER003", properties("AdminRotation", "RotationLambdaARN"))}


@pytest.mark.parametrize("form", FORMS)
def test_er003_master_and_superuser_secret_arn(linter, multi_user, form):
    lambda_ = multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["SuperuserSecretArn"] = {"Ref": "AdminSecret"}
    lambda_["SuperuserSecretKmsKeyArn"] = {"Fn::GetAtt": ["SecretKey", "Arn"]}
    assert linter.findings(render(multi_user, form)) == {
        ("ER003", hosted("AppRotation", "SuperuserSecretArn")),
        ("ER003", hosted("AppRotation", "SuperuserSecretKmsKeyArn")),
    }


def test_er003_superuser_alias_alone_is_fine(linter, multi_user):
    lambda_ = multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["SuperuserSecretArn"] = lambda_.pop("MasterSecretArn")
    lambda_["SuperuserSecretKmsKeyArn"] = lambda_.pop("MasterSecretKmsKeyArn")
    assert linter.findings(render(multi_user, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_er004_misspelt_rotation_type(linter, multi_user, form):
    lambda_ = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["RotationType"] = "MySqlSingleUser"
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER004", hosted("AdminRotation", "RotationType"))
    }
    assert "use 'MySQLSingleUser'" in matches[0].message


def test_er004_rotation_type_parameter_allowing_an_unknown_type(linter):
    source = """
Transform: AWS::SecretsManager-2024-09-16
Parameters:
  Kind:
    Type: String
    AllowedValues: [MySQLSingleUser, AuroraSingleUser]
    Default: MySQLSingleUser
Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{"engine": "mysql", "username": "u", "password": "p", "host": "h"}'
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Secret
      HostedRotationLambda:
        RotationType: !Ref Kind
"""
    matches = linter.matches(source)
    assert [(m.rule.id, m.path_string) for m in matches] == [
        ("ER004", hosted("Rotation", "RotationType"))
    ]
    assert "'AuroraSingleUser' (from parameter Kind)" in matches[0].message


TWO_SCHEDULES = """
Transform: AWS::SecretsManager-2024-09-16
Parameters:
  Strategy: {Type: String, AllowedValues: [single, alternating], Default: single}
Conditions:
  Alternating: !Equals [!Ref Strategy, alternating]
  Single: !Not [!Condition Alternating]
Resources:
  Admin:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{"engine": "mysql", "username": "admin", "password": "p", "host": "h"}'
  App:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: !Sub '{"engine": "mysql", "username": "app", "password": "p", "host": "h",
        "masterarn": "${Admin}"}'
  SingleRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Condition: CONDITION_ONE
    Properties:
      SecretId: !Ref App
      HostedRotationLambda: {RotationType: MySQLSingleUser}
  AlternatingRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Condition: CONDITION_TWO
    Properties:
      SecretId: !Ref App
      HostedRotationLambda: {RotationType: MySQLMultiUser, MasterSecretArn: !Ref Admin}
"""


def test_er005_two_schedules_for_one_secret(linter):
    source = TWO_SCHEDULES.replace("CONDITION_ONE", "Single").replace("CONDITION_TWO", "Single")
    assert linter.findings(source) == {("ER005", "Resources/AlternatingRotation")}


def test_er005_silent_when_conditions_exclude_each_other(linter):
    source = TWO_SCHEDULES.replace("CONDITION_ONE", "Single").replace(
        "CONDITION_TWO", "Alternating"
    )
    assert linter.findings(source) == set()


def test_er005_silent_when_conditions_can_both_be_false_but_never_both_true(linter):
    """Strategy 'none' creates neither schedule; no value creates both."""
    source = (
        TWO_SCHEDULES.replace("[single, alternating]", "[single, alternating, none]")
        .replace("  Single: !Not", "  Plain: !Equals [!Ref Strategy, single]\n  Single: !Not")
        .replace("CONDITION_ONE", "Plain")
        .replace("CONDITION_TWO", "Alternating")
    )
    assert linter.findings(source) == set()


def _one_schedule_unconditional(condition: str) -> str:
    return (
        TWO_SCHEDULES.replace(
            "  Single: !Not [!Condition Alternating]",
            "  Single: !Not [!Condition Alternating]\n"
            "  Never: !And [!Condition Alternating, !Condition Single]",
        )
        .replace("    Condition: CONDITION_ONE\n", "")
        .replace("CONDITION_TWO", condition)
    )


def test_er005_when_only_one_schedule_has_a_condition_that_can_be_true(linter):
    source = _one_schedule_unconditional("Alternating")
    assert linter.findings(source) == {("ER005", "Resources/AlternatingRotation")}


def test_er005_silent_when_the_only_condition_can_never_be_true(linter):
    """The conditional schedule is never created, so the secret keeps one schedule."""
    assert linter.findings(_one_schedule_unconditional("Never")) == set()


def _app_rotation_again(template: dict, name: str) -> None:
    template["Resources"][name] = copy.deepcopy(template["Resources"]["AppRotation"])


def test_er005_after_a_schedule_for_a_secret_of_another_stack(linter, multi_user):
    """AdminRotation, first, rotates a secret made elsewhere; AppRotation's twin is still found."""
    multi_user["Parameters"]["ExistingAdminArn"] = {
        "Type": "String",
        "AllowedPattern": "^arn:.+$",
        "Description": "ARN of an admin secret made elsewhere",
    }
    admin = multi_user["Resources"]["AdminRotation"]
    admin["Properties"]["SecretId"] = {"Ref": "ExistingAdminArn"}
    admin["DependsOn"] = []
    _app_rotation_again(multi_user, "AppRotationAgain")
    assert ("ER005", "Resources/AppRotationAgain") in linter.findings(render(multi_user, "yaml"))


def test_er004_after_a_rotation_app(linter):
    """The first schedules take their function from rotation apps; the last one's type is
    misspelt."""
    template = load("good_rotation_app.yaml")
    template["Transform"] = ["AWS::Serverless-2016-10-31", "AWS::SecretsManager-2024-09-16"]
    template["Resources"]["ExtraSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "SecretString": '{"engine": "mysql", "username": "u", "password": "p", "host": "h"}'
        },
    }
    template["Resources"]["ExtraRotation"] = {
        "Type": "AWS::SecretsManager::RotationSchedule",
        "Properties": {
            "SecretId": {"Ref": "ExtraSecret"},
            "HostedRotationLambda": {"RotationType": "MySqlSingleUser"},
        },
    }
    found = linter.findings(render(template, "yaml"))
    assert ("ER004", hosted("ExtraRotation", "RotationType")) in found


def test_er003_after_a_schedule_with_an_existing_function(linter, multi_user):
    """AdminRotation, first, names its function; AppRotation sets both ways."""
    function_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:rotate"
    }
    admin = multi_user["Resources"]["AdminRotation"]["Properties"]
    del admin["HostedRotationLambda"]
    admin["RotationLambdaARN"] = function_arn
    multi_user["Resources"]["AppRotation"]["Properties"]["RotationLambdaARN"] = function_arn
    found = linter.findings(render(multi_user, "yaml"))
    assert ("ER003", properties("AppRotation", "RotationLambdaARN")) in found


def test_er002_second_secrets_manager_transform_of_a_list(linter, multi_user):
    multi_user["Transform"] = ["AWS::SecretsManager-2024-09-16", "AWS::SecretsManager-2023-01-01"]
    assert ("ER002", "Transform/1") in linter.findings(render(multi_user, "yaml"))
