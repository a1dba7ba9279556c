"""Campaigns: their creation, audiences, launches, previews and counts."""

import re
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Self
from zoneinfo import available_timezones

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from cloison.models.api.common import (
    Departement,
    Identifier,
    Input,
    Instant,
    PhoneText,
    TeamName,
    VariableName,
)
from cloison.models.kinds import CampaignKind, CampaignStatus


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
    # Read from a stored campaign's attributes (`models.records.CampaignRecord`).
    model_config = ConfigDict(defer_build=True, from_attributes=True)
    id: str = Field(validation_alias=AliasChoices("id", "campaign_id"))
    team: str
    name: str
    sender: str
    kind: CampaignKind
    body: str
    status: CampaignStatus
    recipients: int = Field(validation_alias=AliasChoices("recipients", "recipient_count"))
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
    capped: int = Field(
        description=(
            "Marketing to numbers that already had the deployment's most marketing messages in "
            "its period (every team's), at the time each would be sent."
        )
    )
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


class PreviewOrigination(BaseModel):
    """What the campaign is sent from, and whether people can write back to it."""

    model_config = ConfigDict(defer_build=True)
    identity: str = Field(
        description="`shared` (the stack's pool) or the ARN of the team's own pool."
    )
    numbers: list[str] = Field(description="The team's own numbers; empty on the shared pool.")
    receives_replies: bool = Field(
        description=(
            "Whether replies (STOP included) reach Cloison: false for a pool of sender IDs "
            "only, which French networks let nobody answer."
        )
    )


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
    origination: PreviewOrigination
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
