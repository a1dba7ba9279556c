"""The send path at scale and under faults: one send per eligible recipient, never two, never early."""

import functools
import hashlib
import hmac
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from local_api import wait_until as poll

from cloison.services.slices import SLICE_SIZE
from cloison_local.seed import call, seed
from cloison_local.stack import LocalStack

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 09:00 in Paris is 04:00 in Guadeloupe: metropolitan numbers may be sent, the
# Guadeloupe ones wait for 08:00 there (13:00 in Paris).
TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
GUADELOUPE_OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=PARIS)
# The delivery events of 9,800 messages, after the last send (a few minutes on a busy machine).
DELIVERY_SECONDS = 300

# This file's polling interval
wait_until = functools.partial(poll, every=0.5)


def metropolitan(count: int, offset: int = 0) -> list[str]:
    return [f"+33610{index:06d}" for index in range(offset, offset + count)]


def guadeloupe(count: int) -> list[str]:
    return [f"+59069050{index:04d}" for index in range(count)]


def record_consents(stack: LocalStack, team: str, numbers: list[str]) -> None:
    """Bulk consents written with the application's own store, as a migration would."""
    os.environ["AWS_ENDPOINT_URL"] = stack.moto_url
    from cloison.adapters import aws
    from cloison.adapters.tables import ConsentStore
    from cloison.models.records import ConsentRecord

    aws.dynamodb.cache_clear()
    pepper = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.outputs["PepperSecretArn"]
    )["SecretString"]
    store = ConsentStore(stack.outputs["ContactsTableName"], 1095)
    given = datetime(2026, 1, 5, tzinfo=UTC)
    with store._table.batch_writer() as batch:
        for number in numbers:
            number_key = hmac.new(pepper.encode(), number.encode(), hashlib.sha256).hexdigest()
            record = ConsentRecord(
                number_key=number_key,
                team=team,
                purpose="marketing",
                source="import",
                proof="Formulaire papier signé",
                given_at=given,
                recorded_by="import",
            )
            item = dict(record.model_dump(mode="json"))
            item |= {
                "pk": f"contact#{number_key}",
                "sk": f"consent#{team}#marketing",
                "expires_at": int(given.timestamp()) + 3 * 365 * 86400,
            }
            batch.put_item(Item=item)


def campaign_messages(
    stack: LocalStack, campaign: str, carrier_message_id: str | None = None
) -> list[dict[str, Any]]:
    """The campaign's message records (keyed by number, so a scan filtered on the campaign)."""
    condition, values = "sk = :campaign", {":campaign": {"S": f"campaign#{campaign}"}}
    if carrier_message_id is not None:
        condition += " AND carrier_message_id = :id"
        values[":id"] = {"S": carrier_message_id}
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=stack.outputs["MessagesTableName"],
            FilterExpression=condition,
            ExpressionAttributeValues=values,
        )
    )
    return [item for page in pages for item in page["Items"]]


def message_statuses(stack: LocalStack, campaign: str) -> Counter[str]:
    """The campaign's message records by status, read from the messages table."""
    return Counter(item["status"]["S"] for item in campaign_messages(stack, campaign))


def upload(stack: LocalStack, token: str, campaign: str, numbers: list[str]) -> int:
    accepted = 0
    for start in range(0, len(numbers), 5000):
        answer = call(
            stack.api_url,
            token,
            "POST",
            f"/campaigns/{campaign}/audience",
            {
                "recipients": [{"phone": number} for number in numbers[start : start + 5000]],
            },
        )
        accepted += answer["accepted"]
    return accepted


def suppress(stack: LocalStack, token: str, numbers: Iterable[str]) -> None:
    for number in numbers:
        call(
            stack.api_url,
            token,
            "POST",
            "/suppressions",
            {"team": "sales", "phone": number, "reason": "asked"},
        )


def bulk_campaign(stack: LocalStack, token: str, name: str, body: str) -> str:
    """A marketing campaign of team sales from the fast "bulk" sender profile."""
    return str(
        call(
            stack.api_url,
            token,
            "POST",
            "/campaigns",
            {
                "team": "sales",
                "name": name,
                "sender": "bulk",
                "kind": "marketing",
                "body": body,
            },
        )["id"]
    )


def bulk_sender(stack: LocalStack, admin: str) -> None:
    short_code = stack.outputs["ShortCode"]
    call(
        stack.api_url,
        admin,
        "PUT",
        "/teams/sales/senders/bulk",
        {
            "sender_id": short_code,
            "stop_mention": f"STOP au {short_code}",
            "window": "default",
            "mps": 1000,
            "price_per_segment": 0.0458,
            "company": "Boutique Exemple",
        },
    )


def morning_stack(log_dir: Path) -> LocalStack:
    """A stack of its own: its clock is moved by these tests, and its send worker times out fast."""
    return LocalStack(
        api_port=0,
        clock_start=TUESDAY_MORNING,
        retry_after_seconds=1,
        log_dir=log_dir,
        function_timeouts={"SendWorkerFunction": 30},
    )


@pytest.fixture
def stack_and_tokens(tmp_path: Path) -> Iterator[tuple[LocalStack, dict[str, str]]]:
    with morning_stack(tmp_path) as stack:
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        bulk_sender(stack, tokens["ada"])
        yield stack, tokens


@pytest.mark.timeout(900)
def test_a_large_mixed_campaign_sends_once_to_each_eligible_recipient(
    stack_and_tokens: tuple[LocalStack, dict[str, str]],
) -> None:
    stack, tokens = stack_and_tokens
    assert stack.carrier is not None
    alice = tokens["alice"]
    # Given 10,000 recipients: 9,600 in Paris, 200 in Guadeloupe (before their window), of whom
    # 150 have not consented and 50 have asked to be suppressed
    paris, islands = metropolitan(9800), guadeloupe(200)
    no_consent, suppressed = set(paris[:150]), set(paris[150:200])
    record_consents(
        stack, "sales", [number for number in paris + islands if number not in no_consent]
    )
    suppress(stack, alice, suppressed)
    campaign = bulk_campaign(
        stack,
        alice,
        "Grande campagne",
        "Soldes d'hiver : -20% sur tout le magasin jusqu'à dimanche.",
    )
    assert upload(stack, alice, campaign, paris + islands) == 10_000
    before = len(stack.carrier.sent_messages())

    # When it is launched on Tuesday morning
    call(stack.api_url, alice, "POST", f"/campaigns/{campaign}/launch", {})
    stats_path = f"/campaigns/{campaign}/stats"

    def counts() -> dict[str, int]:
        return dict(call(stack.api_url, alice, "GET", stats_path)["counts"])

    first_pass = wait_until(lambda: counts()["queued"] + counts()["deferred"] >= 9800, 300)
    morning = call(stack.api_url, alice, "GET", stats_path)

    # Then every eligible metropolitan recipient got one message and Guadeloupe waits
    assert first_pass
    assert morning["counts"]["queued"] == 9600
    assert morning["counts"]["no_consent"] == 150
    assert morning["counts"]["suppressed"] == 50
    assert morning["counts"]["deferred"] == 200
    assert morning["status"] == "sending"
    sent = stack.carrier.sent_messages()[before:]
    assert not any(message.destination.startswith("+590") for message in sent)

    # When the clock reaches 08:00 in Guadeloupe
    stack.set_clock(GUADELOUPE_OPENS + timedelta(minutes=1))
    released = wait_until(
        lambda: call(stack.api_url, alice, "GET", stats_path)["status"] == "completed", 120
    )
    final = call(stack.api_url, alice, "GET", stats_path)

    # Then the Guadeloupe recipients are sent too, and every recipient ends in one status
    assert released
    sent = stack.carrier.sent_messages()[before:]
    destinations = Counter(message.destination for message in sent)
    assert max(destinations.values()) == 1
    assert set(destinations) == set(paris + islands) - no_consent - suppressed
    # And what the carrier got is the composed marketing text: from the stack's short code, as
    # a promotional message, ending with the sender profile's STOP mention
    short_code = stack.outputs["ShortCode"]
    assert {(message.origination, message.message_type) for message in sent} == {
        (short_code, "PROMOTIONAL")
    }
    assert all(message.body.endswith(f"\nSTOP au {short_code}") for message in sent)
    ended = final["counts"]
    assert ended["queued"] == 9800
    assert ended["deferred"] == 0
    assert ended["queued"] + ended["no_consent"] + ended["suppressed"] == 10_000
    assert ended["sent"] > 0

    # And the carrier's delivery events of every message come back (a "sent" and a "delivered"
    # each): every message record ends delivered, and the counters equal the records
    all_delivered = wait_until(lambda: counts()["delivered"] >= 9800, DELIVERY_SECONDS)
    stack.wait_idle(timeout=60)
    settled = counts()
    assert all_delivered
    assert settled["delivered"] == settled["sent"] == 9800
    assert settled["failed"] == settled["expired"] == 0
    assert message_statuses(stack, campaign) == Counter({"delivered": 9800})


@pytest.mark.timeout(600)
def test_faults_cause_no_duplicate_and_no_send_to_a_suppressed_number(
    stack_and_tokens: tuple[LocalStack, dict[str, str]],
) -> None:
    stack, tokens = stack_and_tokens
    assert stack.carrier is not None
    alice = tokens["alice"]
    # Given 1,200 consented recipients (three chunks), 20 of them suppressed
    numbers = metropolitan(1200, offset=20_000)
    record_consents(stack, "sales", numbers)
    suppress(stack, alice, numbers[:20])
    campaign = bulk_campaign(stack, alice, "Sous tension", "Bonjour !")
    upload(stack, alice, campaign, numbers)
    before = len(stack.carrier.sent_messages())

    # When the carrier throttles, a worker dies after the carrier accepted one of its sends but
    # before it heard back, and the launch request, hence every chunk reference, comes twice
    stack.carrier.throttle_next(5)
    stack.carrier.stall_after_next(1, seconds=60)
    call(stack.api_url, alice, "POST", f"/campaigns/{campaign}/launch", {})
    stack.client("sqs").send_message(
        QueueUrl=stack.outputs["LaunchQueueUrl"],
        MessageBody=json.dumps({"campaign_id": campaign, "team": "sales"}),
    )
    assert wait_until(lambda: len(stack.carrier.sent_messages()) > before, 60)  # type: ignore[union-attr]
    assert stack.runtimes["SendWorkerFunction"].kill_busy() >= 1
    in_doubt = stack.carrier.sent_messages()[before]
    stats_path = f"/campaigns/{campaign}/stats"
    # The dead worker held its pass for 16 minutes: move the clock past that.
    stack.set_clock(TUESDAY_MORNING + timedelta(minutes=20))
    done = wait_until(
        lambda: call(stack.api_url, alice, "GET", stats_path)["status"] == "completed", 180
    )

    # Then no number got two messages and no suppressed number got any
    assert done
    sent = stack.carrier.sent_messages()[before:]
    destinations = Counter(message.destination for message in sent)
    assert max(destinations.values()) == 1
    assert set(destinations) <= set(numbers[20:])
    stats = call(stack.api_url, alice, "GET", stats_path)["counts"]
    assert stats["suppressed"] == 20
    assert stats["rejected"] == 0  # the throttled sends were tried again, not dropped
    # And the recipients of the dead workers' slices (one slice each, up to two workers busy)
    # are in doubt, never resent; the one sent before the crash is settled by its events
    assert 1 <= stats["in_doubt"] <= 2 * SLICE_SIZE
    assert stats["queued"] + stats["in_doubt"] + stats["suppressed"] == 1200

    def settled() -> bool:
        found = campaign_messages(stack, campaign, in_doubt.message_id)
        return bool(found) and found[0]["status"]["S"] == "delivered"

    assert wait_until(settled, 300)


@pytest.mark.timeout(600)
def test_dynamodb_errors_cause_no_duplicate_and_lose_no_recipient(
    stack_and_tokens: tuple[LocalStack, dict[str, str]],
) -> None:
    stack, tokens = stack_and_tokens
    assert stack.carrier is not None
    alice = tokens["alice"]
    # Given 1,200 consented recipients (three chunks)
    numbers = metropolitan(1200, offset=40_000)
    record_consents(stack, "sales", numbers)
    campaign = bulk_campaign(stack, alice, "Base capricieuse", "Bonjour !")
    upload(stack, alice, campaign, numbers)
    before = len(stack.carrier.sent_messages())

    # When one DynamoDB call in ten of the launch and send functions fails while it is sent
    for function in ("LaunchCampaignFunction", "SendWorkerFunction"):
        stack.runtimes[function].fault_rates = {"dynamodb": 0.1}
    call(stack.api_url, alice, "POST", f"/campaigns/{campaign}/launch", {})
    stats_path = f"/campaigns/{campaign}/stats"
    wait_until(lambda: len(stack.carrier.sent_messages()) - before >= 600, 60)  # type: ignore[union-attr]
    time.sleep(5)
    for function in ("LaunchCampaignFunction", "SendWorkerFunction"):
        stack.runtimes[function].fault_rates = {}
    # A pass whose worker failed stays leased for 16 minutes: move the clock past that.
    stack.set_clock(TUESDAY_MORNING + timedelta(minutes=20))
    done = wait_until(
        lambda: call(stack.api_url, alice, "GET", stats_path)["status"] == "completed", 240
    )

    # Then no number got two messages, and every recipient is settled: sent, or in doubt when
    # a failure came between the carrier's answer and the checkpoint
    assert done
    sent = stack.carrier.sent_messages()[before:]
    destinations = Counter(message.destination for message in sent)
    assert max(destinations.values()) == 1
    stats = call(stack.api_url, alice, "GET", stats_path)["counts"]
    assert stats["queued"] + stats["in_doubt"] == 1200
    assert stats["queued"] <= len(destinations) <= stats["queued"] + stats["in_doubt"]
    # And the faults did happen
    assert stack.log_dir is not None
    assert "InternalServerError" in (stack.log_dir / "SendWorkerFunction.log").read_text()
