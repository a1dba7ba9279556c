"""Consents, suppressions and sender profiles."""

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from cloison.compliance.keywords import KEYWORD_PATTERN
from cloison.models.api.common import (
    AuditReason,
    Input,
    Instant,
    PhoneText,
    ReasonCode,
    Scrubbed,
    TeamName,
)
from cloison.models.api.notices import NoticeHash

POOL_ARN_PATTERN = r"^arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:[0-9]{12}:pool/[A-Za-z0-9_-]+$"


class ConsentIn(Input):
    team: TeamName
    phone: PhoneText
    source: Annotated[
        str, Field(min_length=1, max_length=200, description="Where consent was given."), Scrubbed
    ]
    proof: Annotated[
        str,
        Field(min_length=1, max_length=2000, description="Text the person agreed to."),
        Scrubbed,
    ]
    purpose: Annotated[str, Field(min_length=1, max_length=200)] = "marketing"
    given_at: Instant | None = None
    notice: NoticeHash | None = Field(
        default=None,
        description="The version of the team's notice the person saw, by its hash "
        "(`GET /teams/{team}/notice`).",
    )


class Consent(BaseModel):
    model_config = ConfigDict(defer_build=True)
    team: str
    phone: str
    purpose: str
    given_at: datetime
    recorded_by: str
    notice: str | None = Field(
        default=None, description="The hash of the notice version the person saw."
    )


class ConsentWithdrawalIn(Input):
    team: TeamName
    phone: PhoneText
    purpose: Annotated[str, Field(min_length=1, max_length=200)] = "marketing"
    reason: Annotated[
        str,
        Field(min_length=1, max_length=200, description="Why, e.g. `asked by phone`."),
        Scrubbed,
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
    reason: Annotated[str, Field(min_length=1, max_length=200), Scrubbed]
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
    origination: Annotated[
        str | None,
        Field(
            pattern=POOL_ARN_PATTERN,
            max_length=256,
            description=(
                "The ARN of the team's own pool in End User Messaging (its team stack's "
                "`TeamPoolArn` output), holding its own short code, number or sender ID; "
                "absent, the profile sends from the stack's shared pool. The pool must keep its "
                "opt-outs on the stack's opt-out list, manage them itself and publish replies "
                "to the stack's inbound topic, as the team stack makes it: replies to its "
                "numbers are the team's alone."
            ),
        ),
    ] = None
    keyword: Annotated[
        str | None,
        Field(
            pattern=KEYWORD_PATTERN,
            description=(
                "A word people text to the profile's number (the shared one without "
                "`origination`) to sign up to the team's SMS, confirmed by a reply as on the "
                "team's sign-up page; not a word that already means something in a reply "
                "(STOP, START, AIDE, OUI...)."
            ),
        ),
    ] = None


class SenderProfile(SenderProfileIn):
    team: str
    name: str
    numbers: list[str] = Field(
        default=[],
        description="The team's own numbers people can write to; empty on the shared pool.",
    )
    receives_replies: bool = Field(
        default=True,
        description=(
            "Whether replies to this profile's messages reach Cloison: false for a pool of "
            "sender IDs only, which nobody can write back to (French alphanumeric sender IDs)."
        ),
    )


class SenderProfileList(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[SenderProfile] = Field(description="The team's sender profiles, by name.")
