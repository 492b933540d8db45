"""The response body and its delivery: within 4096 bytes whatever the input, reasons cut cleanly,
a refused PUT (4xx) is not retried, a failing one is retried with backoff."""

import json
import time
from types import SimpleNamespace

import pytest
from cfn_one_shot import response_delivery
from cfn_one_shot.reasons import REASON_LIMIT, TRUNCATION_MARK, clip
from cfn_one_shot.response_delivery import BODY_LIMIT, encode_body, put_response

from .local_endpoints import LambdaContext, cloudformation_event


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


def test_a_refused_put_is_not_retried(receiver):
    receiver.answer_next(403)

    delivered = put_response(receiver.url(), b"{}", time.monotonic() + 5)

    assert delivered is False
    assert len(receiver.puts()) == 1


def test_failed_puts_are_retried_with_doubling_pauses_capped_at_two_seconds(receiver, monkeypatch):
    # The pauses are recorded instead of slept; the clock and the PUTs are real.
    pauses = []
    monkeypatch.setattr(
        response_delivery, "time", SimpleNamespace(monotonic=time.monotonic, sleep=pauses.append)
    )
    receiver.answer_next(500, 503, 502, 500, 408, 429)

    delivered = put_response(receiver.url(), b'{"Status": "SUCCESS"}', time.monotonic() + 30)

    assert delivered is True
    assert len(receiver.puts()) == 7
    assert pauses == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("path_and_query", "request_target"),
    [
        ("?X-Amz-Signature=abc", "/?X-Amz-Signature=abc"),
        ("/response/one", "/response/one"),
        ("/response/two?X-Amz-Signature=abc", "/response/two?X-Amz-Signature=abc"),
    ],
    ids=["no-path", "no-query", "both"],
)
def test_the_put_goes_to_the_url_s_path_and_query(receiver, path_and_query, request_target):
    url = f"https://127.0.0.1:{receiver.port}{path_and_query}"

    assert put_response(url, b"{}", time.monotonic() + 5) is True
    (put,) = receiver.puts()
    assert put.path == request_target


def test_a_deadline_that_passes_during_an_attempt_ends_without_a_pause(
    receiver, monkeypatch, caplog
):
    # The clock passes the deadline by half a second while the first PUT is answered 500: no
    # sleep (a negative one would raise), no second attempt, just "not delivered".
    readings, pauses = iter([100.0]), []
    fake_time = SimpleNamespace(monotonic=lambda: next(readings, 101.5), sleep=pauses.append)
    monkeypatch.setattr(response_delivery, "time", fake_time)
    receiver.answer_next(500)

    delivered = put_response(receiver.url(), b"{}", deadline=101.0)

    assert delivered is False
    assert len(receiver.puts()) == 1
    assert pauses == []
    assert "Response not delivered: no time left after 1 attempts" in caplog.messages


def test_an_unreachable_endpoint_is_given_up_at_the_deadline():
    started = time.monotonic()

    delivered = put_response("https://127.0.0.1:9/closed", b"{}", started + 1.0)

    assert delivered is False
    assert time.monotonic() - started < 1.0 + 0.5


def test_handler_answers_once_when_the_response_url_refuses(app, receiver, lambda_api):
    receiver.answer_next(403)
    event = cloudformation_event("Delete", receiver.url(), {}, physical_id="p")

    app.handler(event, LambdaContext(5))

    assert len(receiver.puts()) == 1
