"""Parse JSON written as text with holes (a secret's SecretString, a policy document).

Each hole is stood in for by a marker made of private-use characters the text does not hold, so
that the text parses as JSON; a marker that stands where a JSON value belongs (`"port": ${Port}`)
is quoted first.
After parsing, every string is a `Text` again, with its holes back in place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ._values import Hole, Text

_PRIVATE_USE = range(0xE000, 0xF900)


@dataclass(frozen=True)
class _Markers:
    """Two characters of Unicode's private use area that the text itself does not hold."""

    open: str
    close: str

    @classmethod
    def absent_from(cls, literal_text: str) -> _Markers | None:
        free = (chr(code) for code in _PRIVATE_USE if chr(code) not in literal_text)
        pair = [next(free, None), next(free, None)]
        return None if None in pair else cls(*pair)

    def marker(self, index: int) -> str:
        return f"{self.open}{index}{self.close}"

    @property
    def pattern(self) -> re.Pattern:
        return re.compile(f"{re.escape(self.open)}(\\d+){re.escape(self.close)}")


@dataclass
class JsonObject:
    """A parsed JSON object; its strings are `Text`s."""

    fields: dict[str, Any]
    open_keys: bool = False  # some key is only known at deploy time
    key_holes: list[Text] = field(default_factory=list)

    def has(self, key: str) -> bool | None:
        """Whether the object has the key; None when a deploy-time key might be it."""
        if key in self.fields:
            return True
        return None if self.open_keys else False


def parse_object(text: Text | None) -> JsonObject | None:
    """The JSON object the text holds; None when it is not readable as a JSON object."""
    parsed = parse(text)
    return parsed if isinstance(parsed, JsonObject) else None


def parse(text: Text | None) -> Any:
    """The JSON value the text holds (strings as Text, objects as JsonObject), else None."""
    if text is None:
        return None
    markers = _Markers.absent_from("".join(p for p in text if isinstance(p, str)))
    if markers is None:
        return None
    found: list[Hole] = []
    pieces = []
    for piece in text:
        if isinstance(piece, Hole):
            pieces.append(markers.marker(len(found)))
            found.append(piece)
        else:
            pieces.append(piece)
    try:
        data = json.loads(_quote_bare_markers("".join(pieces), markers), strict=False)
    except ValueError:
        return None
    return _restore(data, found, markers.pattern)


def _quote_bare_markers(raw: str, markers: _Markers) -> str:
    """Put quotes around markers that stand outside JSON strings."""
    out: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(raw):
        char = raw[index]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif char == markers.open:
            end = raw.find(markers.close, index)
            if end < 0:
                out.append(char)
            else:
                out.append('"' + raw[index : end + 1] + '"')
                index = end
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _restore(value: Any, found: list[Hole], pattern: re.Pattern) -> Any:
    if isinstance(value, str):
        return _split(value, found, pattern)
    if isinstance(value, list):
        return [_restore(item, found, pattern) for item in value]
    if isinstance(value, dict):
        result = JsonObject({})
        for key, item in value.items():
            key_text = _split(key, found, pattern)
            if any(isinstance(piece, Hole) for piece in key_text):
                result.open_keys = True
                result.key_holes.append(key_text)
            else:
                result.fields[key] = _restore(item, found, pattern)
        return result
    return value


def _split(value: str, found: list[Hole], pattern: re.Pattern) -> Text:
    pieces: list = []
    position = 0
    for marker in pattern.finditer(value):
        if marker.start() > position:
            pieces.append(value[position : marker.start()])
        pieces.append(found[int(marker.group(1))])
        position = marker.end()
    if position < len(value) or not pieces:
        pieces.append(value[position:])
    return tuple(pieces)
