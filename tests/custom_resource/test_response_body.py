"""The response body and its delivery: within 4096 bytes whatever the input, reasons cut cleanly,
a refused PUT (4xx) is not retried, a failing one is retried with backoff."""

import json

import pytest
from cfn_one_shot.reasons import REASON_LIMIT, TRUNCATION_MARK, clip
from cfn_one_shot.response_delivery import BODY_LIMIT, encode_body, put_response

from .local_endpoints import LambdaContext, cloudformation_event
from .virtual_clock import VirtualClock


def body(**fields):
    return {
        "Status": "FAILED",
        "PhysicalResourceId": "arn:aws:lambda:us-east-1:123456789012:function:rot",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "0d6b3f2c-1f8e-4a57-9d4e-0a1b2c3d4e5f",
        "LogicalResourceId": "AppRotationRole",
        "Reason": "",
        "Data": {},
        "NoEcho": False,
        **fields,
    }


def test_a_long_reason_keeps_its_head_and_is_marked():
    reason = "Lambda function 'rot' was not found. " + "detail " * 2000

    encoded = encode_body(body(Reason=reason))

    assert len(encoded) <= BODY_LIMIT
    sent = json.loads(encoded)["Reason"]
    assert sent.startswith("Lambda function 'rot' was not found.")
    assert sent.endswith(TRUNCATION_MARK)
    assert len(encoded) == BODY_LIMIT  # ASCII: one byte per kept character, so the cut fills it


@pytest.mark.parametrize("text", ["x" * 9000, "\U0001f512" * 3000, '"\\' * 3000])
def test_oversized_echoed_identifiers_still_fit_and_normal_ones_are_kept(text):
    original = body(Reason="r", Data={"RoleArn": "arn:aws:iam::123456789012:role/r"})

    encoded = encode_body({**original, "RequestId": text, "PhysicalResourceId": text})

    document = json.loads(encoded)
    assert len(encoded) <= BODY_LIMIT
    assert document["StackId"] == original["StackId"]
    assert document["LogicalResourceId"] == original["LogicalResourceId"]
    assert document["Data"] == original["Data"]


def test_an_empty_reason_stays_empty_when_an_echoed_identifier_is_cut():
    # A SUCCESS carries no reason; shortening an oversized RequestId must not invent one.
    encoded = encode_body(body(Status="SUCCESS", Reason="", RequestId="x" * 9000))

    document = json.loads(encoded)
    assert len(encoded) <= BODY_LIMIT
    assert document["Reason"] == ""
    assert document["RequestId"].endswith(TRUNCATION_MARK)


def test_a_body_that_fits_is_sent_unchanged():
    original = body(Reason="short")
    assert json.loads(encode_body(original)) == original


def test_clip_keeps_short_text_and_marks_cuts():
    assert clip("short") == "short"
    clipped = clip("y" * 1000)
    assert len(clipped) == REASON_LIMIT
    assert clipped.endswith(TRUNCATION_MARK)


def test_a_refused_put_is_not_retried(receiver, clock):
    receiver.answer_next(403)

    delivered = put_response(receiver.url(), b"{}", clock.now() + 5, clock)

    assert delivered is False
    assert len(receiver.puts()) == 1


def test_failed_puts_are_retried_with_doubling_pauses_capped_at_two_seconds(receiver, clock):
    # The PUTs are real; the pauses are the ones asked of the clock.
    receiver.answer_next(500, 503, 502, 500, 408, 429)

    delivered = put_response(receiver.url(), b'{"Status": "SUCCESS"}', clock.now() + 30, clock)

    assert delivered is True
    assert len(receiver.puts()) == 7
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("path_and_query", "request_target"),
    [
        ("?X-Amz-Signature=abc", "/?X-Amz-Signature=abc"),
        ("/response/one", "/response/one"),
        ("/response/two?X-Amz-Signature=abc", "/response/two?X-Amz-Signature=abc"),
    ],
    ids=["no-path", "no-query", "both"],
)
def test_the_put_goes_to_the_url_s_path_and_query(receiver, clock, path_and_query, request_target):
    url = f"https://127.0.0.1:{receiver.port}{path_and_query}"

    assert put_response(url, b"{}", clock.now() + 5, clock) is True
    (put,) = receiver.puts()
    assert put.path == request_target


def test_a_tiny_budget_on_the_virtual_clock_is_not_a_real_socket_timeout(receiver, clock):
    # 0.05 s of budget is virtual time, in which real I/O takes none; a socket timeout of 0.05
    # real seconds would fail a PUT the endpoint answers in 0.3 s (or a busy machine delays).
    receiver.real_delay_s = 0.3

    assert put_response(receiver.url(), b"{}", clock.now() + 0.05, clock) is True
    assert len(receiver.puts()) == 1


def test_an_endpoint_that_trickles_its_answer_is_given_up_at_the_deadline(receiver, clock, caplog):
    # Each byte of the 200 comes within any per-read socket timeout, a second apart on the
    # clock: the attempt must end when the deadline passes, not when the answer is complete.
    receiver.trickle_s = 1.0
    deadline = clock.now() + 5

    delivered = put_response(receiver.url(), b"{}", deadline, clock)

    assert delivered is False
    assert len(receiver.puts()) == 1
    assert "Response not delivered: no time left after 1 attempts" in caplog.messages


def test_a_deadline_that_passes_during_an_attempt_ends_without_a_pause(receiver, caplog):
    # The clock passes the deadline by half a second while the first PUT is answered 500: no
    # pause, no second attempt, just "not delivered".
    class DeadlinePassesDuringTheAttempt(VirtualClock):
        def now(self):
            return 101.5 if receiver.puts() else 100.0

    clock = DeadlinePassesDuringTheAttempt()
    receiver.answer_next(500)

    delivered = put_response(receiver.url(), b"{}", 101.0, clock)

    assert delivered is False
    assert len(receiver.puts()) == 1
    assert [pause for pause in clock.sleeps if pause > 0] == []
    assert "Response not delivered: no time left after 1 attempts" in caplog.messages


def test_an_unreachable_endpoint_is_given_up_at_the_deadline(clock):
    deadline = clock.now() + 1.0

    delivered = put_response("https://127.0.0.1:9/closed", b"{}", deadline, clock)

    assert delivered is False
    assert len(clock.sleeps) > 1  # it did retry
    assert clock.now() == pytest.approx(deadline)  # until the deadline, never past it


def test_handler_answers_once_when_the_response_url_refuses(app, receiver, lambda_api, clock):
    receiver.answer_next(403)
    event = cloudformation_event("Delete", receiver.url(), {}, physical_id="p")

    app.handler(event, LambdaContext(5, clock))

    assert len(receiver.puts()) == 1
