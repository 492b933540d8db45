"""How the rules read intrinsic functions: what CloudFormation will put in a value, as far as the
template says.

The reader turns a value into literal text with holes (one per piece only a deploy knows). Every
rule leans on it: a wrong reading is a false finding or a silent miss in every rule at once, so
its cases are pinned here one by one, each against what CloudFormation does with that value.
"""

from __future__ import annotations

import pytest

from cfn_lint_rotation._rotation_lint._values import (
    Hole,
    Reader,
    as_bool,
    condition_names,
    is_intrinsic,
    literal,
    literal_parts,
    parameter_values,
    referenced_names,
    render,
    settle,
)

TEMPLATE = {
    "Parameters": {
        "Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
        "Port": {"Type": "Number", "Default": 3306},
        "Flag": {"Type": "String", "Default": True},
        "Free": {"Type": "String"},
        "FromSsm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/db/name"},
        "Broken": "not a declaration",
    },
    "Mappings": {
        "Regions": {
            "eu-west-1": {"Engine": "mysql", "Port": 3306, "Tier": "small"},
            "us-east-1": {"Engine": "mysql", "Port": 3307, "Tier": {"nested": "map"}},
        },
        "Envs": {"dev": {"Name": "d"}, "prod": {"Name": "p"}},
    },
    "Resources": {
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
        "Attachment": {
            "Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {"SecretId": {"Ref": "Secret"}},
        },
        "Schedule": {
            "Type": "AWS::SecretsManager::RotationSchedule",
            "Properties": {"SecretId": {"Ref": "Attachment"}},
        },
        "ScheduleByArn": {
            "Type": "AWS::SecretsManager::RotationSchedule",
            "Properties": {"SecretId": {"Fn::GetAtt": ["Secret", "Id"]}},
        },
        "Loop": {
            "Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {"SecretId": {"Ref": "Loop"}},
        },
        "NoProperties": {"Type": "AWS::SecretsManager::SecretTargetAttachment"},
        "ScheduleOfAnArn": {
            "Type": "AWS::SecretsManager::RotationSchedule",
            "Properties": {"SecretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s"},
        },
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "NotABody": "text",
    },
}


@pytest.fixture
def reader() -> Reader:
    return Reader(TEMPLATE)


# -- holes and text ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hole", "placeholder"),
    [
        (Hole("Ref", "Env"), "${Env}"),
        (Hole("Ref"), "${Ref}"),  # a Ref whose name is no string
        (Hole("Fn::GetAtt", "Db", "Endpoint.Port"), "${Db.Endpoint.Port}"),
        (Hole("Fn::GetAtt"), "${Fn::GetAtt}"),
        (Hole("Fn::Select"), "${Fn::Select}"),
        (Hole("Fn::Select", "Env"), "${Fn::Select}"),  # only Ref and GetAtt name a target
    ],
)
def test_a_hole_is_written_the_way_fn_sub_would(hole, placeholder):
    assert hole.placeholder() == placeholder


def test_literal_only_for_text_a_deploy_does_not_change():
    assert literal(("a", "b")) == "ab"
    assert literal(()) == ""
    assert literal(None) is None
    assert literal(("a", Hole("Ref", "Env"))) is None
    assert literal(("{{resolve:ssm:/db/user}}",)) is None


def test_literal_parts_and_render():
    text = ("user-", Hole("Ref", "Env"), "-", Hole("Fn::GetAtt", "Db", "Port"))
    assert literal_parts(text) == "user--"
    assert render(text) == "user-${Env}-${Db.Port}"


# -- conditions ----------------------------------------------------------------------------------
def test_settle_takes_the_branch_each_condition_value_gives():
    value = {"A": {"Fn::If": ["Prod", "big", "small"]}, "B": [{"Fn::If": ["Prod", 1, 2]}]}
    assert settle(value, {"Prod": True}) == {"A": "big", "B": [1]}
    assert settle(value, {"Prod": False}) == {"A": "small", "B": [2]}


def test_settle_leaves_an_unknown_condition_or_a_malformed_if_alone():
    undecided = {"Fn::If": ["Other", "x", "y"]}
    assert settle(undecided, {"Prod": True}) == undecided
    for malformed in (
        {"Fn::If": ["Prod", "x"]},
        {"Fn::If": "Prod"},
        {"Fn::If": [["Prod"], "x", "y"]},
    ):
        assert settle(malformed, {"Prod": True}) == malformed


def test_settle_drops_what_aws_novalue_removes():
    value = {
        "Keep": "k",
        "Gone": {"Ref": "AWS::NoValue"},
        "Maybe": {"Fn::If": ["Prod", "p", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Ref": "AWS::NoValue"}, {"Fn::If": ["Prod", {"Ref": "AWS::NoValue"}, "b"]}],
        "Ref": {"Ref": "Env"},
    }
    assert settle(value, {"Prod": False}) == {
        "Keep": "k",
        "List": ["a", "b"],
        "Ref": {"Ref": "Env"},
    }
    assert settle(value, {"Prod": True}) == {
        "Keep": "k",
        "Maybe": "p",
        "List": ["a"],
        "Ref": {"Ref": "Env"},
    }
    assert settle({"Ref": "AWS::NoValue"}, {}) is None
    assert settle({"Fn::If": ["Prod", {"Ref": "AWS::NoValue"}, 1]}, {"Prod": True}) is None


def test_settle_goes_into_a_chosen_branch():
    nested = {"Fn::If": ["A", {"Fn::If": ["B", "ab", "a"]}, "none"]}
    assert settle(nested, {"A": True, "B": False}) == "a"


def test_condition_names_finds_every_if_however_deep():
    value = {
        "X": [{"Fn::If": ["One", {"Fn::If": ["Two", 1, 2]}, 3]}],
        "Y": {"Z": {"Fn::If": ["Three", "a", "b"]}},
        "Bad": {"Fn::If": [{"Ref": "X"}, 1, 2]},
        "Empty": {"Fn::If": []},
    }
    assert condition_names(value) == {"One", "Two", "Three"}
    assert condition_names("plain") == set()


# -- what a value refers to ----------------------------------------------------------------------
def test_referenced_names_through_every_form():
    value = [
        {"Ref": "A"},
        {"Fn::GetAtt": "B.Endpoint.Address"},
        {"Fn::GetAtt": ["C", "Arn"]},
        {"Fn::Sub": "${D}-${E.Arn}-${!NotAName}-${AWS::Region}"},
        {"Fn::Sub": ["${F}-${Local}", {"Local": {"Ref": "G"}}]},
        {"Nested": {"Deeper": [{"Ref": "H"}]}},
        {"Fn::Join": ["", [{"Ref": "I"}, "x"]]},
    ]
    assert referenced_names(value) == {
        "A", "B", "C", "D", "E", "AWS::Region", "F", "Local", "G", "H", "I",
    }  # fmt: skip


def test_referenced_names_ignores_what_names_nothing():
    value = [
        {"Ref": ["not", "a", "name"]},
        {"Fn::GetAtt": []},
        {"Fn::GetAtt": ""},
        {"Fn::GetAtt": [["A"], "Arn"]},
        {"Fn::Sub": []},
        {"Fn::Sub": {"Ref": "Inside"}},  # a Sub of no string still holds a Ref
        "${NotInASub}",
    ]
    assert referenced_names(value) == {"Inside"}


# -- reading values ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", ("plain",)),
        (3306, ("3306",)),
        (2.5, ("2.5",)),
        (True, ("true",)),  # CloudFormation writes booleans in lower case
        (False, ("false",)),
        ({"Ref": "Env"}, (Hole("Ref", "Env"),)),
        ({"Ref": 5}, (Hole("Ref", ""),)),
        ({"Fn::GetAtt": "Db.Endpoint.Port"}, (Hole("Fn::GetAtt", "Db", "Endpoint.Port"),)),
        ({"Fn::GetAtt": ["Db", "Endpoint.Port"]}, (Hole("Fn::GetAtt", "Db", "Endpoint.Port"),)),
        ({"Fn::GetAtt": "NoDot"}, (Hole("Fn::GetAtt"),)),
        ({"Fn::GetAtt": ["Db"]}, (Hole("Fn::GetAtt"),)),
        ({"Fn::GetAtt": ["Db", {"Ref": "Attr"}]}, (Hole("Fn::GetAtt"),)),
        ({"Fn::Select": [0, ["a"]]}, (Hole("Fn::Select"),)),
        ({"Fn::Base64": "x"}, (Hole("Fn::Base64"),)),
        ({"NotAFunction": "x"}, None),
        ({"Ref": "A", "Other": 1}, None),
        ({}, None),
        (["a"], None),
        (None, None),
    ],
)
def test_text_of_a_value(reader, value, text):
    assert reader.text(value) == text


@pytest.mark.parametrize(
    ("sub", "text"),
    [
        ("no variables", ("no variables",)),
        ("${Env}", (Hole("Ref", "Env"),)),
        ("db-${Env}-${Db.Endpoint.Port}!", ("db-", Hole("Ref", "Env"), "-",
                                              Hole("Fn::GetAtt", "Db", "Endpoint.Port"), "!")),
        ("${!Literal} and ${!Db.Port}", ("${Literal} and ${Db.Port}",)),
        (["${Local}-x", {"Local": "value"}], ("value-x",)),
        (["${Local}", {"Local": {"Ref": "Env"}}], (Hole("Ref", "Env"),)),
        (["${Local}", {"Local": {"Fn::If": ["C", "a", "b"]}}], (Hole("Fn::If"),)),
        (["${Local}", {"Local": ["a", "list"]}], (Hole("Fn::Sub"),)),
        (["${Other}", {"Local": "v"}], (Hole("Ref", "Other"),)),
        (["${Local}", "not a map"], (Hole("Fn::Sub"),)),
        (["${Local}", {"Local": "v"}, "extra"], (Hole("Fn::Sub"),)),
        ({"Ref": "Env"}, (Hole("Fn::Sub"),)),
    ],
)  # fmt: skip
def test_text_of_fn_sub(reader, sub, text):
    assert reader.text({"Fn::Sub": sub}) == text


@pytest.mark.parametrize(
    ("join", "text"),
    [
        (["-", ["a", "b", "c"]], ("a-b-c",)),
        (["", ["a", {"Ref": "Env"}]], ("a", Hole("Ref", "Env"))),
        ([":", [{"Ref": "Env"}, "x"]], (Hole("Ref", "Env"), ":x")),
        ([",", ["only"]], ("only",)),
        ([",", []], ()),
        ([",", [["nested", "list"], "x"]], (Hole("Fn::Join"), ",x")),
        ([",", {"Ref": "List"}], (Hole("Fn::Join"),)),
        ([{"Ref": "Sep"}, ["a"]], (Hole("Fn::Join"),)),
        (["-"], (Hole("Fn::Join"),)),
        ("a,b", (Hole("Fn::Join"),)),
    ],
)
def test_text_of_fn_join(reader, join, text):
    assert reader.text({"Fn::Join": join}) == text


@pytest.mark.parametrize(
    ("arguments", "text"),
    [
        (["Regions", "eu-west-1", "Engine"], ("mysql",)),
        (["Regions", "eu-west-1", "Port"], ("3306",)),
        # Every region maps Engine to mysql: whichever the deploy picks, it is mysql.
        (["Regions", {"Ref": "AWS::Region"}, "Engine"], ("mysql",)),
        (["Regions", {"Ref": "AWS::Region"}, "Port"],
         (Hole("Fn::FindInMap", choices=("3306", "3307")),)),
        (["Envs", {"Ref": "Env"}, "Name"], (Hole("Fn::FindInMap", choices=("d", "p")),)),
        # A key a deploy cannot find fails that deploy: it adds no value...
        (["Regions", "eu-west-1", "Missing"], (Hole("Fn::FindInMap"),)),
        # ...unless AWS::LanguageExtensions gives a default.
        (["Regions", "eu-west-1", "Missing", {"DefaultValue": "fallback"}], ("fallback",)),
        (["Envs", {"Ref": "Env"}, "Nope", {"DefaultValue": "x"}], ("x",)),
        (["Regions", "eu-west-1", "Engine", {"DefaultValue": "other"}], ("mysql",)),
        (["Regions", {"Ref": "AWS::Region"}, "Tier"], (Hole("Fn::FindInMap"),)),  # a map
        (["Regions", "eu-west-1"], (Hole("Fn::FindInMap"),)),
        (["Regions", "eu-west-1", "Engine", "x", "y"], (Hole("Fn::FindInMap"),)),
        ("Regions", (Hole("Fn::FindInMap"),)),
        (["Nothing", "a", "b"], (Hole("Fn::FindInMap"),)),
        # A key no declaration limits can be any key of its level.
        (["Regions", "eu-west-1", {"Ref": "Free"}],
         (Hole("Fn::FindInMap", choices=("mysql", "3306", "small")),)),
    ],
)  # fmt: skip
def test_text_of_fn_find_in_map(reader, arguments, text):
    assert reader.text({"Fn::FindInMap": arguments}) == text


def test_find_in_map_keeps_at_most_64_choices():
    keys = {f"k{i}": {"V": f"value-{i}"} for i in range(100)}
    reader = Reader({"Mappings": {"Big": keys}})
    (hole,) = reader.text({"Fn::FindInMap": ["Big", {"Ref": "AWS::Region"}, "V"]})
    assert hole.choices == tuple(f"value-{i}" for i in range(64))


def test_find_in_map_through_a_level_that_is_no_map():
    reader = Reader({"Mappings": {"Flat": {"key": "value"}}})
    assert reader.text({"Fn::FindInMap": ["Flat", "key", "deeper"]}) == (Hole("Fn::FindInMap"),)


@pytest.mark.parametrize(
    ("value", "json_text"),
    [
        ({"a": 1, "b": True, "c": None, "d": 2.5}, ('{"a":1,"b":true,"c":null,"d":2.5}',)),
        ([1, "x", [], {}], ('[1,"x",[],{}]',)),
        ({"user": {"Ref": "Env"}}, ('{"user":"', Hole("Ref", "Env"), '"}')),
        ({"q": 'say "hi"\n'}, ('{"q":"say \\"hi\\"\\n"}',)),
        ({5: "numeric key"}, ('{"5":"numeric key"}',)),
        ({"list": [{"Fn::Select": [0, []]}]}, ('{"list":["', Hole("Fn::Select"), '"]}')),
        ({"m": {"Ref": "A", "B": 1}}, ('{"m":{"Ref":"A","B":1}}',)),  # two keys: no function
        ({"m": {"NotFn": 1}}, ('{"m":{"NotFn":1}}',)),
    ],
)
def test_fn_to_json_string(reader, value, json_text):
    assert reader.text({"Fn::ToJsonString": value}) == json_text


# -- parameters, mappings and resources -----------------------------------------------------------
def test_ssm_typed_and_malformed_parameters_are_not_read(reader):
    """An SSM parameter's Default is an SSM name, not its value."""
    assert set(reader.parameters) == {"Env", "Port", "Flag", "Free"}
    assert reader.parameter(Hole("Ref", "FromSsm")) is None
    assert reader.parameter(Hole("Ref", "Env")) == TEMPLATE["Parameters"]["Env"]
    assert reader.parameter(Hole("Fn::GetAtt", "Env", "X")) is None


@pytest.mark.parametrize(
    ("declaration", "values"),
    [
        ({"AllowedValues": ["a", "b"], "Default": "a"}, ["a", "b"]),
        ({"AllowedValues": [1, True], "Default": 1}, ["1", "true"]),
        ({"AllowedValues": [], "Default": "d"}, ["d"]),
        ({"AllowedValues": [["a"]], "Default": "d"}, ["d"]),
        ({"AllowedValues": "a,b", "Default": "d"}, ["d"]),
        ({"Default": 3306}, ["3306"]),
        ({"Default": False}, ["false"]),
        ({"Default": ["a"]}, None),
        ({}, None),
        (None, None),
    ],
)
def test_parameter_values(declaration, values):
    assert parameter_values(declaration) == values


def test_candidates_combine_every_piece(reader):
    text = reader.text({"Fn::Sub": "${Env}-${Port}-${Flag}"})
    assert reader.candidates(text) == ["dev-3306-true", "prod-3306-true"]
    assert reader.scalar({"Fn::Sub": "db-${Env}"}) == ["db-dev", "db-prod"]
    assert reader.scalar("fixed") == ["fixed"]
    assert reader.scalar({"Fn::FindInMap": ["Envs", {"Ref": "Env"}, "Name"]}) == ["d", "p"]


def test_candidates_unknown_when_any_piece_is(reader):
    assert reader.scalar({"Ref": "Free"}) is None  # neither AllowedValues nor Default
    assert reader.scalar({"Ref": "FromSsm"}) is None
    assert reader.scalar({"Fn::Sub": "${Env}-${Db.Port}"}) is None
    assert reader.scalar({"Ref": "AWS::Region"}) is None
    assert reader.scalar(["a list"]) is None
    assert reader.scalar("{{resolve:secretsmanager:s:SecretString:u}}") is None
    assert reader.candidates(None) is None


def test_candidates_stop_at_64_combinations():
    parameters = {
        name: {"Type": "String", "AllowedValues": [str(i) for i in range(10)]} for name in "ABC"
    }
    reader = Reader({"Parameters": parameters})
    values = reader.scalar({"Fn::Sub": "${A}${B}${C}"})
    assert values == [f"{i:03d}" for i in range(64)]


def test_known_and_origin(reader):
    assert reader.known(Hole("Ref", "Env"))
    assert reader.known(Hole("Fn::FindInMap", choices=("a",)))
    assert not reader.known(Hole("Ref", "FromSsm"))
    assert not reader.known(Hole("Fn::FindInMap"))
    assert reader.origin({"Fn::Sub": "${Env}-${Port}-${Db.Arn}"}) == (
        " (from parameter Env; with the default of parameter Port)"
    )
    assert reader.origin({"Ref": "AWS::Region"}) == ""
    assert reader.origin("plain") == ""
    assert reader.origin(["no", "text"]) == ""


@pytest.mark.parametrize(
    ("value", "types", "found"),
    [
        ({"Ref": "Secret"}, ("AWS::SecretsManager::Secret",), "Secret"),
        ({"Fn::GetAtt": ["Secret", "Id"]}, ("AWS::SecretsManager::Secret",), "Secret"),
        ("${Secret}", (), None),  # a plain string names no resource
        ({"Fn::Sub": "${Secret}"}, ("AWS::SecretsManager::Secret",), "Secret"),
        ({"Fn::Sub": "${Secret}-x"}, ("AWS::SecretsManager::Secret",), None),
        ({"Ref": "Key"}, (), "Key"),  # no types: any resource
        ({"Ref": "Key"}, ("AWS::SecretsManager::Secret",), None),
        ({"Ref": "Env"}, (), None),  # a parameter
        ({"Fn::Select": [0, [{"Ref": "Secret"}]]}, (), None),
        # A target attachment's Ref and a schedule's Ref are their secret's ARN.
        ({"Ref": "Attachment"}, ("AWS::SecretsManager::Secret",), "Secret"),
        ({"Ref": "Schedule"}, ("AWS::SecretsManager::Secret",), "Secret"),
        ({"Ref": "ScheduleByArn"}, ("AWS::SecretsManager::Secret",), "Secret"),
        ({"Ref": "Attachment"}, ("AWS::SecretsManager::SecretTargetAttachment",), "Attachment"),
        ({"Ref": "Loop"}, ("AWS::SecretsManager::Secret",), None),
        ({"Ref": "NoProperties"}, ("AWS::SecretsManager::Secret",), None),
        ({"Ref": "ScheduleOfAnArn"}, ("AWS::SecretsManager::Secret",), None),  # another stack's
        ({"Ref": "NotABody"}, (), None),
        (
            {"Ref": "Schedule"},
            ("AWS::SecretsManager::Secret", "AWS::SecretsManager::RotationSchedule"),
            "Schedule",
        ),
    ],
)
def test_resource_a_value_names(reader, value, types, found):
    assert reader.resource(value, *types) == found


def test_aliases_are_followed_at_most_three_hops():
    """schedule -> attachment -> secret is two hops; one more alias in between is three."""
    resources = {
        "Secret": {"Type": "AWS::SecretsManager::Secret"},
        "A1": {
            "Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {"SecretId": {"Ref": "Secret"}},
        },
    }
    for index in range(2, 5):
        resources[f"A{index}"] = {
            "Type": "AWS::SecretsManager::RotationSchedule",
            "Properties": {"SecretId": {"Ref": f"A{index - 1}"}},
        }
    reader = Reader({"Resources": resources})
    assert reader.resource({"Ref": "A2"}, "AWS::SecretsManager::Secret") == "Secret"
    assert reader.resource({"Ref": "A3"}, "AWS::SecretsManager::Secret") is None


def test_a_template_without_sections_reads_as_empty():
    for template in ({}, {"Parameters": [], "Resources": "x", "Mappings": 3}):
        reader = Reader(template)
        assert (reader.parameters, reader.resources, reader.mappings) == ({}, {}, {})
        assert reader.text({"Fn::FindInMap": ["M", "a", "b"]}) == (Hole("Fn::FindInMap"),)


@pytest.mark.parametrize(
    ("values", "booleans"),
    [
        (["true"], {True}),
        (["True", "FALSE"], {True, False}),
        (["false", "false"], {False}),
        ([], set()),
        (["true", "yes"], None),
        (["1"], None),
        (None, None),
    ],
)
def test_as_bool(values, booleans):
    assert as_bool(values) == booleans


@pytest.mark.parametrize(
    ("value", "intrinsic"),
    [
        ({"Ref": "A"}, True),
        ({"Condition": "C"}, True),
        ({"Fn::Anything": 1}, True),
        ({"Refs": "A"}, False),
        ({"Ref": "A", "Fn::If": 1}, False),
        ({}, False),
        ({5: "numeric key"}, False),
    ],
)
def test_is_intrinsic(value, intrinsic):
    assert is_intrinsic(value) is intrinsic
