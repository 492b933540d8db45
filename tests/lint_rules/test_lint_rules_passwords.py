"""ER201-ER202: the characters generated passwords may hold."""

from __future__ import annotations

import pytest
from lint_rules_kit import FORMS, hosted, properties, render

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def generate(template: dict, secret: str) -> dict:
    return template["Resources"][secret]["Properties"]["GenerateSecretString"]


@pytest.mark.parametrize("form", FORMS)
def test_er201_rotation_excludes_every_punctuation_character(linter, multi_user, form):
    lambda_ = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["ExcludeCharacters"] = PUNCTUATION
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER201", hosted("AdminRotation", "ExcludeCharacters"))
    }
    assert "All characters of the desired type have been excluded" in matches[0].message


def test_er201_rotation_exclusions_from_a_parameter_default(linter, multi_user):
    multi_user["Parameters"]["PasswordExclusions"]["Default"] = '0123456789/@"'
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER201", hosted("AdminRotation", "ExcludeCharacters")),
        ("ER201", properties("AdminSecret", "GenerateSecretString", "ExcludeCharacters")),
    }


def test_er201_blog_exclusions_keep_dash_and_underscore(linter, multi_user):
    """The seed blog post's list: every punctuation character but - and _ is fine."""
    lambda_ = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["ExcludeCharacters"] = PUNCTUATION.replace("-", "").replace("_", "")
    assert linter.findings(render(multi_user, "json")) == set()


@pytest.mark.parametrize("form", FORMS)
def test_er201_secret_excludes_all_digits(linter, multi_user, form):
    generate(multi_user, "AppSecret")["ExcludeCharacters"] = "0123456789"
    assert linter.findings(render(multi_user, form)) == {
        ("ER201", properties("AppSecret", "GenerateSecretString", "ExcludeCharacters"))
    }


@pytest.mark.parametrize(
    "switches",
    [{"ExcludeNumbers": True}, {"RequireEachIncludedType": False}, {"ExcludeNumbers": "true"}],
)
def test_er201_secret_switches_that_make_the_exclusion_fine(linter, multi_user, switches):
    generate(multi_user, "AppSecret").update(ExcludeCharacters="0123456789", **switches)
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er201_secret_without_any_character_left(linter, multi_user):
    generate(multi_user, "AppSecret").update(
        ExcludeCharacters="0123456789",
        RequireEachIncludedType=False,
        ExcludeLowercase=True,
        ExcludeUppercase=True,
        ExcludePunctuation=True,
    )
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER201", properties("AppSecret", "GenerateSecretString", "ExcludeCharacters"))
    }


@pytest.mark.parametrize("form", FORMS)
def test_er202_master_password_may_hold_an_at_sign(linter, multi_user, form):
    generate(multi_user, "AdminSecret")["ExcludeCharacters"] = '"/\\'
    matches = linter.matches(render(multi_user, form))
    assert {(m.rule.id, m.path_string) for m in matches} == {
        ("ER202", properties("Cluster", "MasterUserPassword"))
    }
    assert "'@'" in matches[0].message


def test_er202_silent_without_punctuation(linter, multi_user):
    generate(multi_user, "AdminSecret").update(ExcludeCharacters="", ExcludePunctuation=True)
    lambda_ = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    lambda_["ExcludeCharacters"] = ""
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er202_space_counts_when_include_space_is_set(linter, multi_user):
    generate(multi_user, "AdminSecret")["IncludeSpace"] = True
    (match,) = linter.matches(render(multi_user, "yaml"))
    assert (match.rule.id, match.message.count("' '")) == ("ER202", 2)


FLAG_WITHOUT_DEFAULT = {"Type": "String", "Description": "chosen at deploy time"}
FLAG_EITHER_WAY = {
    "Type": "String",
    "AllowedValues": ["true", "false"],
    "Default": "true",
    "Description": "either way",
}


@pytest.mark.parametrize(
    ("setting", "flag"),
    [
        pytest.param("ExcludeNumbers", FLAG_WITHOUT_DEFAULT, id="switch-without-default"),
        pytest.param("ExcludeNumbers", FLAG_EITHER_WAY, id="switch-either-way"),
        pytest.param("RequireEachIncludedType", FLAG_WITHOUT_DEFAULT, id="require-each-unknown"),
    ],
)
def test_er201_silent_when_a_secret_setting_is_chosen_at_deploy_time(
    linter, multi_user, setting, flag
):
    """No digit is left, but whether the password needs one is known only at deploy time."""
    multi_user["Parameters"]["Flag"] = flag
    generate(multi_user, "AppSecret").update(
        {"ExcludeCharacters": "0123456789", setting: {"Ref": "Flag"}}
    )
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er202_silent_when_include_space_is_chosen_at_deploy_time(linter, multi_user):
    multi_user["Parameters"]["Flag"] = FLAG_WITHOUT_DEFAULT
    generate(multi_user, "AdminSecret")["IncludeSpace"] = {"Ref": "Flag"}
    assert linter.findings(render(multi_user, "yaml")) == set()


def test_er202_second_database_after_one_with_its_own_password(linter, multi_user):
    """LegacyDb, first, takes a NoEcho parameter; Cluster's generated password may hold '@'."""
    multi_user["Parameters"]["LegacyPassword"] = {
        "Type": "String",
        "NoEcho": True,
        "MinLength": 12,
        "Description": "Master password of the legacy database",
    }
    legacy = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {
            "Engine": "mysql",
            "DBInstanceClass": "db.t3.micro",
            "AllocatedStorage": "20",
            "MasterUsername": "admin",
            "MasterUserPassword": {"Ref": "LegacyPassword"},
        },
    }
    multi_user["Resources"] = {"LegacyDb": legacy, **multi_user["Resources"]}
    generate(multi_user, "AdminSecret")["ExcludeCharacters"] = '"/\\'
    assert ("ER202", properties("Cluster", "MasterUserPassword")) in linter.findings(
        render(multi_user, "yaml")
    )


def test_er201_app_settings_after_admin_ones_without_exclusions(linter, multi_user):
    """AdminRotation and AdminSecret, read first, exclude nothing; the App ones every digit."""
    admin_lambda = multi_user["Resources"]["AdminRotation"]["Properties"]["HostedRotationLambda"]
    del admin_lambda["ExcludeCharacters"]
    del generate(multi_user, "AdminSecret")["ExcludeCharacters"]
    app_lambda = multi_user["Resources"]["AppRotation"]["Properties"]["HostedRotationLambda"]
    app_lambda["ExcludeCharacters"] = "0123456789"
    generate(multi_user, "AppSecret")["ExcludeCharacters"] = "0123456789"
    found = linter.findings(render(multi_user, "yaml"))
    assert {f for f in found if f[0] == "ER201"} == {
        ("ER201", hosted("AppRotation", "ExcludeCharacters")),
        ("ER201", properties("AppSecret", "GenerateSecretString", "ExcludeCharacters")),
    }


def test_er201_app_secret_after_an_admin_secret_whose_switches_are_unknown(linter, multi_user):
    """AdminSecret (first) cannot be judged: ExcludeNumbers is chosen at deploy time. AppSecret,
    after it, still is."""
    multi_user["Parameters"]["Flag"] = FLAG_WITHOUT_DEFAULT
    admin = generate(multi_user, "AdminSecret")
    admin.update(ExcludeCharacters='/@" 0123456789', ExcludeNumbers={"Ref": "Flag"})
    generate(multi_user, "AppSecret")["ExcludeCharacters"] = "0123456789"
    assert linter.findings(render(multi_user, "yaml")) == {
        ("ER201", properties("AppSecret", "GenerateSecretString", "ExcludeCharacters"))
    }
