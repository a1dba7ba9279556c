"""Through a local stack of its own, whose frequency cap is two marketing messages a week: a
number that had two teams' marketing this week is capped for a third campaign, in its preview
and its sending, while another number is sent; a transactional message still reaches it, and its
access export says how many marketing messages count against the cap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from local_api import api, campaign_for, consent, ok, send_to, sent, wait_until

from cloison_local.demo import demo_clock
from cloison_local.seed import seed
from cloison_local.stack import LocalStack

CAP = 2
# Fictional mobiles of this test alone.
OFTEN = "+33751007061"  # has every team's marketing
SELDOM = "+33751007062"  # has none yet


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose deployment caps marketing at two messages per number a week."""
    logs: Path = tmp_path_factory.mktemp("frequency-cap-logs")
    with LocalStack(
        api_port=0,
        clock_start=demo_clock(datetime.now(UTC)),
        retry_after_seconds=1,
        log_dir=logs,
        parameters={"FrequencyCapMessages": str(CAP), "FrequencyCapDays": "7"},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def own_tokens(own_stack: LocalStack) -> dict[str, str]:
    return seed(own_stack.client("cognito-idp"), own_stack.outputs, own_stack.api_url)


def settled(stack: LocalStack, token: str, campaign: str) -> dict[str, Any]:
    """Launches the campaign and waits until it is completed; returns its stats."""
    ok(api(stack, token, "POST", f"/campaigns/{campaign}/launch", json={}))
    stats = f"/campaigns/{campaign}/stats"
    assert wait_until(
        lambda: api(stack, token, "GET", stats).json()["status"] == "completed", 60
    ), "the campaign never completed"
    stack.wait_idle(timeout=30)
    return dict(api(stack, token, "GET", stats).json())


def test_a_number_is_capped_across_teams_while_another_is_sent(
    own_stack: LocalStack, own_tokens: dict[str, str]
) -> None:
    alice, bruno = own_tokens["alice"], own_tokens["bruno"]
    # Given two numbers that consented to both teams' marketing, and one of them sent a marketing
    # campaign by each team this week: the cap's two
    for number in (OFTEN, SELDOM):
        consent(own_stack, alice, number, team="sales")
        consent(own_stack, bruno, number, team="support")
    send_to(own_stack, alice, [OFTEN], team="sales")
    send_to(own_stack, bruno, [OFTEN], team="support")

    # When team sales previews, then sends, a third marketing campaign to both
    campaign = campaign_for(own_stack, alice, [OFTEN, SELDOM], team="sales")
    preview = ok(api(own_stack, alice, "GET", f"/campaigns/{campaign}/preview"))
    stats = settled(own_stack, alice, campaign)

    # Then the preview and the counts say one is capped, and only the other number is sent
    assert (preview["counts"]["capped"], preview["counts"]["valid"]) == (1, 1)
    assert (stats["counts"]["capped"], stats["counts"]["queued"]) == (1, 1)
    assert sent(own_stack, campaign) == [SELDOM]
    marketing_to_often = [
        message
        for message in own_stack.carrier.sent_messages()  # type: ignore[union-attr]
        if message.destination == OFTEN and message.message_type == "PROMOTIONAL"
    ]
    assert len(marketing_to_often) == CAP

    # And a transactional message still reaches the capped number, counting against nothing
    told = send_to(own_stack, bruno, [OFTEN], team="support", kind="transactional", sender="alerts")
    assert sent(own_stack, told) == [OFTEN]

    # And its access export says how many marketing messages count against its cap now
    answer = api(
        own_stack,
        own_tokens["priya"],
        "POST",
        "/privacy/requests",
        json={"kind": "access", "phone": OFTEN, "reason": "vérification"},
    )
    export = ok(answer)["export"]
    assert export["marketing_messages_counted"] == CAP
