"""JSON written as text with deploy-time holes: a SecretString or a policy built with Fn::Sub.

The rules read the secret's keys (engine, username, masterarn...) out of such text; a hole can
stand inside a string, as a whole value, or as a key.
"""

from __future__ import annotations

import pytest

from cfn_lint_rotation._rotation_lint._json_text import JsonObject, parse, parse_object
from cfn_lint_rotation._rotation_lint._values import Hole

USER = Hole("Ref", "User")
PORT = Hole("Ref", "Port")
KEY = Hole("Ref", "Key")


def test_holes_inside_strings_come_back_in_place():
    found = parse_object(('{"username": "app-', USER, '", "host": "h"}'))
    assert found.fields == {"username": ("app-", USER), "host": ("h",)}
    assert not found.open_keys


def test_a_hole_as_a_whole_value_is_read_as_that_value():
    """`"port": ${Port}` is valid once deployed: the hole is the value, not a parse error."""
    found = parse_object(('{"port": ', PORT, ', "list": [', USER, ", 1]}"))
    assert found.fields == {"port": (PORT,), "list": [(USER,), 1]}


def test_a_string_of_holes_and_text_keeps_their_order():
    found = parse_object(('{"dsn": "', USER, "@", PORT, '"}'))
    assert found.fields["dsn"] == (USER, "@", PORT)
    found = parse_object(('{"dsn": "', USER, PORT, '"}'))
    assert found.fields["dsn"] == (USER, PORT)


def test_a_key_known_only_at_deploy_time_opens_the_object():
    found = parse_object(('{"', KEY, '": "x", "engine": "mysql"}'))
    assert found.open_keys
    assert found.key_holes == [(KEY,)]
    assert found.fields == {"engine": ("mysql",)}
    assert found.has("engine") is True
    assert found.has("username") is None  # the deploy-time key might be it


def test_has_on_a_closed_object():
    found = parse_object(('{"engine": "mysql"}',))
    assert found.has("engine") is True
    assert found.has("username") is False


def test_escaped_quotes_do_not_end_the_string():
    found = parse_object(('{"a": "say \\"', USER, '\\" now", "b": ', PORT, "}"))
    assert found.fields == {"a": ('say "', USER, '" now'), "b": (PORT,)}


def test_strings_come_back_as_text_everywhere():
    found = parse(('{"a": {"b": ["c", true, null, 2.5]}, "": ""}',))
    assert isinstance(found, JsonObject)
    inner = found.fields["a"]
    assert isinstance(inner, JsonObject)
    assert inner.fields == {"b": [("c",), True, None, 2.5]}
    assert found.fields[""] == ("",)


def test_values_that_are_not_objects():
    assert parse(("[1, 2]",)) == [1, 2]
    assert parse(('"text"',)) == ("text",)
    assert parse((USER,)) == (USER,)
    assert parse_object(("[1, 2]",)) is None
    assert parse_object((USER,)) is None


@pytest.mark.parametrize(
    "text",
    [
        None,
        ("{not json",),
        ('{"a": 1',),
        ('{"a": ', USER),  # cut after the hole
        ("",),
    ],
)
def test_text_that_is_no_json(text):
    assert parse(text) is None
    assert parse_object(text) is None


def test_private_use_characters_in_the_text_are_not_taken_for_holes():
    """The markers are chosen among characters the text does not hold."""
    text = ('{"a": "\ue000\ue0011\ue001", "b": "', USER, '"}')
    found = parse_object(text)
    assert found.fields == {"a": ("\ue000\ue0011\ue001",), "b": (USER,)}


def test_text_holding_every_private_use_character_is_not_read():
    every = "".join(chr(code) for code in range(0xE000, 0xF900))
    assert parse(('{"a": "' + every + '"}',)) is None
    # One free character is not enough: a marker needs two.
    almost = every[:-1]
    assert parse(('{"a": "' + almost + '"}',)) is None
    assert parse(('{"a": "' + every[1:-1] + '"}',)) == JsonObject({"a": (every[1:-1],)})


def test_control_characters_inside_strings_are_accepted():
    """A YAML block scalar can put a real newline inside a JSON string; Secrets Manager keeps it."""
    assert parse_object(('{"a": "line\nnext"}',)).fields == {"a": ("line\nnext",)}
