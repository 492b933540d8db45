"""Faults on both sides of the function: a Lambda API that is slow, throttles or denies (a real
HTTP hop in front of moto's server), a response endpoint that fails, and little time left.
Every case must end with exactly one response, delivered before the Lambda deadline.

The handler runs on the test's VirtualClock: its retries' pauses move the clock, real work does
not, and the timeout timer fires when a test moves the clock to it, so none of this depends on
the machine's speed."""

import logging
import re
import threading
import types
import uuid

import boto3
import pytest
from cfn_one_shot import one_shot_resource
from cfn_one_shot.one_shot_resource import OneShotResource
from cfn_one_shot.response_delivery import put_response

from .local_endpoints import LambdaContext, cloudformation_event, create_rotation_function
from .virtual_clock import HANG_S

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
    context = LambdaContext(seconds, app.helper.clock)
    app.handler(event, context)
    return context


def only_response(receiver, context):
    """The single PUT, checked to have arrived before the deadline, after the clock has moved a
    second past the deadline (any timer still pending fires), so a late second answer is seen."""
    clock = context.clock
    clock.advance(max(context.deadline - clock.now(), 0) + 1.0)
    clock.join_fired()
    puts = receiver.puts()
    assert len(puts) == 1, f"expected one response, got {len(puts)}"
    assert puts[0].at < context.deadline
    return puts[0].document


def test_function_appearing_after_a_delay_is_found(app, receiver, lambda_api, function_name):
    # Not there for the first two lookups (its stack still settling), there for the third.
    lambda_api.fail_next(2, 404, "ResourceNotFoundException", "Function not found")
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=8)

    body = only_response(receiver, context)
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"].endswith(f":function:{function_name}")
    assert lambda_api.requests == 3  # not found twice, found on the second retry


def test_function_that_never_appears_fails_before_the_deadline(app, receiver, lambda_api):
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": "rot-missing"})

    context = invoke(app, event, seconds=2)

    body = only_response(receiver, context)
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
    app, receiver, lambda_api, function_name
):
    # Lambda's own answers are real; the pauses are the ones asked of the clock.
    lambda_api.fail_next(7, 429, "TooManyRequestsException", THROTTLE_MESSAGE)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=20)

    assert only_response(receiver, context)["Status"] == "SUCCESS"
    nominal = [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]  # doubling from 0.2 s, capped at 2 s
    pauses = app.helper.clock.sleeps
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

    body = only_response(receiver, context)
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"Could not reach Lambda to look up '{function_name}'")
    assert lambda_api.requests > 1


def test_endless_throttling_fails_naming_the_function(app, receiver, lambda_api, function_name):
    lambda_api.fail_always(429, "TooManyRequestsException", THROTTLE_MESSAGE)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})

    context = invoke(app, event, seconds=2)

    body = only_response(receiver, context)
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


@pytest.mark.parametrize("seconds", [0.6, 0.2, 0.05])
def test_little_time_left_still_gets_one_timely_answer(app, receiver, lambda_api, seconds):
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": "rot-absent"})

    context = invoke(app, event, seconds=seconds)

    body = only_response(receiver, context)
    assert body["Status"] == "FAILED"
    assert "'rot-absent' was not found" in body["Reason"]


def start_handler(handler, event, context) -> threading.Thread:
    worker = threading.Thread(target=handler, args=(event, context), daemon=True)
    worker.start()
    return worker


def finish(worker: threading.Thread) -> None:
    worker.join(HANG_S)
    assert not worker.is_alive(), "the handler hung"


def test_stalled_lambda_api_gets_the_timer_answer_and_no_second_one(
    app, receiver, lambda_api, function_name
):
    # The API call hangs past the deadline: the timer must answer FAILED in time, and the
    # handler's own answer, ready only after the deadline, must be dropped.
    released = threading.Event()
    lambda_api.stall_next(1, until=released)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})
    clock = app.helper.clock
    context = LambdaContext(1.5, clock)
    worker = start_handler(app.handler, event, context)
    lambda_api.wait_for_requests(1)

    clock.run_next_timer()  # the timer's moment comes while the call hangs
    clock.advance(context.deadline - clock.now() + 1.0)  # and the call outlasts the deadline
    released.set()
    finish(worker)

    body = only_response(receiver, context)
    assert body["Status"] == "FAILED"
    assert "did not finish before this function's timeout" in body["Reason"]
    assert body["PhysicalResourceId"].startswith("app-db_AppRotationRole_")  # never empty


def test_answer_ready_just_after_the_timer_fired_is_dropped(
    app, receiver, lambda_api, function_name, caplog
):
    # The API replies right after the timer has answered FAILED, early enough that the handler
    # could still deliver a second answer before the deadline: only the claim on the request's
    # single response slot stops it.
    lambda_api.stall_next(1, until=receiver.first_put)
    event = cloudformation_event("Create", receiver.url(), {"FunctionName": function_name})
    clock = app.helper.clock
    context = LambdaContext(2.5, clock)
    worker = start_handler(app.handler, event, context)
    lambda_api.wait_for_requests(1)

    clock.run_next_timer()
    finish(worker)

    assert clock.now() < context.deadline  # the handler finished in time to answer again
    body = only_response(receiver, context)
    assert "did not finish before this function's timeout" in body["Reason"]
    assert body["PhysicalResourceId"]
    assert "Dropped a second answer (SUCCESS)" in caplog.text


class StallingResource:
    """The shared base with Create and Delete functions that each wait, once running, until the
    test releases them; a Create returns the id `id-<Name property>`."""

    def __init__(self, clock) -> None:
        self.helper = OneShotResource(clock=clock)
        self.running = threading.Semaphore(0)
        self.released = threading.Event()
        self.helper.create(self._stall)
        self.helper.delete(self._stall)

    def _stall(self, event, _context):
        self.running.release()
        assert self.released.wait(HANG_S)
        return "id-" + event["ResourceProperties"].get("Name", "")

    def start(self, event, context) -> threading.Thread:
        """The handler in a thread of its own, returned once the request's function runs."""
        self.released.clear()
        worker = start_handler(self.helper, event, context)
        assert self.running.acquire(timeout=HANG_S), "the function did not start"
        return worker

    def release(self, worker: threading.Thread) -> None:
        self.released.set()
        finish(worker)


def test_delete_whose_function_overruns_gets_success_from_the_timer(receiver, clock):
    # The shared base's promise to every function: a Delete never blocks a stack's deletion.
    resource = StallingResource(clock)
    event = cloudformation_event("Delete", receiver.url(), {}, physical_id="the-resource")
    context = LambdaContext(5, clock)
    worker = resource.start(event, context)

    clock.run_next_timer()  # the timer's moment comes while the function still runs
    resource.release(worker)  # its own answer, now a second one, must be dropped

    body = only_response(receiver, context)
    assert (body["Status"], body["Reason"]) == ("SUCCESS", "")
    assert body["PhysicalResourceId"] == "the-resource"
    assert body["RequestId"] == event["RequestId"]


class HeldAtTimeoutLog(logging.Handler):
    """Holds the thread that logs the timer's "About to time out" line until resumed: where
    Lambda froze the process (with the timer's thread mid-answer) after the request ended."""

    def __init__(self) -> None:
        super().__init__()
        self.held, self.resume = threading.Event(), threading.Event()

    def handle(self, record) -> bool:  # not emit, which holds a lock every other log line needs
        if record.getMessage().startswith("About to time out"):
            self.held.set()
            assert self.resume.wait(HANG_S)
        return True

    def emit(self, record) -> None:
        pass


@pytest.fixture
def timeout_log_hold():
    hold = HeldAtTimeoutLog()
    logger = logging.getLogger(one_shot_resource.__name__)
    logger.addHandler(hold)
    yield hold
    hold.resume.set()
    logger.removeHandler(hold)


def test_timer_thawed_mid_answer_in_a_later_request_leaves_that_request_alone(
    receiver, clock, timeout_log_hold
):
    # Request A's timer fires while A's function runs and is frozen mid-answer; A's function
    # then answers and the invocation ends; request B thaws the process and the timer goes on.
    resource = StallingResource(clock)
    event_a = cloudformation_event("Create", receiver.url("a"), {"Name": "A"})
    worker = resource.start(event_a, LambdaContext(5, clock))
    clock.advance(clock.pending()[0] - clock.now())
    assert timeout_log_hold.held.wait(HANG_S)
    resource.release(worker)
    event_b = cloudformation_event("Create", receiver.url("b"), {"Name": "B"})
    worker = resource.start(event_b, LambdaContext(5, clock))

    timeout_log_hold.resume.set()
    clock.join_fired()
    resource.release(worker)

    (answer_b,) = (put.document for put in receiver.puts("b"))
    assert (answer_b["Status"], answer_b["RequestId"]) == ("SUCCESS", event_b["RequestId"])
    assert answer_b["PhysicalResourceId"] == "id-B"
    (answer_a,) = (put.document for put in receiver.puts("a"))
    assert answer_a["RequestId"] == event_a["RequestId"]
    assert len(receiver.puts()) == 2  # and nothing else came


def test_timer_thawed_whole_in_a_later_request_sends_nothing(receiver, clock, monkeypatch):
    # Request A's timer had fired but not yet run when Lambda froze the process at A's end;
    # it runs while request B is being handled.
    timers = []
    call_at = clock.call_at
    monkeypatch.setattr(
        clock,
        "call_at",
        lambda when, run, *args: timers.append((run, args)) or call_at(when, run, *args),
    )
    resource = StallingResource(clock)
    event_a = cloudformation_event("Create", receiver.url("a"), {"Name": "A"})
    resource.release(resource.start(event_a, LambdaContext(5, clock)))
    event_b = cloudformation_event("Create", receiver.url("b"), {"Name": "B"})
    worker = resource.start(event_b, LambdaContext(5, clock))

    (late_timer, late_args), _b_timer = timers
    late_timer(*late_args)
    resource.release(worker)

    (answer_b,) = (put.document for put in receiver.puts("b"))
    assert (answer_b["Status"], answer_b["RequestId"]) == ("SUCCESS", event_b["RequestId"])
    assert [put.document["Status"] for put in receiver.puts("a")] == ["SUCCESS"]


@pytest.fixture
def held_timer_put(monkeypatch):
    """The timer's PUT (the only one: the function's later answer is dropped) waits, once
    started, until the test lets it go: the moment Lambda would freeze it if the handler
    returned. `started` and `go` are Events."""
    hold = types.SimpleNamespace(started=threading.Event(), go=threading.Event())

    def held_put(*args):
        hold.started.set()
        assert hold.go.wait(HANG_S)
        return put_response(*args)

    monkeypatch.setattr(one_shot_resource, "put_response", held_put)
    yield hold
    hold.go.set()


def overrun_until_the_timer_put(resource, receiver, held_timer_put, clock):
    """A Create whose function runs past the timer, which then starts its PUT; the function is
    then let go. Returns the handler's thread and context."""
    event = cloudformation_event("Create", receiver.url(), {"Name": "A"})
    context = LambdaContext(5, clock)
    worker = resource.start(event, context)
    clock.advance(clock.pending()[0] - clock.now())  # fire the timer, without waiting for it
    assert held_timer_put.started.wait(HANG_S)
    resource.released.set()
    return worker, context


def test_handler_waits_for_the_timer_answer_under_way(receiver, clock, held_timer_put, monkeypatch):
    # The timer answers FAILED and its PUT is under way when the function returns: the handler
    # must not return (and Lambda freeze the PUT halfway) before that answer has arrived.
    settled = threading.Event()  # the handler has returned or is waiting on the clock
    clock_wait = clock.wait
    monkeypatch.setattr(clock, "wait", lambda *args: settled.set() or clock_wait(*args))
    resource = StallingResource(clock)
    puts_when_returned = []
    helper = resource.helper

    def handler(event, context):
        helper(event, context)
        puts_when_returned.append(len(receiver.puts()))
        settled.set()

    resource.helper = handler
    worker, context = overrun_until_the_timer_put(resource, receiver, held_timer_put, clock)
    assert settled.wait(HANG_S)
    held_timer_put.go.set()
    finish(worker)

    assert puts_when_returned == [1]
    body = only_response(receiver, context)
    assert "did not finish before this function's timeout" in body["Reason"]


def test_handler_stops_waiting_for_a_stuck_timer_answer_at_the_put_deadline(
    receiver, clock, held_timer_put, caplog
):
    resource = StallingResource(clock)
    worker, context = overrun_until_the_timer_put(resource, receiver, held_timer_put, clock)
    put_deadline = resource.helper.deadlines.put

    clock.advance(put_deadline - clock.now())
    finish(worker)  # hangs if the wait outlasts the put deadline

    assert put_deadline < context.deadline
    assert "still being sent at the delivery deadline" in caplog.text
