"""What the suppressions' stores share: scopes, the provider's sync markers, and how a number
stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cloison.adapters.tables.keys import GLOBAL_SCOPE as GLOBAL_SCOPE
from cloison.models.records import (
    SuppressionRecord,
)

if TYPE_CHECKING:
    pass


# A suppression whose number End User Messaging's opt-out list may still lack carries this in
# `provider_sync`, which puts it (and only it) in the sparse index PROVIDER_SYNC_INDEX.
PROVIDER_SYNC_PENDING = "pending"
PROVIDER_SYNC_INDEX = "by-provider-sync"
# TransactWriteItems takes 100 actions in AWS; 25 (BatchWriteItem's size) keeps moto in step.
TRANSACT_LIMIT = 25


@dataclass(frozen=True)
class GlobalStanding:
    """Whether a number is suppressed for every team, and when a START last lifted that."""

    suppressed: bool
    lifted_at: datetime | None = None


@dataclass(frozen=True)
class LiftedSuppression:
    """When an opt-out of one scope was lifted, and on what evidence."""

    at: datetime
    evidence: str
    said_at: datetime | None = None


def said(instant: datetime) -> str:
    """An instant as fixed-width UTC text, so that DynamoDB compares instants as strings."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class SuppressionHolding:
    """A number's suppression item as a data-subject request sees it."""

    standing: dict[str, SuppressionRecord]
    lifted: dict[str, LiftedSuppression]
    # The number itself waits, sealed, for End User Messaging's opt-out list.
    provider_pending: bool


@dataclass(frozen=True)
class ProviderPending:
    """A number whose opt-out End User Messaging's list did not take when it was recorded."""

    number_key: str
    e164: str
    # False when a START lifted the suppression since: the number must not be pushed any more.
    suppressed: bool


def _provider_context(number_key: str) -> dict[str, str]:
    return {"purpose": "opt-out-list", "number": number_key}
