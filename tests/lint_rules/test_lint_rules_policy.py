"""WR601-WR603: resource policies on secrets."""

from __future__ import annotations

import json

import pytest
from lint_rules_kit import FORMS, custom_function_schedule, properties, put_first, render

STATEMENT = properties("AdminPolicy", "ResourcePolicy", "Statement", 0)


def policy(template: dict) -> dict:
    return template["Resources"]["AdminPolicy"]["Properties"]


def statement(template: dict) -> dict:
    return policy(template)["ResourcePolicy"]["Statement"][0]


@pytest.mark.parametrize("form", FORMS)
def test_wr601_wildcard_principal_without_principal_arn(linter, multi_user, form):
    statement(multi_user)["Condition"] = {
        "StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}
    }
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("WR601", STATEMENT)}
    assert "Custom::LambdaRoleLookup" in matches[0].message


def test_wr601_policy_written_as_a_json_string(linter, multi_user):
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "*", "Resource": "*"}
        ],
    }
    policy(multi_user)["ResourcePolicy"] = json.dumps(document)
    assert linter.findings(render(multi_user, "yaml")) == {
        ("WR601", properties("AdminPolicy", "ResourcePolicy"))
    }


def test_wr601_silent_for_deny_statements_and_named_principals(linter, multi_user):
    document = policy(multi_user)["ResourcePolicy"]
    document["Statement"] = [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:DeleteSecret",
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::GetAtt": ["SecretKey", "Arn"]}},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
    ]
    assert linter.findings(render(multi_user, "json")) == set()


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("operator", ["ArnLike", "StringLike", "ForAnyValue:ArnLikeIfExists"])
def test_wr602_role_name_pattern(linter, multi_user, form, operator):
    """The seed blog post's pattern: every role of the stack with SecretsManager in its name."""
    statement(multi_user)["Condition"] = {
        operator: {
            "aws:PrincipalArn": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                "${AWS::StackName}*SecretsManager*"
            }
        }
    }
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("WR602", STATEMENT)}
    assert "role/${AWS::StackName}*SecretsManager*" in matches[0].message


def test_wr602_silent_for_exact_arns_under_string_like(linter, multi_user):
    statement(multi_user)["Condition"] = {
        "StringLike": {"aws:PrincipalArn": [{"Fn::GetAtt": ["SecretKey", "Arn"]}]}
    }
    assert linter.findings(render(multi_user, "yaml")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_wr603_block_public_policy_false(linter, multi_user, form):
    policy(multi_user)["BlockPublicPolicy"] = False
    assert linter.findings(render(multi_user, form)) == {
        ("WR603", properties("AdminPolicy", "BlockPublicPolicy"))
    }


def test_wr603_block_public_policy_missing(linter, multi_user):
    del policy(multi_user)["BlockPublicPolicy"]
    assert linter.findings(render(multi_user, "yaml")) == {
        ("WR603", "Resources/AdminPolicy/Properties")
    }


def test_wr603_blog_policy_in_short_form_fires_all_three(linter):
    source = """
Resources:
  Admin:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString: {}
  Policy:
    Type: AWS::SecretsManager::ResourcePolicy
    Properties:
      BlockPublicPolicy: False
      SecretId: !Ref Admin
      ResourcePolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: "Allow"
            Action: "secretsmanager:GetSecretValue"
            Resource: "*"
            Principal: "*"
            Condition:
              ArnLike:
                "aws:PrincipalArn": !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/\
${AWS::StackName}*SecretsManager*"
          - Effect: Allow
            Action: secretsmanager:DescribeSecret
            Resource: "*"
            Principal: {AWS: "*"}
"""
    assert linter.findings(source) == {
        ("WR602", properties("Policy", "ResourcePolicy", "Statement", 0)),
        ("WR601", properties("Policy", "ResourcePolicy", "Statement", 1)),
        ("WR603", properties("Policy", "BlockPublicPolicy")),
    }


def test_a_justified_ignore_in_resource_metadata_silences_the_rule(linter, multi_user):
    resource = multi_user["Resources"]["AdminPolicy"]
    resource["Properties"]["BlockPublicPolicy"] = False
    resource["Metadata"] = {"cfn-lint": {"config": {"ignore_checks": ["WR603"]}}}
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_wr603_silent_for_a_policy_that_only_denies(linter, multi_user):
    """The CDK adds a Deny-only policy to every secret with hosted rotation: nothing to open."""
    policy(multi_user).pop("BlockPublicPolicy")
    policy(multi_user)["ResourcePolicy"]["Statement"] = [
        {
            "Effect": "Deny",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": "secretsmanager:DeleteSecret",
            "Resource": "*",
        }
    ]
    assert linter.findings(render(multi_user, "json")) == set()


@pytest.mark.parametrize("effect", [{"Ref": "Effect"}, "Allow"])
def test_wr603_still_warns_when_a_statement_may_allow(linter, multi_user, effect):
    multi_user["Parameters"]["Effect"] = {"Type": "String", "Description": "effect"}
    policy(multi_user).pop("BlockPublicPolicy")
    statements = policy(multi_user)["ResourcePolicy"]["Statement"]
    deny = {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret"}
    statements.insert(0, {**deny, "Resource": "*"})
    statements[1]["Effect"] = effect
    assert linter.findings(render(multi_user, "yaml")) == {("WR603", properties("AdminPolicy"))}


def _as_sub(document: dict) -> dict:
    """The document as a Fn::Sub JSON string, with the account filled in at deploy time."""
    text = json.dumps(document).replace("123456789012", "${AWS::AccountId}")
    return {"Fn::Sub": text}


def _as_join(document: dict) -> dict:
    """The document as a Fn::Join of JSON text around the account ID."""
    before, after = json.dumps(document).split("123456789012")
    return {"Fn::Join": ["", [before, {"Ref": "AWS::AccountId"}, after]]}


@pytest.mark.parametrize("build", [_as_sub, _as_join])
def test_wr601_policy_written_as_json_text_built_by_a_function(linter, multi_user, build):
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}},
            }
        ],
    }
    policy(multi_user)["ResourcePolicy"] = build(document)
    assert linter.findings(render(multi_user, "yaml")) == {
        ("WR601", properties("AdminPolicy", "ResourcePolicy"))
    }


def test_wr602_pattern_in_json_text_built_by_fn_sub(linter, multi_user):
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/rotation-*"}
                },
            }
        ]
    }
    policy(multi_user)["ResourcePolicy"] = _as_sub(document)
    assert linter.findings(render(multi_user, "json")) == {
        ("WR602", properties("AdminPolicy", "ResourcePolicy"))
    }


BLOCK = properties("AdminPolicy", "BlockPublicPolicy")


@pytest.mark.parametrize(
    ("off_branch", "said"),
    [
        pytest.param({"Ref": "AWS::NoValue"}, "does not set BlockPublicPolicy", id="novalue"),
        pytest.param(False, "sets BlockPublicPolicy to false", id="false"),
    ],
)
@pytest.mark.parametrize("form", FORMS)
def test_wr603_judges_each_fn_if_branch(linter, multi_user, form, off_branch, said):
    policy(multi_user)["BlockPublicPolicy"] = {"Fn::If": ["UseShortWindow", True, off_branch]}
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("WR603", BLOCK)}
    assert said in matches[0].message
    assert "when UseShortWindow is false" in matches[0].message


def test_wr603_silent_when_every_branch_blocks(linter, multi_user):
    policy(multi_user)["BlockPublicPolicy"] = {"Fn::If": ["UseShortWindow", True, "true"]}
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_wr603_on_the_admin_secret_speaks_of_rotation_roles(linter, multi_user):
    policy(multi_user)["BlockPublicPolicy"] = False
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert "rotation roles" in match.message
    assert "Custom::LambdaRoleLookup" in match.message


@pytest.mark.parametrize("after_another_stacks_secret", [False, True])
def test_wr603_on_an_admin_secret_named_only_by_masterarn_speaks_of_rotation_roles(
    linter, multi_user, after_another_stacks_secret
):
    """Without MasterSecretArn the function still logs in with the secret `masterarn` names
    (also when a schedule of a secret made elsewhere comes first)."""
    if after_another_stacks_secret:
        other = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf"
        put_first(multi_user, "OtherRotation", custom_function_schedule(other))
    policy(multi_user)["BlockPublicPolicy"] = False
    hosted = multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]
    del hosted["MasterSecretArn"]
    matches = linter.matches(render(multi_user, "yaml"))
    block = [m for m in matches if m.rule.id == "WR603"]
    assert len(block) == 1
    assert "rotation roles" in block[0].message


def test_wr603_on_a_secret_no_rotation_logs_in_with_gives_a_generic_fix(linter, multi_user):
    """The application secret is rotated, but no rotation uses it as its admin secret."""
    policy(multi_user).update(BlockPublicPolicy=False, SecretId={"Ref": "AppSecret"})
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert match.rule.id == "WR603"
    assert "rotation" not in match.message
    assert "Custom::LambdaRoleLookup" not in match.message
    assert "name exactly the principals that need the secret" in match.message


def test_wr603_second_policy_after_one_that_only_denies(linter, multi_user):
    """AdminPolicy, first, only denies (nothing to block); AppPolicy may allow without it."""
    resources = multi_user["Resources"]
    resources["AppPolicy"] = json.loads(json.dumps(resources["AdminPolicy"]))
    app_policy = resources["AppPolicy"]["Properties"]
    app_policy["SecretId"] = {"Ref": "AppSecret"}
    del app_policy["BlockPublicPolicy"]
    policy(multi_user).pop("BlockPublicPolicy")
    statement(multi_user)["Effect"] = "Deny"
    assert linter.findings(render(multi_user, "yaml")) == {("WR603", properties("AppPolicy"))}


def test_wr602_pattern_after_an_exact_principal_arn_condition(linter, multi_user):
    exact = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/app-rotation"}
    pattern = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*Rotation*"}
    statement(multi_user)["Condition"] = {
        "ArnEquals": {"aws:PrincipalArn": exact},
        "ArnLike": {"aws:PrincipalArn": pattern},
    }
    assert linter.findings(render(multi_user, "yaml")) == {("WR602", STATEMENT)}


def test_wr603_once_when_both_branches_settle_the_policy_alike(linter, multi_user):
    """An Fn::If whose branches are the same value gives one policy to judge, so one finding."""
    policy(multi_user)["BlockPublicPolicy"] = {"Fn::If": ["UseShortWindow", False, False]}
    matches = linter.matches(render(multi_user, "yaml"))
    assert [(m.rule.id, m.path_string) for m in matches] == [("WR603", BLOCK)]
    assert "sets BlockPublicPolicy to false" in matches[0].message
