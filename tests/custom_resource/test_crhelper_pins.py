"""Pins on the crhelper internals the shared base relies on. OneShotResource uses crhelper by its
public API and overrides two private methods, each where crhelper's behaviour is unsafe here
(one_shot_resource.py says why). These tests fail, rather than the stack, when a crhelper
upgrade renames, re-signs or stops calling them, or when the base starts to lean on another."""

import ast
import importlib.metadata
import inspect
import logging
import re
from pathlib import Path

import pytest
from cfn_one_shot import one_shot_resource
from cfn_one_shot.one_shot_resource import OneShotResource
from crhelper import CfnResource

from .contract import RESPONSE_FIELDS
from .functions import CUSTOM_RESOURCES, FUNCTIONS
from .local_endpoints import LambdaContext, cloudformation_event

OVERRIDDEN = {"_send", "_set_timeout"}


def test_the_pins_are_for_the_crhelper_every_function_ships():
    installed = importlib.metadata.version("crhelper")
    for function in FUNCTIONS:
        requirements = (CUSTOM_RESOURCES / function / "requirements.txt").read_text()
        assert re.search(rf"^crhelper=={re.escape(installed)}$", requirements, re.MULTILINE)


def test_the_overridden_methods_keep_crhelper_s_signatures():
    assert list(inspect.signature(CfnResource._send).parameters) == [
        "self",
        "status",
        "reason",
        "send_response",
    ]
    assert list(inspect.signature(CfnResource._set_timeout).parameters) == ["self"]


def test_crhelper_s_send_hands_url_body_and_ssl_verify_to_the_sender():
    # The base's sender takes crhelper's (url, body, ssl_verify) and answers from the body.
    helper = OneShotResource()
    helper.StackId, helper.RequestId, helper.LogicalResourceId = "stack", "request", "logical"
    calls = []

    CfnResource._send(helper, "FAILED", "why", send_response=lambda *a: calls.append(a))

    ((url, body, ssl_verify),) = calls
    assert isinstance(url, str)
    assert ssl_verify is None
    assert set(body) == RESPONSE_FIELDS
    assert (body["Status"], body["Reason"], body["RequestId"]) == ("FAILED", "why", "request")


def test_crhelper_answers_through_send_and_starts_the_timer_before_the_function(
    receiver, clock, monkeypatch
):
    helper = OneShotResource(clock=clock)
    steps = []
    original_send, original_set_timeout = OneShotResource._send, OneShotResource._set_timeout

    def spy_send(self, *args, **kwargs):
        steps.append("send")
        return original_send(self, *args, **kwargs)

    def spy_set_timeout(self):
        steps.append("timer")
        return original_set_timeout(self)

    monkeypatch.setattr(OneShotResource, "_send", spy_send)
    monkeypatch.setattr(OneShotResource, "_set_timeout", spy_set_timeout)
    helper.create(lambda _event, _context: steps.append("function") or "the-id")

    helper(cloudformation_event("Create", receiver.url(), {}), LambdaContext(5, clock))

    assert steps == ["timer", "function", "send"]
    (put,) = receiver.puts()
    assert put.document["PhysicalResourceId"] == "the-id"
    assert clock.pending() == []  # the request's timer was cancelled when it was answered


def test_crhelper_reports_a_failed_initialisation_through_init_failure(
    receiver, clock, monkeypatch
):
    # crhelper builds Lambda, Events and Logs clients in its constructor and passes a failure to
    # init_failure; its own would fail every later request, Delete included.
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable)
    helper = OneShotResource(clock=clock)
    helper.create(lambda _event, _context: pytest.fail("ran despite the failed initialisation"))
    helper.delete(lambda _event, _context: None)

    helper(cloudformation_event("Create", receiver.url(), {}), LambdaContext(5, clock))
    helper(
        cloudformation_event("Delete", receiver.url(), {}, physical_id="x"), LambdaContext(5, clock)
    )

    create, delete = (put.document for put in receiver.puts())
    assert create["Status"] == "FAILED"
    assert create["Reason"] == "The function failed to initialise: You must specify a region."
    assert create["PhysicalResourceId"].startswith("app-db_AppRotationRole_")
    assert delete["Status"] == "SUCCESS"


def test_the_base_uses_no_other_private_name_of_crhelper():
    root_level = logging.root.level
    reference = CfnResource(log_level=root_level or "WARNING", boto_level="WARNING")
    logging.root.setLevel(root_level)  # constructing it set the process's root level
    crhelper_private = {
        name
        for name in {*dir(CfnResource), *vars(reference)}
        if name.startswith("_") and not name.startswith("__")
    }
    source = Path(one_shot_resource.__file__).read_text()
    used = {
        node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in crhelper_private
    }
    defined = {
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name in crhelper_private
    }
    assert used | defined == OVERRIDDEN
