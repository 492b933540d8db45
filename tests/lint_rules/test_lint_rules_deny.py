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
