"""ER301-ER302: the secret JSON the hosted rotation functions read."""

from __future__ import annotations

import pytest
from lint_rules_kit import FORMS, custom_function_schedule, hosted, properties, put_first, render

ADMIN_JSON = properties("AdminSecret", "GenerateSecretString", "SecretStringTemplate")


def detach_admin(template: dict, secret_json: str) -> None:
    """Remove the admin secret's attachment and write its JSON as given."""
    resources = template["Resources"]
    del resources["AdminAttachment"]
    resources["AdminRotation"]["DependsOn"] = "Cluster"
    generate = resources["AdminSecret"]["Properties"]["GenerateSecretString"]
    generate["SecretStringTemplate"] = {"Fn::Sub": secret_json}


@pytest.mark.parametrize("form", FORMS)
def test_er301_postgres_engine_under_mysql_single_user(linter, multi_user, form):
    detach_admin(multi_user, '{"engine": "postgres", "username": "${AdminUsername}", "host": "h"}')
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER301", ADMIN_JSON)}
    assert "use RotationType PostgreSQLSingleUser" in matches[0].message


@pytest.mark.parametrize(("engine", "found"), [("mariadb", True), ("aurora-mysql", False)])
def test_er301_mysql_function_engine_names(linter, multi_user, engine, found):
    detach_admin(multi_user, f'{{"engine": "{engine}", "username": "u", "host": "h"}}')
    expected = {("ER301", ADMIN_JSON)} if found else set()
    assert linter.findings(render(multi_user, "yaml")) == expected


@pytest.mark.parametrize("form", FORMS)
def test_er301_attached_database_of_another_engine(linter, multi_user, form):
    multi_user["Resources"]["Cluster"]["Properties"]["Engine"] = "aurora-postgresql"
    assert linter.findings(render(multi_user, form)) == {
        ("ER301", hosted("AdminRotation", "RotationType")),
        ("ER301", hosted("AppRotation", "RotationType")),
    }


def test_er301_engine_from_a_parameter_default(linter, multi_user):
    multi_user["Parameters"]["Engine"] = {"Type": "String", "Default": "mariadb"}
    detach_admin(multi_user, '{"engine": "${Engine}", "username": "u", "host": "h"}')
    assert linter.findings(render(multi_user, "json")) == {("ER301", ADMIN_JSON)}


@pytest.mark.parametrize("form", FORMS)
def test_er302_no_engine_and_no_host_without_attachment(linter, multi_user, form):
    detach_admin(multi_user, '{"username": "${AdminUsername}"}')
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER302", ADMIN_JSON)}
    assert "`engine`, `host`" in matches[0].message


def test_er302_no_username_even_with_attachment(linter, multi_user):
    generate = multi_user["Resources"]["AdminSecret"]["Properties"]["GenerateSecretString"]
    generate["SecretStringTemplate"] = '{"engine": "mysql"}'
    assert linter.findings(render(multi_user, "yaml")) == {("ER302", ADMIN_JSON)}


def test_er302_bare_generated_password(linter, multi_user):
    generate = multi_user["Resources"]["AdminSecret"]["Properties"]["GenerateSecretString"]
    del generate["SecretStringTemplate"], generate["GenerateStringKey"]
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER302", properties("AdminSecret", "GenerateSecretString"))
    }


def test_er302_secret_string_that_is_no_json(linter):
    source = """
Transform: AWS::SecretsManager-2024-09-16
Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: just-a-password
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Secret
      HostedRotationLambda:
        RotationType: PostgreSQLSingleUser
"""
    assert linter.findings(source) == {("ER302", properties("Secret", "SecretString"))}


def test_er302_silent_when_the_value_comes_from_a_parameter(linter):
    source = """
Transform: AWS::SecretsManager-2024-09-16
Parameters:
  Value:
    Type: String
    NoEcho: true
Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: !Ref Value
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Secret
      HostedRotationLambda:
        RotationType: PostgreSQLSingleUser
"""
    assert linter.findings(source) == set()


APP_JSON = properties("AppSecret", "GenerateSecretString", "SecretStringTemplate")


def _detach_app(template: dict, engine: str) -> None:
    """AppSecret without its attachment, its JSON naming the engine and a host."""
    resources = template["Resources"]
    del resources["AppAttachment"]
    resources["AppRotation"]["DependsOn"] = "AdminRotation"
    generate = resources["AppSecret"]["Properties"]["GenerateSecretString"]
    sub = generate["SecretStringTemplate"]["Fn::Sub"]
    sub[0] = sub[0].replace('"username"', '"host": "h", "username"')
    sub[1]["Engine"] = engine


def test_er301_detached_secret_after_an_attached_one(linter, multi_user):
    """AdminSecret, read first, takes its engine from its attachment; AppSecret's is wrong."""
    _detach_app(multi_user, "postgres")
    assert ("ER301", APP_JSON) in linter.findings(render(multi_user, "yaml"))


def test_er301_after_a_secret_whose_json_names_no_engine(linter, multi_user):
    detach_admin(multi_user, '{"username": "${AdminUsername}", "host": "h"}')
    _detach_app(multi_user, "postgres")
    assert ("ER301", APP_JSON) in linter.findings(render(multi_user, "yaml"))


def test_er301_engine_parameter_allowing_another_family(linter, multi_user):
    """mysql, the first allowed value, is fine; postgres, the second, is not."""
    multi_user["Parameters"]["Engine"] = {
        "Type": "String",
        "AllowedValues": ["mysql", "postgres"],
        "Default": "mysql",
        "Description": "Engine",
    }
    detach_admin(multi_user, '{"engine": "${Engine}", "username": "u", "host": "h"}')
    assert linter.findings(render(multi_user, "yaml")) == {("ER301", ADMIN_JSON)}


@pytest.mark.parametrize(
    ("secret_json", "first_error", "attach"),
    [
        # The function checks the engine first, then host, username and password in that order.
        ('{"engine": "mysql"}', "KeyError: 'host key is missing from secret JSON'", True),
        ('{"host": "h", "username": "u"}', 'KeyError: "Database engine must be set to', True),
        ('{"engine": "mysql", "host": "h"}', "KeyError: 'username key is missing", False),
    ],
)
def test_er302_names_the_first_key_error_and_the_attachment_fix(
    linter, multi_user, secret_json, first_error, attach
):
    """Either of engine and host missing calls for the attachment that writes both."""
    detach_admin(multi_user, secret_json)
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert match.rule.id == "ER302"
    assert first_error in match.message
    assert ("add a SecretTargetAttachment for the database" in match.message) is attach


def test_er302_after_a_rotation_of_a_custom_function(linter, multi_user):
    """A schedule with a Lambda function of its own (no hosted type to read) comes first; the
    hosted rotation after it is still checked."""
    put_first(multi_user, "CustomRotation", custom_function_schedule({"Ref": "AppSecret"}))
    detach_admin(multi_user, '{"username": "${AdminUsername}"}')
    assert ("ER302", ADMIN_JSON) in linter.findings(render(multi_user, "yaml"))


@pytest.mark.parametrize(
    ("generate", "found"),
    [
        pytest.param(None, True, id="no-value-at-all"),
        pytest.param(["not", "a", "map"], False, id="settings-not-readable"),
    ],
)
def test_er302_a_secret_with_no_value_at_all(linter, multi_user, generate, found):
    """Neither SecretString nor GenerateSecretString: nothing to read. A GenerateSecretString
    the rules cannot read is unknown, not empty."""
    properties_ = multi_user["Resources"]["AdminSecret"]["Properties"]
    del properties_["GenerateSecretString"]
    if generate is not None:
        properties_["GenerateSecretString"] = generate
    matches = [m for m in linter.matches(render(multi_user, "yaml")) if m.rule.id == "ER302"]
    expected = ["Resources/AdminSecret/Properties"] if found else []
    assert [m.path_string for m in matches] == expected
    if found:
        assert "has neither SecretString nor GenerateSecretString" in matches[0].message
