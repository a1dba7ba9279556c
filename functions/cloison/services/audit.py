"""The audit trail: who did what, when, in which team, to which object and why.

`Auditor` appends entries to the chain (`audit_chain`: how entries are hashed, signed and
checked), keeps the free text people write as sealed notes beside it, lists entries for
auditors, anchors the head and verifies the chain.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cloison.adapters.audit import (
    Anchor,
    AuditCopies,
    AuditLog,
    AuditQuery,
    AuditSigner,
)
from cloison.adapters.audit_notes import Note, NoteStore
from cloison.compliance.masking import scrub_numbers
from cloison.errors import DependencyError, NotFound, RuleViolation
from cloison.models.api.audit import (
    AuditList,
    AuditRecord,
    AuditVerification,
    NoteErasure,
    NoteErasureIn,
)
from cloison.models.api.common import AuditReason
from cloison.models.records import AuditEntry
from cloison.observability import logger
from cloison.services.access import PRIVACY_OFFICER, Caller
from cloison.services.audit_chain import (
    GENESIS_HASH,
    VERIFY_LIMIT,
    entry_hash,
    mac_message,
    verify_chain,
)

ACTIONS = frozenset(
    {
        "reply.open",
        "reply.review",
        "campaign.launch",
        "campaign.schedule",
        "campaign.pause",
        "campaign.resume",
        "campaign.cancel",
        "consent.record",
        "consent.withdraw",
        "suppression.add",
        "suppression.lift",
        "sender.put",
        "notice.put",
        "subject.export",
        "subject.rectify",
        "subject.erase",
        "note.erase",
    }
)
AUDITOR = "auditor"
SYSTEM_PREFIX = "system:"
# Appends that lose the race for a sequence number read the head again; audit writes are
# human actions, so a handful of tries covers any real contention.
APPEND_ATTEMPTS = 20


def system_caller(name: str) -> Caller:
    """The actor of what no person does: a scheduler firing, an inbound reply, a batch job."""
    return Caller(
        subject=f"{SYSTEM_PREFIX}{name}",
        username=name,
        teams=frozenset(),
        roles=frozenset(),
    )


# Free text is scrubbed of numbers as the API takes it in (models.api.common.Scrubbed); a note is
# scrubbed again, whatever wrote it.
scrub = scrub_numbers
# What the trail keeps as an entry's reason: the codes people choose, and the system's own.
NOT_AN_OPT_OUT = "not_an_opt_out"  # a reply held for review was read, and is no opt-out
REASONS = frozenset({*(reason.value for reason in AuditReason), NOT_AN_OPT_OUT})


@dataclass
class Auditor:
    log: AuditLog
    copies: AuditCopies
    signer: AuditSigner
    # Where what people wrote is sealed (None: a writer that records no notes, the anchor's).
    notes: NoteStore | None = None
    pause: Callable[[float], None] = time.sleep

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
    ) -> AuditEntry:
        """Appends an entry to the chain, then its copy; raises if either cannot be written.

        `reason` is a code (`AuditReason`, or one of the system's own); `note` is what the person
        wrote, sealed beside the entry and erasable with the number `subject` (its keyed hash)
        or by a privacy officer. Callers write the entry once the action is allowed and before
        it takes effect, so that no audited action happens without its entry. The copy of the
        entry before it is written again first (a no-op when it exists), should that entry's
        own copy have failed.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if reason is not None and reason not in REASONS:
            raise ValueError(f"unknown audit reason {reason!r}")
        at = datetime.now(UTC)
        entry_id = f"au-{secrets.token_hex(8)}"
        committed = None
        if note is not None:
            if self.notes is None:
                raise ValueError("this auditor keeps no notes")
            committed = self.notes.seal(entry_id, scrub(note), at, subject)
        for attempt in range(APPEND_ATTEMPTS):
            head = self.log.head()
            if head is not None:
                # Every attempt: the head read may be an entry whose writer died before its
                # copy (a copy written already answers 412, and costs nothing more).
                self.copies.put(head)
            entry = AuditEntry(
                sequence=head.sequence + 1 if head else 1,
                entry_id=entry_id,
                at=at,
                actor=caller.subject,
                actor_name=caller.username,
                action=action,
                team=team,
                target=target,
                reason=reason,
                note=committed,
                details=dict(details or {}),
                prev_id=head.entry_id if head else None,
                prev_hash=head.hash if head else GENESIS_HASH,
            )
            entry = entry.model_copy(update={"hash": entry_hash(entry)})
            entry = entry.model_copy(update={"mac": self.signer.sign(mac_message(entry))})
            if self.log.append(entry, head):
                break
            logger.debug("audit append lost the race", extra={"attempt": attempt + 1})
            if attempt + 1 < APPEND_ATTEMPTS:
                self.pause(random.uniform(0.01, 0.05) * 2 ** min(attempt, 4))  # noqa: S311  # nosec B311  # backoff jitter, not a secret
        else:
            raise DependencyError("the audit log is busy; nothing was done")
        self.copies.put(entry)
        logger.info(
            "audit entry written",
            extra={
                "audit_sequence": entry.sequence,
                "action": action,
                "team": team,
                "target": target,
            },
        )
        return entry

    # ---------------------------------------------------------------- reading, for auditors
    def list(
        self,
        caller: Caller,
        *,
        team: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> AuditList:
        caller.require_role(AUDITOR)
        for name, bound in (("since", since), ("until", until)):
            if bound is not None and bound.tzinfo is None:
                raise RuleViolation(name, "must carry a time zone")
        entries, next_cursor = self.log.page(
            AuditQuery(team=team, action=action, since=since, until=until), limit, cursor
        )
        noted = [entry.entry_id for entry in entries if entry.note is not None]
        notes = self.notes.open_many(noted) if noted and self.notes is not None else {}
        return AuditList(
            items=[to_record(entry, notes) for entry in entries], next_cursor=next_cursor
        )

    def notes_about(self, number_key: str) -> Sequence[tuple[str, str]]:
        """What people wrote about the number, as (entry id, text): for an access request."""
        if self.notes is None:
            return []
        found = self.notes.about(number_key)
        return sorted((entry_id, note.text) for entry_id, note in found.items() if note)

    def forget_notes(self, number_key: str) -> int:
        """An erasure of the number destroys the notes that concern it; returns how many."""
        return self.notes.erase_for_number(number_key) if self.notes is not None else 0

    def erase_note(self, caller: Caller, entry_id: str, request: NoteErasureIn) -> NoteErasure:
        """Destroys what was written with an entry (a name, a detail the person asked to be
        forgotten); the entry, its code and the chain stay. Privacy officers only, audited."""
        caller.require_role(PRIVACY_OFFICER)
        if self.notes is None or entry_id not in self.notes.open_many([entry_id]):
            raise NotFound("no note is kept for this entry")
        audited = self.record(
            caller,
            "note.erase",
            team=None,
            target=f"audit/{entry_id}",
            reason=request.reason_code.value,
            note=request.reason,
        )
        self.notes.erase(entry_id)  # gone meanwhile: erased all the same
        logger.info("audit note erased", extra={"audit_entry": entry_id})
        return NoteErasure(entry=entry_id, erased_by=caller.username, audited_as=audited.entry_id)

    def anchor(self, now: datetime) -> Anchor | None:
        """Writes the head to the locked bucket (None: an empty log); once per head.

        A head that is not what an audit writer wrote (its hash does not cover it, or its MAC
        does not verify) is not anchored: the run fails, and its alarm fires, rather than seal
        a forgery as the chain's reference.
        """
        head = self.log.head()
        if head is None:
            return None
        if entry_hash(head) != head.hash or not self.signer.verify(mac_message(head), head.mac):
            logger.error(
                "audit head not anchored: it does not verify",
                extra={"audit_sequence": head.sequence},
            )
            raise DependencyError(
                f"the audit head (entry {head.sequence}) does not verify; it was not anchored"
            )
        anchor = Anchor(sequence=head.sequence, entry_id=head.entry_id, hash=head.hash, at=now)
        anchor = replace(anchor, mac=self.signer.sign(anchor.message()))
        written = self.copies.put_anchor(anchor)
        logger.info(
            "audit head anchored" if written else "audit head anchored already",
            extra={"audit_sequence": head.sequence},
        )
        return anchor

    def verify(
        self,
        caller: Caller,
        *,
        first: int = 1,
        last: int | None = None,
        limit: int = VERIFY_LIMIT,
    ) -> AuditVerification:
        caller.require_role(AUDITOR)
        found = verify_chain(
            self.log, self.copies, self.signer, first=first, last=last, limit=limit
        )
        return AuditVerification(
            ok=found.broken is None,
            checked=found.checked,
            first=found.first,
            last=found.last,
            head=found.head,
            next=found.next,
            broken=found.broken,
        )


_ERASED = Note(text="", digest="")


def to_record(entry: AuditEntry, notes: Mapping[str, Note | None] | None = None) -> AuditRecord:
    """The entry as auditors read it, with its note when it is still kept (`notes`: those found,
    by entry id)."""
    note, state = None, "none"
    if entry.note is not None:
        found = (notes or {}).get(entry.entry_id, _ERASED)
        if found is _ERASED:
            state = "erased"
        elif found is not None and found.matches(entry.note):
            note, state = found.text, "kept"
        else:
            state = "altered"
    return AuditRecord(
        sequence=entry.sequence,
        id=entry.entry_id,
        at=entry.at,
        actor=entry.actor,
        actor_name=entry.actor_name,
        action=entry.action,
        team=entry.team,
        target=entry.target,
        reason=entry.reason,
        note=note,
        note_state=state,
        details=dict(entry.details),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )
