"""Rules for the rotation function itself: who may invoke it, what its role may read, its name."""

from __future__ import annotations

import re

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint._functions import function_name, invoke_permissions, rotation_functions
from .._rotation_lint._iam import GRANTS, SCOPED, grant, role_policies
from .._rotation_lint._model import SECRET
from .._rotation_lint._policies import GET_SECRET_VALUE, may_let_a_role_read, policies
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import literal_parts, render

TAGS = ["secretsmanager", "rotation", "function"]
SAM_FUNCTION = "AWS::Serverless::Function"


class InvokePermissionMissing(ModelRule, CloudFormationLintRule):
    id = "ER901"
    shortdesc = "Rotation function without a permission for Secrets Manager to invoke it"
    description = (
        "A RotationSchedule that names a Lambda function of the template needs an "
        "AWS::Lambda::Permission that lets secretsmanager.amazonaws.com invoke it; Secrets "
        "Manager checks it when the rotation is configured and refuses the schedule otherwise."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation in model.rotations:
            function = rotation.function
            if function is None:
                continue
            secret = rotation.secret.name if rotation.secret else None
            if invoke_permissions(model, function, secret):
                continue
            yield finding(
                rotation.path("RotationLambdaARN"),
                f"schedule {rotation.name} names function {function}, but no "
                "AWS::Lambda::Permission of the template lets secretsmanager.amazonaws.com "
                "invoke it, so Secrets Manager refuses the rotation (AccessDeniedException: it "
                "cannot invoke the function) and the schedule fails to create",
                f"add an AWS::Lambda::Permission with FunctionName: !GetAtt {function}.Arn, "
                "Action: lambda:InvokeFunction, Principal: secretsmanager.amazonaws.com, and "
                f"DependsOn it on {rotation.name}",
            )


def _secret_grants(model, secret: str) -> bool:
    """Whether a resource policy of the template on the secret may let a role read it."""
    return any(
        model.reader.resource(p.properties.get("SecretId"), SECRET) == secret
        and may_let_a_role_read(model, p)
        for p in policies(model)
    )


class RotationRoleCannotRead(ModelRule, CloudFormationLintRule):
    id = "ER902"
    shortdesc = "Rotation role whose policies let it read no secret it rotates"
    description = (
        "The role of a rotation function of the template needs secretsmanager:GetSecretValue "
        "on the secret it rotates. A statement scoped with "
        "secretsmanager:resource/AllowRotationLambdaArn to another function, or a policy that "
        "is attached to no role, grants nothing, and every rotation fails."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for function, rotations in rotation_functions(model).items():
            found = role_policies(model, function)
            if found is None:
                continue  # a role or policy from outside the template: unknown
            secrets = {r.secret.name if r.secret else None for r in rotations} or {None}
            for secret in sorted(secrets, key=str):
                yield from self._judge(model, function, found, secret)

    @staticmethod
    def _judge(model, function, found, secret):
        verdicts = [
            (s, grant(model, s.body, GET_SECRET_VALUE, secret, function)) for s in found.statements
        ]
        if any(kind == GRANTS for _, (kind, _) in verdicts):
            return
        if secret is not None and _secret_grants(model, secret):
            return
        target = f"secret {secret}" if secret else "any secret"
        outside = "" if secret else " (a resource policy on the secret could still grant it)"
        role = f"role {found.role}" if found.role else f"the role SAM makes for {function}"
        scoped = [(s, other) for s, (kind, other) in verdicts if kind == SCOPED]
        if scoped:
            statement, other = scoped[0]
            yield finding(
                statement.path,
                f"{statement.origin} lets {role} read secrets only where "
                f"secretsmanager:resource/AllowRotationLambdaArn is {render(other)!r}"
                f"{_origin(model, other, function)}, another function than {function}, which "
                f"rotates {target}; Secrets Manager compares that key with the secret's own "
                "rotation function, so every read is denied and "
                f"every rotation fails{outside}",
                f"name the function that rotates the secret: !GetAtt {function}.Arn",
            )
            return
        stray = [
            s
            for s in found.unattached
            if grant(model, s.body, GET_SECRET_VALUE, secret, function)[0] == GRANTS
        ]
        if stray:
            yield finding(
                stray[0].path,
                f"{stray[0].origin} would let {function} read {target}, but it is attached to "
                f"no role, and {role} has no other statement that allows "
                f"secretsmanager:GetSecretValue on it, so every rotation fails{outside}",
                f"attach it to the role: Roles: [!Ref {found.role}]"
                if found.role
                else f"list it in the Policies of {function}",
            )
        elif secret is not None:
            yield finding(
                found.path,
                f"{role} of function {function} has no statement that allows "
                f"secretsmanager:GetSecretValue on secret {secret}, which {function} rotates, "
                "and no resource policy of the secret grants it, so every rotation fails",
                "allow secretsmanager:DescribeSecret, GetSecretValue, PutSecretValue and "
                f"UpdateSecretVersionStage on !Ref {secret}",
            )


def _origin(model, other, function: str) -> str:
    """Where the compared names come from, when a parameter (or its default) gives them; ''
    when the value names another function of the template (no names compared)."""
    if model.reader.resource_in(other) is not None:
        return ""
    return model.reader.text_origin(other, function_name(model.reader, function))


class ScheduleBeforePermission(ModelRule, CloudFormationLintRule):
    id = "WR904"
    shortdesc = "RotationSchedule does not wait for the function's invoke permission"
    description = (
        "Secrets Manager checks the function's invoke permission when the schedule configures "
        "rotation. A RotationSchedule that depends on the function but not on its "
        "AWS::Lambda::Permission may be created first, and then Secrets Manager refuses it."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation in model.rotations:
            if rotation.function is None:
                continue
            secret = rotation.secret.name if rotation.secret else None
            permissions = invoke_permissions(model, rotation.function, secret)
            waits = [model.waits_for(rotation.name, p) for p in permissions]
            if not permissions or any(w is not False for w in waits):
                continue
            where = ["Resources", rotation.name]
            if "DependsOn" in model.reader.resources[rotation.name]:
                where.append("DependsOn")
            yield finding(
                where,
                f"schedule {rotation.name} names function {rotation.function} but does not "
                f"wait for {permissions[0]}, the permission that lets Secrets Manager invoke "
                "it; CloudFormation may create the schedule first, and Secrets Manager then "
                "refuses the rotation (AccessDeniedException) and the schedule fails",
                f"add {permissions[0]} to the DependsOn of {rotation.name}",
            )


# Lambda's function names: letters, digits, hyphens and underscores, at most 64 characters.
NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*")
NAME_LIMIT = 64


def _name_problem(model, value) -> tuple[str, str] | None:
    """(the name, what Lambda refuses in it) when every deploy gets a name Lambda refuses."""
    reader = model.reader
    text = reader.text(value)
    if text is None:
        return None
    for name in reader.candidates(text) or ():
        problem = _problem(name, name)
        if problem:
            return f"{name!r}{reader.text_origin(text)}", problem
    fixed = literal_parts(text)
    problem = _problem(fixed, render(text))
    return (repr(render(text)), problem) if problem else None


def _problem(fixed: str, name: str) -> str | None:
    bad = sorted(set(re.sub(r"[A-Za-z0-9_-]", "", fixed)))
    if bad:
        return f"the character{'s' if len(bad) > 1 else ''} {' '.join(map(repr, bad))}"
    if len(fixed) > NAME_LIMIT:
        return f"{len(fixed)} characters" + ("" if fixed == name else " without its variables")
    return None


class FunctionNameRefused(ModelRule, CloudFormationLintRule):
    id = "ER903"
    shortdesc = "Rotation function name Lambda refuses"
    description = (
        "Lambda accepts function names of letters, digits, hyphens and underscores, at most 64 "
        "characters. HostedRotationLambda's RotationLambdaName, a rotation app's functionName "
        "and a SAM function's FunctionName are not checked by cfn-lint's schema; a name Lambda "
        "refuses fails the nested stack or the function."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation in model.rotations:
            if rotation.hosted is None or "RotationLambdaName" not in rotation.hosted:
                continue
            problem = _name_problem(model, rotation.hosted["RotationLambdaName"])
            if problem:
                yield _finding(
                    rotation.setting_path("RotationLambdaName"),
                    f"{rotation.setting('RotationLambdaName')} of {rotation.name}",
                    problem,
                    f"the nested stack that {rotation.provider} makes fails",
                )
        for function in rotation_functions(model):
            body = model.reader.resources[function]
            properties = body.get("Properties")
            if body.get("Type") != SAM_FUNCTION or not isinstance(properties, dict):
                continue  # cfn-lint's own schema checks AWS::Lambda::Function (E3031, W1031)
            if "FunctionName" not in properties:
                continue
            problem = _name_problem(model, properties["FunctionName"])
            if problem:
                yield _finding(
                    ["Resources", function, "Properties", "FunctionName"],
                    f"FunctionName of {function}",
                    problem,
                    "creating the function fails",
                )


def _finding(path, what: str, problem: tuple[str, str], failure: str):
    name, reason = problem
    return finding(
        path,
        f"{what} is {name}, with {reason}, but Lambda accepts only letters, digits, hyphens "
        f"and underscores, at most {NAME_LIMIT} characters, so {failure} (ValidationException)",
        f"a name of at most {NAME_LIMIT} such characters, for example without dots or spaces",
    )
