"""What every request and answer of the API shares: patterns, field types, the audit's reason
codes, and `Input`, which refuses unknown fields."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from cloison.compliance.masking import scrub_numbers

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
# It goes after the field's `Field(...)`, so that the length is measured on what was sent: a
# text of 300 digits is refused for its length, not kept as `***00`.
Scrubbed = AfterValidator(scrub_numbers)
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


class Health(BaseModel):
    model_config = ConfigDict(defer_build=True)
    status: str
