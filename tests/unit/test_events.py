"""The sample events in events/ are the shapes the handlers parse (and `sam local invoke` can use)."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import BaseModel

from cloison.models.events import (
    ChunkRef,
    DeliveryEvent,
    InboundSms,
    LaunchRequest,
    MalformedPayload,
    inbound_from_queue,
    parse_payload,
)
from cloison.services.access import caller_from_claims
from cloison.services.delivery_events import status_of

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("sqs/launch_request.json", LaunchRequest),
        ("sqs/send_chunk.json", ChunkRef),
        ("sqs/delivery_delivered.json", DeliveryEvent),
        ("sqs/delivery_carrier_unreachable.json", DeliveryEvent),
    ],
)
def test_each_sqs_sample_parses_into_its_model(name: str, model: type[BaseModel]) -> None:
    # Given a sample SQS event as Lambda delivers it
    event = json.loads((EVENTS / name).read_text())
    # When each record's body is parsed as the handler does
    parsed = [model.model_validate_json(record["body"]) for record in event["Records"]]
    # Then it parses, and it came from the queue the handler reads
    assert len(parsed) == 1
    assert event["Records"][0]["eventSource"] == "aws:sqs"


@pytest.mark.parametrize("name", ["inbound_stop", "inbound_reply", "inbound_help"])
def test_each_reply_sample_is_an_sns_notification_dated_by_sns(name: str) -> None:
    # Given a sample reply as the inbound queue delivers it: SNS's envelope (no raw delivery)
    record = json.loads((EVENTS / f"sqs/{name}.json").read_text())["Records"][0]
    # When it is read as the inbound function reads it
    sms = inbound_from_queue(record["body"])
    # Then it is the payload, dated by the notification, not by the queue
    assert isinstance(sms, InboundSms)
    assert sms.said_at is not None
    stamped = json.loads(record["body"])["Timestamp"]
    assert sms.said_at == datetime.fromisoformat(stamped)
    assert sms.said_at.timestamp() * 1000 < int(record["attributes"]["SentTimestamp"])


def test_delivery_samples_mean_delivered_and_failed() -> None:
    delivered = json.loads((EVENTS / "sqs/delivery_delivered.json").read_text())["Records"][0][
        "body"
    ]
    failed = json.loads((EVENTS / "sqs/delivery_carrier_unreachable.json").read_text())["Records"][
        0
    ]["body"]
    assert status_of(DeliveryEvent.model_validate_json(delivered).event_type) == "delivered"
    assert status_of(DeliveryEvent.model_validate_json(failed).event_type) == "failed"


def test_the_api_sample_carries_claims_as_api_gateway_renders_them() -> None:
    event = json.loads((EVENTS / "api/create_campaign.json").read_text())
    caller = caller_from_claims(event["requestContext"]["authorizer"]["claims"])
    assert caller.teams == frozenset({"sales"})
    assert caller.roles == frozenset({"member"})


def test_a_malformed_payload_names_the_field_but_never_echoes_the_number() -> None:
    # Given a reply whose sender number is absurdly long
    body = json.dumps(
        {
            "originationNumber": "+3361234567812345678901234567890123",
            "destinationNumber": "36111",
            "messageBody": "STOP",
            "inboundMessageId": "m-1",
        }
    )
    # When it is parsed as the inbound handler parses it
    with pytest.raises(MalformedPayload) as error:
        parse_payload(InboundSms, body)
    # Then the error names the field, and holds no digit of the number
    assert "originationNumber" in str(error.value)
    assert "612345678" not in str(error.value)
