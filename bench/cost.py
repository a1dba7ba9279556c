"""Estimated AWS cost per million messages, from the calls the benches counted, beside the carrier's.

`estimate(campaign_figures, reply_figures, ...)` takes what `campaign.main()` and `replies.main()`
return (AWS calls per 1,000 recipients on the send and delivery paths, per 1,000 replies on the
inbound path, invocations, CPU seconds) and the function logs those runs wrote, turns them into
billable units per million messages sent, and prices them with PRICES. `render()` writes the
result as Markdown. `python bench/cost.py [--recipients N] [--replies N]` runs both benches first.

Every unit that is not counted is an assumption named in the output: Lambda durations (the local
stack measures CPU, not billed time), the share of messages that get a reply, how DynamoDB bills
each kind of write (from the template's indexes and the item shapes the code writes), how many
invocations X-Ray's default sampling rule records (from the campaign's measured sending rate).
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
from cloison_local.expand import function_properties
from cloison_local.template import Resolver, load_template

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
# "Read requests made by AWS Lambda-based consumers of DynamoDB Streams are free" (the pricing
# page: GetRecords calls invoked by Lambda as part of DynamoDB triggers are not charged).
STREAMS_LAMBDA_FREE = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "CostOptimization_StreamsUsage.html"
)
# The default sampling rule: the first request each second (the reservoir), then 5 % of the rest.
XRAY_DEFAULT_SAMPLING = (
    "https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html"
)


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
    "dynamodb_stream_read_lambda": Price(
        0.0, MILLION, "stream reads by Lambda's event source mapping (no charge)", DYNAMODB_PRICING
    ),
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
# X-Ray's default sampling rule, which applies to every function (`Tracing: Active`, no rule of
# our own): per function, this many invocations a second are recorded, then this share of the rest.
XRAY_RESERVOIR_PER_SECOND = 1.0
XRAY_FIXED_RATE = 0.05
# The send worker's memory the reductions price beside the template's.
SMALLER_SEND_WORKER_MB = 256
# Globals' MemorySize: what the send worker would have without a size of its own.
DEFAULT_FUNCTION_MB = 512
FUNCTIONS_BY_PATH = {
    "send": ("LaunchCampaignFunction", "SendWorkerFunction"),
    # MessageCountsFunction counts the records' changes from the messages table's stream.
    "delivery": ("DeliveryEventsFunction", "MessageCountsFunction"),
    "inbound": ("InboundFunction",),
}
EVENTS_FUNCTION, COUNTING_FUNCTION = FUNCTIONS_BY_PATH["delivery"]
# Items in each of the counting function's transactions (`CampaignStore.add_counts_once`): the
# batch's marker and the campaign counters' update.
COUNTING_ITEMS = ("the batch's marker", "the counters' update")
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
    """(memory in MB, architecture) of a function, Globals merged in (as SAM expands it)."""
    properties = function_properties(logical_id)
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
class FunctionUsage:
    """What one function of a path did per unit of the path's work."""

    calls: dict[str, float]  # "service Operation" -> calls per unit
    invocations: float  # per unit
    cpu_seconds: float  # per unit
    peak_memory_mb: float | None = None  # its workers' peak resident memory in the run


@dataclass
class PathUsage:
    """What one path did per unit of its work (a message sent, a delivery, a reply)."""

    path: str
    units: float  # messages sent, messages settled, or replies, in the run
    per_message: float  # how many of those units one message sent stands for
    functions: dict[str, FunctionUsage]
    log_bytes: float  # per unit
    log_lines: float  # per unit
    note: str = ""
    # Counted beside the calls, for the lines' explanations (e.g. the counting's batch markers).
    checks: dict[str, float] = field(default_factory=dict)

    def per_million(self, value: float) -> float:
        return value * self.per_message * MILLION

    @property
    def calls(self) -> dict[str, float]:
        """The path's calls per unit, its functions' together."""
        total: dict[str, float] = {}
        for function in self.functions.values():
            for operation, per_unit in function.calls.items():
                total[operation] = total.get(operation, 0.0) + per_unit
        return total

    @property
    def invocations(self) -> dict[str, float]:
        return {name: function.invocations for name, function in self.functions.items()}

    @property
    def cpu_seconds(self) -> float:
        return sum(function.cpu_seconds for function in self.functions.values())


def _log_size(log_dir: Path, functions: Iterable[str]) -> tuple[int, int]:
    size = lines = 0
    for function in functions:
        path = log_dir / f"{function}.log"
        if path.is_file():
            data = path.read_bytes()
            size += len(data)
            lines += data.count(b"\n")
    return size, lines


def campaign_functions(
    figures: Mapping[str, Any], functions: Iterable[str], units: float
) -> dict[str, FunctionUsage]:
    """Each function's calls (carrier sends included), invocations and CPU per unit."""
    ours, recipients = figures["ours"], figures["recipients"]
    found = {}
    for name in functions:
        measured = ours["functions"][name]
        calls = {
            operation: per_1000 * recipients / 1_000 / units
            for operation, per_1000 in measured["calls_by_operation_per_1000"].items()
        }
        if measured.get("carrier_calls"):
            calls["pinpoint-sms-voice-v2 SendTextMessage"] = measured["carrier_calls"] / units
        found[name] = FunctionUsage(
            calls=calls,
            invocations=ours["invocations"].get(name, 0) / units,
            cpu_seconds=measured["cpu_seconds"] / units,
            peak_memory_mb=measured.get("peak_memory_mb"),
        )
    return found


def send_usage(figures: Mapping[str, Any], log_dir: Path) -> PathUsage:
    ours = figures["ours"]
    recipients, sends = figures["recipients"], max(1, ours["sends"])
    size, lines = _log_size(log_dir, FUNCTIONS_BY_PATH["send"])
    return PathUsage(
        path="send",
        units=sends,
        per_message=1.0,
        functions=campaign_functions(figures, FUNCTIONS_BY_PATH["send"], sends),
        log_bytes=size / sends,
        log_lines=lines / sends,
        note=f"{sends:,} messages sent to {recipients:,} recipients",
    )


def delivery_usage(figures: Mapping[str, Any], log_dir: Path) -> PathUsage:
    ours = figures["ours"]
    settled = sum(ours["final_counts"].get(name, 0) for name in ("delivered", "failed", "expired"))
    units = settled if not ours["completed"] else ours["sends"]
    units = max(1, units)
    size, lines = _log_size(log_dir, FUNCTIONS_BY_PATH["delivery"])
    note = (
        f"{units:,} messages settled by their events ({EVENTS_FUNCTION}), and their records'"
        f" changes counted from the table's stream ({COUNTING_FUNCTION})"
    )
    if not ours["completed"]:
        note += (
            f"; {units:,} of {ours['sends']:,} sent when the wait ended: calls per settled"
            " message, an upper bound (the events of messages not yet settled count too)"
        )
    return PathUsage(
        path="delivery",
        units=units,
        per_message=1.0,
        functions=campaign_functions(figures, FUNCTIONS_BY_PATH["delivery"], units),
        log_bytes=size / units,
        log_lines=lines / units,
        note=note,
        checks={"counted_batches": float(ours.get("counted_batches", 0))},
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
        functions={
            "InboundFunction": FunctionUsage(
                calls={
                    operation: per_1000 / 1_000
                    for operation, per_1000 in cached["by_operation_per_1000"].items()
                },
                invocations=cached["invocations"] / count,
                cpu_seconds=cached["cpu_seconds"] / count,
            )
        },
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
    # How long a million messages take to send at the campaign's measured rate, in seconds, and
    # that rate: X-Ray's sampling records a share of each function's invocations per second.
    seconds_per_million: float
    sends_per_second: float
    lines: list[Line] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    # What the reductions are worked out from: record writes and indexes per message.
    facts: dict[str, float] = field(default_factory=dict)
    usages: dict[str, PathUsage] = field(default_factory=dict)

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
        # Operations taken from one function only: the others' calls of them are priced apart.
        taken: set[tuple[str, str]] = set()

        def take(operation: str, function: str | None = None) -> float:
            if function is None:
                done.add(operation)
                return usage.per_million(calls.get(operation, 0.0))
            taken.add((function, operation))
            return usage.per_million(usage.functions[function].calls.get(operation, 0.0))

        if usage.path == "send":
            progress = 1 + len(index_writes(t, "CampaignsTable", {"pk", "sk"}))
            chunk_rru = math.ceil(chunk_bytes() / 4096) * 0.5
            chunks = usage.per_million(1.0) / CHUNK_SIZE
            self.add(
                "DynamoDB",
                f"reads, {name}: suppressions, consents and frequency caps",
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
                take("dynamodb TransactWriteItems") * 1.5 * 2 * progress,
                "dynamodb_wru",
                "TransactWriteItems at 2 WRU an item: before a slice its progress (and the"
                " frequency caps, below), after it its progress and the campaign's counters:"
                " 1.5 items a call",
            )
            # The campaign measured is marketing: each message it sends was counted.
            self.add(
                "DynamoDB",
                f"writes, {name}: frequency caps counted",
                usage.per_million(1.0) * 2,
                "dynamodb_wru",
                "one item (under 1 KB) per marketing message, in the transaction before its"
                " slice: 2 WRU",
            )
        elif usage.path == "delivery":
            record = message_record()
            size = item_bytes(record)
            per_kb = math.ceil(size / 1024)
            carried = index_writes(t, "MessagesTable", record)
            touched = index_writes(t, "MessagesTable", record, changes={"status", "updated_at"})
            create = per_kb * (1 + len(carried))
            advance = per_kb * (1 + len(touched))
            # Every UpdateItem of the events function moves a record: counters are not its own.
            records = take("dynamodb UpdateItem", EVENTS_FUNCTION)
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
            self.counting(usage, take("dynamodb TransactWriteItems", COUNTING_FUNCTION))
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
        for function, measured in usage.functions.items():
            for operation, per_unit in measured.calls.items():
                if (
                    not operation.startswith("dynamodb ")
                    or operation in done
                    or (function, operation) in taken
                ):
                    continue
                writes = any(word in operation for word in ("Put", "Update", "Delete", "Write"))
                self.add(
                    "DynamoDB",
                    f"{'writes' if writes else 'reads'}, {name}: {operation.split()[1]}"
                    + (f" ({function})" if len(usage.functions) > 1 else ""),
                    usage.per_million(per_unit),
                    "dynamodb_wru" if writes else "dynamodb_rru",
                    "not modelled in detail: 1 unit per call",
                )
        return done

    def counting(self, usage: PathUsage, transactions: float) -> None:
        """The campaign counters, written by the counting function from the table's stream."""
        t, name = self.template, PATH_NAMES[usage.path]
        messages = usage.per_million(1.0)
        # Neither the marker nor the counters' item carries an index key of the campaigns table.
        per_item = 2 * (1 + len(index_writes(t, "CampaignsTable", {"pk", "sk", "expires_at"})))
        items = transactions * len(COUNTING_ITEMS)
        calls = transactions / messages * usage.units
        markers = usage.checks.get("counted_batches", 0.0)
        self.add(
            "DynamoDB",
            f"writes, {name}: campaign counters ({COUNTING_FUNCTION})",
            items * per_item,
            "dynamodb_wru",
            f"TransactWriteItems, one per campaign in each batch of the messages table's stream:"
            f" {transactions / messages * 1_000:.1f} per 1,000 messages measured ({calls:,.0f}"
            f" calls, {markers:,.0f} batch markers written), each of {len(COUNTING_ITEMS)} items"
            f" ({' and '.join(COUNTING_ITEMS)}, under 1 KB) at {per_item} WRU an item:"
            f" {items / messages * 1_000:.1f} items per 1,000 messages (the local stream has one"
            " shard; in AWS each shard of a busy table is batched apart). The stream's reads"
            " cost nothing: GetRecords calls made by Lambda's event source mapping are free"
            f" ({DYNAMODB_PRICING}, {STREAMS_LAMBDA_FREE})",
            key="counting",
        )

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
        for function, measured in usage.functions.items():
            self.add(
                "Lambda",
                f"requests, {_part(usage, function)}",
                usage.per_million(measured.invocations),
                "lambda_request",
                "invocations counted",
                key=f"requests-{function}",
            )
        self.traces(usage)

    def traces(self, usage: PathUsage) -> None:
        """Traces X-Ray's default sampling rule records, function by function."""
        seconds = self.seconds_per_million
        recorded, told = 0.0, []
        for function, measured in usage.functions.items():
            invocations = usage.per_million(measured.invocations)
            first = min(invocations, seconds * XRAY_RESERVOIR_PER_SECOND)
            traces = first + XRAY_FIXED_RATE * (invocations - first)
            recorded += traces
            told.append(f"{function} {invocations:,.0f} invocations, {traces:,.0f} traced")
        self.add(
            "X-Ray",
            f"traces, {PATH_NAMES[usage.path]}",
            recorded,
            "xray_trace",
            "X-Ray's default sampling rule, each function for itself: the first invocation"
            f" each second, then {XRAY_FIXED_RATE:.0%} of the rest ({XRAY_DEFAULT_SAMPLING});"
            " invocations assumed spread evenly over a million messages' sending time at this"
            f" campaign's measured rate ({seconds:,.0f} s at {self.sends_per_second:.0f} sends"
            f" a second): {'; '.join(told)}",
            key="traces",
        )

    def duration(self, measured: FunctionUsage, memory: int) -> tuple[float, float, float]:
        """(billed seconds, CPU seconds, wait seconds) per unit at `memory` MB: the CPU measured
        here, stretched by Lambda's CPU share at that memory, plus the assumed call waits."""
        wait = sum(
            per_unit * CALL_WAIT_MS.get(operation.split(" ", 1)[0], DEFAULT_WAIT_MS) / 1_000
            for operation, per_unit in measured.calls.items()
        )
        cpu = measured.cpu_seconds * max(1.0, MB_PER_VCPU / memory)
        return cpu + wait, cpu, wait

    def compute(self, usage: PathUsage) -> None:
        self.usages[usage.path] = usage
        for function, measured in usage.functions.items():
            memory, architecture = function_settings(self.template, function)
            seconds, cpu, wait = self.duration(measured, memory)
            self.add(
                "Lambda",
                f"duration, {_part(usage, function)} ({memory} MB, {architecture})",
                usage.per_million(seconds) * memory / 1024,
                f"lambda_{architecture.replace('-', '_')}",
                f"estimated, not measured: CPU measured here {measured.cpu_seconds * 1e3:.2f} ms"
                f" a unit x {MB_PER_VCPU}/{memory} (CPU share at {memory} MB) ="
                f" {cpu * 1e3:.2f} ms, plus {_ms(wait)} ms of assumed waits on AWS calls",
                key=f"duration-{function}",
            )
            self.facts[f"wait-share-{function}"] = wait / seconds if seconds else 0.0

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


def _ms(seconds: float) -> str:
    """Milliseconds to one decimal, or to two significant digits below one."""
    value = seconds * 1e3
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def _part(usage: PathUsage, function: str) -> str:
    """The path's name, and the function's where the path has several."""
    name = PATH_NAMES[usage.path]
    return f"{name}: {function}" if len(usage.functions) > 1 else name


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
    ours = campaign_figures["ours"]
    rate = max(1e-9, ours["sends_per_second"])
    model = Model(template, seconds_per_million=MILLION / rate, sends_per_second=rate)
    for usage in paths:
        done = model.dynamodb(usage)
        model.services(usage, done)
        model.plumbing(usage)
        model.compute(usage)
        model.logs(usage)
    total = sum(line.usd for line in model.lines)
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
    worker = "SendWorkerFunction"
    if keyed.get(f"duration-{worker}"):
        found.append(_smaller_send_worker(model, keyed[f"duration-{worker}"]))
    return found


def _smaller_send_worker(model: Model, now_usd: float) -> str:
    """The send worker's duration at its memory and at the other of SMALLER_SEND_WORKER_MB and
    the functions' default, by the same model as its line."""
    worker = "SendWorkerFunction"
    usage = model.usages["send"]
    measured = usage.functions[worker]
    memory, architecture = function_settings(model.template, worker)
    other = DEFAULT_FUNCTION_MB if memory <= SMALLER_SEND_WORKER_MB else SMALLER_SEND_WORKER_MB
    _, cpu_now, wait = model.duration(measured, memory)
    seconds, cpu, _ = model.duration(measured, other)
    price = PRICES[f"lambda_{architecture.replace('-', '_')}"]
    other_usd = price.cost(usage.per_million(seconds) * other / 1024)
    peak = (
        f" Its local workers peaked at {measured.peak_memory_mb:.0f} MB resident"
        f" ({'under' if measured.peak_memory_mb < min(memory, other) else 'NOT under'}"
        f" {min(memory, other)} MB; Lambda's Max Memory Used would confirm it)."
        if measured.peak_memory_mb
        else ""
    )
    return (
        f"The send worker's duration (${now_usd:.2f} at {memory} MB) is"
        f" {model.facts.get(f'wait-share-{worker}', 0.0):.0%} waiting on calls, mostly the"
        " carrier, and that part of the bill is proportional to the function's memory. At"
        f" {other} MB the same model gives ${other_usd:.2f}: Lambda's CPU share is"
        f" {other}/{MB_PER_VCPU} of a vCPU there, so its CPU part goes from"
        f" {cpu_now * 1e3:.2f} to {cpu * 1e3:.2f} ms a message while the {wait * 1e3:.1f} ms"
        f" of waits stay as they are.{peak} Sending in parallel inside a worker would cut the"
        " waiting itself."
    )


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
