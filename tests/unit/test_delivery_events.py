"""Delivery events move message records forward only; the records' changes count each once."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.errors import DependencyError
from cloison.models.events import DeliveryEvent
from cloison.models.records import MessageStatus
from cloison.services.delivery_events import STATUS_RANK, DeliveryRecorder, status_of
from cloison.services.message_counts import RecordChange, counts_by_campaign


class FakeMessageStore:
    """MessageStore.advance in memory: creates a record, or moves it only to a higher rank; each
    write that moves a record is a change, as the table's stream hands it on."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], tuple[MessageStatus, int]] = {}
        self.changes: list[RecordChange] = []

    def existing(self, campaign_id: str, number_key: str, status: MessageStatus) -> None:
        """A record written before the test looks at the stream."""
        self.records[(campaign_id, number_key)] = (status, STATUS_RANK[status])

    def advance(
        self,
        campaign_id: str,
        team: str,
        number_key: str,
        carrier_message_id: str,
        status: MessageStatus,
        rank: int,
        now: datetime,
    ) -> int | None:
        key = (campaign_id, number_key)
        before, former = self.records.get(key, (None, 0))
        if former >= rank:
            return None
        self.records[key] = (status, rank)
        self.changes.append(RecordChange(campaign_id, before, status))
        return former

    def status(self, campaign_id: str, number_key: str) -> MessageStatus | None:
        found = self.records.get((campaign_id, number_key))
        return found[0] if found else None

    def counts(self, campaign_id: str) -> Counter[str]:
        return counts_by_campaign(self.changes).get(campaign_id, Counter())


def _recorder() -> tuple[DeliveryRecorder, FakeMessageStore]:
    messages = FakeMessageStore()
    return DeliveryRecorder(messages=messages), messages  # type: ignore[arg-type]


def _campaign() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def _number_key() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex  # stands for the HMAC of a number


def _event(event_type: str, campaign_id: str, number_key: str, **extra: Any) -> DeliveryEvent:
    return DeliveryEvent.model_validate(
        {
            "eventType": event_type,
            "eventVersion": "1.0",
            "eventTimestamp": 1767225600000,
            "isFinal": event_type != "TEXT_SUCCESSFUL",
            # One message per recipient and campaign: its events share the carrier's message id.
            "messageId": f"m-{campaign_id}-{number_key[:16]}",
            "context": {"campaign": campaign_id, "team": "sales", "recipient": number_key},
            **extra,
        }
    )


# ---------------------------------------------------------------- status_of


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("TEXT_QUEUED", None),
        ("TEXT_PENDING", None),
        ("TEXT_SUCCESSFUL", MessageStatus.SENT),
        ("TEXT_DELIVERED", MessageStatus.DELIVERED),
        ("TEXT_BLOCKED", MessageStatus.FAILED),
        ("TEXT_TTL_EXPIRED", MessageStatus.EXPIRED),
        ("TEXT_CARRIER_UNREACHABLE", MessageStatus.FAILED),
        ("TEXT_INVALID", MessageStatus.FAILED),
        ("TEXT_INVALID_MESSAGE", MessageStatus.FAILED),
        ("TEXT_CARRIER_BLOCKED", MessageStatus.FAILED),
        ("TEXT_UNREACHABLE", MessageStatus.FAILED),
        ("TEXT_SPAM", MessageStatus.FAILED),
        ("TEXT_UNKNOWN", MessageStatus.EXPIRED),
        ("TEXT_PROTECT_BLOCKED", MessageStatus.FAILED),
    ],
)
def test_status_of_every_end_user_messaging_event(
    event_type: str, expected: MessageStatus | None
) -> None:
    # Given an event type End User Messaging publishes
    # When its meaning for a message record is asked
    status = status_of(event_type)

    # Then it is the expected status, or nothing for events before the carrier answers
    assert status == expected


def test_status_of_an_event_type_it_does_not_know_is_nothing() -> None:
    # Given an event type AWS might add later
    # When its meaning is asked
    # Then it changes nothing
    assert status_of("TEXT_SOMETHING_NEW") is None


# ---------------------------------------------------------------- record


def test_sent_then_delivered_counts_once_each() -> None:
    # Given a message with no record yet
    recorder, messages = _recorder()
    campaign_id, number_key = _campaign(), _number_key()

    # When the carrier accepts it, then the phone does, in one batch
    applied = recorder.record(
        [
            _event("TEXT_SUCCESSFUL", campaign_id, number_key),
            _event("TEXT_DELIVERED", campaign_id, number_key),
        ]
    )

    # Then the two events fold into one write, which counts it once sent and once delivered
    assert applied == 1
    assert len(messages.changes) == 1
    assert messages.status(campaign_id, number_key) == MessageStatus.DELIVERED
    assert messages.counts(campaign_id) == Counter({"sent": 1, "delivered": 1})


def test_delivered_before_sent_still_counts_the_send() -> None:
    recorder, messages = _recorder()
    campaign_id, number_key = _campaign(), _number_key()

    # When the delivery event overtakes the sent event
    recorder.record([_event("TEXT_DELIVERED", campaign_id, number_key)])
    recorder.record([_event("TEXT_SUCCESSFUL", campaign_id, number_key)])

    # Then it was sent all the same, and counted once
    assert messages.status(campaign_id, number_key) == MessageStatus.DELIVERED
    assert messages.counts(campaign_id) == Counter({"sent": 1, "delivered": 1})


@pytest.mark.parametrize(
    "failure",
    ["TEXT_BLOCKED", "TEXT_CARRIER_UNREACHABLE", "TEXT_SPAM", "TEXT_TTL_EXPIRED", "TEXT_UNKNOWN"],
)
def test_a_failure_after_delivery_changes_nothing(failure: str) -> None:
    # Given a delivered message
    recorder, messages = _recorder()
    campaign_id, number_key = _campaign(), _number_key()
    recorder.record([_event("TEXT_DELIVERED", campaign_id, number_key)])
    before = messages.counts(campaign_id)

    # When a late failure event arrives
    applied = recorder.record([_event(failure, campaign_id, number_key)])

    # Then the record stays delivered and no counter moves
    assert applied == 0
    assert messages.status(campaign_id, number_key) == MessageStatus.DELIVERED
    assert messages.counts(campaign_id) == before


def test_a_failure_before_delivery_is_counted_as_failed() -> None:
    # Given a sent message
    recorder, messages = _recorder()
    campaign_id, number_key = _campaign(), _number_key()
    recorder.record([_event("TEXT_SUCCESSFUL", campaign_id, number_key)])

    # When the carrier reports it unreachable
    recorder.record([_event("TEXT_CARRIER_UNREACHABLE", campaign_id, number_key)])

    # Then the record is failed and counted once as sent and once as failed
    assert messages.status(campaign_id, number_key) == MessageStatus.FAILED
    assert messages.counts(campaign_id) == Counter({"sent": 1, "failed": 1})


def test_events_without_cloison_context_or_meaning_are_skipped() -> None:
    # Given a sent message
    recorder, messages = _recorder()
    campaign_id, number_key = _campaign(), _number_key()
    messages.existing(campaign_id, number_key, MessageStatus.SENT)
    foreign = DeliveryEvent.model_validate(
        {
            "eventType": "TEXT_DELIVERED",
            "eventTimestamp": 1767225600000,
            "messageId": str(uuid.uuid4()),
        }
    )

    # When an event of another sender and an event that means nothing arrive
    applied = recorder.record([foreign, _event("TEXT_PENDING", campaign_id, number_key)])

    # Then nothing moves, so nothing is counted
    assert applied == 0
    assert messages.status(campaign_id, number_key) == MessageStatus.SENT
    assert messages.changes == []


def test_the_first_event_of_a_message_creates_its_record() -> None:
    # Given no message record for the recipient (the send path writes none)
    recorder, messages = _recorder()
    campaign_id, number_key = _campaign(), _number_key()

    # When the carrier's first event arrives for it
    applied = recorder.record([_event("TEXT_SUCCESSFUL", campaign_id, number_key)])

    # Then the record exists, sent, and is counted once
    assert applied == 1
    assert messages.status(campaign_id, number_key) == MessageStatus.SENT
    assert messages.counts(campaign_id) == Counter({"sent": 1})


@settings(max_examples=150, deadline=None)
@given(
    message_count=st.integers(min_value=1, max_value=8),
    copies=st.lists(st.integers(min_value=1, max_value=3), min_size=16, max_size=16),
    batch_sizes=st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=30),
    seed=st.randoms(use_true_random=False),
)
def test_any_order_and_duplication_ends_delivered_and_counted_once(
    message_count: int, copies: list[int], batch_sizes: list[int], seed: random.Random
) -> None:
    # Given messages, and each of their sent and delivered events one or more times
    recorder, messages = _recorder()
    campaign_id = _campaign()
    number_keys = [_number_key() for _ in range(message_count)]
    events = [
        _event(event_type, campaign_id, number_key)
        for index, number_key in enumerate(number_keys)
        for event_type, times in (
            ("TEXT_SUCCESSFUL", copies[2 * index]),
            ("TEXT_DELIVERED", copies[2 * index + 1]),
        )
        for _ in range(times)
    ]
    seed.shuffle(events)

    # When they arrive in that order, in batches of any size
    position, batch = 0, 0
    while position < len(events):
        size = batch_sizes[batch % len(batch_sizes)]
        recorder.record(events[position : position + size])
        position, batch = position + size, batch + 1

    # Then every record is delivered and each message counts once as sent and once as delivered
    assert {messages.status(campaign_id, key) for key in number_keys} == {MessageStatus.DELIVERED}
    assert messages.counts(campaign_id) == Counter(
        {"sent": message_count, "delivered": message_count}
    )

    # And a late failure for every message changes nothing
    recorder.record([_event("TEXT_BLOCKED", campaign_id, key) for key in number_keys])
    assert {messages.status(campaign_id, key) for key in number_keys} == {MessageStatus.DELIVERED}
    assert messages.counts(campaign_id) == Counter(
        {"sent": message_count, "delivered": message_count}
    )


# ---------------------------------------------------------------- failures


class FlakyMessageStore(FakeMessageStore):
    """Fails the advance of one number once."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing: str | None = failing

    def advance(self, campaign_id: str, team: str, number_key: str, *args: Any) -> int | None:
        if number_key == self.failing:
            self.failing = None
            raise DependencyError("DynamoDB InternalServerError")
        return super().advance(campaign_id, team, number_key, *args)


def test_a_record_that_fails_to_move_does_not_keep_the_others_from_moving() -> None:
    # Given a batch of three deliveries, one of whose records fails to move once
    campaign = _campaign()
    keys = [_number_key() for _ in range(3)]
    messages = FlakyMessageStore(failing=keys[1])
    recorder = DeliveryRecorder(messages=messages)  # type: ignore[arg-type]
    batch = [_event("TEXT_DELIVERED", campaign, key) for key in keys]
    # When it is recorded, fails, and comes back whole (as SQS redelivers it)
    with pytest.raises(DependencyError):
        recorder.record(batch)
    assert len(messages.changes) == 2  # the others moved the first time
    recorder.record(batch)
    # Then every delivery moved its record once, so it is counted exactly once
    assert messages.counts(campaign) == Counter({"delivered": 3, "sent": 3})
