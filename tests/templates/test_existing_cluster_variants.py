"""templates/mysql-rotation-existing-cluster.yaml as deployed for each choice a user makes: the
four admin secrets (self-managed or RDS-managed, customer key or not), the network pieces that
exist only where asked, and the rotation-failure alarm, whose event pattern is run through a real
EventBridge pattern matcher (moto's)."""

import itertools
import json

import pytest
from moto.events.models import EventPattern

from tests.helpers.cfn_conditions import rendered
from tests.helpers.cfn_templates import EXISTING_CLUSTER, Context, evaluate, load
from tests.templates.test_existing_cluster import (
    ACCOUNT,
    ADMIN_ARN,
    APP_ARN,
    KEY_ARN,
    REGION,
    REQUIRED,
    RESOURCE_VALUES,
)

ADMIN_SECRETS = list(itertools.product(["self-managed", "rds-managed"], ["", KEY_ARN]))
ENDPOINT_CHOICES = list(
    itertools.product(["true", "false"], ["auto", "true", "false"], ["self-managed", "rds-managed"])
)
DATABASE_GROUP = REQUIRED["DatabaseSecurityGroupId"]
RULE_TYPES = {"AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"}
FUNCTION_GROUPS = {"RotationSecurityGroup", "MySQLUserSecurityGroup"}


@pytest.fixture(scope="module")
def template() -> dict:
    return load(EXISTING_CLUSTER)


def deployed(template: dict, **parameters: str) -> dict[str, dict]:
    return rendered(template, **REQUIRED, **parameters)["Resources"]


def values(template: dict, **parameters: str) -> Context:
    return Context(template, **{**REQUIRED, **RESOURCE_VALUES, **parameters})


def group(node) -> str:
    """A rule's group: a logical id for this stack's groups, the id for a parameter's."""
    if "Fn::GetAtt" in node:
        return node["Fn::GetAtt"][0]
    return DATABASE_GROUP if node == {"Ref": "DatabaseSecurityGroupId"} else node["Ref"]


def port(value) -> int:
    return 3306 if value == {"Ref": "ClusterPort"} else int(value)


def egress_of(resources: dict[str, dict], source: str) -> set[tuple]:
    found = set()
    for body in resources.values():
        rule = body.get("Properties", {})
        if body["Type"] == "AWS::EC2::SecurityGroupEgress" and group(rule["GroupId"]) == source:
            target = rule.get("CidrIp") or group(rule["DestinationSecurityGroupId"])
            found.add((rule["IpProtocol"], port(rule["FromPort"]), port(rule["ToPort"]), target))
    return found


def ingress_to(resources: dict[str, dict], target: str) -> set[tuple]:
    return {
        (rule["IpProtocol"], port(rule["FromPort"]), group(rule["SourceSecurityGroupId"]))
        for body in resources.values()
        if body["Type"] == "AWS::EC2::SecurityGroupIngress"
        for rule in [body["Properties"]]
        if group(rule["GroupId"]) == target
    }


# ---------------------------------------------------------------- the four admin secrets
@pytest.mark.parametrize(("kind", "key"), ADMIN_SECRETS, ids=lambda v: v or "aws-managed-key")
def test_each_admin_secret_gets_exactly_the_access_it_needs(template, kind, key):
    resources = deployed(template, AdminSecretKind=kind, AdminSecretKmsKeyArn=key)
    context = values(template, AdminSecretKind=kind, AdminSecretKmsKeyArn=key)

    # The rotation role: kms:Decrypt on the customer key through MasterSecretKmsKeyArn; without
    # one, the AWS managed key's alias, a grant that changes nothing.
    hosted_key = resources["AdminSecretKeyForRotation"]["Properties"]["Value"]
    expected_key = key or f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/secretsmanager"
    assert evaluate(hosted_key, context) == expected_key

    # The user function's role: kms:Decrypt on the customer key only, only through Secrets Manager.
    role_statements = [
        statement
        for policy in resources["MySQLUserRole"]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    kms = [s for s in role_statements if s["Action"] == "kms:Decrypt"]
    if key:
        (statement,) = kms
        assert evaluate(statement["Resource"], context) == KEY_ARN
        assert evaluate(statement["Condition"], context) == {
            "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
        }
    else:
        assert kms == []

    # RDS-managed: the function finds the cluster through the RDS API, with the permissions for
    # it, and the first rotation waits for them; self-managed rotates at once.
    rotation = resources["AppSecretRotation"]["Properties"]
    assert ("AppRotationRdsLookupPolicy" in resources) == (kind == "rds-managed")
    assert rotation["RotateImmediatelyOnUpdate"] is (kind == "self-managed")
    assert rotation["HostedRotationLambda"]["MasterSecretArn"] == {"Ref": "AdminSecretArn"}


@pytest.mark.parametrize("choice", ["true", "false"])
def test_admin_secret_policy_exists_only_when_asked(template, choice):
    resources = deployed(template, ManageAdminSecretPolicy=choice)
    assert ("AdminSecretResourcePolicy" in resources) == (choice == "true")


# ---------------------------------------------------------------- network pieces
def choices(secrets_manager: str, rds: str, kind: str) -> dict[str, str]:
    return {
        "CreateSecretsManagerEndpoint": secrets_manager,
        "CreateRdsEndpoint": rds,
        "AdminSecretKind": kind,
    }


def rds_endpoint_created(rds: str, kind: str) -> bool:
    """auto: for an rds-managed admin secret, whose rotation asks the RDS API for the host."""
    return rds == "true" or (rds == "auto" and kind == "rds-managed")


@pytest.mark.parametrize(("secrets_manager", "rds", "kind"), ENDPOINT_CHOICES)
def test_endpoints_exist_only_when_asked(template, secrets_manager, rds, kind):
    resources = deployed(template, **choices(secrets_manager, rds, kind))
    services = {
        body["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1]
        for body in resources.values()
        if body["Type"] == "AWS::EC2::VPCEndpoint"
    }
    expected = {
        service
        for service, created in (
            ("secretsmanager", secrets_manager == "true"),
            ("rds", rds_endpoint_created(rds, kind)),
        )
        if created
    }
    assert services == expected
    for body in resources.values():
        if body["Type"] == "AWS::EC2::VPCEndpoint":
            endpoint = body["Properties"]
            assert endpoint["PrivateDnsEnabled"] is True
            assert endpoint["SubnetIds"] == {"Ref": "SubnetIds"}
            assert endpoint["SecurityGroupIds"] == [
                {"Fn::GetAtt": ["EndpointSecurityGroup", "GroupId"]}
            ]
    assert ("EndpointSecurityGroup" in resources) == bool(expected)
    if expected:
        assert ingress_to(resources, "EndpointSecurityGroup") == {
            ("tcp", 443, "RotationSecurityGroup"),
            *[("tcp", 443, "MySQLUserSecurityGroup")] * (secrets_manager == "true"),
        }


@pytest.mark.parametrize(("secrets_manager", "rds", "kind"), ENDPOINT_CHOICES)
def test_functions_reach_the_cluster_port_and_https_only(template, secrets_manager, rds, kind):
    resources = deployed(template, **choices(secrets_manager, rds, kind))
    to_database = ("tcp", 3306, 3306, DATABASE_GROUP)
    to_endpoints = ("tcp", 443, 443, "EndpointSecurityGroup")
    # Without this stack's Secrets Manager endpoint the way out is the VPC's own endpoint or NAT,
    # whose address the stack cannot know; the same for the RDS API an rds-managed secret's
    # rotation calls.
    to_existing = ("tcp", 443, 443, "0.0.0.0/0")
    rotation_https = set()
    if secrets_manager == "true" or rds_endpoint_created(rds, kind):
        rotation_https.add(to_endpoints)
    if secrets_manager == "false" or (
        kind == "rds-managed" and not rds_endpoint_created(rds, kind)
    ):
        rotation_https.add(to_existing)
    # The user function also answers CloudFormation through S3 (a presigned PUT), whatever way
    # the VPC reaches Secrets Manager: the open 443 rule is always there.
    user_https = {to_endpoints, to_existing} if secrets_manager == "true" else {to_existing}
    assert egress_of(resources, "RotationSecurityGroup") == {to_database, *rotation_https}
    assert egress_of(resources, "MySQLUserSecurityGroup") == {to_database, *user_https}
    # The cluster's group admits the cluster port from these two groups and nothing else.
    assert ingress_to(resources, DATABASE_GROUP) == {
        ("tcp", 3306, name) for name in FUNCTION_GROUPS
    }


@pytest.mark.parametrize(("secrets_manager", "rds", "kind"), ENDPOINT_CHOICES)
def test_first_contact_waits_for_whichever_network_pieces_exist(
    template, secrets_manager, rds, kind
):
    resources = deployed(template, **choices(secrets_manager, rds, kind))
    gate = resources["NetworkReadyGate"]["Metadata"]
    network = {
        name
        for name, body in resources.items()
        if body["Type"] == "AWS::EC2::VPCEndpoint"
        or (
            body["Type"] in RULE_TYPES
            and ("Endpoint" in name or "ExistingHttps" in name or name.endswith("ToS3Egress"))
        )
    }
    assert {reference["Ref"] for reference in gate.values()} == network
    for name in ("AppUser", "AppSecretRotation"):
        assert "NetworkReadyGate" in resources[name]["DependsOn"]


def test_an_rds_managed_secret_rotates_with_the_default_network(template):
    # The function asks the RDS API for the cluster (a default boto3 client: the public name,
    # which an endpoint's private DNS answers). With the defaults its only HTTPS went to this
    # stack's Secrets Manager endpoint, and the first rotation failed.
    resources = deployed(template, AdminSecretKind="rds-managed")
    services = {
        body["Properties"]["ServiceName"]["Fn::Sub"]: body["Properties"]
        for body in resources.values()
        if body["Type"] == "AWS::EC2::VPCEndpoint"
    }
    rds = services["com.amazonaws.${AWS::Region}.rds"]
    assert rds["PrivateDnsEnabled"] is True
    assert rds["SubnetIds"] == {"Ref": "SubnetIds"}
    assert ("tcp", 443, 443, "EndpointSecurityGroup") in egress_of(
        resources, "RotationSecurityGroup"
    )
    assert ("tcp", 443, "RotationSecurityGroup") in ingress_to(resources, "EndpointSecurityGroup")
    assert template["Parameters"]["CreateRdsEndpoint"]["Default"] == "auto"


def test_a_vpc_with_its_own_rds_path_gets_https_out_for_the_rotation(template):
    # CreateRdsEndpoint=false: the VPC's own rds endpoint or NAT, at an address the stack cannot
    # name, while Secrets Manager still goes to this stack's endpoint.
    resources = deployed(template, AdminSecretKind="rds-managed", CreateRdsEndpoint="false")
    assert ("tcp", 443, 443, "0.0.0.0/0") in egress_of(resources, "RotationSecurityGroup")
    assert "RdsEndpoint" not in resources


# ---------------------------------------------------------------- rotation-failure alarm
def cloudtrail_service_event(event_name: str, secret_arn: str) -> dict:
    """Shaped like the events Secrets Manager sends EventBridge through CloudTrail."""
    return {
        "version": "0",
        "id": "5b2b8ac1-8b3c-6d2f-2a5e-6f2a8f1c9d10",
        "detail-type": "AWS Service Event via CloudTrail",
        "source": "aws.secretsmanager",
        "account": ACCOUNT,
        "time": "2026-11-27T04:00:20Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"accountId": ACCOUNT, "invokedBy": "secretsmanager.amazonaws.com"},
            "eventSource": "secretsmanager.amazonaws.com",
            "eventName": event_name,
            "awsRegion": REGION,
            "sourceIPAddress": "secretsmanager.amazonaws.com",
            "requestParameters": None,
            "responseElements": None,
            "additionalEventData": {"SecretId": secret_arn},
            "eventType": "AwsServiceEvent",
            "recipientAccountId": ACCOUNT,
        },
    }


def api_call_event(event_name: str, secret_arn: str) -> dict:
    event = cloudtrail_service_event(event_name, secret_arn)
    event["detail-type"] = "AWS API Call via CloudTrail"
    event["detail"]["requestParameters"] = {"secretId": secret_arn}
    return event


@pytest.fixture(scope="module")
def failure_pattern(template) -> EventPattern:
    rule = template["Resources"]["RotationFailureRule"]["Properties"]
    pattern = evaluate(rule["EventPattern"], values(template))
    return EventPattern.load(json.dumps(pattern))


def test_alarm_fires_for_a_failed_rotation_of_this_stacks_secret(failure_pattern):
    assert failure_pattern.matches_event(cloudtrail_service_event("RotationFailed", APP_ARN))


@pytest.mark.parametrize(
    "event",
    [
        cloudtrail_service_event("RotationFailed", APP_ARN.replace("AppSecret", "OtherStack")),
        cloudtrail_service_event("RotationFailed", ADMIN_ARN),
        cloudtrail_service_event("RotationSucceeded", APP_ARN),
        cloudtrail_service_event("RotationStarted", APP_ARN),
        api_call_event("RotateSecret", APP_ARN),
    ],
    ids=["other-secret", "admin-secret", "succeeded", "started", "api-call"],
)
def test_alarm_stays_silent_for_anything_else(failure_pattern, event):
    assert not failure_pattern.matches_event(event)


@pytest.mark.parametrize("email", ["", "ops@example.com"])
def test_email_subscription_exists_only_with_an_address(template, email):
    resources = deployed(template, RotationAlarmEmail=email)
    subscriptions = [b for b in resources.values() if b["Type"] == "AWS::SNS::Subscription"]
    assert len(subscriptions) == bool(email)
    for subscription in subscriptions:
        assert subscription["Properties"]["Protocol"] == "email"
        assert (
            evaluate(
                subscription["Properties"]["Endpoint"], values(template, RotationAlarmEmail=email)
            )
            == email
        )
