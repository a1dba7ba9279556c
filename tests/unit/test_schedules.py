"""EventBridge Scheduler expressions as the local stack fires them, and the SQS event it builds."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison_local.model import SqsSource
from cloison_local.pollers import next_fire_time, sqs_event

PARIS = ZoneInfo("Europe/Paris")
REGION = "eu-west-3"
ACCOUNT = "123456789012"
START = datetime(2026, 1, 1, tzinfo=UTC)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------- at()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("at(2026-01-15T09:00:00)", _utc(2026, 1, 15, 8)),  # winter: UTC+1
        ("at(2026-03-28T10:00:00)", _utc(2026, 3, 28, 9)),  # the day before summer time
        ("at(2026-03-29T10:00:00)", _utc(2026, 3, 29, 8)),  # summer time began at 02:00
        ("at(2026-10-25T10:00:00)", _utc(2026, 10, 25, 9)),  # winter time began at 03:00
    ],
    ids=["winter", "eve-of-dst", "dst-day", "end-of-dst-day"],
)
def test_at_is_read_in_the_schedule_time_zone(expression: str, expected: datetime) -> None:
    # Given a one-time schedule in Paris time, not yet due
    after = _utc(2026, 1, 1)

    # When its fire time is computed
    fire = next_fire_time(expression, "Europe/Paris", after, START)

    # Then it is the Paris wall-clock time, in UTC
    assert fire == expected


def test_at_in_the_past_never_fires_again() -> None:
    # Given a one-time schedule whose time has passed
    after = _utc(2026, 3, 29, 8)

    # When its next fire time is computed
    fire = next_fire_time("at(2026-03-29T10:00:00)", "Europe/Paris", after, START)

    # Then there is none
    assert fire is None


# ---------------------------------------------------------------- rate()


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (timedelta(0), timedelta(minutes=5)),
        (timedelta(minutes=7), timedelta(minutes=10)),
        (timedelta(minutes=10), timedelta(minutes=15)),
        (timedelta(hours=1, seconds=1), timedelta(hours=1, minutes=5)),
    ],
    ids=["at-start", "between-ticks", "on-a-tick", "an-hour-later"],
)
def test_rate_fires_every_period_from_its_start(after: timedelta, expected: timedelta) -> None:
    # Given a five-minute rate schedule that started at START
    expression = "rate(5 minutes)"

    # When the next fire time after some moment is computed
    fire = next_fire_time(expression, "UTC", START + after, START)

    # Then it is the next whole period from the start, strictly later
    assert fire == START + expected


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
    ],
)
def test_rate_understands_each_unit(expression: str, period: timedelta) -> None:
    # Given a rate schedule that started at START
    # When the first fire time is computed
    fire = next_fire_time(expression, "UTC", START, START)

    # Then it is one period after the start
    assert fire == START + period


# ---------------------------------------------------------------- cron()


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (_utc(2026, 1, 16, 12), _utc(2026, 1, 19, 9)),  # Friday afternoon -> Monday, winter
        (_utc(2026, 3, 27, 12), _utc(2026, 3, 30, 8)),  # over the DST weekend -> Monday, summer
        (_utc(2026, 3, 30, 7, 59), _utc(2026, 3, 30, 8)),  # Monday, a minute before
        (_utc(2026, 3, 30, 8), _utc(2026, 3, 31, 8)),  # Monday, on the dot -> Tuesday
    ],
    ids=["winter-weekend", "dst-weekend", "minute-before", "on-the-dot"],
)
def test_weekday_cron_fires_at_ten_paris_time(after: datetime, expected: datetime) -> None:
    # Given a schedule at 10:00 on working days, Paris time
    expression = "cron(0 10 ? * MON-FRI *)"

    # When the next fire time is computed
    fire = next_fire_time(expression, "Europe/Paris", after, START)

    # Then it is the next working day at 10:00 in Paris, whatever the UTC offset
    assert fire == expected


@pytest.mark.parametrize(
    ("aws_weekday", "iso_weekday"),
    [(1, 7), (2, 1), (3, 2), (4, 3), (5, 4), (6, 5), (7, 6)],
    ids=["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
)
def test_cron_numbers_weekdays_from_sunday(aws_weekday: int, iso_weekday: int) -> None:
    # Given a weekly schedule with an AWS weekday number (1 is Sunday)
    expression = f"cron(0 8 ? * {aws_weekday} *)"

    # When the next fire time is computed
    fire = next_fire_time(expression, "Europe/Paris", _utc(2026, 1, 14, 12), START)

    # Then it falls on that weekday at 08:00 in Paris
    assert fire is not None
    local = fire.astimezone(PARIS)
    assert local.isoweekday() == iso_weekday
    assert (local.hour, local.minute) == (8, 0)


def test_cron_with_a_year_is_refused_locally() -> None:
    # Given a cron expression limited to a year
    expression = "cron(0 10 ? * MON-FRI 2027)"

    # When its fire time is computed
    # Then the local stack says it cannot run it
    with pytest.raises(ValueError, match="year"):
        next_fire_time(expression, "Europe/Paris", START, START)


def test_an_unknown_expression_is_refused() -> None:
    # Given an expression that is none of at, rate and cron
    # When its fire time is computed
    # Then it is refused
    with pytest.raises(ValueError, match="unknown schedule expression"):
        next_fire_time("every(5 minutes)", "UTC", START, START)


EXPRESSIONS = [
    "cron(0 10 ? * MON-FRI *)",
    "cron(0 8 ? * 2 *)",
    "cron(30 2 * * ? *)",  # 02:30 does not exist once a year in Paris, and happens twice once
    "cron(*/7 * * * ? *)",
    "cron(0 0 1 * ? *)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(3 days)",
    "at(2026-03-29T02:30:00)",  # a wall-clock time that does not exist in Paris
    "at(2026-10-25T02:30:00)",  # a wall-clock time that happens twice in Paris
]
MOMENTS = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(
    expression=st.sampled_from(EXPRESSIONS),
    zone=st.sampled_from(["Europe/Paris", "America/Guadeloupe", "Indian/Reunion", "UTC"]),
    after=MOMENTS,
    start=MOMENTS,
)
def test_next_fire_time_is_strictly_after(
    expression: str, zone: str, after: datetime, start: datetime
) -> None:
    # Given any schedule, any moment and any start
    # When the next fire time is computed
    fire = next_fire_time(expression, zone, after, start)

    # Then it is strictly later, so a schedule never fires twice for one tick; only a one-time
    # schedule whose time has passed has none
    if fire is None:
        assert expression.startswith("at(")
    else:
        assert fire > after


@settings(max_examples=200, deadline=None)
@given(after=MOMENTS)
def test_weekday_cron_never_fires_on_a_weekend(after: datetime) -> None:
    # Given a schedule at 10:00 on working days, Paris time, and any moment
    # When the next fire time is computed
    fire = next_fire_time("cron(0 10 ? * MON-FRI *)", "Europe/Paris", after, START)

    # Then it is a working day at 10:00 in Paris, within the next four days
    assert fire is not None
    local = fire.astimezone(PARIS)
    assert local.isoweekday() <= 5
    assert (local.hour, local.minute) == (10, 0)
    assert fire - after <= timedelta(days=4)


# ---------------------------------------------------------------- SQS event


def _source() -> SqsSource:
    name = f"send-{uuid.uuid4().hex[:8]}"
    return SqsSource(
        function="SendWorkerFunction",
        queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
        queue_url=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
    )


def _received(body: str) -> dict[str, Any]:
    """A message as ReceiveMessage returns it, with all attributes asked for."""
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": f"handle-{uuid.uuid4().hex}",
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767225600000",
            "SenderId": "AIDAEXAMPLESENDER",
            "ApproximateFirstReceiveTimestamp": "1767225600050",
        },
        "MessageAttributes": {
            "campaign": {"StringValue": f"c-{uuid.uuid4().hex[:8]}", "DataType": "String"},
        },
    }


def test_sqs_event_has_the_shape_lambda_gives() -> None:
    # Given a message received from the queue of an event source
    source = _source()
    message = _received('{"campaign_id": "c-1", "team": "sales", "chunk": 0}')

    # When it is turned into the function's event
    event = sqs_event([message], source, REGION)

    # Then the record carries every field Lambda's SQS event has
    (record,) = event["Records"]
    assert record["messageId"] == message["MessageId"]
    assert record["receiptHandle"] == message["ReceiptHandle"]
    assert record["body"] == message["Body"]
    assert record["attributes"] == message["Attributes"]
    assert record["messageAttributes"] == {
        "campaign": {
            "stringValue": message["MessageAttributes"]["campaign"]["StringValue"],
            "binaryValue": None,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert record["md5OfBody"] == message["MD5OfBody"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == source.queue_arn
    assert record["awsRegion"] == REGION


def test_sqs_event_parses_with_powertools_sqs_model() -> None:
    # Given two messages received in one batch
    source = _source()
    messages = [_received("first"), _received("second")]

    # When they are turned into the function's event and parsed as Powertools parses SQS events
    parsed = SqsModel.model_validate(sqs_event(messages, source, REGION))

    # Then both records are there, in order
    assert [record.body for record in parsed.Records] == ["first", "second"]
    assert [record.messageId for record in parsed.Records] == [m["MessageId"] for m in messages]


def test_sqs_event_leaves_out_attributes_sqs_did_not_return() -> None:
    # Given a message received with attributes the event does not carry, and without others
    message = _received("body")
    message["Attributes"] = {"ApproximateReceiveCount": "3", "Policy": "not-an-sqs-record-field"}
    message.pop("MessageAttributes")

    # When it is turned into the function's event
    (record,) = sqs_event([message], _source(), REGION)["Records"]

    # Then only record attributes are kept, and no message attribute is invented
    assert record["attributes"] == {"ApproximateReceiveCount": "3"}
    assert record["messageAttributes"] == {}


def test_sqs_event_encodes_binary_attributes_in_base64() -> None:
    # Given a message with a binary attribute, as boto3 returns it
    message = _received("body")
    message["MessageAttributes"] = {"blob": {"BinaryValue": b"\x00\xff", "DataType": "Binary"}}

    # When it is turned into the function's event
    (record,) = sqs_event([message], _source(), REGION)["Records"]

    # Then the value is base64 text, as in Lambda's JSON event
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AP8="
