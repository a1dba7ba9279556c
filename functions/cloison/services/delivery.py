"""Delivery events: each End User Messaging event creates or moves one message record forward."""

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.tables import CampaignStore, MessageStore
from cloison.errors import DependencyError
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
    MessageStatus.IN_DOUBT: 9,
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
# Backoff of the counter write: the records have moved by then, so it must not be left undone.
COUNT_RETRY_SECONDS = (0.1, 0.3, 0.9, 2.0)


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
        """Applies a batch of events; returns how many records moved.

        Events of one message in the same batch are folded into the furthest one, so that a
        "sent" followed by "delivered" costs one write; campaign counters take one update per
        campaign per batch.
        """
        furthest: dict[str, tuple[DeliveryEvent, MessageStatus]] = {}
        for event in events:
            status = status_of(event.event_type)
            if status is None or "answer_to" in event.context:
                continue  # automatic answers to HELP and CONTACT belong to no campaign
            if not event.context.get("campaign") or not event.context.get("recipient"):
                logger.warning(
                    "delivery event without Cloison context", extra={"event_type": event.event_type}
                )
                continue
            known = furthest.get(event.message_id)
            if known is None or STATUS_RANK[status] > STATUS_RANK[known[1]]:
                furthest[event.message_id] = (event, status)
        counts: dict[str, Counter[str]] = {}
        applied = 0
        failed: DependencyError | None = None
        now = datetime.now(UTC)
        for message_id, (event, status) in furthest.items():
            campaign_id = event.context["campaign"]
            try:
                former = self.messages.advance(
                    campaign_id,
                    event.context.get("team", ""),
                    event.context["recipient"],
                    message_id,
                    status,
                    STATUS_RANK[status],
                    now,
                )
            except DependencyError as exc:
                # The others are still applied and counted; the batch then comes back, and
                # what moved here does not move (nor count) twice.
                failed = exc
                continue
            if former is None:
                continue
            counter = counts.setdefault(campaign_id, Counter())
            counter[status.value] += 1
            # Delivered before its "sent" event was seen: it was sent all the same.
            if status == MessageStatus.DELIVERED and former < STATUS_RANK[MessageStatus.SENT]:
                counter[MessageStatus.SENT.value] += 1
            applied += 1
        for campaign_id, counter in counts.items():
            self._count(campaign_id, dict(counter))
        if failed is not None:
            raise failed
        return applied

    def _count(self, campaign_id: str, counts: dict[str, int]) -> None:
        """Adds a batch's counts, trying again here: once the records have moved, a retry of
        the batch would not count them."""
        for pause in (*COUNT_RETRY_SECONDS, None):
            try:
                self.campaigns.add_counts(campaign_id, counts)
                return
            except DependencyError:
                if pause is None:
                    logger.error("counts lost", extra={"campaign": campaign_id, "counts": counts})
                    raise
                time.sleep(pause)
