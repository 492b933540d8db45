"""How each function plugs into crhelper through the shared cfn_one_shot base: a real request
through `handler` is answered at the real HTTPS receiver by the module's helper, the decorated
functions are the registered ones, and the helper's state matches what crhelper expects."""

import pytest
from cfn_one_shot.one_shot_resource import OneShotResource
from crhelper import CfnResource

from .functions import FUNCTIONS, load_app
from .local_endpoints import LambdaContext, cloudformation_event

REGISTERED = {
    "lambda_role_lookup": ("look_up_role", "look_up_role", "forget"),
    "mysql_user": ("create", "update", "delete"),
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_answers_a_real_request_through_the_modules_helper(
    function_environment, receiver, function
):
    app = load_app(function)
    event = cloudformation_event(
        "Delete", receiver.url(), {}, physical_id="app-db_AppResource_ABCDEFGH"
    )

    assert app.handler(event, LambdaContext(5)) is None

    (put,) = receiver.puts()
    assert put.document["Status"] == "SUCCESS"
    assert put.document["PhysicalResourceId"] == "app-db_AppResource_ABCDEFGH"
    assert put.document["RequestId"] == event["RequestId"]
    assert app.helper.RequestId == event["RequestId"]  # this module's helper handled it


@pytest.mark.parametrize("function", FUNCTIONS)
def test_create_update_and_delete_are_registered_with_the_helper(function_environment, function):
    app = load_app(function)
    create, update, delete = (getattr(app, name) for name in REGISTERED[function])

    assert isinstance(app.helper, OneShotResource)
    assert app.helper._create_func is create
    assert app.helper._update_func is update
    assert app.helper._delete_func is delete
    assert not any(
        (app.helper._poll_create_func, app.helper._poll_update_func, app.helper._poll_delete_func)
    )


def test_helper_state_is_what_crhelpers_own_init_sets():
    # OneShotResource skips CfnResource.__init__ (it builds clients for unused polling); if a
    # crhelper upgrade adds state, this fails rather than an AttributeError in production.
    reference = CfnResource(log_level="INFO", boto_level="WARNING", sleep_on_delete=0)

    ours = OneShotResource()

    assert set(vars(ours)) - {"_slot", "_timed_out_reason"} == set(vars(reference))
    assert ours._sleep_on_delete == 0
    # Same values too, but for the clients of the polling mode this resource never builds.
    polling_clients = {"_lambda_client", "_events_client", "_logs_client"}
    differing = {
        name
        for name, value in vars(reference).items()
        if name not in polling_clients and vars(ours)[name] != value
    }
    assert differing == set()
    assert all(vars(ours)[name] is None for name in polling_clients)
