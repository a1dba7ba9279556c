"""Estimated AWS cost per million messages, from the calls the benches counted, beside the carrier's.

`estimate(campaign_figures, reply_figures, ...)` takes what `campaign.main()` and `replies.main()`
return (AWS calls per 1,000 recipients on the send and delivery paths, per 1,000 replies on the
inbound path, invocations, CPU seconds) and the function logs those runs wrote, turns them into
billable units per million messages sent, and prices them with PRICES. `render()` writes the
result as Markdown. `python bench/cost.py [--recipients N] [--replies N]` runs both benches first.

Every unit that is not counted is an assumption named in the output: Lambda durations (the local
stack measures CPU, not billed time), the share of messages that get a reply, how DynamoDB bills
each kind of write (from the template's indexes and the item shapes the code writes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import campaign
import replies

from cloison.adapters.tables import BATCH_GET_LIMIT
from cloison.models.records import AudienceMember
from cloison.services.audience import CHUNK_SIZE
from cloison_local.carrier import DELIVERED_OUTCOME
from cloison_local.template import Resolver, load_template, merged_function_properties

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
REGION, REGION_NAME = "eu-west-3", "Europe (Paris)"
PRICES_TAKEN = "2026-11-28"
TARGET_USD_PER_MILLION = 3.0
MILLION = 1_000_000

# ---------------------------------------------------------------- prices
# Each price names the page it comes from. `regional` is False where the figure could only be
# confirmed as the us-east-1 list price: Paris may then be dearer, and the report says which
# lines that concerns. Flip it once a figure is checked against the page's Paris column.
LAMBDA_PRICING = "https://aws.amazon.com/lambda/pricing/"
SQS_PRICING = "https://aws.amazon.com/sqs/pricing/"
DYNAMODB_PRICING = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
S3_PRICING = "https://aws.amazon.com/s3/pricing/"
KMS_PRICING = "https://aws.amazon.com/kms/pricing/"
SNS_PRICING = "https://aws.amazon.com/sns/pricing/"
CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/"
SECRETS_PRICING = "https://aws.amazon.com/secrets-manager/pricing/"
EVENTBRIDGE_PRICING = "https://aws.amazon.com/eventbridge/pricing/"
XRAY_PRICING = "https://aws.amazon.com/xray/pricing/"
SMS_PRICING = "https://aws.amazon.com/end-user-messaging/pricing/"
# Rules the model follows, with where they are written down.
SNS_DATA_KEY_REUSE = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
GSI_WRITES = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html"
LAMBDA_MEMORY_CPU = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"


@dataclass(frozen=True)
class Price:
    usd: float
    per: float
    unit: str
    source: str
    regional: bool = False
    note: str = ""

    def cost(self, quantity: float) -> float:
        return self.usd * quantity / self.per


PRICES: dict[str, Price] = {
    "lambda_request": Price(0.20, MILLION, "requests", LAMBDA_PRICING),
    "lambda_arm64": Price(0.0000133334, 1, "GB-s (arm64, first tier)", LAMBDA_PRICING),
    "lambda_x86_64": Price(0.0000166667, 1, "GB-s (x86_64, first tier)", LAMBDA_PRICING),
    "sqs_request": Price(0.40, MILLION, "requests (standard, per 64 KB chunk)", SQS_PRICING),
    # On-demand throughput prices were halved on 1 November 2024; these are the new ones.
    "dynamodb_wru": Price(0.625, MILLION, "write request units (on-demand)", DYNAMODB_PRICING),
    "dynamodb_rru": Price(0.125, MILLION, "read request units (on-demand)", DYNAMODB_PRICING),
    "dynamodb_storage": Price(
        0.25,
        1,
        "GB-month (Standard table class)",
        DYNAMODB_PRICING,
        note="us-east-1 list price, not found in the sources read",
    ),
    "dynamodb_pitr": Price(
        0.20,
        1,
        "GB-month (continuous backups)",
        DYNAMODB_PRICING,
        note="us-east-1 list price, not found in the sources read",
    ),
    "s3_put": Price(0.005, 1_000, "PUT, COPY, POST, LIST requests", S3_PRICING),
    "s3_get": Price(0.0004, 1_000, "GET, SELECT and other requests", S3_PRICING),
    "kms_request": Price(0.03, 10_000, "requests", KMS_PRICING),
    "sns_publish": Price(0.50, MILLION, "publishes (per 64 KB chunk)", SNS_PRICING),
    "sns_to_sqs": Price(0.0, MILLION, "deliveries to SQS (no charge)", SNS_PRICING),
    "logs_ingestion": Price(0.50, 1, "GB ingested (Lambda logs, first tier)", CLOUDWATCH_PRICING),
    "secrets_api": Price(0.05, 10_000, "API calls", SECRETS_PRICING),
    "scheduler": Price(1.00, MILLION, "Scheduler invocations", EVENTBRIDGE_PRICING),
    "xray_trace": Price(5.00, MILLION, "traces recorded", XRAY_PRICING),
    "free": Price(0.0, 1, "calls", SMS_PRICING, note="no per-call price"),
}
# End User Messaging's outbound SMS price to France per message part. The published figure was
# not found in the sources searched on PRICES_TAKEN: this is the middle of the $0.07-0.08 range
# quoted for French mobiles, to be replaced by the price page's figure for FR.
CARRIER_PRICE_PER_SEGMENT = Price(
    0.075,
    1,
    "SMS segment to France (assumed)",
    SMS_PRICING,
    note="France, assumed: the published figure was not found",
)

# ---------------------------------------------------------------- assumptions
# Replies per message sent: not measured; a round figure, on the generous side.
REPLIES_PER_MESSAGE = 0.05
# Lambda gives a function one vCPU at 1,769 MB and CPU in proportion below that.
MB_PER_VCPU = 1_769
# Wait for an AWS call from inside Lambda, in ms, by service (assumed, typical in-region
# latencies); the carrier's SendTextMessage is the one that weighs.
CALL_WAIT_MS = {
    "dynamodb": 6.0,
    "sqs": 10.0,
    "kms": 8.0,
    "s3": 25.0,
    "secretsmanager": 15.0,
    "scheduler": 30.0,
    "pinpoint-sms-voice-v2": 60.0,
    "sns": 15.0,
}
DEFAULT_WAIT_MS = 20.0
# START, END and REPORT (with its X-Ray line) that Lambda writes per invocation, in bytes.
PLATFORM_LOG_BYTES = 400
# CloudWatch Logs sizes an event as its message plus 26 bytes; counted here too, to err high.
LOG_EVENT_OVERHEAD = 26
# DynamoDB's storage overhead per item, in the table and in each index.
ITEM_OVERHEAD = 100
DAYS_PER_MONTH = 30.4
FUNCTIONS_BY_PATH = {
    "send": ("LaunchCampaignFunction", "SendWorkerFunction"),
    "delivery": ("DeliveryEventsFunction",),
    "inbound": ("InboundFunction",),
}
PATH_NAMES = {
    "send": "send path",
    "delivery": "delivery path",
    "inbound": "inbound path (replies)",
}


# ---------------------------------------------------------------- the template
@dataclass(frozen=True)
class Index:
    name: str
    keys: frozenset[str]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    local: bool


def table_indexes(template: Mapping[str, Any], table: str) -> list[Index]:
    properties = template["Resources"][table]["Properties"]
    found = []
    for kind, local in (("GlobalSecondaryIndexes", False), ("LocalSecondaryIndexes", True)):
        for index in properties.get(kind, []):
            found.append(
                Index(
                    name=str(index["IndexName"]),
                    keys=frozenset(str(key["AttributeName"]) for key in index["KeySchema"]),
                    projection=str(index["Projection"]["ProjectionType"]),
                    local=local,
                )
            )
    return found


def index_writes(
    template: Mapping[str, Any], table: str, carries: Iterable[str], changes: Iterable[str] = ()
) -> list[Index]:
    """The indexes a write touches: those whose keys the item carries; for an update of an item
    already indexed (`changes` given), only those projecting ALL or whose keys change (INCLUDE
    is taken as KEYS_ONLY)."""
    present, changed = set(carries), set(changes)
    return [
        index
        for index in table_indexes(template, table)
        if index.keys <= present
        and (not changed or index.projection == "ALL" or index.keys & changed)
    ]


def published_events(template: Mapping[str, Any]) -> tuple[str, ...]:
    """The events of a delivered message (as the bench's carrier sends them) that the
    configuration set publishes, with the template's parameters at their defaults."""
    defaults = {
        name: parameter.get("Default") for name, parameter in template["Parameters"].items()
    }

    def unresolved(name: str) -> Any:
        raise KeyError(name)

    resolver = Resolver(
        dict(template), defaults, pseudo={}, ref=unresolved, get_att=lambda *_: unresolved("")
    )
    (destination,) = template["Resources"]["SmsConfigurationSet"]["Properties"]["EventDestinations"]
    wanted = set(resolver.resolve(destination["MatchingEventTypes"]))
    every = bool(wanted & {"ALL", "TEXT_ALL"})
    return tuple(event for event in DELIVERED_OUTCOME if every or event in wanted)


def function_settings(template: Mapping[str, Any], logical_id: str) -> tuple[int, str]:
    """(memory in MB, architecture) of a function, Globals merged in."""
    properties = merged_function_properties(dict(template), logical_id)
    memory = properties.get("MemorySize", 128)
    architectures = properties.get("Architectures", ["x86_64"])
    return int(memory), str(architectures[0])


def item_bytes(item: Mapping[str, Any]) -> int:
    """DynamoDB's size of an item: names plus values (numbers about one byte per two digits)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, bool) or value is None:
            size += 1
        elif isinstance(value, int | float):
            size += len(str(value).replace(".", "").lstrip("-")) // 2 + 1
        else:
            size += len(str(value).encode())
    return size


def message_record() -> dict[str, Any]:
    """A message record as the delivery path writes it (`MessageStore.advance`)."""
    now = datetime(2026, 11, 28, 9, 5, 16, 769000, tzinfo=UTC).isoformat()
    campaign_id, key = "c-20261128T090100-7f3a9c2e", "0" * 64
    return {
        "pk": f"recipient#{key}",
        "sk": f"campaign#{campaign_id}",
        "status": "delivered",
        "status_rank": 3,
        "updated_at": now,
        "campaign_id": campaign_id,
        "team": "sales",
        "number_key": key,
        "carrier_message_id": "221bc70c-7120-513c-a3a5-4fbbb4ad1d3b",
        "sent_at": now,
        "expires_at": 1_830_000_000,
    }


def chunk_bytes() -> int:
    """A sealed audience chunk of CHUNK_SIZE recipients, as the bench's audience fills it."""
    member = AudienceMember(e164="+33613000123", number_key="0" * 64, variables={"code": "B000123"})
    plain = json.dumps([member.model_dump(exclude_defaults=True)] * CHUNK_SIZE).encode()
    # The Encryption SDK's header and frame tags, without a signature: a few hundred bytes.
    return len(plain) + 600


# ---------------------------------------------------------------- usage per message
@dataclass
class PathUsage:
    """What one path did per unit of its work (a message sent, a delivery, a reply)."""

    path: str
    units: float  # messages sent, messages settled, or replies, in the run
    per_message: float  # how many of those units one message sent stands for
    calls: dict[str, float]  # "service Operation" -> calls per unit
    invocations: dict[str, float]  # function -> invocations per unit
    cpu_seconds: float  # per unit
    log_bytes: float  # per unit
    log_lines: float  # per unit
    note: str = ""

    def per_million(self, value: float) -> float:
        return value * self.per_message * MILLION


def _log_size(log_dir: Path, functions: Iterable[str]) -> tuple[int, int]:
    size = lines = 0
    for function in functions:
        path = log_dir / f"{function}.log"
        if path.is_file():
            data = path.read_bytes()
            size += len(data)
            lines += data.count(b"\n")
    return size, lines


def send_usage(figures: Mapping[str, Any], log_dir: Path) -> PathUsage:
    ours = figures["ours"]
    recipients, sends = figures["recipients"], max(1, ours["sends"])
    calls = {
        operation: per_1000 * recipients / 1_000 / sends
        for operation, per_1000 in ours["send_calls_by_operation_per_1000"].items()
    }
    calls["pinpoint-sms-voice-v2 SendTextMessage"] = ours["carrier_calls"] / sends
    size, lines = _log_size(log_dir, FUNCTIONS_BY_PATH["send"])
    return PathUsage(
        path="send",
        units=sends,
        per_message=1.0,
        calls=calls,
        invocations={
            name: ours["invocations"].get(name, 0) / sends for name in FUNCTIONS_BY_PATH["send"]
        },
        cpu_seconds=ours["send_cpu_seconds"] / sends,
        log_bytes=size / sends,
        log_lines=lines / sends,
        note=f"{sends:,} messages sent to {recipients:,} recipients",
    )


def delivery_usage(figures: Mapping[str, Any], log_dir: Path) -> PathUsage:
    ours = figures["ours"]
    recipients = figures["recipients"]
    settled = sum(ours["final_counts"].get(name, 0) for name in ("delivered", "failed", "expired"))
    units = settled if not ours["completed"] else ours["sends"]
    units = max(1, units)
    calls = {
        operation: per_1000 * recipients / 1_000 / units
        for operation, per_1000 in ours["delivery_calls_by_operation_per_1000"].items()
    }
    size, lines = _log_size(log_dir, FUNCTIONS_BY_PATH["delivery"])
    invocations = ours["invocations"].get("DeliveryEventsFunction", 0)
    note = f"{units:,} messages settled by their events"
    if not ours["completed"]:
        note += (
            f" of {ours['sends']:,} sent when the wait ended: calls per settled message, an upper"
            " bound (the events of messages not yet settled count too)"
        )
    return PathUsage(
        path="delivery",
        units=units,
        per_message=1.0,
        calls=calls,
        invocations={"DeliveryEventsFunction": invocations / units},
        cpu_seconds=ours["delivery_cpu_seconds"] / units,
        log_bytes=size / units,
        log_lines=lines / units,
        note=note,
    )


def inbound_usage(
    figures: Mapping[str, Any], log_dir: Path, replies_per_message: float
) -> PathUsage:
    cached = figures["cached"]
    count = max(1, cached["replies"])
    size, lines = _log_size(log_dir, FUNCTIONS_BY_PATH["inbound"])
    return PathUsage(
        path="inbound",
        units=count,
        per_message=replies_per_message,
        calls={
            operation: per_1000 / 1_000
            for operation, per_1000 in cached["by_operation_per_1000"].items()
        },
        invocations={"InboundFunction": cached["invocations"] / count},
        cpu_seconds=cached["cpu_seconds"] / count,
        log_bytes=size / count,
        log_lines=lines / count,
        note=f"{count:,} replies, {replies_per_message:.0%} of messages sent (assumed)",
    )


# ---------------------------------------------------------------- pricing the usage
@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float  # per million messages, in the price's unit
    price: str
    why: str
    key: str = ""  # names the lines the reductions below refer to

    @property
    def usd(self) -> float:
        return PRICES[self.price].cost(self.quantity)


@dataclass
class Model:
    """Turns counted calls into billable units, path by path."""

    template: Mapping[str, Any]
    lines: list[Line] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    # What the reductions are worked out from: record writes and indexes per message.
    facts: dict[str, float] = field(default_factory=dict)

    def add(
        self, service: str, item: str, quantity: float, price: str, why: str, key: str = ""
    ) -> None:
        if quantity:
            self.lines.append(Line(service, item, quantity, price, why, key))

    # DynamoDB ------------------------------------------------------------
    def dynamodb(self, usage: PathUsage) -> set[str]:
        """Capacity units of the path's DynamoDB calls; returns the operations it priced."""
        t, name = self.template, PATH_NAMES[usage.path]
        calls = {op: n for op, n in usage.calls.items() if op.startswith("dynamodb ")}
        done: set[str] = set()

        def take(operation: str) -> float:
            done.add(operation)
            return usage.per_million(calls.get(operation, 0.0))

        if usage.path == "send":
            progress = 1 + len(index_writes(t, "CampaignsTable", {"pk", "sk"}))
            chunk_rru = math.ceil(chunk_bytes() / 4096) * 0.5
            chunks = usage.per_million(1.0) / CHUNK_SIZE
            self.add(
                "DynamoDB",
                f"reads, {name}: suppressions and consents",
                take("dynamodb BatchGetItem") * BATCH_GET_LIMIT * 0.5,
                "dynamodb_rru",
                f"BatchGetItem of {BATCH_GET_LIMIT} keys, eventually consistent, items under"
                " 4 KB: 0.5 RRU a key",
            )
            self.add(
                "DynamoDB",
                f"reads, {name}: campaign, sender, chunk, counters",
                take("dynamodb GetItem") * 1.0 + chunks * chunk_rru,
                "dynamodb_rru",
                "GetItem at 1 RRU (under 4 KB), plus each sealed chunk"
                f" (~{chunk_bytes() / 1024:.0f} KB for {CHUNK_SIZE} recipients):"
                f" {chunk_rru:g} RRU",
            )
            self.add(
                "DynamoDB",
                f"writes, {name}: chunk leases and checkpoints",
                take("dynamodb UpdateItem") * progress + take("dynamodb PutItem") * progress,
                "dynamodb_wru",
                f"UpdateItem on a progress item (no index key carried): {progress} WRU",
            )
            self.add(
                "DynamoDB",
                f"writes, {name}: slice progress + campaign counters",
                take("dynamodb TransactWriteItems") * 2 * 2 * progress,
                "dynamodb_wru",
                "TransactWriteItems of 2 items at 2 WRU each",
            )
        elif usage.path == "delivery":
            record = message_record()
            size = item_bytes(record)
            per_kb = math.ceil(size / 1024)
            carried = index_writes(t, "MessagesTable", record)
            touched = index_writes(t, "MessagesTable", record, changes={"status", "updated_at"})
            create = per_kb * (1 + len(carried))
            advance = per_kb * (1 + len(touched))
            batches = usage.per_million(usage.invocations.get("DeliveryEventsFunction", 0.0))
            updates = take("dynamodb UpdateItem")
            records = max(0.0, updates - batches)
            created = min(records, usage.per_million(1.0))
            self.facts["record_writes"] = records / usage.per_million(1.0)
            self.facts["record_indexes"] = len(touched)

            def indexes(found: list[Index]) -> str:
                if not found:
                    return "no index"
                names = ", ".join(i.name for i in found)
                return f"{names}, projection {'/'.join(sorted({i.projection for i in found}))}"

            self.add(
                "DynamoDB",
                f"writes, {name}: message records",
                created * create + (records - created) * advance,
                "dynamodb_wru",
                f"one UpdateItem per event applied, record of {size} bytes ({per_kb} WRU): the"
                f" first creates it ({create} WRU with {indexes(carried)}), a later one moves"
                f" its status ({advance} WRU with {indexes(touched)});"
                f" {records / usage.per_million(1.0):.2f} writes a message",
                key="records",
            )
            self.add(
                "DynamoDB",
                f"writes, {name}: campaign counters",
                min(updates, batches),
                "dynamodb_wru",
                "one UpdateItem per batch of events: 1 WRU",
            )
        else:  # inbound
            entry = {"pk", "sk", "recipient_hmac", "received_at"}
            entry_indexes = index_writes(t, "RepliesTable", entry)
            guard_indexes = index_writes(t, "RepliesTable", {"pk", "sk"})
            claim = 2 * (2 + len(entry_indexes) + len(guard_indexes))
            stored = index_writes(t, "RepliesTable", entry, changes={"stored", "answered"})
            mark = 1 + len(stored)
            updates = take("dynamodb UpdateItem")
            marks = min(updates, usage.per_million(1.0))
            self.add(
                "DynamoDB",
                f"writes, {name}: reply index entry and guard",
                take("dynamodb TransactWriteItems") * claim,
                "dynamodb_wru",
                f"TransactWriteItems of 2 items at 2 WRU each, and the entry's indexes"
                f" ({', '.join(i.name for i in entry_indexes)}) counted at 2 WRU too: {claim}"
                " WRU",
            )
            self.add(
                "DynamoDB",
                f"writes, {name}: entry marked stored, suppressions",
                marks * mark + (updates - marks) * 1,
                "dynamodb_wru",
                f"one UpdateItem per reply on its entry ({mark} WRU with"
                f" {', '.join(i.name for i in stored)}), the others (STOPs) 1 WRU",
            )
            self.add(
                "DynamoDB",
                f"reads, {name}: message matched, records",
                take("dynamodb Query") * 0.5 + take("dynamodb GetItem") * 1.0,
                "dynamodb_rru",
                "Query on an index, 1 item, eventually consistent: 0.5 RRU; GetItem 1 RRU",
            )
        for operation, _ in calls.items():
            if operation in done:
                continue
            writes = any(word in operation for word in ("Put", "Update", "Delete", "Write"))
            self.add(
                "DynamoDB",
                f"{'writes' if writes else 'reads'}, {name}: {operation.split()[1]}",
                take(operation),
                "dynamodb_wru" if writes else "dynamodb_rru",
                "not modelled in detail: 1 unit per call",
            )
        return done

    # every other service ------------------------------------------------
    def services(self, usage: PathUsage, done: set[str]) -> None:
        name = PATH_NAMES[usage.path]
        for operation, per_unit in sorted(usage.calls.items()):
            if operation in done or operation.startswith("dynamodb "):
                continue
            service, action = operation.split(" ", 1)
            quantity = usage.per_million(per_unit)
            if service == "sqs":
                self.add("SQS", f"{action}, {name}", quantity, "sqs_request", "1 request a call")
            elif service == "kms":
                self.add("KMS", f"{action}, {name}", quantity, "kms_request", "1 request a call")
            elif service == "s3":
                writes = action in ("PutObject", "CopyObject", "ListObjectsV2")
                tier = "s3_put" if writes else "s3_get"
                self.add("S3", f"{action}, {name}", quantity, tier, "1 request a call")
            elif service == "secretsmanager":
                self.add("Secrets Manager", f"{action}, {name}", quantity, "secrets_api", "1 call")
            elif service == "scheduler" and action == "CreateSchedule":
                self.add(
                    "EventBridge Scheduler",
                    f"one-time schedules firing, {name}",
                    quantity,
                    "scheduler",
                    "each schedule created fires once (the call itself is free)",
                )
                self.add(
                    "SQS",
                    f"schedules' launch messages, {name}",
                    quantity * 3,
                    "sqs_request",
                    "each firing: the target's SendMessage, then a receive and a delete",
                )
            elif service == "pinpoint-sms-voice-v2":
                if action != "SendTextMessage":
                    self.add(
                        "End User Messaging",
                        f"{action}, {name}",
                        quantity,
                        "free",
                        "opt-out list calls have no per-call price",
                    )
            elif service in ("sts", "scheduler", "iam"):
                continue
            else:
                self.unpriced.append(f"{operation} ({name}, {quantity:,.0f} per million)")

    # queues, topics, functions, logs ----------------------------------------
    def plumbing(self, usage: PathUsage) -> None:
        name = PATH_NAMES[usage.path]
        invocations = sum(usage.invocations.values())
        if usage.path == "send":
            self.add(
                "SQS",
                f"Lambda's receives and deletes, {name}",
                usage.per_million(invocations) * 2,
                "sqs_request",
                "each invocation from a queue: one ReceiveMessage, one DeleteMessageBatch"
                " (idle long polls are a fixed cost, not counted)",
            )
        elif usage.path == "delivery":
            published = published_events(self.template)
            events = len(published)
            self.add(
                "SNS",
                f"delivery events published, {name}",
                usage.per_million(events),
                "sns_publish",
                f"{events} event(s) per delivered message ({', '.join(published)}): what the"
                " configuration set publishes, with the template's defaults, of the bench"
                f" carrier's {', '.join(DELIVERED_OUTCOME)}",
                key="events",
            )
            self.add(
                "SQS",
                f"events into the delivery queue and out, {name}",
                usage.per_million(events) * (1 + 2 / 10),
                "sqs_request",
                "SNS's delivery counted as one request per event (conservative); Lambda"
                " receives and deletes in tens",
                key="events",
            )
        else:
            self.add(
                "SNS",
                f"replies published, {name}",
                usage.per_million(1.0),
                "sns_publish",
                "End User Messaging publishes each reply once",
            )
            self.add(
                "SQS",
                f"replies into the inbound queue and out, {name}",
                usage.per_million(1.0) + usage.per_million(invocations) * 2,
                "sqs_request",
                "SNS's delivery (one request per reply), and a receive and a delete per invocation",
            )
        self.add(
            "Lambda",
            f"requests, {name}",
            usage.per_million(invocations),
            "lambda_request",
            "invocations counted",
        )
        self.add(
            "X-Ray",
            f"traces, {name}",
            usage.per_million(invocations),
            "xray_trace",
            "upper bound: every invocation traced (active tracing samples fewer)",
            key="traces",
        )

    def compute(self, usage: PathUsage) -> None:
        name = PATH_NAMES[usage.path]
        functions = FUNCTIONS_BY_PATH[usage.path]
        settings = [function_settings(self.template, function) for function in functions]
        memory = max(mb for mb, _ in settings)
        architecture = settings[0][1]
        wait = sum(
            per_unit * CALL_WAIT_MS.get(operation.split(" ", 1)[0], DEFAULT_WAIT_MS) / 1_000
            for operation, per_unit in usage.calls.items()
        )
        cpu = usage.cpu_seconds * max(1.0, MB_PER_VCPU / memory)
        seconds = cpu + wait
        self.add(
            "Lambda",
            f"duration, {name} ({memory} MB, {architecture})",
            usage.per_million(seconds) * memory / 1024,
            f"lambda_{architecture.replace('-', '_')}",
            f"estimated, not measured: CPU measured here {usage.cpu_seconds * 1e3:.2f} ms a unit"
            f" x {MB_PER_VCPU}/{memory} (CPU share at {memory} MB) = {cpu * 1e3:.2f} ms, plus"
            f" {wait * 1e3:.1f} ms of assumed waits on AWS calls",
            key=f"duration-{usage.path}",
        )
        self.facts[f"wait-share-{usage.path}"] = wait / seconds if seconds else 0.0

    def logs(self, usage: PathUsage) -> None:
        name = PATH_NAMES[usage.path]
        invocations = sum(usage.invocations.values())
        per_unit = (
            usage.log_bytes
            + usage.log_lines * LOG_EVENT_OVERHEAD
            + invocations * PLATFORM_LOG_BYTES
        )
        self.add(
            "CloudWatch Logs",
            f"ingestion, {name}",
            usage.per_million(per_unit) / 1e9,
            "logs_ingestion",
            f"{usage.log_bytes:.0f} bytes a unit measured in the bench's function logs, plus"
            f" {LOG_EVENT_OVERHEAD} bytes an event and {PLATFORM_LOG_BYTES} bytes of platform"
            " lines an invocation",
        )


def storage_lines(template: Mapping[str, Any]) -> list[Line]:
    """Message records kept for the template's default retention, per million messages."""
    retention = int(template["Parameters"]["MessageRetentionDays"]["Default"])
    record = message_record()
    size = item_bytes(record) + ITEM_OVERHEAD
    # An index stores, per item it holds, its keys, the table's keys and what it projects.
    index_bytes = 0
    properties = template["Resources"]["MessagesTable"]["Properties"]
    for index in properties.get("GlobalSecondaryIndexes", []):
        keys = {str(key["AttributeName"]) for key in index["KeySchema"]}
        if not keys <= set(record):
            continue
        projection = index["Projection"]
        if projection["ProjectionType"] == "ALL":
            index_bytes += size
            continue
        kept = keys | {"pk", "sk"} | set(projection.get("NonKeyAttributes", []))
        index_bytes += item_bytes({name: record[name] for name in kept}) + ITEM_OVERHEAD
    per_month = MILLION / 1e9 * retention / DAYS_PER_MONTH
    return [
        Line(
            "DynamoDB",
            "message records stored",
            (size + index_bytes) * per_month,
            "dynamodb_storage",
            f"{size} bytes a record (with overhead) and {index_bytes} bytes of it in the"
            f" table's indexes, x {retention} days",
        ),
        Line(
            "DynamoDB",
            "continuous backups of them",
            size * per_month,
            "dynamodb_pitr",
            f"the table's {size} bytes a record (global secondary indexes are not backed up:"
            f" a restore rebuilds them), x {retention} days",
        ),
    ]


# ---------------------------------------------------------------- the estimate
def estimate(
    campaign_figures: Mapping[str, Any],
    reply_figures: Mapping[str, Any],
    *,
    campaign_logs: Path,
    reply_logs: Path,
    replies_per_message: float = REPLIES_PER_MESSAGE,
) -> dict[str, Any]:
    """Cost per million messages sent, by service and line, with its assumptions."""
    template = load_template(TEMPLATE)
    paths = [
        send_usage(campaign_figures, campaign_logs),
        delivery_usage(campaign_figures, campaign_logs),
        inbound_usage(reply_figures, reply_logs, replies_per_message),
    ]
    model = Model(template)
    for usage in paths:
        done = model.dynamodb(usage)
        model.services(usage, done)
        model.plumbing(usage)
        model.compute(usage)
        model.logs(usage)
    total = sum(line.usd for line in model.lines)
    ours = campaign_figures["ours"]
    segments = ours["final_counts"].get("segments") or ours["sends"]
    per_message_segments = segments / max(1, ours["sends"])
    carrier = CARRIER_PRICE_PER_SEGMENT.cost(MILLION * per_message_segments)
    storage = storage_lines(template)
    return {
        "reductions": reductions(model, storage),
        "region": REGION,
        "region_name": REGION_NAME,
        "prices_taken": PRICES_TAKEN,
        "paths": [
            {"path": PATH_NAMES[usage.path], "note": usage.note, "per_message": usage.per_message}
            for usage in paths
        ],
        "lines": model.lines,
        "unpriced": model.unpriced,
        "total": total,
        "storage": storage,
        "storage_total": sum(line.usd for line in storage),
        "segments_per_message": per_message_segments,
        "carrier": carrier,
        "ratio": total / carrier if carrier else 0.0,
        "target": TARGET_USD_PER_MILLION,
        "within_target": total <= TARGET_USD_PER_MILLION,
        "replies_per_message": replies_per_message,
        "architecture": function_settings(template, "SendWorkerFunction")[1],
    }


def reductions(model: Model, storage: list[Line]) -> list[str]:
    """What would lower the biggest lines, worked out from this run's figures."""
    keyed: dict[str, float] = {}
    for line in model.lines:
        keyed[line.key] = keyed.get(line.key, 0.0) + line.usd
    events = len(published_events(model.template))
    writes = model.facts.get("record_writes", 0.0)
    indexes = model.facts.get("record_indexes", 0.0)
    found = []
    if events > 1:
        saved = (keyed.get("events", 0.0) + keyed.get("records", 0.0)) * (1 - 1 / events)
        found.append(
            "Have the configuration set publish only final events (TEXT_DELIVERED and the"
            " failures) instead of ALL: one event per message instead of"
            f" {events} divides the SNS, SQS and record-write lines of the delivery path by"
            f" {events},"
            f" about ${saved:.2f} less (records then go from queued to delivered, without"
            " `sent`)."
        )
    if writes > 1 and indexes:
        now = writes * (1 + indexes)
        after = (1 + indexes) + (writes - 1)
        saved = keyed.get("records", 0.0) * (1 - after / now)
        found.append(
            "Project the message table's indexes as KEYS_ONLY (or INCLUDE the few attributes"
            " their queries read) rather than ALL: an event that only moves a record's status"
            f" then writes 1 WRU instead of {1 + indexes:.0f}, about ${saved:.2f} less here,"
            f" and the stored copies shrink to their keys ({indexes:.0f} of a record's"
            f" {1 + indexes:.0f} stored copies are the indexes')."
        )
    if keyed.get("traces"):
        found.append(
            f"X-Ray is priced here for every invocation (${keyed['traces']:.2f}); Lambda's"
            " default sampling (the first request each second, then 5 %) records far fewer."
        )
    send_wait = model.facts.get("wait-share-send", 0.0)
    if keyed.get("duration-send"):
        found.append(
            f"The send worker's duration (${keyed['duration-send']:.2f}) is"
            f" {send_wait:.0%} waiting on calls, mostly the carrier: that part of the bill is"
            " proportional to the function's memory, so a smaller MemorySize for it (or"
            " sending in parallel inside a worker) lowers it."
        )
    return found


# ---------------------------------------------------------------- reporting
def _by_service(lines: Iterable[Line]) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for line in lines:
        totals[line.service] = totals.get(line.service, 0.0) + line.usd
    return sorted(totals.items(), key=lambda item: -item[1])


def _quantity(line: Line) -> str:
    price = PRICES[line.price]
    if price.per == 1:
        return f"{line.quantity:,.2f} {price.unit}"
    return f"{line.quantity:,.0f} {price.unit}"


def _price(key: str, price: Price) -> str:
    per = {1: "", 1_000: " per 1,000", 10_000: " per 10,000", MILLION: " per million"}
    where = price.note or (REGION if price.regional else "us-east-1 list price")
    figure = f"{price.usd:.10f}".rstrip("0").rstrip(".")
    return f"| {key} | ${figure}{per.get(int(price.per), '')} {price.unit} | {where} | {price.source} |"


def _rows(lines: Iterable[Line]) -> Iterator[str]:
    for line in sorted(lines, key=lambda line: -line.usd):
        yield f"| {line.service} | {line.item} | {_quantity(line)} | ${line.usd:.4f} | {line.why} |"


def render(figures: dict[str, Any]) -> str:
    """The estimate as Markdown."""
    total, carrier, target = figures["total"], figures["carrier"], figures["target"]
    lines: list[Line] = figures["lines"]
    services = _by_service(lines)
    top = sorted(lines, key=lambda line: -line.usd)[:3]
    share = sum(line.usd for line in top) / total if total else 0.0
    not_regional = sorted(
        {line.service for line in lines if not PRICES[line.price].regional and line.usd}
    )
    out = [
        f"Priced for {figures['region_name']} ({figures['region']}) with the public prices as"
        f" read on {figures['prices_taken']} (the table of prices below says which could only"
        f" be confirmed as us-east-1 list prices); functions on {figures['architecture']}, as"
        " the template says. Usage per message comes from this run's benches:",
        "",
        *(f"- {path['path']}: {path['note']}" for path in figures["paths"]),
        "",
        "| service | per million messages |",
        "|---|---|",
        *(f"| {service} | ${usd:.2f} |" for service, usd in services),
        f"| **AWS infrastructure, total** | **${total:.2f}** |",
        f"| carrier (End User Messaging SMS, {figures['segments_per_message']:.2f} segment a"
        f" message at ${CARRIER_PRICE_PER_SEGMENT.usd:g}, assumed) | ${carrier:,.0f} |",
        "",
        f"Target: at most ${target:.0f} per million messages:"
        f" **{'met' if figures['within_target'] else 'NOT met'}** (${total:.2f}, that is"
        f" {figures['ratio']:.4%} of the carrier's ${carrier:,.0f}).",
        "",
        f"Biggest items: {'; '.join(f'{line.item} ${line.usd:.2f}' for line in top)}"
        f" ({share:.0%} of the total). What would reduce them:",
        "",
        *(f"- {reduction}" for reduction in figures["reductions"]),
        "",
        "On top, not driven by calls: message records kept for the template's default"
        f" retention cost ${figures['storage_total']:.2f} per million messages"
        f" ({'; '.join(f'{line.item}: {line.quantity:,.1f} GB-month, ${line.usd:.2f}' for line in figures['storage'])};"
        f" {figures['storage'][0].why}). Fixed monthly costs (idle long polls of five queues,"
        " the KMS key, the pepper secret, SNS's data keys reused for five minutes"
        f" ({SNS_DATA_KEY_REUSE}), custom metrics, API Gateway and Cognito) do not grow with"
        " messages and are left out.",
        "",
        "By line (per million messages sent):",
        "",
        "| service | line | quantity | cost | how it was counted |",
        "|---|---|---|---|---|",
        *_rows(lines),
        "",
    ]
    if figures["unpriced"]:
        out += ["Calls left unpriced: " + "; ".join(figures["unpriced"]) + ".", ""]
    out += [
        "Prices used:",
        "",
        "| price | figure | region | source |",
        "|---|---|---|---|",
        *(_price(key, price) for key, price in PRICES.items() if key != "free"),
        _price("carrier", CARRIER_PRICE_PER_SEGMENT),
        "",
        "Figures marked *us-east-1 list price* are the ones the sources confirmed; Paris prices"
        f" for {', '.join(not_regional)} may be somewhat higher, and the lines priced with them"
        " move in proportion. DynamoDB index writes follow"
        f" {GSI_WRITES}; Lambda's CPU share by memory, {LAMBDA_MEMORY_CPU}.",
    ]
    return "\n".join(out) + "\n"


def main(recipients: int, reply_count: int) -> dict[str, Any]:
    """Runs the campaign and replies benches at these sizes, then estimates."""
    campaign_figures = campaign.main(recipients)
    reply_figures = replies.main(reply_count)
    return estimate(
        campaign_figures,
        reply_figures,
        campaign_logs=campaign.LOG_DIR,
        reply_logs=replies.LOG_DIR / "cache",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--recipients", type=int, default=int(os.environ.get("BENCH_RECIPIENTS", 2_000))
    )
    parser.add_argument("--replies", type=int, default=int(os.environ.get("BENCH_REPLIES", 200)))
    arguments = parser.parse_args()
    sys.stdout.write(render(main(arguments.recipients, arguments.replies)))
