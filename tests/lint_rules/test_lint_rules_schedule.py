"""ER801-ER803: RotationRules schedules and windows."""

from __future__ import annotations

import pytest
from lint_rules_kit import FORMS, properties, render

RULES = properties("AppRotation", "RotationRules")


def rules(template: dict) -> dict:
    return template["Resources"]["AppRotation"]["Properties"]["RotationRules"]


@pytest.mark.parametrize("form", FORMS)
def test_er801_days_and_schedule_expression(linter, multi_user, form):
    rules(multi_user)["AutomaticallyAfterDays"] = 30
    assert linter.findings(render(multi_user, form)) == {("ER801", RULES)}


@pytest.mark.parametrize(
    "expression",
    [
        "rate(2 hours)",
        "rate(0 days)",
        "rate(1000 days)",
        "rate(7 weeks)",
        "cron(0 4 * * ?)",
        "cron(30 4 * * ? *)",
        "cron(0 4 * * ? 2030)",
        "cron(0 25 * * ? *)",
        "cron(0 */2 * * ? *)",
        "cron(0 1,3 * * ? *)",
        "cron(0 1,4 * * ? *)",  # three hours apart: more often than every four
        "rate(3 hours)",
        "cron(0 4 1 * MON *)",
        "every sunday",
    ],
)
@pytest.mark.parametrize("form", FORMS)
def test_er802_refused_schedule_expressions(linter, multi_user, expression, form):
    rules(multi_user)["ScheduleExpression"] = expression
    del rules(multi_user)["Duration"]
    assert linter.findings(render(multi_user, form)) == {("ER802", f"{RULES}/ScheduleExpression")}


@pytest.mark.parametrize(
    "expression",
    [
        "rate(4 hours)",
        "rate(1 day)",
        "rate(999 days)",
        "cron(0 16 L * ? *)",
        "cron(0 0 ? * SUN#1 *)",
        "cron(0 8 ? * MON-FRI *)",
        "cron(0 1 * 1/3 SUN *)",
        "cron(0 4/12 * * ? *)",
        "cron(0 16 1,15 * ? *)",
        "cron(0 1,5 * * ? *)",
    ],
)
def test_er802_accepted_schedule_expressions(linter, multi_user, expression):
    rules(multi_user)["ScheduleExpression"] = expression
    rules(multi_user)["Duration"] = "1h"
    # Some of them meet the admin secret's Sunday window (WR804), which is no refusal.
    assert linter.findings(render(multi_user, "yaml")) - {("WR804", RULES)} == set()


def test_er802_schedule_from_a_parameter_default(linter, multi_user):
    multi_user["Parameters"]["AppSchedule"]["Default"] = "rate(1 hour)"
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert (match.rule.id, match.path_string) == ("ER802", f"{RULES}/ScheduleExpression")
    assert "(with the default of parameter AppSchedule)" in match.message


@pytest.mark.parametrize(("days", "refused"), [(0, True), (1, False), (1000, False), (1001, True)])
def test_er802_automatically_after_days_from_1_to_1000(linter, multi_user, days, refused):
    rules(multi_user).clear()
    rules(multi_user)["AutomaticallyAfterDays"] = days
    found = {f for f in linter.findings(render(multi_user, "json")) if f[0] == "ER802"}
    assert found == ({("ER802", f"{RULES}/AutomaticallyAfterDays")} if refused else set())


@pytest.mark.parametrize(
    ("expression", "duration"),
    [
        ("rate(7 days)", "3 hours"),
        ("rate(7 days)", "25h"),
        ("rate(6 hours)", "8h"),
        ("cron(0 22 * * ? *)", "3h"),
        ("cron(0 4/6 * * ? *)", "7h"),
    ],
)
@pytest.mark.parametrize("form", FORMS)
def test_er803_refused_windows(linter, multi_user, expression, duration, form):
    rules(multi_user).update(ScheduleExpression=expression, Duration=duration)
    assert linter.findings(render(multi_user, form)) == {("ER803", f"{RULES}/Duration")}


def test_er803_each_condition_branch(linter, multi_user):
    rules(multi_user)["Duration"] = {"Fn::If": ["UseShortWindow", "2h", "30h"]}
    assert linter.findings(render(multi_user, "yaml")) == {("ER803", f"{RULES}/Duration")}


def test_er803_branches_checked_together(linter):
    """Branches of one condition meet each other: rate(6 hours) with 24h is a real mistake."""
    source = """
Parameters:
  Fast: {Type: String, AllowedValues: ["yes", "no"], Default: "no"}
Conditions:
  IsFast: !Equals [!Ref Fast, "yes"]
Resources:
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: my-secret
      RotationLambdaARN: arn:aws:lambda:eu-west-1:123456789012:function:rotate
      RotationRules:
        ScheduleExpression: !If [IsFast, rate(6 hours), rate(1 day)]
        Duration: !If [IsFast, 24h, 6h]
"""
    assert linter.findings(source) == {
        ("ER803", properties("Rotation", "RotationRules", "Duration"))
    }


@pytest.mark.parametrize("days", [1, 1000])
def test_er802_automatically_after_days_at_its_limits_is_accepted(linter, multi_user, days):
    rules(multi_user).clear()
    rules(multi_user)["AutomaticallyAfterDays"] = days
    found = linter.findings(render(multi_user, "yaml"))
    assert {rule for rule, _ in found} <= {"WR804"}  # a daily rate may meet the admin window


def test_er803_window_longer_than_the_gap_between_two_starts(linter, multi_user):
    """Windows at 01:00 and 05:00: a 5-hour window would still be open at the next start."""
    rules(multi_user).update(ScheduleExpression="cron(0 1,5 * * ? *)", Duration="5h")
    assert ("ER803", f"{RULES}/Duration") in linter.findings(render(multi_user, "yaml"))


def test_er803_names_the_last_window_of_the_day(linter, multi_user):
    """Windows at 02:00 and 22:00: the 22:00 one, three hours long, runs past midnight."""
    rules(multi_user).update(ScheduleExpression="cron(0 2,22 * * ? *)", Duration="3h")
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert (match.rule.id, match.path_string) == ("ER803", f"{RULES}/Duration")
    assert "a window opening at 22:00 would run into the next UTC day" in match.message


def test_starts_four_hours_apart_with_a_four_hour_window_are_accepted(linter, multi_user):
    """The shortest gap Secrets Manager allows, and a window that closes as the next opens."""
    rules(multi_user).update(ScheduleExpression="cron(0 1,5 * * ? *)", Duration="4h")
    found = linter.findings(render(multi_user, "yaml"))
    assert {rule for rule, _ in found} <= {"WR804"}  # it may meet the admin window


@pytest.mark.parametrize("duration", ["0h", "25h"])
def test_er803_window_out_of_range_with_automatically_after_days(linter, multi_user, duration):
    rules(multi_user).clear()
    rules(multi_user).update(AutomaticallyAfterDays=30, Duration=duration)
    assert linter.findings(render(multi_user, "yaml")) == {("ER803", f"{RULES}/Duration")}
