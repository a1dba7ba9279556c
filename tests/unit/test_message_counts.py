"""Campaign counters follow the message records' changes, each change counted exactly once."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st
from in_process_aws import create_tables, in_process_aws

from cloison.adapters.tables import CampaignStore, MessageStore
from cloison.errors import DependencyError
from cloison.handlers import message_counts
from cloison.models.records import MessageStatus
from cloison.services.delivery_events import STATUS_RANK
from cloison.services.message_counts import (
    MessageCounter,
    RecordChange,
    counted,
    counts_by_campaign,
)

S = MessageStatus
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, S.DELIVERED, {"sent": 1, "delivered": 1}),  # final events only: one write
        (None, S.SENT, {"sent": 1}),
        (S.SENT, S.DELIVERED, {"delivered": 1}),
        (None, S.FAILED, {"failed": 1}),
        (S.SENT, S.FAILED, {"failed": 1}),
        (S.SENT, S.EXPIRED, {"expired": 1}),
        (S.DELIVERED, S.DELIVERED, {}),  # a write that moved nothing
        (S.DELIVERED, None, {}),
    ],
)
def test_what_a_record_change_counts(
    before: MessageStatus | None, after: MessageStatus | None, expected: dict[str, int]
) -> None:
    assert counted(before, after) == expected


@dataclass
class MemoryCampaigns:
    """CampaignStore.add_counts_once in memory, failing the writes it is told to fail."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    markers: set[tuple[str, str]] = field(default_factory=set)
    failing: set[tuple[str, str]] = field(default_factory=set)
    calls: int = 0

    def add_counts_once(
        self, campaign_id: str, counts: Mapping[str, int], batch: str, expires_at: int
    ) -> bool:
        self.calls += 1
        if (campaign_id, batch) in self.failing:
            self.failing.discard((campaign_id, batch))
            raise DependencyError("DynamoDB InternalServerError")
        if (campaign_id, batch) in self.markers:
            return False
        self.markers.add((campaign_id, batch))
        self.counts.setdefault(campaign_id, Counter()).update(counts)
        return True


def test_a_batch_takes_one_write_per_campaign() -> None:
    campaigns = MemoryCampaigns()
    changes = [RecordChange("c-1", None, S.DELIVERED)] * 3 + [RecordChange("c-2", None, S.FAILED)]
    assert MessageCounter(campaigns).apply("1-4", changes) == 2  # type: ignore[arg-type]
    assert campaigns.calls == 2
    assert campaigns.counts == {
        "c-1": Counter({"sent": 3, "delivered": 3}),
        "c-2": Counter({"failed": 1}),
    }


@settings(max_examples=200, deadline=None)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from(["c-1", "c-2", "c-3"]),
            st.sampled_from([None, S.SENT]),
            st.sampled_from([S.SENT, S.DELIVERED, S.FAILED, S.EXPIRED]),
        ),
        min_size=1,
        max_size=60,
    ),
    batch_sizes=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=10),
    seed=st.randoms(use_true_random=False),
)
def test_batches_that_fail_and_come_back_count_each_change_exactly_once(
    moves: list[tuple[str, MessageStatus | None, MessageStatus]],
    batch_sizes: list[int],
    seed: random.Random,
) -> None:
    # Given record changes cut into batches, as the stream hands them on in order
    changes = [RecordChange(campaign, before, after) for campaign, before, after in moves]
    batches: list[list[RecordChange]] = []
    position = 0
    while position < len(changes):
        size = batch_sizes[len(batches) % len(batch_sizes)]
        batches.append(changes[position : position + size])
        position += size
    campaigns = MemoryCampaigns()
    counter = MessageCounter(campaigns)  # type: ignore[arg-type]
    # When some campaigns' writes fail, and each failed batch comes back whole until it passes
    # (and some batches come back once more after they passed, as a retried crash would)
    for number, batch in enumerate(batches):
        name = f"{number * 1000}-{number * 1000 + len(batch) - 1}"
        campaigns.failing |= {(change.campaign_id, name) for change in batch if seed.random() < 0.3}
        while True:
            try:
                counter.apply(name, batch)
                break
            except DependencyError:
                continue
        if seed.random() < 0.3:
            counter.apply(name, batch)
    # Then the counters are what the changes count, once each
    assert campaigns.counts == counts_by_campaign(changes)


# ---------------------------------------------------------------- against DynamoDB (moto)


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MessageStore, CampaignStore]]:
    with in_process_aws(monkeypatch):
        create_tables({"messages": "MessagesTable", "campaigns": "CampaignsTable"})
        monkeypatch.setenv("CAMPAIGNS_TABLE", "campaigns")
        # The template gives every function its metrics namespace.
        monkeypatch.setattr(message_counts.metrics.provider, "namespace", "Cloison")
        message_counts.counter.cache_clear()
        yield MessageStore("messages", retention_days=395), CampaignStore("campaigns")
        message_counts.counter.cache_clear()


def stream_event() -> dict[str, Any]:
    """Every change of the messages table so far, as Lambda's stream event source hands it on."""
    # moto in-process answers on the regional endpoint, not the account-based one.
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = boto3.client("dynamodb").describe_table(TableName="messages")["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return {
        "Records": [
            {**record, "eventSourceARN": arn, "awsRegion": "eu-west-3"} for record in records
        ]
    }


class Context:
    function_name = "MessageCountsFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:counts"
    aws_request_id = "request-1"


def advance(messages: MessageStore, campaign: str, key: str, status: MessageStatus) -> None:
    messages.advance(campaign, "sales", key, f"m-{key}", status, STATUS_RANK[status], NOW)


def test_the_stream_of_the_messages_table_counts_each_change_once_however_often_it_comes(
    tables: tuple[MessageStore, CampaignStore],
) -> None:
    messages, campaigns = tables
    # Given records created and moved by delivery events (and one event that moves nothing)
    advance(messages, "c-1", "a" * 64, S.SENT)
    advance(messages, "c-1", "a" * 64, S.DELIVERED)
    advance(messages, "c-1", "a" * 64, S.FAILED)  # late, lower rank: refused by the condition
    advance(messages, "c-1", "b" * 64, S.DELIVERED)
    advance(messages, "c-2", "a" * 64, S.FAILED)
    event = stream_event()
    # When the counting function gets the batch, and gets it again (a retried invocation)
    message_counts.lambda_handler(event, Context())
    message_counts.lambda_handler(event, Context())
    # Then each campaign's counters hold each change once
    assert campaigns.get_counts("c-1") == {"sent": 2, "delivered": 2}
    assert campaigns.get_counts("c-2") == {"failed": 1}


def test_a_batch_whose_write_failed_for_one_campaign_adds_the_others_once(
    tables: tuple[MessageStore, CampaignStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    messages, campaigns = tables
    advance(messages, "c-1", "a" * 64, S.DELIVERED)
    advance(messages, "c-2", "b" * 64, S.DELIVERED)
    event = stream_event()
    add = CampaignStore.add_counts_once
    failures = {"c-2"}

    def flaky(self: CampaignStore, campaign_id: str, *args: Any) -> bool:
        if campaign_id in failures:
            failures.discard(campaign_id)
            raise DependencyError("DynamoDB InternalServerError")
        return add(self, campaign_id, *args)

    monkeypatch.setattr(CampaignStore, "add_counts_once", flaky)
    # When the first invocation fails on c-2 after c-1 was added, and the batch comes back
    with pytest.raises(DependencyError):
        message_counts.lambda_handler(event, Context())
    message_counts.lambda_handler(event, Context())
    # Then both are counted once
    assert campaigns.get_counts("c-1") == {"sent": 1, "delivered": 1}
    assert campaigns.get_counts("c-2") == {"sent": 1, "delivered": 1}


def test_deletions_count_nothing(tables: tuple[MessageStore, CampaignStore]) -> None:
    messages, campaigns = tables
    advance(messages, "c-1", "a" * 64, S.DELIVERED)
    boto3.client("dynamodb").delete_item(
        TableName="messages",
        Key={"pk": {"S": f"recipient#{'a' * 64}"}, "sk": {"S": "campaign#c-1"}},
    )
    message_counts.lambda_handler(stream_event(), Context())
    assert campaigns.get_counts("c-1") == {"sent": 1, "delivered": 1}
