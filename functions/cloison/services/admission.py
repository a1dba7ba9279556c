"""An upload's recipients admitted to a campaign's audience: read from JSON or CSV, each number
valid, its message composable, and in the audience once, whatever the upload it came in."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import audience_print
from cloison.compliance.errors import InvalidDepartement, InvalidPhoneNumber
from cloison.compliance.phone import Phone, normalize_phone
from cloison.compliance.territories import normalize_departement
from cloison.errors import RuleViolation
from cloison.models.api.campaigns import AudienceIn, AudienceResult, RowError
from cloison.models.records import AudienceMember, CampaignRecord, SenderRecord
from cloison.services.audience import AudienceWriter
from cloison.services.audience_csv import parse_audience_csv
from cloison.services.campaign_text import body_variables, compose_checked

# A response lists this many rejected rows at most (a Lambda response holds 6 MB); all are counted.
MAX_LISTED_ERRORS = 10_000


@dataclass(frozen=True)
class Candidate:
    """A recipient read from an upload, its number already valid."""

    row: int
    phone: Phone
    variables: Mapping[str, str]
    departement: str | None


def from_json(audience: AudienceIn) -> tuple[list[Candidate], list[RowError]]:
    """The recipients of a JSON upload whose number and département read; the others by row."""
    candidates: list[Candidate] = []
    rejected: list[RowError] = []
    for row, recipient in enumerate(audience.recipients, start=1):
        try:
            phone = normalize_phone(recipient.phone)
            departement = (
                normalize_departement(recipient.departement) if recipient.departement else None
            )
        except InvalidPhoneNumber as exc:
            rejected.append(RowError(row=row, field="phone", reason=exc.reason))
            continue
        except InvalidDepartement:
            rejected.append(
                RowError(row=row, field="departement", reason="is not a département code")
            )
            continue
        candidates.append(Candidate(row, phone, recipient.variables, departement))
    return candidates, rejected


def from_csv(data: bytes, body: str) -> tuple[list[Candidate], list[RowError]]:
    """The rows of a CSV upload that read (each variable of `body` a column); the others by line."""
    # Too large (413) or unreadable as a whole (422): raised as the errors they are.
    parsed = parse_audience_csv(data, required=body_variables(body))
    rejected = [
        RowError(row=error.line, field=error.field, reason=error.reason) for error in parsed.errors
    ]
    candidates = [
        Candidate(row.line, row.phone, row.variables, row.departement) for row in parsed.recipients
    ]
    return candidates, rejected


def admit(
    audiences: AudienceWriter,
    hasher: NumberHasher,
    campaign: CampaignRecord,
    sender: SenderRecord,
    candidates: Iterable[Candidate],
    rejected: list[RowError],
) -> AudienceResult:
    """Keeps the candidates whose message can be composed, once per number, as one upload."""
    accepted: list[AudienceMember] = []
    first_row: dict[str, int] = {}
    # The numbers of the campaign's earlier uploads (the command line's parts of one CSV
    # are uploads of their own): a number is sent once per campaign, whatever the upload.
    held = audiences.already_held(campaign)
    for candidate in candidates:
        try:
            compose_checked(
                campaign.body,
                campaign.kind.value,
                sender,
                dict(candidate.variables),
                placeholder=False,
            )
        except RuleViolation as exc:
            field = exc.field if exc.field.startswith("variables") else "variables"
            rejected.append(RowError(row=candidate.row, field=field, reason=exc.reason))
            continue
        e164 = candidate.phone.e164
        if e164 in first_row:
            rejected.append(
                RowError(
                    row=candidate.row,
                    field="phone",
                    reason=f"is the same number as row {first_row[e164]}",
                )
            )
            continue
        first_row[e164] = candidate.row
        number_key = hasher.key(e164)
        if audience_print(number_key) in held:
            rejected.append(
                RowError(
                    row=candidate.row,
                    field="phone",
                    reason="is already in the campaign's audience (an earlier upload)",
                )
            )
            continue
        accepted.append(
            AudienceMember(
                e164=e164,
                number_key=number_key,
                variables=dict(candidate.variables),
                departement=candidate.departement,
            )
        )
    if accepted:
        audiences.append(campaign, accepted, rejected=len(rejected))
    rejected.sort(key=lambda error: error.row)
    return AudienceResult(
        accepted=len(accepted),
        rejected=rejected[:MAX_LISTED_ERRORS],
        rejected_count=len(rejected),
        total_recipients=campaign.recipient_count + len(accepted),
    )
