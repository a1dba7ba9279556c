"""Pages of a caller's campaigns across their teams, newest first, and the cursor to the next.

Each team's listing is one query on the `by-team` index. A page merges them and keeps the newest;
the cursor says, per team, after which campaign its query resumes (its last one listed), so that
pages neither skip nor repeat a campaign, ties in creation time included.
"""

import base64
import binascii
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cloison.adapters.tables import CampaignPosition, CampaignStore
from cloison.errors import RuleViolation
from cloison.models.records import CampaignRecord

NOT_OURS = "is not a cursor this API gave"
OTHER_LISTING = "belongs to a listing with other filters"
_CAMPAIGN_ID = re.compile(r"c-[A-Za-z0-9-]{1,100}")

# Where each team's listing resumes: after a campaign, or at its start (None). A team whose
# campaigns have all been listed is left out.
Positions = dict[str, CampaignPosition | None]


def campaign_page(
    store: CampaignStore,
    teams: Sequence[str],
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[CampaignRecord], str | None]:
    """Up to `limit` campaigns of `teams`, newest first, from `cursor` on; and the next cursor
    (None when every team's campaigns have been listed)."""
    positions = _decode(cursor, teams, status) if cursor else dict.fromkeys(teams)
    fetched = {
        team: store.of_team(team, status=status, after=after, limit=limit)
        for team, after in positions.items()
    }
    # A stable sort: each team's campaigns keep their query's order, so those listed from a
    # team are the first of its query's, and the next page resumes after the last of them.
    merged = sorted(
        (record for records, _ in fetched.values() for record in records),
        key=lambda record: record.created_at,
        reverse=True,
    )
    page = merged[:limit]
    following: Positions = {}
    for team, (records, more) in fetched.items():
        listed = sum(1 for record in page if record.team == team)
        if more or listed < len(records):
            last = records[listed - 1] if listed else None
            following[team] = (
                CampaignPosition(last.created_at, last.campaign_id) if last else positions[team]
            )
    return page, (_encode(following, status) if following else None)


def _encode(positions: Positions, status: str | None) -> str:
    document = {
        "status": status,
        "after": {
            team: [at.created_at.isoformat(), at.campaign_id] if at else None
            for team, at in positions.items()
        },
    }
    return base64.urlsafe_b64encode(json.dumps(document, sort_keys=True).encode()).decode()


def _decode(cursor: str, teams: Sequence[str], status: str | None) -> Positions:
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RuleViolation("cursor", NOT_OURS) from exc
    after = document.get("after") if isinstance(document, dict) else None
    if not isinstance(after, dict):
        raise RuleViolation("cursor", NOT_OURS)
    if document.get("status") != status or not set(after) <= set(teams):
        raise RuleViolation("cursor", OTHER_LISTING)
    return {team: _position(value) for team, value in after.items()}


def _position(value: Any) -> CampaignPosition | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise RuleViolation("cursor", NOT_OURS)
    created_at, campaign_id = value
    try:
        at = datetime.fromisoformat(created_at)
    except ValueError as exc:
        raise RuleViolation("cursor", NOT_OURS) from exc
    if at.tzinfo is None or not _CAMPAIGN_ID.fullmatch(campaign_id):
        raise RuleViolation("cursor", NOT_OURS)
    return CampaignPosition(at, campaign_id)
