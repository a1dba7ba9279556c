"""A team's notice: what a person is told before they consent, in French and in English."""

from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field

from cloison.models.api.common import Input, Scrubbed

NOTICE_HASH_PATTERN = r"^[0-9a-f]{64}$"
NoticeHash = Annotated[
    str,
    Field(
        pattern=NOTICE_HASH_PATTERN,
        description="A version of the team's notice, by its hash (64 lowercase hex digits).",
    ),
]


class NoticeText(Input):
    """The notice in one language. Digit runs long enough to be a phone number are masked, as
    in all free text: a short code (`STOP au 36111`) is kept."""

    # Also read from a stored wording's attributes (`models.records.NoticeWording`).
    model_config = ConfigDict(from_attributes=True)

    organisation: Annotated[
        str,
        Field(min_length=1, max_length=300, description="Who writes: the organisation."),
        Scrubbed,
    ]
    purpose: Annotated[
        str, Field(min_length=1, max_length=1000, description="Why it writes."), Scrubbed
    ]
    frequency: Annotated[
        str,
        Field(min_length=1, max_length=300, description="How often, e.g. `2 SMS par mois`."),
        Scrubbed,
    ]
    retention: Annotated[
        str,
        Field(min_length=1, max_length=500, description="How long the number is kept."),
        Scrubbed,
    ]
    rights: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2000,
            description="The person's rights and how to exercise them.",
        ),
        Scrubbed,
    ]
    stop: Annotated[
        str,
        Field(min_length=1, max_length=300, description="How to stop, e.g. `STOP au 36111`."),
        Scrubbed,
    ]


class NoticeIn(Input):
    fr: NoticeText = Field(description="The notice in French (required).")
    en: NoticeText | None = Field(default=None, description="The notice in English.")


def by_language(language: str) -> AliasChoices:
    """A text read by its language, from an answer's field or a stored version's `texts`."""
    return AliasChoices(language, AliasPath("texts", language))


class Notice(NoticeIn):
    """One version of a team's notice, as it was put."""

    # Read from a stored version's attributes (`models.records.NoticeRecord`).
    model_config = ConfigDict(from_attributes=True)

    fr: NoticeText = Field(
        description="The notice in French (required).", validation_alias=by_language("fr")
    )
    en: NoticeText | None = Field(
        default=None, description="The notice in English.", validation_alias=by_language("en")
    )
    team: str
    version: int = Field(description="1 for the first version, then one more for each.")
    hash: str = Field(
        description="SHA-256 of the canonical JSON of the texts; what a consent names."
    )
    created_at: datetime
    created_by: str


class NoticeVersion(BaseModel):
    # Read from a stored version's attributes (`models.records.NoticeRecord`).
    model_config = ConfigDict(defer_build=True, from_attributes=True)
    version: int
    hash: str
    created_at: datetime
    created_by: str


class NoticeVersionList(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[NoticeVersion] = Field(description="The notice's versions, newest first.")
