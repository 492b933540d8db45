"""The handler against CloudFormation-shaped requests: the response body CloudFormation reads,
received by a real HTTPS server, with Lambda and IAM served by moto."""

import json

import boto3
import pytest

from .aws_mock import moto_mock
from .contract import answer
from .local_endpoints import (
    ACCOUNT,
    REGION,
    STACK_ID,
    cloudformation_event,
    create_rotation_function,
)


@pytest.fixture
def aws():
    with moto_mock():
        yield boto3.client("iam", region_name=REGION), boto3.client("lambda", region_name=REGION)


@pytest.fixture
def rotation_function(aws):
    iam, lambda_client = aws
    return create_rotation_function(iam, lambda_client, "app-db-rotation")


@pytest.mark.parametrize(
    "function_name",
    [
        "app-db-rotation",
        f"{ACCOUNT}:function:app-db-rotation",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-db-rotation",
    ],
    ids=["name", "partial-arn", "arn"],
)
def test_create_returns_role_and_function_arn(app, receiver, rotation_function, function_name):
    function_arn, role_arn = rotation_function
    event = cloudformation_event(
        "Create", receiver.url(), {"FunctionName": function_name, "Triggers": ["MySQLMultiUser"]}
    )

    body = answer(app, receiver, event)

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == function_arn
    assert body["Data"] == {
        "RoleArn": role_arn,
        "RoleName": "app-db-rotation-role",  # what AWS::IAM::RolePolicy takes, path or not
        "FunctionArn": function_arn,
    }
    assert role_arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/rotation/app-db-rotation-role"


def test_update_with_new_triggers_reads_the_role_again(app, receiver, aws, rotation_function):
    iam, lambda_client = aws
    function_arn, _ = rotation_function
    replacement_role = iam.create_role(
        RoleName="app-db-rotation-role-v2",
        Path="/service-role/rotation/",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lambda_client.update_function_configuration(
        FunctionName="app-db-rotation", Role=replacement_role
    )
    event = cloudformation_event(
        "Update",
        receiver.url(),
        {"FunctionName": "app-db-rotation", "Triggers": {"Runtime": "python3.13"}},
        physical_id=function_arn,
        old_properties={"FunctionName": "app-db-rotation", "Triggers": {"Runtime": "python3.12"}},
    )

    body = answer(app, receiver, event)

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == function_arn  # same function: an update, no replacement
    assert body["Data"]["RoleArn"] == replacement_role
    assert body["Data"]["RoleName"] == "app-db-rotation-role-v2"


def test_switching_from_name_to_arn_of_the_same_function_is_no_replacement(
    app, receiver, rotation_function
):
    function_arn, _ = rotation_function
    event = cloudformation_event(
        "Update",
        receiver.url(),
        {"FunctionName": function_arn},
        physical_id=function_arn,
        old_properties={"FunctionName": "app-db-rotation"},
    )

    body = answer(app, receiver, event)

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == function_arn


def test_update_to_another_function_replaces_the_resource(app, receiver, aws, rotation_function):
    iam, lambda_client = aws
    old_arn, _ = rotation_function
    new_arn, new_role = create_rotation_function(iam, lambda_client, "app-db-rotation-b")
    event = cloudformation_event(
        "Update",
        receiver.url(),
        {"FunctionName": "app-db-rotation-b"},
        physical_id=old_arn,
        old_properties={"FunctionName": "app-db-rotation"},
    )

    body = answer(app, receiver, event)

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == new_arn != old_arn
    assert body["Data"] == {
        "RoleArn": new_role,
        "RoleName": new_role.rsplit("/", 1)[-1],
        "FunctionArn": new_arn,
    }


def test_failed_update_keeps_the_old_physical_id(app, receiver, rotation_function):
    function_arn, _ = rotation_function
    event = cloudformation_event(
        "Update",
        receiver.url(),
        {"FunctionName": "app-db-rotation", "Rotation": "weekly"},
        physical_id=function_arn,
        old_properties={"FunctionName": "app-db-rotation"},
    )

    body = answer(app, receiver, event)

    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == function_arn
    assert "'Rotation'" in body["Reason"]
    assert body["Data"] == {}


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({}, "FunctionName is required"),
        ({"FunctionName": ""}, "FunctionName is empty"),
        ({"FunctionName": ["app-db-rotation"]}, "FunctionName must be a string"),
        ({"FunctionName": "arn:aws:lambda:us-east-1:1234:function:x"}, "is not a function name"),
        ({"FunctionName": "app-db-rotation:live"}, "version or alias qualifier"),
        ({"FunctionName": "app-db-rotation", "Role": "x"}, "Unknown property 'Role'"),
        ({"functionName": "app-db-rotation"}, "did you mean FunctionName?"),
    ],
    ids=["missing", "empty", "not-a-string", "malformed-arn", "qualifier", "unknown", "case"],
)
def test_bad_input_fails_with_a_reason_naming_the_property(
    app, receiver, lambda_api, properties, expected
):
    event = cloudformation_event("Create", receiver.url(), properties)

    body = answer(app, receiver, event)

    assert body["Status"] == "FAILED"
    assert expected in body["Reason"]
    assert "FunctionName" in body["Reason"]
    assert lambda_api.requests == 0  # refused before any AWS call


def test_response_echoes_the_stack_of_the_request(app, receiver, rotation_function):
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": "app-db-rotation"})
    assert answer(app, receiver, event)["StackId"] == STACK_ID
