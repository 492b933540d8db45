"""How each function plugs into crhelper through the shared cfn_one_shot base: a real request
through `handler` is answered at the real HTTPS receiver by the module's helper, and each
request type runs the module's own decorated function."""

import pytest
from cfn_one_shot.one_shot_resource import OneShotResource

from .functions import FUNCTIONS, load_app
from .local_endpoints import LambdaContext, cloudformation_event

# What each function's own code answers to a request without properties.
ANSWERS = {
    "lambda_role_lookup": {
        "Create": ("FAILED", "FunctionName is required"),
        "Update": ("FAILED", "FunctionName is required"),
        "Delete": ("SUCCESS", ""),
    },
    "mysql_user": {
        "Create": ("FAILED", "AdminSecretArn is required"),
        "Update": ("FAILED", "AdminSecretArn is required"),
        "Delete": ("SUCCESS", ""),
    },
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_answers_a_real_request_through_the_modules_helper(receiver, function):
    app = load_app(function)
    event = cloudformation_event(
        "Delete", receiver.url(), {}, physical_id="app-db_AppResource_ABCDEFGH"
    )

    assert app.handler(event, LambdaContext(5, app.helper.clock)) is None

    (put,) = receiver.puts()
    assert isinstance(app.helper, OneShotResource)
    assert put.document["Status"] == "SUCCESS"
    assert put.document["PhysicalResourceId"] == "app-db_AppResource_ABCDEFGH"
    assert put.document["RequestId"] == event["RequestId"]
    assert app.helper.RequestId == event["RequestId"]  # this module's helper handled it


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_each_request_type_runs_the_module_s_decorated_function(
    receiver, lambda_api, function, request_type
):
    app = load_app(function)
    physical_id = None if request_type == "Create" else "the-id"
    event = cloudformation_event(request_type, receiver.url(), {}, physical_id=physical_id)

    app.handler(event, LambdaContext(5, app.helper.clock))

    (put,) = receiver.puts()
    status, reason = ANSWERS[function][request_type]
    assert put.document["Status"] == status
    assert reason in put.document["Reason"]
    assert lambda_api.requests == 0
