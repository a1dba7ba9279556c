"""Through a local stack of its own, whose frequency cap is two marketing messages a week: a
number that had two teams' marketing this week is capped for a third campaign, in its preview
and its sending, while another number is sent; a transactional message still reaches it, and its
access export says how many marketing messages count against the cap."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_api import (
    api,
    campaign_for,
    consent,
    demo_tokens,
    launched_and_settled,
    ok,
    send_to,
    sent,
    stack_of_its_own,
)

from cloison_local.stack import LocalStack

CAP = 2
# Fictional mobiles of this test alone.
OFTEN = "+33751007061"  # has every team's marketing
SELDOM = "+33751007062"  # has none yet


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose deployment caps marketing at two messages per number a week."""
    with stack_of_its_own(
        tmp_path_factory,
        "frequency-cap",
        parameters={"FrequencyCapMessages": str(CAP), "FrequencyCapDays": "7"},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def own_tokens(own_stack: LocalStack) -> dict[str, str]:
    return demo_tokens(own_stack)


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
    stats = launched_and_settled(own_stack, alice, campaign)

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
