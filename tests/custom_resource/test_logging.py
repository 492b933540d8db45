"""Logs: INFO by default, LOG_LEVEL honoured (read when the function starts), and never the
presigned ResponseURL nor the event, even at DEBUG, where crhelper itself logs the whole event."""

import logging
import uuid

import boto3
import pytest
from cfn_one_shot.reasons import TRUNCATION_MARK

from .aws_mock import moto_mock
from .functions import fresh_app
from .local_endpoints import (
    REGION,
    URL_SIGNATURE,
    LambdaContext,
    cloudformation_event,
    create_rotation_function,
)


@pytest.fixture
def rotation_function():
    with moto_mock():
        create_rotation_function(
            boto3.client("iam", region_name=REGION),
            boto3.client("lambda", region_name=REGION),
            "logged-fn",
        )
        yield "logged-fn"


@pytest.fixture
def run_requests(receiver, rotation_function, clock, monkeypatch):
    """Runs a success, a failure, a malformed request and a Delete, each carrying a marker, in a
    function started (imported) with LOG_LEVEL set to `level` (None: unset), as Lambda starts
    one with the function's environment."""

    def run(marker: str, level: str | None = None) -> list[dict]:
        if level is None:
            monkeypatch.delenv("LOG_LEVEL", raising=False)
        else:
            monkeypatch.setenv("LOG_LEVEL", level)
        app = fresh_app("lambda_role_lookup")
        app.helper.clock = clock
        return send_requests(app, receiver, rotation_function, marker)

    return run


def send_requests(app, receiver, function_name, marker):
    events = [
        cloudformation_event(
            "Create", receiver.url(), {"FunctionName": function_name, "Triggers": marker}
        ),
        cloudformation_event("Create", receiver.url(), {"FunctionName": "", "Triggers": marker}),
        {**cloudformation_event("Update", receiver.url(), {"Triggers": marker}), "StackId": 7},
        cloudformation_event("Delete", receiver.url(), {"Triggers": marker}, physical_id="x"),
    ]
    for event in events:
        app.handler(event, LambdaContext(5, app.helper.clock))
    assert len(receiver.puts()) == len(events)
    return events


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_neither_the_response_url_nor_the_event_is_logged(run_requests, caplog, capfd, level):
    caplog.set_level(logging.DEBUG)
    marker = f"event-marker-{uuid.uuid4().hex}"

    events = run_requests(marker, level)

    output = capfd.readouterr()
    logged = "\n".join(
        [caplog.text, output.out, output.err, *(r.getMessage() for r in caplog.records)]
    )
    assert URL_SIGNATURE not in logged
    assert "cloudformation-custom-resource-response" not in logged
    for event in events:
        assert event["ResponseURL"] not in logged
        assert event["RequestId"] not in logged
    assert marker not in logged
    if level == "DEBUG":  # DEBUG really was on: crhelper's own debug lines came through
        assert any(
            r.levelno == logging.DEBUG and r.name.startswith("crhelper") for r in caplog.records
        )


def test_info_is_the_default_and_botocore_never_logs_below_warning(run_requests, caplog):
    caplog.set_level(logging.DEBUG)

    run_requests("m")

    assert any(r.levelno == logging.INFO for r in caplog.records)
    assert not any(r.levelno < logging.INFO for r in caplog.records)


@pytest.mark.parametrize(
    ("value", "lowest"), [("WARNING", logging.WARNING), ("chatty", logging.INFO)]
)
def test_log_level_raises_the_threshold_and_bad_values_mean_info(
    run_requests, caplog, value, lowest
):
    caplog.set_level(logging.DEBUG)

    run_requests("m", value)

    assert caplog.records  # the failures are logged at ERROR in any case
    assert min(r.levelno for r in caplog.records) >= lowest
    assert (lowest == logging.INFO) == any(r.levelno == logging.INFO for r in caplog.records)


def test_botocore_stays_quiet_at_debug(run_requests, caplog):
    # botocore's DEBUG output includes signed request headers and the session token.
    caplog.set_level(logging.DEBUG)

    run_requests("m", "DEBUG")

    assert not [
        r
        for r in caplog.records
        if r.name.startswith(("botocore", "boto3", "urllib3")) and r.levelno < logging.WARNING
    ]


def test_the_request_line_keeps_long_ids_to_80_and_200_characters(app, receiver, caplog):
    # CloudFormation caps a logical ID at 255 characters; a physical ID can be longer. The one
    # INFO line per request stays readable in CloudWatch and marks each cut.
    caplog.set_level(logging.INFO)
    logical, physical = "L" * 81, "p" * 201
    event = cloudformation_event("Delete", receiver.url(), {}, physical_id=physical)
    event["LogicalResourceId"] = logical

    app.handler(event, LambdaContext(5, app.helper.clock))

    cut = TRUNCATION_MARK
    expected = f"Delete {'L' * (80 - len(cut))}{cut} ({'p' * (200 - len(cut))}{cut})"
    assert expected in caplog.messages
    caplog.clear()
    event.update(LogicalResourceId="L" * 80, PhysicalResourceId="p" * 200)
    app.handler(event, LambdaContext(5, app.helper.clock))
    assert f"Delete {'L' * 80} ({'p' * 200})" in caplog.messages
