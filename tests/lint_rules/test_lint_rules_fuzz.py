"""Property-based: whatever a template holds where the rules look, no rule crashes.

A crashing rule makes cfn-lint print E0002 ("Unknown exception while processing rule") instead of
the rule's findings, so a user loses every check of that rule for the whole template. The good
alternating-users template gets values of the wrong kind, intrinsic functions with odd
arguments, and strings the rules parse (JSON, schedules, patterns) at the places they read.
"""

from __future__ import annotations

import copy
import json

from cfnlint.decode import decode_str
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lint_rules_kit import load

BASE = load("good_multi_user_short.yaml")
READ_TYPES = (
    "AWS::SecretsManager::",
    "AWS::EC2::Subnet",
    "AWS::EC2::Route",
    "AWS::EC2::VPCEndpoint",
    "AWS::RDS::DBCluster",
    "AWS::KMS::Key",
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _read_by_the_rules(path: tuple) -> bool:
    """Parameters, Transform and the properties of the resource types the rules read.

    Resource types, conditions and DependsOn are left alone: cfn-lint's own template graph
    reads them first, and its failures there are not the rules'.
    """
    if path[:1] in (("Parameters",), ("Transform",)):
        return True
    if len(path) < 3 or path[0] != "Resources" or path[2] != "Properties":
        return False
    return BASE["Resources"][path[1]]["Type"].startswith(READ_TYPES)


PATHS = sorted((p for p in _paths(BASE) if p and _read_by_the_rules(p)), key=str)

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


def _replace(template: dict, path: tuple, value) -> None:
    holder = template
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value


@settings(max_examples=40, deadline=None, derandomize=True)
@given(changes=st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_no_rule_crashes_on_odd_values(linter, changes):
    template = copy.deepcopy(BASE)
    for path, value in changes:
        try:
            _replace(template, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the place
    decoded, errors = decode_str(json.dumps(template))
    assume(not errors)
    try:
        matches = list(linter.runner.validate_template(decoded))
    except Exception:
        # cfn-lint turns an exception in a rule into E0002; one that escapes comes from
        # cfn-lint's own template graph, built before any rule runs.
        assume(False)
    crashes = [m.message for m in matches if m.rule.id == "E0002"]
    assert crashes == []
