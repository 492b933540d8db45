"""What each template writes into its secrets, checked against what the AWS-hosted MySQL rotation
functions read.

The template defines the SecretStringTemplate, the key the password goes under and how the
password is generated; the SecretTargetAttachment adds the connection details (host, port,
cluster id) once. So the template's own JSON must already name the engine and the user. A secret
that CloudFormation may generate anew (the application secret: its template holds parameters)
carries the connection details itself, from the cluster's own attributes, since the attachment
does not run again; the admin secret leaves them to the attachment.
"""

import json
import string

import pytest

from tests.helpers.bootstrap_files import aurora_attachment, cluster_values
from tests.helpers.cfn_templates import (
    EXISTING_CLUSTER,
    MULTI_USER,
    TEMPLATES,
    Context,
    evaluate,
    exclude_characters,
    load,
    properties,
    resources,
)

ADMIN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AdminSecret-x-AbCdEf"
# Written by SecretTargetAttachment for an Aurora cluster.
ATTACHMENT_KEYS = {"host", "port", "dbClusterIdentifier"}
HOST, PORT = "demo.cluster-abc.us-east-1.rds.amazonaws.com", 3306
CLUSTER = cluster_values(HOST, PORT)
# The existing-cluster template's parameters without a default (its secret names the cluster).
EXISTING_REQUIRED = {
    "ClusterIdentifier": "orders",
    "ClusterEndpoint": "orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com",
    "AdminSecretArn": ADMIN_ARN,
}
CLASSES = {
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "punctuation": string.punctuation,
}
# The credentials writer on the test instance refuses these (they would end a quoted value).
WRITER_UNSAFE = set("'\"\\\n\r")


def hosted_function_refusal(secret: dict) -> str | None:
    """Why the hosted MySQL functions' get_secret_dict would refuse this secret (None: accepted).
    Mirrors aws-samples/aws-secrets-manager-rotation-lambdas, SecretsManagerRDSMySQLRotation*:
    engine must be exactly "mysql"; host, username and password must be present."""
    if secret.get("engine") != "mysql":
        return "Database engine must be set to 'mysql'"
    missing = [key for key in ("host", "username", "password") if key not in secret]
    return f"{missing[0]} key is missing from secret JSON" if missing else None


def template_json(template: dict, logical_id: str) -> dict:
    generate = properties(template, logical_id)["GenerateSecretString"]
    context = Context(template, AdminSecret=ADMIN_ARN, **CLUSTER)
    return json.loads(evaluate(generate["SecretStringTemplate"], context))


def deployed_secret(template: dict, logical_id: str) -> dict:
    """The template's JSON, the generated password under GenerateStringKey, and only the
    connection details the attachment adds."""
    secret = template_json(template, logical_id)
    key = properties(template, logical_id)["GenerateSecretString"]["GenerateStringKey"]
    secret[key] = "Generated-Password-1"
    secret.update(aurora_attachment(HOST, PORT))
    return secret


def secret_ids(variant: str) -> list[tuple[str, str]]:
    template = load(TEMPLATES[variant])
    return [(variant, name) for name in sorted(resources(template, "AWS::SecretsManager::Secret"))]


ALL_SECRETS = [pair for variant in sorted(TEMPLATES) for pair in secret_ids(variant)]


@pytest.mark.parametrize(("variant", "logical_id"), ALL_SECRETS)
def test_the_hosted_function_accepts_every_secret_once_attached(variant, logical_id):
    template = load(TEMPLATES[variant])
    assert hosted_function_refusal(deployed_secret(template, logical_id)) is None


@pytest.mark.parametrize(("variant", "logical_id"), ALL_SECRETS)
def test_the_template_itself_names_engine_and_user_and_no_stale_connection_details(
    variant, logical_id
):
    template = load(TEMPLATES[variant])
    own = template_json(template, logical_id)
    assert own["engine"] == "mysql"
    parameter = "AppUsername" if logical_id == "AppSecret" else "AdminUsername"
    assert own["username"] == template["Parameters"][parameter]["Default"]
    if logical_id == "AppSecret":
        # Exactly what the attachment writes, read from the cluster: never a value of its own.
        attached = aurora_attachment(HOST, PORT)
        assert {key: own[key] for key in ATTACHMENT_KEYS} == {
            key: attached[key] for key in ATTACHMENT_KEYS
        }
    else:
        assert not own.keys() & ATTACHMENT_KEYS
    # No "ssl" key: the cluster's require_secure_transport decides TLS, so changing that choice
    # never touches GenerateSecretString (which would generate a new, unattached secret value).
    assert "ssl" not in own
    assert properties(template, logical_id)["GenerateSecretString"]["GenerateStringKey"] == (
        "password"
    )


def test_the_checker_refuses_what_the_hosted_function_refuses():
    template = load(TEMPLATES["single-user"])
    good = deployed_secret(template, "AdminSecret")
    assert hosted_function_refusal({**good, "engine": "aurora-mysql"})
    for key in ("host", "username", "password"):
        assert hosted_function_refusal({k: v for k, v in good.items() if k != key}) == (
            f"{key} key is missing from secret JSON"
        )


def test_app_secret_points_at_the_admin_secret_and_its_database():
    template = load(TEMPLATES["multi-user"])
    secret = template_json(template, "AppSecret")
    assert secret["masterarn"] == ADMIN_ARN
    assert secret["dbname"] == template["Parameters"]["DatabaseName"]["Default"]
    assert len(secret["username"] + "_clone") <= 16


def test_admin_secret_carries_no_masterarn(template):
    assert "masterarn" not in template_json(template, "AdminSecret")


def test_exclude_list_leaves_every_class_the_generator_requires(template):
    # The hosted functions call GetRandomPassword with RequireEachIncludedType left at true: a
    # class emptied by ExcludeCharacters makes every rotation fail.
    excluded = set(exclude_characters(template))
    for name, characters in CLASSES.items():
        assert set(characters) - excluded, f"ExcludeCharacters removes every {name} character"


def test_no_generated_password_can_hold_what_the_instance_writer_refuses(template):
    assert set(exclude_characters(template)) >= WRITER_UNSAFE - {"\n", "\r"}
    # Newlines are never generated: GetRandomPassword draws from printable ASCII only.


@pytest.mark.parametrize("path", [MULTI_USER, EXISTING_CLUSTER], ids=["multi", "existing"])
def test_an_application_secret_generated_anew_still_satisfies_the_hosted_function(path):
    """A parameter change under GenerateSecretString makes CloudFormation write the template's
    JSON and a new password, and nothing else: the attachment does not run again. That value
    alone must still be a secret the alternating-users function accepts."""
    template = load(path)
    context = Context(template, AdminSecret=ADMIN_ARN, **CLUSTER, **EXISTING_REQUIRED)
    generate = properties(template, "AppSecret")["GenerateSecretString"]
    regenerated = json.loads(evaluate(generate["SecretStringTemplate"], context))
    regenerated[generate["GenerateStringKey"]] = "Generated-Password-2"
    assert hosted_function_refusal(regenerated) is None
    assert regenerated["masterarn"].startswith("arn:aws:secretsmanager:")
