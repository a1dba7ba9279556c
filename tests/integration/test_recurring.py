"""A recurring campaign through the local stack: each firing sends an occurrence of its own."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from local_api import wait_until as poll

from cloison_local.seed import call, seed
from cloison_local.stack import LocalStack

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 1 December 2026, before the first firing; the three firings are working days at 10:00.
TUESDAY_NINE = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
FIRINGS = [datetime(2026, 12, day, 10, 0, tzinfo=PARIS) for day in (1, 2, 3)]
# Recipients are named by their position in this list: no number appears in the test output.
RECIPIENTS = ["+33754000001", "+33754000002", "+33754000003"]

# This file's polling interval
wait_until = functools.partial(poll, every=0.2)


@pytest.fixture
def stack_and_tokens(tmp_path: Path) -> Iterator[tuple[LocalStack, dict[str, str]]]:
    """A stack of its own: this test moves its clock by days."""
    with LocalStack(
        api_port=0, clock_start=TUESDAY_NINE, retry_after_seconds=1, log_dir=tmp_path
    ) as stack:
        yield stack, seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)


def sent_to(stack: LocalStack, campaign: str) -> Counter[int]:
    """How many messages each recipient (by position) got from `campaign`."""
    assert stack.carrier is not None
    return Counter(
        RECIPIENTS.index(message.destination) if message.destination in RECIPIENTS else -1
        for message in stack.carrier.sent_messages()
        if message.context.get("campaign") == campaign
    )


@pytest.mark.timeout(120)
def test_each_firing_sends_its_own_occurrence_once_with_the_rules_of_its_day(
    stack_and_tokens: tuple[LocalStack, dict[str, str]],
) -> None:
    stack, tokens = stack_and_tokens
    assert stack.scheduler is not None
    alice = tokens["alice"]
    for number in RECIPIENTS:
        call(
            stack.api_url,
            alice,
            "POST",
            "/consents",
            {"team": "sales", "phone": number, "source": "web form", "proof": "Oui aux offres"},
        )
    # Given a marketing campaign of three consenting recipients, sent every day at 10:00
    campaign = call(
        stack.api_url,
        alice,
        "POST",
        "/campaigns",
        {
            "team": "sales",
            "name": "Quotidienne",
            "sender": "promo",
            "kind": "marketing",
            "body": "Bonjour {first_name}",
        },
    )["id"]
    path = f"/campaigns/{campaign}"
    call(
        stack.api_url,
        alice,
        "POST",
        f"{path}/audience",
        {"recipients": [{"phone": n, "variables": {"first_name": "A"}} for n in RECIPIENTS]},
    )
    launched = call(
        stack.api_url,
        alice,
        "POST",
        f"{path}/launch",
        {"schedule": "cron(0 10 * * ? *)", "timezone": "Europe/Paris"},
    )
    assert launched["status"] == "scheduled"
    assert launched["occurrences"] == []
    stack.scheduler.tick()  # the scheduler has seen the schedule before the clock moves

    def occurrences() -> list[dict[str, Any]]:
        return list(call(stack.api_url, alice, "GET", path)["occurrences"])

    def completed(count: int) -> Callable[[], bool]:
        return lambda: len(occurrences()) == count and occurrences()[0]["status"] == "completed"

    # When the first firing comes
    stack.set_clock(FIRINGS[0] + timedelta(seconds=5))
    assert wait_until(completed(1)), occurrences()
    first = occurrences()[0]

    # Then it sent an occurrence of its own, once to each recipient; the campaign stays scheduled
    assert datetime.fromisoformat(first["scheduled_at"]) == FIRINGS[0]
    assert sent_to(stack, first["id"]) == Counter({0: 1, 1: 1, 2: 1})
    assert call(stack.api_url, alice, "GET", path)["status"] == "scheduled"
    shown = call(stack.api_url, alice, "GET", f"/campaigns/{first['id']}")
    assert shown["occurrence_of"] == campaign
    assert (
        call(stack.api_url, alice, "GET", f"/campaigns/{first['id']}/stats")["counts"]["queued"]
        == 3
    )
    # And another team sees neither the occurrence nor its counts
    for route in (f"/campaigns/{first['id']}", f"/campaigns/{first['id']}/stats"):
        assert call(stack.api_url, tokens["bruno"], "GET", route, expect=(404,))

    # When the same firing is delivered again
    stack.client("sqs").send_message(
        QueueUrl=stack.outputs["LaunchQueueUrl"],
        MessageBody=json.dumps(
            {
                "campaign_id": campaign,
                "team": "sales",
                "action": "occurrence",
                "scheduled_at": f"{FIRINGS[0].astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
            }
        ),
    )
    assert stack.wait_idle(timeout=20)

    # Then it created nothing and sent nothing more
    assert [occurrence["id"] for occurrence in occurrences()] == [first["id"]]
    assert sent_to(stack, first["id"]) == Counter({0: 1, 1: 1, 2: 1})

    # When the second recipient asks to be suppressed, and the next day's firing comes
    call(
        stack.api_url,
        alice,
        "POST",
        "/suppressions",
        {"team": "sales", "phone": RECIPIENTS[1], "reason": "asked by phone"},
    )
    stack.set_clock(FIRINGS[1] + timedelta(seconds=5))
    assert wait_until(completed(2)), occurrences()
    second = occurrences()[0]

    # Then the second occurrence skipped the suppressed number and sent the others once
    assert datetime.fromisoformat(second["scheduled_at"]) == FIRINGS[1]
    assert sent_to(stack, second["id"]) == Counter({0: 1, 2: 1})
    counts = call(stack.api_url, alice, "GET", f"/campaigns/{second['id']}/stats")["counts"]
    assert (counts["queued"], counts["suppressed"]) == (2, 1)

    # When the campaign is paused and the third day's firing comes
    assert call(stack.api_url, alice, "POST", f"{path}/pause")["status"] == "paused"
    fired = stack.scheduler.fired
    stack.set_clock(FIRINGS[2] + timedelta(seconds=5))
    assert wait_until(lambda: stack.scheduler is not None and stack.scheduler.fired > fired)
    assert stack.wait_idle(timeout=20)

    # Then that firing sent nothing; a resume makes the campaign wait for the next one
    assert len(occurrences()) == 2
    assert call(stack.api_url, alice, "POST", f"{path}/resume")["status"] == "scheduled"
    assert call(stack.api_url, alice, "POST", f"{path}/cancel")["status"] == "cancelled"
