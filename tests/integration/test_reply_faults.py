"""Replies under faults: every reply stored exactly once, sealed, and none lost.

S3 writes, KMS and DynamoDB calls of the inbound function fail at a rate, KMS is down while a
fresh worker starts, workers are killed in the middle of a batch, and every reply reaches the
inbound queue twice (SNS delivers at least once). Messages that use up their receives are
redriven from the dead-letter queue once the faults are over.
"""

import functools
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from local_api import wait_until as poll

from cloison.adapters.envelope import EnvelopeSealer
from cloison.compliance.replies import classify_reply
from cloison.errors import ContextMismatch
from cloison_local.demo import demo_clock
from cloison_local.seed import call, seed
from cloison_local.stack import REGION, LocalStack

INBOUND = "InboundFunction"
# Made-up mobiles that pass validation: two campaigns' audiences and people never messaged.
SALES = [f"+33614{index:06d}" for index in range(30)]
SUPPORT = [f"+33614{index:06d}" for index in range(100, 120)]
STRANGERS = [f"+33615{index:06d}" for index in range(50)]
REPLIES = 250
STOP_WORDS = ("STOP", "Stop", "stop merci", "STOP SVP", "Arret")
FAULT_RATES = {"s3": 0.2, "kms": 0.5, "dynamodb": 0.02}
WAVES = 5
KILL_AFTER_WAVES = (1, 3)
# After this wave KMS is down while a fresh worker starts: its data-key cache is empty.
KMS_OUTAGE_AFTER_WAVE = 2
KMS_OUTAGE_FAULTS = 3

# This file's polling interval
wait_until = functools.partial(poll, every=0.3)


@dataclass(frozen=True)
class Reply:
    # Kept out of reprs, so that no assertion message shows a number or a body.
    number: str = field(repr=False)
    body: str = field(repr=False)
    team: str
    campaign_id: str | None
    copy_delay_seconds: float
    reply_id: str = ""

    @property
    def opts_out(self) -> bool:
        return classify_reply(self.body).opts_out


@dataclass
class FaultedRun:
    stack: LocalStack = field(repr=False)
    replies: list[Reply] = field(repr=False)
    campaigns: dict[str, str]
    faults: dict[tuple[str, str], int]
    killed: int
    redriven: int
    dead_letters_left: int
    queue_drained: bool
    figures: dict[str, float] = field(default_factory=dict)


def launch_campaign(stack: LocalStack, token: str, team: str, numbers: list[str]) -> str:
    """A marketing campaign to `numbers` (consents recorded first), launched; its id."""

    def consent(number: str) -> None:
        call(
            stack.api_url,
            token,
            "POST",
            "/consents",
            {"team": team, "phone": number, "source": "web form", "proof": "Oui aux offres SMS"},
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(consent, numbers))
    campaign = str(
        call(
            stack.api_url,
            token,
            "POST",
            "/campaigns",
            {
                "team": team,
                "name": f"Relance {team}",
                "sender": "promo",
                "kind": "marketing",
                "body": "Nos nouveautés sont arrivées.",
            },
        )["id"]
    )
    call(
        stack.api_url,
        token,
        "POST",
        f"/campaigns/{campaign}/audience",
        {"recipients": [{"phone": number} for number in numbers]},
    )
    call(stack.api_url, token, "POST", f"/campaigns/{campaign}/launch", {})
    return campaign


def delivered(stack: LocalStack, token: str, campaign: str) -> int:
    return int(
        call(stack.api_url, token, "GET", f"/campaigns/{campaign}/stats")["counts"]["delivered"]
    )


def planned_replies(campaigns: dict[str, str]) -> list[Reply]:
    """250 replies, every fifth a STOP: campaign recipients (three each) and strangers (two)."""
    senders = [(number, "sales") for number in SALES * 3]
    senders += [(number, "support") for number in SUPPORT * 3]
    senders += [(number, "quarantine") for number in STRANGERS * 2]
    replies = []
    for index, (number, team) in enumerate(senders):
        body = (
            STOP_WORDS[index // 5 % len(STOP_WORDS)]
            if index % 5 == 4
            else f"Merci, je passe samedi (réf {index:03d})"
        )
        replies.append(
            Reply(
                number=number,
                body=body,
                team=team,
                campaign_id=campaigns.get(team),
                # Half the second copies come at once, half while the first may be failing.
                copy_delay_seconds=0.0 if index % 2 else 2.0,
            )
        )
    # Interleaved, so each wave mixes teams, strangers and STOPs.
    return replies[::3] + replies[1::3] + replies[2::3]


def queue_depth(stack: LocalStack, queue_url: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def redrive(stack: LocalStack) -> int:
    """Moves every message of the inbound dead-letter queue back to the inbound queue."""
    sqs = stack.client("sqs")
    dead_letters, source = (
        stack.outputs["InboundDeadLetterQueueUrl"],
        stack.outputs["InboundQueueUrl"],
    )
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dead_letters, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dead_letters, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def kill_mid_batch(stack: LocalStack, timeout: float = 20.0) -> int:
    """Kills the inbound worker as soon as one is in the middle of a batch."""
    killed = 0

    def kill() -> bool:
        nonlocal killed
        killed = stack.runtimes[INBOUND].kill_busy()
        return killed > 0

    wait_until(kill, timeout, every=0.05)
    return killed


@pytest.fixture(scope="module")
def faulted_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultedRun]:
    with LocalStack(
        api_port=0,
        clock_start=demo_clock(datetime.now(UTC)),
        retry_after_seconds=1,
        log_dir=tmp_path_factory.mktemp("reply-fault-logs"),
    ) as stack:
        assert stack.carrier is not None
        set_up = time.monotonic()
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        members = {"sales": (tokens["alice"], SALES), "support": (tokens["bruno"], SUPPORT)}
        campaigns = {
            team: launch_campaign(stack, token, team, numbers)
            for team, (token, numbers) in members.items()
        }
        # A reply finds its campaign through the message record that the first event creates.
        assert wait_until(
            lambda: all(
                delivered(stack, token, campaigns[team]) == len(numbers)
                for team, (token, numbers) in members.items()
            ),
            60,
        )
        stack.wait_idle(timeout=30)
        campaigns_done = time.monotonic()
        inbound = stack.runtimes[INBOUND]
        inbound.reset_call_counts()
        started = time.monotonic()
        inbound.fault_rates = dict(FAULT_RATES)
        short_code = stack.outputs["ShortCode"]
        plan = planned_replies(campaigns)
        replies: list[Reply] = []
        killed = 0
        wave_size = -(-len(plan) // WAVES)
        for wave in range(WAVES):
            for reply in plan[wave * wave_size : (wave + 1) * wave_size]:
                reply_id = stack.carrier.inject_reply(
                    reply.number,
                    short_code,
                    reply.body,
                    copies=2,
                    copy_delay_seconds=reply.copy_delay_seconds,
                )
                replies.append(replace(reply, reply_id=reply_id))
            if wave in KILL_AFTER_WAVES:
                killed += kill_mid_batch(stack)
            if wave == KMS_OUTAGE_AFTER_WAVE:
                inbound.fault_rates = {**FAULT_RATES, "kms": 1.0}
                killed += kill_mid_batch(stack)
                wait_until(
                    lambda: (
                        inbound.fault_counts().get(("kms", "GenerateDataKey"), 0)
                        >= KMS_OUTAGE_FAULTS
                    ),
                    30,
                )
                inbound.fault_rates = dict(FAULT_RATES)
            # moto's SQS slows down with depth: let the queue drain a little between waves.
            wait_until(lambda: queue_depth(stack, stack.outputs["InboundQueueUrl"]) < 60, 30)
        injected = time.monotonic()
        drained_under_faults = stack.wait_idle(timeout=90)
        faults = inbound.fault_counts()
        # Messages that used up their receives wait in the dead-letter queue: once the faults
        # are over, they go back to the queue, as an operator's redrive would.
        inbound.fault_rates = {}
        redriven = redrive(stack)
        drained = stack.wait_idle(timeout=60) and drained_under_faults
        elapsed = time.monotonic() - started
        yield FaultedRun(
            stack=stack,
            replies=replies,
            campaigns=campaigns,
            faults=faults,
            killed=killed,
            redriven=redriven,
            dead_letters_left=queue_depth(stack, stack.outputs["InboundDeadLetterQueueUrl"]),
            queue_drained=drained,
            figures={
                "campaigns_seconds": campaigns_done - set_up,
                "injection_seconds": injected - started,
                "replies_seconds": elapsed,
                "invocations": inbound.invocations,
            },
        )


def scan(stack: LocalStack, table: str) -> list[dict[str, Any]]:
    dynamodb = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**arguments)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def object_versions(stack: LocalStack) -> list[dict[str, Any]]:
    s3 = stack.client("s3")
    versions: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=stack.outputs["ReplyBucketName"]
    ):
        versions += page.get("Versions", [])
    return versions


def number_keys(stack: LocalStack, numbers: set[str]) -> dict[str, str]:
    """Each number's key in the tables: HMAC-SHA256 under the stack's pepper."""
    pepper = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.outputs["PepperSecretArn"]
    )["SecretString"]
    return {
        number: hmac.new(pepper.encode(), number.encode(), hashlib.sha256).hexdigest()
        for number in numbers
    }


@pytest.mark.timeout(300)
def test_every_reply_is_stored_exactly_once_under_faults(
    faulted_run: FaultedRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, stack = faulted_run, faulted_run.stack
    # Given 250 replies, each delivered twice, while S3, KMS and DynamoDB calls failed and
    # workers were killed in the middle of a batch
    assert run.faults.get(("s3", "PutObject"), 0) > 0
    assert run.faults.get(("kms", "GenerateDataKey"), 0) > 0
    assert run.faults.get(("dynamodb", "UpdateItem"), 0) > 0
    assert run.killed >= 1
    by_id = {reply.reply_id: reply for reply in run.replies}
    assert len(by_id) == REPLIES

    # Then the queues drained and no message was left in the dead-letter queue
    assert run.queue_drained
    assert run.dead_letters_left == 0

    # And every reply has exactly one index entry, marked stored, in its team's compartment
    entries = [
        item for item in scan(stack, stack.outputs["RepliesTableName"]) if "reply_id" in item
    ]
    per_reply = Counter(item["reply_id"]["S"] for item in entries)
    assert set(per_reply) == set(by_id)
    assert [reply_id for reply_id, count in per_reply.items() if count != 1] == []
    assert [item["reply_id"]["S"] for item in entries if not item["stored"]["BOOL"]] == []
    misfiled = [
        item["reply_id"]["S"]
        for item in entries
        if item["team"]["S"] != by_id[item["reply_id"]["S"]].team
        or item.get("campaign_id", {}).get("S") != by_id[item["reply_id"]["S"]].campaign_id
    ]
    assert misfiled == []

    # And exactly one S3 object per reply, at the key its index entry names
    s3 = stack.client("s3")
    bucket = stack.outputs["ReplyBucketName"]
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    per_reply_objects = Counter(key.rsplit("/", 1)[1] for key in keys)
    assert set(per_reply_objects) == set(by_id)
    assert [reply_id for reply_id, count in per_reply_objects.items() if count != 1] == []
    assert set(keys) == {item["object_key"]["S"] for item in entries}
    # and a single version of it: the bucket is versioned, so a retry that rewrote the object
    # (after a failure between the write and the index update) would keep a second sealed copy
    versions = Counter(version["Key"] for version in object_versions(stack))
    assert [key for key, count in versions.items() if count != 1] == []

    # And each object opens in its own context to the reply's body, and in no other
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.moto_url)
    sealer = EnvelopeSealer(stack.outputs["DataKeyArn"])
    wrong_body, opened_elsewhere = [], []
    for item in entries:
        reply = by_id[item["reply_id"]["S"]]
        sealed = s3.get_object(Bucket=bucket, Key=item["object_key"]["S"])["Body"].read()
        own = {"team": reply.team, "campaign": reply.campaign_id or "none"}
        if sealer.open(sealed, own).decode() != reply.body:
            wrong_body.append(reply.reply_id)
        other_team = "support" if reply.team == "sales" else "sales"
        for context in ({**own, "team": other_team}, {**own, "campaign": "another"}):
            try:
                sealer.open(sealed, context)
            except ContextMismatch:
                continue
            opened_elsewhere.append(reply.reply_id)
    assert wrong_body == []
    assert opened_elsewhere == []

    # And every number that said STOP is suppressed for every team, and only those
    stoppers = {reply.number for reply in run.replies if reply.opts_out}
    stopping = len(stoppers)
    assert stopping >= 15
    suppressions = stack.client("dynamodb")
    keys_of = number_keys(stack, {reply.number for reply in run.replies})
    globally_suppressed = {
        number
        for number, key in keys_of.items()
        if "all"
        in suppressions.get_item(
            TableName=stack.outputs["SuppressionsTableName"],
            Key={"pk": {"S": f"number#{key}"}, "sk": {"S": "suppression"}},
        )
        .get("Item", {})
        .get("scopes", {})
        .get("SS", [])
    }
    # (counted, not compared as sets: a failure must not print the numbers)
    suppressed_without_stop = len(globally_suppressed - stoppers)
    stop_not_honoured = len(stoppers - globally_suppressed)
    assert suppressed_without_stop == 0
    assert stop_not_honoured == 0
    # and is on End User Messaging's opt-out list
    assert stack.carrier is not None
    carrier = boto3.client(
        "pinpoint-sms-voice-v2", endpoint_url=stack.carrier.endpoint_url, region_name=REGION
    )
    listed = {
        entry["OptedOutNumber"]
        for page in carrier.get_paginator("describe_opted_out_numbers").paginate(
            OptOutListName=stack.outputs["OptOutListName"]
        )
        for entry in page["OptedOutNumbers"]
    }
    not_listed = len(stoppers - listed)
    assert not_listed == 0


@pytest.mark.timeout(300)
def test_no_stored_object_and_no_log_holds_a_body_or_a_number(faulted_run: FaultedRun) -> None:
    run, stack = faulted_run, faulted_run.stack
    numbers = {reply.number for reply in run.replies}
    # Each number as E.164, without its +, and in national form
    forms = [form for number in numbers for form in (number, number[1:], "0" + number[3:])]
    bodies = {reply.body for reply in run.replies}

    # When every version of every object in the reply bucket is read as stored
    s3 = stack.client("s3")
    bucket = stack.outputs["ReplyBucketName"]
    raw = [
        s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])[
            "Body"
        ].read()
        for version in object_versions(stack)
    ]

    # Then none holds a body or a phone number in clear
    assert len(raw) >= len(run.replies)
    leaks = [
        index
        for index, blob in enumerate(raw)
        if any(body.encode() in blob for body in bodies)
        or any(form.encode() in blob for form in forms)
    ]
    assert leaks == []

    # And no function logged one either, faults and tracebacks included
    assert stack.log_dir is not None
    text = "\n".join(path.read_text(errors="replace") for path in stack.log_dir.glob("*.log"))
    assert "reply stored" in text
    free_text = {body for body in bodies if not classify_reply(body).opts_out}
    assert sum(1 for form in forms if form in text) == 0
    assert sum(1 for body in free_text if body in text) == 0
