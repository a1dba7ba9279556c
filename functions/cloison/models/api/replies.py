"""Replies: summaries, bodies and reviews."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
)

from cloison.models.api.common import Input, PhoneText


class ReplySummary(BaseModel):
    # Read from a stored reply's attributes (`models.records.ReplyRecord`).
    model_config = ConfigDict(defer_build=True, from_attributes=True)
    id: str = Field(validation_alias=AliasChoices("id", "reply_id"))
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
