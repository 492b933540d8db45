"""Fixture templates that nest a project template (taskcat cannot chain tests, so a fixture builds
what the template needs and deploys it as a nested stack): which templates a taskcat test really
deploys, and under which stack name."""

from __future__ import annotations

import re
from pathlib import Path

from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
# CloudFormation names a nested stack <parent>-<logical id>-<up to 13 random characters>.
NESTED_SUFFIX_MAX = 13
# The key under taskcat's project prefix: ".../templates/x.yaml" or "${Prefix}templates/x.yaml".
_UPLOADED_TEMPLATE = re.compile(r"[/}](templates/[^/]+\.yaml)$")


def nested_stacks(path: str) -> dict[str, str]:
    """Logical id -> project template path, for each AWS::CloudFormation::Stack whose TemplateURL
    names a template of this repository as taskcat uploads it."""
    template, matches = decode(str(REPO / path))
    assert not matches, matches
    found = {}
    for name, body in template.get("Resources", {}).items():
        if body.get("Type") != "AWS::CloudFormation::Stack":
            continue
        url = body["Properties"]["TemplateURL"]
        text = url["Fn::Sub"] if isinstance(url, dict) else url
        match = _UPLOADED_TEMPLATE.search(text)
        assert match, f"{path}: {name} nests no template of this repository ({text})"
        found[name] = match.group(1)
    return found


def deployed_templates(path: str, stack_name: str) -> dict[str, str]:
    """Project template path -> the longest name its stack can get when a test deploys `path`
    as `stack_name`: the template itself, or what a fixture nests."""
    nested = nested_stacks(path)
    if not nested:
        return {path: stack_name}
    return {
        template: f"{stack_name}-{name}-{'X' * NESTED_SUFFIX_MAX}"
        for name, template in nested.items()
    }
