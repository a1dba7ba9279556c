"""A number uploaded twice to one campaign, in two uploads, is kept once and sent once."""

from __future__ import annotations

from local_api import api, campaign_for, sent, wait_until

from cloison_local.stack import LocalStack

# Fictional mobiles of this test alone.
FIRST, BOTH, SECOND = "+33751008101", "+33751008102", "+33751008103"


def test_a_number_in_two_uploads_is_kept_from_the_first_and_sent_once(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    # Given a campaign whose first upload holds two numbers
    campaign = campaign_for(stack, alice, [FIRST, BOTH], kind="transactional", sender="alerts")

    # When a second upload holds one of them again (written nationally), then a new one
    second = api(
        stack,
        alice,
        "POST",
        f"/campaigns/{campaign}/audience",
        json={"recipients": [{"phone": "07 51 00 81 02"}, {"phone": SECOND}]},
    )

    # Then the repeated row is refused, naming why, and the campaign counts three recipients
    assert second.status_code == 200, second.text
    result = second.json()
    assert (result["accepted"], result["rejected_count"], result["total_recipients"]) == (1, 1, 3)
    (refused,) = result["rejected"]
    assert (refused["row"], refused["field"]) == (1, "phone")  # rows count from 1
    assert "earlier upload" in refused["reason"]
    assert "81 02" not in refused["reason"]

    # And once launched, each number gets one message
    assert api(stack, alice, "POST", f"/campaigns/{campaign}/launch", json={}).status_code == 202
    assert wait_until(lambda: len(sent(stack, campaign)) >= 3, 60)
    stack.wait_idle(timeout=30)
    assert sorted(sent(stack, campaign)) == sorted([FIRST, BOTH, SECOND])
