"""Property-based: whatever a template holds where the rules look, no rule crashes.

A crashing rule makes cfn-lint print E0002 ("Unknown exception while processing rule") instead of
the rule's findings, so a user loses every check of that rule for the whole template. The good
alternating-users template gets values of the wrong kind, intrinsic functions with odd
arguments, and strings the rules parse (JSON, schedules, patterns) at the places they read.

Every example is linted and counted: an E0002, or an exception out of cfn-lint whose traceback
passes through lint_rules/, fails the test. cfn-lint itself refuses some templates before any
rule runs (its template graph raises); those are counted apart, and the test fails if they, not
the rules, take most of the examples. The counts are printed (`pytest -s`) and recorded with
hypothesis's `event()` (`--hypothesis-show-statistics`).
"""

from __future__ import annotations

import copy
import json
import traceback
from collections import Counter

import pytest
from cfnlint.decode import decode_str
from hypothesis import event, given, settings
from hypothesis import strategies as st
from lint_rules_kit import LINT_RULES, is_ours, load

BASES = {
    name: load(name)
    for name in (
        "good_multi_user_short.yaml",
        "good_rotation_app.yaml",
        "good_custom_function.yaml",
        "good_sam_docdb.yaml",
    )
}
EXAMPLES = 40  # per base template
READ_TYPES = (
    "AWS::SecretsManager::",
    "AWS::EC2::Subnet",
    "AWS::EC2::Route",
    "AWS::EC2::VPCEndpoint",
    "AWS::RDS::",
    "AWS::KMS::Key",
    "AWS::Serverless::Application",
    "AWS::Serverless::Function",
    "AWS::Lambda::",
    "AWS::IAM::",
    "AWS::EC2::SecurityGroup",
    "AWS::DocDB::",
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _read_by_the_rules(base: dict, path: tuple) -> bool:
    """Parameters, Transform and the properties of the resource types the rules read.

    Resource types, conditions and DependsOn are left alone: cfn-lint's own template graph
    reads them first, and its failures there are not the rules'.
    """
    if path[:1] in (("Parameters",), ("Transform",)):
        return True
    if len(path) < 3 or path[0] != "Resources" or path[2] != "Properties":
        return False
    return base["Resources"][path[1]]["Type"].startswith(READ_TYPES)


PATHS = {
    name: sorted((p for p in _paths(base) if p and _read_by_the_rules(base, p)), key=str)
    for name, base in BASES.items()
}

ODD_STRINGS = st.sampled_from(
    [
        "",
        "*",
        "{{resolve:ssm:/x}}",
        "\ue000\ue0010\ue001",
        '{"engine": ${x}',
        "[1, 2]",
        "null",
        "cron(0 */0 * * ? *)",
        "cron(0 \u00b2 * * ? *)",
        "cron(0 1 L * ? *)",
        "cron(0 1 ? * 6#5 *)",
        "rate(0 days)",
        "99999999999999999999h",
        "AWS::SSM::Parameter::Value<String>",
        "^[a-z]{1,99999999999}$",
        "a{2,1}",
        "alias/aws/secretsmanager",
        "AWS::SecretsManager-2099-01-01",
    ]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | ODD_STRINGS
FUNCTIONS = st.sampled_from(
    ["Ref", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::GetAtt", "Fn::FindInMap", "Fn::ToJsonString"]
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        | st.dictionaries(FUNCTIONS, inner, min_size=1, max_size=1)
    ),
    max_leaves=8,
)


def _replace(template: dict, path: tuple, value) -> bool:
    """Put the value at the path; False when an earlier change removed the place."""
    holder = template
    for key in path[:-1]:
        if not isinstance(holder, (dict, list)) or (
            isinstance(holder, list) and not (isinstance(key, int) and key < len(holder))
        ):
            return False
        if isinstance(holder, dict) and key not in holder:
            return False
        holder = holder[key]
    if isinstance(holder, dict) or (isinstance(holder, list) and path[-1] < len(holder)):
        holder[path[-1]] = value
        return True
    return False


def _in_the_rules(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return any(frame.filename.startswith(str(LINT_RULES)) for frame in frames)


def _lint(linter, base: dict, changes, seen: Counter) -> None:
    template = copy.deepcopy(base)
    placed = sum(_replace(template, path, value) for path, value in changes)
    decoded, errors = decode_str(json.dumps(template))
    if errors:
        seen["not decodable"] += 1
        event("not decodable")
        return
    try:
        matches = list(linter.runner.validate_template(decoded))
    except Exception as error:
        if _in_the_rules(error):
            raise  # a rule's exception that escaped cfn-lint: the test fails with its traceback
        seen["refused by cfn-lint before the rules ran"] += 1
        event(f"refused by cfn-lint: {type(error).__name__}")
        return
    crashes = [m.message for m in matches if m.rule.id == "E0002"]
    assert crashes == [], crashes
    seen["linted"] += 1
    seen["values placed"] += placed
    findings = sorted({m.rule.id for m in matches if is_ours(m.rule.id)})
    seen.update(findings)
    event(f"findings: {', '.join(findings) or 'none'}")


@pytest.mark.parametrize("base", BASES)
def test_no_rule_crashes_on_odd_values(linter, base):
    seen: Counter = Counter()
    changes = st.lists(st.tuples(st.sampled_from(PATHS[base]), VALUES), min_size=1, max_size=3)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(changes=changes)
    def lint_changed_template(changes):
        _lint(linter, BASES[base], changes, seen)

    lint_changed_template()
    print(f"\nfuzz: {dict(sorted(seen.items()))}")
    assert seen["linted"] >= EXAMPLES // 2, seen  # most examples reach the rules
    # The changes reach the rules: they report findings on the changed templates.
    assert sum(count for key, count in seen.items() if is_ours(key)) > 0, seen


def test_a_crashing_rule_fails_the_fuzz_check(linter, monkeypatch):
    """The check above sees a rule crash: a rule that raises makes `_lint` fail."""
    rule = linter.runner.rules["ER301"]

    def crash(cfn):
        raise ValueError("boom")

    monkeypatch.setattr(rule, "match", crash)
    with pytest.raises((AssertionError, ValueError), match="boom"):
        _lint(linter, BASES["good_multi_user_short.yaml"], [], Counter())
