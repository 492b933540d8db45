"""A template as CloudFormation would deploy it for given parameter values: its Conditions
evaluated, the resources and outputs whose condition is false left out, and each Fn::If replaced
by the branch it takes (AWS::NoValue removing what holds it).

The conditions are evaluated with tests.helpers.cfn_templates (which raises on anything it does
not know); the Fn::If settling is the lint rules' own `settle`, so tests and rules read a
conditional template the same way.
"""

from __future__ import annotations

from typing import Any

from cfn_lint_rotation._rotation_lint._values import settle

from .cfn_templates import Context


def scenario(template: dict, **parameters: Any) -> dict[str, bool]:
    """Each condition's value for these parameters (defaults for the others)."""
    context = Context(template, **parameters)
    return {name: context.condition(name) for name in template.get("Conditions", {})}


def rendered(template: dict, **parameters: Any) -> dict:
    """Resources and Outputs that exist for these parameters, with every Fn::If settled."""
    decided = scenario(template, **parameters)

    def exists(body: dict) -> bool:
        return "Condition" not in body or decided[body["Condition"]]

    return {
        "Resources": {
            name: settle(body, decided)
            for name, body in template["Resources"].items()
            if exists(body)
        },
        "Outputs": {
            name: settle(body, decided)
            for name, body in template.get("Outputs", {}).items()
            if exists(body)
        },
    }
