"""Delivery events: each End User Messaging event moves one message record forward, never back."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.tables import CampaignStore, MessageStore
from cloison.models.events import DeliveryEvent
from cloison.models.records import MessageStatus
from cloison.observability import logger

# Records only move to a higher rank, so late, duplicated or reordered events change nothing.
STATUS_RANK = {
    MessageStatus.DEFERRED: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.EXPIRED: 3,
    MessageStatus.SUPPRESSED: 9,
    MessageStatus.NO_CONSENT: 9,
    MessageStatus.INVALID: 9,
}
FAILED_EVENTS = frozenset(
    {
        "TEXT_BLOCKED",
        "TEXT_CARRIER_UNREACHABLE",
        "TEXT_INVALID",
        "TEXT_INVALID_MESSAGE",
        "TEXT_CARRIER_BLOCKED",
        "TEXT_UNREACHABLE",
        "TEXT_SPAM",
        "TEXT_PROTECT_BLOCKED",
    }
)
EXPIRED_EVENTS = frozenset({"TEXT_TTL_EXPIRED", "TEXT_UNKNOWN"})


def status_of(event_type: str) -> MessageStatus | None:
    """The message status an event type means, or None for events that change nothing."""
    if event_type == "TEXT_SUCCESSFUL":
        return MessageStatus.SENT
    if event_type == "TEXT_DELIVERED":
        return MessageStatus.DELIVERED
    if event_type in FAILED_EVENTS:
        return MessageStatus.FAILED
    if event_type in EXPIRED_EVENTS:
        return MessageStatus.EXPIRED
    return None


@dataclass
class DeliveryRecorder:
    messages: MessageStore
    campaigns: CampaignStore

    def record(self, events: Iterable[DeliveryEvent]) -> int:
        """Applies a batch of events; campaign counters take one update per campaign per batch."""
        counts: dict[str, Counter[str]] = {}
        applied = 0
        for event in events:
            status = status_of(event.event_type)
            campaign_id = event.context.get("campaign")
            number_key = event.context.get("recipient")
            if status is None:
                continue
            if not campaign_id or not number_key:
                logger.warning(
                    "delivery event without Cloison context", extra={"event_type": event.event_type}
                )
                continue
            former = self.messages.advance(
                campaign_id, number_key, status, STATUS_RANK[status], datetime.now(UTC)
            )
            if former is None:
                continue
            counter = counts.setdefault(campaign_id, Counter())
            counter[status.value] += 1
            # Delivered before its "sent" event arrived: it was sent all the same.
            if status == MessageStatus.DELIVERED and former < STATUS_RANK[MessageStatus.SENT]:
                counter[MessageStatus.SENT.value] += 1
            applied += 1
        for campaign_id, counter in counts.items():
            self.campaigns.add_counts(campaign_id, dict(counter))
        return applied
