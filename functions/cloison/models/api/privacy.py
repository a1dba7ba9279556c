"""Data-subject requests, their receipts and exports."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from cloison.models.api.common import (
    AuditReason,
    Departement,
    Input,
    PhoneText,
    ReasonCode,
    Scrubbed,
    VariableName,
)
from cloison.models.api.notices import NoticeText, by_language


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
        str,
        Field(
            min_length=1,
            max_length=500,
            description="Why, e.g. the reference of the person's letter; kept beside the "
            "audit entry as a sealed note (digit runs masked) that an erasure destroys.",
        ),
        Scrubbed,
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


class ExportedNotice(BaseModel):
    """The version of the team's notice a consent names, as the person saw it."""

    # Read from a stored version's attributes (`models.records.NoticeRecord`), whose `texts`
    # may lack `en`; every answer still has it, null or not.
    model_config = ConfigDict(
        defer_build=True, from_attributes=True, json_schema_serialization_defaults_required=True
    )

    hash: str
    version: int | None = Field(description="Null if no version of the team's has this hash.")
    created_at: datetime | None
    fr: NoticeText | None = Field(validation_alias=by_language("fr"))
    en: NoticeText | None = Field(default=None, validation_alias=by_language("en"))


class ExportedSignup(BaseModel):
    """How a consent given by double opt-in was given: asked on a page, confirmed by SMS."""

    model_config = ConfigDict(defer_build=True)

    page: str = Field(description="The page that took the number.")
    source_address: str | None = Field(description="The address the request came from.")
    requested_at: datetime | None
    confirmed_at: datetime | None
    confirmed_by: str | None = Field(description="The id of the reply that confirmed it.")


class ExportedWaitingSignup(BaseModel):
    """A sign-up asked for the number on a team's page, waiting for the reply to its
    confirmation SMS: no consent yet, and deleted at `expires_at` if none comes."""

    model_config = ConfigDict(defer_build=True)

    team: str
    notice: ExportedNotice = Field(description="The notice the page showed.")
    page: str = Field(description="The page that took the number.")
    language: str = Field(description="The language of the confirmation SMS.")
    keyword: str = Field(
        description="The reply that confirms it, as the SMS asked: `OUI` (`YES`), or `OUI 2` "
        "when another sign-up of the number was waiting already."
    )
    source_address: str = Field(
        description="The network the request came from (IPv4 /24, IPv6 /48), not the address: "
        "until the person confirms, whoever typed the number may be someone else."
    )
    requested_at: datetime
    expires_at: datetime


class ExportedSignupLimit(BaseModel):
    """The recent sign-up requests for the number, as the limit per number counts them."""

    model_config = ConfigDict(defer_build=True)

    limit: Literal["number"] = Field(description="The limit whose count this is.")
    window_hours: int = Field(description="How far back the limit counts.")
    requested_at: list[datetime] = Field(description="The requests it counted, oldest first.")


class ExportedConsent(BaseModel):
    model_config = ConfigDict(defer_build=True)
    team: str
    purpose: str
    source: str
    proof: str
    given_at: datetime
    recorded_by: str
    notice: ExportedNotice | None = Field(
        default=None, description="The notice the person saw, when the consent names one."
    )
    signup: ExportedSignup | None = Field(
        default=None, description="The request and its confirmation, for a double opt-in."
    )


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
    signups: list[ExportedWaitingSignup] = Field(
        default_factory=list,
        description="Sign-ups waiting for the person's confirmation by SMS, the latest first.",
    )
    signup_limits: list[ExportedSignupLimit] = Field(
        default_factory=list,
        description="The counts of sign-up requests kept by the number (its keyed hash).",
    )
    marketing_messages_counted: int = Field(
        default=0,
        description=(
            "Marketing messages, every team's, counted against the number's frequency cap now: "
            "those sent within the cap's period (FrequencyCapDays) before the export."
        ),
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
        "dead_letters, audit_notes (notes beside audit entries that concern the number), "
        "signups (waiting for their confirmation), signup_limits (counts of its requests),"
        "frequency_caps (the item counting its marketing messages, 0 or 1)."
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
