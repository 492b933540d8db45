"""Benchmark baseline only (never deployed): the same role lookup written the minimal
cfnresponse way, with no retries, deadlines or validation, answering through urllib."""

import json
import urllib.request

import boto3


def handler(event, context):
    status, reason, data = "SUCCESS", "", {}
    physical_id = event.get("PhysicalResourceId") or context.aws_request_id
    try:
        if event["RequestType"] != "Delete":
            name = event["ResourceProperties"]["FunctionName"]
            configuration = boto3.client("lambda").get_function_configuration(FunctionName=name)
            data = {"RoleArn": configuration["Role"], "FunctionArn": configuration["FunctionArn"]}
            physical_id = configuration["FunctionArn"]
    except Exception as error:  # a cfnresponse function answers FAILED on anything
        status, reason = "FAILED", str(error)
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's https ResponseURL
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
