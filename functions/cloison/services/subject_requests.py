"""What a data-subject request answers to: its id, the adapters it reaches through, what it
did, and the receipt kept of it."""

import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from cloison.compliance.errors import InvalidDepartement
from cloison.compliance.territories import normalize_departement
from cloison.errors import RuleViolation
from cloison.models.api.privacy import ContactChanges, PrivacyReceipt, SubjectExport
from cloison.models.records import (
    PrivacyReceiptRecord,
)

REQUEST_ID = re.compile(r"pr-[0-9a-f]{16}")


class ReplyBodies(Protocol):
    """The reply vault as a data-subject request uses it: every body opened, every version
    destroyed."""

    def get(self, key: str, context: dict[str, str], *, team: str, caller: str) -> str: ...

    def destroy(self, key: str) -> int: ...


class OptOutList(Protocol):
    def opt_out(self, e164: str) -> None: ...


class DeadLetterQueues(Protocol):
    def purge(self, e164: str) -> int:
        """Deletes the dead letters naming the number; how many."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What one request did, for its receipt."""

    counts: dict[str, int]
    attributes: list[str] | None = None
    suppression: str | None = None
    export: SubjectExport | None = None


def new_request_id() -> str:
    return f"pr-{secrets.token_hex(8)}"


def is_request_id(text: str) -> bool:
    return REQUEST_ID.fullmatch(text) is not None


def check_changes(changes: ContactChanges) -> None:
    """Refuses a département the sending windows would not know, before anything is done."""
    if changes.departement is not None:
        try:
            normalize_departement(changes.departement)
        except InvalidDepartement as exc:
            raise RuleViolation("changes.departement", "is not a département code") from exc


def to_receipt(record: PrivacyReceiptRecord) -> PrivacyReceipt:
    return PrivacyReceipt.model_validate(
        {
            "id": record.request_id,
            "kind": record.kind,
            "status": "completed",
            "reason": record.reason,
            "requested_by": record.requested_by,
            "requested_at": record.requested_at,
            "completed_at": record.completed_at,
            "counts": record.counts,
            "attributes": record.attributes,
            "suppression": record.suppression,
        }
    )
