"""The carrier simulator answers a real boto3 pinpoint-sms-voice-v2 client and publishes to moto."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from cloison_local.carrier import CarrierSimulator, UnknownChannelError, message_parts

if TYPE_CHECKING:
    from mypy_boto3_pinpoint_sms_voice_v2 import PinpointSMSVoiceV2Client
    from mypy_boto3_sqs import SQSClient

pytestmark = pytest.mark.integration

REGION = "eu-west-3"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
# phonenumbers' example French mobile and neighbours of it, all valid numbers.
PERSON = "+33612345678"
OTHER_PERSON = "+33612345679"
SHORT_CODE = "36111"
FAST_DELIVERY_SECONDS = 0.02


@dataclass(frozen=True)
class Subscriber:
    """An SNS topic with an SQS queue subscribed to it in raw delivery."""

    topic_arn: str
    queue_url: str


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAKE_AWS_ENV.items():
            env.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2"):
            env.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def carrier(moto_endpoint: str) -> Iterator[CarrierSimulator]:
    simulator = CarrierSimulator(
        moto_endpoint, REGION, delivery_delay_seconds=FAST_DELIVERY_SECONDS
    )
    # The account's short code, as AWS gives it: on the Default opt-out list, in no pool.
    simulator.register_phone_number(SHORT_CODE)
    simulator.start()
    yield simulator
    simulator.stop()


def sms_client(carrier: CarrierSimulator, max_attempts: int = 3) -> PinpointSMSVoiceV2Client:
    return boto3.client(
        "pinpoint-sms-voice-v2",
        endpoint_url=carrier.endpoint_url,
        region_name=REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts}),
    )


@pytest.fixture
def sms(carrier: CarrierSimulator) -> PinpointSMSVoiceV2Client:
    return sms_client(carrier)


@pytest.fixture
def sqs(moto_endpoint: str) -> SQSClient:
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def new_subscriber(moto_endpoint: str, sqs: SQSClient) -> Callable[[], Subscriber]:
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name=REGION)

    def make() -> Subscriber:
        name = f"carrier-{uuid.uuid4().hex[:12]}"
        topic_arn = sns.create_topic(Name=name)["TopicArn"]
        queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        return Subscriber(topic_arn, queue_url)

    return make


def received(carrier: CarrierSimulator, sqs: SQSClient, subscriber: Subscriber) -> list[Any]:
    """Everything published so far to the subscriber's topic, oldest event first."""
    assert carrier.wait_idle(timeout=5)
    bodies: list[Any] = []
    while True:
        answer = sqs.receive_message(QueueUrl=subscriber.queue_url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            break
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=subscriber.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
    return sorted(bodies, key=lambda body: body.get("eventTimestamp", 0))


def error_fields(error: ClientError) -> dict[str, Any]:
    """The parsed error, modeled members (Reason, Fields, ResourceType...) included."""
    return cast("dict[str, Any]", error.response)


def configuration_set_to(carrier: CarrierSimulator, subscriber: Subscriber) -> str:
    name = f"cs-{uuid.uuid4().hex[:8]}"
    carrier.register_configuration_set(
        name,
        [{"name": "events", "topic_arn": subscriber.topic_arn, "matching_event_types": ["ALL"]}],
    )
    return name


def opt_out_list(carrier: CarrierSimulator) -> str:
    name = f"optout-{uuid.uuid4().hex[:8]}"
    carrier.register_opt_out_list(name)
    return name


# -- sending and delivery events ----------------------------------------------------------


def test_a_send_is_recorded_and_answered_with_a_message_id(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given a running simulator
    # When a message is sent through the real boto3 client
    answer = sms.send_text_message(
        DestinationPhoneNumber=PERSON,
        OriginationIdentity=SHORT_CODE,
        MessageBody="Votre code : 1234",
        MessageType="TRANSACTIONAL",
        Context={"campaign": "c-1"},
        TimeToLive=3600,
    )
    # Then the id is a UUID and the simulator recorded what the carrier would have sent
    [sent] = carrier.sent_messages()
    assert uuid.UUID(answer["MessageId"])
    assert sent.message_id == answer["MessageId"]
    assert (sent.destination, sent.origination, sent.body) == (
        PERSON,
        SHORT_CODE,
        "Votre code : 1234",
    )
    assert sent.context == {"campaign": "c-1"}
    assert sent.configuration_set is None
    assert carrier.call_counts() == {"SendTextMessage": 1}


def test_delivery_events_have_the_service_shape_and_echo_the_context(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given a configuration set whose destination takes every event
    subscriber = new_subscriber()
    configuration_set = configuration_set_to(carrier, subscriber)
    # When a message is sent with that configuration set and a context
    message_id = sms.send_text_message(
        DestinationPhoneNumber=PERSON,
        OriginationIdentity=SHORT_CODE,
        MessageBody="Soldes -20% ce week-end. STOP 36111",
        MessageType="PROMOTIONAL",
        ConfigurationSetName=configuration_set,
        Context={"campaign": "c-123", "team": "sales"},
    )["MessageId"]
    # Then TEXT_SUCCESSFUL then the final TEXT_DELIVERED arrive, in the documented shape
    successful, delivered = received(carrier, sqs, subscriber)
    assert (successful["eventType"], successful["isFinal"]) == ("TEXT_SUCCESSFUL", False)
    assert (delivered["eventType"], delivered["isFinal"]) == ("TEXT_DELIVERED", True)
    assert set(delivered) >= {
        "eventType",
        "eventVersion",
        "eventTimestamp",
        "isFinal",
        "originationPhoneNumber",
        "destinationPhoneNumber",
        "isoCountryCode",
        "messageId",
        "messageRequestTimestamp",
        "messageEncoding",
        "messageType",
        "messageStatus",
        "messageStatusDescription",
        "context",
        "totalMessageParts",
        "totalMessagePrice",
        "totalCarrierFee",
    }
    assert delivered["eventVersion"] == "1.0"
    assert delivered["messageId"] == message_id
    assert delivered["originationPhoneNumber"] == SHORT_CODE
    assert delivered["destinationPhoneNumber"] == PERSON
    assert delivered["isoCountryCode"] == "FR"
    assert delivered["messageType"] == "PROMOTIONAL"
    assert delivered["messageStatus"] == "DELIVERED"
    assert delivered["messageEncoding"] == "GSM"
    assert delivered["totalMessageParts"] == 1
    assert delivered["context"] == {"campaign": "c-123", "team": "sales"}
    assert delivered["messageRequestTimestamp"] <= delivered["eventTimestamp"]


def test_events_are_published_after_the_answer_not_inside_it(
    moto_endpoint: str, sqs: SQSClient, new_subscriber: Callable[[], Subscriber]
) -> None:
    # Given a carrier that takes a noticeable time to report deliveries
    subscriber = new_subscriber()
    with CarrierSimulator(moto_endpoint, REGION, delivery_delay_seconds=0.5) as slow_carrier:
        configuration_set = configuration_set_to(slow_carrier, subscriber)
        # When a message is sent
        sms_client(slow_carrier).send_text_message(
            DestinationPhoneNumber=PERSON,
            MessageBody="Bonjour",
            ConfigurationSetName=configuration_set,
        )
        # Then nothing is on the topic yet when the call returns, and both events come later
        early = sqs.receive_message(QueueUrl=subscriber.queue_url).get("Messages", [])
        assert early == []
        assert len(received(slow_carrier, sqs, subscriber)) == 2


def test_each_destination_gets_only_the_event_types_it_matches(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given destinations matching everything, only deliveries, and a disabled one
    everything, deliveries, disabled = new_subscriber(), new_subscriber(), new_subscriber()
    name = f"cs-{uuid.uuid4().hex[:8]}"
    carrier.register_configuration_set(
        name,
        [
            {"name": "all", "topic_arn": everything.topic_arn, "matching_event_types": ["ALL"]},
            {
                "name": "delivered",
                "topic_arn": deliveries.topic_arn,
                "matching_event_types": ["TEXT_DELIVERED"],
            },
            {
                "name": "off",
                "topic_arn": disabled.topic_arn,
                "matching_event_types": ["TEXT_ALL"],
                "enabled": False,
            },
        ],
    )
    # When a message is sent
    sms.send_text_message(
        DestinationPhoneNumber=PERSON, MessageBody="Bonjour", ConfigurationSetName=name
    )
    # Then each destination got what it matches
    assert [e["eventType"] for e in received(carrier, sqs, everything)] == [
        "TEXT_SUCCESSFUL",
        "TEXT_DELIVERED",
    ]
    assert [e["eventType"] for e in received(carrier, sqs, deliveries)] == ["TEXT_DELIVERED"]
    assert received(carrier, sqs, disabled) == []


def test_a_programmed_outcome_ends_one_destination_in_carrier_unreachable(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given an unreachable carrier for one person only
    subscriber = new_subscriber()
    configuration_set = configuration_set_to(carrier, subscriber)
    carrier.set_outcome(["TEXT_PENDING", "TEXT_CARRIER_UNREACHABLE"], destination=PERSON)
    # When both people are sent a message
    for destination in (PERSON, OTHER_PERSON):
        sms.send_text_message(
            DestinationPhoneNumber=destination,
            MessageBody="Bonjour",
            ConfigurationSetName=configuration_set,
        )
    # Then the first ends in TEXT_CARRIER_UNREACHABLE, the other is delivered as usual
    events = received(carrier, sqs, subscriber)
    by_person = {
        person: [
            (e["eventType"], e["isFinal"]) for e in events if e["destinationPhoneNumber"] == person
        ]
        for person in (PERSON, OTHER_PERSON)
    }
    assert by_person[PERSON] == [("TEXT_PENDING", False), ("TEXT_CARRIER_UNREACHABLE", True)]
    assert by_person[OTHER_PERSON] == [("TEXT_SUCCESSFUL", False), ("TEXT_DELIVERED", True)]
    final = next(e for e in events if e["eventType"] == "TEXT_CARRIER_UNREACHABLE")
    assert final["messageStatus"] == "CARRIER_UNREACHABLE"


def test_a_long_accented_message_is_counted_in_ucs2_parts(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given a body of 71 characters one of which is outside GSM-7 (lowercase ç)
    subscriber = new_subscriber()
    configuration_set = configuration_set_to(carrier, subscriber)
    body = "Merci, votre reçu est prêt" + "." * 45
    # When it is sent
    sms.send_text_message(
        DestinationPhoneNumber=PERSON, MessageBody=body, ConfigurationSetName=configuration_set
    )
    # Then the events report UCS-2 in two parts, priced per part
    delivered = received(carrier, sqs, subscriber)[-1]
    assert (delivered["messageEncoding"], delivered["totalMessageParts"]) == ("UCS2", 2)
    assert delivered["totalMessagePrice"] > 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a" * 160, ("GSM", 1)),
        ("a" * 161, ("GSM", 2)),
        ("a" * 306, ("GSM", 2)),
        ("a" * 307, ("GSM", 3)),
        ("€" * 80, ("GSM", 1)),
        ("€" * 81, ("GSM", 2)),
        # An escape sequence is never split: the second part starts with the whole "€".
        ("a" * 152 + "€" + "a" * 152, ("GSM", 3)),
        ("Ç é É à ñ ü ß", ("GSM", 1)),
        ("ç" * 70, ("UCS2", 1)),
        ("ç" * 71, ("UCS2", 2)),
        ("ç" * 134, ("UCS2", 2)),
        ("ç" * 135, ("UCS2", 3)),
        ("😀" * 35, ("UCS2", 1)),
        ("😀" * 36, ("UCS2", 2)),
    ],
)
def test_message_parts_follow_gsm7_and_ucs2_segmentation(
    body: str, expected: tuple[str, int]
) -> None:
    # Given a body / When its parts are counted / Then they match the SMS segmentation rules
    assert message_parts(body) == expected


def test_a_dry_run_is_validated_but_neither_recorded_nor_delivered(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given a configuration set with a destination
    subscriber = new_subscriber()
    configuration_set = configuration_set_to(carrier, subscriber)
    # When a dry run is sent
    answer = sms.send_text_message(
        DestinationPhoneNumber=PERSON,
        MessageBody="Test",
        ConfigurationSetName=configuration_set,
        DryRun=True,
    )
    # Then it is answered, but nothing was sent
    assert answer["MessageId"]
    assert carrier.sent_messages() == []
    assert received(carrier, sqs, subscriber) == []


def test_the_production_client_finds_the_simulator_through_the_endpoint_variable(
    carrier: CarrierSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the per-service endpoint variable the handlers rely on
    monkeypatch.setenv("AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2", carrier.endpoint_url)
    # When an ordinary client is built without endpoint_url and sends
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    message_id = client.send_text_message(DestinationPhoneNumber=PERSON, MessageBody="Bonjour")[
        "MessageId"
    ]
    # Then the simulator received it
    assert [sent.message_id for sent in carrier.sent_messages()] == [message_id]


def test_recorded_sends_are_bounded_to_the_most_recent(moto_endpoint: str) -> None:
    # Given a simulator that keeps three sends
    with CarrierSimulator(moto_endpoint, REGION, max_recorded_sends=3) as small_carrier:
        client = sms_client(small_carrier)
        # When five are sent
        ids = [
            client.send_text_message(DestinationPhoneNumber=PERSON, MessageBody=f"n°{n}")[
                "MessageId"
            ]
            for n in range(5)
        ]
        # Then only the last three are kept
        assert [sent.message_id for sent in small_carrier.sent_messages()] == ids[2:]


# -- validation and modeled errors --------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason", "field"),
    [
        (
            {"DestinationPhoneNumber": "0612345678"},
            "FIELD_VALIDATION_FAILED",
            "DestinationPhoneNumber",
        ),
        (
            {"DestinationPhoneNumber": "+3361234"},
            "FIELD_VALIDATION_FAILED",
            "DestinationPhoneNumber",
        ),
        ({"MessageBody": None}, "MISSING_PARAMETER", "MessageBody"),
        ({"MessageBody": "   "}, "FIELD_VALIDATION_FAILED", "MessageBody"),
        ({"MessageBody": "x" * 1601}, "FIELD_VALIDATION_FAILED", "MessageBody"),
        ({"MessageType": "BULK"}, "FIELD_VALIDATION_FAILED", "MessageType"),
        ({"TimeToLive": 259_201}, "FIELD_VALIDATION_FAILED", "TimeToLive"),
        ({"Context": {f"k{n}": "v" for n in range(6)}}, "FIELD_VALIDATION_FAILED", "Context"),
        ({"OriginationIdentity": "36 111"}, "FIELD_VALIDATION_FAILED", "OriginationIdentity"),
    ],
)
def test_an_invalid_send_raises_the_modeled_validation_exception(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    overrides: dict[str, Any],
    reason: str,
    field: str,
) -> None:
    # Given a request with one invalid field
    request: dict[str, Any] = {"DestinationPhoneNumber": PERSON, "MessageBody": "Bonjour"}
    request.update(overrides)
    request = {key: value for key, value in request.items() if value is not None}
    # When it is sent / Then the client raises ValidationException naming the field
    with pytest.raises(sms.exceptions.ValidationException) as raised:
        sms.send_text_message(**request)
    assert error_fields(raised.value)["Reason"] == reason
    assert error_fields(raised.value)["Fields"][0]["Name"] == field
    assert carrier.sent_messages() == []


def test_an_unknown_configuration_set_raises_resource_not_found(
    sms: PinpointSMSVoiceV2Client,
) -> None:
    # Given no configuration set named so
    name = f"missing-{uuid.uuid4().hex[:8]}"
    # When a send names it / Then ResourceNotFoundException says which resource
    with pytest.raises(sms.exceptions.ResourceNotFoundException) as raised:
        sms.send_text_message(
            DestinationPhoneNumber=PERSON, MessageBody="Bonjour", ConfigurationSetName=name
        )
    assert error_fields(raised.value)["ResourceType"] == "configuration-set"
    assert error_fields(raised.value)["ResourceId"] == name


def test_an_operation_the_simulator_does_not_offer_is_a_validation_error(
    sms: PinpointSMSVoiceV2Client,
) -> None:
    # Given an operation of the service the simulator does not implement
    # When it is called / Then it fails fast as a 400 ValidationException, never a 500
    with pytest.raises(sms.exceptions.ValidationException) as raised:
        sms.describe_keywords(OriginationIdentity="36111")
    assert error_fields(raised.value)["Reason"] == "UNKNOWN_OPERATION"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- opt-outs -----------------------------------------------------------------------------


def test_an_opted_out_destination_is_refused_until_it_is_deleted_from_the_list(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given a person on the opt-out list of the short code (Default, as a new number's)
    name = "Default"
    put = sms.put_opted_out_number(OptOutListName=name, OptedOutNumber=PERSON)
    assert (put["OptedOutNumber"], put["EndUserOptedOut"]) == (PERSON, False)
    # When a message is sent to them / Then ConflictException gives the opted-out reason
    with pytest.raises(sms.exceptions.ConflictException) as raised:
        sms.send_text_message(DestinationPhoneNumber=PERSON, MessageBody="Bonjour")
    assert error_fields(raised.value)["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"
    assert carrier.sent_messages() == []
    # When the number is deleted from the list / Then sending works again
    sms.delete_opted_out_number(OptOutListName=name, OptedOutNumber=PERSON)
    assert sms.send_text_message(DestinationPhoneNumber=PERSON, MessageBody="Bonjour")["MessageId"]


def test_opted_out_numbers_are_described_page_by_page_and_filtered(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given five opted-out numbers
    name = opt_out_list(carrier)
    numbers = [f"+3361234567{digit}" for digit in range(5)]
    for number in reversed(numbers):
        sms.put_opted_out_number(OptOutListName=name, OptedOutNumber=number)
    # When they are described two at a time
    first = sms.describe_opted_out_numbers(OptOutListName=name, MaxResults=2)
    second = sms.describe_opted_out_numbers(
        OptOutListName=name, MaxResults=2, NextToken=first["NextToken"]
    )
    third = sms.describe_opted_out_numbers(
        OptOutListName=name, MaxResults=2, NextToken=second["NextToken"]
    )
    # Then the pages hold every number once, and the last page has no token
    pages = [first, second, third]
    assert [len(page["OptedOutNumbers"]) for page in pages] == [2, 2, 1]
    assert "NextToken" not in third
    listed = [item["OptedOutNumber"] for page in pages for item in page["OptedOutNumbers"]]
    assert listed == numbers
    assert third["OptOutListName"] == name
    # And botocore's paginator walks the same pages
    paginator = sms.get_paginator("describe_opted_out_numbers")
    walked = [
        item["OptedOutNumber"]
        for page in paginator.paginate(OptOutListName=name, PaginationConfig={"PageSize": 2})
        for item in page["OptedOutNumbers"]
    ]
    assert walked == numbers
    # And the OptedOutNumbers filter returns only the numbers asked for
    filtered = sms.describe_opted_out_numbers(
        OptOutListName=name, OptedOutNumbers=[numbers[3], OTHER_PERSON]
    )
    assert [item["OptedOutNumber"] for item in filtered["OptedOutNumbers"]] == [numbers[3]]


def test_a_forged_next_token_is_a_validation_error(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given an opt-out list
    name = opt_out_list(carrier)
    # When a token the service never gave is used / Then the reason says so
    with pytest.raises(sms.exceptions.ValidationException) as raised:
        sms.describe_opted_out_numbers(OptOutListName=name, NextToken="not-a-token")
    assert error_fields(raised.value)["Reason"] == "INVALID_NEXT_TOKEN"


def test_opt_out_calls_on_unknown_lists_or_numbers_raise_resource_not_found(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given one registered list and one name that is not
    name = opt_out_list(carrier)
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    # When numbers are put on or described from the unknown list / Then the list is not found
    with pytest.raises(sms.exceptions.ResourceNotFoundException) as put:
        sms.put_opted_out_number(OptOutListName=missing, OptedOutNumber=PERSON)
    assert error_fields(put.value)["ResourceType"] == "opt-out-list"
    with pytest.raises(sms.exceptions.ResourceNotFoundException):
        sms.describe_opted_out_numbers(OptOutListName=missing)
    # When a number that is not on the list is deleted / Then the number is not found
    with pytest.raises(sms.exceptions.ResourceNotFoundException) as deleted:
        sms.delete_opted_out_number(OptOutListName=name, OptedOutNumber=PERSON)
    assert error_fields(deleted.value)["ResourceType"] == "opted-out-number"


def test_opt_out_lists_are_described_with_arns_and_paging(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given two registered opt-out lists beside the account's Default one
    names = sorted(["Default", opt_out_list(carrier), opt_out_list(carrier)])
    # When they are described one per page
    first = sms.describe_opt_out_lists(MaxResults=1)
    second = sms.describe_opt_out_lists(MaxResults=1, NextToken=first["NextToken"])
    third = sms.describe_opt_out_lists(MaxResults=1, NextToken=second["NextToken"])
    # Then all come back with the service's ARN form
    described = first["OptOutLists"] + second["OptOutLists"] + third["OptOutLists"]
    assert [item["OptOutListName"] for item in described] == names
    assert described[1]["OptOutListArn"] == (
        f"arn:aws:sms-voice:{REGION}:123456789012:opt-out-list/{names[1]}"
    )
    assert "NextToken" not in third
    # And asking by name for an unknown list raises ResourceNotFoundException
    with pytest.raises(sms.exceptions.ResourceNotFoundException):
        sms.describe_opt_out_lists(OptOutListNames=[names[0], "missing"])


def test_configuration_sets_are_described_with_their_sns_destinations(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given two configuration sets
    subscriber = new_subscriber()
    wanted, other = (
        configuration_set_to(carrier, subscriber),
        configuration_set_to(carrier, subscriber),
    )
    # When one is described by name
    [described] = sms.describe_configuration_sets(ConfigurationSetNames=[wanted])[
        "ConfigurationSets"
    ]
    # Then its event destination is the registered SNS topic
    assert described["ConfigurationSetName"] == wanted
    assert described["EventDestinations"] == [
        {
            "EventDestinationName": "events",
            "Enabled": True,
            "MatchingEventTypes": ["ALL"],
            "SnsDestination": {"TopicArn": subscriber.topic_arn},
        }
    ]
    # And the unfiltered call lists both, while an unknown name is not found
    everything = sms.describe_configuration_sets()["ConfigurationSets"]
    assert {item["ConfigurationSetName"] for item in everything} == {wanted, other}
    with pytest.raises(sms.exceptions.ResourceNotFoundException):
        sms.describe_configuration_sets(ConfigurationSetNames=["missing"])


# -- faults -------------------------------------------------------------------------------


def test_a_throttled_send_is_retried_by_botocore_and_then_succeeds(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given the carrier throttles the next call
    carrier.throttle_next(1)
    # When a message is sent with standard retries
    answer = sms.send_text_message(DestinationPhoneNumber=PERSON, MessageBody="Bonjour")
    # Then botocore retried once and the message went through once
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert carrier.call_counts()["SendTextMessage"] == 2
    assert len(carrier.sent_messages()) == 1


def test_throttling_surfaces_as_the_modeled_exception_without_retries(
    carrier: CarrierSimulator,
) -> None:
    # Given a client that does not retry and a throttling carrier
    client = sms_client(carrier, max_attempts=1)
    carrier.throttle_next(1)
    # When a message is sent / Then ThrottlingException is raised and nothing was sent
    with pytest.raises(client.exceptions.ThrottlingException):
        client.send_text_message(DestinationPhoneNumber=PERSON, MessageBody="Bonjour")
    assert carrier.sent_messages() == []


def test_a_failing_carrier_answers_internal_server_errors_after_botocore_retries(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given every send fails
    carrier.set_fault_rates(fail_rate=1.0)
    # When a message is sent / Then the three attempts end in InternalServerException
    with pytest.raises(sms.exceptions.InternalServerException) as raised:
        sms.send_text_message(DestinationPhoneNumber=PERSON, MessageBody="Bonjour")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert carrier.call_counts()["SendTextMessage"] == 3


def test_the_throttle_rate_draws_the_same_pattern_from_the_same_seed(moto_endpoint: str) -> None:
    # Given two carriers throttling half the sends from the same seed
    def pattern() -> list[bool]:
        with CarrierSimulator(moto_endpoint, REGION, throttle_rate=0.5, seed=7) as seeded:
            client = sms_client(seeded, max_attempts=1)
            outcomes = []
            for _ in range(20):
                try:
                    client.send_text_message(DestinationPhoneNumber=PERSON, MessageBody="Bonjour")
                    outcomes.append(True)
                except client.exceptions.ThrottlingException:
                    outcomes.append(False)
            return outcomes

    # When each is sent twenty messages
    first, second = pattern(), pattern()
    # Then both throttle the same calls, some but not all
    assert first == second
    assert 0 < first.count(False) < 20


def test_reset_forgets_runtime_state_but_keeps_registrations(
    carrier: CarrierSimulator,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given sends, an opt-out, a fault and an outcome
    subscriber = new_subscriber()
    configuration_set = configuration_set_to(carrier, subscriber)
    client = sms_client(carrier, max_attempts=1)
    client.send_text_message(DestinationPhoneNumber=OTHER_PERSON, MessageBody="Bonjour")
    client.put_opted_out_number(OptOutListName="Default", OptedOutNumber=PERSON)
    carrier.set_outcome(["TEXT_BLOCKED"])
    carrier.throttle_next(5)
    # When the simulator is reset
    carrier.reset()
    # Then a send to the formerly opted-out person works and is delivered as usual
    client.send_text_message(
        DestinationPhoneNumber=PERSON, MessageBody="Bonjour", ConfigurationSetName=configuration_set
    )
    assert [sent.destination for sent in carrier.sent_messages()] == [PERSON]
    assert [e["eventType"] for e in received(carrier, sqs, subscriber)] == [
        "TEXT_SUCCESSFUL",
        "TEXT_DELIVERED",
    ]


# -- which opt-out list applies: the one of the identity or pool used ---------------------


def test_only_the_list_of_the_identity_used_refuses_a_send(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # Given a person on a list that nothing is associated with, another on the Default list
    # (the short code's), and a pool of the short code with a list of its own
    unrelated = opt_out_list(carrier)
    pooled = opt_out_list(carrier)
    sms.put_opted_out_number(OptOutListName=unrelated, OptedOutNumber=PERSON)
    sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=OTHER_PERSON)
    pool_id = carrier.register_pool("sending", [SHORT_CODE], opt_out_list=pooled)

    # When each is sent to from the short code, then through the pool
    sms.send_text_message(
        DestinationPhoneNumber=PERSON, OriginationIdentity=SHORT_CODE, MessageBody="Bonjour"
    )
    with pytest.raises(sms.exceptions.ConflictException) as from_number:
        sms.send_text_message(
            DestinationPhoneNumber=OTHER_PERSON,
            OriginationIdentity=SHORT_CODE,
            MessageBody="Bonjour",
        )
    sms.send_text_message(
        DestinationPhoneNumber=OTHER_PERSON, OriginationIdentity=pool_id, MessageBody="Bonjour"
    )
    sms.put_opted_out_number(OptOutListName=pooled, OptedOutNumber=PERSON)
    with pytest.raises(sms.exceptions.ConflictException) as through_pool:
        sms.send_text_message(
            DestinationPhoneNumber=PERSON, OriginationIdentity=pool_id, MessageBody="Bonjour"
        )

    # Then a list refuses only the sends of the identity it is associated with, as AWS does
    assert error_fields(from_number.value)["ResourceId"] == "Default"
    assert error_fields(through_pool.value)["ResourceId"] == pooled
    assert [sent.origination for sent in carrier.sent_messages()] == [SHORT_CODE, SHORT_CODE]


def test_an_unknown_origination_identity_is_not_found(
    carrier: CarrierSimulator, sms: PinpointSMSVoiceV2Client
) -> None:
    # When a message is sent from an identity the account does not have
    # Then the service says so, as ResourceNotFoundException
    with pytest.raises(sms.exceptions.ResourceNotFoundException):
        sms.send_text_message(
            DestinationPhoneNumber=PERSON, OriginationIdentity="38000", MessageBody="Bonjour"
        )


def test_a_phone_number_joins_one_pool_only(carrier: CarrierSimulator) -> None:
    # Given the short code in a pool
    carrier.register_pool("first", [SHORT_CODE])
    # When another pool takes it / Then it is refused, as CreatePool refuses it
    with pytest.raises(ValueError, match="already belongs"):
        carrier.register_pool("second", [SHORT_CODE])


def test_stop_to_a_pool_is_recorded_by_the_service_unless_self_managed(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given a pool whose opt-outs the service manages, with its STOP answer and two-way channel
    subscriber = new_subscriber()
    pooled = opt_out_list(carrier)
    carrier.register_pool(
        "managed",
        [SHORT_CODE],
        opt_out_list=pooled,
        two_way_topic=subscriber.topic_arn,
        stop_message="Vous ne recevrez plus nos SMS.",
    )
    # When a person texts "stop" to the short code
    carrier.inject_reply(PERSON, SHORT_CODE, "stop")
    # Then the person is on the pool's list (by their own request), and answered once
    [entry] = sms.describe_opted_out_numbers(OptOutListName=pooled)["OptedOutNumbers"]
    assert (entry["OptedOutNumber"], entry["EndUserOptedOut"]) == (PERSON, True)
    [answer] = carrier.sent_messages()
    assert (answer.destination, answer.body) == (PERSON, "Vous ne recevrez plus nos SMS.")


def test_stop_to_a_self_managed_pool_is_left_to_the_application(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given a pool with self-managed opt-outs (the stack's), replies going to a topic
    subscriber = new_subscriber()
    pooled = opt_out_list(carrier)
    carrier.register_pool(
        "self-managed",
        [SHORT_CODE],
        opt_out_list=pooled,
        two_way_topic=subscriber.topic_arn,
        self_managed=True,
        stop_message="never sent",
    )
    # When a person texts STOP
    carrier.inject_reply(PERSON, SHORT_CODE, "STOP")
    # Then the service neither records nor answers it: the application gets the reply
    assert sms.describe_opted_out_numbers(OptOutListName=pooled)["OptedOutNumbers"] == []
    assert carrier.sent_messages() == []
    [reply] = received(carrier, sqs, subscriber)
    assert reply["messageBody"] == "STOP"


# -- two-way replies ----------------------------------------------------------------------


def test_an_injected_reply_is_published_with_the_two_way_payload(
    carrier: CarrierSimulator, sqs: SQSClient, new_subscriber: Callable[[], Subscriber]
) -> None:
    # Given a two-way channel on our short code
    subscriber = new_subscriber()
    carrier.register_two_way_channel(SHORT_CODE, subscriber.topic_arn)
    previous = str(uuid.uuid4())
    # When the person replies STOP to a message
    inbound_message_id = carrier.inject_reply(
        PERSON, SHORT_CODE, "STOP", previous_published_message_id=previous
    )
    # Then the topic receives exactly the service's two-way JSON as the message
    [reply] = received(carrier, sqs, subscriber)
    assert reply == {
        "originationNumber": PERSON,
        "destinationNumber": SHORT_CODE,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "STOP",
        "inboundMessageId": inbound_message_id,
        "previousPublishedMessageId": previous,
    }


def test_a_reply_to_an_unregistered_number_is_refused(carrier: CarrierSimulator) -> None:
    # Given no two-way channel / When a reply is injected / Then the simulator says so
    with pytest.raises(UnknownChannelError):
        carrier.inject_reply(PERSON, SHORT_CODE, "OUI")


# -- control API --------------------------------------------------------------------------


def test_the_control_api_lists_sends_injects_replies_sets_faults_and_resets(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    sqs: SQSClient,
    new_subscriber: Callable[[], Subscriber],
) -> None:
    # Given a two-way channel and one message sent from it
    subscriber = new_subscriber()
    carrier.register_two_way_channel(SHORT_CODE, subscriber.topic_arn)
    control = f"{carrier.endpoint_url}/_simulator"
    message_id = sms.send_text_message(
        DestinationPhoneNumber=PERSON,
        OriginationIdentity=SHORT_CODE,
        MessageBody="Venez-vous ? OUI/NON",
        Context={"campaign": "c-9"},
    )["MessageId"]
    # When the sends are listed / Then the message is there with what the demo shows
    [listed] = requests.get(f"{control}/messages", timeout=5).json()["messages"]
    assert listed["id"] == message_id
    assert (listed["destination"], listed["origination"]) == (PERSON, SHORT_CODE)
    assert (listed["body"], listed["context"]) == ("Venez-vous ? OUI/NON", {"campaign": "c-9"})
    assert listed["configuration_set"] is None
    assert listed["time"]
    # When a reply is injected without naming the message / Then it answers the last one sent
    answer = requests.post(
        f"{control}/replies", json={"from": PERSON, "to": SHORT_CODE, "body": "OUI"}, timeout=5
    )
    assert answer.status_code == 200
    [reply] = received(carrier, sqs, subscriber)
    assert reply["previousPublishedMessageId"] == message_id
    assert reply["inboundMessageId"] == answer.json()["inbound_message_id"]
    # When a fault is set / Then the next send is throttled
    faults = requests.post(f"{control}/faults", json={"throttle_next": 1}, timeout=5)
    assert faults.json()["throttle_next"] == 1
    with pytest.raises(sms.exceptions.ThrottlingException):
        sms_client(carrier, max_attempts=1).send_text_message(
            DestinationPhoneNumber=PERSON, MessageBody="Bonjour"
        )
    # When the simulator is reset / Then the list is empty
    assert requests.post(f"{control}/reset", timeout=5).status_code == 200
    assert requests.get(f"{control}/messages", timeout=5).json() == {"messages": []}
    # And unknown routes and unknown channels are client errors, not crashes
    assert requests.get(f"{control}/nothing", timeout=5).status_code == 404
    unknown = requests.post(
        f"{control}/replies", json={"from": PERSON, "to": "38000", "body": "OUI"}, timeout=5
    )
    assert unknown.status_code == 404
    assert (
        requests.post(f"{control}/replies", json={"to": SHORT_CODE}, timeout=5).status_code == 400
    )


# -- logging ------------------------------------------------------------------------------


def test_logs_never_show_a_full_phone_number_or_a_message_body(
    carrier: CarrierSimulator,
    sms: PinpointSMSVoiceV2Client,
    new_subscriber: Callable[[], Subscriber],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given every log line of the simulator is captured
    caplog.set_level(logging.DEBUG, logger="cloison_local.carrier")
    subscriber = new_subscriber()
    carrier.register_two_way_channel(SHORT_CODE, subscriber.topic_arn)
    secret_body = "Code secret 987654"
    # When messages are sent, refused, opted out and replied to
    sms.send_text_message(
        DestinationPhoneNumber=PERSON,
        MessageBody=secret_body,
        ConfigurationSetName=configuration_set_to(carrier, subscriber),
    )
    sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=OTHER_PERSON)
    with pytest.raises(sms.exceptions.ConflictException):
        sms.send_text_message(DestinationPhoneNumber=OTHER_PERSON, MessageBody=secret_body)
    carrier.inject_reply(PERSON, SHORT_CODE, secret_body)
    carrier.wait_idle()
    # Then numbers appear only masked to their last two digits, and bodies never
    assert caplog.records
    assert PERSON not in caplog.text
    assert OTHER_PERSON not in caplog.text
    assert secret_body not in caplog.text
    assert "**********78" in caplog.text
