"""The lookup itself against moto's Lambda and IAM (mock_aws), its deadline on a VirtualClock."""

import boto3
import pytest
from botocore.stub import Stubber
from cfn_one_shot.reasons import RequestRejected
from resource_properties import function_ref
from role_lookup import find_role

from .aws_mock import moto_mock
from .local_endpoints import ACCOUNT, REGION, create_rotation_function
from .virtual_clock import VirtualClock


@pytest.fixture
def clients():
    with moto_mock():
        yield boto3.client("iam", region_name=REGION), boto3.client("lambda", region_name=REGION)


def look_up(lambda_client, function_name, seconds=5.0, clock=None):
    clock = clock or VirtualClock()
    return find_role(
        lambda_client,
        function_ref({"FunctionName": function_name}, REGION),
        clock.now() + seconds,
        clock,
    )


@pytest.mark.parametrize(
    "function_name",
    [
        "rotation-fn",
        f"{ACCOUNT}:function:rotation-fn",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotation-fn",
    ],
    ids=["name", "partial-arn", "arn"],
)
def test_finds_the_role_with_its_path(clients, function_name):
    iam, lambda_client = clients
    function_arn, role_arn = create_rotation_function(
        iam, lambda_client, "rotation-fn", role_path="/service-role/secrets/"
    )

    found = look_up(lambda_client, function_name)

    assert found.function_arn == function_arn
    assert (
        found.role_arn
        == role_arn
        == (f"arn:aws:iam::{ACCOUNT}:role/service-role/secrets/rotation-fn-role")
    )


def test_waits_for_a_function_that_appears_later(clients):
    iam, lambda_client = clients

    class FunctionAppearsDuringTheSecondPause(VirtualClock):
        def sleep(self, seconds):
            super().sleep(seconds)
            if len(self.sleeps) == 2:
                create_rotation_function(iam, lambda_client, "late-fn")

    clock = FunctionAppearsDuringTheSecondPause()

    found = look_up(lambda_client, "late-fn", seconds=10, clock=clock)

    assert found.function_arn.endswith(":function:late-fn")
    assert len(clock.sleeps) == 2  # found on the attempt right after it appeared


def test_gives_up_at_the_deadline_naming_the_function(clients):
    _, lambda_client = clients
    clock = VirtualClock()
    started = clock.now()

    with pytest.raises(RequestRejected) as rejected:
        look_up(lambda_client, "never-created", seconds=1.0, clock=clock)

    # It waited until the deadline, and not one backoff longer: the last pause is cut short.
    assert clock.now() == pytest.approx(started + 1.0)
    assert sum(clock.sleeps) == pytest.approx(1.0)
    reason = str(rejected.value)
    assert "'never-created' was not found" in reason
    assert "DependsOn" in reason


@pytest.mark.parametrize(
    ("configuration", "missing"),
    [
        (
            {"FunctionName": "rotation-fn", "Role": "arn:aws:iam::123456789012:role/r"},
            "FunctionArn",
        ),
        (
            {
                "FunctionName": "rotation-fn",
                "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotation-fn",
            },
            "Role",
        ),
    ],
    ids=["no-arn", "no-role"],
)
def test_an_answer_without_arn_or_role_names_what_is_missing(configuration, missing):
    # Lambda always sends both; an answer without one (Stubber, shaped like Lambda's) must not
    # produce a policy with an empty principal.
    lambda_client = boto3.client("lambda", region_name=REGION)
    with Stubber(lambda_client) as stubber:
        stubber.add_response("get_function_configuration", configuration)
        with pytest.raises(RequestRejected) as rejected:
            look_up(lambda_client, "rotation-fn")

    assert str(rejected.value) == (
        f"Lambda returned no {missing} for 'rotation-fn'; retry the stack operation."
    )
