"""Request and response bodies of the HTTP API."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

TeamName = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$", description="Team slug, e.g. `sales`.")
]
PhoneText = Annotated[
    str, Field(min_length=3, max_length=32, description="Phone number as written.")
]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class Input(BaseModel):
    """Inputs reject unknown fields: a typo is an error, not a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CampaignKind(StrEnum):
    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LAUNCHING = "launching"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class CampaignIn(Input):
    team: TeamName
    name: Annotated[str, Field(min_length=1, max_length=120)]
    sender: Identifier = Field(description="Name of one of the team's sender profiles.")
    kind: CampaignKind
    body: Annotated[
        str, Field(min_length=1, max_length=1600, description="Template; `{name}` variables.")
    ]


class Campaign(BaseModel):
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


class RecipientIn(Input):
    phone: PhoneText
    variables: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")],
        Annotated[str, Field(max_length=200)],
    ] = Field(default_factory=dict, max_length=20)
    departement: Annotated[str | None, Field(pattern=r"^(\d{2,3}|2[AB])$")] = None


class AudienceIn(Input):
    recipients: Annotated[list[RecipientIn], Field(min_length=1, max_length=10_000)]


class RowError(BaseModel):
    row: int = Field(description="1-based position of the recipient in the request.")
    field: str
    reason: str


class AudienceResult(BaseModel):
    accepted: int
    rejected: list[RowError]
    total_recipients: int


class LaunchIn(Input):
    at: datetime | None = Field(
        default=None, description="Launch at this instant; now when absent."
    )


class Preview(BaseModel):
    text: str
    encoding: str
    segments: int
    non_gsm: list[str]
    recipients: int
    estimated_cost: float


class CampaignStats(BaseModel):
    campaign_id: str
    status: CampaignStatus
    recipients: int
    counts: dict[str, int]
    segments: int
    cost: float


class ReplySummary(BaseModel):
    id: str
    team: str
    campaign_id: str | None
    received_at: datetime
    reply_class: str
    sensitive: bool


class ReplyList(BaseModel):
    items: list[ReplySummary]


class ReplyDetail(ReplySummary):
    body: str


class ConsentIn(Input):
    team: TeamName
    phone: PhoneText
    source: Annotated[
        str, Field(min_length=1, max_length=200, description="Where consent was given.")
    ]
    proof: Annotated[
        str, Field(min_length=1, max_length=2000, description="Text the person agreed to.")
    ]
    purpose: Annotated[str, Field(min_length=1, max_length=200)] = "marketing"
    given_at: datetime | None = None


class Consent(BaseModel):
    team: str
    phone: str
    purpose: str
    given_at: datetime
    recorded_by: str


class SuppressionIn(Input):
    team: TeamName
    phone: PhoneText
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class Suppression(BaseModel):
    phone: str
    reason: str
    created_at: datetime


class SenderProfileIn(Input):
    sender_id: Annotated[
        str, Field(min_length=3, max_length=11, description="Alphanumeric sender ID or short code.")
    ]
    stop_mention: Annotated[str, Field(min_length=4, max_length=40)] = "STOP au 36111"
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


class SenderProfile(SenderProfileIn):
    team: str
    name: str


class Health(BaseModel):
    status: str
