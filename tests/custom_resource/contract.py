"""What CloudFormation reads from a custom resource's answer, checked the same way for both."""

from .local_endpoints import LambdaContext

RESPONSE_FIELDS = {
    "Status",
    "Reason",
    "PhysicalResourceId",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "Data",
    "NoEcho",
}


def answer(app, receiver, event, seconds=10.0) -> dict:
    """Invoke the handler and return the single response CloudFormation would read."""
    assert app.handler(event, LambdaContext(seconds, app.helper.clock)) is None
    puts = receiver.puts()
    assert len(puts) == 1, f"expected exactly one response, got {len(puts)}"
    assert puts[0].headers.get("Content-Type") == ""  # what the presigned S3 URL is signed for
    assert len(puts[0].body) <= 4096
    document = puts[0].document
    assert set(document) == RESPONSE_FIELDS
    assert document["StackId"] == event["StackId"]
    assert document["RequestId"] == event["RequestId"]
    assert document["LogicalResourceId"] == event["LogicalResourceId"]
    return document
