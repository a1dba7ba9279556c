"""moto with the local stack's speed-ups answers what moto without them answers.

The same script of SQS, SNS and DynamoDB calls runs against two moto servers, one plain and one
started through `cloison_local.moto_speedups`; every answer is compared once what differs by
nature (generated ids, receipt handles, timestamps) is left out. The script goes through what
each patch touches: message counts, attributes, receives and dead-lettering, deletes by current
and former receipt handles, queries on partitions and indexes with pages, and update expressions
valid and invalid, repeated so that what is kept from a first call is used by a second.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cloison_local.stack import CREDENTIALS, REGION, MotoServer

pytestmark = pytest.mark.integration

VARYING = frozenset(
    {
        "ResponseMetadata",
        "MessageId",
        "ReceiptHandle",
        "SentTimestamp",
        "ApproximateFirstReceiveTimestamp",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
        "SequenceNumber",
        "QueueUrl",
        "SubscriptionArn",
        "CreationDateTime",
        "TableId",
    }
)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
            env.setenv(name, value)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        started = {"plain": MotoServer("127.0.0.1", speedups=False)}
        started["patched"] = MotoServer("127.0.0.1", speedups=True)
        try:
            for server in started.values():
                server.start()
            yield {name: server.url for name, server in started.items()}
        finally:
            for server in started.values():
                server.stop()


def _stable(value: Any) -> Any:
    """The answer without what differs from one run to the next."""
    if isinstance(value, dict):
        return {key: _stable(item) for key, item in value.items() if key not in VARYING}
    if isinstance(value, list):
        return [_stable(item) for item in value]
    return value


class Recorder:
    """Runs calls and records each answer, or the error code and message it raised."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[Any] = []
        self.clients = {
            service: boto3.client(service, endpoint_url=url, region_name=REGION)  # type: ignore[call-overload]
            for service in ("sqs", "sns", "dynamodb")
        }

    def __call__(self, service: str, operation: str, **arguments: Any) -> Any:
        try:
            answer = getattr(self.clients[service], operation)(**arguments)
        except ClientError as error:
            self.answers.append((operation, error.response["Error"]))
            return None
        self.answers.append((operation, _stable(answer)))
        return answer


def _run(url: str, script: Callable[[Recorder], None]) -> list[Any]:
    recorder = Recorder(url)
    script(recorder)
    return recorder.answers


def _both(servers: dict[str, str], script: Callable[[Recorder], None]) -> list[Any]:
    plain, patched = (_run(servers[name], script) for name in ("plain", "patched"))
    assert len(patched) == len(plain)
    for number, (expected, got) in enumerate(zip(plain, patched, strict=True)):
        assert got == expected, f"answer {number} differs"
    return patched


def _queue_script(call: Recorder) -> None:
    dead = call("sqs", "create_queue", QueueName="dead")["QueueUrl"]
    dead_arn = call("sqs", "get_queue_attributes", QueueUrl=dead, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    url = call(
        "sqs",
        "create_queue",
        QueueName="events",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    topic = call("sns", "create_topic", Name="events")["TopicArn"]
    queue_arn = call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    call(
        "sns",
        "subscribe",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    for first in range(0, 30, 10):
        call(
            "sns",
            "publish_batch",
            TopicArn=topic,
            PublishBatchRequestEntries=[
                {"Id": str(n), "Message": json.dumps({"n": first + n})} for n in range(10)
            ],
        )
    call(
        "sqs",
        "send_message",
        QueueUrl=url,
        MessageBody="with attributes",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}},
    )
    call("sqs", "send_message", QueueUrl=url, MessageBody="delayed", DelaySeconds=60)
    counts = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=counts)
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["Policy", "DelaySeconds"])

    def receive(visibility: int = 30) -> list[dict[str, Any]]:
        answer = call(
            "sqs",
            "receive_message",
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    first = receive()
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=counts)
    handles = [message["ReceiptHandle"] for message in first]
    call(
        "sqs",
        "delete_message_batch",
        QueueUrl=url,
        Entries=[
            *({"Id": f"m{n}", "ReceiptHandle": handle} for n, handle in enumerate(handles[:5])),
            {"Id": "again", "ReceiptHandle": handles[0]},
            {"Id": "unknown", "ReceiptHandle": "not-a-handle"},
        ],
    )
    call("sqs", "delete_message", QueueUrl=url, ReceiptHandle=handles[0])
    call("sqs", "delete_message", QueueUrl=url, ReceiptHandle="not-a-handle")
    # Received again after its visibility is cut: its former handle still deletes it.
    call(
        "sqs",
        "change_message_visibility",
        QueueUrl=url,
        ReceiptHandle=handles[5],
        VisibilityTimeout=0,
    )
    again = receive()
    assert any(message["Body"] == first[5]["Body"] for message in again)
    call("sqs", "delete_message", QueueUrl=url, ReceiptHandle=handles[5])
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=counts)
    # Everything left made visible at once, received twice more: the third receive dead-letters.
    for _ in range(3):
        for message in receive(visibility=0):
            call(
                "sqs",
                "change_message_visibility",
                QueueUrl=url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=counts)
    call("sqs", "get_queue_attributes", QueueUrl=dead, AttributeNames=counts)
    fifo = call(
        "sqs",
        "create_queue",
        QueueName="ordered.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for body in ("a", "b", "a", "c"):
        call("sqs", "send_message", QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
    call("sqs", "get_queue_attributes", QueueUrl=fifo, AttributeNames=["All"])
    call("sqs", "receive_message", QueueUrl=fifo, MaxNumberOfMessages=10)
    call("sqs", "receive_message", QueueUrl=fifo, MaxNumberOfMessages=10)


def test_queues_answer_the_same(servers: dict[str, str]) -> None:
    answers = _both(servers, _queue_script)
    assert len(answers) > 40


KEY = "SET #status = :status, status_rank = :rank, sent_at = if_not_exists(sent_at, :now)"


def _table_script(call: Recorder) -> None:
    call(
        "dynamodb",
        "create_table",
        TableName="messages",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "sk", "carrier_message_id", "recipient_hmac", "sent_at")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-carrier-message",
                "KeySchema": [{"AttributeName": "carrier_message_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-recipient",
                "KeySchema": [
                    {"AttributeName": "recipient_hmac", "KeyType": "HASH"},
                    {"AttributeName": "sent_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-sent-at",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sent_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    call(
        "dynamodb",
        "create_table",
        TableName="counters",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    for number in range(90):
        campaign = f"c{number % 3}"
        item = {
            "pk": {"S": f"campaign#{campaign}"},
            "sk": {"S": f"recipient#{number:04d}"},
            "status_rank": {"N": str(number % 4)},
            "carrier_message_id": {"S": f"m{number % 7}"},
            "sent_at": {"S": f"2026-12-01T10:{number % 60:02d}:00"},
            "tags": {"SS": ["a", f"t{number % 5}"]},
        }
        if number % 2:
            item["recipient_hmac"] = {"S": f"h{number % 5}"}
        call("dynamodb", "put_item", TableName="messages", Item=item)
        call("dynamodb", "put_item", TableName="counters", Item={"pk": {"S": f"k{number % 9}"}})

    def query(**arguments: Any) -> None:
        arguments = {"TableName": "messages", **arguments}
        while True:
            answer = call("dynamodb", "query", **arguments)
            if not answer or "LastEvaluatedKey" not in answer:
                return
            arguments["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    campaign = {":pk": {"S": "campaign#c1"}}
    query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=campaign)
    query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=campaign, Limit=7)
    query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=campaign,
        Limit=4,
        ScanIndexForward=False,
    )
    query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
        ExpressionAttributeValues={
            **campaign,
            ":low": {"S": "recipient#0010"},
            ":high": {"S": "recipient#0040"},
        },
    )
    query(
        KeyConditionExpression="pk = :pk",
        FilterExpression="status_rank < :final",
        ExpressionAttributeValues={**campaign, ":final": {"N": "3"}},
        Limit=5,
    )
    query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=campaign, Select="COUNT")
    query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "campaign#none"}},
    )
    query(
        IndexName="by-carrier-message",
        KeyConditionExpression="carrier_message_id = :id",
        ExpressionAttributeValues={":id": {"S": "m3"}},
        Limit=4,
    )
    query(
        IndexName="by-recipient",
        KeyConditionExpression="recipient_hmac = :h AND sent_at > :t",
        ExpressionAttributeValues={":h": {"S": "h1"}, ":t": {"S": "2026-12-01T10:10:00"}},
        Limit=3,
        ScanIndexForward=False,
    )
    query(
        IndexName="by-sent-at",
        KeyConditionExpression="pk = :pk AND sent_at < :t",
        ExpressionAttributeValues={**campaign, ":t": {"S": "2026-12-01T10:30:00"}},
        Limit=6,
    )
    query(
        IndexName="no-such-index",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=campaign,
    )
    query(
        TableName="counters",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "k4"}},
    )
    call("dynamodb", "scan", TableName="messages", Limit=25)

    def update(
        number: int, expression: str, names: dict[str, str], rank: int, **extra: Any
    ) -> None:
        condition = "attribute_not_exists(pk) OR status_rank < :rank"
        values = {
            ":status": {"S": f"s{rank}"},
            ":rank": {"N": str(rank)},
            ":now": {"S": f"2026-12-01T11:00:0{rank}"},
        }
        call(
            "dynamodb",
            "update_item",
            TableName="messages",
            Key={"pk": {"S": "campaign#c9"}, "sk": {"S": f"recipient#{number:04d}"}},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues={
                name: value
                for name, value in values.items()
                if name in expression or name in condition
            },
            **({"ExpressionAttributeNames": names} if names else {}),
            **extra,
        )

    for number in range(3):
        for rank, returns in ((2, "UPDATED_OLD"), (3, "ALL_NEW"), (3, "UPDATED_OLD"), (1, "NONE")):
            update(number, KEY, {"#status": "status"}, rank, ReturnValues=returns)
    for attempt in range(2):
        # Each check that depends on the text alone, failing or passing, twice, on a new record.
        number = 5 + attempt
        update(number, "SET #status = :status SET status_rank = :rank", {"#status": "status"}, 2)
        update(number, "SET #status = :status, #status = :rank", {"#status": "status"}, 2)
        update(number, "SET #status = :status, status_rank = :rank", {"#status": "pk"}, 2)
        update(number, "SET #status = :status, status_rank = :rank", {"#status": "sk"}, 2)
        update(number, "SET #status = :status, status_rank = :rank", {"#status": "status"}, 2)
        update(number, "SET #status = :status, status_rank = :rank", {"#status": "status"}, 3)
        update(number, "SET a.b = :status, a = :rank", {}, 4)
        update(number, "SET #status = :missing", {"#status": "status"}, 5)
        update(number, "SET #status = :status REMOVE tags ADD n :rank", {"#status": "status"}, 6)
        update(number, "SET", {}, 7)
    call(
        "dynamodb",
        "query",
        TableName="messages",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "campaign#c9"}},
    )

    def message(campaign: str, number: int, **attributes: Any) -> dict[str, Any]:
        return {"pk": {"S": f"campaign#{campaign}"}, "sk": {"S": f"r{number}"}, **attributes}

    def transact(*actions: dict[str, Any]) -> None:
        call("dynamodb", "transact_write_items", TransactItems=list(actions))

    absent = "attribute_not_exists(pk)"
    rank = {":r": {"N": "1"}}
    transact(
        {"Put": {"TableName": "messages", "Item": message("t", 1), "ConditionExpression": absent}},
        {"Put": {"TableName": "counters", "Item": {"pk": {"S": "t"}, "n": {"N": "1"}}}},
        {
            "Update": {
                "TableName": "messages",
                "Key": message("c0", 0),
                "UpdateExpression": "SET status_rank = :r",
                "ExpressionAttributeValues": rank,
            }
        },
    )
    # Cancelled by its last condition: the new partition, the replaced counter, the deleted and
    # updated items all come back as they were.
    transact(
        {
            "Put": {
                "TableName": "messages",
                "Item": message("new", 1),
                "ConditionExpression": absent,
            }
        },
        {"Put": {"TableName": "counters", "Item": {"pk": {"S": "t"}, "n": {"N": "2"}}}},
        {"Delete": {"TableName": "messages", "Key": message("c1", 1)}},
        {
            "Update": {
                "TableName": "messages",
                "Key": message("c0", 3),
                "UpdateExpression": "SET status_rank = :r REMOVE tags",
                "ExpressionAttributeValues": rank,
            }
        },
        {
            "ConditionCheck": {
                "TableName": "messages",
                "Key": message("t", 1),
                "ConditionExpression": absent,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )
    # Refused whole: two actions on one item, a key missing, an unknown table, a bad update.
    transact(
        {"Put": {"TableName": "messages", "Item": message("new", 2)}},
        {"Delete": {"TableName": "messages", "Key": message("new", 2)}},
    )
    transact(
        {"Put": {"TableName": "messages", "Item": message("new", 3)}},
        {"Delete": {"TableName": "messages", "Key": {"pk": {"S": "campaign#new"}}}},
    )
    transact(
        {"Put": {"TableName": "counters", "Item": {"pk": {"S": "u"}}}},
        {"Put": {"TableName": "nowhere", "Item": {"pk": {"S": "u"}}}},
    )
    transact(
        {"Put": {"TableName": "messages", "Item": message("new", 4)}},
        {
            "Update": {
                "TableName": "messages",
                "Key": message("c2", 2),
                "UpdateExpression": "SET pk = :r",
                "ExpressionAttributeValues": rank,
            }
        },
    )
    for table in ("messages", "counters"):
        call("dynamodb", "scan", TableName=table)
    for campaign in ("new", "t", "c0", "c1"):
        call(
            "dynamodb",
            "query",
            TableName="messages",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"campaign#{campaign}"}},
        )


def test_tables_answer_the_same(servers: dict[str, str]) -> None:
    answers = _both(servers, _table_script)
    errors = [answer for answer in answers if isinstance(answer[1], dict) and "Code" in answer[1]]
    # The invalid updates and the unknown index failed, on both servers alike.
    assert len(errors) >= 12


def test_conditional_writes_to_one_item_at_once_are_atomic(servers: dict[str, str]) -> None:
    # Given pairs of writes to one new item, each allowed only to move its rank up
    dynamodb = boto3.client("dynamodb", endpoint_url=servers["patched"], region_name=REGION)
    dynamodb.create_table(
        TableName="ranks",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    clients = [
        boto3.client("dynamodb", endpoint_url=servers["patched"], region_name=REGION)
        for _ in range(2)
    ]
    formers: dict[tuple[str, int], int | None] = {}

    def advance(client: Any, key: str, rank: int) -> None:
        try:
            answer = client.update_item(
                TableName="ranks",
                Key={"pk": {"S": key}},
                UpdateExpression="SET #rank = :rank",
                ConditionExpression="attribute_not_exists(pk) OR #rank < :rank",
                ExpressionAttributeNames={"#rank": "rank"},
                ExpressionAttributeValues={":rank": {"N": str(rank)}},
                ReturnValues="UPDATED_OLD",
            )
            formers[(key, rank)] = int(answer.get("Attributes", {}).get("rank", {"N": "0"})["N"])
        except client.exceptions.ConditionalCheckFailedException:
            formers[(key, rank)] = None

    # When both writes of each pair are sent at the same moment
    keys = [f"item-{number}" for number in range(100)]
    for key in keys:
        writers = [
            threading.Thread(target=advance, args=(client, key, rank))
            for client, rank in zip(clients, (2, 3), strict=True)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()

    # Then every item ends at the higher rank, as DynamoDB serializes writes to an item, and
    # at most one write of a pair found the item absent
    for key in keys:
        item = dynamodb.get_item(TableName="ranks", Key={"pk": {"S": key}})["Item"]
        assert item["rank"] == {"N": "3"}
        assert [formers[(key, 2)], formers[(key, 3)]].count(0) <= 1
