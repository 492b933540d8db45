"""The contract every custom resource of this project keeps with CloudFormation, run against
both (Custom::LambdaRoleLookup and Custom::MySQLUser) through the real HTTPS receiver: one
well-formed answer, a failed Create's id that its Delete accepts, Delete at once for any id, and
delivery that survives a failing endpoint but stops before the deadline. No AWS API is reached:
the Lambda and Secrets Manager endpoints point at a hop that counts requests."""

import contextlib
import sys
import time

import pytest

from .contract import answer
from .functions import FUNCTIONS, load_app
from .local_endpoints import LambdaContext, cloudformation_event

# Properties each resource refuses before any AWS call, and the words its reason must contain.
INVALID = {
    "lambda_role_lookup": ({"FunctionName": ""}, "FunctionName is empty"),
    "mysql_user": ({"Grants": []}, "AdminSecretArn is required"),
}


@pytest.fixture(params=FUNCTIONS)
def resource(request, function_environment, lambda_api, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", lambda_api.url)
    return request.param, load_app(request.param)


def test_invalid_create_fails_then_its_delete_succeeds_without_aws_calls(
    resource, receiver, lambda_api
):
    function, app = resource
    properties, expected = INVALID[function]
    failed = answer(app, receiver, cloudformation_event("Create", receiver.url(), properties))
    assert failed["Status"] == "FAILED"
    assert expected in failed["Reason"]
    generated_id = failed["PhysicalResourceId"]
    assert generated_id.startswith("app-db_AppRotationRole_")
    receiver.reset()

    delete = cloudformation_event("Delete", receiver.url(), properties, physical_id=generated_id)
    body = answer(app, receiver, delete)

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == generated_id
    assert lambda_api.requests == 0


@pytest.mark.parametrize(
    "physical_id",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:gone-long-ago",
        "mysql-user:db.example.internal:3306:app",
        "not-an-id-at-all",
        "x" * 1024,
    ],
    ids=["function-arn", "mysql-user", "anything", "1-KB"],
)
def test_delete_with_invalid_properties_answers_success_at_once(
    resource, receiver, lambda_api, physical_id
):
    _, app = resource
    event = cloudformation_event(
        "Delete", receiver.url(), {"FunctionName": "", "Grants": 7}, physical_id=physical_id
    )
    with sleeps_recorded() as sleeps:
        body = answer(app, receiver, event, seconds=300)

    assert sleeps == []  # crhelper's default would sleep 120 s here first
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == physical_id
    assert lambda_api.requests == 0


def test_response_endpoint_failing_then_recovering(resource, receiver):
    function, app = resource
    receiver.answer_next(500, 503)
    event = cloudformation_event("Create", receiver.url(), INVALID[function][0])

    app.handler(event, LambdaContext(10, app.helper.clock))

    puts = receiver.puts()
    assert len(puts) == 3  # two refused attempts, then the one that was stored
    assert len({put.body for put in puts}) == 1  # the same single answer each time
    assert puts[-1].document["Status"] == "FAILED"


def test_response_endpoint_failing_for_good_stops_before_the_deadline(resource, receiver):
    function, app = resource
    receiver.answer_next(*[500] * 100)
    event = cloudformation_event("Create", receiver.url(), INVALID[function][0])
    clock = app.helper.clock
    context = LambdaContext(2, clock)

    app.handler(event, context)

    assert clock.now() < context.deadline
    clock.advance(context.deadline - clock.now() + 0.5)  # any timer still pending fires
    clock.join_fired()
    puts = receiver.puts()
    assert len(puts) > 1
    assert all(put.at < context.deadline for put in puts)
    assert len({put.body for put in puts}) == 1


def test_expired_response_url_is_not_retried(resource, receiver):
    function, app = resource
    receiver.answer_next(403)
    event = cloudformation_event("Create", receiver.url(), INVALID[function][0])

    app.handler(event, LambdaContext(10, app.helper.clock))

    assert len(receiver.puts()) == 1


@pytest.mark.parametrize(
    ("stack_id", "prefix"),
    [
        ("arn:aws:cloudformation:us-east-1:123456789012:stack/app-db/1f2e3d4c", "app-db_"),
        ("arn:aws:cloudformation:us-east-1:123456789012:stack//1f2e3d4c", "stack_"),
        ("not-an-arn", "stack_"),
        (f"arn:aws:cloudformation:us-east-1:123456789012:stack/{'s' * 130}/1f2e", "s" * 128 + "_"),
    ],
    ids=["named", "empty-name", "no-slashes", "long-name"],
)
def test_a_failed_create_gets_a_physical_id_from_the_stack_name_or_stack(
    resource, receiver, stack_id, prefix
):
    # CloudFormation needs a PhysicalResourceId even for a failed Create, and sends it back with
    # the Delete of the rollback: stack name (at most 128 characters), logical id, 8 random ones.
    function, app = resource
    event = cloudformation_event("Create", receiver.url(), INVALID[function][0])
    event["StackId"] = stack_id

    failed = answer(app, receiver, event)

    assert failed["Status"] == "FAILED"
    rest = failed["PhysicalResourceId"].removeprefix(prefix)
    assert rest != failed["PhysicalResourceId"], failed["PhysicalResourceId"]
    logical, random_part = rest.rsplit("_", 1)
    assert logical == "AppRotationRole"
    assert len(random_part) == 8


def test_a_failed_create_keeps_128_characters_of_a_long_logical_id(resource, receiver):
    function, app = resource
    event = cloudformation_event("Create", receiver.url(), INVALID[function][0])
    event["LogicalResourceId"] = "L" * 200

    failed = answer(app, receiver, event)

    stack, logical, random_part = failed["PhysicalResourceId"].split("_")
    assert (stack, logical, len(random_part)) == ("app-db", "L" * 128, 8)


def test_an_update_without_its_physical_id_fails_naming_the_problems(resource, receiver):
    function, app = resource
    event = cloudformation_event("Update", receiver.url(), INVALID[function][0])
    event["RequestType"] = "Update"
    event["RequestId"] = ""

    failed = answer(app, receiver, event)

    assert failed["Status"] == "FAILED"
    assert failed["Reason"] == (
        "Malformed CloudFormation request: RequestId must be a non-empty string. "
        "An Update must carry the PhysicalResourceId of the resource."
    )


@contextlib.contextmanager
def sleeps_recorded():
    """The time.sleep calls made in this thread meanwhile (crhelper sleeps with time.sleep
    itself, bound when it was imported, so only a profile hook sees them)."""
    sleeps = []

    def profile(_frame, event, arg):
        if event == "c_call" and arg is time.sleep:
            sleeps.append(arg)

    sys.setprofile(profile)
    try:
        yield sleeps
    finally:
        sys.setprofile(None)
