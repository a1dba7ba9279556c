"""What the tables hold. Phone numbers appear only as keyed hashes or sealed, never in clear."""

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict

from cloison.models.kinds import CampaignKind, CampaignStatus


class Record(BaseModel):
    # Built at first use: each function reads a few kinds of record and never builds the others.
    model_config = ConfigDict(extra="ignore", defer_build=True)


class UploadRecord(Record):
    """One committed audience upload: its sealed chunks hold `recipients` recipients.

    `rejected` counts the rows of the upload that were refused (bad number, missing variable...).
    `audience_of` names the campaign whose partition holds the chunks and whose id sealed them,
    when it is not this one: an occurrence of a recurring campaign reads the recurring
    campaign's chunks, never a copy.
    """

    upload_id: str
    chunks: int
    recipients: int
    rejected: int = 0
    audience_of: str | None = None


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
    # An occurrence: the recurring campaign whose schedule fired it (at `launch_at`).
    occurrence_of: str | None = None

    def audience_owner(self, upload_id: str) -> str:
        """The campaign whose sealed chunks hold the upload `upload_id` of this campaign."""
        for upload in self.uploads:
            if upload.upload_id == upload_id:
                return upload.audience_of or self.campaign_id
        return self.campaign_id


class SenderRecord(Record):
    team: str
    name: str
    sender_id: str
    stop_mention: str
    window: str
    mps: int
    price_per_segment: float
    company: str
    contact: str | None = None
    # The team's own pool (its team stack's), or None: the stack's shared pool.
    origination: str | None = None
    # The pool's phone numbers and short codes, which people can write to.
    numbers: list[str] = []
    # Whether replies to this profile's messages reach Cloison (a sender ID takes none).
    receives_replies: bool = True
    # A word people text to the profile's number to sign up (double opt-in), or None.
    keyword: str | None = None


class RouteRecord(Record):
    """One of our numbers that belongs to a team's own identity: replies to it are the team's."""

    number: str
    team: str
    sender: str
    origination: str


class KeywordRecord(Record):
    """A word texted to one of our numbers (or the shared pool's) that starts a sign-up."""

    number: str
    word: str
    team: str
    sender: str


class NoticeWording(Record):
    """A notice in one language: what a person is told before they consent."""

    organisation: str
    purpose: str
    frequency: str
    retention: str
    rights: str
    stop: str


class NoticeRecord(Record):
    """One version of a team's notice, never changed once written.

    `hash` is SHA-256 over the canonical JSON of `texts` (services.notices.notice_hash): a
    consent names the version the person saw by it.
    """

    team: str
    version: int
    hash: str
    # By language: `fr` always, `en` when the team wrote it.
    texts: dict[str, NoticeWording]
    created_at: datetime
    created_by: str


class AudienceMember(Record):
    """One recipient inside a sealed audience chunk.

    An erased member (a data-subject erasure) keeps its place in the chunk, so that the
    positions a pass has sent stay right, but holds nothing: it is never sent.
    """

    e164: str
    number_key: str
    variables: dict[str, str] = {}
    departement: str | None = None
    erased: bool = False

    @classmethod
    def tombstone(cls) -> Self:
        return cls(e164="", number_key="", erased=True)


class ChunkProgress(Record):
    """Where the sending of one chunk pass stands; a lease keeps two workers off it.

    `in_flight` is the slice of recipients being sent right now: if its worker dies, those
    recipients are in doubt and are settled from the carrier's delivery events, never resent.
    """

    next_index: int = 0
    in_flight: list[int] = []
    # Recipients the pass parked for their window: whoever takes the pass up again leaves them
    # to their release, even once the window has opened.
    parked: set[int] = set()
    done: bool = False
    worker: str | None = None


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    NO_CONSENT = "no_consent"
    # Marketing over the number's frequency cap: not sent, for good.
    CAPPED = "capped"
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
    # Why the reply is in quarantine: `several_teams`, `no_message` (services.inbound).
    quarantined: str | None = None
    # "pending" while a person must look at the reply, then "confirmed" or "lifted".
    review: str | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    # What a START did: "lifted", "no_consent", "operator_suppression" or "not_suppressed".
    resubscription: str | None = None
    # Whether the automatic HELP or CONTACT answer went out.
    answered: bool = False


class SuppressionRecord(Record):
    number_key: str
    scope: str
    reason: str
    source: str
    evidence: str
    created_at: datetime
    review: bool = False
    # When the person said it (a STOP's SNS timestamp); None for what no person sent by SMS.
    said_at: datetime | None = None


class ConsentRecord(Record):
    number_key: str
    team: str
    purpose: str
    source: str
    proof: str
    given_at: datetime
    recorded_by: str
    # The hash of the version of the team's notice the person saw, when one was named.
    notice: str | None = None
    # A consent given by double opt-in (services.signup): the page that took the number, from
    # which address and when, and the reply that confirmed it, with its time.
    page: str | None = None
    source_address: str | None = None
    requested_at: datetime | None = None
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


class PendingSignupRecord(Record):
    """A sign-up waiting for the person's confirmation by SMS; never a consent by itself.

    The number is held only as its keyed hash: the confirmation went out when it was asked
    for, and the person's reply brings the number back.
    """

    number_key: str
    team: str
    notice: str
    page: str
    language: str
    source_address: str
    requested_at: datetime
    expires_at: datetime
    # What the confirmation SMS asked for: 1 the keyword alone (`OUI`), n the keyword and n
    # (`OUI 2`), when the number had another sign-up waiting (compliance.signup.free_code).
    code: int = 1


class AuditEntry(Record):
    """One link of the audit chain: who did what, when, in which team, to which object, why.

    `hash` is SHA-256 over the canonical JSON of every other field, `prev_hash` included, so
    that altering or removing an entry breaks the chain at that entry.
    """

    sequence: int
    entry_id: str
    at: datetime
    actor: str
    actor_name: str
    action: str
    team: str | None = None
    target: str
    # A code (models.api.common.AuditReason); entries written before codes hold scrubbed free text.
    reason: str | None = None
    # The commitment to the sealed note of what the person wrote (adapters.audit_notes), if any.
    note: str | None = None
    details: dict[str, str] = {}
    prev_id: str | None = None
    prev_hash: str
    hash: str = ""
    # HMAC-SHA-256 of the sequence and hash under the audit key (KMS), base64.
    mac: str = ""


class PrivacyReceiptRecord(Record):
    """What a data-subject request did, kept without the number (nor its hash)."""

    request_id: str
    kind: str
    reason: str
    requested_by: str
    requested_at: datetime
    completed_at: datetime
    # Records found (access), changed (rectification) or erased (erasure), by kind.
    counts: dict[str, int] = {}
    attributes: list[str] = []
    suppression: str | None = None
