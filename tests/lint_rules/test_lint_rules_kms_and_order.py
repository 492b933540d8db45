"""ER401 (customer managed keys) and WR501 (the schedule waits for the attachment)."""

from __future__ import annotations

import json

import pytest
from lint_rules_kit import FORMS, hosted, render

ALIAS = "alias/aws/secretsmanager"


def lambda_of(template: dict, schedule: str) -> dict:
    return template["Resources"][schedule]["Properties"]["HostedRotationLambda"]


@pytest.mark.parametrize("form", FORMS)
def test_er401_secret_under_customer_key_without_kms_key_arn(linter, multi_user, form):
    del lambda_of(multi_user, "AdminRotation")["KmsKeyArn"]
    assert linter.findings(render(multi_user, form)) == {("ER401", hosted("AdminRotation"))}


@pytest.mark.parametrize("form", FORMS)
def test_er401_admin_secret_under_customer_key_without_master_key_arn(linter, multi_user, form):
    del lambda_of(multi_user, "AppRotation")["MasterSecretKmsKeyArn"]
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("ER401", hosted("AppRotation"))}
    assert "MasterSecretKmsKeyArn" in matches[0].message


@pytest.mark.parametrize(
    "key",
    [
        ALIAS,
        {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:" + ALIAS},
    ],
)
def test_er401_silent_for_the_aws_managed_key(linter, multi_user, key):
    multi_user["Resources"]["AdminSecret"]["Properties"]["KmsKeyId"] = key
    del lambda_of(multi_user, "AdminRotation")["KmsKeyArn"]
    del lambda_of(multi_user, "AppRotation")["MasterSecretKmsKeyArn"]
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er401_literal_key_arn(linter, multi_user):
    multi_user["Resources"]["AdminSecret"]["Properties"]["KmsKeyId"] = (
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    del lambda_of(multi_user, "AdminRotation")["KmsKeyArn"]
    assert linter.findings(render(multi_user, "json")) == {("ER401", hosted("AdminRotation"))}


@pytest.mark.parametrize("form", FORMS)
def test_wr501_schedule_without_depends_on(linter, multi_user, form):
    del multi_user["Resources"]["AdminRotation"]["DependsOn"]
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {("WR501", "Resources/AdminRotation")}
    assert "add AdminAttachment to the DependsOn of AdminRotation" in matches[0].message


def test_wr501_depends_on_something_else(linter, multi_user):
    multi_user["Resources"]["AppRotation"]["DependsOn"] = ["AdminRotation"]
    assert linter.findings(render(multi_user, "yaml")) == {
        ("WR501", "Resources/AppRotation/DependsOn")
    }


def test_wr501_transitive_depends_on(linter, multi_user):
    resources = multi_user["Resources"]
    resources["Gate"] = {
        "Type": "AWS::CloudFormation::WaitConditionHandle",
        "DependsOn": ["AppAttachment"],
    }
    resources["AppRotation"]["DependsOn"] = ["Gate", "AdminRotation"]
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_wr501_dependency_through_a_ref_to_the_attachment(linter, multi_user):
    """Ref of a SecretTargetAttachment returns the secret's ARN: a documented way to wait."""
    app = multi_user["Resources"]["AppRotation"]
    del app["DependsOn"]
    app["Properties"]["SecretId"] = {"Ref": "AppAttachment"}
    assert linter.findings(render(multi_user, "json")) == set()


def test_wr501_dependency_through_a_getatt_in_a_property(linter, multi_user):
    resources = multi_user["Resources"]
    resources["Gate"] = {
        "Type": "AWS::CloudFormation::WaitConditionHandle",
        "DependsOn": ["AdminAttachment"],
    }
    resources["Gate2"] = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Type": "String", "Value": {"Ref": "Gate"}},
    }
    admin = resources["AdminRotation"]
    del admin["DependsOn"]
    admin["Properties"]["HostedRotationLambda"]["RotationLambdaName"] = {
        "Fn::Sub": "rotation-${Gate2.Type}"
    }
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er401_after_a_schedule_with_an_existing_function(linter, multi_user):
    """AdminRotation, first, names its own function (nothing to check); AppRotation is read."""
    admin = multi_user["Resources"]["AdminRotation"]["Properties"]
    del admin["HostedRotationLambda"]
    admin["RotationLambdaARN"] = {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:rotate"
    }
    del lambda_of(multi_user, "AppRotation")["MasterSecretKmsKeyArn"]
    assert ("ER401", hosted("AppRotation")) in linter.findings(render(multi_user, "yaml"))


def test_wr501_after_a_schedule_for_a_secret_of_another_stack(linter, multi_user):
    """AdminRotation, first, rotates a secret made elsewhere: no attachment here to wait for."""
    multi_user["Parameters"]["ExistingAdminArn"] = {
        "Type": "String",
        "AllowedPattern": "^arn:.+$",
        "Description": "ARN of an admin secret made elsewhere",
    }
    multi_user["Resources"]["AdminRotation"]["Properties"]["SecretId"] = {"Ref": "ExistingAdminArn"}
    multi_user["Resources"]["AppRotation"]["DependsOn"] = ["AdminRotation"]
    found = linter.findings(render(multi_user, "yaml"))
    assert ("WR501", "Resources/AppRotation/DependsOn") in found


def test_wr501_second_attachment_of_a_secret(linter, multi_user):
    """AppRotation waits for AppAttachment but not for AppAttachment2, on a second cluster."""
    resources = multi_user["Resources"]
    resources["Cluster2"] = json.loads(json.dumps(resources["Cluster"]))
    resources["AppAttachment2"] = json.loads(json.dumps(resources["AppAttachment"]))
    resources["AppAttachment2"]["Properties"]["TargetId"] = {"Ref": "Cluster2"}
    found = linter.findings(render(multi_user, "yaml"))
    assert ("WR501", "Resources/AppRotation/DependsOn") in found
