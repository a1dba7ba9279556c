"""The audit trail: listed and verified by auditors; notes erased by privacy officers."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from cloison.http import wiring
from cloison.http.answers import answers
from cloison.http.resolver import caller
from cloison.models.api.audit import AuditList, AuditVerification, NoteErasure, NoteErasureIn
from cloison.models.api.common import (
    AUDIT_ACTION_PATTERN,
    AUDIT_ENTRY_PATTERN,
    TEAM_PATTERN,
    Instant,
)
from cloison.services.audit_chain import MAX_VERIFY_LIMIT, VERIFY_LIMIT

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@router.get(
    "/audit",
    summary="List the audit trail (auditors)",
    description=(
        "Opening a reply, reviewing one, launching, scheduling, pausing, resuming or cancelling "
        "a campaign, recording or withdrawing a consent, adding or lifting a suppression, "
        "changing a sender profile and data-subject requests each write an entry: who, what, "
        "when, which team, which object, why. Newest first; `since` and `until` (with a time "
        "zone) bound `at`, both included; `next_cursor` gives the next page."
    ),
    responses=answers(
        200,
        AuditList,
        "A page of entries.",
        {403: "Requires the auditor role.", 422: "A filter or the cursor is invalid."},
    ),
)
def list_audit(
    team: Annotated[str | None, Query(pattern=TEAM_PATTERN)] = None,
    action: Annotated[str | None, Query(pattern=AUDIT_ACTION_PATTERN, max_length=40)] = None,
    since: Annotated[Instant | None, Query(description="Entries at or after this instant.")] = None,
    until: Annotated[
        Instant | None, Query(description="Entries at or before this instant.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AuditList:
    return wiring.auditor().list(
        caller(),
        team=team,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/audit/verify",
    summary="Check the audit chain (auditors)",
    description=(
        "Walks the chain in sequence order from `from` to `to` (the head when absent), "
        f"`limit` entries at most (default {VERIFY_LIMIT:,}): each entry's hash, its link to the "
        "entry before it and the sequence with no gap; a walk that reaches the head also checks "
        "that nothing follows it and that the last entry matches its locked copy. The answer is "
        "a 200 either way: `ok` says whether the chain holds, `broken` names the first entry at "
        "fault (sequence, id, reason). A walk that stopped at `limit` gives `next`: pass it as "
        "`from` to go on."
    ),
    responses=answers(
        200,
        AuditVerification,
        "The result of the walk, whether the chain holds or not.",
        {403: "Requires the auditor role.", 422: "A bound is invalid."},
    ),
)
def verify_audit(
    first: Annotated[int, Query(alias="from", ge=1, description="First sequence number.")] = 1,
    last: Annotated[
        int | None, Query(alias="to", ge=1, description="Last sequence number.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_VERIFY_LIMIT)] = VERIFY_LIMIT,
) -> AuditVerification:
    return wiring.auditor().verify(caller(), first=first, last=last, limit=limit)


@router.delete(
    "/audit/notes/<entry>",
    summary="Erase the note of an audit entry (privacy officers)",
    description=(
        "What a person wrote when they acted is kept beside the entry, sealed; the entry keeps "
        "a code. An erasure of the number destroys the notes that concern it; this destroys one "
        "note that holds what else must be forgotten (a name, a detail). The entry, its code "
        "and the chain are untouched: `/audit` then shows the note as `erased`. Audited."
    ),
    responses=answers(
        200,
        NoteErasure,
        "The note is gone.",
        {403: "Requires the privacy_officer role.", 404: "No note is kept for this entry."},
        body=True,
    ),
)
def erase_audit_note(
    entry: Annotated[str, Path(pattern=AUDIT_ENTRY_PATTERN)], erasure: NoteErasureIn
) -> NoteErasure:
    return wiring.auditor().erase_note(caller(), entry, erasure)
