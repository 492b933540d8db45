"""ER604: a resource policy that denies the rotation function what it calls on its secrets
(issue 20, point 3). WR601-WR603 read Allow statements only; this rule reads the Deny ones."""

from __future__ import annotations

import copy
import json

import pytest
from lint_rules_kit import FORMS, load, properties, render

CUSTOM = load("good_custom_function.yaml")
ADMIN_STATEMENT = properties("AdminPolicy", "ResourcePolicy", "Statement", 0)
CUSTOM_STATEMENT = properties("SecretPolicy", "ResourcePolicy", "Statement", 0)
LOOKED_UP = {"Fn::GetAtt": ["Lookup", "RoleArn"]}
DENY_READS = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
    "Resource": "*",
}


@pytest.fixture
def multi_user() -> dict:
    """The template as written, AWS::LanguageExtensions in its Transform: this file's rules run
    through cfn-lint's transform as users' templates do (other rule files skip it, for speed)."""
    return load("good_multi_user_short.yaml")


@pytest.fixture
def custom() -> dict:
    return copy.deepcopy(CUSTOM)


def _admin_statements(template: dict) -> list:
    return template["Resources"]["AdminPolicy"]["Properties"]["ResourcePolicy"]["Statement"]


def _custom_deny(template: dict) -> dict:
    return template["Resources"]["SecretPolicy"]["Properties"]["ResourcePolicy"]["Statement"][0]


@pytest.mark.parametrize("form", FORMS)
def test_er604_deny_without_exception_on_a_rotated_and_admin_secret(linter, multi_user, form):
    """AdminSecret is rotated by AdminRotation and read by AppRotation (alternating users)."""
    _admin_statements(multi_user).insert(0, dict(DENY_READS))
    matches = [m for m in linter.matches(render(multi_user, form)) if m.rule.id == "ER604"]
    assert {m.path_string for m in matches} == {ADMIN_STATEMENT}
    messages = sorted(m.message for m in matches)
    assert len(messages) == 2
    assert "denies secretsmanager:GetSecretValue on admin secret AdminSecret" in messages[0]
    assert "of schedule AppRotation" in messages[0]
    assert (
        "denies secretsmanager:GetSecretValue, secretsmanager:PutSecretValue on rotated secret "
        "AdminSecret to every principal, with no exception for the rotation role of schedule "
        "AdminRotation"
    ) in messages[1]
    assert "Custom::LambdaRoleLookup" in messages[1]


@pytest.mark.parametrize("form", FORMS)
def test_er604_exception_that_names_another_role(linter, custom, form):
    custom["Resources"]["AdminRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
    }
    exceptions = _custom_deny(custom)["Condition"]["ArnNotEquals"]
    exceptions["aws:PrincipalArn"] = [{"Fn::GetAtt": ["AdminRole", "Arn"]}]
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER604", CUSTOM_STATEMENT)}
    assert "with no exception for role RotationRole of schedule Rotation" in matches[0].message
    assert "ArnNotEquals aws:PrincipalArn: [!GetAtt RotationRole.Arn]" in matches[0].message


@pytest.mark.parametrize(
    "exception",
    [
        pytest.param("arn:aws:iam::123456789012:root", id="the-account-root"),
        pytest.param(
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ops"}, id="named-role"
        ),
    ],
)
def test_er604_exception_for_others_than_a_named_rotation_role(linter, custom, exception):
    custom["Resources"]["RotationRole"]["Properties"]["RoleName"] = "pg-rotation-role"
    _custom_deny(custom)["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = [exception]
    assert linter.findings(render(custom, "yaml")) == {("ER604", CUSTOM_STATEMENT)}


def test_er604_policy_written_as_json_text(linter, multi_user):
    policy = multi_user["Resources"]["AdminPolicy"]["Properties"]
    policy["ResourcePolicy"] = json.dumps(
        {"Version": "2012-10-17", "Statement": [{**DENY_READS, "Action": "secretsmanager:*"}]}
    )
    found = {f for f in linter.findings(render(multi_user, "yaml")) if f[0] == "ER604"}
    assert found == {("ER604", properties("AdminPolicy", "ResourcePolicy"))}


@pytest.mark.parametrize(
    "deny",
    [
        pytest.param({"Action": "secretsmanager:DeleteSecret"}, id="another-action"),
        pytest.param(
            {"Condition": {"Bool": {"aws:SecureTransport": "false"}}}, id="plain-http-only"
        ),
        pytest.param(
            {"Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}},
            id="a-condition-the-rules-cannot-evaluate",
        ),
        pytest.param(
            {"Condition": {"ArnNotEquals": {"aws:PrincipalArn": LOOKED_UP}}},
            id="the-looked-up-rotation-role-is-exempt",
        ),
        pytest.param(
            {"Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*rotation*"}}},
            id="a-pattern-that-may-match",
        ),
        pytest.param({"Principal": {"AWS": "arn:aws:iam::123456789012:role/ops"}}, id="one-role"),
        pytest.param({"Effect": "Allow"}, id="an-allow"),
    ],
)  # fmt: skip
def test_er604_silent_when_the_deny_may_spare_the_rotation(linter, multi_user, deny):
    multi_user["Resources"]["Lookup"] = {
        "Type": "Custom::LambdaRoleLookup",
        "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:lookup"},
    }
    _admin_statements(multi_user).insert(0, {**DENY_READS, **deny})
    assert "ER604" not in {rule for rule, _ in linter.findings(render(multi_user, "yaml"))}


def test_er604_silent_for_the_cdk_deny_of_delete(linter, custom):
    """The CDK's Deny on DeleteSecret for the account root: rotation never deletes."""
    _custom_deny(custom).update(
        {
            "Action": "secretsmanager:DeleteSecret",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        }
    )
    del _custom_deny(custom)["Condition"]
    assert linter.findings(render(custom, "yaml")) == set()


def test_er604_silent_for_a_secret_no_rotation_reads(linter, multi_user):
    multi_user["Resources"]["Other"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {"GenerateSecretString": {}},
    }
    multi_user["Resources"]["AdminPolicy"]["Properties"]["SecretId"] = {"Ref": "Other"}
    _admin_statements(multi_user).insert(0, dict(DENY_READS))
    assert "ER604" not in {rule for rule, _ in linter.findings(render(multi_user, "yaml"))}


# -- issue 20 review: exceptions and principals that spare no rotation role -------------------
ADMIN_ROLE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/database-admin"}
OWN_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}


def _only_exception(template: dict, *values) -> None:
    _custom_deny(template)["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = list(values)


@pytest.mark.parametrize("form", FORMS)
def test_er604_literal_role_arn_never_names_a_role_without_role_name(linter, custom, form):
    """CloudFormation names a role without RoleName <stack>-<id>-<random>: no ARN written in the
    template equals it, so the exception for database-admin spares no rotation role."""
    _only_exception(custom, ADMIN_ROLE_ARN)
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER604", CUSTOM_STATEMENT)}
    custom["Resources"]["RotationRole"]["Properties"]["RoleName"] = "database-admin"
    assert linter.findings(render(custom, form)) == set()


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "user",
    [
        pytest.param(
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/admin"}, id="by-arn"
        ),
        pytest.param({"Fn::GetAtt": ["AdminUser", "Arn"]}, id="a-template-user"),
    ],
)
def test_er604_exception_for_a_user_only(linter, custom, form, user):
    custom["Resources"]["AdminUser"] = {"Type": "AWS::IAM::User", "Properties": {}}
    custom["Resources"]["RotationRole"]["Properties"]["RoleName"] = "pg-rotation-role"
    _only_exception(custom, user)
    assert linter.findings(render(custom, form)) == {("ER604", CUSTOM_STATEMENT)}


def _not_principal(template: dict, *values) -> None:
    deny = _custom_deny(template)
    del deny["Principal"], deny["Condition"]
    deny["NotPrincipal"] = {"AWS": list(values)}


@pytest.mark.parametrize("form", FORMS)
def test_er604_not_principal_with_the_role_arn_still_denies_its_session(linter, custom, form):
    """With Deny, NotPrincipal spares a role's session only by its assumed-role ARN."""
    _not_principal(custom, {"Fn::GetAtt": ["RotationRole", "Arn"]}, OWN_ROOT)
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER604", CUSTOM_STATEMENT)}
    assert "every principal but those NotPrincipal names" in matches[0].message


@pytest.mark.parametrize(
    "spared",
    [
        pytest.param(
            {
                "Fn::Sub": "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/"
                "${RotationRole}/${RotationFunctionName}"
            },
            id="the-session",
        ),
        pytest.param({"Ref": "SparedPrincipal"}, id="a-parameter"),
    ],
)
def test_er604_not_principal_that_may_name_the_session(linter, custom, spared):
    custom["Parameters"]["SparedPrincipal"] = {"Type": "String", "Description": "x"}
    _not_principal(custom, {"Fn::GetAtt": ["RotationRole", "Arn"]}, spared, OWN_ROOT)
    assert linter.findings(render(custom, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "account",
    [pytest.param(OWN_ROOT, id="root-arn"), pytest.param({"Ref": "AWS::AccountId"}, id="id")],
)
def test_er604_the_stacks_account_as_principal_covers_the_role(linter, custom, form, account):
    deny = _custom_deny(custom)
    deny["Principal"] = {"AWS": account}
    del deny["Condition"]
    matches = linter.matches(render(custom, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER604", CUSTOM_STATEMENT)}
    assert "to every principal of the stack's account" in matches[0].message
    deny["Principal"] = {"AWS": "arn:aws:iam::111122223333:root"}  # maybe another account
    assert linter.findings(render(custom, form)) == set()


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("secure", "found"),
    [(True, {("ER604", CUSTOM_STATEMENT)}), (False, set())],
    ids=["true", "false"],
)
def test_er604_secure_transport_as_an_unquoted_boolean(linter, custom, form, secure, found):
    _custom_deny(custom)["Condition"] = {"Bool": {"aws:SecureTransport": secure}}
    assert linter.findings(render(custom, form)) == found
