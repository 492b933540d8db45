"""The secret JSON each template produces (SecretStringTemplate, a password generated the way the
template asks, then what SecretTargetAttachment adds) has every key the AWS MySQL rotation
functions read, and every password rotation generates has each character class it requires."""

import string

import boto3
import pytest
from moto import mock_aws

from tests.helpers.bootstrap_files import aurora_attachment, generated_secret
from tests.helpers.cfn_templates import TEMPLATES, Context, load, properties, resources

REGION = "us-east-1"
ADMIN_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:AdminSecret-AbCdEf"
# The MySQL rotation functions (single and alternating users) refuse a secret without these.
REQUIRED_KEYS = {"engine", "host", "username", "password"}
ACCEPTED_ENGINES = {"mysql", "aurora-mysql"}
CLASSES = {
    "lowercase": set(string.ascii_lowercase),
    "uppercase": set(string.ascii_uppercase),
    "digits": set(string.digits),
    "punctuation": set(string.punctuation),
}
SAMPLES = 200


@pytest.fixture
def secretsmanager():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def exclude_characters(template: dict) -> str:
    return template["Mappings"]["PasswordPolicy"]["Characters"]["Exclude"]


def generate_like_template(client, template: dict, logical_id: str) -> str:
    generate = properties(template, logical_id)["GenerateSecretString"]
    return client.get_random_password(
        PasswordLength=generate["PasswordLength"],
        ExcludeCharacters=exclude_characters(template),
        RequireEachIncludedType=generate["RequireEachIncludedType"],
    )["RandomPassword"]


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_every_secret_carries_what_the_rotation_functions_read(secretsmanager, variant):
    template = load(TEMPLATES[variant])
    context = Context(template, AdminSecret=ADMIN_ARN)
    attachment = aurora_attachment("rotation-demo.cluster-abc.us-east-1.rds.amazonaws.com", 3306)
    for logical_id in resources(template, "AWS::SecretsManager::Secret"):
        password = generate_like_template(secretsmanager, template, logical_id)
        secret = generated_secret(template, logical_id, context, password, attachment)
        assert set(secret) >= REQUIRED_KEYS, logical_id
        assert secret["engine"] in ACCEPTED_ENGINES
        assert secret["password"] == password
        assert int(secret["port"]) == 3306


def test_app_secret_points_at_the_admin_secret_and_its_database(secretsmanager):
    template = load(TEMPLATES["multi-user"])
    context = Context(template, AdminSecret=ADMIN_ARN)
    password = generate_like_template(secretsmanager, template, "AppSecret")
    secret = generated_secret(
        template, "AppSecret", context, password, aurora_attachment("h", 3306)
    )
    assert secret["masterarn"] == ADMIN_ARN
    assert secret["dbname"] == template["Parameters"]["DatabaseName"]["Default"]
    assert secret["username"] == template["Parameters"]["AppUsername"]["Default"]
    assert len(secret["username"] + "_clone") <= 16


def test_admin_secret_holds_the_admin_username(secretsmanager):
    for variant in TEMPLATES:
        template = load(TEMPLATES[variant])
        secret = generated_secret(
            template, "AdminSecret", Context(template), "pw", aurora_attachment("h", 3306)
        )
        assert secret["username"] == template["Parameters"]["AdminUsername"]["Default"]
        assert "masterarn" not in secret


@pytest.mark.parametrize("variant", sorted(TEMPLATES))
def test_rotation_passwords_draw_from_every_class_and_never_from_excluded_characters(
    secretsmanager, variant
):
    # The hosted functions call GetRandomPassword with only ExcludeCharacters set: 32 characters,
    # each class required. A class emptied by ExcludeCharacters makes that call fail.
    template = load(TEMPLATES[variant])
    excluded = set(exclude_characters(template))
    for name, characters in CLASSES.items():
        assert characters - excluded, f"no {name} left: GetRandomPassword would refuse"
    for _ in range(SAMPLES):
        password = secretsmanager.get_random_password(
            ExcludeCharacters=exclude_characters(template)
        )["RandomPassword"]
        assert len(password) == 32
        assert not set(password) & excluded
        for name, characters in CLASSES.items():
            assert set(password) & characters, f"{password!r} has no {name}"
