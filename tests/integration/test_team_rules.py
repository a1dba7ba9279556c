"""Through the local stack: a consent counts for the team it was given to alone, and a STOP to
one team's campaign holds for every team's, marketing and transactional alike."""

from __future__ import annotations

from local_api import (
    api,
    campaign_for,
    carrier,
    consent,
    launched_and_settled,
    reply,
    send_to,
    sent,
)

from cloison_local.stack import LocalStack

# Fictional mobiles of this test alone, next to phonenumbers' French example.
SALES_ONLY = "+33751007001"
SUPPORTED = "+33751007002"
STOPPED = "+33751007003"
STILL_SENDABLE = "+33751007004"


def test_a_consent_to_sales_never_lets_support_send_marketing_to_the_number(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice, bruno = tokens["alice"], tokens["bruno"]
    # Given a number that consented to team sales only, and one that consented to team support
    consent(stack, alice, SALES_ONLY, team="sales")
    consent(stack, bruno, SUPPORTED, team="support")

    # When team support sends a marketing campaign to both
    campaign = campaign_for(stack, bruno, [SALES_ONLY, SUPPORTED], team="support")
    preview = api(stack, bruno, "GET", f"/campaigns/{campaign}/preview").json()
    stats = launched_and_settled(stack, bruno, campaign)

    # Then the number that consented to sales only is counted without consent and never sent,
    # in the preview and in the sending, while support's own consenting number is sent
    assert preview["counts"]["no_consent"] == 1
    assert stats["counts"]["no_consent"] == 1
    assert sent(stack, campaign) == [SUPPORTED]

    # And team sales' own marketing still reaches it
    assert sent(stack, send_to(stack, alice, [SALES_ONLY], team="sales")) == [SALES_ONLY]


def test_a_stop_to_one_teams_campaign_stops_every_teams_campaigns_of_every_kind(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice, bruno = tokens["alice"], tokens["bruno"]
    # Given a number that consented to both teams and received team sales' campaign, and another
    # that consented to team support
    consent(stack, alice, STOPPED, team="sales")
    consent(stack, bruno, STOPPED, team="support")
    consent(stack, bruno, STILL_SENDABLE, team="support")
    send_to(stack, alice, [STOPPED], team="sales")

    # When it answers STOP to team sales' message
    answered = reply(stack, alice, STOPPED, "STOP")
    assert answered["reply_class"] == "OPT_OUT"

    # Then team support's campaigns to it, marketing and transactional, never send to it: it is
    # counted suppressed and the carrier is not even asked (it would refuse), while the other
    # number is sent
    for kind in ("marketing", "transactional"):
        campaign = campaign_for(stack, bruno, [STOPPED, STILL_SENDABLE], team="support", kind=kind)
        stats = launched_and_settled(stack, bruno, campaign)
        assert stats["counts"]["suppressed"] == 1, kind
        assert sent(stack, campaign) == [STILL_SENDABLE], kind
        refused = [
            destination
            for destination, context in carrier(stack).refused_sends()
            if context.get("campaign") == campaign
        ]
        assert refused == [], kind
