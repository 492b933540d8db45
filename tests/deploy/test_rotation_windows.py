"""make deploy refuses admin and application rotation windows that can meet, on the values the
deploy will really use (PARAMS, else the stack's previous values, else the defaults)."""

from __future__ import annotations

import pytest

from scripts.stackctl import cli, windows
from scripts.stackctl.errors import UsageError
from scripts.stackctl.template import read_template
from tests.deploy.aws_stubs import StubbedAws, stack_description

MULTI = read_template("templates/mysql-multi-user.yaml")


def previous(**values: str) -> dict:
    return {"Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]}


def test_the_default_windows_never_meet():
    windows.check(MULTI, {}, None)


def test_schedules_that_differ_as_text_but_meet_on_sundays_are_refused():
    # The admin default is Sundays 01:00-03:00 UTC; a daily 01:00 application rotation meets it.
    with pytest.raises(UsageError) as refused:
        windows.check(MULTI, {"AppRotationSchedule": "cron(0 1 * * ? *)"}, None)
    message = str(refused.value)
    assert "cron(0 1 ? * SUN *)" in message
    assert "cron(0 1 * * ? *)" in message
    assert "Sun" in message or "SUN" in message
    assert "never meet" in message


def test_an_update_judges_the_stacks_previous_values_with_the_new_ones():
    stack = previous(
        AdminRotationSchedule="cron(0 4 * * ? *)",
        AdminRotationWindow="1h",
        AppRotationSchedule="cron(0 8 * * ? *)",
        AppRotationWindow="1h",
    )
    windows.check(MULTI, {}, stack)  # as deployed: 04:00 and 08:00 daily
    with pytest.raises(UsageError, match="can run at the same time"):
        windows.check(MULTI, {"AppRotationSchedule": "cron(0 4 ? * MON *)"}, stack)


def test_windows_that_only_touch_are_accepted():
    windows.check(
        MULTI,
        {
            "AdminRotationSchedule": "cron(0 1 * * ? *)",
            "AdminRotationWindow": "2h",
            "AppRotationSchedule": "cron(0 3 * * ? *)",
        },
        None,
    )


def test_templates_with_one_rotation_have_nothing_to_compare():
    for path in (
        "templates/mysql-single-user.yaml",
        "templates/mysql-rotation-existing-cluster.yaml",
    ):
        windows.check(read_template(path), {}, None)


def test_make_deploy_refuses_an_update_whose_new_window_meets_the_stacks_previous_one(capsys):
    """The stack rotates the admin at 04:00 daily; PARAMS moves the application's to Monday
    04:00. Judged on the defaults (Sunday 01:00) they would not meet; on the stack's values they do.
    """
    stubs = StubbedAws()
    stubs.identity()
    previous_values = [
        ("AdminRotationSchedule", "cron(0 4 * * ? *)"),
        ("AdminRotationWindow", "1h"),
    ]
    stubs.cloudformation.add_response(
        "describe_stacks",
        stack_description("rotation-multi", "UPDATE_COMPLETE", previous_values),
        {"StackName": "rotation-multi"},
    )
    argv = ["deploy", "--template", "templates/mysql-multi-user.yaml", "--stack", "rotation-multi",
            "--bucket", "my-artifacts", "--skip-lint",
            "--params", 'AppRotationSchedule="cron(0 4 ? * MON *)"']  # fmt: skip
    assert cli.main(argv, stubs.runtime()) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: PARAMS: the admin and the application rotation can run at the ")
    assert "cron(0 4 * * ? *)" in err
    stubs.assert_done()  # refused before any change set


def test_a_schedule_the_pattern_lets_through_but_secrets_manager_refuses_is_named():
    with pytest.raises(UsageError) as refused:
        windows.check(MULTI, {"AppRotationSchedule": "cron(0 4 1 * MON *)"}, None)
    assert str(refused.value) == (
        "PARAMS: a rotation schedule Secrets Manager refuses: day-of-month and day-of-week are "
        "both set; one of them must be ?"
    )
