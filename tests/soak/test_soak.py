"""Soak: campaigns and replies at once on the local stack, with faults in every adapter.

For SOAK_SECONDS of traffic, two teams launch marketing and transactional campaigns (overseas
recipients outside their window, recipients without consent, suppressed numbers), recipients
answer them (STOPs in the middle of campaigns, HELP, plain replies, strangers, one number that
floods), the functions' AWS calls fail at random, the carrier throttles, fails and stalls, and
workers are killed mid-batch; the clock moves, releasing deferred recipients. Then the faults
stop, dead-letter queues are redriven as an operator would, and once all is quiet the carrier's
record of what it sent is checked against the stored records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests

from cloison.adapters.allowance import window_key
from cloison.compliance.phone import normalize_phone
from cloison.compliance.replies import classify_reply
from cloison.compliance.window import SendWindowPolicy, next_send_time
from cloison.models.records import ConsentRecord
from cloison_local.carrier import SentMessage
from cloison_local.seed import seed
from cloison_local.stack import REGION, LocalStack

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "180"))
PARIS = ZoneInfo("Europe/Paris")
# Tuesday 09:00 in Paris is 04:00 in the Antilles: their recipients wait for 13:00 in Paris.
TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
TUESDAY_AFTERNOON = datetime(2026, 12, 1, 13, 1, tzinfo=PARIS)
WEDNESDAY_MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=PARIS)
# After the traffic: the Antilles are open again and every lease of a dead worker has run out.
WEDNESDAY_AFTERNOON = datetime(2026, 12, 2, 13, 30, tzinfo=PARIS)
SEND_TIMEOUT = 60
ROUND_SECONDS = 12.0
ALLOWANCE = 20  # the template's default RepliesPerNumberPerHour

# Neighbours of phonenumbers' example mobiles (France, Guadeloupe, Martinique): fictional.
METRO = [f"+3361234{index:04d}" for index in range(300)]
# The template's default: marketing messages per number in a week, every team's together.
FREQUENCY_CAP = 4
ANTILLES = [f"+59069000{index:04d}" for index in range(12)] + [
    f"+59669620{index:04d}" for index in range(12)
]
STRANGERS = [f"+3361235{index:04d}" for index in range(40)]
FLOODER = METRO[1]
NO_CONSENT = {number for index, number in enumerate(METRO) if index % 10 == 3}
TEAM_SUPPRESSED = {
    "sales": {number for index, number in enumerate(METRO) if index % 25 == 7},
    "support": {number for index, number in enumerate(METRO) if index % 25 == 11},
}
MEMBERS = {"sales": "alice", "support": "bruno"}
SENDER_WINDOW = {"promo": "default", "alerts": "daily"}
FAULT_RATES = {
    "dynamodb": 0.03,
    "s3": 0.05,
    "kms": 0.05,
    "sqs": 0.03,
    "scheduler": 0.1,
    "pinpoint-sms-voice-v2": 0.05,
    "secretsmanager": 0.05,
    "sts": 0.05,
}
# The API is what the test drives: it fails less, and its calls are retried.
API_FAULT_RATES = {service: rate / 3 for service, rate in FAULT_RATES.items()}
KILLED_FUNCTIONS = (
    "LaunchCampaignFunction",
    "SendWorkerFunction",
    "DeliveryEventsFunction",
    "MessageCountsFunction",
    "InboundFunction",
)
REPLY_BODIES = ("Merci, je passe samedi", "Ok pour moi", "C'est noté, merci !")
STOP_BODIES = ("STOP", "Stop", "stop svp", "ARRET")


@dataclass
class Campaign:
    campaign_id: str
    team: str
    kind: str
    sender: str
    audience: list[str] = field(repr=False)
    suppressed_at_launch: set[str] = field(repr=False)


@dataclass(frozen=True)
class Reply:
    reply_id: str
    number: str = field(repr=False)
    body: str = field(repr=False)
    role: str  # "recipient", "stranger" or "flood"
    campaign_id: str | None

    @property
    def opts_out(self) -> bool:
        return classify_reply(self.body).opts_out


@dataclass
class Soak:
    stack: LocalStack = field(repr=False)
    tokens: dict[str, str] = field(repr=False)
    pepper: str = field(repr=False)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    campaigns: list[Campaign] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    clock: list[tuple[float, timedelta]] = field(default_factory=list)
    killed: int = 0
    api_retries: int = 0
    flood_stop: str | None = None
    replied_to: int = 0

    # ---------------------------------------------------------------- driving
    def api(self, team: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One API call as the team's member; a 5xx (an injected fault) is tried again."""
        for attempt in range(10):
            response = requests.request(
                method,
                self.stack.api_url + path,
                json=body,
                headers={"Authorization": self.tokens[MEMBERS[team]]},
                timeout=60,
            )
            if response.status_code < 500:
                if response.status_code >= 400 and response.status_code != 409:
                    raise RuntimeError(f"{method} {path} answered {response.status_code}")
                return response.status_code, response.json() if response.content else None
            self.api_retries += 1
            time.sleep(0.3 * (attempt + 1))
        raise RuntimeError(f"{method} {path} kept failing")

    def key(self, number: str) -> str:
        return hmac.new(self.pepper.encode(), number.encode(), hashlib.sha256).hexdigest()

    def set_clock(self, instant: datetime) -> None:
        self.stack.set_clock(instant)
        self.clock.append((time.time(), self.stack.clock_offset))

    def suppressed(self, numbers: list[str], team: str) -> set[str]:
        """The numbers suppressed for `team` right now, read from the suppressions table."""
        dynamodb = self.stack.client("dynamodb")
        table = self.stack.outputs["SuppressionsTableName"]
        by_key = {self.key(number): number for number in numbers}
        found: set[str] = set()
        keys = list(by_key)
        for start in range(0, len(keys), 100):
            request = {
                table: {
                    "Keys": [
                        {"pk": {"S": f"number#{key}"}, "sk": {"S": "suppression"}}
                        for key in keys[start : start + 100]
                    ]
                }
            }
            while request:
                answer = dynamodb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(table, []):
                    scopes = set(item.get("scopes", {}).get("SS", []))
                    if scopes & {"all", team}:
                        found.add(by_key[item["pk"]["S"].removeprefix("number#")])
                request = answer.get("UnprocessedKeys") or {}
        return found

    def launch(self, team: str, kind: str, round_no: int) -> None:
        sender = "promo" if kind == "marketing" else "alerts"
        audience = self.rng.sample(METRO, 40) + self.rng.sample(ANTILLES, 6)
        if team == "sales" and FLOODER not in audience:
            audience.append(FLOODER)
        body = (
            f"Soldes d'hiver, vague {round_no} : -20% en magasin."
            if kind == "marketing"
            else f"Votre commande {round_no} est prête."
        )
        _, created = self.api(
            team,
            "POST",
            "/campaigns",
            {
                "team": team,
                "name": f"Soak {round_no}",
                "sender": sender,
                "kind": kind,
                "body": body,
            },
        )
        campaign_id = str(created["id"])
        self.upload(team, campaign_id, audience)
        # Read before the launch: these were suppressed before any send was decided.
        suppressed = self.suppressed(audience, team)
        self.api(team, "POST", f"/campaigns/{campaign_id}/launch", {})
        self.campaigns.append(Campaign(campaign_id, team, kind, sender, audience, suppressed))

    def upload(self, team: str, campaign_id: str, audience: list[str]) -> None:
        """Uploads once: a retried upload that had gone through would add the numbers twice."""
        recipients = {"recipients": [{"phone": number} for number in audience]}
        for _ in range(10):
            response = requests.post(
                f"{self.stack.api_url}/campaigns/{campaign_id}/audience",
                json=recipients,
                headers={"Authorization": self.tokens[MEMBERS[team]]},
                timeout=60,
            )
            if response.status_code < 300:
                return
            _, stats = self.api(team, "GET", f"/campaigns/{campaign_id}/stats")
            if stats["recipients"]:
                return
            self.api_retries += 1
            time.sleep(0.5)
        raise RuntimeError(f"the audience of {campaign_id} could not be uploaded")

    def reply(self, number: str, body: str, role: str, sent: SentMessage | None) -> None:
        assert self.stack.carrier is not None
        reply_id = self.stack.carrier.inject_reply(
            number,
            self.stack.outputs["ShortCode"],
            body,
            sent.message_id if sent else None,
            copies=self.rng.choice((1, 2)),
            copy_delay_seconds=self.rng.choice((0.0, 2.0)),
        )
        campaign = sent.context.get("campaign") if sent else None
        self.replies.append(Reply(reply_id, number, body, role, campaign))

    def answer_recent_sends(self, round_no: int) -> None:
        assert self.stack.carrier is not None
        sends = [m for m in self.stack.carrier.sent_messages() if "campaign" in m.context]
        fresh, self.replied_to = sends[self.replied_to :], len(sends)
        fresh = [message for message in fresh if message.destination != FLOODER]
        for message in self.rng.sample(fresh, min(8, len(fresh))):
            draw = self.rng.random()
            if draw < 0.2:
                body = self.rng.choice(STOP_BODIES)
            elif draw < 0.3:
                body = "AIDE"
            else:
                body = f"{self.rng.choice(REPLY_BODIES)} (réf {round_no})"
            self.reply(message.destination, body, "recipient", message)
        self.reply(self.rng.choice(STRANGERS), "Qui êtes-vous ?", "stranger", None)

    def flood(self, round_no: int, count: int) -> None:
        for index in range(count):
            self.reply(FLOODER, f"Encore et encore {round_no}-{index}", "flood", None)

    def flood_window_full(self) -> bool:
        """The flooder has used up its allowance for the hour the functions' clock is in."""
        key = window_key(self.key(FLOODER), self.stack.now())
        item = (
            self.stack.client("dynamodb")
            .get_item(
                TableName=self.stack.outputs["RepliesTableName"],
                Key={name: {"S": value} for name, value in key.items()},
            )
            .get("Item", {})
        )
        return len(item.get("admitted", {}).get("SS", [])) >= ALLOWANCE

    # ---------------------------------------------------------------- reading back
    def offsets_around(self, moment: datetime) -> set[timedelta]:
        """The clock offsets a worker sending at `moment` may have had (set at its start)."""
        real = moment.timestamp()
        candidates = set()
        for index, (since, offset) in enumerate(self.clock):
            until = self.clock[index + 1][0] if index + 1 < len(self.clock) else float("inf")
            if since <= real + 1 and until >= real - SEND_TIMEOUT - 1:
                candidates.add(offset)
        return candidates

    def scan(self, table: str) -> list[dict[str, Any]]:
        dynamodb = self.stack.client("dynamodb")
        items: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {"TableName": table}
        while True:
            page = dynamodb.scan(**arguments)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dead_letter_queues(stack: LocalStack) -> dict[str, str]:
    """Each dead-letter queue's URL and the URL of the queue it takes failures from."""
    sqs = stack.client("sqs")
    urls = sqs.list_queues().get("QueueUrls", [])
    arns = {
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]: url
        for url in urls
    }
    sources = {}
    for url in urls:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        policy = attributes.get("Attributes", {}).get("RedrivePolicy")
        if policy:
            sources[arns[json.loads(policy)["deadLetterTargetArn"]]] = url
    return sources


def redrive(stack: LocalStack) -> int:
    """Moves every dead letter back to its source queue, as an operator's redrive does."""
    sqs = stack.client("sqs")
    moved = 0
    for dead_letters, source in dead_letter_queues(stack).items():
        while True:
            messages = sqs.receive_message(
                QueueUrl=dead_letters, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=dead_letters, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
    return moved


def dead_letters_left(stack: LocalStack) -> int:
    """Messages in the dead-letter queues, and stream batches given up without being counted."""
    sqs = stack.client("sqs")
    given_up = [stack.outputs["CountsDeadLetterQueueUrl"]]
    return sum(
        int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        for url in [*dead_letter_queues(stack), *given_up]
    )


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Soak, dict[str, Any]]]:
    log_dir: Path = tmp_path_factory.mktemp("soak-logs")
    with LocalStack(
        api_port=0,
        clock_start=TUESDAY_MORNING,
        retry_after_seconds=1,
        log_dir=log_dir,
        function_timeouts={"SendWorkerFunction": SEND_TIMEOUT},
    ) as stack:
        assert stack.carrier is not None
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        pepper = stack.client("secretsmanager").get_secret_value(
            SecretId=stack.outputs["PepperSecretArn"]
        )["SecretString"]
        run = Soak(stack, tokens, pepper)
        run.clock.append((time.time(), stack.clock_offset))
        record_consents(run)
        for team, numbers in TEAM_SUPPRESSED.items():
            for number in sorted(numbers):
                run.api(
                    team,
                    "POST",
                    "/suppressions",
                    {"team": team, "phone": number, "reason": "asked"},
                )

        # Traffic, under faults
        for runtime in stack.runtimes.values():
            runtime.reset_call_counts()
            runtime.fault_rates = dict(
                API_FAULT_RATES if runtime.spec.logical_id == "ApiFunction" else FAULT_RATES
            )
        stack.carrier.set_fault_rates(fail_rate=0.03, throttle_rate=0.05, seed=11)
        started = time.monotonic()
        round_no = 0
        phases = [(0.4, TUESDAY_AFTERNOON), (0.7, WEDNESDAY_MORNING)]
        while time.monotonic() - started < SOAK_SECONDS:
            round_started = time.monotonic()
            elapsed = (round_started - started) / SOAK_SECONDS
            if phases and elapsed >= phases[0][0]:
                run.set_clock(phases.pop(0)[1])
            round_no += 1
            run.launch("sales", "marketing", round_no)
            run.launch("support", "marketing", round_no)
            run.launch(run.rng.choice(("sales", "support")), "transactional", round_no)
            run.answer_recent_sends(round_no)
            run.flood(round_no, 10)
            if run.flood_stop is None and round_no >= 3 and run.flood_window_full():
                # Beyond the flooder's allowance: its STOP must still take effect.
                run.reply(FLOODER, "STOP", "flood", None)
                run.flood_stop = run.replies[-1].reply_id
            if round_no % 2 == 0:
                # The first of them, in a random order, that is busy right now
                for function in run.rng.sample(KILLED_FUNCTIONS, len(KILLED_FUNCTIONS)):
                    killed = stack.runtimes[function].kill_busy()
                    run.killed += killed
                    if killed:
                        break
            if round_no == 4:
                stack.carrier.stall_after_next(1, seconds=SEND_TIMEOUT + 10)
            time.sleep(max(0.0, ROUND_SECONDS - (time.monotonic() - round_started)))
        traffic_seconds = time.monotonic() - started
        faults: Counter[str] = Counter()
        for runtime in stack.runtimes.values():
            for (service, _), count in runtime.fault_counts().items():
                faults[service] += count

        # Faults over: the clock opens every window, an operator redrives and reconciles
        for runtime in stack.runtimes.values():
            runtime.fault_rates = {}
        stack.carrier.set_fault_rates(fail_rate=0.0, throttle_rate=0.0)
        run.set_clock(WEDNESDAY_AFTERNOON)
        redriven = 0
        for _ in range(4):
            stack.wait_idle(timeout=240, quiet_seconds=3)
            moved = redrive(stack)
            redriven += moved
            if not moved:
                break
        stack.invoke("ReconcileOptOutsFunction", {})
        quiet = stack.wait_idle(timeout=240, quiet_seconds=3)
        figures = {
            "traffic_seconds": traffic_seconds,
            "total_seconds": time.monotonic() - started,
            "rounds": round_no,
            "faults": dict(faults),
            "redriven": redriven,
            "dead_letters_left": dead_letters_left(stack),
            "quiet": quiet,
        }
        yield run, figures


def record_consents(run: Soak) -> None:
    """Marketing consents of both teams for every number but NO_CONSENT, written in bulk."""
    table = boto3.resource("dynamodb", endpoint_url=run.stack.moto_url, region_name=REGION).Table(
        run.stack.outputs["ContactsTableName"]
    )
    given = datetime(2026, 1, 5, tzinfo=UTC)
    with table.batch_writer() as batch:
        for number in METRO + ANTILLES:
            if number in NO_CONSENT:
                continue
            key = run.key(number)
            for team in MEMBERS:
                record = ConsentRecord(
                    number_key=key,
                    team=team,
                    purpose="marketing",
                    source="import",
                    proof="Formulaire papier signé",
                    given_at=given,
                    recorded_by="import",
                )
                batch.put_item(
                    Item=dict(record.model_dump(mode="json"))
                    | {
                        "pk": f"contact#{key}",
                        "sk": f"consent#{team}#marketing",
                        "expires_at": int(given.timestamp()) + 3 * 365 * 86400,
                    }
                )


@pytest.mark.timeout(int(SOAK_SECONDS) + 1500)
def test_soak_accounting(soak: tuple[Soak, dict[str, Any]]) -> None:
    run, figures = soak
    stack = run.stack
    assert stack.carrier is not None
    sends = [message for message in stack.carrier.sent_messages() if "campaign" in message.context]
    answers = [
        message for message in stack.carrier.sent_messages() if "answer_to" in message.context
    ]
    refused = stack.carrier.refused_sends()
    by_id = {campaign.campaign_id: campaign for campaign in run.campaigns}
    problems: dict[str, int] = Counter()

    # Faults happened in every adapter the functions use, and workers died mid-batch
    for service in ("dynamodb", "s3", "kms", "sqs", "scheduler", "pinpoint-sms-voice-v2"):
        assert figures["faults"].get(service, 0) > 0, service
    assert run.killed >= 1
    # And it all settled: queues quiet, dead-letter queues empty after the redrive
    assert figures["quiet"]
    assert figures["dead_letters_left"] == 0

    # No duplicate send: one message at most per (campaign, recipient)
    per_recipient = Counter((m.context["campaign"], m.destination) for m in sends)
    problems["duplicate sends"] = sum(count - 1 for count in per_recipient.values() if count > 1)
    # What the duplicates have in common (counts only): where to, how far apart, across a move
    # of the clock or not
    twice = {pair for pair, count in per_recipient.items() if count > 1}
    first_and_second: dict[tuple[str, str], list[SentMessage]] = {}
    for message in sends:
        pair = (message.context["campaign"], message.destination)
        if pair in twice:
            first_and_second.setdefault(pair, []).append(message)
    duplicates: Counter[str] = Counter()
    for pair, copies in first_and_second.items():
        gap = (copies[1].sent_at - copies[0].sent_at).total_seconds()
        moved = any(
            copies[0].sent_at.timestamp() < since <= copies[1].sent_at.timestamp()
            for since, _ in run.clock[1:]
        )
        duplicates[
            f"{'Antilles' if pair[1] in ANTILLES else 'metro'}"
            f" {'across a clock move' if moved else 'same clock'}"
            f" {'<5 s' if gap < 5 else '<70 s' if gap < 70 else '>=70 s'} apart"
        ] += 1
        # Where to look in the functions' logs: the campaign, the sends' times and message ids
        sys.stdout.write(
            f"  duplicate in {pair[0]}: "
            + ", ".join(f"{copy.message_id} at {copy.sent_at:%H:%M:%S.%f}" for copy in copies)
            + "\n"
        )
    # Every send belongs to a launched campaign and goes to its audience
    problems["sends outside an audience"] = sum(
        1
        for m in sends
        if m.context["campaign"] not in by_id
        or m.destination not in by_id[m.context["campaign"]].audience
    )
    # No send, and no attempt the carrier refused, to a number suppressed before the launch
    attempts = [(m.destination, m.context) for m in sends] + refused
    problems["sends to a suppressed number"] = sum(
        1
        for destination, context in attempts
        if context.get("campaign") in by_id
        and destination in by_id[context["campaign"]].suppressed_at_launch
    )
    # No marketing send without consent
    problems["marketing sends without consent"] = sum(
        1
        for m in sends
        if m.context["campaign"] in by_id
        and by_id[m.context["campaign"]].kind == "marketing"
        and m.destination in NO_CONSENT
    )
    # No number sent more marketing than the deployment's frequency cap allows (the soak's
    # traffic fits in one of its periods)
    marketing_per_number = Counter(
        m.destination
        for m in sends
        if m.context["campaign"] in by_id and by_id[m.context["campaign"]].kind == "marketing"
    )
    problems["numbers sent marketing beyond the frequency cap"] = sum(
        1 for count in marketing_per_number.values() if count > FREQUENCY_CAP
    )
    # No send outside the recipient's window, in the recipient's local time
    outside = 0
    for m in sends:
        campaign = by_id.get(m.context["campaign"])
        if campaign is None:
            continue
        policy = SendWindowPolicy.preset(SENDER_WINDOW[campaign.sender])
        phone = normalize_phone(m.destination)
        moments = [m.sent_at + offset for offset in run.offsets_around(m.sent_at)]
        if not any(next_send_time(moment, phone, policy=policy) == moment for moment in moments):
            outside += 1
    problems["sends outside the window"] = outside
    antilles_sent = sum(1 for m in sends if m.destination in ANTILLES)

    # Every campaign settled, and its counters equal the carrier's record and the message records
    counters_off: list[str] = []
    totals: Counter[str] = Counter()
    sends_of = Counter(m.context["campaign"] for m in sends)
    for campaign in run.campaigns:
        _, stats = run.api(campaign.team, "GET", f"/campaigns/{campaign.campaign_id}/stats")
        counts = stats["counts"]
        totals.update(counts)
        records = message_records(run, campaign.campaign_id)
        sent = sends_of[campaign.campaign_id]
        settled = sum(
            counts.get(status, 0)
            for status in (
                "queued",
                "rejected",
                "suppressed",
                "no_consent",
                "capped",
                "invalid",
                "in_doubt",
            )
        )
        checks = {
            "completed": stats["status"] == "completed",
            "settled": settled == stats["recipients"] == len(campaign.audience),
            "deferred": counts.get("deferred", 0) == 0,
            "queued <= sends <= queued + in_doubt": counts["queued"]
            <= sent
            <= counts["queued"] + counts.get("in_doubt", 0),
            "suppressed before launch counted": counts["suppressed"]
            >= len(campaign.suppressed_at_launch & set(campaign.audience)),
            "a record per send": sum(records.values()) == sent,
            "delivered = records": counts["delivered"] == records.get("delivered", 0),
            "sent = records": counts["sent"] == sum(records.values()),
            "failed = records": counts.get("failed", 0) == records.get("failed", 0),
        }
        if campaign.kind == "marketing":
            # The suppression is decided first: a number without consent that said STOP before
            # its pass was decided is counted suppressed. Those suppressed by the end are left out.
            without = set(campaign.audience) & NO_CONSENT - run.suppressed(
                campaign.audience, campaign.team
            )
            checks["no consent counted"] = counts["no_consent"] >= len(without)
        counters_off += [f"{campaign.campaign_id}: {name}" for name, ok in checks.items() if not ok]

    # Replies: each stored exactly once, or refused as beyond its number's allowance
    replies_table = run.scan(stack.outputs["RepliesTableName"])
    entries = [item for item in replies_table if "reply_id" in item]
    windows = [item for item in replies_table if item["pk"]["S"].startswith("allowance#")]
    stored_entries = Counter(item["reply_id"]["S"] for item in entries if item["stored"]["BOOL"])
    refusals = refused_replies(stack)
    injected = {reply.reply_id: reply for reply in run.replies}
    problems["replies stored twice"] = sum(1 for count in stored_entries.values() if count > 1)
    problems["index entries never stored"] = sum(
        1 for item in entries if not item["stored"]["BOOL"]
    )
    problems["replies lost"] = sum(
        1 for reply_id in injected if reply_id not in stored_entries and reply_id not in refusals
    )
    problems["replies refused below the flood"] = sum(
        1 for reply_id in refusals if injected[reply_id].role != "flood"
    )
    problems["replies filed under another campaign"] = sum(
        1
        for item in entries
        if injected[item["reply_id"]["S"]].campaign_id is not None
        and item.get("campaign_id", {}).get("S")
        not in (None, injected[item["reply_id"]["S"]].campaign_id)
    )
    objects = reply_objects(run)
    problems["reply objects not one each"] = sum(
        1 for count in objects.values() if count != 1
    ) + len(set(stored_entries) ^ set(objects))
    # The flood: at most the allowance stored per window, more than that sent, the rest refused
    flood = [reply for reply in run.replies if reply.role == "flood"]
    flood_stored = sum(1 for reply in flood if reply.reply_id in stored_entries)
    flood_windows = [w for w in windows if w["pk"]["S"] == f"allowance#{run.key(FLOODER)}"]
    problems["windows over the allowance"] = sum(
        1 for w in windows if len(w.get("admitted", {}).get("SS", [])) > ALLOWANCE
    )
    admitted_ids = {
        reply_id for w in flood_windows for reply_id in w.get("admitted", {}).get("SS", [])
    }
    problems["flood replies stored without admission"] = sum(
        1
        for reply in flood
        if reply.reply_id in stored_entries and reply.reply_id not in admitted_ids
    )
    refused_counted = sum(int(w.get("refused", {}).get("N", "0")) for w in flood_windows)
    flood_refused = sum(1 for reply in flood if reply.reply_id in refusals)
    problems["flood within the allowance (proves nothing)"] = int(
        len(flood) <= ALLOWANCE * len(flood_windows)
    )
    problems["flood replies stored beyond the allowance"] = max(
        0, flood_stored - ALLOWANCE * len(flood_windows)
    )
    problems["flood refusals not counted"] = int(not refused_counted >= flood_refused > 0)
    # STOP holds for every number that said it, the flooder's beyond its allowance included
    stoppers = {reply.number for reply in run.replies if reply.opts_out}
    globally = run.suppressed(sorted(stoppers), "none")
    problems["STOPs not honoured"] = len(stoppers - globally)
    problems["flooder's STOP not sent beyond its allowance"] = int(
        run.flood_stop is None or run.flood_stop not in refusals
    )
    problems["flooder's STOP not honoured"] = int(FLOODER not in globally)
    listed = opted_out_list(run)
    problems["STOPs missing from the provider's list"] = len(stoppers - listed)
    # No log holds a number or a reply body
    problems["numbers or bodies in logs"] = leaks_in_logs(run)

    print_summary(
        run,
        figures,
        sends,
        answers,
        refused,
        totals,
        stored_entries,
        refusals,
        flood_stored,
        antilles_sent,
        duplicates,
    )
    assert antilles_sent > 0  # deferred recipients were released and sent
    # (one assertion, so that a failure lists every problem and every counter off at once)
    found = {name: count for name, count in problems.items() if count}
    off_by_check = Counter(entry.split(": ", 1)[1] for entry in counters_off)
    sys.stdout.write(f"  problems {found}, campaign checks failed {dict(off_by_check)}\n")
    assert (found, counters_off) == ({}, [])


def message_records(run: Soak, campaign_id: str) -> Counter[str]:
    """The campaign's message records by status (the table is keyed by number, then campaign)."""
    pages = (
        run.stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=run.stack.outputs["MessagesTableName"],
            FilterExpression="sk = :campaign",
            ExpressionAttributeValues={":campaign": {"S": f"campaign#{campaign_id}"}},
        )
    )
    return Counter(item["status"]["S"] for page in pages for item in page["Items"])


def refused_replies(stack: LocalStack) -> set[str]:
    """Reply ids the inbound function logged as beyond their number's allowance."""
    assert stack.log_dir is not None
    refused = set()
    for line in (stack.log_dir / "InboundFunction.log").read_text(errors="replace").splitlines():
        if "beyond its number's allowance" not in line or not line.startswith("{"):
            continue
        refused.add(str(json.loads(line)["reply"]))
    return refused


def reply_objects(run: Soak) -> Counter[str]:
    """Versions of reply objects, by reply id (the last part of the key)."""
    s3 = run.stack.client("s3")
    versions: Counter[str] = Counter()
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=run.stack.outputs["ReplyBucketName"]
    ):
        for version in page.get("Versions", []):
            versions[version["Key"].rsplit("/", 1)[1]] += 1
    return versions


def opted_out_list(run: Soak) -> set[str]:
    assert run.stack.carrier is not None
    carrier = boto3.client(
        "pinpoint-sms-voice-v2", endpoint_url=run.stack.carrier.endpoint_url, region_name=REGION
    )
    return {
        entry["OptedOutNumber"]
        for page in carrier.get_paginator("describe_opted_out_numbers").paginate(
            OptOutListName=run.stack.outputs["OptOutListName"]
        )
        for entry in page["OptedOutNumbers"]
    }


def leaks_in_logs(run: Soak) -> int:
    assert run.stack.log_dir is not None
    text = "\n".join(path.read_text(errors="replace") for path in run.stack.log_dir.glob("*.log"))
    numbers = {reply.number for reply in run.replies} | set(METRO) | set(ANTILLES)
    forms = {form for number in numbers for form in (number, number[1:])}
    bodies = {reply.body for reply in run.replies if not reply.opts_out and reply.body != "AIDE"}
    return sum(1 for form in forms if form in text) + sum(1 for body in bodies if body in text)


def print_summary(
    run: Soak,
    figures: dict[str, Any],
    sends: list[SentMessage],
    answers: list[SentMessage],
    refused: list[tuple[str, Any]],
    totals: Counter[str],
    stored: Counter[str],
    refusals: set[str],
    flood_stored: int,
    antilles_sent: int,
    duplicates: Counter[str],
) -> None:
    """Counts only: no number and no body."""
    assert run.stack.carrier is not None
    calls = run.stack.carrier.call_counts().get("SendTextMessage", 0)
    roles = Counter(reply.role for reply in run.replies)
    lines = [
        "",
        "soak summary",
        f"  traffic {figures['traffic_seconds']:.0f} s, in all {figures['total_seconds']:.0f} s,"
        f" {figures['rounds']} rounds",
        f"  campaigns {len(run.campaigns)}"
        f" ({sum(c.kind == 'marketing' for c in run.campaigns)} marketing),"
        f" recipients {sum(len(c.audience) for c in run.campaigns)}",
        "  counters " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items()) if v),
        f"  carrier: {len(sends)} campaign sends ({antilles_sent} to the Antilles after their"
        f" window opened), {len(answers)} HELP answers, {len(refused)} refused as opted out,"
        f" {calls - len(sends) - len(answers) - len(refused)} SendTextMessage calls failed or"
        " throttled",
        f"  replies injected {len(run.replies)} ({dict(roles)}), stored {len(stored)},"
        f" refused beyond the allowance {len(refusals)} (flood stored {flood_stored})",
        "  faults injected in the functions' AWS calls: "
        + ", ".join(f"{service} {count}" for service, count in sorted(figures["faults"].items())),
        f"  workers killed mid-batch {run.killed}, API calls retried {run.api_retries},"
        f" dead letters redriven {figures['redriven']}",
    ]
    if duplicates:
        lines.append(f"  duplicate sends: {dict(duplicates)}")
    sys.stdout.write("\n".join(lines) + "\n")
