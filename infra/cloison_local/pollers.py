"""Event sources of the local stack: SQS and DynamoDB stream event source mappings, and
EventBridge Scheduler."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from cloison_local.model import Invoker, JsonDict, SqsSource, StreamSource
from cloison_local.runtime import FunctionError

log = logging.getLogger("cloison_local.pollers")


def sqs_event(messages: list[JsonDict], source: SqsSource, region: str) -> JsonDict:
    """The event Lambda's SQS event source mapping hands to the function."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    key: attributes[key]
                    for key in (
                        "ApproximateReceiveCount",
                        "SentTimestamp",
                        "SenderId",
                        "ApproximateFirstReceiveTimestamp",
                        "MessageGroupId",
                        "MessageDeduplicationId",
                    )
                    if key in attributes
                },
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        # Lambda hands binary attributes over base64-encoded, as JSON must.
                        "binaryValue": (
                            base64.b64encode(value["BinaryValue"]).decode()
                            if "BinaryValue" in value
                            else None
                        ),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": source.queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


class SqsPoller:
    """One event source mapping: long-polls the queue and invokes the function with batches.

    As Lambda does: messages the function reports in `batchItemFailures` (or every message of a
    batch whose invocation failed) are left on the queue, to come back after the visibility
    timeout and end in the dead-letter queue after `maxReceiveCount` receives.
    """

    def __init__(
        self,
        source: SqsSource,
        sqs: Any,
        invoke: Invoker,
        region: str,
        retry_after_seconds: int | None = None,
    ) -> None:
        self.source = source
        self.sqs = sqs
        self.invoke = invoke
        self.region = region
        self.retry_after_seconds = retry_after_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        for number in range(self.source.maximum_concurrency or 1):
            thread = threading.Thread(
                target=self._run, name=f"sqs-{self.source.function}-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._busy > 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive()
                if messages:
                    with self._lock:
                        self._busy += 1
                    try:
                        self._deliver(messages)
                    finally:
                        with self._lock:
                            self._busy -= 1
            except Exception:
                if not self._stop.is_set():
                    log.exception("poller of %s failed; retrying", self.source.function)
                    time.sleep(1)

    def _receive(self) -> list[JsonDict]:
        messages: list[JsonDict] = []
        deadline = time.monotonic() + self.source.batching_window_seconds
        while len(messages) < self.source.batch_size and not self._stop.is_set():
            wanted = min(10, self.source.batch_size - len(messages))
            answer = self.sqs.receive_message(
                QueueUrl=self.source.queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=0 if messages else 1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = answer.get("Messages", [])
            messages.extend(received)
            if not received or time.monotonic() >= deadline:
                break
        return messages

    def _deliver(self, messages: list[JsonDict]) -> None:
        event = sqs_event(messages, self.source, self.region)
        try:
            result = self.invoke(self.source.function, event)
        except FunctionError as error:
            log.warning(
                "%s failed on a batch of %d: %s",
                self.source.function,
                len(messages),
                error,
            )
            self._release(messages)
            return
        failed: set[str] = set()
        if self.source.report_batch_item_failures and isinstance(result, dict):
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done[start : start + 10])
                ],
            )
        self._release([message for message in messages if message["MessageId"] in failed])

    def _release(self, messages: list[JsonDict]) -> None:
        """Failed messages come back after the queue's visibility timeout, or sooner if asked."""
        if self.retry_after_seconds is None:
            return
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=self.source.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self.retry_after_seconds,
            )


class StreamPoller:
    """One DynamoDB stream event source mapping, run as Lambda runs it.

    Each shard is read in order, one batch at a time (up to `batch_size` records, gathered for
    at most the batching window). A batch whose invocation fails is retried whole, the same
    records again, until it succeeds or has failed `maximum_retry_attempts` times after its
    first attempt (-1: never given up); a batch given up is described in the on-failure queue
    (shard and sequence numbers, as Lambda's on-failure record does) and the shard goes on.
    """

    POLL_SECONDS = 0.25

    def __init__(
        self,
        source: StreamSource,
        streams: Any,
        sqs: Any,
        invoke: Invoker,
        region: str,
        retry_after_seconds: float = 1.0,
    ) -> None:
        self.source = source
        self.streams = streams
        self.sqs = sqs
        self.invoke = invoke
        self.region = region
        self.retry_after_seconds = retry_after_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = False

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"stream-{self.source.function}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def busy(self) -> bool:
        return self._busy

    def _run(self) -> None:
        iterators: dict[str, str] = {}
        while not self._stop.is_set():
            try:
                for shard in self._shards():
                    if shard not in iterators:
                        iterators[shard] = self.streams.get_shard_iterator(
                            StreamArn=self.source.stream_arn,
                            ShardId=shard,
                            ShardIteratorType="TRIM_HORIZON",
                        )["ShardIterator"]
                worked = False
                for shard in list(iterators):
                    records, iterators[shard] = self._collect(iterators[shard])
                    if records:
                        worked = True
                        try:
                            self._deliver(shard, records)
                        finally:
                            self._busy = False
                if not worked:
                    self._stop.wait(self.POLL_SECONDS)
            except Exception:
                self._busy = False
                if not self._stop.is_set():
                    log.exception("stream poller of %s failed; retrying", self.source.function)
                    time.sleep(1)

    def _shards(self) -> list[str]:
        description = self.streams.describe_stream(StreamArn=self.source.stream_arn)
        return [shard["ShardId"] for shard in description["StreamDescription"]["Shards"]]

    def _collect(self, iterator: str) -> tuple[list[JsonDict], str]:
        records: list[JsonDict] = []
        deadline = time.monotonic() + self.source.batching_window_seconds
        while len(records) < self.source.batch_size and not self._stop.is_set():
            answer = self.streams.get_records(
                ShardIterator=iterator, Limit=self.source.batch_size - len(records)
            )
            iterator = answer["NextShardIterator"]
            records.extend(answer["Records"])
            if records:
                self._busy = True
            if not records or time.monotonic() >= deadline:
                break
            self._stop.wait(min(self.POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        return records, iterator

    def _deliver(self, shard: str, records: list[JsonDict]) -> None:
        event = {
            "Records": [
                {**record, "eventSourceARN": self.source.stream_arn, "awsRegion": self.region}
                for record in records
            ]
        }
        failures = 0
        while not self._stop.is_set():
            try:
                self.invoke(self.source.function, event)
                return
            except FunctionError as error:
                failures += 1
                log.warning(
                    "%s failed on a stream batch of %d (%d times): %s",
                    self.source.function,
                    len(records),
                    failures,
                    error,
                )
            if 0 <= self.source.maximum_retry_attempts < failures:
                self._give_up(shard, records, failures)
                return
            self._stop.wait(self.retry_after_seconds)

    def _give_up(self, shard: str, records: list[JsonDict], attempts: int) -> None:
        if self.source.on_failure_queue_url is None:
            return
        now = datetime.now(UTC).isoformat()
        self.sqs.send_message(
            QueueUrl=self.source.on_failure_queue_url,
            MessageBody=json.dumps(
                {
                    "requestContext": {
                        "requestId": str(uuid.uuid4()),
                        "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": attempts,
                    },
                    "version": "1.0",
                    "timestamp": now,
                    "DDBStreamBatchInfo": {
                        "shardId": shard,
                        "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                        "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                        "batchSize": len(records),
                        "streamArn": self.source.stream_arn,
                    },
                }
            ),
        )


def next_fire_time(
    expression: str, timezone: str, after: datetime, start: datetime
) -> datetime | None:
    """When an EventBridge Scheduler expression next fires strictly after `after` (UTC)."""
    zone = ZoneInfo(timezone or "UTC")
    kind, _, body = expression.partition("(")
    body = body.rstrip(")").strip()
    if kind == "at":
        at = datetime.fromisoformat(body).replace(tzinfo=zone).astimezone(UTC)
        return at if at > after else None
    if kind == "rate":
        amount, unit = body.split()
        step = timedelta(**{_rate_unit(unit): int(amount)})
        elapsed = max(timedelta(0), after - start)
        return start + step * (elapsed // step + 1)
    if kind == "cron":
        minute, hour, day, month, weekday, year = body.split()
        if year not in ("*", "?"):
            raise ValueError(f"cron year field {year!r} is not supported locally")
        # AWS numbers weekdays 1-7 from Sunday; cron 0-6 from Sunday. '?' means any.
        weekday = "*" if weekday == "?" else _shift_weekdays(weekday)
        day = "*" if day == "?" else day
        local_after = after.astimezone(zone)
        following: datetime = croniter(
            f"{minute} {hour} {day} {month} {weekday}", local_after
        ).get_next(datetime)
        return following.astimezone(UTC)
    raise ValueError(f"unknown schedule expression {expression!r}")


def _rate_unit(unit: str) -> str:
    return {
        "minute": "minutes",
        "minutes": "minutes",
        "hour": "hours",
        "hours": "hours",
        "day": "days",
        "days": "days",
    }[unit]


def _shift_weekdays(field: str) -> str:
    names = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
    out = []
    for char_group in field.replace("-", " - ").replace(",", " , ").split():
        if char_group.isdigit():
            out.append(str(int(char_group) - 1))
        elif char_group.upper() in names:
            out.append(str(names.index(char_group.upper())))
        else:
            out.append(char_group)
    return "".join(out)


def render_input(
    text: str, *, schedule_arn: str, scheduled_time: datetime, execution_id: str, attempt: int = 1
) -> str:
    """A target's Input as EventBridge Scheduler delivers it: its context attributes replaced."""
    values = {
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.scheduled-time>": f"{scheduled_time.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "<aws.scheduler.execution-id>": execution_id,
        "<aws.scheduler.attempt-number>": str(attempt),
    }
    for keyword, value in values.items():
        text = text.replace(keyword, value)
    return text


class Scheduler:
    """Fires the schedules stored in moto's EventBridge Scheduler into their targets.

    Targets are a function of the stack (invoked with the schedule's Input as its event) or an
    SQS queue (sent the Input as the message body), with the context attributes in the Input
    replaced as AWS does (`<aws.scheduler.scheduled-time>` is the firing's scheduled time, not
    the moment it was noticed). A failed delivery goes to the schedule's dead-letter queue.
    One-time `at()` schedules with ActionAfterCompletion DELETE are deleted. A clock moved past
    several firings of a schedule fires it once, for the first of them.
    """

    def __init__(
        self,
        scheduler: Any,
        sqs: Any,
        invoke_arn: Callable[[str, JsonDict], Any],
        queue_url_by_arn: Callable[[str], str | None],
        now: Callable[[], datetime],
        interval_seconds: float = 1.0,
    ) -> None:
        self.scheduler = scheduler
        self.sqs = sqs
        self.invoke_arn = invoke_arn
        self.queue_url_by_arn = queue_url_by_arn
        self.now = now
        self.interval_seconds = interval_seconds
        self._last_fired: dict[str, datetime] = {}
        self._seen_at: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self.fired = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")

    def tick(self) -> int:
        """Fires every schedule that is due now; returns how many fired."""
        now = self.now()
        fired = 0
        for summary in self._schedules():
            detail = self.scheduler.get_schedule(
                Name=summary["Name"], GroupName=summary["GroupName"]
            )
            if detail.get("State", "ENABLED") != "ENABLED":
                continue
            arn = detail["Arn"]
            seen = self._seen_at.setdefault(arn, now)
            start = detail.get("StartDate") or seen
            last = self._last_fired.get(
                arn,
                seen
                if not detail["ScheduleExpression"].startswith("at(")
                else datetime(1970, 1, 1, tzinfo=UTC),
            )
            due = next_fire_time(
                detail["ScheduleExpression"],
                detail.get("ScheduleExpressionTimezone", "UTC"),
                last,
                start,
            )
            if due is None or due > now:
                continue
            self._last_fired[arn] = now
            self._fire(detail, due)
            fired += 1
            if (
                detail["ScheduleExpression"].startswith("at(")
                and detail.get("ActionAfterCompletion") == "DELETE"
            ):
                self.scheduler.delete_schedule(Name=detail["Name"], GroupName=detail["GroupName"])
        self.fired += fired
        return fired

    def _schedules(self) -> list[JsonDict]:
        schedules: list[JsonDict] = []
        arguments: JsonDict = {}
        while True:
            page = self.scheduler.list_schedules(**arguments)
            schedules.extend(page.get("Schedules", []))
            if not page.get("NextToken"):
                return schedules
            arguments["NextToken"] = page["NextToken"]

    def _fire(self, detail: JsonDict, scheduled_time: datetime) -> None:
        target = detail["Target"]
        payload = render_input(
            target.get("Input", "{}"),
            schedule_arn=detail["Arn"],
            scheduled_time=scheduled_time,
            execution_id=uuid.uuid4().hex[:16],
        )
        try:
            queue_url = self.queue_url_by_arn(target["Arn"])
            if queue_url is not None:
                self.sqs.send_message(QueueUrl=queue_url, MessageBody=payload)
            else:
                self.invoke_arn(target["Arn"], json.loads(payload))
        except Exception as exc:
            log.warning(
                "schedule %s failed to reach its target: %s", detail["Name"], type(exc).__name__
            )
            dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
            dead_letter_url = self.queue_url_by_arn(dead_letter) if dead_letter else None
            if dead_letter_url:
                self.sqs.send_message(
                    QueueUrl=dead_letter_url,
                    MessageBody=payload,
                    MessageAttributes={
                        "X-Amz-Scheduler-Schedule": {
                            "DataType": "String",
                            "StringValue": detail["Arn"],
                        },
                        "X-Amz-Scheduler-Attempt": {
                            "DataType": "String",
                            "StringValue": str(uuid.uuid4()),
                        },
                    },
                )
