"""Secrets Manager refusing or failing, through a real HTTP hop in front of moto's server: the
reason names the permission to add; transient errors are retried."""

import pytest

from ..local_endpoints import LambdaContext

pytestmark = pytest.mark.database


def outcome(scenario, properties) -> dict:
    scenario.receiver.reset()
    context = LambdaContext(20, scenario.app.helper.clock)
    scenario.app.handler(scenario.event("Create", properties), context)
    (put,) = scenario.receiver.puts()
    return put.document


def test_access_denied_names_the_permission(scenario, secrets_api):
    hop, properties = secrets_api
    hop.fail_always(
        400,
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to perform: "
        "secretsmanager:GetSecretValue",
    )

    body = outcome(scenario, properties)

    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("Access denied reading the admin secret")
    assert "allow secretsmanager:GetSecretValue on this exact ARN" in body["Reason"]
    assert hop.requests == 1  # a permission problem is not retried


@pytest.mark.parametrize(
    ("error_type", "message"),
    [
        ("AccessDeniedException", "Access to KMS is not allowed"),
        ("DecryptionFailure", "The ciphertext refers to a customer master key that is disabled"),
    ],
)
def test_kms_refusal_names_kms_decrypt(scenario, secrets_api, error_type, message):
    hop, properties = secrets_api
    hop.fail_always(400, error_type, message)

    body = outcome(scenario, properties)

    assert body["Status"] == "FAILED"
    assert "could not decrypt the admin secret" in body["Reason"]
    assert "kms:Decrypt" in body["Reason"]


def test_server_errors_are_retried(scenario, secrets_api):
    hop, properties = secrets_api
    hop.fail_next(2, 500, "InternalServiceError", "try again")

    body = outcome(scenario, properties)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert hop.requests == 4  # two failures, then the admin and the application secret


def test_a_secret_scheduled_for_deletion_is_named_with_the_restore_command(scenario, secrets_api):
    # Secrets Manager's answer to GetSecretValue on a secret pending deletion (moto words it
    # differently, so the hop gives AWS's).
    hop, properties = secrets_api
    hop.fail_always(
        400,
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )

    body = outcome(scenario, properties)

    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        f"The admin secret {properties['AdminSecretArn']!r} is scheduled for deletion: restore "
        "it (aws secretsmanager restore-secret) or name another secret."
    )
