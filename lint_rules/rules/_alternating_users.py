"""Rules for the alternating users strategy (RotationType ending in MultiUser)."""

from __future__ import annotations

import re
from dataclasses import dataclass

try:  # the parser behind `re`: it measures how long a match can be
    import re._parser as regex_parser
except ImportError:  # Python < 3.11
    import sre_parse as regex_parser

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint import _facts
from .._rotation_lint._model import SECRET
from .._rotation_lint._policies import may_let_a_role_read, policies
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import Hole, holes, literal_parts

TAGS = ["secretsmanager", "rotation", "alternating-users"]
MASTER_KEYS = ("MasterSecretArn", "SuperuserSecretArn")
SUFFIX = len(_facts.CLONE_SUFFIX)


def _multi_user(model):
    """(rotation, database family) for every hosted alternating-users rotation."""
    for rotation in model.rotations:
        family = model.family(rotation)
        if family and family[1] == _facts.MULTI_USER:
            yield rotation, family[0]


def _secret_json(model, rotation):
    """The rotated secret's JSON document when the template writes it, else None."""
    if rotation.secret is None:
        return None
    document = model.document(rotation.secret)
    return document if document.kind == "json" else None


class MasterArnMissingFromSecret(ModelRule, CloudFormationLintRule):
    id = "ER101"
    shortdesc = "Alternating-users secret without masterarn"
    description = (
        "The alternating-users rotation function reads the admin secret's ARN from the "
        "rotated secret's own JSON key `masterarn`; MasterSecretArn only grants access."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation, _ in _multi_user(model):
            document = _secret_json(model, rotation)
            if document is None:
                continue
            master = model.reader.resource(_master_arn(rotation), SECRET)
            if document.value.has("masterarn") is False:
                yield finding(
                    document.path,
                    f"secret {rotation.secret.name} is rotated with alternating users but its "
                    "JSON has no `masterarn` key, so the rotation function cannot find the admin "
                    "credentials and every rotation fails (KeyError: 'masterarn')",
                    f'add "masterarn": "${{{master}}}" (Fn::Sub) to the JSON'
                    if master
                    else 'add "masterarn" with the admin secret\'s ARN to the JSON',
                )
                continue
            named = model.reader.resource_in(document.value.fields.get("masterarn"), SECRET)
            if master and named and named != master:
                yield finding(
                    document.path,
                    f"`masterarn` names secret {named} but {rotation.provider} grants the "
                    f"rotation role access to {master}, so reading the admin secret is denied",
                    f"point both at the same admin secret (!Ref {master})",
                )


class MasterSecretArnMissing(ModelRule, CloudFormationLintRule):
    id = "ER102"
    shortdesc = "Alternating-users rotation without MasterSecretArn"
    description = (
        "HostedRotationLambda.MasterSecretArn (or SuperuserSecretArn) makes CloudFormation grant "
        "the rotation role read access to the admin secret; without it the rotation fails."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation, _ in _multi_user(model):
            if any(key in rotation.hosted for key in MASTER_KEYS):
                continue
            if _policy_lets_role_read_admin(model, rotation):
                continue  # the admin secret's own resource policy grants the read
            master = rotation.setting("MasterSecretArn")
            yield finding(
                rotation.hosted_path,
                f"RotationType {rotation.hosted.get('RotationType')} rotates with "
                f"alternating users but {master} is missing, and no resource policy "
                "on the admin secret lets a role read it, so the rotation role may not read "
                "the admin secret and the rotation fails",
                f"set {master} to the admin secret (for example !Ref AdminSecret)",
            )


def _policy_lets_role_read_admin(model, rotation) -> bool:
    """Whether a resource policy of the template may grant a role GetSecretValue on the admin
    secret that the rotated secret's `masterarn` names (same template or same ARN text)."""
    document = _secret_json(model, rotation)
    if document is None:
        return False
    admin = document.value.fields.get("masterarn")
    if not isinstance(admin, tuple):
        return False
    admin_secret = model.reader.resource_in(admin, SECRET)
    for policy in policies(model):
        named = model.reader.text(policy.properties.get("SecretId"))
        same = named == admin or (
            admin_secret is not None and model.reader.resource_in(named, SECRET) == admin_secret
        )
        if same and may_let_a_role_read(model, policy):
            return True
    return False


def _master_arn(rotation):
    return next((rotation.hosted[k] for k in MASTER_KEYS if k in rotation.hosted), None)


@dataclass(frozen=True)
class Username:
    """An alternating-users username the template writes, with what bounds it."""

    rotation: object
    family: str
    text: tuple  # the username as Text
    longest: int  # the longest base name the family's function clones
    path: list  # where the secret JSON is written

    def values(self, model) -> list[str]:
        return model.reader.candidates(self.text) or []


def _usernames(model):
    """Each username of a hosted alternating-users rotation that the template lets us judge."""
    for rotation, family in _multi_user(model):
        limit = _facts.CLONE_LIMITS.get(family)
        document = _secret_json(model, rotation)
        if limit is None or document is None:
            continue
        text = document.value.fields.get("username")
        if not isinstance(text, tuple):
            continue
        if not all(model.reader.known(hole) for hole in holes(text)):
            continue  # built from something only known at deploy time: nothing to say
        yield Username(rotation, family, text, limit - SUFFIX, document.path)


def _parameter_path(model, hole: Hole) -> list:
    declaration = model.reader.parameter(hole)
    key = "AllowedValues" if "AllowedValues" in declaration else "Default"
    return ["Parameters", hole.target, key]


class CloneUsernameTooLong(ModelRule, CloudFormationLintRule):
    id = "ER103"
    shortdesc = "Alternating-users username too long for its _clone"
    description = (
        "The alternating-users function creates `<username>_clone` and refuses a name longer "
        "than its engine allows (MySQL 16, Oracle 30, PostgreSQL 63, MariaDB 80, SQL Server "
        "128 characters)."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for user in _usernames(model):
            pieces = holes(user.text)
            longest, family = user.longest, user.family
            for value in user.values(model):
                if len(value) <= longest:
                    continue
                single = len(pieces) == 1 and model.reader.parameter(pieces[0])
                where = _parameter_path(model, pieces[0]) if single else user.path
                clone = value + _facts.CLONE_SUFFIX
                yield finding(
                    where,
                    f"username {value!r} of secret {user.rotation.secret.name} makes {clone!r} "
                    f"({len(clone)} characters), longer than the {longest + SUFFIX} the "
                    f"{family}MultiUser function accepts, so the first "
                    'rotation fails ("Unable to clone user, username length with _clone '
                    f'appended would exceed {longest + SUFFIX} characters")',
                    f"use a username of at most {longest} characters",
                )


class CloneUsernameUnbounded(ModelRule, CloudFormationLintRule):
    id = "WR101"
    shortdesc = "Alternating-users username parameter without a short enough MaxLength"
    description = (
        "A username that comes from a parameter needs MaxLength (or AllowedValues) short enough "
        "that `<username>_clone` fits the engine's limit, or a deploy with a longer value "
        "breaks rotation."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for user in _usernames(model):
            pieces = holes(user.text)
            params = [hole for hole in pieces if model.reader.parameter(hole)]
            longest, family, rotation = user.longest, user.family, user.rotation
            if not params or any(len(value) > longest for value in user.values(model)):
                continue  # nothing to bound, or ER103 already reports the value
            mapped = sum(max(map(len, hole.choices)) for hole in pieces if hole.choices)
            budget = longest - len(literal_parts(user.text)) - mapped
            bounds = {hole.target: _bound(model.reader.parameter(hole)) for hole in params}
            if None not in bounds.values() and sum(bounds.values()) <= budget:
                continue
            for name, bound in bounds.items():
                state = "has no MaxLength" if bound is None else f"allows {bound} characters"
                yield finding(
                    ["Parameters", name],
                    f"parameter {name} gives the username of secret {rotation.secret.name} and "
                    f"{state}; a value over {budget} characters makes `<username>_clone` longer "
                    f"than the {longest + SUFFIX} the {family}MultiUser function accepts",
                    f"set MaxLength: {max(budget // len(bounds), 1)} on parameter {name}",
                )


def _bound(declaration: dict) -> int | None:
    """The longest value a parameter declaration admits, None when unbounded."""
    allowed = declaration.get("AllowedValues")
    if isinstance(allowed, list) and allowed:
        return max(len(str(value)) for value in allowed)
    bounds = [_max_length(declaration.get("MaxLength")), pattern_bound(declaration)]
    known = [bound for bound in bounds if bound is not None]
    return min(known) if known else None


def _max_length(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def pattern_bound(declaration: dict) -> int | None:
    """The longest value AllowedPattern admits (CloudFormation matches the whole value).

    None when the pattern repeats without bound or is not readable as a Python regex (Java
    classes such as \\p{Alpha} are not).
    """
    pattern = declaration.get("AllowedPattern")
    if not isinstance(pattern, str):
        return None
    try:
        longest = regex_parser.parse(pattern).getwidth()[1]
    except (re.error, OverflowError, RecursionError, ValueError):
        return None
    return None if longest >= regex_parser.MAXREPEAT else longest
