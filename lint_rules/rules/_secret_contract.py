"""Rules for the secret JSON a hosted rotation function reads: its engine and required keys."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule

from .._rotation_lint import _facts
from .._rotation_lint._model import SECRET, engine_family
from .._rotation_lint._report import ModelRule, doc_url, finding
from .._rotation_lint._values import holes, literal_parts

TAGS = ["secretsmanager", "rotation", "secret-json"]


def _read_secrets(model):
    """(rotation, family, strategy, role, secret) for the secrets a hosted rotation reads.

    An admin secret that has a hosted rotation of its own is checked as that rotation's secret.
    """
    rotated = {r.secret.name for r in model.rotations if r.secret and r.hosted is not None}
    for rotation in model.rotations:
        family = model.family(rotation)
        if family is None:
            continue
        if rotation.secret is not None:
            yield rotation, *family, "rotated secret", rotation.secret
        master = rotation.master
        if family[1] == _facts.MULTI_USER and master is not None and master.name not in rotated:
            yield rotation, *family, "admin secret", master


def _family_of_engine(engine: str) -> str | None:
    return next((f for f, names in _facts.ENGINES.items() if engine in names), None)


class EngineMismatch(ModelRule, CloudFormationLintRule):
    id = "ER301"
    shortdesc = "Secret engine does not match the RotationType"
    description = (
        "Each hosted rotation function checks the secret's `engine` (MySQL: mysql or "
        "aurora-mysql; PostgreSQL: postgres or aurora-postgresql; MariaDB: mariadb; Oracle: "
        "oracle; SQL Server: sqlserver; Redshift: redshift; MongoDB: mongo; Db2: db2) and fails "
        "the rotation on any other."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation, family, strategy, role, secret in _read_secrets(model):
            accepted = _facts.ENGINES[family]
            expected = " or ".join(f'"{e}"' for e in accepted)
            failure = (
                f'the {family}{strategy} function fails every rotation ("Database engine must '
                f"be set to '{accepted[0]}' in order to use this rotation lambda\")"
            )
            if secret.attachments:
                attached = secret.attached_family
                if attached and attached != family:
                    yield finding(
                        rotation.setting_path("RotationType"),
                        f"{role} {secret.name} is attached ({', '.join(secret.attachments)}) to "
                        f"a {attached} database, whose engine the attachment writes into the "
                        f"secret, so {failure}",
                        f"use RotationType {attached}{strategy}",
                    )
                elif attached is None:
                    yield from self._engine_choices(model, rotation, role, secret, failure)
                continue
            document = model.document(secret)
            if document.kind != "json" or "engine" not in document.value.fields:
                continue
            engine = document.value.fields["engine"]
            values = model.reader.candidates(engine) if isinstance(engine, tuple) else None
            for value in values or ():
                if value in accepted:
                    continue
                other = _family_of_engine(value)
                alternative = f", or use RotationType {other}{strategy}" if other else ""
                yield finding(
                    document.path,
                    f'{role} {secret.name} has "engine": "{value}" but RotationType is '
                    f"{family}{strategy}, so {failure}",
                    f'set "engine" to {expected}{alternative}',
                )

    @staticmethod
    def _engine_choices(model, rotation, role, secret, failure):
        """An attached database whose Engine parameter allows an engine of another family."""
        family = model.family(rotation)[0]
        for engine, target in secret.attached_engines:
            other = engine_family(engine)
            if other is None or other == family:
                continue
            value = model.reader.resources[target]["Properties"].get("Engine")
            yield finding(
                rotation.setting_path("RotationType"),
                f"{role} {secret.name} is attached to database {target}, whose Engine can be "
                f"{engine!r}{model.reader.origin(value)}; the attachment writes that engine into "
                f"the secret, so with it {failure}",
                f"allow only {family} engines for {target}, or pick the rotation function "
                "with the same condition that picks the engine",
            )


class SecretJsonIncomplete(ModelRule, CloudFormationLintRule):
    id = "ER302"
    shortdesc = "Secret JSON lacks keys the rotation function needs"
    description = (
        "Hosted rotation functions read a JSON secret with `username`, `password`, `engine` and "
        "`host` (a SecretTargetAttachment fills in engine, host and port); a missing key or a "
        "value that is not a JSON object fails every rotation."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        for rotation, family, strategy, role, secret in _read_secrets(model):
            document = model.document(secret)
            reader = f"the {family}{strategy} rotation function (schedule {rotation.name})"
            if document.kind == "empty":
                yield finding(
                    document.path,
                    f"{role} {secret.name} has neither SecretString nor GenerateSecretString, "
                    f"so it has no value for {reader} to read and every rotation fails",
                    "add GenerateSecretString with SecretStringTemplate "
                    '\'{"username": "...", "engine": "..."}\' and GenerateStringKey: password',
                )
            elif document.kind == "plain":
                yield finding(
                    document.path,
                    f"{role} {secret.name} generates a bare password without "
                    f"SecretStringTemplate, but {reader} reads a JSON object, so every "
                    "rotation fails",
                    "add SecretStringTemplate with the username and engine, and "
                    "GenerateStringKey: password",
                )
            elif document.kind == "invalid":
                yield finding(
                    document.path,
                    f"the value of {role} {secret.name} is not a JSON object, but {reader} "
                    "reads one, so every rotation fails",
                    "write the value as a JSON object with username, password, engine and host",
                )
            elif document.kind == "json":
                required = ["username", "password"]
                if not secret.attachments:
                    required += ["engine", "host"]
                missing = [key for key in required if document.value.has(key) is False]
                if missing:
                    keys = ", ".join(f"`{key}`" for key in missing)
                    yield finding(
                        document.path,
                        f"the JSON of {role} {secret.name} has no {keys}, which {reader} "
                        f"needs, so every rotation fails ({_error(missing, family)})",
                        _fix(missing, family),
                    )


def _error(missing: list[str], family: str) -> str:
    """The KeyError the function raises first: it checks the engine, then host, username and
    password in that order."""
    if "engine" in missing:
        engine = _facts.ENGINES[family][0]
        return f"KeyError: \"Database engine must be set to '{engine}' ...\""
    first = min(missing, key=("host", "username", "password").index)
    return f"KeyError: '{first} key is missing from secret JSON'"


def _fix(missing: list[str], family: str) -> str:
    fixes = []
    if "password" in missing:
        fixes.append("set GenerateStringKey: password")
    if "username" in missing:
        fixes.append('add "username" to the JSON')
    if "engine" in missing or "host" in missing:
        fixes.append(
            "add a SecretTargetAttachment for the database (it writes engine, host and port), "
            f'or write "engine": "{_facts.ENGINES[family][0]}" and "host" into the JSON'
        )
    return "; ".join(fixes)


_MASTER_DATABASES = (
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::DocDB::DBCluster",
    "AWS::Redshift::Cluster",
)
_RESOLVE = "{{resolve:secretsmanager:"


def _resolved_secrets(model, text) -> set[str]:
    """Template secrets a dynamic reference in the text reads from."""
    if not text or _RESOLVE not in literal_parts(text):
        return set()
    return {name for hole in holes(text) if (name := model.reader.resource_in((hole,), SECRET))}


def _logged_in_with(model) -> set[str]:
    """Secrets a rotation function logs in with: the rotated ones and the admin secrets."""
    rotated = {r.secret.name for r in model.rotations if r.secret is not None}
    return rotated | model.admin_secrets()


class UsernameNotMasterUsername(ModelRule, CloudFormationLintRule):
    id = "ER303"
    shortdesc = "Database master secret whose username is not the master username"
    description = (
        "A secret that gives a database its master password (MasterUserPassword resolves it) "
        "must hold the database's MasterUsername as `username`: the rotation function logs in "
        "with the secret's username and password, and with another username every rotation "
        "fails."
    )
    source_url = doc_url(id)
    tags = TAGS

    def check(self, model):
        used: set[str] | None = None
        for name, body in model.reader.resources.items():
            properties = body.get("Properties")
            if body.get("Type") not in _MASTER_DATABASES or not isinstance(properties, dict):
                continue
            if "MasterUsername" not in properties or "SnapshotIdentifier" in properties:
                continue
            password = model.reader.text(properties.get("MasterUserPassword"))
            master_text = model.reader.text(properties["MasterUsername"])
            secrets = _resolved_secrets(model, password)
            secrets -= _resolved_secrets(model, master_text)  # the username comes from it too
            if not secrets:
                continue
            used = _logged_in_with(model) if used is None else used
            for secret in sorted(secrets & used):
                yield from self._compare(model, name, secret, master_text)

    @staticmethod
    def _compare(model, database, secret, master_text):
        for view in model.secrets():
            if view.name != secret:
                continue
            document = model.document(view)
            username = document.value.fields.get("username") if document.kind == "json" else None
            if not isinstance(username, tuple) or username == master_text:
                continue
            secret_values = model.reader.candidates(username)
            master_values = model.reader.candidates(master_text)
            if not secret_values or not master_values or set(secret_values) & set(master_values):
                continue  # unknown, or they can agree
            value, master = secret_values[0], master_values[0]
            escaped = (
                " (Fn::Sub writes `${!...}` literally: the escape is no reference)"
                if "${" in value
                else ""
            )
            yield finding(
                document.path,
                f"secret {secret} holds username {value!r}{escaped} but gives database "
                f"{database} its master password, while {database} is created with "
                f"MasterUsername {master!r}; the rotation function logs in as {value!r} with the "
                'master password and every rotation fails ("Unable to log into database")',
                f"write the username once: MasterUsername: !Sub "
                f"'{{{{resolve:secretsmanager:${{{secret}}}:SecretString:username}}}}', or put "
                f"{master!r} as username in the secret",
            )
