"""Delivery events: each End User Messaging event creates or moves one message record forward."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.tables import MessageStore
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
    MessageStatus.CAPPED: 9,
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

    def record(self, events: Iterable[DeliveryEvent]) -> int:
        """Applies a batch of events; returns how many records moved.

        Events of one message in the same batch are folded into the furthest one, so that a
        "sent" followed by "delivered" costs one write. Campaign counters follow from the
        records' changes (services/message_counts.py), never from here: a worker that dies after
        moving a record leaves nothing uncounted.
        """
        furthest: dict[str, tuple[DeliveryEvent, MessageStatus]] = {}
        for event in events:
            status = status_of(event.event_type)
            if status is None or "answer_to" in event.context or "signup" in event.context:
                # Automatic answers to HELP and CONTACT, sign-up confirmations: no campaign's.
                continue
            if not event.context.get("campaign") or not event.context.get("recipient"):
                logger.warning(
                    "delivery event without Cloison context", extra={"event_type": event.event_type}
                )
                continue
            known = furthest.get(event.message_id)
            if known is None or STATUS_RANK[status] > STATUS_RANK[known[1]]:
                furthest[event.message_id] = (event, status)
        applied = 0
        failed: DependencyError | None = None
        now = datetime.now(UTC)
        for message_id, (event, status) in furthest.items():
            try:
                former = self.messages.advance(
                    event.context["campaign"],
                    event.context.get("team", ""),
                    event.context["recipient"],
                    message_id,
                    status,
                    STATUS_RANK[status],
                    now,
                )
            except DependencyError as exc:
                # The others are still applied; the batch then comes back, and what moved here
                # does not move twice.
                failed = exc
                continue
            applied += former is not None
        if failed is not None:
            raise failed
        return applied
