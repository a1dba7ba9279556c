"""A number's hourly allowance of replies: a flood is counted, not stored; STOP always holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from in_process_aws import create_tables, in_process_aws
from test_inbound import KEY, Allowance, World

from cloison.adapters.allowance import ReplyAllowance, window_key
from cloison.errors import DependencyError

TABLE = "replies"
TEN_O_CLOCK = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the receiver's decisions


def test_a_flood_stores_the_allowance_and_counts_the_rest() -> None:
    # Given an allowance of 20 replies per hour
    world = World(allowance=Allowance(per_hour=20))
    # When one number sends 25 replies within the hour
    records = [world.maybe_reply(f"Encore {n}", reply_id=f"in-{n}") for n in range(25)]
    # Then the first 20 are stored, sealed once each, and the 5 others only counted
    assert sum(record is not None for record in records) == 20
    assert records[20:] == [None] * 5
    assert len(world.vault.objects) == 20
    assert sorted(world.index.entries) == sorted(f"in-{n}" for n in range(20))
    assert sum(world.allowance.refused.values()) == 5


def test_a_stop_beyond_the_allowance_still_opts_the_number_out() -> None:
    # Given a number that used up its allowance
    world = World(allowance=Allowance(per_hour=2))
    world.reply("Un", reply_id="in-1")
    world.reply("Deux", reply_id="in-2")
    world.journal.calls.clear()
    # When it says STOP
    assert world.maybe_reply("STOP", reply_id="in-3") is None
    # Then the opt-out is written and reaches the provider, and nothing is stored
    assert world.journal.calls == ["suppress OPT_OUT", "provider opt-out"]
    assert world.suppressions.items["all"].evidence == "inbound in-3"
    assert "in-3" not in world.index.entries


def test_help_beyond_the_allowance_is_not_answered() -> None:
    world = World(allowance=Allowance(per_hour=1))
    world.reply("AIDE", reply_id="in-1")
    assert world.maybe_reply("AIDE", reply_id="in-2") is None
    assert len(world.carrier.answers) == 1


def test_a_redelivered_reply_within_the_allowance_is_not_counted_twice() -> None:
    # Given an allowance of 2, and a first reply delivered twice (SNS delivers at least once)
    world = World(allowance=Allowance(per_hour=2))
    world.reply("Un", reply_id="in-1")
    world.reply("Un", reply_id="in-1")
    # When a second reply comes, then the first is delivered once more
    second = world.maybe_reply("Deux", reply_id="in-2")
    again = world.maybe_reply("Un", reply_id="in-1")
    # Then both are stored, and nothing was refused
    assert second is not None
    assert again is not None
    assert world.allowance.refused == {}


def test_a_claimed_reply_retried_in_a_full_hour_is_still_stored() -> None:
    # Given a reply claimed at the end of an hour whose S3 write failed
    world = World(allowance=Allowance(per_hour=1))
    world.vault.failing = True
    with pytest.raises(DependencyError):
        world.reply("Merci", reply_id="in-1")
    # When it is retried in the next hour, whose allowance another reply has used up
    world.vault.failing = False
    world.allowance.admitted = {}
    world.reply("Autre", reply_id="in-2")
    record = world.maybe_reply("Merci", reply_id="in-1")
    # Then it goes on and is stored: a claimed reply is never left without its body
    assert record is not None
    assert world.index.entries["in-1"].stored is True
    assert len(world.vault.objects) == 2
    assert world.allowance.refused == {}


@settings(max_examples=200, deadline=None)
@given(
    per_hour=st.integers(min_value=1, max_value=6),
    deliveries=st.lists(
        st.tuples(st.integers(min_value=0, max_value=12), st.booleans()), max_size=40
    ),
)
def test_any_order_of_deliveries_stores_at_most_the_allowance_each_once(
    per_hour: int, deliveries: list[tuple[int, bool]]
) -> None:
    # Given any sequence of deliveries from one number within an hour, some of them repeated
    # copies, some of them STOPs
    world = World(allowance=Allowance(per_hour=per_hour))
    stops = {reply for reply, is_stop in deliveries if is_stop}
    for reply, _ in deliveries:
        body = "STOP" if reply in stops else f"Bonjour {reply}"
        world.maybe_reply(body, reply_id=f"in-{reply}")
    # Then the first `per_hour` distinct replies are stored, each sealed once, and no other
    first_seen = list(dict.fromkeys(f"in-{reply}" for reply, _ in deliveries))
    assert sorted(world.index.entries) == sorted(first_seen[:per_hour])
    assert len(world.vault.objects) == len(world.index.entries)
    assert all(entry.stored for entry in world.index.entries.values())
    # And every delivery of a reply beyond it is counted
    beyond = set(first_seen[per_hour:])
    assert sum(world.allowance.refused.values()) == sum(
        1 for reply, _ in deliveries if f"in-{reply}" in beyond
    )
    # And a STOP opts the number out whether it was stored or not
    assert ("all" in world.suppressions.items) is bool(stops)


# ---------------------------------------------------------------- the DynamoDB window


@pytest.fixture
def allowance(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplyAllowance]:
    with in_process_aws(monkeypatch):
        create_tables({TABLE: "RepliesTable"})
        yield ReplyAllowance(TABLE, per_hour=3)


def test_the_window_admits_distinct_replies_up_to_the_allowance(
    allowance: ReplyAllowance,
) -> None:
    admitted = [allowance.admit(KEY, f"in-{n}", TEN_O_CLOCK) for n in range(5)]
    assert admitted == [True, True, True, False, False]
    # A reply already admitted is admitted again (a redelivery), without a second place
    assert allowance.admit(KEY, "in-1", TEN_O_CLOCK + timedelta(minutes=59))
    assert not allowance.admit(KEY, "in-9", TEN_O_CLOCK + timedelta(minutes=59))
    # Another number, or the next hour, has its own allowance
    assert allowance.admit("another-key", "in-5", TEN_O_CLOCK)
    assert allowance.admit(KEY, "in-6", TEN_O_CLOCK + timedelta(hours=1))


def test_the_window_item_counts_refusals_holds_no_number_and_expires(
    allowance: ReplyAllowance,
) -> None:
    for n in range(4):
        if not allowance.admit(KEY, f"in-{n}", TEN_O_CLOCK):
            allowance.count_refusal(KEY, TEN_O_CLOCK)
    allowance.count_refusal(KEY, TEN_O_CLOCK)
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE,
        Key={name: {"S": value} for name, value in window_key(KEY, TEN_O_CLOCK).items()},
    )["Item"]
    assert item["refused"] == {"N": "2"}
    assert sorted(item["admitted"]["SS"]) == ["in-0", "in-1", "in-2"]
    # Kept an hour past its window, then deleted by TTL
    assert int(item["expires_at"]["N"]) == int((TEN_O_CLOCK + timedelta(hours=2)).timestamp())
    # Small (one write unit), and outside the indexes that list a number's replies
    assert len(json.dumps(item)) < 1024
    assert "recipient_hmac" not in item
    assert "received_at" not in item


def test_an_allowance_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReplyAllowance(TABLE, per_hour=0)
