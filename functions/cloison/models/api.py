"""Request and response bodies of the HTTP API."""

import re
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal, Self
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from cloison.compliance.phone import scrub_numbers

# Re-exported: requests and answers speak of them too.
from cloison.models.kinds import CampaignKind as CampaignKind
from cloison.models.kinds import CampaignStatus as CampaignStatus

TEAM_PATTERN = r"^[a-z][a-z0-9-]{1,30}$"
AUDIT_ACTION_PATTERN = r"^[a-z]+\.[a-z_]+$"
AUDIT_ENTRY_PATTERN = r"^au-[0-9a-f]{16}$"
TeamName = Annotated[str, Field(pattern=TEAM_PATTERN, description="Team slug, e.g. `sales`.")]
VariableName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")]
Departement = Annotated[str, Field(pattern=r"^([0-9]{2,3}|2[AB])$")]
PhoneText = Annotated[
    str, Field(min_length=3, max_length=32, description="Phone number as written.")
]
# Free text people type (a reason, where a consent was given, its proof): every run of digits
# that could be a phone number is masked as it is taken in, so that no store, answer, export
# or audit entry holds one in clear ("Rappeler au 06 12 34 56 78" -> "Rappeler au ***78").
FreeText = Annotated[str, AfterValidator(scrub_numbers)]
IDENTIFIER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
_WRITTEN_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _written_instant(value: object) -> object:
    # pydantic alone also reads a number, or a string of digits, as seconds since 1970.
    if isinstance(value, datetime) or (isinstance(value, str) and _WRITTEN_INSTANT.match(value)):
        return value
    raise ValueError("write a date and time, e.g. 2026-12-01T10:00:00+01:00")


# With its offset: a time without one would be read in whatever zone the function runs in.
Instant = Annotated[AwareDatetime, BeforeValidator(_written_instant)]


class AuditReason(StrEnum):
    """Why a person acted, as the audit trail keeps it for five years: a code, never free text.

    What they wrote (`reason`) is kept beside the entry as a sealed note that an erasure of the
    number, or a privacy officer, can destroy without breaking the chain.
    """

    PERSON_ASKED = "person_asked"  # the person asked (phone, letter, e-mail, in person)
    COMPLAINT = "complaint"  # a complaint, from the person, an operator or the CNIL
    LEGAL_OBLIGATION = "legal_obligation"  # the law, a court or an authority requires it
    DATA_ERROR = "data_error"  # what was recorded is wrong
    TEAM_POLICY = "team_policy"  # the organisation's own rule
    OTHER = "other"


ReasonCode = Annotated[
    AuditReason,
    Field(
        description="Why, as the audit trail keeps it: `person_asked`, `complaint`, "
        "`legal_obligation`, `data_error`, `team_policy` or `other` (the default). The "
        "`reason` text is kept beside the entry as a sealed note, erasable."
    ),
]


class Input(BaseModel):
    """Inputs reject unknown fields: a typo is an error, not a silently ignored setting."""

    # Every model here is built at first use: the functions without routes import this module
    # (through the services they share with the API) and never build most of its models.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    @field_validator("*", mode="after")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        # Trimmed after the documented constraints held, so that the OpenAPI document's lengths
        # are the ones checked; what is left must not be blank.
        if type(value) is str:  # not a StrEnum member
            trimmed = value.strip()
            if value and not trimmed:
                raise ValueError("is blank")
            return trimmed
        return value


class CampaignIn(Input):
    team: TeamName
    name: Annotated[str, Field(min_length=1, max_length=120)]
    sender: Identifier = Field(description="Name of one of the team's sender profiles.")
    kind: CampaignKind
    body: Annotated[
        str, Field(min_length=1, max_length=1600, description="Template; `{name}` variables.")
    ]


class Occurrence(BaseModel):
    """One firing of a recurring campaign: a campaign of its own, with its own /stats."""

    model_config = ConfigDict(defer_build=True)

    id: str
    scheduled_at: datetime = Field(description="The firing's scheduled time.")
    status: CampaignStatus


class Campaign(BaseModel):
    model_config = ConfigDict(defer_build=True)
    id: str
    team: str
    name: str
    sender: str
    kind: CampaignKind
    body: str
    status: CampaignStatus
    recipients: int
    created_at: datetime
    created_by: str
    launch_at: datetime | None = None
    schedule: str | None = Field(
        default=None, description="Recurring EventBridge Scheduler expression, if any."
    )
    schedule_timezone: str | None = None
    occurrence_of: str | None = Field(
        default=None,
        description="The recurring campaign whose firing (at `launch_at`) this campaign is.",
    )
    occurrences: list[Occurrence] | None = Field(
        default=None,
        description=(
            "A recurring campaign's latest occurrences (at most 20), newest first; "
            "null for other campaigns."
        ),
    )


MAX_JSON_RECIPIENTS = 5_000


class RecipientIn(Input):
    phone: PhoneText
    variables: dict[
        VariableName,
        Annotated[str, Field(max_length=200)],
    ] = Field(
        default_factory=dict,
        max_length=20,
        # Only names of the pattern: say so in the schema, as the model does.
        json_schema_extra={"additionalProperties": False},
    )
    departement: Departement | None = None


class AudienceIn(Input):
    recipients: Annotated[list[RecipientIn], Field(min_length=1, max_length=MAX_JSON_RECIPIENTS)]


class RowError(BaseModel):
    model_config = ConfigDict(defer_build=True)
    row: int = Field(
        description="JSON: 1-based position in `recipients`; CSV: line number, the header being line 1."
    )
    field: str
    reason: str


class AudienceResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    accepted: int
    rejected: list[RowError] = Field(
        description="Each rejected row with its reason, in row order (the first 10,000)."
    )
    rejected_count: int = Field(description="Every rejected row, listed or not.")
    total_recipients: int


# EventBridge Scheduler's expressions: at(), rate() and cron() with six fields.
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_RATE = re.compile(r"rate\(([1-9]\d{0,5}) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?,/#\-]+")


@lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def schedule_expression_problem(expression: str) -> str | None:
    """Why `expression` is not an EventBridge Scheduler expression, or None if it is one."""
    if _AT.fullmatch(expression):
        try:
            datetime.fromisoformat(expression[3:-1])
        except ValueError:
            return "at() holds no valid date and time"
        return None
    rate = _RATE.fullmatch(expression)
    if rate:
        if (rate.group(1) == "1") != (not rate.group(2).endswith("s")):
            return "rate() takes a singular unit for 1 and a plural one otherwise"
        return None
    cron = _CRON.fullmatch(expression)
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            return "cron() takes six fields: minutes, hours, day of month, month, day of week, year"
        if not all(_CRON_FIELD.fullmatch(field) for field in fields):
            return "cron() fields hold digits, names and the characters * ? , - / # only"
        if (fields[2] == "?") == (fields[4] == "?"):
            return "cron() needs '?' in exactly one of day of month and day of week"
        return None
    return "write at(yyyy-mm-ddThh:mm:ss), rate(n unit) or cron(six fields)"


class LaunchIn(Input):
    at: Instant | None = Field(default=None, description="Launch at this instant; now when absent.")
    schedule: Annotated[str | None, Field(max_length=256)] = Field(
        default=None,
        description=(
            "Launch on a recurring EventBridge Scheduler expression, e.g. `cron(0 10 ? * MON *)`."
        ),
    )
    timezone: Annotated[str | None, Field(max_length=64)] = Field(
        default=None,
        description="IANA time zone of `schedule`, e.g. `Europe/Paris`; UTC if absent.",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule_shape(cls, value: str | None) -> str | None:
        if value is not None:
            problem = schedule_expression_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _iana_zones():
            raise ValueError("is not an IANA time zone, e.g. Europe/Paris")
        return value

    @model_validator(mode="after")
    def _one_way_to_launch(self) -> Self:
        if self.at is not None and self.schedule is not None:
            raise ValueError("give `at` or `schedule`, not both")
        if self.timezone is not None and self.schedule is None:
            raise ValueError("`timezone` goes with `schedule`")
        return self


class PreviewCounts(BaseModel):
    """Recipients by what the send path would do with them now; each counted once."""

    model_config = ConfigDict(defer_build=True)

    valid: int = Field(description="Would be sent now.")
    deferred: int = Field(description="Outside their sending window now; sent at its opening.")
    suppressed: int = Field(description="Opted out (STOP) or suppressed for the team.")
    no_consent: int = Field(description="Marketing without a recorded consent.")
    invalid: int = Field(
        description="Rows rejected at upload, and recipients whose message cannot be composed."
    )


class SendingEstimate(BaseModel):
    model_config = ConfigDict(defer_build=True)
    recipients: int = Field(description="Recipients that will be sent: valid and deferred.")
    mps: int = Field(description="Messages per second the sender may send.")
    sending_seconds: float = Field(description="Time spent sending at the sender's MPS.")
    windows: int = Field(description="Sending windows the send spreads over.")
    starts_at: datetime | None = None
    ends_at: datetime | None = Field(
        default=None, description="When the last message goes, waiting for windows included."
    )


class ContentWarningOut(BaseModel):
    model_config = ConfigDict(defer_build=True)
    code: str = Field(description="Stable identifier, e.g. `link-shortener`.")
    detail: str


class Preview(BaseModel):
    model_config = ConfigDict(defer_build=True)
    text: str = Field(description="Final text for the first recipient, STOP mention included.")
    encoding: str
    segments: int
    non_gsm: list[str] = Field(description="The characters that forced UCS-2.")
    recipients: int
    estimated: bool = Field(
        description="True when the counts were extrapolated from a sample of the audience."
    )
    counts: PreviewCounts
    estimated_cost: float = Field(description="Segments of the recipients to be sent, priced.")
    sending: SendingEstimate
    warnings: list[ContentWarningOut]


class CampaignStats(BaseModel):
    model_config = ConfigDict(defer_build=True)
    campaign_id: str
    status: CampaignStatus
    recipients: int
    counts: dict[str, int]
    deliverability: float | None = Field(
        description="delivered / (delivered + failed + expired); null until a message is final."
    )
    segments: int
    cost: float


class ReplySummary(BaseModel):
    model_config = ConfigDict(defer_build=True)
    id: str
    team: str
    campaign_id: str | None
    received_at: datetime
    reply_class: str
    sensitive: bool
    review: str | None = Field(
        default=None, description="`pending` while a person must look at it, then the decision."
    )
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    resubscription: str | None = Field(
        default=None,
        description="What a START did: `lifted`, `no_consent`, `operator_suppression`, "
        "`not_suppressed`, `after_a_later_stop`.",
    )
    quarantined: str | None = Field(
        default=None,
        description="Why the reply is in quarantine: `several_teams` (more than one team "
        "messaged the number in the week before it), `no_message` (none did).",
    )
    answered: bool = Field(
        default=False, description="The automatic HELP or CONTACT answer was sent."
    )


class ReplyList(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[ReplySummary]


class ReplyDetail(ReplySummary):
    body: str


class ReplyReviewIn(Input):
    decision: Annotated[
        Literal["confirm", "lift"],
        Field(
            description="`confirm` keeps the suppression (or acknowledges a sensitive reply); "
            "`lift` says an ambiguous reply was no opt-out (privacy officers only)."
        ),
    ]
    phone: Annotated[
        PhoneText | None,
        Field(description="The reply's number, needed by `lift` to clear the provider's list."),
    ] = None


class ConsentIn(Input):
    team: TeamName
    phone: PhoneText
    source: Annotated[
        FreeText, Field(min_length=1, max_length=200, description="Where consent was given.")
    ]
    proof: Annotated[
        FreeText, Field(min_length=1, max_length=2000, description="Text the person agreed to.")
    ]
    purpose: Annotated[str, Field(min_length=1, max_length=200)] = "marketing"
    given_at: Instant | None = None


class Consent(BaseModel):
    model_config = ConfigDict(defer_build=True)
    team: str
    phone: str
    purpose: str
    given_at: datetime
    recorded_by: str


class ConsentWithdrawalIn(Input):
    team: TeamName
    phone: PhoneText
    purpose: Annotated[str, Field(min_length=1, max_length=200)] = "marketing"
    reason: Annotated[
        FreeText, Field(min_length=1, max_length=200, description="Why, e.g. `asked by phone`.")
    ]
    reason_code: ReasonCode = AuditReason.OTHER


class ConsentWithdrawal(BaseModel):
    """Receipt of a withdrawn consent; the number is masked."""

    model_config = ConfigDict(defer_build=True)

    team: str
    phone: str
    purpose: str
    reason: str
    withdrawn_at: datetime
    withdrawn_by: str


class SuppressionIn(Input):
    team: TeamName
    phone: PhoneText
    reason: Annotated[FreeText, Field(min_length=1, max_length=200)]
    reason_code: ReasonCode = AuditReason.OTHER


class Suppression(BaseModel):
    model_config = ConfigDict(defer_build=True)
    phone: str
    reason: str
    created_at: datetime


class SenderProfileIn(Input):
    sender_id: Annotated[
        str,
        Field(
            min_length=3,
            max_length=11,
            description=(
                "An alphanumeric sender ID (3 to 11 unaccented letters and digits, at least one "
                "letter) or a short code (4 to 8 digits); a phone number is refused."
            ),
        ),
    ]
    stop_mention: Annotated[
        str,
        Field(
            min_length=4,
            max_length=40,
            description=(
                "Ends every marketing message: one line holding the word STOP, "
                "e.g. `STOP au 36111`."
            ),
        ),
    ] = "STOP au 36111"
    window: Annotated[
        str, Field(description="Sending-window preset: default, extended or daily.")
    ] = "default"
    mps: Annotated[
        int, Field(ge=1, le=1000, description="Messages per second the sender may send.")
    ] = 10
    price_per_segment: Annotated[float, Field(ge=0, le=10)] = 0.0458
    company: Annotated[
        str, Field(min_length=1, max_length=80, description="Identity given in HELP answers.")
    ]
    contact: Annotated[
        str | None,
        Field(
            min_length=3,
            max_length=60,
            description="How to reach the sender, given in HELP and CONTACT answers.",
        ),
    ] = None


class SenderProfile(SenderProfileIn):
    team: str
    name: str


class SenderProfileList(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[SenderProfile] = Field(description="The team's sender profiles, by name.")


class Health(BaseModel):
    model_config = ConfigDict(defer_build=True)
    status: str


class AuditRecord(BaseModel):
    """One entry of the audit trail, with the hashes that chain it to the one before."""

    model_config = ConfigDict(defer_build=True)

    sequence: int
    id: str
    at: datetime
    actor: str = Field(description="Who: the Cognito subject, or `system:<name>`.")
    actor_name: str = Field(description="The username or app client id.")
    action: str
    team: str | None
    target: str = Field(description="The object acted on, e.g. `reply/<id>`, `campaign/<id>`.")
    reason: str | None = Field(
        description="Why, as a code (`person_asked`, `complaint`, `legal_obligation`, "
        "`data_error`, `team_policy`, `other`, `not_an_opt_out`); entries written before codes "
        "hold the text, numbers masked."
    )
    note: str | None = Field(
        default=None, description="What the person acting wrote, when it is still kept."
    )
    note_state: Literal["none", "kept", "erased", "altered"] = Field(
        default="none",
        description="`none`: the entry has no note; `kept`: `note` is it; `erased`: destroyed "
        "(an erasure of the number, or a privacy officer); `altered`: the stored note is not "
        "the one the entry was written with, and is not shown.",
    )
    details: dict[str, str]
    prev_hash: str
    hash: str


class NoteErasureIn(Input):
    reason: Annotated[
        FreeText,
        Field(
            min_length=1,
            max_length=500,
            description="Why, e.g. the reference of the person's request; sealed beside the "
            "new entry in turn.",
        ),
    ]
    reason_code: ReasonCode = AuditReason.OTHER


class NoteErasure(BaseModel):
    """An entry's note destroyed; the entry, its code and the chain are as they were."""

    model_config = ConfigDict(defer_build=True)

    entry: str = Field(description="The entry whose note is gone.")
    erased_by: str
    audited_as: str = Field(description="The entry that records the erasure.")


class AuditList(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[AuditRecord] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when there is none."
    )


class AuditBreak(BaseModel):
    """The first entry at which the chain does not hold."""

    model_config = ConfigDict(defer_build=True)

    sequence: int
    id: str | None = Field(description="The entry's id, when it can still be known.")
    reason: Literal["altered", "missing", "unlinked", "head", "uncopied", "forged", "anchor"] = (
        Field(
            description=(
                "`altered`: its content no longer matches its hash, its locked copy or the "
                "anchor of it; `missing`: deleted; `unlinked`: it does not follow the entry "
                "before it; `head`: the record of the chain's last entry is gone or does not "
                "match it; `uncopied`: it has no locked copy though entries follow it; "
                "`forged`: its MAC does not verify (not written with the audit key); `anchor`: "
                "an anchor of the chain's head does not verify."
            )
        )
    )
    detail: str


class AuditVerification(BaseModel):
    model_config = ConfigDict(defer_build=True)
    ok: bool
    checked: int = Field(description="Entries whose hash and link were checked.")
    first: int = Field(description="Where this walk started.")
    last: int | None = Field(description="The last entry checked.")
    head: int | None = Field(description="The chain's last sequence number when the walk began.")
    next: int | None = Field(
        description="Where to start the next walk (`from`) when this one stopped at its limit."
    )
    broken: AuditBreak | None = None


# ---------------------------------------------------------------- data-subject requests
class PrivacyRequestKind(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"


class ContactChanges(Input):
    """New values of a contact's attributes: the variables and département of its audiences."""

    variables: dict[VariableName, Annotated[str, Field(max_length=200)] | None] = Field(
        default_factory=dict,
        json_schema_extra={"additionalProperties": False},
        max_length=20,
        description="New value of each variable; null removes the variable.",
    )
    departement: Departement | None = Field(
        default=None, description="New département (sending window, holidays); null removes it."
    )

    def attributes(self) -> list[str]:
        """The names of the attributes this changes, never their values."""
        names = [f"variables.{name}" for name in sorted(self.variables)]
        return [*names, "departement"] if "departement" in self.model_fields_set else names


class PrivacyRequestIn(Input):
    kind: PrivacyRequestKind
    phone: PhoneText = Field(description="The data subject's number, in any usual form.")
    reason: Annotated[
        FreeText,
        Field(
            min_length=1,
            max_length=500,
            description="Why, e.g. the reference of the person's letter; kept beside the "
            "audit entry as a sealed note (digit runs masked) that an erasure destroys.",
        ),
    ]
    reason_code: ReasonCode = AuditReason.OTHER
    changes: ContactChanges | None = Field(
        default=None, description="Rectification only: what to correct."
    )

    @model_validator(mode="after")
    def _changes_only_for_rectification(self) -> Self:
        if self.kind == PrivacyRequestKind.RECTIFICATION:
            if self.changes is None or not self.changes.attributes():
                raise ValueError("a rectification names at least one change in `changes`")
        elif self.changes is not None:
            raise ValueError("`changes` goes with a rectification only")
        return self


class ExportedConsent(BaseModel):
    model_config = ConfigDict(defer_build=True)
    team: str
    purpose: str
    source: str
    proof: str
    given_at: datetime
    recorded_by: str


class ExportedSuppression(BaseModel):
    model_config = ConfigDict(defer_build=True)
    scope: str = Field(description="`all` (every team) or `team#<team>`.")
    reason: str
    source: str
    evidence: str
    created_at: datetime
    review: bool


class ExportedLift(BaseModel):
    """An opt-out that was lifted (a START, a review): when, and on what evidence."""

    model_config = ConfigDict(defer_build=True)

    scope: str
    lifted_at: datetime
    evidence: str


class ExportedMessage(BaseModel):
    model_config = ConfigDict(defer_build=True)
    campaign_id: str
    team: str
    status: str
    sent_at: datetime | None
    updated_at: datetime


class ExportedReply(BaseModel):
    model_config = ConfigDict(defer_build=True)
    id: str
    team: str
    campaign_id: str | None
    received_at: datetime
    reply_class: str
    body: str | None = Field(description="Decrypted; null if the body was never stored.")


class ExportedAudience(BaseModel):
    """The number's attributes in one audience upload of a campaign."""

    model_config = ConfigDict(defer_build=True)

    campaign_id: str
    team: str
    upload_id: str
    variables: dict[str, str]
    departement: str | None


class ExportedNote(BaseModel):
    model_config = ConfigDict(defer_build=True)
    entry: str = Field(description="The audit entry it was written with.")
    text: str


class SubjectExport(BaseModel):
    """Everything held about one number, decrypted: the answer to an access request."""

    model_config = ConfigDict(defer_build=True)

    phone: str
    generated_at: datetime
    consents: list[ExportedConsent]
    suppressions: list[ExportedSuppression]
    lifted_suppressions: list[ExportedLift]
    messages: list[ExportedMessage]
    replies: list[ExportedReply]
    audiences: list[ExportedAudience]
    notes: list[ExportedNote] = Field(
        default_factory=list,
        description="What people wrote about the number when they acted (audit notes).",
    )


class PrivacyReceipt(BaseModel):
    """What a data-subject request did. Kept without the number; `phone` (masked) and `export`
    come only in the answer to the request itself."""

    model_config = ConfigDict(defer_build=True)

    id: str
    kind: PrivacyRequestKind
    status: Literal["completed"]
    reason: str = Field(
        description="Why, as a code; what the officer wrote is the audit entry's sealed note."
    )
    requested_by: str
    requested_at: datetime
    completed_at: datetime
    counts: dict[str, int] = Field(
        description="Records found (access), changed (rectification) or erased (erasure): "
        "consents, suppressions, messages, replies, reply_versions, audience_chunks, "
        "dead_letters, audit_notes (notes beside audit entries that concern the number)."
    )
    attributes: list[str] = Field(
        default_factory=list, description="Rectification: the attributes changed (names only)."
    )
    suppression: Literal["kept", "added"] | None = Field(
        default=None,
        description="Erasure: the opt-out kept as the number's keyed hash, or added because "
        "consent can no longer be proven.",
    )
    phone: str | None = Field(default=None, description="The number, masked.")
    export: SubjectExport | None = None
