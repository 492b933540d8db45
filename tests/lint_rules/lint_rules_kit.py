"""Run the lint rules through cfn-lint's own runner, as `cfn-lint -a cfn_lint_rotation` does.

Templates are decoded with cfn-lint's decoder (short-form tags included), transformed and run by
a cfn-lint Runner built from CLI arguments, so the rules load and run as they do for a user. The
runner then keeps only the project's rules and cfn-lint's E0 rules (parse errors, and E0002 when
a rule crashes): the built-in schema checks cost ninety percent of the time and say nothing about
the project's rules. Long-form YAML and JSON variants of a template are rendered from the same
data.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from cfnlint.config import ConfigMixIn
from cfnlint.decode import decode_str
from cfnlint.rules import Rules
from cfnlint.runner import Runner

from cfn_lint_rotation._rotation_lint._release import RULE_ID

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LINT_RULES = REPO / "lint_rules"
PACKAGE = "cfn_lint_rotation"
TEMPLATES = HERE / "templates"
FORMS = ("yaml", "json")


def is_ours(rule_id: str) -> bool:
    """One of the pack's rules (ER101, WR501, ...)."""
    return RULE_ID.fullmatch(rule_id) is not None


def is_reported(rule_id: str) -> bool:
    """The pack's rules and cfn-lint's own errors (E0xxx)."""
    return is_ours(rule_id) or rule_id.startswith("E0")


class Linter:
    """cfn-lint with the pack appended as a module, as the CLI builds it."""

    def __init__(self, *arguments: str) -> None:
        # An explicit, empty config file keeps the repository's .cfnlintrc out of the tests.
        config = ConfigMixIn(
            ["--append-rules", PACKAGE, "--config-file", str(HERE / "cfnlintrc"), *arguments]
        )
        self.runner = Runner(config)
        # Every rule the runner loaded, cfn-lint's own with the pack's, for tests about ids.
        self.loaded = Rules(self.runner.rules)
        kept = {rule_id: rule for rule_id, rule in self.loaded.items() if is_reported(rule_id)}
        self.runner.rules = Rules(kept)

    def matches(self, source: str) -> list:
        template, errors = decode_str(source)
        assert not errors, f"the test template does not parse: {errors}"
        return [m for m in self.runner.validate_template(template) if is_reported(m.rule.id)]

    def findings(self, source: str) -> set[tuple[str, str]]:
        """(rule id, path) of every finding."""
        return {(m.rule.id, m.path_string) for m in self.matches(source)}


def load(name: str) -> dict:
    """A template under tests/lint_rules/templates as plain data (long-form intrinsics)."""
    template, errors = decode_str((TEMPLATES / name).read_text())
    assert not errors
    return json.loads(json.dumps(template))


LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"


def without_language_extensions(template: dict) -> dict:
    """The template with AWS::LanguageExtensions taken out of its Transform list.

    cfn-lint's language-extension transform copies and rewrites the whole template before any
    rule runs: two fifths of a lint's time. Rule tests start from the good templates without it;
    the good templates are linted as written, and test_lint_rules_messages.py asserts that every
    rule's finding is the same with the transform and without it.
    """
    transforms = template.get("Transform")
    if isinstance(transforms, list) and LANGUAGE_EXTENSIONS in transforms:
        template = {**template, "Transform": [t for t in transforms if t != LANGUAGE_EXTENSIONS]}
    return template


SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render(template: dict, form: str) -> str:
    if form == "json":
        return json.dumps(template, indent=2)
    # libyaml's emitter: the same text as yaml.safe_dump, five times faster (most tests render);
    # PyYAML built without libyaml has only the pure-Python one.
    return yaml.dump(template, Dumper=SAFE_DUMPER, sort_keys=False, width=1000)


def hosted(schedule: str, *keys: str) -> str:
    """The path of a schedule's HostedRotationLambda (or a key under it) in a finding."""
    return "/".join(["Resources", schedule, "Properties", "HostedRotationLambda", *keys])


def properties(resource: str, *keys: str | int) -> str:
    return "/".join(["Resources", resource, "Properties", *map(str, keys)])


def put_first(template: dict, name: str, body: dict | None = None) -> None:
    """Put a resource (new, or moved when no body is given) first among the Resources: the rules
    must judge what follows one they skip."""
    resources = template["Resources"]
    template["Resources"] = {name: body or resources.pop(name), **resources}


def custom_function_schedule(secret_id) -> dict:
    """A RotationSchedule with a Lambda function of its own: no hosted rotation to read."""
    return {
        "Type": "AWS::SecretsManager::RotationSchedule",
        "Properties": {
            "SecretId": secret_id,
            "RotationLambdaARN": "arn:aws:lambda:eu-west-1:123456789012:function:rotate",
            "RotationRules": {"ScheduleExpression": "rate(30 days)"},
        },
    }
