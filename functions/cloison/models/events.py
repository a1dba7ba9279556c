"""Payloads that arrive on queues: launch requests, chunk references, carrier events, replies.

Each function reads one or two of them: they are built at first use (`defer_build`), not at import.
"""

from datetime import datetime
from typing import Annotated, Literal, Self, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)


class LaunchRequest(BaseModel):
    """Body of a launch-queue message, put there by the API or by an EventBridge schedule.

    `launch` enqueues every chunk of a campaign; `release` enqueues the chunks parked until
    `release_at` (recipients outside their sending window, or a paused campaign resumed);
    `expire` ends as `expired` the messages that got no final event within their time to live;
    `occurrence` is a firing of a recurring campaign's schedule, at `scheduled_at`: it creates
    and launches that firing's own campaign.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)
    campaign_id: str
    team: str
    action: Literal["launch", "release", "expire", "occurrence"] = "launch"
    release_at: datetime | None = None
    scheduled_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _occurrence_has_its_time(self) -> Self:
        # The time names the occurrence: without it a redelivered firing would send again.
        if self.action == "occurrence" and self.scheduled_at is None:
            raise ValueError("an occurrence needs `scheduled_at`")
        return self


class ChunkRef(BaseModel):
    """Body of a send-queue message: which recipients of which chunk to send. No phone number.

    A first pass takes the whole chunk; a later pass (`pass_no` > 0) only the `indexes` that
    were deferred to a sending window or parked while the campaign was paused.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)
    campaign_id: str
    team: str
    upload: Annotated[str, Field(min_length=1, max_length=40)]
    chunk: Annotated[int, Field(ge=0)]
    pass_no: Annotated[int, Field(ge=0)] = 0
    tag: Annotated[str, Field(max_length=40)] = ""
    indexes: list[Annotated[int, Field(ge=0)]] | None = None

    @property
    def key(self) -> str:
        """Identifies this pass over this chunk, for its progress record."""
        return f"{self.upload}#{self.chunk:05d}#{self.pass_no:03d}#{self.tag}"


class DeliveryEvent(BaseModel):
    """An End User Messaging SMS event, as the configuration set's SNS destination publishes it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)
    event_type: str = Field(alias="eventType")
    event_timestamp: int = Field(alias="eventTimestamp")
    is_final: bool = Field(default=False, alias="isFinal")
    message_id: str = Field(alias="messageId")
    message_status: str | None = Field(default=None, alias="messageStatus")
    context: dict[str, str] = Field(default_factory=dict)
    total_message_parts: int | None = Field(default=None, alias="totalMessageParts")
    total_message_price: float | None = Field(default=None, alias="totalMessagePrice")


class InboundSms(BaseModel):
    """A two-way SMS reply, as End User Messaging publishes it to the two-way SNS topic."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)
    origination_number: Annotated[str, Field(alias="originationNumber", max_length=32)]
    destination_number: Annotated[str, Field(alias="destinationNumber", max_length=64)]
    message_body: Annotated[str, Field(alias="messageBody", max_length=5000)]
    inbound_message_id: Annotated[
        str, Field(alias="inboundMessageId", min_length=1, max_length=128)
    ]
    message_keyword: str | None = Field(default=None, alias="messageKeyword")
    previous_published_message_id: str | None = Field(
        default=None, alias="previousPublishedMessageId"
    )
    # When the person sent it, as near as AWS tells: the SNS notification's timestamp (set by
    # `inbound_from_queue`, never read from the payload). "Inbound SMS messages are not
    # guaranteed to arrive in the order they were sent [...] use the timestamp from the Amazon
    # SNS notification metadata to approximate message ordering" (End User Messaging SMS user
    # guide, "Two-way SMS messaging"). STOP and START are ordered by it.
    said_at: datetime | None = Field(default=None, exclude=True)


class SnsNotification(BaseModel):
    """The envelope SNS wraps a message in when it delivers to SQS without raw delivery."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    Type: Literal["Notification"]
    Message: str
    Timestamp: AwareDatetime


Payload = TypeVar("Payload", bound=BaseModel)


class MalformedPayload(ValueError):
    """A queue message that is not what its source sends; names the fields, never their values."""


def inbound_from_queue(body: str) -> InboundSms:
    """A reply from the inbound queue: the SNS notification holding it (InboundSubscription
    delivers the envelope for its timestamp), or a bare payload put back on the queue by hand,
    undated: its STOP stands whatever came before, its START lifts no dated STOP (the time it
    was put back is not when the person said it)."""
    try:
        notification: SnsNotification | None = SnsNotification.model_validate_json(body)
    except ValidationError:
        notification = None
    if notification is not None:
        sms = parse_payload(InboundSms, notification.Message)
        return sms.model_copy(update={"said_at": notification.Timestamp})
    return parse_payload(InboundSms, body)


def parse_payload(model: type[Payload], body: str) -> Payload:
    """Parses a message body; errors say which fields are wrong but never echo the input."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise MalformedPayload(f"{model.__name__}: {problems}") from None
