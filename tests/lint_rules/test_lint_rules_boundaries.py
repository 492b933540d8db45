"""Boundaries a mutation probe found untested: each side of each limit, one test apiece.

MySQL's alternating-users function accepts `<username>_clone` up to 16 characters, so a
10-character username passes and an 11-character one fails; GetRandomPassword fails when one
class of characters is excluded entirely; a rotation window may close exactly at 24:00 UTC.
"""

from __future__ import annotations

import string

import pytest
from lint_rules_kit import hosted, properties, render

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
CLASSES = {
    "uppercase letters": string.ascii_uppercase,
    "lowercase letters": string.ascii_lowercase,
    "digits": string.digits,
    "punctuation": PUNCTUATION,
}


def _app_username(template: dict, name: str, max_length: int) -> None:
    template["Parameters"]["AppUsername"].update(Default=name, MaxLength=max_length)


def test_ten_character_mysql_username_is_accepted(linter, multi_user):
    _app_username(multi_user, "a" * 10, 10)  # a_clone of 16 characters
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_eleven_character_mysql_username_is_refused(linter, multi_user):
    _app_username(multi_user, "a" * 11, 16)  # a_clone of 17 characters
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER103", "Parameters/AppUsername/Default")
    }
    assert "(17 characters)" in matches[0].message


@pytest.mark.parametrize("name", CLASSES)
def test_excluding_a_whole_class_from_the_rotation_draws_er201(linter, multi_user, name):
    lambda_ = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["ExcludeCharacters"] = CLASSES[name]
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER201", hosted("AdminRotation", "ExcludeCharacters"))
    }
    assert f"removes all {name}" in matches[0].message


@pytest.mark.parametrize("name", CLASSES)
def test_all_but_one_character_of_a_class_is_fine(linter, multi_user, name):
    lambda_ = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["ExcludeCharacters"] = CLASSES[name][1:]
    assert linter.findings(render(multi_user, "yaml")) == set()


@pytest.mark.parametrize("name", CLASSES)
def test_excluding_a_whole_class_from_a_secret_draws_er201(linter, multi_user, name):
    generate = multi_user["Resources"]["AppSecret"]["Properties"]["GenerateSecretString"]
    generate["ExcludeCharacters"] = CLASSES[name]
    matches = linter.matches(render(multi_user, "yaml"))
    assert {(m.rule.id, m.path_string) for m in matches} >= {
        ("ER201", properties("AppSecret", "GenerateSecretString", "ExcludeCharacters"))
    }


@pytest.mark.parametrize(
    ("expression", "duration"),
    [("cron(0 22 * * ? *)", "2h"), ("cron(0 0 * * ? *)", "24h"), ("rate(1 day)", "24h")],
)
def test_a_window_ending_exactly_at_24_00_is_accepted(linter, multi_user, expression, duration):
    rules = multi_user["Resources"]["AppRotation"]["Properties"]["RotationRules"]
    rules.update(ScheduleExpression=expression, Duration=duration)
    # A whole-day window meets the admin secret's Sunday window (WR804), which is no refusal.
    overlap = ("WR804", properties("AppRotation", "RotationRules"))
    assert linter.findings(render(multi_user, "yaml")) - {overlap} == set()


def test_a_window_ending_at_01_00_the_next_day_is_refused(linter, multi_user):
    rules = multi_user["Resources"]["AppRotation"]["Properties"]["RotationRules"]
    rules.update(ScheduleExpression="cron(0 22 * * ? *)", Duration="3h")
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER803", properties("AppRotation", "RotationRules", "Duration"))
    }
