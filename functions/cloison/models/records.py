"""What the tables hold. Phone numbers appear only as keyed hashes or sealed, never in clear."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from cloison.models.api import CampaignKind, CampaignStatus


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class UploadRecord(Record):
    """One committed audience upload: its sealed chunks hold `recipients` recipients.

    `rejected` counts the rows of the upload that were refused (bad number, missing variable...).
    """

    upload_id: str
    chunks: int
    recipients: int
    rejected: int = 0


class CampaignRecord(Record):
    campaign_id: str
    team: str
    name: str
    sender: str
    kind: CampaignKind
    body: str
    status: CampaignStatus
    created_at: datetime
    created_by: str
    chunk_count: int = 0
    recipient_count: int = 0
    uploads: list[UploadRecord] = []
    launch_at: datetime | None = None
    schedule: str | None = None
    schedule_timezone: str | None = None


class SenderRecord(Record):
    team: str
    name: str
    sender_id: str
    stop_mention: str
    window: str
    mps: int
    price_per_segment: float
    company: str


class AudienceMember(Record):
    """One recipient inside a sealed audience chunk."""

    e164: str
    number_key: str
    variables: dict[str, str] = {}
    departement: str | None = None


class ChunkProgress(Record):
    """Where the sending of one chunk pass stands; a lease keeps two workers off it.

    `in_flight` is the slice of recipients being sent right now: if its worker dies, those
    recipients are in doubt and are settled from the carrier's delivery events, never resent.
    """

    next_index: int = 0
    in_flight: list[int] = []
    done: bool = False
    worker: str | None = None


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    NO_CONSENT = "no_consent"
    DEFERRED = "deferred"
    EXPIRED = "expired"
    INVALID = "invalid"
    IN_DOUBT = "in_doubt"


class MessageRecord(Record):
    """One message sent to one recipient, created and moved forward by the carrier's events."""

    campaign_id: str
    team: str
    number_key: str
    status: MessageStatus
    status_rank: int = 0
    carrier_message_id: str | None = None
    sent_at: datetime | None = None
    updated_at: datetime


class ReplyRecord(Record):
    reply_id: str
    team: str
    campaign_id: str | None = None
    number_key: str
    received_at: datetime
    reply_class: str
    sensitive: bool
    object_key: str
    stored: bool = False


class SuppressionRecord(Record):
    number_key: str
    scope: str
    reason: str
    source: str
    evidence: str
    created_at: datetime
    review: bool = False


class ConsentRecord(Record):
    number_key: str
    team: str
    purpose: str
    source: str
    proof: str
    given_at: datetime
    recorded_by: str
