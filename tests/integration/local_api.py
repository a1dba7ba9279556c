"""What the integration tests share: calling the local API, waiting, reaching the carrier."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from cloison_local.carrier import CarrierSimulator
from cloison_local.stack import LocalStack


def api(
    stack: LocalStack, token: str | None, method: str, path: str, **kwargs: Any
) -> requests.Response:
    """One call to the local API, with the token as API Gateway expects it (none: anonymous)."""
    headers = {"Authorization": token} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(method, stack.api_url + path, headers=headers, timeout=60, **kwargs)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, every: float = 0.1) -> bool:
    """True as soon as `condition()` holds, False if it never did within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def carrier(stack: LocalStack) -> CarrierSimulator:
    assert stack.carrier is not None
    return stack.carrier


def campaign_for(
    stack: LocalStack,
    token: str,
    numbers: list[str],
    *,
    team: str = "sales",
    kind: str = "marketing",
    sender: str = "promo",
) -> str:
    """A campaign of `team` to `numbers`, created and given its audience, not launched."""
    created = api(
        stack,
        token,
        "POST",
        "/campaigns",
        json={"team": team, "name": "Relance", "sender": sender, "kind": kind, "body": "Soldes"},
    )
    assert created.status_code == 201, created.text
    campaign = str(created.json()["id"])
    audience = api(
        stack,
        token,
        "POST",
        f"/campaigns/{campaign}/audience",
        json={"recipients": [{"phone": number} for number in numbers]},
    )
    assert audience.status_code == 200, audience.text
    return campaign


def send_to(
    stack: LocalStack,
    token: str,
    numbers: list[str],
    *,
    team: str = "sales",
    kind: str = "marketing",
) -> str:
    """Sends a campaign of `team` to `numbers` and waits until the carrier has every message."""
    campaign = campaign_for(stack, token, numbers, team=team, kind=kind)
    assert api(stack, token, "POST", f"/campaigns/{campaign}/launch", json={}).status_code == 202
    assert wait_until(lambda: set(numbers) <= set(sent(stack, campaign)))
    # People reply once the message has reached them: its delivery events are recorded.
    assert stack.wait_idle(timeout=90)
    return campaign


def sent(stack: LocalStack, campaign: str) -> list[str]:
    """The numbers the carrier was asked to send the campaign's messages to."""
    return [
        message.destination
        for message in carrier(stack).sent_messages()
        if message.context.get("campaign") == campaign
    ]


def consent(stack: LocalStack, token: str, number: str, *, team: str = "sales") -> None:
    """Records the number's consent to `team`'s marketing."""
    answer = api(
        stack,
        token,
        "POST",
        "/consents",
        json={"team": team, "phone": number, "source": "web form", "proof": "Oui aux offres"},
    )
    assert answer.status_code == 201, answer.text


def reply(
    stack: LocalStack, token: str, number: str, body: str, *, copies: int = 1
) -> dict[str, Any]:
    """A reply from `number`, waited for until its index entry is listed."""
    reply_id = carrier(stack).inject_reply(number, stack.outputs["ShortCode"], body, copies=copies)
    found: list[dict[str, Any]] = []

    def listed() -> bool:
        items = api(stack, token, "GET", "/replies").json()["items"]
        found[:] = [item for item in items if item["id"] == reply_id]
        return bool(found)

    assert wait_until(listed), "the reply never reached the index"
    stack.wait_idle(timeout=30)
    return found[0]


def audit_entries(stack: LocalStack, token: str, **filters: str) -> list[dict[str, Any]]:
    """Every audit entry the listing gives with these filters, newest first, page after page."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {**filters, "limit": "50", **({"cursor": cursor} if cursor else {})}
        answer = api(stack, token, "GET", "/audit", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
