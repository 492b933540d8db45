"""Where values really come from: SSM parameter types, dynamic references, attachment Refs.

Forms seen in the wild. A value the template does not hold is unknown, not a finding; a Ref to a
SecretTargetAttachment (or a RotationSchedule) is its secret's ARN, so the checks follow it.
"""

from __future__ import annotations

import pytest
from lint_rules_kit import FORMS, hosted, properties, render

SSM = "AWS::SSM::Parameter::Value<String>"

SSM_VALUES = f"""
Transform: AWS::SecretsManager-2024-09-16
Parameters:
  AppUser: {{Type: "{SSM}", Default: /platform/orders/application-username, Description: u}}
  Engine: {{Type: "{SSM}", Default: /platform/orders/engine, Description: e}}
  Kind: {{Type: "{SSM}", Default: /platform/rotation/type, Description: t}}
  Schedule: {{Type: "{SSM}", Default: /platform/rotation/schedule, Description: s}}
  Key: {{Type: "{SSM}", Default: /platform/kms/secrets-key, Description: k}}
  Exclusions:
    Type: "{SSM}"
    Default: /platform/rotation/abcdefghijklmnopqrstuvwxyz
    Description: characters no password has
  AdminArn: {{Type: String, Description: admin secret of another stack}}
Resources:
  App:
    Type: AWS::SecretsManager::Secret
    Properties:
      KmsKeyId: !Ref Key
      GenerateSecretString:
        SecretStringTemplate: !Sub |
          {{"engine": "${{Engine}}", "username": "${{AppUser}}", "host": "h",
           "masterarn": "${{AdminArn}}"}}
        GenerateStringKey: password
        ExcludeCharacters: !Ref Exclusions
  AppRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref App
      HostedRotationLambda:
        RotationType: MySQLMultiUser
        MasterSecretArn: !Ref AdminArn
        ExcludeCharacters: !Ref Exclusions
      RotationRules:
        ScheduleExpression: !Ref Schedule
  Other:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{{"engine": "mysql", "username": "u", "password": "p", "host": "h"}}'
  OtherRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Other
      HostedRotationLambda:
        RotationType: !Ref Kind
"""


def test_ssm_parameter_defaults_are_names_not_values(linter):
    """The Default of an SSM parameter type names the SSM parameter; its value is unknown."""
    assert linter.findings(SSM_VALUES) == set()


def test_the_same_defaults_as_plain_strings_are_judged(linter):
    """Guard: the SSM template is not silent for a reason of its own."""
    found = {rule for rule, _ in linter.findings(SSM_VALUES.replace(f'"{SSM}"', "String"))}
    assert {"ER004", "ER103", "ER201", "ER301", "ER401", "ER802"} <= found


DYNAMIC_REFERENCES = """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  Admin:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{{resolve:ssm:/platform/orders/admin-json}}'
  AdminRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Admin
      HostedRotationLambda:
        RotationType: MySQLSingleUser
        ExcludeCharacters: '{{resolve:ssm:/platform/rotation/exclude}}'
      RotationRules:
        ScheduleExpression: '{{resolve:ssm:/platform/rotation/schedule}}'
        Duration: '{{resolve:ssm:/platform/rotation/window}}'
  App:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: !Sub |
          {"engine": "{{resolve:ssm:/platform/orders/engine}}",
           "username": "{{resolve:ssm:/platform/orders/app-user}}",
           "host": "h", "masterarn": "${Admin}"}
        GenerateStringKey: password
  AppRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref App
      HostedRotationLambda:
        RotationType: MySQLMultiUser
        MasterSecretArn: !Ref Admin
"""


def test_dynamic_references_are_unknown_values(linter):
    assert linter.findings(DYNAMIC_REFERENCES) == set()


def test_a_dynamic_reference_inside_a_longer_value_still_leaves_the_rest_judged(linter):
    source = DYNAMIC_REFERENCES.replace(
        '"host": "h", "masterarn": "${Admin}"', '"host": "{{resolve:ssm:/platform/orders/host}}"'
    )
    assert source != DYNAMIC_REFERENCES
    assert linter.findings(source) == {
        ("ER101", properties("App", "GenerateSecretString", "SecretStringTemplate"))
    }


def attached(template: dict) -> dict:
    """The good template with every secret named through its SecretTargetAttachment, as the CDK
    writes it (`Ref` of an attachment is its secret's ARN)."""
    resources = template["Resources"]
    admin_ref = {"Ref": "AdminAttachment"}
    resources["AdminRotation"]["Properties"]["SecretId"] = admin_ref
    resources["AppRotation"]["Properties"]["SecretId"] = {"Ref": "AppAttachment"}
    resources["AppRotation"]["Properties"]["HostedRotationLambda"]["MasterSecretArn"] = admin_ref
    variables = resources["AppSecret"]["Properties"]["GenerateSecretString"][
        "SecretStringTemplate"
    ]["Fn::Sub"][1]
    variables["Admin"] = admin_ref
    return template


APP_JSON = properties("AppSecret", "GenerateSecretString", "SecretStringTemplate")


@pytest.mark.parametrize("form", FORMS)
def test_secrets_named_through_their_attachment_are_good(linter, multi_user, form):
    assert linter.findings(render(attached(multi_user), form)) == set()


@pytest.mark.parametrize("form", FORMS)
def test_secret_named_through_its_attachment_without_masterarn(linter, multi_user, form):
    template = attached(multi_user)
    gen = template["Resources"]["AppSecret"]["Properties"]["GenerateSecretString"]
    gen["SecretStringTemplate"]["Fn::Sub"][0] = '{"engine": "${Engine}", "username": "${User}"}'
    assert linter.findings(render(template, form)) == {("ER101", APP_JSON)}


def test_secret_named_through_its_attachment_with_a_long_username(linter, multi_user):
    template = attached(multi_user)
    template["Parameters"]["AppUsername"].update(Default="websiteuser", MaxLength=16)
    assert linter.findings(render(template, "json")) == {
        ("ER103", "Parameters/AppUsername/Default")
    }


def test_admin_secret_named_through_its_attachment_without_its_key(linter, multi_user):
    template = attached(multi_user)
    del template["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"][
        "MasterSecretKmsKeyArn"
    ]
    assert linter.findings(render(template, "yaml")) == {("ER401", hosted("AppRotation"))}


def test_second_schedule_through_the_attachment_is_the_same_secret(linter, multi_user):
    resources = multi_user["Resources"]
    resources["AdminRotationAgain"] = {
        "Type": "AWS::SecretsManager::RotationSchedule",
        "DependsOn": "AdminAttachment",
        "Properties": {
            "SecretId": {"Ref": "AdminAttachment"},
            "RotationLambdaARN": {"Fn::ImportValue": "shared-rotation-function"},
        },
    }
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER005", "Resources/AdminRotationAgain")
    }


MAPPED = """
Transform: AWS::SecretsManager-2024-09-16
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod], Description: environment}
Mappings:
  Db:
    dev: {AppUser: app, Engine: mysql, Exclude: '"@/'}
    prod: {AppUser: PROD_USER, Engine: PROD_ENGINE, Exclude: "PROD_EXCLUDE"}
Resources:
  Admin:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{"engine": "mysql", "username": "admin", "password": "p", "host": "h"}'
  App:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: !Sub
          - '{"engine": "${E}", "username": "${U}", "host": "h", "masterarn": "${Admin}"}'
          - U: !FindInMap [Db, !Ref KEY, AppUser]
            E: !FindInMap [Db, !Ref KEY, Engine]
        GenerateStringKey: password
  AppRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref App
      HostedRotationLambda:
        RotationType: MySQLMultiUser
        MasterSecretArn: !Ref Admin
        ExcludeCharacters: !FindInMap [Db, !Ref KEY, Exclude]
"""


def mapped(key: str, user: str = "reporting", engine: str = "aurora-mysql", exclude: str = "/"):
    return (
        MAPPED.replace("KEY", key)
        .replace("PROD_USER", user)
        .replace("PROD_ENGINE", engine)
        .replace("PROD_EXCLUDE", exclude)
    )


@pytest.mark.parametrize("key", ["Env", "AWS::Region"])
def test_values_from_a_mapping_keyed_by_a_parameter_are_good(linter, key):
    assert linter.findings(mapped(key)) == set()


@pytest.mark.parametrize("key", ["Env", "AWS::Region"])
def test_every_value_a_mapping_can_give_is_judged(linter, key):
    """A key from a parameter takes each allowed value; a key only known at deploy time, each
    key the mapping has."""
    source = mapped(key, user="websiteuser", engine="postgres", exclude="0123456789")
    app_json = properties("App", "GenerateSecretString", "SecretStringTemplate")
    assert linter.findings(source) == {
        ("ER103", app_json),
        ("ER301", app_json),
        ("ER201", hosted("AppRotation", "ExcludeCharacters")),
    }
