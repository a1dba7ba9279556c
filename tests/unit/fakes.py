"""Fakes the unit tests share, each standing for one collaborator of the services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloison.adapters.audit_notes import NoteStore
from cloison.errors import DependencyError
from cloison.services.access import Caller


@dataclass
class RecordingAuditor:
    """The auditor as the services call it, each entry kept as a dict: who (`actor`, the
    subject; `actor_name`), what, which team and object, why, and `note` when one is given.

    `fail` makes every write fail, as a busy log does; `journal`, when given, gets
    `audit <action>` at each write, beside the other fakes' calls, to check their order;
    `notes`, when given, seals the notes there as the API does.
    """

    entries: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False
    journal: list[str] | None = None
    notes: NoteStore | None = None

    def record(
        self,
        caller: Caller,
        action: str,
        *,
        team: str | None,
        target: str,
        reason: str | None = None,
        note: str | None = None,
        subject: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        if self.fail:
            raise DependencyError("the audit log is busy; nothing was done")
        if self.journal is not None:
            self.journal.append(f"audit {action}")
        entry = {
            "actor": caller.subject,
            "actor_name": caller.username,
            "action": action,
            "team": team,
            "target": target,
            "reason": reason,
            "details": dict(details or {}),
        } | ({"note": note} if note is not None else {})
        self.entries.append(entry)
        if note is not None and self.notes is not None:
            self.notes.seal(f"au-{len(self.entries):016x}", note, datetime.now(UTC), subject)
        return entry

    def notes_about(self, number_key: str) -> list[tuple[str, str]]:
        found = self.notes.about(number_key) if self.notes is not None else {}
        return sorted((entry_id, note.text) for entry_id, note in found.items() if note)

    def forget_notes(self, number_key: str) -> int:
        return self.notes.erase_for_number(number_key) if self.notes is not None else 0
