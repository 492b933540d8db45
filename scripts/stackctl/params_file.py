"""PARAMS_FILE: parameters in the JSON `aws cloudformation create-stack --parameters file://...`
takes, so a file kept for the AWS CLI, a pipeline or a console export works here unchanged.

    [{"ParameterKey": "AppUsername", "ParameterValue": "webuser"},
     {"ParameterKey": "AdminRotationSchedule", "UsePreviousValue": true}]

Each value is then checked like PARAMS; PARAMS overrides the file for a name both give.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMAT = '[{"ParameterKey": "AppUsername", "ParameterValue": "webuser"}, ...]'
KEYS = ("ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue")


def read(path_text: str) -> tuple[list[tuple[str, str]], set[str], list[str]]:
    """(name/value pairs, names kept with UsePreviousValue, problems) of the file."""
    if not path_text:
        return [], set(), []
    path = Path(path_text.removeprefix("file://"))
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return [], set(), [f"PARAMS_FILE={path_text} does not exist; give the path of the file."]
    except (OSError, UnicodeDecodeError) as error:
        return [], set(), [f"PARAMS_FILE={path_text} cannot be read ({error})."]
    except json.JSONDecodeError as error:
        return (
            [],
            set(),
            [
                f"PARAMS_FILE={path_text} is not JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg}). It takes what create-stack --parameters file:// takes: {FORMAT}"
            ],
        )
    if not isinstance(document, list):
        return (
            [],
            set(),
            [
                f"PARAMS_FILE={path_text} holds a JSON {type(document).__name__}, not a list of "
                f"parameters: {FORMAT}"
            ],
        )
    pairs: list[tuple[str, str]] = []
    kept: set[str] = set()
    problems: list[str] = []
    for index, entry in enumerate(document, 1):
        problem = entry_problem(entry)
        if problem:
            problems.append(f"PARAMS_FILE: entry {index} {problem}. Each entry: {FORMAT}")
        elif entry.get("UsePreviousValue") is True:
            kept.add(entry["ParameterKey"])
        else:
            pairs.append((entry["ParameterKey"], entry["ParameterValue"]))
    return pairs, kept, problems


def entry_problem(entry: Any) -> str:
    """What is wrong with one entry ('' when nothing), as the end of a sentence."""
    if not isinstance(entry, dict):
        return f"is {json_kind(entry)} ({json.dumps(entry)}), not an object"
    key, value = entry.get("ParameterKey"), entry.get("ParameterValue")
    keep = entry.get("UsePreviousValue", False)
    unknown = sorted(set(entry) - set(KEYS))
    checks = (
        (unknown, f"has {', '.join(unknown)}, which create-stack does not take"),
        (not isinstance(key, str) or not key, "has no ParameterKey"),
        (not isinstance(keep, bool), f"({key}) has UsePreviousValue {keep!r}; write true or false"),
        (keep is True and "ParameterValue" in entry,
         f"({key}) has both UsePreviousValue and ParameterValue; keep one"),
        (keep is not True and value is None, f"({key}) has no ParameterValue"),
        (keep is not True and value is not None and not isinstance(value, str),
         f"({key}) has ParameterValue {json.dumps(value)}, {json_kind(value)}, not a string; "
         f"write {json.dumps(as_text(value))}"),
    )  # fmt: skip
    return next((text for failed, text in checks if failed), "")


def json_kind(value: Any) -> str:
    """What a JSON value is, in the words of the JSON it came from."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), "null")


def as_text(value: Any) -> str:
    """The string CloudFormation takes for it: a list's items joined by commas."""
    if isinstance(value, list):
        return ",".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    return json.dumps(value)
