"""WR804 and `rotation_windows_overlap`: rotation windows judged by what the schedules mean."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from lint_rules_kit import load, properties, render

from cfn_lint_rotation import rotation_windows_overlap

FRIDAY = dt.date(2026, 11, 27)
APP_RULES = properties("AppRotation", "RotationRules")


@pytest.fixture
def multi_user() -> dict:
    """The template as written, AWS::LanguageExtensions in its Transform: this file's rules run
    through cfn-lint's transform as users' templates do (other rule files skip it, for speed)."""
    return load("good_multi_user_short.yaml")


def overlap(a, da, b, db, start=FRIDAY):
    return rotation_windows_overlap(a, da, b, db, start=start)


def test_daily_and_sunday_crons_at_the_same_hour_meet_on_sunday():
    found = overlap("cron(0 1 * * ? *)", None, "cron(0 1 ? * SUN *)", None)
    assert found.startswith("Sunday 2026-11-29 from 01:00 to 24:00 UTC")
    assert "with no Duration (01:00-24:00)" in found  # the default closes at the end of the day


@pytest.mark.parametrize(
    ("a", "da", "b", "db"),
    [
        ("cron(0 1 ? * SUN *)", "2h", "cron(0 4 * * ? *)", "2h"),  # the templates' defaults
        ("cron(0 1 ? * SUN *)", "3h", "cron(0 4 * * ? *)", "2h"),  # closes 04:00, opens 04:00
        ("cron(0 1 ? JAN SUN *)", "2h", "cron(0 1 ? FEB SUN *)", "2h"),
        ("cron(0 1 1 * ? *)", "2h", "cron(0 1 2 * ? *)", "2h"),
        ("rate(4 hours)", None, "cron(0 1 * * ? *)", "2h"),  # 00-01, 04-05… vs 01-03
        ("rate(30 days)", "2h", "cron(0 4 * * ? *)", "2h"),
        ("cron(0 1 ? * 2#1 *)", "2h", "cron(0 1 ? * 2#2 *)", "2h"),
        ("cron(0 1 8 * ? *)", "2h", "cron(0 1 ? * SUN#1 *)", "2h"),  # the 8th is never 1st
    ],
)
def test_windows_that_never_meet(a, da, b, db):
    assert overlap(a, da, b, db) is None
    assert overlap(b, db, a, da) is None


@pytest.mark.parametrize(
    ("a", "da", "b", "db", "first"),
    [
        # Two rates in days both open at 00:00; their days depend on the last rotations.
        ("rate(30 days)", None, "rate(7 days)", "1h", "Friday 2026-11-27 from 00:00 to 01:00"),
        ("rate(30 days)", None, "cron(0 4 ? * SUN *)", "2h", "Sunday 2026-11-29 from 04:00"),
        ("rate(4 hours)", None, "cron(0 4 * * ? *)", "1h", "Friday 2026-11-27 from 04:00 to 05"),
        # rate(5 hours) drifts from day to day: its window can open at any hour.
        ("rate(5 hours)", None, "cron(0 2 * * ? *)", "1h", "Friday 2026-11-27 from 02:00"),
        ("cron(0 1 L * ? *)", "2h", "cron(0 1 ? * 6L *)", "2h", "Friday 2027-04-30 from 01:00"),
        ("cron(0 1 1 * ? *)", "2h", "cron(0 2 ? * SUN#1 *)", "2h", "Sunday 2027-08-01 from 02:00"),
        ("cron(0 1 7 * ? *)", "2h", "cron(0 1 ? * SUN#1 *)", "2h", "Sunday 2027-02-07 from 01:00"),
        ("cron(0 0 29 FEB ? *)", "2h", "cron(0 1 ? * MON *)", "1h", "Monday 2044-02-29 from 01"),
        (
            "cron(0 4/12 * * ? *)",
            "1h",
            "cron(0 16 ? * MON-FRI *)",
            "1h",
            "Friday 2026-11-27 from 16",
        ),
        ("cron(0 0 1,15 JAN-MAR/2 ? *)", "4h", "cron(0 3 ? * * *)", "1h", "Friday 2027-01-01 from"),
        ("cron(0 1 ? DEC SUN *)", "2h", "cron(0 2 * 12 ? *)", "1h", "Sunday 2026-12-06 from 02:00"),
        ("cron(0 1 ? * L *)", "2h", "cron(0 2 ? * SAT *)", "1h", "Saturday 2026-11-28 from 02:00"),
        ("cron(0 1 ? * THUL *)", "2h", "cron(0 2 ? * THU *)", "1h", "Thursday 2026-12-31 from 02"),
    ],
)
def test_windows_that_meet_report_the_first_overlap(a, da, b, db, first):
    assert overlap(a, da, b, db).startswith(first)
    assert overlap(b, db, a, da).startswith(first)


@pytest.mark.parametrize(
    ("schedule", "duration"),
    [
        ("cron(30 1 * * ? *)", None),
        ("every day", None),
        ("rate(7 days)", "25h"),
        ("rate(7 days)", "2"),
    ],
)
def test_refused_values_raise_instead_of_saying_never(schedule, duration):
    with pytest.raises(ValueError, match=r"\S"):
        overlap(schedule, duration, "rate(1 day)", None)


def test_the_search_starts_today_by_default():
    found = rotation_windows_overlap("rate(1 day)", None, "rate(2 days)", None)
    assert found.startswith(dt.datetime.now(dt.UTC).strftime("%A %Y-%m-%d"))


def _schedules(template, admin, app):
    resources = template["Resources"]
    resources["AdminRotation"]["Properties"]["RotationRules"] = admin
    resources["AppRotation"]["Properties"]["RotationRules"] = app


def test_wr804_sunday_admin_window_inside_the_daily_app_window(linter, multi_user):
    """The issue's example: different text, the same hour every Sunday."""
    _schedules(
        multi_user,
        {"ScheduleExpression": "cron(0 1 ? * SUN *)"},
        {"ScheduleExpression": "cron(0 1 * * ? *)"},
    )
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("WR804", APP_RULES)}
    assert "Sunday" in matches[0].message
    assert "admin secret AdminSecret" in matches[0].message


def test_wr804_silent_for_the_good_templates_windows(linter, multi_user):
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_wr804_judges_parameter_defaults_and_each_branch(linter, multi_user):
    multi_user["Parameters"]["AdminSchedule"] = {
        "Type": "String",
        "AllowedValues": ["cron(0 1 ? * SUN *)", "cron(0 5 ? * SAT *)"],
        "Default": "cron(0 1 ? * SUN *)",
        "Description": "When the admin password rotates",
    }
    _schedules(
        multi_user,
        {"ScheduleExpression": {"Ref": "AdminSchedule"}, "Duration": "2h"},
        {
            "ScheduleExpression": {"Ref": "AppSchedule"},
            "Duration": {"Fn::If": ["UseShortWindow", "1h", "2h"]},
        },
    )
    # 04:00-05:00 (or 06:00) every day meets 05:00-07:00 on Saturdays only with the 2h branch.
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {("WR804", APP_RULES)}
    assert "Saturday" in matches[0].message
    assert "from parameter AdminSchedule" in matches[0].message


def test_wr804_automatically_after_days_is_a_rate_in_days(linter, multi_user):
    _schedules(
        multi_user, {"AutomaticallyAfterDays": 30}, {"ScheduleExpression": "cron(0 4 * * ? *)"}
    )
    assert ("WR804", APP_RULES) in linter.findings(render(multi_user, "yaml"))


def test_wr804_only_between_a_rotation_and_its_admin_secret(linter, multi_user):
    """The admin rotation is single-user: it logs in with its own secret, and nothing else."""
    _schedules(
        multi_user, {"ScheduleExpression": "rate(1 day)"}, {"ScheduleExpression": "rate(1 day)"}
    )
    multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]["RotationType"] = (
        "MySQLSingleUser"
    )
    del multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"][
        "MasterSecretArn"
    ]
    assert "WR804" not in {rule for rule, _ in linter.findings(render(multi_user, "yaml"))}


def test_wr804_admin_secret_named_only_by_masterarn(linter, multi_user):
    """No MasterSecretArn (AdminPolicy grants the read): `masterarn` names the admin secret."""
    _schedules(
        multi_user,
        {"ScheduleExpression": "cron(0 1 ? * SUN *)"},
        {"ScheduleExpression": "cron(0 1 * * ? *)"},
    )
    del multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"][
        "MasterSecretArn"
    ]
    assert linter.findings(render(multi_user, "yaml")) == {("WR804", APP_RULES)}


def test_wr804_second_admin_schedule_of_exclusive_conditions(linter, multi_user):
    """AdminRotation (Weekly) stays apart from the daily 04:00 window; AdminRotation2 (its
    alternative) opens at 04:00 on Sundays."""
    multi_user["Conditions"]["Weekly"] = {"Condition": "UseShortWindow"}
    multi_user["Conditions"]["NotWeekly"] = {"Fn::Not": [{"Condition": "UseShortWindow"}]}
    resources = multi_user["Resources"]
    resources["AdminRotation"]["Condition"] = "Weekly"
    second = resources["AdminRotation2"] = copy.deepcopy(resources["AdminRotation"])
    second["Condition"] = "NotWeekly"
    second["Properties"]["RotationRules"]["ScheduleExpression"] = "cron(0 4 ? * SUN *)"
    resources["AppRotation"]["DependsOn"] = ["AppAttachment"]
    found = linter.findings(render(multi_user, "yaml"))
    assert ("WR804", APP_RULES) in found


def test_wr804_compares_windows_of_the_same_condition_value(linter, multi_user):
    """With UseShortWindow false the admin window (01:00-05:00 Sunday) meets the app's
    (04:00-06:00); with it true neither does (01:00-03:00, 06:00-08:00). Windows of opposite
    values never exist together."""
    short = {"Fn::If": ["UseShortWindow", "2h", "4h"]}
    app_schedule = {"Fn::If": ["UseShortWindow", "cron(0 6 * * ? *)", "cron(0 4 * * ? *)"]}
    _schedules(
        multi_user,
        {"ScheduleExpression": "cron(0 1 ? * SUN *)", "Duration": short},
        {"ScheduleExpression": app_schedule, "Duration": "2h"},
    )
    assert linter.findings(render(multi_user, "yaml")) == {("WR804", APP_RULES)}


def test_wr804_names_both_secrets(linter, multi_user):
    _schedules(
        multi_user,
        {"ScheduleExpression": "cron(0 1 ? * SUN *)"},
        {"ScheduleExpression": "cron(0 1 * * ? *)"},
    )
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert match.message.startswith(
        f"{APP_RULES}: the rotation window of AppSecret can overlap that of its admin secret "
        "AdminSecret, for example on Sunday "
    )


def test_wr804_left_to_er801_when_days_and_schedule_are_both_set(linter, multi_user):
    """Secrets Manager refuses such rules whole: there is no window to compare."""
    _schedules(
        multi_user,
        {"ScheduleExpression": "cron(0 1 ? * SUN *)"},
        {"ScheduleExpression": "cron(0 1 * * ? *)", "AutomaticallyAfterDays": 1},
    )
    assert linter.findings(render(multi_user, "yaml")) == {("ER801", APP_RULES)}
