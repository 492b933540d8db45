"""How the function plugs into crhelper: handler delegates to the helper, the decorated
functions are the registered ones, and the helper's state matches what crhelper expects."""

from cfn_one_shot.one_shot_resource import OneShotResource
from crhelper import CfnResource

from .local_endpoints import LambdaContext


def test_handler_delegates_to_the_crhelper_helper(app, monkeypatch):
    calls = []
    monkeypatch.setattr(app, "helper", lambda event, context: calls.append((event, context)))
    event, context = {"RequestType": "Delete"}, LambdaContext(1)

    app.handler(event, context)

    assert calls == [(event, context)]


def test_create_update_and_delete_are_registered_with_the_helper(app):
    assert isinstance(app.helper, CfnResource)
    assert app.helper._create_func is app.look_up_role
    assert app.helper._update_func is app.look_up_role
    assert app.helper._delete_func is app.forget
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
