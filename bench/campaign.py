"""A marketing campaign through the local stack, counted in AWS calls, beside a naive baseline.

Run `python bench/campaign.py [--recipients N]` (default 10,000); `main()` returns the figures.

A fresh local stack gets an audience of N made-up French mobiles: about 2 % without consent,
about 1 % suppressed over the API, and a few malformed rows that the audience upload rejects.
Consents, suppressions and the audience are set up first and not measured: the first
`API_CONSENTS` consents through the API, the others written straight into the contacts table in
batches, in the shape the API writes (checked against the API's own items), without their audit
entries; suppressions and the audience through the API. From the launch
until every recipient has a final status (or `--settle-seconds` after the last send, whichever
comes first), the functions' AWS API calls are counted inside their workers, by service and
operation, for the send path (LaunchCampaignFunction and SendWorkerFunction) and the delivery
path (DeliveryEventsFunction, which moves the message records, and MessageCountsFunction, which
counts their changes from the messages table's stream into the campaign's counters); the
carrier's own SendTextMessage is shown but left out of the totals. CPU seconds are reported
beside wall time, apart: the functions' own (inside their invocations, every thread), the moto
server's (a process of its own, read from /proc) and the local stack's (this process: API
gateway, queue and stream pollers, carrier simulator). Time measured through moto is mostly
moto's, while counts do not vary.

The naive baseline runs just before the launch, on the same moto server and tables while nothing
else is busy, straight from boto3, with as many threads as the stack gives the send worker: per
recipient, one GetItem on the suppressions table, one GetItem on the consents, one PutItem of a
message record (into a copy of the messages table) and one SendMessage (to queues of its own,
kept shallow). It makes exactly four calls per recipient whatever the size, so it runs on the
first `NAIVE_SAMPLE` recipients only; its wall time is scaled to the campaign's size, and the
report says so.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import multiprocessing
import os
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from cloison.compliance.phone import normalize_phone
from cloison.compliance.window import SendWindowPolicy, next_send_time
from cloison.models.records import ConsentRecord
from cloison_local.seed import call, seed
from cloison_local.stack import LocalStack

# 100,000 takes moto alone about half an hour of CPU, in one process (see docs/benchmarks.md).
DEFAULT_RECIPIENTS = 10_000
TARGET_CALLS_PER_1000 = 60.0
SEND_PATH = ("LaunchCampaignFunction", "SendWorkerFunction")
# Campaign counters follow from the records' changes, which MessageCountsFunction reads from the
# messages table's stream: counting is delivery work too.
DELIVERY_PATH = ("DeliveryEventsFunction", "MessageCountsFunction")
CARRIER_SEND = ("pinpoint-sms-voice-v2", "SendTextMessage")
AUDIENCE_ROWS_PER_REQUEST = 5_000
TEAM, SENDER = "sales", "bench"
# Every 50th recipient has no consent (2 %), every 100th is suppressed (1 %): disjoint sets.
NO_CONSENT_EVERY, NO_CONSENT_AT = 50, 7
SUPPRESSED_EVERY, SUPPRESSED_AT = 100, 3
# One malformed row per 1,000 recipients (3 at least), on top of the N recipients.
INVALID_ROWS = ("06 13", "+33 6 13", "0613 00")
FINAL_STATUSES = (
    "delivered",
    "failed",
    "expired",
    "suppressed",
    "no_consent",
    "capped",
    "invalid",
)
SETUP_THREADS = 4
# Consents through the API before the rest are written in bulk (a check of the bulk items' shape).
API_CONSENTS = 100
BATCH_WRITE_ITEMS = 25
# The naive baseline's calls per recipient do not vary: it runs on this many recipients at most.
NAIVE_SAMPLE = 5_000
POLL_SECONDS = 0.5
# The send path must be done within this (it takes seconds per thousand when healthy).
SEND_TIMEOUT_SECONDS, SEND_TIMEOUT_PER_RECIPIENT = 300.0, 0.1
# The wait for delivery events after the last send: at least this, or this much per recipient
# (moto spends some 15 ms of CPU per recipient on an idle machine, most on the delivery side).
DEFAULT_SETTLE_SECONDS, SETTLE_SECONDS_PER_RECIPIENT = 300.0, 0.02
# The naive queue is never consumed: a new one every so often keeps moto's queues shallow.
NAIVE_MESSAGES_PER_QUEUE = 200
LOG_DIR = Path(__file__).resolve().parents[1] / ".local" / "bench-logs"


@dataclass(frozen=True)
class Recipient:
    phone: str
    consented: bool
    suppressed: bool


def recipients(count: int) -> list[Recipient]:
    """`count` distinct made-up mobiles (+33 6 13 xx xx xx, a range phonenumbers accepts)."""
    if not 0 < count <= 1_000_000:
        raise ValueError("recipients: between 1 and 1,000,000")
    return [
        Recipient(
            phone=f"+33613{index:06d}",
            consented=index % NO_CONSENT_EVERY != NO_CONSENT_AT,
            suppressed=index % SUPPRESSED_EVERY == SUPPRESSED_AT,
        )
        for index in range(count)
    ]


def audience_rows(audience: Sequence[Recipient]) -> list[dict[str, Any]]:
    """The upload: every recipient, with a malformed row slipped in after every 1,000th."""
    invalid = max(3, len(audience) // 1_000)
    spacing = max(1, len(audience) // invalid)
    rows: list[dict[str, Any]] = []
    for index, recipient in enumerate(audience):
        rows.append({"phone": recipient.phone, "variables": {"code": f"B{index:06d}"}})
        malformed = len(rows) - index - 1
        if (index + 1) % spacing == 0 and malformed < invalid:
            rows.append({"phone": INVALID_ROWS[malformed % len(INVALID_ROWS)], "variables": {}})
    while len(rows) - len(audience) < invalid:
        rows.append({"phone": INVALID_ROWS[0], "variables": {}})
    return rows


def campaign_clock(now: datetime, margin: timedelta = timedelta(hours=3)) -> datetime | None:
    """An instant with `margin` of default sending window ahead for Paris, or None if now is one."""
    phone = normalize_phone("+33613000000")
    policy = SendWindowPolicy()
    candidate = now
    for _ in range(30):
        opening = next_send_time(candidate, phone, policy=policy)
        # Windows are at most a day long and nights longer than the margin: two checks suffice.
        if next_send_time(opening + margin, phone, policy=policy) == opening + margin:
            return None if opening == now else opening + timedelta(minutes=1)
        candidate = opening + margin
    raise RuntimeError("no sending window of that length in the coming days")


# ---------------------------------------------------------------- set-up (not measured)
def _audited_call(api: str, token: str, path: str, body: dict[str, str]) -> object:
    """A POST of an audited change; a 503 (the audit chain busy with the other threads' entries)
    is tried again after a pause, as any client of the API should."""
    for attempt in range(8):
        answer = call(api, token, "POST", path, body, expect=(201, 503))
        if answer is None or answer.get("status") != 503:
            return answer
        time.sleep(0.2 * 2**attempt)
    raise RuntimeError(f"POST {path} still busy after 8 tries")


def _in_parallel(action: Callable[[Recipient], object], items: Sequence[Recipient]) -> None:
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        for _ in pool.map(action, items):
            pass


def prepare(stack: LocalStack, tokens: dict[str, str], audience: Sequence[Recipient]) -> str:
    """A sender fast enough not to pace the run, consents, suppressions, a campaign; its id."""
    api, admin, member = stack.api_url, tokens["ada"], tokens["alice"]
    short_code = stack.outputs["ShortCode"]
    call(
        api,
        admin,
        "PUT",
        f"/teams/{TEAM}/senders/{SENDER}",
        {
            "sender_id": short_code,
            "stop_mention": f"STOP au {short_code}",
            "window": "default",
            "mps": 1000,
            "price_per_segment": 0.0458,
            "company": "Boutique Exemple",
        },
    )

    def consent(recipient: Recipient) -> object:
        return _audited_call(
            api,
            member,
            "/consents",
            {
                "team": TEAM,
                "phone": recipient.phone,
                "source": "web form /newsletter",
                "proof": "J'accepte de recevoir les offres par SMS. Désinscription : STOP.",
                "purpose": "marketing",
            },
        )

    def suppress(recipient: Recipient) -> object:
        return _audited_call(
            api,
            member,
            "/suppressions",
            {"team": TEAM, "phone": recipient.phone, "reason": "asked by phone"},
        )

    consented = [r for r in audience if r.consented]
    started = time.perf_counter()
    _in_parallel(consent, consented[:API_CONSENTS])
    _progress(f"  {min(API_CONSENTS, len(consented))} consents through the API: {_since(started)}")
    write_consents(stack, consented[API_CONSENTS:], like=consented[0])
    _progress(f"  {max(0, len(consented) - API_CONSENTS)} consents in bulk: {_since(started)}")
    _in_parallel(suppress, [r for r in audience if r.suppressed])
    _progress(f"  suppressions through the API: {_since(started)}")
    campaign = call(
        api,
        member,
        "POST",
        "/campaigns",
        {
            "team": TEAM,
            "name": f"Bench {len(audience)}",
            "sender": SENDER,
            "kind": "marketing",
            "body": "Soldes : -20 % sur tout le magasin ce week-end avec le code {code}.",
        },
    )
    rows = audience_rows(audience)
    accepted = rejected = 0
    for start in range(0, len(rows), AUDIENCE_ROWS_PER_REQUEST):
        answer = call(
            api,
            member,
            "POST",
            f"/campaigns/{campaign['id']}/audience",
            {"recipients": rows[start : start + AUDIENCE_ROWS_PER_REQUEST]},
        )
        accepted += answer["accepted"]
        rejected += answer.get("rejected_count", len(answer["rejected"]))
    if accepted != len(audience) or rejected != len(rows) - len(audience):
        raise RuntimeError(
            f"audience upload kept {accepted} of {len(audience)} recipients"
            f" and rejected {rejected} of {len(rows) - len(audience)} malformed rows"
        )
    _progress(f"  audience through the API: {_since(started)}")
    return str(campaign["id"])


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:.0f} s in"


def write_consents(stack: LocalStack, people: Sequence[Recipient], like: Recipient) -> None:
    """Consents straight into the contacts table, BATCH_WRITE_ITEMS at a time, keyed as the
    API keys them; the item the API wrote for `like` must have the same attributes."""
    if not people:
        return
    outputs = stack.outputs
    table = outputs["ContactsTableName"]
    pepper = str(
        stack.client("secretsmanager").get_secret_value(SecretId=outputs["PepperSecretArn"])[
            "SecretString"
        ]
    ).encode()
    retention_days = int(
        stack.runtimes["SendWorkerFunction"].environment["PROSPECT_RETENTION_DAYS"]
    )
    serializer = TypeSerializer()
    given_at = datetime.now(UTC)

    def item(phone: str) -> dict[str, Any]:
        number_key = hmac.new(pepper, phone.encode(), hashlib.sha256).hexdigest()
        record = ConsentRecord(
            number_key=number_key,
            team=TEAM,
            purpose="marketing",
            source="web form /newsletter",
            proof="J'accepte de recevoir les offres par SMS. Désinscription : STOP.",
            given_at=given_at,
            recorded_by="alice",
        )
        fields = record.model_dump(mode="json", exclude_none=True) | {
            "pk": f"contact#{number_key}",
            "sk": f"consent#{TEAM}#{record.purpose}",
            "expires_at": int((given_at + timedelta(days=retention_days)).timestamp()),
        }
        return {name: serializer.serialize(value) for name, value in fields.items()}

    dynamodb = stack.client("dynamodb")
    written = dynamodb.get_item(
        TableName=table, Key={k: v for k, v in item(like.phone).items() if k in ("pk", "sk")}
    )
    if set(written.get("Item", {})) != set(item(like.phone)):
        raise RuntimeError(
            f"bulk consent items differ from the API's: {sorted(written.get('Item', {}))}"
            f" against {sorted(item(like.phone))}"
        )

    def write(start: int) -> None:
        requests = [
            {"PutRequest": {"Item": item(person.phone)}}
            for person in people[start : start + BATCH_WRITE_ITEMS]
        ]
        while requests:
            answer = dynamodb.batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        for _ in pool.map(write, range(0, len(people), BATCH_WRITE_ITEMS)):
            pass


# ---------------------------------------------------------------- the measured campaign
def _usage(stack: LocalStack, functions: Sequence[str]) -> tuple[Counter[tuple[str, str]], float]:
    calls: Counter[tuple[str, str]] = Counter()
    cpu = 0.0
    for name in functions:
        calls.update(stack.runtimes[name].call_counts())
        cpu += stack.runtimes[name].cpu_seconds()
    return calls, cpu


def _function_usage(stack: LocalStack, name: str, count: int) -> dict[str, Any]:
    """One function's calls per 1,000 recipients (carrier sends apart), its CPU, and the peak
    resident memory of its workers (their processes are this one's children)."""
    calls, cpu = _usage(stack, (name,))
    carrier = calls.pop(CARRIER_SEND, 0)
    peaks = [
        peak_memory_mb(worker.pid)
        for worker in multiprocessing.active_children()
        if worker.name == f"lambda-{name}"
    ]
    return {
        "calls": sum(calls.values()),
        "calls_by_operation_per_1000": _per_1000(calls, count),
        "carrier_calls": carrier,
        "cpu_seconds": cpu,
        "peak_memory_mb": max((peak for peak in peaks if peak is not None), default=None),
    }


def counted_batches(stack: LocalStack, campaign_id: str) -> int:
    """The stream batches the counting function recorded for the campaign: one marker item per
    transaction it committed (a check on its TransactWriteItems calls, read after the run)."""
    dynamodb = stack.client("dynamodb")
    found = 0
    query: dict[str, Any] = {
        "TableName": stack.outputs["CampaignsTableName"],
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :marker)",
        "ExpressionAttributeValues": {
            ":pk": {"S": f"campaign#{campaign_id}"},
            ":marker": {"S": "counted#"},
        },
        "Select": "COUNT",
    }
    while True:
        page = dynamodb.query(**query)
        found += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def process_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process has used so far, where /proc tells; else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int | None) -> float | None:
    """A process's peak resident memory (VmHWM) in MB, where /proc tells; else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1_024
    except (OSError, IndexError, ValueError):
        return None
    return None


def _by_service(calls: Counter[tuple[str, str]], count: int) -> dict[str, float]:
    services: Counter[str] = Counter()
    for (service, _operation), number in calls.items():
        services[service] += number
    return {service: number * 1_000 / count for service, number in services.most_common()}


def _per_1000(calls: Counter[tuple[str, str]], count: int) -> dict[str, float]:
    return {
        f"{service} {operation}": number * 1_000 / count
        for (service, operation), number in sorted(calls.items(), key=lambda item: -item[1])
    }


def run_campaign(
    stack: LocalStack,
    tokens: dict[str, str],
    campaign_id: str,
    audience: Sequence[Recipient],
    settle_seconds: float,
) -> dict[str, Any]:
    """Launches the campaign and waits until every recipient has a final status.

    The wait for delivery events ends `settle_seconds` after the last send: moto's SQS slows
    down with depth, so a large campaign's events can take far longer to drain locally than
    the campaign took to send. The figures then say how far delivery had got.
    """
    api, member = stack.api_url, tokens["alice"]
    count = len(audience)
    assert stack.carrier is not None
    for runtime in stack.runtimes.values():
        runtime.reset_call_counts()
    invocations = {name: stack.runtimes[name].invocations for name in SEND_PATH + DELIVERY_PATH}
    moto_cpu_before = process_cpu_seconds(stack.moto_pid)
    harness_cpu_before = time.process_time()
    started = time.perf_counter()
    call(api, member, "POST", f"/campaigns/{campaign_id}/launch", {})
    sends_done: float | None = None
    done: float | None = None
    deadline = started + SEND_TIMEOUT_SECONDS + count * SEND_TIMEOUT_PER_RECIPIENT
    stats: dict[str, Any] = {}
    while time.perf_counter() < deadline:
        stats = call(api, member, "GET", f"/campaigns/{campaign_id}/stats")
        counts = stats["counts"]
        now = time.perf_counter()
        handled = sum(
            counts.get(name, 0) for name in ("queued", "suppressed", "no_consent", "capped")
        )
        if sends_done is None and (stats["status"] == "completed" or handled >= count):
            sends_done = now
            deadline = now + settle_seconds
        if sum(counts.get(name, 0) for name in FINAL_STATUSES) >= count:
            done = now
            break
        time.sleep(POLL_SECONDS)
    if done is not None:
        # Late events (a "sent" after its "delivered") are still the delivery path's work.
        stack.wait_idle(timeout=60)
    stopped = time.perf_counter()
    moto_cpu_after = process_cpu_seconds(stack.moto_pid)
    harness_cpu = time.process_time() - harness_cpu_before
    send_calls, send_cpu = _usage(stack, SEND_PATH)
    delivery_calls, delivery_cpu = _usage(stack, DELIVERY_PATH)
    carrier_sends = send_calls.pop(CARRIER_SEND, 0)
    delivery_calls.pop(CARRIER_SEND, None)
    functions = {name: _function_usage(stack, name, count) for name in SEND_PATH + DELIVERY_PATH}

    eligible = {r.phone for r in audience if r.consented and not r.suppressed}
    sent = [
        message.destination
        for message in stack.carrier.sent_messages()
        if message.context.get("campaign") == campaign_id
    ]
    sends_per_recipient = Counter(sent)
    send_total = sum(send_calls.values())
    final_counts = stats.get("counts", {})
    return {
        "campaign_id": campaign_id,
        "sends_completed": sends_done is not None,
        "completed": done is not None,
        "final_counts": final_counts,
        "settled": sum(final_counts.get(name, 0) for name in FINAL_STATUSES),
        "settle_seconds": settle_seconds,
        "wall_seconds": (done or stopped) - started,
        "send_wall_seconds": (sends_done or stopped) - started,
        "sends": len(sent),
        "sends_per_second": len(sent) / ((sends_done or stopped) - started),
        "eligible": len(eligible),
        "duplicate_sends": sum(n - 1 for n in sends_per_recipient.values() if n > 1),
        "sends_to_ineligible": sum(n for p, n in sends_per_recipient.items() if p not in eligible),
        "missing_sends": len(eligible - set(sends_per_recipient)),
        "carrier_calls": carrier_sends,
        "send_calls": send_total,
        "send_calls_per_1000": send_total * 1_000 / count,
        "send_calls_by_operation_per_1000": _per_1000(send_calls, count),
        "send_calls_by_service_per_1000": _by_service(send_calls, count),
        "send_cpu_seconds": send_cpu,
        "delivery_calls": sum(delivery_calls.values()),
        "delivery_calls_per_1000": sum(delivery_calls.values()) * 1_000 / count,
        "delivery_calls_by_operation_per_1000": _per_1000(delivery_calls, count),
        "delivery_calls_by_service_per_1000": _by_service(delivery_calls, count),
        "delivery_cpu_seconds": delivery_cpu,
        "functions": functions,
        "counted_batches": counted_batches(stack, campaign_id),
        "moto_cpu_seconds": (
            moto_cpu_after - moto_cpu_before
            if moto_cpu_before is not None and moto_cpu_after is not None
            else None
        ),
        "harness_cpu_seconds": harness_cpu,
        "moto_peak_memory_mb": peak_memory_mb(stack.moto_pid),
        "invocations": {
            name: stack.runtimes[name].invocations - before for name, before in invocations.items()
        },
    }


# ---------------------------------------------------------------- the naive baseline
class _CallTally:
    """Counts the API calls of boto3 clients it is attached to, by (service, operation)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-call", self._count)
        return client

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.counts[(model.service_model.service_name, model.name)] += 1


def _copy_table(dynamodb: Any, source: str, name: str) -> None:
    """A table with the same keys and indexes as `source`, for writes nothing else reads."""
    table = dynamodb.describe_table(TableName=source)["Table"]
    indexes = [
        {
            "IndexName": index["IndexName"],
            "KeySchema": index["KeySchema"],
            "Projection": index["Projection"],
        }
        for index in table.get("GlobalSecondaryIndexes", [])
    ]
    dynamodb.create_table(
        TableName=name,
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )


class _RotatingQueue:
    """The naive send queue, a fresh one every NAIVE_MESSAGES_PER_QUEUE messages.

    Nothing consumes it, and moto's SendMessage slows down with queue depth (26 ms per message
    at 500 deep, 230 ms at 3,500), which real SQS does not. Creating the queues is not counted.
    """

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self._lock = threading.Lock()
        self._sent = 0
        self._url = ""

    def url(self) -> str:
        with self._lock:
            if self._sent % NAIVE_MESSAGES_PER_QUEUE == 0:
                name = f"cloison-naive-send-{self._sent // NAIVE_MESSAGES_PER_QUEUE}"
                self._url = self._sqs.create_queue(QueueName=name)["QueueUrl"]
            self._sent += 1
            return self._url


def run_naive(stack: LocalStack, audience: Sequence[Recipient], threads: int) -> dict[str, Any]:
    """One read per check, one write and one queue message per recipient, straight from boto3."""
    outputs = stack.outputs
    dynamodb, sqs = stack.client("dynamodb"), stack.client("sqs")
    messages_table = f"{outputs['MessagesTableName']}-naive"
    _copy_table(dynamodb, outputs["MessagesTableName"], messages_table)
    tally = _CallTally()
    clients = [
        (tally.attach(stack.client("dynamodb")), tally.attach(stack.client("sqs")))
        for _ in range(threads)
    ]
    # Keys in the stack's shapes; a bench-only key stands for the pepper (the lookups miss).
    pepper = b"naive-baseline"
    campaign_id = "c-naive"
    queue = _RotatingQueue(sqs)

    def send(part: int) -> None:
        table, messages = clients[part]
        for recipient in audience[part::threads]:
            key = hmac.new(pepper, recipient.phone.encode(), hashlib.sha256).hexdigest()
            table.get_item(
                TableName=outputs["SuppressionsTableName"],
                Key={"pk": {"S": f"number#{key}"}, "sk": {"S": "suppression"}},
            )
            table.get_item(
                TableName=outputs["ContactsTableName"],
                Key={"pk": {"S": f"contact#{key}"}, "sk": {"S": f"consent#{TEAM}#marketing"}},
            )
            table.put_item(
                TableName=messages_table,
                Item={
                    "pk": {"S": f"campaign#{campaign_id}"},
                    "sk": {"S": f"recipient#{key}"},
                    "status": {"S": "queued"},
                    "updated_at": {"S": datetime.now(UTC).isoformat()},
                },
            )
            messages.send_message(
                QueueUrl=queue.url(),
                MessageBody=f'{{"campaign": "{campaign_id}", "recipient": "{key}"}}',
            )

    started_wall, started_cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(send, range(threads)):
            pass
    wall = time.perf_counter() - started_wall
    total = sum(tally.counts.values())
    return {
        "threads": threads,
        "sample": len(audience),
        "wall_seconds": wall,
        "client_cpu_seconds": time.process_time() - started_cpu,
        "calls": total,
        "calls_per_1000": total * 1_000 / len(audience),
        "calls_by_operation_per_1000": _per_1000(tally.counts, len(audience)),
    }


# ---------------------------------------------------------------- running and reporting
@dataclass
class _Timer:
    seconds: float = 0.0

    def __enter__(self) -> _Timer:
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.perf_counter() - self._started


def _fresh_log_dir() -> Path:
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    return LOG_DIR


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def main(
    count: int = DEFAULT_RECIPIENTS,
    settle_seconds: float | None = None,
    moto_speedups: bool = True,
) -> dict[str, Any]:
    """Run the baseline and the campaign on a fresh local stack; return the figures.

    `moto_speedups=False` runs moto without the local stack's speed-ups, for comparison.
    """
    if settle_seconds is None:
        settle_seconds = max(DEFAULT_SETTLE_SECONDS, count * SETTLE_SECONDS_PER_RECIPIENT)
    audience = recipients(count)
    clock_start = campaign_clock(datetime.now(UTC))
    _progress(f"campaign bench: starting a fresh local stack for {count} recipients...")
    with LocalStack(
        api_port=0,
        clock_start=clock_start,
        retry_after_seconds=2,
        log_dir=_fresh_log_dir(),
        moto_speedups=moto_speedups,
    ) as stack:
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        with _Timer() as setup:
            campaign_id = prepare(stack, tokens, audience)
        _progress(f"campaign bench: set up in {setup.seconds:.0f} s; naive baseline...")
        naive = run_naive(
            stack, audience[:NAIVE_SAMPLE], stack.runtimes["SendWorkerFunction"].concurrency
        )
        _progress(f"campaign bench: naive baseline in {naive['wall_seconds']:.0f} s; launching...")
        ours = run_campaign(stack, tokens, campaign_id, audience, settle_seconds)
        _progress(f"campaign bench: campaign measured over {ours['wall_seconds']:.0f} s")
    return {
        "recipients": count,
        "no_consent": sum(1 for r in audience if not r.consented),
        "suppressed": sum(1 for r in audience if r.suppressed),
        "invalid_rows": len(audience_rows(audience)) - count,
        "setup_seconds": setup.seconds,
        "clock": (clock_start or datetime.now(UTC)).isoformat(timespec="minutes"),
        "target_calls_per_1000": TARGET_CALLS_PER_1000,
        "within_target": ours["send_calls_per_1000"] <= TARGET_CALLS_PER_1000,
        "moto_speedups": moto_speedups,
        "ours": ours,
        "naive": naive,
    }


def _rows(figures: dict[str, Any]) -> Iterator[str]:
    ours, naive = figures["ours"], figures["naive"]
    operations = list(ours["send_calls_by_operation_per_1000"])
    operations += [op for op in naive["calls_by_operation_per_1000"] if op not in operations]
    for operation in operations:
        mine = ours["send_calls_by_operation_per_1000"].get(operation, 0.0)
        theirs = naive["calls_by_operation_per_1000"].get(operation, 0.0)
        yield f"| {operation} | {mine:.1f} | {theirs:.1f} |"


def _wall(ours: dict[str, Any]) -> str:
    if ours["completed"]:
        return f"{ours['wall_seconds']:.1f} s launch to every status final"
    if not ours["sends_completed"]:
        return f"send path NOT done after {ours['wall_seconds']:.1f} s"
    return (
        f"{ours['settled']:,} statuses final after {ours['wall_seconds']:.1f} s, NOT all:"
        f" the wait ends {ours['settle_seconds']:.0f} s after the last send"
    )


def _cpu_split(figures: dict[str, Any]) -> list[str]:
    """Rows for our functions' CPU, moto's and the local stack's, over the measured window."""
    ours = figures["ours"]
    functions = ours["send_cpu_seconds"] + ours["delivery_cpu_seconds"]
    moto = ours.get("moto_cpu_seconds")
    harness = ours.get("harness_cpu_seconds")
    variant = "" if figures.get("moto_speedups", True) else " (without the local speed-ups)"
    counting = ours.get("functions", {}).get("MessageCountsFunction", {}).get("cpu_seconds")
    rows = [
        f"| CPU seconds, our functions | **{functions:.1f}**: send path"
        f" {ours['send_cpu_seconds']:.1f}, delivery path {ours['delivery_cpu_seconds']:.1f}"
        + (f", of which counting {counting:.1f}" if counting is not None else "")
        + f" ({functions * 1_000 / figures['recipients']:.2f} ms a recipient) | |",
    ]
    if moto is not None:
        memory = ours.get("moto_peak_memory_mb")
        rows.append(
            f"| CPU seconds, moto server{variant} | {moto:.1f}"
            f" ({moto * 1_000 / figures['recipients']:.2f} ms a recipient"
            + (f"; peak memory {memory:,.0f} MB" if memory else "")
            + ") | |"
        )
    if harness is not None:
        rows.append(
            f"| CPU seconds, local stack (API gateway, pollers, carrier simulator)"
            f" | {harness:.1f} | |"
        )
    return rows


def _naive_wall(figures: dict[str, Any]) -> tuple[str, str]:
    """The naive baseline's wall time and rate, scaled to the campaign's size when sampled."""
    naive, count = figures["naive"], figures["recipients"]
    sample = naive.get("sample", count)
    rate = sample / naive["wall_seconds"]
    if sample == count:
        return (
            f"{naive['wall_seconds']:.1f} s, {naive['threads']} threads",
            f"{rate:.1f} recipients/s",
        )
    return (
        f"{naive['wall_seconds'] * count / sample:.0f} s **scaled** from {naive['wall_seconds']:.1f} s"
        f" measured on the first {sample:,} recipients, {naive['threads']} threads",
        f"{rate:.1f} recipients/s (on the {sample:,})",
    )


def _services(figures: dict[str, Any]) -> Iterator[str]:
    ours, naive = figures["ours"], figures["naive"]
    theirs: Counter[str] = Counter()
    for operation, per in naive["calls_by_operation_per_1000"].items():
        theirs[operation.split()[0]] += per
    send, delivery = (
        ours["send_calls_by_service_per_1000"],
        ours["delivery_calls_by_service_per_1000"],
    )
    for service in [
        *send,
        *(s for s in delivery if s not in send),
        *(s for s in theirs if s not in send and s not in delivery),
    ]:
        yield (
            f"| {service} | {send.get(service, 0.0):.1f} | {delivery.get(service, 0.0):.1f}"
            f" | {theirs.get(service, 0.0):.1f} |"
        )


def _delivery_operations(ours: dict[str, Any]) -> list[str]:
    """The delivery path's calls by operation, one column per function and the path's total."""
    functions = ours.get("functions", {})
    header = " | ".join(DELIVERY_PATH)
    rows = [
        f"| service operation | {header} | delivery path |",
        "|---|" + "---|" * (len(DELIVERY_PATH) + 1),
    ]
    for operation, per in ours["delivery_calls_by_operation_per_1000"].items():
        cells = " | ".join(
            f"{functions.get(name, {}).get('calls_by_operation_per_1000', {}).get(operation, 0.0):.1f}"
            for name in DELIVERY_PATH
        )
        rows.append(f"| {operation} | {cells} | {per:.1f} |")
    return rows


def _counting_check(ours: dict[str, Any], count: int) -> str:
    """How many stream batches were counted, against the counting function's transactions."""
    counting = ours.get("functions", {}).get("MessageCountsFunction")
    if counting is None or "counted_batches" not in ours:
        return ""
    transactions = (
        counting["calls_by_operation_per_1000"].get("dynamodb TransactWriteItems", 0.0)
        * count
        / 1_000
    )
    return (
        f" Counting: {ours['counted_batches']:,} batch markers for the campaign, for"
        f" {transactions:,.0f} TransactWriteItems calls of MessageCountsFunction (a marker and"
        " the counters' update each)."
    )


def _delivery_progress(ours: dict[str, Any]) -> str:
    by_events = sum(
        ours["final_counts"].get(name, 0) for name in ("delivered", "failed", "expired")
    )
    per_settled = ours["delivery_calls"] * 1_000 / by_events if by_events else 0.0
    return (
        f"partial: {by_events:,} of {ours['sends']:,} sent messages settled when the wait ended,"
        f" {per_settled:.0f} calls per 1,000 of those"
    )


def render(figures: dict[str, Any]) -> str:
    """The figures as Markdown."""
    ours, naive = figures["ours"], figures["naive"]
    count = figures["recipients"]
    verdict = "met" if figures["within_target"] else "NOT met"
    lines = [
        f"Campaign of {count:,} recipients ({figures['no_consent']} without consent,"
        f" {figures['suppressed']} suppressed, plus {figures['invalid_rows']} malformed rows"
        f" rejected at upload); functions' clock at {figures['clock']} UTC;"
        f" set-up (consents, suppressions, audience) {figures['setup_seconds']:.0f} s, not measured.",
        "",
        "| | ours (functions) | naive baseline (boto3) |",
        "|---|---|---|",
        f"| wall time | {_wall(ours)} ({ours['send_wall_seconds']:.1f} s to the last send)"
        f" | {_naive_wall(figures)[0]} |",
        f"| sends per second | {ours['sends_per_second']:.1f} | {_naive_wall(figures)[1]} |",
        *_cpu_split(figures),
        f"| CPU seconds, baseline client | | {naive['client_cpu_seconds']:.1f}"
        f" on {naive.get('sample', count):,} recipients (bench process) |",
        f"| AWS calls per 1,000 recipients, send path | **{ours['send_calls_per_1000']:.1f}**"
        f" | **{naive['calls_per_1000']:.1f}** |",
        f"| AWS calls per 1,000 recipients, delivery path | {ours['delivery_calls_per_1000']:.1f}"
        f"{'' if ours['completed'] else ' (events handled so far only)'} | (none) |",
        "",
        f"Target: at most {figures['target_calls_per_1000']:.0f} AWS calls per 1,000 recipients"
        f" on the send path: **{verdict}** ({ours['send_calls_per_1000']:.1f}).",
        "",
        "AWS calls per 1,000 recipients by service (carrier sends left out):",
        "",
        "| service | send path | delivery path | naive |",
        "|---|---|---|---|",
        *_services(figures),
        "",
        "Send path (LaunchCampaignFunction + SendWorkerFunction) by operation, per 1,000 recipients:",
        "",
        "| service operation | ours | naive |",
        "|---|---|---|",
        *_rows(figures),
        "",
        f"Left out: {ours['carrier_calls']:,} carrier SendTextMessage calls"
        f" ({ours['carrier_calls'] * 1_000 / count:.0f} per 1,000).",
        "",
        f"Delivery path ({' + '.join(DELIVERY_PATH)}) by operation, per 1,000 recipients"
        + ("" if ours["completed"] else f" ({_delivery_progress(ours)})")
        + ":",
        "",
        *_delivery_operations(ours),
        "",
        f"Invocations: {', '.join(f'{name} {n}' for name, n in ours['invocations'].items())}.",
        f"Checks: every status final {'yes' if ours['completed'] else 'NO'}"
        f" ({', '.join(f'{k} {v}' for k, v in ours['final_counts'].items() if v)});"
        f" {ours['sends']:,} sends for {ours['eligible']:,} eligible recipients,"
        f" {ours['duplicate_sends']} duplicates, {ours['sends_to_ineligible']} to ineligible"
        f" recipients, {ours['missing_sends']} missing." + _counting_check(ours, count),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=DEFAULT_RECIPIENTS)
    parser.add_argument(
        "--plain-moto",
        action="store_true",
        help="run moto without the local stack's speed-ups (cloison_local.moto_speedups)",
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=None,
        help="how long to wait for delivery events after the last send"
        " (default: 300 s, or 0.02 s per recipient if longer)",
    )
    arguments = parser.parse_args()
    sys.stdout.write(
        render(
            main(
                arguments.recipients,
                arguments.settle_seconds,
                moto_speedups=not arguments.plain_moto,
            )
        )
    )
