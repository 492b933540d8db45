"""The rotation-failure alarm: the EventBridge rule's pattern, run through a real matcher, catches
this stack's failed rotations and nothing else; the rule reaches an encrypted topic that only it
may publish to; an optional e-mail address is subscribed.

moto's TestEventPattern API answers without a result, so each sample event goes the way AWS
routes it: PutRule with the template's pattern, a target (an SQS queue standing in for the
topic), PutEvents, and what reaches the queue. moto's pattern matcher decides.
"""

from __future__ import annotations

import json
import re
import uuid

import boto3
import pytest
from moto import mock_aws

from tests.helpers.cfn_templates import (
    EXISTING_CLUSTER,
    TEMPLATES,
    Context,
    evaluate,
    load,
    properties,
    resources,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{{name}}-{{suffix}}"
# Every template carries the same alarm, the existing-cluster one included.
ALARM_TEMPLATES = {**TEMPLATES, "existing-cluster": EXISTING_CLUSTER}


@pytest.fixture(params=sorted(ALARM_TEMPLATES), ids=sorted(ALARM_TEMPLATES))
def template(request) -> dict:
    return load(ALARM_TEMPLATES[request.param])


def secret_arn(logical_id: str, stack: str = "rotation-demo", suffix: str = "AbCdEf") -> str:
    # CloudFormation names a secret <LogicalId>-<random>; the ARN adds a 6-character suffix.
    return SECRET_ARN.format(name=f"{logical_id}-{stack}", suffix=suffix)


def stack_secret_arns(template: dict) -> dict[str, str]:
    return {name: secret_arn(name) for name in resources(template, "AWS::SecretsManager::Secret")}


def rotation_event(event_name: str, secret: str, detail_type: str = "") -> dict:
    """A Secrets Manager rotation event as CloudTrail delivers it to EventBridge (a service
    event: no request, no response; the secret in additionalEventData)."""
    return {
        "Source": "aws.secretsmanager",
        "DetailType": detail_type or "AWS Service Event via CloudTrail",
        "Detail": json.dumps(
            {
                "eventVersion": "1.08",
                "userIdentity": {"accountId": ACCOUNT, "invokedBy": "secretsmanager.amazonaws.com"},
                "eventTime": "2026-11-29T01:07:12Z",
                "eventSource": "secretsmanager.amazonaws.com",
                "eventName": event_name,
                "awsRegion": REGION,
                "sourceIPAddress": "secretsmanager.amazonaws.com",
                "userAgent": "secretsmanager.amazonaws.com",
                "requestParameters": None,
                "responseElements": None,
                "additionalEventData": {"SecretId": secret},
                "requestID": str(uuid.uuid4()),
                "eventID": str(uuid.uuid4()),
                "readOnly": False,
                "eventType": "AwsServiceEvent",
                "managementEvent": True,
                "recipientAccountId": ACCOUNT,
                "eventCategory": "Management",
            }
        ),
    }


def api_call_event(event_name: str, secret: str) -> dict:
    """A Secrets Manager API call as CloudTrail delivers it (the ARN in requestParameters)."""
    event = rotation_event(event_name, secret, detail_type="AWS API Call via CloudTrail")
    detail = json.loads(event["Detail"])
    detail.update(
        eventType="AwsApiCall",
        requestParameters={"secretId": secret},
        additionalEventData=None,
    )
    event["Detail"] = json.dumps(detail)
    return event


def rule_pattern(template: dict) -> dict:
    context = Context(template, **stack_secret_arns(template))
    return evaluate(properties(template, "RotationFailureRule")["EventPattern"], context)


@pytest.fixture
def deliver():
    """Route events through an EventBridge rule with the template's pattern; returns the
    eventName and secret of every event that reached the rule's target."""
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)

        def run(template: dict, entries: list[dict]) -> list[tuple[str, str]]:
            queue = sqs.create_queue(QueueName=f"alarm-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
            rule = f"rotation-failure-{uuid.uuid4().hex[:8]}"
            events.put_rule(Name=rule, EventPattern=json.dumps(rule_pattern(template)))
            events.put_targets(
                Rule=rule, Targets=[{"Id": "topic", "Arn": queue_arn["Attributes"]["QueueArn"]}]
            )
            for entry in entries:
                assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
            received = sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            found = []
            for message in received:
                detail = json.loads(message["Body"])["detail"]
                secret = (detail.get("additionalEventData") or {}).get("SecretId", "")
                found.append((detail["eventName"], secret))
            return sorted(found)

        yield run


@pytest.mark.parametrize("variant", sorted(ALARM_TEMPLATES))
def test_a_failed_rotation_of_each_secret_of_this_stack_raises_the_alarm(deliver, variant):
    template = load(ALARM_TEMPLATES[variant])
    arns = stack_secret_arns(template)
    sent = [rotation_event("RotationFailed", arn) for arn in arns.values()]
    sent += [rotation_event("TestRotationFailed", arn) for arn in arns.values()]
    expected = sorted(
        [("RotationFailed", arn) for arn in arns.values()]
        + [("TestRotationFailed", arn) for arn in arns.values()]
    )
    assert deliver(template, sent) == expected


@pytest.mark.parametrize("variant", sorted(ALARM_TEMPLATES))
def test_other_stacks_and_successful_rotations_stay_quiet(deliver, variant):
    template = load(ALARM_TEMPLATES[variant])
    name, ours = sorted(stack_secret_arns(template).items())[0]
    quiet = [
        # Another stack's secret of the same logical id, and one whose ARN starts like ours.
        rotation_event("RotationFailed", secret_arn(name, stack="other-stack")),
        rotation_event("RotationFailed", ours.removesuffix("-AbCdEf") + "-XyZ123"),
        rotation_event("RotationFailed", ours + "x"),
        # This stack's secret rotating as it should.
        rotation_event("RotationStarted", ours),
        rotation_event("RotationSucceeded", ours),
        rotation_event("TestRotationSucceeded", ours),
        # The same names as API calls are not rotation outcomes.
        api_call_event("RotateSecret", ours),
    ]
    assert deliver(template, quiet) == []


def test_pattern_names_exactly_the_secrets_of_this_stack(template):
    # Each secret by its full ARN (Ref), so the random suffix can never match another secret.
    named = properties(template, "RotationFailureRule")["EventPattern"]["detail"]
    assert named["additionalEventData"]["SecretId"] == [
        {"Ref": name} for name in sorted(resources(template, "AWS::SecretsManager::Secret"))
    ]


def test_rule_publishes_to_the_topic_that_only_it_may_publish_to(template):
    rule = properties(template, "RotationFailureRule")
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "RotationAlarmTopic"}
    policy = properties(template, "RotationAlarmTopicPolicy")
    assert policy["Topics"] == [{"Ref": "RotationAlarmTopic"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "RotationAlarmTopic"}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["RotationFailureRule", "Arn"]}}
    }


def test_topic_is_encrypted_with_a_key_eventbridge_may_use(template):
    # The AWS managed key alias/aws/sns would make every publish by EventBridge fail.
    assert properties(template, "RotationAlarmTopic")["KmsMasterKeyId"] == {
        "Ref": "RotationAlarmKey"
    }
    key = properties(template, "RotationAlarmKey")
    assert key["EnableKeyRotation"] is True
    context = Context(template)
    statements = {
        statement["Sid"]: evaluate(statement, context)
        for statement in key["KeyPolicy"]["Statement"]
    }
    admin = statements["AccountAdministersTheKey"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    events = statements["EventBridgePublishesToTheAlarmTopic"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(events["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    # No condition a KMS request made inside SNS may lack (that would drop alarms silently): the
    # topic policy, which admits only this stack's rule, is what binds the key to the rule.
    assert "Condition" not in events
    assert set(statements) == {"AccountAdministersTheKey", "EventBridgePublishesToTheAlarmTopic"}


@pytest.mark.parametrize(("email", "subscribed"), [("", False), ("ops@example.com", True)])
def test_an_email_address_is_subscribed_only_when_given(template, email, subscribed):
    subscription = template["Resources"]["RotationAlarmSubscription"]
    assert Context(template, RotationAlarmEmail=email).condition(subscription["Condition"]) is (
        subscribed
    )
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "RotationAlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "RotationAlarmEmail"},
    }


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("ops@example.com", True),
        ("first.last+rotation@mail.example.co.uk", True),
        ("ops", False),
        ("ops@localhost", False),
        ("ops@example.com,dba@example.com", False),
        ("ops @example.com", False),
    ],
)
def test_alarm_email_parameter_takes_one_address_or_nothing(template, value, accepted):
    pattern = template["Parameters"]["RotationAlarmEmail"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted


def test_topic_arn_is_an_output(template):
    assert template["Outputs"]["RotationAlarmTopicArn"]["Value"] == {"Ref": "RotationAlarmTopic"}
