"""A STOP stored while a send pass runs stops that pass's later sends to the number within
five seconds, even when End User Messaging's opt-out list cannot be told (the push fails).

Measured on the local stack, on the carrier's own record of each send: the pass reads its
recipients' suppressions again every few seconds (services.send_worker.RECHECK_SECONDS).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from local_api import api, campaign_for, carrier, sent, wait_until

from cloison_local.stack import LocalStack

# Fictional mobiles of this test alone: twelve recipients, the last one says STOP.
RECIPIENTS = [f"+337510080{n:02d}" for n in range(1, 13)]
STOPPING = RECIPIENTS[-1]
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
BOUND = timedelta(seconds=5)
# Two messages a second for the whole team: with two workers, one a second each, the pass of
# twelve recipients lasts about twelve seconds.
SLOW = {
    "sender_id": "BOUTIQUE",
    "stop_mention": "STOP au 36111",
    "window": "daily",
    "company": "Boutique Exemple",
    "mps": 2,
}


def stored_at(stack: LocalStack, reply_id: str, timeout: float = 30) -> datetime | None:
    """When the suppression the reply made was first seen in the table (wall clock)."""
    dynamodb = stack.client("dynamodb")
    table = stack.outputs["SuppressionsTableName"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items: list[dict[str, Any]] = dynamodb.scan(
            TableName=table,
            FilterExpression="#entry.evidence = :evidence",
            ExpressionAttributeNames={"#entry": "scope:all"},
            ExpressionAttributeValues={":evidence": {"S": f"inbound {reply_id}"}},
        )["Items"]
        if items:
            return datetime.now(UTC)
        time.sleep(0.05)
    return None


def test_a_stop_during_a_pass_stops_the_number_s_later_send_within_five_seconds(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice, ada = tokens["alice"], tokens["ada"]
    simulator = carrier(stack)
    previous = stack.clock_offset
    stack.set_clock(TUESDAY_MORNING)
    put = api(stack, ada, "PUT", "/teams/sales/senders/lent", json=SLOW)
    assert put.status_code == 200, put.text
    try:
        # Given a slow campaign to twelve numbers, and the provider's opt-out list unreachable
        campaign = campaign_for(stack, alice, RECIPIENTS, kind="transactional", sender="lent")
        simulator.opt_out_lists_down()
        assert (
            api(stack, alice, "POST", f"/campaigns/{campaign}/launch", json={}).status_code == 202
        )
        assert wait_until(lambda: len(sent(stack, campaign)) >= 2, 60)

        # When the last recipient says STOP while the pass sends to the first ones
        reply_id = simulator.inject_reply(STOPPING, stack.outputs["ShortCode"], "STOP")
        seen = stored_at(stack, str(reply_id))
        assert seen is not None, "the STOP was never stored"
        stats = f"/campaigns/{campaign}/stats"
        assert wait_until(
            lambda: api(stack, alice, "GET", stats).json()["status"] == "completed", 120
        )

        # Then no send to that number started more than five seconds after the STOP was stored
        late = [
            message.sent_at
            for message in simulator.sent_messages()
            if message.context.get("campaign") == campaign
            and message.destination == STOPPING
            and message.sent_at > seen + BOUND
        ]
        assert late == []
        # And the campaign says so: the others were sent, the number counted suppressed
        sends = sent(stack, campaign)
        assert set(RECIPIENTS[:-1]) <= set(sends)
        if STOPPING not in sends:
            assert api(stack, alice, "GET", stats).json()["counts"]["suppressed"] == 1
    finally:
        simulator.opt_out_lists_down(False)
        stack.clock_offset = previous
