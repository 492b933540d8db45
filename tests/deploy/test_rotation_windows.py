"""Rotation schedules and windows judged on the values a deploy really uses (PARAMS, else the
stack's previous values, else the defaults), as Secrets Manager judges them: a schedule it
refuses, a window past midnight UTC or longer than the gap to the next one, and an
alternating-users window that can meet its admin secret's."""

from __future__ import annotations

import datetime as dt

import pytest

from scripts.stackctl import cli, rotation_lint, windows
from scripts.stackctl.template import REPO, read_template
from scripts.stackctl.values import Values
from tests.deploy.aws_stubs import StubbedAws, stack_description

MULTI = read_template("templates/mysql-multi-user.yaml")
SINGLE = read_template("templates/mysql-single-user.yaml")
EXISTING = read_template("templates/mysql-rotation-existing-cluster.yaml")
SUNDAY = dt.date(2026, 12, 6)  # the injected day the overlap search starts from


def judged(facts, given=None, previous=None) -> list[str]:
    values = Values(facts, given or {}, previous, stack_known=True, today=SUNDAY)
    return [problem.text for problem in windows.check(values)]


@pytest.mark.parametrize("facts", [MULTI, SINGLE, EXISTING], ids=["multi", "single", "existing"])
def test_the_default_schedules_and_windows_pass(facts):
    assert judged(facts) == []


def test_schedules_that_differ_as_text_but_meet_on_sundays_are_refused():
    # The admin default is Sundays 01:00-03:00 UTC; a daily 01:00 application rotation meets it.
    [message] = judged(MULTI, {"AppRotationSchedule": "cron(0 1 * * ? *)"})
    assert message.startswith(
        "the rotations AdminSecretRotation and AppSecretRotation can run at the same time: "
        "Sunday 2026-12-06 from 01:00 to 03:00 UTC"
    )
    assert "AdminRotationSchedule='cron(0 1 ? * SUN *)' (the template's default)" in message
    assert "AppRotationSchedule='cron(0 1 * * ? *)'" in message
    assert message.endswith(
        "Choose AdminRotationSchedule/AdminRotationWindow/AppRotationSchedule/AppRotationWindow "
        "whose windows never meet."
    )


def test_an_update_judges_the_stacks_previous_values_with_the_new_ones():
    stack = {
        "AdminRotationSchedule": "cron(0 4 * * ? *)",
        "AdminRotationWindow": "1h",
        "AppRotationSchedule": "cron(0 8 * * ? *)",
        "AppRotationWindow": "1h",
    }
    assert judged(MULTI, {}, stack) == []  # as deployed: 04:00 and 08:00 daily
    [message] = judged(MULTI, {"AppRotationSchedule": "cron(0 4 ? * MON *)"}, stack)
    assert "AdminRotationSchedule='cron(0 4 * * ? *)' (the stack's current value)" in message
    assert "Monday 2026-12-07 from 04:00 to 05:00 UTC" in message


def test_windows_that_only_touch_are_accepted():
    given = {
        "AdminRotationSchedule": "cron(0 1 * * ? *)",
        "AdminRotationWindow": "2h",
        "AppRotationSchedule": "cron(0 3 * * ? *)",
    }
    assert judged(MULTI, given) == []


@pytest.mark.parametrize(
    ("facts", "given", "message"),
    [
        (
            SINGLE,
            {"AdminRotationSchedule": "cron(0 23 ? * SUN *)"},
            "AdminRotationWindow='2h' (the template's default) is a rotation window Secrets "
            "Manager refuses with AdminRotationSchedule='cron(0 23 ? * SUN *)': a window opening "
            "at 23:00 would run into the next UTC day; choose a shorter window or another "
            "schedule.",
        ),
        (
            EXISTING,
            {"AppRotationSchedule": "rate(4 hours)", "AppRotationWindow": "5h"},
            "AppRotationWindow='5h' is a rotation window Secrets Manager refuses with "
            "AppRotationSchedule='rate(4 hours)': it is longer than the 4 hours between "
            "rotations; choose a shorter window or another schedule.",
        ),
        (
            MULTI,
            {"AdminRotationSchedule": "cron(0 4,6 ? * SUN *)"},
            "AdminRotationSchedule='cron(0 4,6 ? * SUN *)' is a rotation schedule Secrets "
            "Manager refuses: hours '4,6' rotate more often than every 4 hours; write",
        ),
        (
            MULTI,
            {"AppRotationSchedule": "cron(0 4 1 * MON *)"},
            "AppRotationSchedule='cron(0 4 1 * MON *)' is a rotation schedule Secrets Manager "
            "refuses: day-of-month and day-of-week are both set; one of them must be ?; write",
        ),
        (
            SINGLE,
            {"AdminRotationSchedule": "cron(0 4 32 * ? *)"},
            "AdminRotationSchedule='cron(0 4 32 * ? *)' is a rotation schedule Secrets Manager "
            "refuses: day-of-month field '32' is not 1-31 with , - * ? / L; write",
        ),
    ],
    ids=["past-midnight", "longer-than-interval", "too-often", "day-and-weekday", "day-32"],
)
def test_schedules_and_windows_secrets_manager_refuses_are_named_with_the_fix(
    facts, given, message
):
    [found] = judged(facts, given)
    assert found.startswith(message)


def test_a_window_the_stack_keeps_is_judged_with_a_new_schedule():
    """The stack has a 6h window; PARAMS moves the schedule to 20:00: the kept window would run
    past midnight. Judged on the default (2h) it would pass."""
    stack = {"AdminRotationSchedule": "cron(0 1 ? * SUN *)", "AdminRotationWindow": "6h"}
    [found] = judged(SINGLE, {"AdminRotationSchedule": "cron(0 20 ? * SUN *)"}, stack)
    assert found.startswith("AdminRotationWindow='6h' (the stack's current value) is a rotation ")
    assert judged(SINGLE, {"AdminRotationSchedule": "cron(0 20 ? * SUN *)"}) == []


def test_literals_and_automatically_after_days_are_judged_too(tmp_path):
    template = tmp_path / "literal.yaml"
    template.write_text(
        "Resources:\n"
        "  Rotation:\n"
        "    Type: AWS::SecretsManager::RotationSchedule\n"
        "    Properties:\n"
        "      SecretId: arn:aws:secretsmanager:eu-west-1:111122223333:secret:x\n"
        "      RotationRules: {AutomaticallyAfterDays: 1200, Duration: 2h}\n"
    )
    [found] = judged(read_template(str(template)))
    assert found.startswith(
        "Rotation's RotationRules AutomaticallyAfterDays '1200' is a rotation schedule Secrets "
        "Manager refuses: a rate in days must be 1 to 999"
    )


def test_the_judgement_is_the_lint_rules_own_code():
    """One copy of the logic: make deploy runs the functions the rule file imports."""
    module = str(REPO / "lint_rules" / "_rotation_lint" / "_windows.py")
    for function in (
        rotation_lint.schedule_problem,
        rotation_lint.window_problem,
        rotation_lint.rotation_windows_overlap,
        rotation_lint.parse_schedule,
    ):
        assert function.__code__.co_filename == module
    from cfn_lint_rotation.rules import _rotation_rules as rotation_rules

    assert rotation_rules.schedule_problem is rotation_lint.schedule_problem
    assert rotation_rules.window_problem is rotation_lint.window_problem


def test_make_deploy_refuses_an_update_whose_new_window_meets_the_stacks_previous_one(capsys):
    """The stack rotates the admin at 04:00 daily; PARAMS moves the application's to Monday
    04:00. Judged on the defaults (Sunday 01:00) they would not meet; on the stack's values they do.
    """
    stubs = StubbedAws()
    stubs.identity()
    previous_values = [
        ("AdminRotationSchedule", "cron(0 4 * * ? *)"),
        ("AdminRotationWindow", "1h"),
        ("TestInstanceImageId", "ami-0123456789abcdef0"),
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
    assert err.startswith(
        "error: PARAMS: the rotations AdminSecretRotation and AppSecretRotation can run at the "
        "same time: Monday"
    )
    assert "AdminRotationSchedule='cron(0 4 * * ? *)' (the stack's current value)" in err
    assert len(err.splitlines()) == 1
    stubs.assert_done()  # refused before any change set


def test_a_schedule_the_parameter_pattern_refuses_is_named_once(tmp_path):
    """rate(2 hours) fails AllowedPattern; the window judgement does not repeat it."""
    from scripts.stackctl.deploy import check_inputs
    from scripts.stackctl.errors import UsageError
    from tests.deploy.test_judging_values import options

    opts = options(
        template="templates/mysql-single-user.yaml",
        params='AdminRotationSchedule="rate(2 hours)"',
        skip_lint=True,
    )
    with pytest.raises(UsageError) as refused:
        check_inputs(opts, StubbedAws().clock.as_clock())
    lines = [line for line in str(refused.value).splitlines() if "AdminRotationSchedule" in line]
    assert len(lines) == 1
    assert "does not match the parameter's AllowedPattern" in lines[0]
