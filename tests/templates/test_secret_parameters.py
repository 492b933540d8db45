"""Parameters inside a generated secret (scripts/stackctl/secret_parameters.py) in the three
templates: which they are, that something follows every one a stack may change, and that each
parameter's Description tells an `aws cloudformation deploy` user what a change does."""

from __future__ import annotations

import copy

import pytest

from scripts.stackctl.secret_parameters import (
    DESCRIPTION_SAYS,
    Effect,
    analyse,
    parameters_in_secrets,
)
from tests.helpers.cfn_templates import (
    EXISTING_CLUSTER,
    MULTI_USER,
    SINGLE_USER,
    load,
    properties,
    resources,
)

TEMPLATES = {"single-user": SINGLE_USER, "multi-user": MULTI_USER, "existing": EXISTING_CLUSTER}
# Read off the templates' SecretStringTemplates by hand: the analysis must find exactly these.
EXPECTED = {
    "single-user": {"AdminUsername": ("AdminSecret", "username", Effect.REFUSED)},
    "multi-user": {
        "AdminUsername": ("AdminSecret", "username", Effect.REFUSED),
        "AppUsername": ("AppSecret", "username", Effect.FOLLOWED),
        "DatabaseName": ("AppSecret", "dbname", Effect.FOLLOWED),
    },
    "existing": {
        "ClusterEndpoint": ("AppSecret", "host", Effect.FOLLOWED),
        "ClusterPort": ("AppSecret", "port", Effect.FOLLOWED),
        "AppUsername": ("AppSecret", "username", Effect.FOLLOWED),
        "DatabaseName": ("AppSecret", "dbname", Effect.FOLLOWED),
        "ClusterIdentifier": ("AppSecret", "dbClusterIdentifier", Effect.FOLLOWED),
        "AdminSecretArn": ("AppSecret", "masterarn", Effect.FOLLOWED),
    },
}


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_every_parameter_inside_a_generated_secret_is_found_with_its_key_and_effect(variant):
    found = parameters_in_secrets(load(TEMPLATES[variant]))
    assert {f.name: (f.secret, *f.keys, f.effect) for f in found} == EXPECTED[variant]


def test_the_multi_user_application_secret_takes_the_cluster_and_admin_secret_from_resources():
    found = {f.name: f.keys for f in analyse(load(MULTI_USER)) if f.secret == "AppSecret"}
    assert found == {
        "DatabaseCluster.Endpoint.Address": ("host",),
        "DatabaseCluster.Endpoint.Port": ("port",),
        "DatabaseCluster": ("dbClusterIdentifier",),
        "AppUsername": ("username",),
        "DatabaseName": ("dbname",),
        "AdminSecret": ("masterarn",),
    }


@pytest.mark.parametrize("path", [MULTI_USER, EXISTING_CLUSTER], ids=["multi", "existing"])
def test_app_user_mirrors_the_application_secret_s_generate_secret_string(path):
    template = load(path)
    (user,) = resources(template, "Custom::MySQLUser")
    given = properties(template, user)
    assert given["AppSecretArn"] == {"Ref": "AppSecret"}
    assert given["AppSecretGeneration"] == properties(template, "AppSecret")["GenerateSecretString"]


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_no_parameter_change_leaves_a_password_that_nothing_sets(variant):
    effects = {f.name: f.effect for f in analyse(load(TEMPLATES[variant]))}
    assert Effect.BREAKS not in effects.values(), effects


@pytest.mark.parametrize(
    ("variant", "name"),
    [(variant, name) for variant in sorted(EXPECTED) for name in sorted(EXPECTED[variant])],
)
def test_each_description_says_what_a_later_change_does(variant, name):
    template = load(TEMPLATES[variant])
    effect = EXPECTED[variant][name][2]
    description = " ".join(template["Parameters"][name]["Description"].split())
    assert DESCRIPTION_SAYS[effect.value] in description
    if effect is Effect.REFUSED:
        assert "make deploy refuses it" in description
        assert "new stack" in description
    else:
        assert "AppUser" in description


# ---------------------------------------------------------------- the analysis on small templates
def with_user(generate: dict, **given) -> dict:
    return {
        "Parameters": {"Name": {"Type": "String"}, "Port": {"Type": "Number"}},
        "Resources": {
            "Secret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"GenerateSecretString": generate},
            },
            "User": {
                "Type": "Custom::MySQLUser",
                "Properties": {
                    "AppSecretArn": {"Ref": "Secret"},
                    "AppSecretGeneration": copy.deepcopy(generate),
                    **given,
                },
            },
        },
    }


def test_a_user_whose_copy_differs_from_the_secret_s_block_follows_nothing():
    """A copy that drifted (another PasswordLength here) may not change when the secret does."""
    template = with_user({"SecretStringTemplate": {"Fn::Sub": '{"username":"${Name}"}'}})
    template["Resources"]["User"]["Properties"]["AppSecretGeneration"]["PasswordLength"] = 8
    assert [f.effect for f in analyse(template)] == [Effect.BREAKS]


def test_sub_with_its_own_variables_and_an_unquoted_number():
    generate = {
        "SecretStringTemplate": {
            "Fn::Sub": [
                '{"username":"${User}","port":${Port},"host":"db-${AWS::Region}"}',
                {"User": {"Ref": "Name"}},
            ]
        }
    }
    found = analyse(with_user(generate))
    # The variable's value is found; where it lands is not (the local name hides it).
    assert [(f.name, f.keys) for f in found] == [("Port", ("",)), ("Name", ("",))]


def test_a_plain_sub_gives_each_parameter_its_key_even_unquoted():
    generate = {"SecretStringTemplate": {"Fn::Sub": '{"port":${Port},"username":"u-${Name}"}'}}
    assert [(f.name, f.keys) for f in analyse(with_user(generate))] == [
        ("Port", ("port",)),
        ("Name", ("username",)),
    ]


def test_a_join_or_a_ref_anywhere_in_the_block_counts_too():
    generate = {
        "SecretStringTemplate": {"Fn::Join": ["", ['{"username":"', {"Ref": "Name"}, '"}']]},
        "PasswordLength": {"Ref": "Port"},
    }
    found = analyse(with_user(generate))
    assert {f.name for f in found} == {"Name", "Port"}
    assert all(f.effect is Effect.FOLLOWED for f in found)
