"""moto's cost per call at the queue depths and table sizes of a campaign, with and without the
local stack's speed-ups (`cloison_local.moto_speedups`).

Run `python bench/moto_speed.py [--depth 2000] [--items 10000] [--only plain|patched]`. Not part
of `make test` or `make bench`: it takes a few minutes, most of them in unpatched moto.

For each variant, a fresh moto server gets the template's own delivery topic, delivery queue
(with its dead-letter queue) and messages table, through the local stack's provisioning. Then:

- the queue is filled through the topic with PublishBatch of 10 events, as the carrier simulator
  publishes them; at each depth, PublishBatch, then ReceiveMessage of 10 and DeleteMessageBatch
  of what came, as the delivery poller calls them, and GetQueueAttributes of the three message
  counts, as the stack's wait for idleness asks;
- the table is filled with message records; at each size, UpdateItem with the delivery path's
  own expression (a new record, a record moving forward, a record already there),
  TransactWriteItems of two records, GetItem, Query of one campaign's 100 records and Query by
  carrier message id on its index.

Each figure is the mean over the calls: wall milliseconds, and milliseconds of CPU of the moto
server process (from /proc), which a busy machine disturbs far less than wall time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from cloison_local.provision import Provisioner
from cloison_local.stack import CREDENTIALS, DEFAULT_TEMPLATE, REGION, MotoServer
from cloison_local.template import load_template

DEPTHS = (100, 500, 1_000, 2_000)
SIZES = (1_000, 5_000, 10_000)
PARTITION = 100  # records of the queried campaign
EVENT_PAD = 450  # an End User Messaging delivery event is about 600 bytes of JSON
UPDATE_EXPRESSION = (
    "SET #status = :status, status_rank = :rank, updated_at = :now, "
    "campaign_id = :campaign, team = :team, number_key = :key, open_campaign = :campaign, "
    "carrier_message_id = :message, sent_at = if_not_exists(sent_at, :now), "
    "expires_at = :expires"
)
CONDITION = "attribute_not_exists(pk) OR status_rank < :rank"


@dataclass
class Figures:
    """Mean wall and server CPU milliseconds per call, by (operation, condition)."""

    rows: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)


class _CpuClock:
    """CPU seconds used so far by one process (user + system), read from /proc."""

    def __init__(self, pid: int) -> None:
        self._stat = Path(f"/proc/{pid}/stat")
        self._ticks = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        fields = self._stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._ticks


@contextmanager
def _server(speedups: bool) -> Iterator[tuple[str, _CpuClock]]:
    for key, value in {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
        os.environ.setdefault(key, value)
    server = MotoServer("127.0.0.1", speedups=speedups)
    server.start()
    try:
        assert server.pid is not None
        yield server.url, _CpuClock(server.pid)
    finally:
        server.stop()


def _measure(
    figures: Figures,
    clock: _CpuClock,
    operation: str,
    condition: str,
    calls: int,
    action: Callable[[int], object],
) -> None:
    cpu, wall = clock.seconds(), time.perf_counter()
    for number in range(calls):
        action(number)
    wall = (time.perf_counter() - wall) * 1_000 / calls
    cpu = (clock.seconds() - cpu) * 1_000 / calls
    figures.rows[(operation, condition)] = (wall, cpu)
    _progress(f"  {operation} {condition}: {wall:.1f} ms wall, {cpu:.1f} ms moto CPU")


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _event(number: int) -> str:
    return json.dumps({"eventType": "TEXT_DELIVERED", "n": number, "pad": "x" * EVENT_PAD})


def run(speedups: bool, depths: tuple[int, ...], sizes: tuple[int, ...]) -> Figures:
    figures = Figures()
    with _server(speedups) as (url, clock):
        stack = Provisioner(
            load_template(DEFAULT_TEMPLATE),
            endpoint_url=url,
            region=REGION,
            stack_name="moto-speed",
            parameter_overrides={},
        ).provision()
        queue_url = stack.resources["DeliveryQueue"].ref
        topic_arn = stack.resources["DeliveryTopic"].ref
        table_name = stack.resources["MessagesTable"].ref
        sqs = boto3.client("sqs", endpoint_url=url, region_name=REGION)
        sns = boto3.client("sns", endpoint_url=url, region_name=REGION)
        dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
        _queue(figures, clock, sqs, sns, queue_url, topic_arn, depths)
        _table(figures, clock, dynamodb, table_name, sizes)
    return figures


def _queue(
    figures: Figures,
    clock: _CpuClock,
    sqs: Any,
    sns: Any,
    queue_url: str,
    topic_arn: str,
    depths: tuple[int, ...],
) -> None:
    published = 0

    def publish(_: int) -> None:
        nonlocal published
        sns.publish_batch(
            TopicArn=topic_arn,
            PublishBatchRequestEntries=[
                {"Id": str(index), "Message": _event(published + index)} for index in range(10)
            ],
        )
        published += 10

    def depth() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def receive_and_delete(_: int) -> None:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        # Put back as many as taken, so the depth holds.
        publish(0)
        if messages:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(messages)
                ],
            )

    def receive(_: int) -> None:
        sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )

    def counts(_: int) -> None:
        sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )

    for target in depths:
        _progress(f"queue: filling to {target} deep...")
        while depth() < target:
            publish(0)
        condition = f"{target} deep"
        _measure(figures, clock, "SNS PublishBatch(10) into the queue", condition, 10, publish)
        _measure(figures, clock, "SQS ReceiveMessage(10)", condition, 5, receive)
        # The five receives above leave 50 messages in flight, as busy pollers do.
        _measure(
            figures,
            clock,
            "SQS ReceiveMessage(10) + DeleteMessageBatch(10) + PublishBatch(10)",
            condition,
            5,
            receive_and_delete,
        )
        _measure(figures, clock, "SQS GetQueueAttributes(3 counts)", condition, 10, counts)


def _key(number: int) -> str:
    return hashlib.sha256(str(number).encode()).hexdigest()


def _record(campaign: str, number: int) -> dict[str, Any]:
    key = _key(number)
    return {
        "pk": {"S": f"campaign#{campaign}"},
        "sk": {"S": f"recipient#{key}"},
        "status": {"S": "delivered"},
        "status_rank": {"N": "3"},
        "updated_at": {"S": "2026-12-01T10:00:00+00:00"},
        "campaign_id": {"S": campaign},
        "team": {"S": "sales"},
        "number_key": {"S": key},
        "open_campaign": {"S": campaign},
        "carrier_message_id": {"S": str(uuid.UUID(int=number))},
        "sent_at": {"S": "2026-12-01T10:00:00+00:00"},
        "expires_at": {"N": "1830000000"},
    }


def _table(
    figures: Figures, clock: _CpuClock, dynamodb: Any, table_name: str, sizes: tuple[int, ...]
) -> None:
    stored = 0
    probe = 0

    def advance(campaign: str, number: int, rank: int) -> None:
        with suppress(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.update_item(
                TableName=table_name,
                Key={
                    "pk": {"S": f"campaign#{campaign}"},
                    "sk": {"S": f"recipient#{_key(number)}"},
                },
                UpdateExpression=UPDATE_EXPRESSION,
                ConditionExpression=CONDITION,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": {"S": "sent" if rank == 2 else "delivered"},
                    ":rank": {"N": str(rank)},
                    ":now": {"S": "2026-12-01T10:00:00+00:00"},
                    ":campaign": {"S": campaign},
                    ":team": {"S": "sales"},
                    ":key": {"S": _key(number)},
                    ":message": {"S": str(uuid.uuid4())},
                    ":expires": {"N": "1830000000"},
                },
                ReturnValues="UPDATED_OLD",
            )

    # The queried campaign, its records written first.
    for start in range(0, PARTITION, 25):
        dynamodb.batch_write_item(
            RequestItems={
                table_name: [
                    {"PutRequest": {"Item": _record("queried", 1_000_000 + n)}}
                    for n in range(start, min(PARTITION, start + 25))
                ]
            }
        )
    for target in sizes:
        _progress(f"table: filling to {target} records...")
        while stored < target:
            count = min(25, target - stored)
            dynamodb.batch_write_item(
                RequestItems={
                    table_name: [
                        {"PutRequest": {"Item": _record("bulk", stored + n)}} for n in range(count)
                    ]
                }
            )
            stored += count
        condition = f"{target:,} items"
        base = probe
        probe += 20
        _measure(
            figures,
            clock,
            "DynamoDB UpdateItem, new record",
            condition,
            20,
            lambda n, base=base: advance("probe", base + n, 2),
        )
        _measure(
            figures,
            clock,
            "DynamoDB UpdateItem, record moves forward",
            condition,
            20,
            lambda n, base=base: advance("probe", base + n, 3),
        )
        _measure(
            figures,
            clock,
            "DynamoDB UpdateItem, condition fails",
            condition,
            20,
            lambda n, base=base: advance("probe", base + n, 3),
        )
        _measure(
            figures,
            clock,
            "DynamoDB TransactWriteItems, 2 puts",
            condition,
            5,
            lambda n, base=base: dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table_name, "Item": _record("pair", 2 * (base + n))}},
                    {"Put": {"TableName": table_name, "Item": _record("pair", 2 * (base + n) + 1)}},
                ]
            ),
        )
        _measure(
            figures,
            clock,
            "DynamoDB GetItem",
            condition,
            20,
            lambda n: dynamodb.get_item(
                TableName=table_name,
                Key={"pk": {"S": "campaign#bulk"}, "sk": {"S": f"recipient#{_key(n)}"}},
            ),
        )
        _measure(
            figures,
            clock,
            f"DynamoDB Query, one campaign ({PARTITION} items)",
            condition,
            5,
            lambda _: dynamodb.query(
                TableName=table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "campaign#queried"}},
            ),
        )
        _measure(
            figures,
            clock,
            f"DynamoDB Query open-by-campaign index ({PARTITION} items)",
            condition,
            5,
            lambda _: dynamodb.query(
                TableName=table_name,
                IndexName="open-by-campaign",
                KeyConditionExpression="open_campaign = :campaign",
                ExpressionAttributeValues={":campaign": {"S": "queried"}},
            ),
        )


def render(results: dict[str, Figures]) -> str:
    variants = list(results)
    keys: list[tuple[str, str]] = []
    for figures in results.values():
        keys += [key for key in figures.rows if key not in keys]
    header = " | ".join(f"{name} wall ms | {name} moto CPU ms" for name in variants)
    lines = [
        f"| operation | condition | {header} |",
        "|---|---|" + "---|---|" * len(variants),
    ]
    for operation, condition in keys:
        cells = []
        for name in variants:
            wall, cpu = results[name].rows.get((operation, condition), (float("nan"),) * 2)
            cells.append(f"{wall:,.1f} | {cpu:,.1f}")
        lines.append(f"| {operation} | {condition} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depth", type=int, default=DEPTHS[-1], help="deepest queue measured")
    parser.add_argument("--items", type=int, default=SIZES[-1], help="largest table measured")
    parser.add_argument("--only", choices=("plain", "patched"), help="measure one variant")
    arguments = parser.parse_args()
    depths = (*(d for d in DEPTHS if d < arguments.depth), arguments.depth)
    sizes = (*(s for s in SIZES if s < arguments.items), arguments.items)
    variants = {"plain": False, "patched": True}
    if arguments.only:
        variants = {arguments.only: variants[arguments.only]}
    results = {}
    for name, speedups in variants.items():
        _progress(f"moto {name}:")
        results[name] = run(speedups, depths, sizes)
    sys.stdout.write(render(results))
