"""The audit trail's entries, listings, verification and note erasures."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from cloison.models.api.common import AuditReason, Input, ReasonCode, Scrubbed


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
        str,
        Field(
            min_length=1,
            max_length=500,
            description="Why, e.g. the reference of the person's request; sealed beside the "
            "new entry in turn.",
        ),
        Scrubbed,
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
