"""Property-based, for both custom resources: whatever arrives, the handler never raises, answers
at most once (exactly once when there is an https ResponseURL) with a well-formed body, Delete
always succeeds, and a ResponseURL it must not use (plain http, no host, a bad port) is never
even connected to: those URLs point at a loopback listener that counts every connection."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .functions import load_app
from .local_endpoints import ConnectionCounter, LambdaContext, cloudformation_event

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
# 1000 to 6000 characters of any kind: a short random text repeated (drawing thousands of
# characters one by one cost most of this test's CPU, and the handler only sees a long field).
LONG_TEXT = st.builds(
    lambda unit, size: (unit * size)[:size],
    st.text(min_size=1, max_size=16),
    st.integers(min_value=1000, max_value=6000),
)
PROPERTY_NAMES = {
    "lambda_role_lookup": ["FunctionName", "Triggers", "ServiceToken", "ServiceTimeout"],
    "mysql_user": ["AdminSecretArn", "AppSecretArn", "Grants", "Host", "Port", "ServiceToken"],
}
PROPERTY_VALUES = st.sampled_from(
    [
        "rot",
        "123456789012:function:rot",
        "",
        "rot:1",
        "arn:x",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        "127.0.0.1",
        [{"Privileges": ["SELECT"], "Database": "appdb", "Table": "*"}],
    ]
)


@st.composite
def malformed_events(draw, property_names):
    """A CloudFormation request with some fields removed, retyped, oversized or invented."""
    event = cloudformation_event(
        draw(st.sampled_from(["Create", "Update", "Delete"])),
        "https://replaced-by-the-test.invalid/",
        physical_id=draw(st.none() | st.text(max_size=40)),
    )
    event["ResourceProperties"] = draw(
        st.dictionaries(
            st.sampled_from(property_names) | st.text(max_size=12),
            PROPERTY_VALUES | JSON_VALUES,
            max_size=4,
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
def denying_aws_apis(lambda_api_hop):
    """Any call that gets as far as Lambda or Secrets Manager is denied at once: the examples
    stay fast and never leave the machine."""
    lambda_api_hop.reset()
    lambda_api_hop.fail_always(403, "AccessDeniedException", "not authorized")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_api_hop.url)
        patch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", lambda_api_hop.url)
        yield
    lambda_api_hop.reset()


@pytest.fixture(scope="module")
def counter():
    with ConnectionCounter() as listener:
        yield listener


def unusable_urls(port: int):
    """Nowhere to answer: the handler must log and return without connecting anywhere."""
    return st.sampled_from(
        [
            None,
            42,
            "",
            "not a url",
            f"http://127.0.0.1:{port}/plain-http?X-Amz-Signature=1",
            f"HTTP://127.0.0.1:{port}/upper-case-plain-http",
            f"ftp://127.0.0.1:{port}/other-scheme",
            f"//127.0.0.1:{port}/no-scheme",
            "https://",
            f"https://127.0.0.1:{port}x/bad-port",
            f"https:///127.0.0.1:{port}/no-host",
        ]
    )


@pytest.mark.parametrize("function", ["lambda_role_lookup", "mysql_user"])
def test_malformed_events_get_exactly_one_well_formed_answer(
    function_environment, receiver_server, counter, function
):
    app = load_app(function)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        event=malformed_events(PROPERTY_NAMES[function]),
        answerable=st.booleans(),
        unusable_url=unusable_urls(counter.port),
    )
    def check(event, answerable, unusable_url):
        receiver_server.reset()
        connections_before = counter.connections
        event["ResponseURL"] = receiver_server.url() if answerable else unusable_url
        if event["ResponseURL"] is None:
            del event["ResponseURL"]

        assert app.handler(event, LambdaContext(5, app.helper.clock)) is None

        puts = receiver_server.puts()
        if not answerable:
            assert puts == []
            assert counter.connections == connections_before, "answered at an unusable URL"
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

    check()


@pytest.mark.parametrize("function", ["lambda_role_lookup", "mysql_user"])
def test_plain_http_response_url_is_refused_and_logged_without_the_url(
    function_environment, counter, caplog, function
):
    # CloudFormation's presigned URLs are https; a plain http one would send the answer (and the
    # URL's credential) in clear text, so it is never used.
    app = load_app(function)
    url = f"http://127.0.0.1:{counter.port}/stack-response?X-Amz-Signature=abc123"
    event = cloudformation_event("Delete", url, {}, physical_id="some-id")
    before = counter.connections

    app.handler(event, LambdaContext(5, app.helper.clock))

    assert counter.connections == before
    assert "Request ignored, nowhere to answer: ResponseURL must be an https URL." in caplog.text
    assert "X-Amz-Signature" not in caplog.text
    assert str(counter.port) not in caplog.text


@pytest.mark.parametrize("function", ["lambda_role_lookup", "mysql_user"])
@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_a_malformed_request_is_answered_with_the_resource_s_own_physical_id(
    function_environment, receiver_server, function, request_type
):
    # Another id in the answer would tell CloudFormation the resource was replaced (an Update)
    # or leave the real one behind (a Delete).
    app = load_app(function)
    receiver_server.reset()
    event = cloudformation_event(request_type, receiver_server.url(), {}, physical_id="the-id")
    event["LogicalResourceId"] = 7  # malformed: not a string

    app.handler(event, LambdaContext(5, app.helper.clock))

    (put,) = receiver_server.puts()
    document = json.loads(put.body)
    assert document["PhysicalResourceId"] == "the-id"
    assert document["Status"] == ("SUCCESS" if request_type == "Delete" else "FAILED")


@pytest.mark.parametrize("function", ["lambda_role_lookup", "mysql_user"])
@pytest.mark.parametrize(
    "url", [None, 42, ["https://example.com/"]], ids=["missing", "number", "list"]
)
def test_a_response_url_that_is_not_text_is_logged_as_nowhere_to_answer(
    function_environment, caplog, function, url
):
    app = load_app(function)
    event = cloudformation_event("Delete", "https://replaced.invalid/", {}, physical_id="the-id")
    if url is None:
        del event["ResponseURL"]
    else:
        event["ResponseURL"] = url

    app.handler(event, LambdaContext(5, app.helper.clock))

    assert "Request ignored, nowhere to answer: ResponseURL must be an https URL." in caplog.text
    assert "Response delivery failed" not in caplog.text


@pytest.mark.parametrize("function", ["lambda_role_lookup", "mysql_user"])
def test_a_malformed_request_is_answered_at_its_own_url_not_the_previous_one(
    receiver_server, function
):
    # crhelper keeps the previous request's ResponseURL; a request it never sees (malformed)
    # must still be answered at its own.
    app = load_app(function)
    receiver_server.reset()
    good = cloudformation_event("Delete", receiver_server.url("first"), {}, physical_id="the-id")
    malformed = cloudformation_event("Update", receiver_server.url("second"), {})  # no id
    for event in (good, malformed):
        app.handler(event, LambdaContext(5, app.helper.clock))

    assert len(receiver_server.puts("first")) == 1
    (answer,) = receiver_server.puts("second")
    assert answer.document["Status"] == "FAILED"
    assert answer.document["RequestId"] == malformed["RequestId"]
