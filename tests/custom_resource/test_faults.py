"""Faults on both sides of the function: a Lambda API that is slow, throttles or denies (a real
HTTP hop in front of moto's server), a response endpoint that fails, and little time left.
Every case must end with exactly one response, delivered before the Lambda deadline."""

import re
import threading
import time
import uuid
from types import SimpleNamespace

import boto3
import pytest

from .local_endpoints import LambdaContext, cloudformation_event, create_rotation_function

THROTTLE_MESSAGE = "Rate exceeded"
DENIED_MESSAGE = (
    "User: arn:aws:sts::123456789012:assumed-role/app-db-role-lookup/x is not authorized to "
    "perform: lambda:GetFunctionConfiguration"
)


@pytest.fixture
def moto_clients(moto_endpoint):
    return (
        boto3.client("iam", endpoint_url=moto_endpoint),
        boto3.client("lambda", endpoint_url=moto_endpoint),
    )


@pytest.fixture
def function_name(moto_clients):
    """A rotation function that exists in moto, unique to the test."""
    name = f"rot-{uuid.uuid4().hex[:12]}"
    create_rotation_function(*moto_clients, name)
    return name


def invoke(app, event, seconds):
    context = LambdaContext(seconds)
    app.handler(event, context)
    return context


def only_response(receiver, context, *, settle=None):
    """The single PUT, checked to have arrived before the deadline; with `settle`, only after
    waiting that long past the deadline, so that a late second answer would be seen."""
    if settle is not None:
        time.sleep(max(context.deadline - time.monotonic(), 0) + settle)
    puts = receiver.puts()
    assert len(puts) == 1, f"expected one response, got {len(puts)}"
    assert puts[0].at < context.deadline
    return puts[0].document


def test_function_appearing_after_a_delay_is_found(app, receiver, lambda_api, moto_clients):
    creator = threading.Timer(1.0, create_rotation_function, args=(*moto_clients, "rot-late"))
    creator.start()
    try:
        context = invoke(
            app,
            cloudformation_event("Create", receiver.url(), {"FunctionName": "rot-late"}),
            seconds=8,
        )
    finally:
        creator.join()

    body = only_response(receiver, context)
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"].endswith(":function:rot-late")
    assert lambda_api.requests >= 2  # not found at first, found on a retry


def test_function_that_never_appears_fails_before_the_deadline(app, receiver, lambda_api):
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": "rot-missing"})

    context = invoke(app, event, seconds=2)

    body = only_response(receiver, context, settle=0.5)
    assert body["Status"] == "FAILED"
    spent = re.search(r"'rot-missing' was not found \((\d+) attempts in (\d+) s\)", body["Reason"])
    assert spent, body["Reason"]
    assert int(spent[1]) == lambda_api.requests > 1
    assert int(spent[2]) <= 2  # the time it tried, within the 2 s the request had


@pytest.mark.parametrize(
    "throttle",
    [
        (429, "TooManyRequestsException"),
        (400, "ThrottlingException"),
        (429, "RequestRateTooHigh"),  # an unlisted code: HTTP 429 alone means throttled
    ],
    ids=str,
)
def test_throttling_is_retried_until_lambda_recovers(
    app, receiver, lambda_api, function_name, throttle
):
    lambda_api.fail_next(3, *throttle, THROTTLE_MESSAGE)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=10)

    body = only_response(receiver, context)
    assert body["Status"] == "SUCCESS"
    assert body["Data"]["FunctionArn"].endswith(f":function:{function_name}")
    assert lambda_api.requests == 4


def test_retries_back_off_with_jitter_never_longer_than_two_seconds(
    app, receiver, lambda_api, function_name, monkeypatch
):
    # Lambda's own answers and the clock are real; the pauses are recorded instead of slept.
    import role_lookup

    pauses = []
    monkeypatch.setattr(
        role_lookup, "time", SimpleNamespace(monotonic=time.monotonic, sleep=pauses.append)
    )
    lambda_api.fail_next(7, 429, "TooManyRequestsException", THROTTLE_MESSAGE)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=20)

    assert only_response(receiver, context)["Status"] == "SUCCESS"
    nominal = [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]  # doubling from 0.2 s, capped at 2 s
    assert len(pauses) == len(nominal)
    for pause, ceiling in zip(pauses, nominal, strict=True):
        assert ceiling / 2 <= pause <= ceiling  # jitter only shortens, by at most half


@pytest.mark.parametrize(
    "server_error",
    [(500, "ServiceException"), (502, "EC2UnexpectedException"), (503, "ServiceUnavailable")],
    ids=str,
)
def test_lambda_server_errors_are_retried_not_permanent(
    app, receiver, lambda_api, function_name, server_error
):
    # A 5xx is Lambda's own trouble: the next attempt usually works, so it must not fail the stack.
    lambda_api.fail_next(2, *server_error, "An internal error occurred")
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=10)

    body = only_response(receiver, context)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["FunctionArn"].endswith(f":function:{function_name}")
    assert lambda_api.requests == 3


def test_lambda_failing_with_5xx_for_good_fails_in_time_naming_lambda(
    app, receiver, lambda_api, function_name
):
    lambda_api.fail_always(500, "ServiceException", "An internal error occurred")
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=2)

    body = only_response(receiver, context, settle=0.5)
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"Could not reach Lambda to look up '{function_name}'")
    assert lambda_api.requests > 1


def test_endless_throttling_fails_naming_the_function(app, receiver, lambda_api, function_name):
    lambda_api.fail_always(429, "TooManyRequestsException", THROTTLE_MESSAGE)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=2)

    body = only_response(receiver, context, settle=0.5)
    assert body["Status"] == "FAILED"
    assert (
        f"kept throttling lambda:GetFunctionConfiguration for '{function_name}'" in body["Reason"]
    )


def test_access_denied_fails_at_once_naming_the_permission(
    app, receiver, lambda_api, function_name
):
    lambda_api.fail_always(403, "AccessDeniedException", DENIED_MESSAGE)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=10)

    body = only_response(receiver, context)
    assert body["Status"] == "FAILED"
    assert "lambda:GetFunctionConfiguration" in body["Reason"]
    assert f"'{function_name}'" in body["Reason"]
    assert lambda_api.requests == 1  # a permission problem is not retried


@pytest.mark.parametrize(
    ("seconds", "reasons"),
    [
        (0.6, ("'rot-absent' was not found",)),
        # So little time that the lookup or, if one API call overruns, the timer answers.
        (0.2, ("'rot-absent' was not found", "did not finish before this function's timeout")),
    ],
)
def test_little_time_left_still_gets_one_timely_answer(app, receiver, lambda_api, seconds, reasons):
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": "rot-absent"})

    context = invoke(app, event, seconds=seconds)

    body = only_response(receiver, context, settle=1.0)
    assert body["Status"] == "FAILED"
    assert any(reason in body["Reason"] for reason in reasons)


def test_stalled_lambda_api_gets_the_timer_answer_and_no_second_one(
    app, receiver, lambda_api, function_name
):
    # The API answers (successfully) only after the deadline: crhelper's timer must answer FAILED
    # in time, and the handler's own answer, ready later, must be dropped.
    lambda_api.delay_next(1, 2.5)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=1.5)

    assert time.monotonic() > context.deadline  # the handler did run past the deadline
    body = only_response(receiver, context, settle=1.0)
    assert body["Status"] == "FAILED"
    assert "did not finish before this function's timeout" in body["Reason"]
    assert body["PhysicalResourceId"].startswith("app-db_AppRotationRole_")  # never empty


def test_answer_ready_just_after_the_timer_fired_is_dropped(
    app, receiver, lambda_api, function_name, caplog
):
    # The API replies right after crhelper's timer has answered FAILED, early enough that the
    # handler could still deliver a second answer before the deadline: only the claim on the
    # request's single response slot stops it.
    lambda_api.delay_next(1, 10, until=receiver.first_put)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=2.5)

    assert time.monotonic() < context.deadline  # the handler finished in time to answer again
    body = only_response(receiver, context, settle=0.5)
    assert "did not finish before this function's timeout" in body["Reason"]
    assert body["PhysicalResourceId"]
    assert "Dropped a second answer (SUCCESS)" in caplog.text
