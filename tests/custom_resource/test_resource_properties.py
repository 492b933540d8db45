"""FunctionName and the other properties, validated before any AWS call."""

import pytest
from cfn_one_shot.reasons import REASON_LIMIT, RequestRejected
from resource_properties import function_ref

REGION = "us-east-1"


@pytest.mark.parametrize(
    ("given", "expected_identifier"),
    [
        ("app-db-rotation", "app-db-rotation"),
        ("123456789012:function:rot_1", "arn:aws:lambda:us-east-1:123456789012:function:rot_1"),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:rot",
            "arn:aws:lambda:us-east-1:123456789012:function:rot",
        ),
        (
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:rot",
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:rot",
        ),
    ],
)
def test_accepted_forms_and_the_identifier_sent_to_lambda(given, expected_identifier):
    region = "us-gov-west-1" if "gov" in given else REGION
    partition = "aws-us-gov" if "gov" in given else "aws"

    ref = function_ref(
        {"FunctionName": given, "ServiceToken": "arn:x", "ServiceTimeout": "90"}, region
    )

    assert ref.api_identifier(partition, region) == expected_identifier


@pytest.mark.parametrize(
    "triggers", ["MySQLMultiUser", {"Runtime": "python3.13", "SubnetIds": ["subnet-1"]}, ["a", 1]]
)
def test_triggers_accepts_any_json_value(triggers):
    assert function_ref({"FunctionName": "rot", "Triggers": triggers}, REGION).name == "rot"


@pytest.mark.parametrize(
    ("properties", "fragments"),
    [
        (None, ["ResourceProperties must be an object", "FunctionName"]),
        ({}, ["FunctionName is required", "partial ARN"]),
        ({"FunctionName": "  "}, ["FunctionName is empty"]),
        ({"FunctionName": 42}, ["FunctionName must be a string", "not int"]),
        ({"FunctionName": "has space"}, ["FunctionName 'has space' is not", "1-64 letters"]),
        ({"FunctionName": "x" * 65}, ["is not a function name"]),
        ({"FunctionName": "1234:function:rot"}, ["is not a function name"]),
        ({"FunctionName": "rot:$LATEST"}, ["version or alias qualifier", "':$LATEST'"]),
        (
            {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:rot:7"},
            ["version or alias qualifier", "':7'"],
        ),
        (
            {"FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:rot"},
            ["is in eu-west-1", "runs in us-east-1"],
        ),
        (
            {"FunctionName": "rot", "RoleName": "x", "Tags": []},
            ["Unknown properties 'RoleName', 'Tags'", "allowed are FunctionName, Triggers."],
        ),
        ({"functionname": "rot"}, ["did you mean FunctionName?", "FunctionName is required"]),
    ],
)
def test_rejections_name_the_property_and_what_is_expected(properties, fragments):
    with pytest.raises(RequestRejected) as rejected:
        function_ref(properties, REGION)

    for fragment in fragments:
        assert fragment in str(rejected.value)


def test_long_input_is_quoted_briefly_and_the_reason_stays_short():
    properties = {"FunctionName": "bad name " * 100, **{f"Extra{i}": i for i in range(50)}}

    with pytest.raises(RequestRejected) as rejected:
        function_ref(properties, REGION)

    reason = str(rejected.value)
    assert len(reason) <= REASON_LIMIT
    assert reason.startswith("Unknown properties 'Extra0'")
    assert reason.endswith("... (truncated)")
