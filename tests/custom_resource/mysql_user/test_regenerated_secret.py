"""An Update after CloudFormation generated the application secret anew.

A change under an AWS::SecretsManager::Secret's GenerateSecretString (a parameter inside its
SecretStringTemplate included) makes CloudFormation write a whole new value with a new password
(cloudformation-coverage-roadmap #1161, #2210); the database learns of it only through
Custom::MySQLUser, whose AppSecretGeneration mirrors that GenerateSecretString. Here the secret
is regenerated the way CloudFormation does it (a new version that takes AWSCURRENT), then the
Update CloudFormation sends next runs against the real server."""

import json
import secrets

import boto3
import pymysql
import pytest

from ..local_endpoints import REGION
from .conftest import Secrets

pytestmark = pytest.mark.database

GENERATION = {
    "SecretStringTemplate": '{"engine":"mysql","username":"app","dbname":"appdb"}',
    "GenerateStringKey": "password",
    "PasswordLength": "32",
}
CHANGED = {**GENERATION, "SecretStringTemplate": GENERATION["SecretStringTemplate"] + " "}


def regenerate(store, arn: str) -> str:
    """What CloudFormation does to the secret: a new value with a new password becomes
    AWSCURRENT (the old one AWSPREVIOUS); returns the new password."""
    value = store.value(arn)
    value["password"] = secrets.token_urlsafe(24)
    store.client.put_secret_value(SecretId=arn, SecretString=json.dumps(value))
    return value["password"]


def refused(db, user: str, password: str) -> bool:
    try:
        db.login(user, password).close()
    except pymysql.err.OperationalError:
        return True
    return False


def stages(store, arn: str) -> dict[str, list[str]]:
    return store.client.describe_secret(SecretId=arn)["VersionIdsToStages"]


@pytest.mark.parametrize(
    "changed",
    [
        CHANGED,
        {**GENERATION, "PasswordLength": "40"},
        {**GENERATION, "ExcludeCharacters": '"@/\\'},
    ],
    ids=["SecretStringTemplate", "PasswordLength", "ExcludeCharacters"],
)
def test_a_changed_generation_sets_the_new_password_of_the_current_user(scenario, changed):
    """Any key of GenerateSecretString makes CloudFormation generate anew, not only the template."""
    s = scenario
    first = s.props(AppSecretGeneration=GENERATION)
    created = s.create(first)
    old_password = s.store.value(s.app_arn)["password"]
    new_password = regenerate(s.store, s.app_arn)

    body = s.update(created, first, {**first, "AppSecretGeneration": changed})

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == created["PhysicalResourceId"]
    s.db.login(s.user, new_password).close()
    assert refused(s.db, s.user, old_password)


def test_without_a_changed_generation_the_database_keeps_its_password(scenario):
    """The behaviour the property exists to change: a regenerated secret, an Update that does
    not say so (another property changed), and the database keeps the old password."""
    s = scenario
    first = s.props(AppSecretGeneration=GENERATION)
    created = s.create(first)
    old_password = s.store.value(s.app_arn)["password"]
    regenerate(s.store, s.app_arn)
    second = {**first, "Grants": [{"Privileges": ["INSERT"], "Database": "appdb", "Table": "*"}]}

    body = s.update(created, first, second)

    assert body["Status"] == "SUCCESS", body["Reason"]
    s.db.login(s.user, old_password).close()


def test_the_first_update_that_carries_the_property_counts_as_regenerated(scenario):
    """A stack made before the templates passed AppSecretGeneration: the update that adds it is
    the one that changed the secret's template."""
    s = scenario
    first = s.props()
    created = s.create(first)
    new_password = regenerate(s.store, s.app_arn)

    body = s.update(created, first, {**first, "AppSecretGeneration": GENERATION})

    assert body["Status"] == "SUCCESS", body["Reason"]
    s.db.login(s.user, new_password).close()


def test_a_pending_version_from_before_the_regeneration_loses_its_label(scenario):
    """A rotation that failed (or is under way) left AWSPENDING on a version made from the old
    values; resumed, it would bring them back. Only that label goes: AWSCURRENT and
    AWSPREVIOUS stay where they are."""
    s = scenario
    first = s.props(AppSecretGeneration=GENERATION)
    created = s.create(first)
    pending = {**s.store.value(s.app_arn), "username": f"{s.user}_clone", "password": "pending-1"}
    stale = s.store.client.put_secret_value(
        SecretId=s.app_arn, SecretString=json.dumps(pending), VersionStages=["AWSPENDING"]
    )["VersionId"]
    regenerate(s.store, s.app_arn)
    before = stages(s.store, s.app_arn)

    body = s.update(created, first, {**first, "AppSecretGeneration": CHANGED})

    assert body["Status"] == "SUCCESS", body["Reason"]
    after = stages(s.store, s.app_arn)
    assert before[stale] == ["AWSPENDING"]
    assert stale not in after or "AWSPENDING" not in after[stale]
    unlabelled = {v: [x for x in labels if x != "AWSPENDING"] for v, labels in before.items()}
    assert {v: labels for v, labels in after.items() if labels} == {
        v: labels for v, labels in unlabelled.items() if labels
    }


def test_a_pending_label_on_the_current_version_is_left_alone(scenario):
    """After a successful rotation AWSPENDING may sit on the AWSCURRENT version: nothing stale."""
    s = scenario
    first = s.props(AppSecretGeneration=GENERATION)
    created = s.create(first)
    regenerate(s.store, s.app_arn)
    (current,) = [v for v, labels in stages(s.store, s.app_arn).items() if "AWSCURRENT" in labels]
    s.store.client.update_secret_version_stage(
        SecretId=s.app_arn, VersionStage="AWSPENDING", MoveToVersionId=current
    )

    body = s.update(created, first, {**first, "AppSecretGeneration": CHANGED})

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert "AWSPENDING" in stages(s.store, s.app_arn)[current]


def test_an_update_that_did_not_regenerate_leaves_a_pending_version_alone(scenario):
    """A rotation under way while an unrelated update runs must not be cut short."""
    s = scenario
    first = s.props(AppSecretGeneration=GENERATION)
    created = s.create(first)
    pending = {**s.store.value(s.app_arn), "password": "pending-1"}
    version = s.store.client.put_secret_value(
        SecretId=s.app_arn, SecretString=json.dumps(pending), VersionStages=["AWSPENDING"]
    )["VersionId"]
    second = {**first, "Grants": [{"Privileges": ["INSERT"], "Database": "appdb", "Table": "*"}]}

    body = s.update(created, first, second)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert stages(s.store, s.app_arn)[version] == ["AWSPENDING"]


def refuse_describe(hop) -> None:
    hop.fail_next(1, 400, "AccessDeniedException", "not authorized: secretsmanager:DescribeSecret")


def never_answer(hop) -> None:
    hop.hang_up_next(3)  # the function's client makes three attempts


@pytest.mark.parametrize(
    "case",
    [(refuse_describe, "AccessDeniedException"), (never_answer, "ConnectionClosedError")],
    ids=["refused", "no-answer"],
)
def test_a_failed_pending_check_is_logged_and_the_password_still_set(
    scenario, secrets_api, moto_endpoint, caplog, case
):
    """A role without DescribeSecret (a template of the user's own), or Secrets Manager not
    answering (botocore's ConnectionClosedError, a BotoCoreError): best effort either way. The
    update still sets the password; the log says which permissions to add and how to remove the
    label by hand."""
    fault, named = case
    hop, properties = secrets_api
    s = scenario
    server = Secrets(
        boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint), s.db
    )
    first = {**properties, "AppSecretGeneration": GENERATION}
    created = s.create(first)
    new_password = regenerate(server, first["AppSecretArn"])
    fault(hop)

    body = s.update(created, first, {**first, "AppSecretGeneration": CHANGED})

    assert body["Status"] == "SUCCESS", body["Reason"]
    s.db.login(s.user, new_password).close()
    text = caplog.text
    assert "Could not find or remove a stale AWSPENDING label on the application secret" in text
    assert named in text
    assert "secretsmanager:UpdateSecretVersionStage" in text
    assert new_password not in text


@pytest.mark.parametrize("value", ["a string", ["a", "list"], 7])
def test_a_generation_that_is_not_an_object_is_refused_with_the_fix(scenario, value):
    s = scenario

    body = s.answer(s.event("Create", s.props(AppSecretGeneration=value)))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        "AppSecretGeneration must be an object: a copy of the application secret's "
        "GenerateSecretString (the same value the template gives the secret)."
    )
    assert s.user not in s.db.users()
