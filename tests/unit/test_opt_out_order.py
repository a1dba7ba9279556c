"""STOP and START take effect in the order the person sent them, not the order they are processed.

End User Messaging does not promise inbound order ("Inbound SMS messages are not guaranteed to
arrive in the order they were sent", two-way SMS user guide) and the inbound queue is a standard
queue: the receiver orders a number's STOPs and STARTs by the SNS notification's timestamp, on
the real suppression store (moto) so that its conditional writes decide.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fakes import FakeSealer
from hypothesis import given, settings
from hypothesis import strategies as st
from in_process_aws import create_tables, in_process_aws
from test_inbound import (
    MATCH_ATTEMPTS,
    OUR_NUMBER,
    PERSON,
    POOL,
    Allowance,
    Campaigns,
    Carrier,
    Consents,
    Index,
    Journal,
    Messages,
    Vault,
)

from cloison.adapters.tables import GLOBAL_SCOPE, SuppressionStore
from cloison.models.events import InboundSms, inbound_from_queue
from cloison.services.inbound import ReplyReceiver

FIRST = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def suppressions() -> Iterator[SuppressionStore]:
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_aws(monkeypatch):
        create_tables({"suppressions": "SuppressionsTable"})
        yield SuppressionStore("suppressions", FakeSealer())


class OneNumber:
    """A number key of its own for each case, so that cases never see each other's records."""

    def __init__(self) -> None:
        self.number_key = uuid.uuid4().hex * 2

    def key(self, e164: str) -> str:
        return self.number_key


def receiver(suppressions: SuppressionStore) -> tuple[ReplyReceiver, str, Journal]:
    """A reply receiver on the suppression store, for a number of its own: the number's key, and
    the journal of what the receiver did besides."""
    journal = Journal()
    hasher = OneNumber()
    built = ReplyReceiver(
        hasher=hasher,
        suppressions=suppressions,
        messages=cast(Any, Messages()),
        index=cast(Any, Index(journal)),
        vault=cast(Any, Vault(journal)),
        carrier=cast(Any, Carrier(journal)),
        # The person consented to team sales: START may lift their own STOP.
        consents=cast(Any, Consents(teams=["sales"])),
        campaigns=cast(Any, Campaigns()),
        allowance=cast(Any, Allowance()),
        answer_from=POOL,
    )
    return built, hasher.number_key, journal


def notification(body: str, reply_id: str, said_at: datetime) -> str:
    """The inbound queue's message: SNS's envelope around End User Messaging's payload."""
    payload = {
        "originationNumber": PERSON,
        "destinationNumber": OUR_NUMBER,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": reply_id,
        "previousPublishedMessageId": "m-1",
    }
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": "arn:aws:sns:eu-west-3:123456789012:cloison-inbound",
            "Message": json.dumps(payload),
            "Timestamp": said_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "SignatureVersion": "1",
        }
    )


def said(body: str, reply_id: str, at: datetime) -> InboundSms:
    return inbound_from_queue(notification(body, reply_id, at))


def said_a_minute_apart(first: str, then: str) -> tuple[InboundSms, InboundSms]:
    """`first`, then `then` a minute later, each named after its keyword (`in-stop`...)."""
    return (
        said(first, f"in-{first.lower()}", FIRST),
        said(then, f"in-{then.lower()}", FIRST + timedelta(minutes=1)),
    )


def suppressed(suppressions: SuppressionStore, number_key: str) -> bool:
    return GLOBAL_SCOPE in suppressions.get(number_key)


def test_the_notification_s_timestamp_is_when_the_person_said_it() -> None:
    sms = said("STOP", "in-1", FIRST)
    assert sms.said_at == FIRST
    assert sms.message_body == "STOP"
    # And a payload put back on the queue by hand is undated (when it was put back is not when
    # the person said it)
    bare = json.loads(json.loads(notification("STOP", "in-1", FIRST))["Message"])
    assert inbound_from_queue(json.dumps(bare)).said_at is None


def test_a_start_said_after_a_stop_but_processed_first_still_wins(
    suppressions: SuppressionStore,
) -> None:
    # Given a person who sent STOP, then START a minute later
    replies, key, journal = receiver(suppressions)
    stop, start = said_a_minute_apart("STOP", "START")

    # When the START is processed first, then the STOP
    first = replies.receive(start, MATCH_ATTEMPTS)
    replies.receive(stop, MATCH_ATTEMPTS)

    # Then the number is not suppressed: START is what they said last
    assert first is not None
    assert first.resubscription == "not_suppressed"
    assert not suppressed(suppressions, key)
    assert "provider opt-out" not in journal.calls


def test_a_start_said_before_a_stop_but_processed_after_it_lifts_nothing(
    suppressions: SuppressionStore,
) -> None:
    # Given a person who sent START, then STOP a minute later
    replies, key, journal = receiver(suppressions)
    start, stop = said_a_minute_apart("START", "STOP")

    # When the STOP is processed first (it suppresses at once), then the START
    replies.receive(stop, MATCH_ATTEMPTS)
    assert suppressed(suppressions, key)
    late = replies.receive(start, MATCH_ATTEMPTS)

    # Then the number stays suppressed: STOP is what they said last
    assert late is not None
    assert late.resubscription == "after_a_later_stop"
    assert suppressed(suppressions, key)
    assert "provider opt-in" not in journal.calls


def test_an_older_stop_never_replaces_a_newer_one(suppressions: SuppressionStore) -> None:
    # Given STOP (18:30), START (18:31), STOP (18:32), processed newest first
    replies, key, _ = receiver(suppressions)
    words = [("STOP", 0), ("START", 1), ("STOP", 2)]
    for body, minute in reversed(words):
        replies.receive(
            said(body, f"in-{minute}", FIRST + timedelta(minutes=minute)), MATCH_ATTEMPTS
        )
    # Then the number is suppressed on the newest STOP, which a redelivered START cannot lift
    assert suppressions.get(key)[GLOBAL_SCOPE].evidence == "inbound in-2"
    replies.receive(said("START", "in-1", FIRST + timedelta(minutes=1)), MATCH_ATTEMPTS)
    assert suppressed(suppressions, key)


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["STOP", "START", "Arrêtez de m'écrire"]), min_size=1, max_size=5
    ),
    data=st.data(),
)
def test_whatever_the_processing_order_the_last_word_said_decides(
    suppressions: SuppressionStore, words: list[str], data: st.DataObject
) -> None:
    # Given a person's STOPs and STARTs, a minute apart, processed in any order
    replies, key, _ = receiver(suppressions)
    sent = [said(body, f"in-{i}", FIRST + timedelta(minutes=i)) for i, body in enumerate(words)]
    order = data.draw(st.permutations(sent))

    # When each is processed once
    for sms in order:
        replies.receive(sms, MATCH_ATTEMPTS)
        # (a STOP said after everything processed so far takes effect at once)
        newest = max(
            (s for s in order[: order.index(sms) + 1]), key=lambda s: cast(datetime, s.said_at)
        )
        if newest is sms and sms.message_body != "START":
            assert suppressed(suppressions, key)

    # Then the number is suppressed exactly when the last thing said was an opt-out
    assert suppressed(suppressions, key) is (words[-1] != "START")


def test_a_review_s_opt_out_never_hides_a_clear_stop(suppressions: SuppressionStore) -> None:
    # Given a plain STOP, then an ambiguous refusal said after it, processed in either order
    for order in ((0, 1), (1, 0)):
        replies, key, _ = receiver(suppressions)
        said_ = [
            said("STOP", "in-clear", FIRST),
            said("Arrêtez de m'écrire", "in-review", FIRST + timedelta(minutes=1)),
        ]
        for index in order:
            replies.receive(said_[index], MATCH_ATTEMPTS)
        # Then what stands is the clear STOP: a privacy officer lifting the review (which
        # lifts only the suppression its reply is the evidence of) lifts nothing
        standing = suppressions.get(key)[GLOBAL_SCOPE]
        assert (standing.evidence, standing.review) == ("inbound in-clear", False), order
        assert not suppressions.lift(
            key, GLOBAL_SCOPE, recorded_with="inbound in-review", evidence="review", at=FIRST
        )
        assert suppressed(suppressions, key)


def test_a_start_whose_lift_lost_a_race_leaves_the_provider_s_list_alone(
    suppressions: SuppressionStore,
) -> None:
    # Given a STOP standing, and a START read it, but a newer opt-out replaced it before the lift
    replies, key, journal = receiver(suppressions)
    replies.receive(said("STOP", "in-1", FIRST), MATCH_ATTEMPTS)
    real_lift = suppressions.lift

    def racing_lift(*args: Any, **kwargs: Any) -> bool:
        replies.receive(said("STOP", "in-3", FIRST + timedelta(minutes=3)), MATCH_ATTEMPTS)
        return real_lift(*args, **kwargs)

    suppressions.lift = racing_lift  # type: ignore[method-assign]
    try:
        record = replies.receive(
            said("START", "in-2", FIRST + timedelta(minutes=2)), MATCH_ATTEMPTS
        )
    finally:
        del suppressions.lift
    # Then the number stays suppressed, and the provider's list is not told to opt it in
    assert record is not None
    assert record.resubscription == "after_a_later_stop"
    assert suppressed(suppressions, key)
    assert "provider opt-in" not in journal.calls
