"""What the integration tests share: calling the local API (campaigns, audiences, consents,
sign-ups, the problem documents it answers with, access exports), waiting, reaching the carrier
and its opt-out list, and the sign-up confirmations it was asked to send."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from cloison_local.carrier import CarrierSimulator
from cloison_local.carrier.state import SentMessage
from cloison_local.demo import demo_clock
from cloison_local.seed import seed
from cloison_local.stack import LocalStack

PROBLEM = "application/problem+json"


@contextmanager
def stack_of_its_own(
    tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any
) -> Iterator[LocalStack]:
    """A local stack for one module's tests (its parameters, identities or clock), its clock
    inside the demo recipients' sending window, its logs in a folder of their own."""
    with LocalStack(
        api_port=0,
        clock_start=demo_clock(datetime.now(UTC)),
        retry_after_seconds=1,
        log_dir=tmp_path_factory.mktemp(f"{name}-logs"),
        **options,
    ) as running:
        yield running


def demo_tokens(stack: LocalStack) -> dict[str, str]:
    """The demo data seeded on `stack`; the demo users' access tokens by name."""
    return seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)


def api(
    stack: LocalStack,
    token: str | None,
    method: str,
    path: str,
    *,
    timeout: float = 60,
    **kwargs: Any,
) -> requests.Response:
    """One call to the local API, with the token as API Gateway expects it (none: anonymous)."""
    headers = {"Authorization": token} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(
        method, stack.api_url + path, headers=headers, timeout=timeout, **kwargs
    )


def problem_of(response: requests.Response, status: int) -> dict[str, Any]:
    """The problem document (RFC 9457) of an answer that must be one, of `status`; the
    assertions carry no body, which may hold a number."""
    assert response.status_code == status, f"answered {response.status_code}, not {status}"
    assert response.headers["Content-Type"].startswith(PROBLEM), "not a problem document"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://cloison.dev/problems/")
    return body


def ok(response: requests.Response) -> Any:
    """The document of a successful answer."""
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


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


def sms_client(stack: LocalStack) -> Any:
    """End User Messaging's SMS API as the carrier simulator answers it."""
    return boto3.client(
        "pinpoint-sms-voice-v2",
        endpoint_url=carrier(stack).endpoint_url,
        region_name=stack.client("sqs").meta.region_name,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def on_provider_list(stack: LocalStack, number: str) -> bool:
    """Whether the number is on the stack's opt-out list at the carrier."""
    answer = sms_client(stack).describe_opted_out_numbers(
        OptOutListName=stack.outputs["OptOutListName"], OptedOutNumbers=[number]
    )
    return bool(answer["OptedOutNumbers"])


def campaign_json(**changes: str) -> dict[str, str]:
    """What creating a campaign sends: a marketing campaign of team sales, from its sender
    promo, but for `changes`."""
    return {
        "team": "sales",
        "name": "Essai",
        "sender": "promo",
        "kind": "marketing",
        "body": "Bonjour {first_name}",
    } | changes


def new_campaign(stack: LocalStack, token: str, **changes: str) -> str:
    """A draft without audience, created as `campaign_json(**changes)` says."""
    created = api(stack, token, "POST", "/campaigns", json=campaign_json(**changes))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def add_recipients(
    stack: LocalStack, token: str, campaign: str, recipients: list[dict[str, Any]]
) -> requests.Response:
    """The answer to adding `recipients` (each with its `phone`) to the campaign's audience."""
    path = f"/campaigns/{campaign}/audience"
    return api(stack, token, "POST", path, json={"recipients": recipients})


def upload(
    stack: LocalStack,
    token: str,
    campaign: str,
    data: bytes,
    content_type: str = "text/csv",
    **kwargs: Any,
) -> requests.Response:
    """The answer to uploading `data` as the campaign's audience (a CSV file unless told)."""
    path = f"/campaigns/{campaign}/audience"
    headers = {"Content-Type": content_type}
    return api(stack, token, "POST", path, data=data, headers=headers, **kwargs)


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
    campaign = new_campaign(
        stack, token, team=team, name="Relance", sender=sender, kind=kind, body="Soldes"
    )
    audience = add_recipients(stack, token, campaign, [{"phone": number} for number in numbers])
    assert audience.status_code == 200, audience.text
    return campaign


def send_to(stack: LocalStack, token: str, numbers: list[str], **options: str) -> str:
    """Sends a campaign to `numbers` (of team sales, marketing, unless `options` say otherwise
    as `campaign_for` takes them) and waits until the carrier has every message."""
    campaign = campaign_for(stack, token, numbers, **options)
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


def consent_answer(stack: LocalStack, token: str, number: str, **changes: str) -> requests.Response:
    """The answer to recording the number's consent to team sales's marketing, from a web
    form, but for `changes` (`team`, `proof`, `given_at`...)."""
    document = {"team": "sales", "phone": number, "source": "web form", "proof": "Oui aux offres"}
    return api(stack, token, "POST", "/consents", json=document | changes)


def consent(stack: LocalStack, token: str, number: str, *, team: str = "sales") -> None:
    """Records the number's consent to `team`'s marketing."""
    answer = consent_answer(stack, token, number, team=team)
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


def sign_up(
    stack: LocalStack,
    address: str,
    phone: str,
    notice: str,
    *,
    team: str = "sales",
    page: str = "https://exemple.fr/inscription",
) -> tuple[int, Any]:
    """POST /signup/{team} from `address` (a loopback address: the gateway reads the socket's,
    as API Gateway reads the caller's), and its answer: status and document."""
    url = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(
        url.hostname or "127.0.0.1", url.port, timeout=60, source_address=(address, 0)
    )
    try:
        body = json.dumps({"phone": phone, "notice": notice, "page": page})
        connection.request(
            "POST",
            f"{url.path.rstrip('/')}/signup/{team}",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


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


def signup_confirmations(stack: LocalStack, numbers: list[str] | None = None) -> list[SentMessage]:
    """The sign-up confirmation SMS the carrier was asked to send (to `numbers`, if named)."""
    return [
        message
        for message in carrier(stack).sent_messages()
        if message.context.get("signup") == "confirmation"
        and (numbers is None or message.destination in numbers)
    ]


def confirm_sign_up(stack: LocalStack, number: str, keyword: str = "OUI") -> str:
    """The number's reply to its confirmation SMS, through the carrier; the reply's id."""
    return carrier(stack).inject_reply(number, stack.outputs["ShortCode"], keyword)


def access_export(stack: LocalStack, token: str, phone: str) -> dict[str, Any]:
    """Everything held about the number, as a privacy officer's access request answers it."""
    answer = api(
        stack,
        token,
        "POST",
        "/privacy/requests",
        json={"kind": "access", "phone": phone, "reason": "vérification"},
    )
    export: dict[str, Any] = ok(answer)["export"]
    return export


def team_consent(stack: LocalStack, token: str, phone: str, team: str = "sales") -> Any:
    """The number's marketing consent to `team` in its access export (`token`: a privacy
    officer's), once it is there; None if it never came."""
    found: list[Any] = []

    def recorded() -> bool:
        found[:] = [
            consent
            for consent in access_export(stack, token, phone)["consents"]
            if (consent["team"], consent["purpose"]) == (team, "marketing")
        ]
        return bool(found)

    return found[0] if wait_until(recorded, timeout=60, every=0.5) else None


def launched_and_settled(stack: LocalStack, token: str, campaign: str) -> dict[str, Any]:
    """Launches the campaign and waits until every recipient is settled; returns its stats."""
    answer = api(stack, token, "POST", f"/campaigns/{campaign}/launch", json={})
    assert answer.status_code == 202, answer.text
    stats = f"/campaigns/{campaign}/stats"
    assert wait_until(
        lambda: api(stack, token, "GET", stats).json()["status"] == "completed", 60
    ), "the campaign never completed"
    stack.wait_idle(timeout=30)
    return dict(api(stack, token, "GET", stats).json())
