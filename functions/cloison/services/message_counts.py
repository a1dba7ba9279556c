"""Campaign counters derived from the message records' changes, each change counted once.

The delivery path moves records; the table's stream hands every change (old and new image) to
the counting function, in order per item, in batches. A batch's counts are added per campaign
with a marker of the batch in the same transaction: a batch that comes back after a failure or a
crash adds nothing twice, and a record that moved is never left uncounted.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cloison.adapters.tables import CampaignStore
from cloison.errors import DependencyError
from cloison.models.records import MessageStatus
from cloison.observability import logger
from cloison.services.delivery_events import STATUS_RANK

# Longer than the stream keeps a record (24 hours), so a batch is recognised for as long as it
# can come back.
MARKER_LIFETIME = timedelta(days=2)


@dataclass(frozen=True)
class RecordChange:
    """One message record's status before and after a write (None: no record, or no status)."""

    campaign_id: str
    before: MessageStatus | None
    after: MessageStatus | None


def counted(before: MessageStatus | None, after: MessageStatus | None) -> dict[str, int]:
    """What a record's change adds to its campaign's counters."""
    if after is None or after == before:
        return {}
    counts = {after.value: 1}
    # Delivered before its "sent" event was seen (or with final events only): sent all the same.
    if after == MessageStatus.DELIVERED and (
        before is None or STATUS_RANK[before] < STATUS_RANK[MessageStatus.SENT]
    ):
        counts[MessageStatus.SENT.value] = 1
    return counts


def counts_by_campaign(changes: Iterable[RecordChange]) -> dict[str, Counter[str]]:
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for change in changes:
        totals[change.campaign_id].update(counted(change.before, change.after))
    return {campaign: counts for campaign, counts in totals.items() if counts}


@dataclass
class MessageCounter:
    campaigns: CampaignStore

    def apply(self, batch: str, changes: Iterable[RecordChange]) -> int:
        """Adds a batch's counts, once per campaign; returns how many campaigns it added to.

        `batch` names the batch (its first and last sequence numbers): the same for every
        delivery of it. A failed campaign does not stop the others; the batch then comes back
        and only what failed is added.
        """
        expires_at = int((datetime.now(UTC) + MARKER_LIFETIME).timestamp())
        added = 0
        failed: DependencyError | None = None
        for campaign_id, counts in counts_by_campaign(changes).items():
            try:
                added += self.campaigns.add_counts_once(campaign_id, counts, batch, expires_at)
            except DependencyError as exc:
                logger.warning("counts not added yet", extra={"campaign": campaign_id})
                failed = exc
        if failed is not None:
            raise failed
        return added
