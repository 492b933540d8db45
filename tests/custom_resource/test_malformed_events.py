"""Property-based: whatever arrives, the handler never raises, answers at most once (exactly
once when there is an https ResponseURL) with a well-formed body, and Delete always succeeds."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .local_endpoints import LambdaContext, cloudformation_event

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
LONG_TEXT = st.text(min_size=1000, max_size=6000)
PROPERTY_NAMES = st.sampled_from(["FunctionName", "Triggers", "ServiceToken", "ServiceTimeout"])
FUNCTION_NAMES = st.sampled_from(["rot", "123456789012:function:rot", "", "rot:1", "arn:x"])


@st.composite
def malformed_events(draw):
    """A CloudFormation request with some fields removed, retyped, oversized or invented."""
    event = cloudformation_event(
        draw(st.sampled_from(["Create", "Update", "Delete"])),
        "https://replaced-by-the-test.invalid/",
        physical_id=draw(st.none() | st.text(max_size=40)),
    )
    event["ResourceProperties"] = draw(
        st.dictionaries(
            PROPERTY_NAMES | st.text(max_size=12), FUNCTION_NAMES | JSON_VALUES, max_size=4
        )
        | JSON_VALUES
    )
    for field in draw(st.lists(st.sampled_from(sorted(event)), max_size=4, unique=True)):
        action = draw(st.sampled_from(["remove", "retype", "oversize"]))
        if action == "remove":
            del event[field]
        elif action == "retype":
            event[field] = draw(JSON_VALUES)
        else:
            event[field] = draw(LONG_TEXT)
    for key, value in draw(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=2)).items():
        event.setdefault(key, value)
    return event


def is_well_formed(document: dict) -> bool:
    return (
        document.get("Status") in {"SUCCESS", "FAILED"}
        and all(
            isinstance(document.get(key), str)
            for key in ("Reason", "StackId", "RequestId", "LogicalResourceId")
        )
        and isinstance(document.get("PhysicalResourceId"), str)
        and document["PhysicalResourceId"] != ""
        and isinstance(document.get("Data"), dict)
        and (document["Status"] == "SUCCESS" or document["Reason"] != "")
    )


@pytest.fixture(scope="module", autouse=True)
def denying_lambda_api(lambda_api_hop):
    """Any lookup that gets as far as Lambda is denied at once: the examples stay fast."""
    lambda_api_hop.reset()
    lambda_api_hop.fail_always(403, "AccessDeniedException", "not authorized")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_api_hop.url)
        yield
    lambda_api_hop.reset()


# Nowhere to answer: the handler must log and return without sending anything.
UNUSABLE_URLS = st.sampled_from(
    [None, 42, "", "not a url", "http://127.0.0.1/plain-http", "https://", "https://h:port/x"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=malformed_events(), answerable=st.booleans(), unusable_url=UNUSABLE_URLS)
def test_malformed_events_get_exactly_one_well_formed_answer(
    app, receiver_server, event, answerable, unusable_url
):
    receiver_server.reset()
    url = receiver_server.url()
    event["ResponseURL"] = url if answerable else unusable_url
    if event["ResponseURL"] is None:
        del event["ResponseURL"]

    assert app.handler(event, LambdaContext(5)) is None

    puts = receiver_server.puts()
    if not answerable:
        assert puts == []
        return
    assert len(puts) == 1
    assert len(puts[0].body) <= 4096
    document = json.loads(puts[0].body)
    assert is_well_formed(document), document
    if event.get("RequestType") == "Delete":
        assert document["Status"] == "SUCCESS"
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if isinstance(event.get(key), str) and len(event[key]) < 1000:
            assert document[key] == event[key]
