"""The local runtime counts each function's AWS API calls and CPU time, from inside its workers.

The function below runs in a real worker process; its calls are answered by botocore's Stubber,
so no request leaves the process and the test needs no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cloison_local.model import FunctionSpec
from cloison_local.runtime import FunctionError, FunctionRuntime

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-3",
}


def calling_handler(event: dict[str, Any], context: object) -> dict[str, int]:
    """Makes the stubbed calls the event asks for, each from a client of its own service."""
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    with Stubber(dynamodb) as dynamodb_stub, Stubber(sqs) as sqs_stub:
        for _ in range(event["get_items"]):
            dynamodb_stub.add_response("get_item", {})
            dynamodb.get_item(TableName="messages", Key={"pk": {"S": "c-1"}})
        for _ in range(event["send_batches"]):
            sqs_stub.add_response("send_message_batch", {"Successful": [], "Failed": []})
            sqs.send_message_batch(
                QueueUrl="https://sqs.eu-west-3.amazonaws.com/123456789012/send",
                Entries=[{"Id": "0", "MessageBody": "{}"}],
            )
        if event.get("fail"):
            dynamodb_stub.add_client_error("put_item", service_error_code="ValidationException")
            dynamodb.put_item(TableName="messages", Item={"pk": {"S": "c-1"}})
    return {"done": 1}


@pytest.fixture
def runtime() -> Iterator[FunctionRuntime]:
    spec = FunctionSpec(
        logical_id="CountingFunction",
        name="counting",
        arn="arn:aws:lambda:eu-west-3:123456789012:function:counting",
        handler=f"{__name__}.calling_handler",
        timeout_seconds=60,
    )
    running = FunctionRuntime(spec, CREDENTIALS, concurrency=1)
    yield running
    running.stop()


def test_calls_are_counted_by_service_and_operation(runtime: FunctionRuntime) -> None:
    # Given a function that makes 3 GetItem and 2 SendMessageBatch calls per invocation
    event = {"get_items": 3, "send_batches": 2}

    # When it is invoked twice
    assert runtime.invoke(event) == {"done": 1}
    runtime.invoke(event)

    # Then the runtime has counted every call, by service and operation
    assert runtime.call_counts() == {
        ("dynamodb", "GetItem"): 6,
        ("sqs", "SendMessageBatch"): 4,
    }
    assert runtime.cpu_seconds() > 0.0


def test_after_a_reset_a_failed_invocation_still_counts(runtime: FunctionRuntime) -> None:
    # Given counts from an earlier invocation
    runtime.invoke({"get_items": 1, "send_batches": 0})

    # When they are reset and an invocation fails after two calls
    runtime.reset_call_counts()
    with pytest.raises(FunctionError):
        runtime.invoke({"get_items": 1, "send_batches": 0, "fail": True})

    # Then only the failed invocation's calls are counted, the failed call included
    assert runtime.call_counts() == {("dynamodb", "GetItem"): 1, ("dynamodb", "PutItem"): 1}
    assert runtime.errors == 1
