"""Custom::LambdaRoleLookup: the execution role ARN of a Lambda function, for CloudFormation.

Lambda handler: app.handler. See docs/Custom__LambdaRoleLookup.md.
"""

import os

import boto3
import resource_properties
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from cfn_one_shot.one_shot_resource import OneShotResource
from cfn_one_shot.reasons import RequestRejected
from role_lookup import find_role

# One attempt per call and short socket timeouts: role_lookup owns the retries and the deadline.
LAMBDA_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 1},
    user_agent_extra="custom-lambda-role-lookup",
)

helper = OneShotResource(work="lookup", loggers=(__name__, "role_lookup", "resource_properties"))


@helper.create
@helper.update
def look_up_role(event, _context):
    """Create and Update: the function's ARN becomes the physical id, so a new function replaces."""
    region = os.environ.get("AWS_REGION")
    ref = resource_properties.function_ref(event.get("ResourceProperties"), region)
    try:
        client = boto3.client("lambda", region_name=region, config=LAMBDA_CLIENT_CONFIG)
    except BotoCoreError as error:  # no Region: only outside Lambda, which always sets one
        raise RequestRejected(f"Looking up Lambda function {ref.given!r} failed: {error}") from None
    found = find_role(client, ref, helper.deadlines.work, helper.clock)
    helper.Data.update(
        RoleArn=found.role_arn, RoleName=found.role_name, FunctionArn=found.function_arn
    )
    return found.function_arn


@helper.delete
def forget(_event, _context):
    """Delete: the lookup created nothing, so there is nothing to undo and no AWS call to make."""


def handler(event, context):
    helper(event, context)
