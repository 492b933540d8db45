"""What the commands need to know about a template, read locally before any AWS call."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError

REPO = Path(__file__).resolve().parents[2]
CODE_BUCKET_PARAM = "RoleLookupCodeS3Bucket"
# Each <X>CodeS3Key parameter a template may take, and the folder under custom_resources/ whose
# dist/<folder>.zip (make build) it names. The bucket parameter is shared by all of them.
CODE_KEY_PARAMS = {
    "RoleLookupCodeS3Key": "lambda_role_lookup",
    "MySQLUserCodeS3Key": "mysql_user",
}
CODE_KEY_SUFFIX = "CodeS3Key"
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
STACK_NAME_MAX = 128
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
LAMBDA_NAME_MAX = 64
# CreateChangeSet takes at most this many bytes inline; larger templates go through S3.
TEMPLATE_BODY_MAX = 51_200
DEFAULT_TEMPLATE = "templates/mysql-multi-user.yaml"


@dataclass(frozen=True)
class TemplateFacts:
    path: Path
    body: str
    parameters: dict[str, dict[str, Any]]
    resources: dict[str, dict[str, Any]]
    rotation_name_suffixes: tuple[str, ...]
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def needs_lambda_code(self) -> bool:
        return CODE_BUCKET_PARAM in self.parameters

    @property
    def code_keys(self) -> dict[str, str]:
        """The template's code-key parameters and the function folder each names."""
        unknown = sorted(
            name
            for name in self.parameters
            if name.endswith(CODE_KEY_SUFFIX) and name not in CODE_KEY_PARAMS
        )
        if unknown:
            raise UsageError(
                f"{self.path.name} takes {', '.join(unknown)}, which make deploy cannot fill: add "
                "each to CODE_KEY_PARAMS in scripts/stackctl/template.py with the zip it names."
            )
        return {name: folder for name, folder in CODE_KEY_PARAMS.items() if name in self.parameters}

    @property
    def too_big_for_inline(self) -> bool:
        return len(self.body.encode()) > TEMPLATE_BODY_MAX


def deploy_example(template: str = "", stack: str = "", bucket: bool = True) -> str:
    """The make deploy line to type, with what the user already gave (BUCKET when needed)."""
    return (
        f"make deploy TEMPLATE={template or DEFAULT_TEMPLATE} STACK={stack or 'rotation-demo'}"
        + (" BUCKET=my-artifacts" if bucket else "")
    )


def read_template(path_text: str) -> TemplateFacts:
    if not path_text:
        raise UsageError(f"TEMPLATE is missing. For example: {deploy_example()}")
    # cfn-lint's reader understands short-form tags (!Ref, !Sub); imported here because it takes
    # a second or two, which verify and delete do not need to pay.
    from cfnlint.decode import decode  # noqa: PLC0415

    path = Path(path_text)
    if not path.is_file():
        choices = ", ".join(sorted(str(p.relative_to(REPO)) for p in REPO.glob("templates/*.yaml")))
        raise UsageError(f"TEMPLATE={path_text} does not exist. Templates here: {choices}")
    template, matches = decode(str(path))
    if matches:
        where = "; ".join(f"line {m.linenumber}: {m.message}" for m in matches[:3])
        raise UsageError(f"TEMPLATE={path_text} does not parse ({where}); fix the file.")
    if not isinstance(template, dict):
        raise UsageError(
            f"TEMPLATE={path_text} is not a CloudFormation template: its top level is not a "
            "mapping of sections (Parameters, Resources, ...)."
        )
    resources = {k: v for k, v in (template.get("Resources") or {}).items() if isinstance(v, dict)}
    return TemplateFacts(
        path=path,
        body=path.read_text(),
        parameters={k: dict(v or {}) for k, v in (template.get("Parameters") or {}).items()},
        resources=resources,
        rotation_name_suffixes=rotation_name_suffixes(resources),
        rules={k: v for k, v in (template.get("Rules") or {}).items() if isinstance(v, dict)},
    )


def rotation_name_suffixes(resources: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """'-admin-rotation' of each `RotationLambdaName: !Sub ${AWS::StackName}-admin-rotation`."""
    suffixes = []
    for resource in resources.values():
        hosted = (resource.get("Properties") or {}).get("HostedRotationLambda") or {}
        name = hosted.get("RotationLambdaName") if isinstance(hosted, dict) else None
        sub = name.get("Fn::Sub") if isinstance(name, dict) else None
        if isinstance(sub, str) and sub.startswith("${AWS::StackName}"):
            suffixes.append(sub.removeprefix("${AWS::StackName}"))
    return tuple(suffixes)


def max_stack_name_length(facts: TemplateFacts | None) -> int:
    """Rotation functions are named after the stack, and a Lambda name has at most 64 characters."""
    if facts is None or not facts.rotation_name_suffixes:
        return STACK_NAME_MAX
    return LAMBDA_NAME_MAX - max(len(s) for s in facts.rotation_name_suffixes)


def check_stack_name(stack: str, facts: TemplateFacts | None, command: str = "deploy") -> None:
    if not stack:
        example = (
            deploy_example(
                str(facts.path) if facts else "",
                bucket=facts is None or facts.needs_lambda_code or facts.too_big_for_inline,
            )
            if command == "deploy"
            else f"make {command} STACK=rotation-demo"
        )
        raise UsageError(f"STACK is missing. For example: {example}")
    if not STACK_NAME.match(stack):
        raise UsageError(
            f"STACK={stack} is not a valid stack name: start with a letter, then letters, "
            "digits and hyphens only."
        )
    limit = max_stack_name_length(facts)
    if len(stack) > limit:
        why = (
            f"its rotation functions are named after the stack and a Lambda name has at most "
            f"{LAMBDA_NAME_MAX} characters"
            if facts is not None and limit < STACK_NAME_MAX
            else "CloudFormation's limit"
        )
        where = f" for {facts.path.name}" if facts is not None else ""
        raise UsageError(
            f"STACK={stack} is too long{where} ({len(stack)} characters): {why}, so the stack "
            f"name may have at most {limit}."
        )


def check_bucket(bucket: str, why: str, example: str = "") -> None:
    if not bucket:
        raise UsageError(f"BUCKET is missing: {why}. For example: {example or deploy_example()}")
    if not BUCKET_NAME.match(bucket):
        raise UsageError(
            f"BUCKET={bucket} is not a valid S3 bucket name (3-63 lowercase letters, digits, "
            "dots and hyphens)."
        )
