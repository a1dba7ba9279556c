"""The audit trail: who did what, when, in which team, to which object and why, hash-chained.

Each entry carries its sequence number, the hash of the entry before it and its own hash
(SHA-256 over the canonical JSON of its fields, the previous hash included). Altering an entry
breaks its own hash; deleting one leaves a gap in the sequence; replacing one whole, hash
recomputed, breaks the link of the next entry and differs from its locked copy in S3.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.audit import AuditCopies, AuditLog, AuditQuery, StoredEntry, timestamp
from cloison.compliance.phone import mask_phone
from cloison.errors import DependencyError, RuleViolation
from cloison.models.api import AuditBreak, AuditList, AuditRecord, AuditVerification
from cloison.models.records import AuditEntry
from cloison.observability import logger
from cloison.services.access import Caller

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
        "subject.export",
        "subject.rectify",
        "subject.erase",
    }
)
AUDITOR = "auditor"
GENESIS_HASH = "0" * 64
SYSTEM_PREFIX = "system:"
# Appends that lose the race for a sequence number read the head again; audit writes are
# human actions, so a handful of tries covers any real contention.
APPEND_ATTEMPTS = 20
# Entries one verification request walks: well inside API Gateway's 29 seconds.
VERIFY_LIMIT = 10_000
MAX_VERIFY_LIMIT = 50_000
MAX_SEQUENCE = 2**53  # beyond any log
# Six digits or more, with the separators people type: a phone number in free text.
# Six digits or more, whatever separates them: spaces of any width, dots, commas, dashes of any
# kind, underscores, middle dots, slashes, brackets (up to three in a row).
_DIGIT_RUN = re.compile(r"\+?\d(?:(?:[^\w\n]|_){0,3}\d){5,}")
# A count written with thousands separators (100,000), which no phone number is written as.
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")


def system_caller(name: str) -> Caller:
    """The actor of what no person does: a scheduler firing, an inbound reply, a batch job."""
    return Caller(
        subject=f"{SYSTEM_PREFIX}{name}",
        username=name,
        teams=frozenset(),
        roles=frozenset(),
    )


def canonical(entry: AuditEntry) -> bytes:
    """The bytes an entry's hash is taken over: every field but the hash, in one fixed form."""
    document = {
        "sequence": entry.sequence,
        "id": entry.entry_id,
        "at": timestamp(entry.at),
        "actor": entry.actor,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "team": entry.team,
        "target": entry.target,
        "reason": entry.reason,
        "details": dict(entry.details),
        "prev_id": entry.prev_id,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def scrub(text: str) -> str:
    """Free text with every run of digits long enough to be a phone number masked."""
    return _DIGIT_RUN.sub(
        lambda match: (
            match.group() if _THOUSANDS.fullmatch(match.group()) else mask_phone(match.group())
        ),
        text,
    )


@dataclass(frozen=True)
class Verification:
    """What a walk of the chain found: how many entries it checked and the first break."""

    checked: int
    first: int
    last: int | None
    head: int | None
    next: int | None
    broken: AuditBreak | None


@dataclass
class Auditor:
    log: AuditLog
    copies: AuditCopies
    pause: Callable[[float], None] = time.sleep

    def record(
        self,
        caller: Caller,
        action: str,
        *,
        team: str | None,
        target: str,
        reason: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> AuditEntry:
        """Appends an entry to the chain, then its copy; raises if either cannot be written.

        Callers write it once the action is allowed and before it takes effect, so that no
        audited action happens without its entry. The copy of the entry before it is written
        again first (a no-op when it exists), should that entry's own copy have failed.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        at = datetime.now(UTC)
        for attempt in range(APPEND_ATTEMPTS):
            head = self.log.head()
            if head is not None and attempt == 0:
                self.copies.put(head)
            entry = AuditEntry(
                sequence=head.sequence + 1 if head else 1,
                entry_id=f"au-{secrets.token_hex(8)}",
                at=at,
                actor=caller.subject,
                actor_name=caller.username,
                action=action,
                team=team,
                target=target,
                reason=scrub(reason) if reason is not None else None,
                details=dict(details or {}),
                prev_id=head.entry_id if head else None,
                prev_hash=head.hash if head else GENESIS_HASH,
            )
            entry = entry.model_copy(update={"hash": entry_hash(entry)})
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
        return AuditList(items=[to_record(entry) for entry in entries], next_cursor=next_cursor)

    def verify(
        self,
        caller: Caller,
        *,
        first: int = 1,
        last: int | None = None,
        limit: int = VERIFY_LIMIT,
    ) -> AuditVerification:
        caller.require_role(AUDITOR)
        found = verify_chain(self.log, self.copies, first=first, last=last, limit=limit)
        return AuditVerification(
            ok=found.broken is None,
            checked=found.checked,
            first=found.first,
            last=found.last,
            head=found.head,
            next=found.next,
            broken=found.broken,
        )


def verify_chain(
    log: AuditLog,
    copies: AuditCopies,
    *,
    first: int = 1,
    last: int | None = None,
    limit: int = VERIFY_LIMIT,
) -> Verification:
    """Walks the chain from `first` to `last` (the head when None), `limit` entries at most,
    and names the first entry that is altered, missing, or does not follow the one before it.

    A walk that stops at `limit` gives `next`, where the following walk starts. A walk that
    reaches the head also checks the end of the chain: the head names the last entry, nothing
    follows it in the table or among the copies, and the last entry matches its copy.
    """
    head = log.head()
    to_head = head is None or last is None or last >= head.sequence
    if head is None:
        # No head: an empty log, or one whose head is gone; either way, walked whole.
        first, end = 1, MAX_SEQUENCE
    elif to_head or last is None:
        end = head.sequence
    else:
        end = last
    walk = _Walk(first=first, head=head.sequence if head else None)
    previous: AuditEntry | None = None
    if 1 < first <= end + 1:
        stored = log.entry(first - 1)
        if stored is None:
            return walk.done(_missing(first - 1, None, copies))
        if stored.entry is None:
            return walk.done(_unreadable(stored, copies))
        previous = stored.entry
    expected = first
    for stored in log.entries(first, end) if first <= end else iter(()):
        if walk.checked >= limit:
            return walk.done(None, next_start=expected)
        if stored.sequence != expected:
            following = stored.entry.prev_id if stored.entry else None
            named = following if stored.sequence == expected + 1 else None
            return walk.done(_missing(expected, named, copies))
        entry = stored.entry
        if entry is None:
            return walk.done(_unreadable(stored, copies))
        if entry.sequence != stored.sequence or entry_hash(entry) != entry.hash:
            original = copies.original(stored.sequence)
            return walk.done(
                _break(
                    stored.sequence,
                    original.entry_id if original else entry.entry_id,
                    "altered",
                    "its content does not match its hash",
                )
            )
        broken_link = _check_link(entry, previous, copies)
        if broken_link is not None:
            return walk.done(broken_link)
        previous = entry
        walk.passed(entry.sequence)
        expected += 1
    if head is None:
        return walk.done(_headless(walk, copies, log))
    if expected <= end:
        named = head.entry_id if expected == head.sequence else None
        return walk.done(_missing(expected, named, copies))
    if not to_head:
        return walk.done(None)
    last_entry = previous if previous is not None and previous.sequence == head.sequence else None
    if last_entry is not None and last_entry.hash != head.hash:
        return walk.done(
            _break(
                head.sequence,
                head.entry_id,
                "head",
                "the chain's head does not match its last entry",
            )
        )
    return walk.done(_end_of_chain(log, copies, head, last_entry))


@dataclass
class _Walk:
    first: int
    head: int | None
    checked: int = 0
    last: int | None = None

    def passed(self, sequence: int) -> None:
        self.checked += 1
        self.last = sequence

    def done(self, broken: AuditBreak | None, next_start: int | None = None) -> Verification:
        return Verification(
            checked=self.checked,
            first=self.first,
            last=self.last,
            head=self.head,
            next=next_start,
            broken=broken,
        )


def _check_link(
    entry: AuditEntry, previous: AuditEntry | None, copies: AuditCopies
) -> AuditBreak | None:
    """The entry must follow the one before it; if it does not, the one before may have been
    replaced whole (its hash recomputed): its locked copy tells which of the two is at fault."""
    expected_hash = previous.hash if previous else GENESIS_HASH
    expected_id = previous.entry_id if previous else None
    if entry.prev_hash == expected_hash and entry.prev_id == expected_id:
        return None
    if previous is not None and _differs_from_copy(previous, copies):
        return _replaced(previous)
    return _break(
        entry.sequence,
        entry.entry_id,
        "unlinked",
        "it does not follow the entry before it (inserted, or the one before replaced)",
    )


def _headless(walk: _Walk, copies: AuditCopies, log: AuditLog) -> AuditBreak | None:
    """No head: an empty log, unless entries or their copies say otherwise."""
    if walk.last is not None:
        return _break(walk.last, None, "head", "the chain's head is gone; this is its last entry")
    copied = copies.first_after(0)
    if copied is not None and _beyond_head(log, copied):
        return _missing(copied, None, copies, truncated=True)
    return None


def _end_of_chain(
    log: AuditLog, copies: AuditCopies, head: AuditEntry, last: AuditEntry | None
) -> AuditBreak | None:
    """Nothing follows the head, in the table or among the copies; the last entry is its copy."""
    beyond = log.first_after(head.sequence)
    if beyond is not None and _beyond_head(log, beyond.sequence):
        return _break(
            beyond.sequence,
            beyond.entry_id,
            "unlinked",
            "it lies beyond the chain's head (inserted)",
        )
    copied = copies.first_after(head.sequence)
    if copied is not None and _beyond_head(log, copied):
        return _missing(copied, None, copies, truncated=True)
    if last is not None and _differs_from_copy(last, copies):
        return _replaced(last)
    return None


def _beyond_head(log: AuditLog, sequence: int) -> bool:
    """Whether `sequence` is still beyond the head: an append may have moved it meanwhile."""
    head = log.head()
    return head is None or head.sequence < sequence


def _differs_from_copy(entry: AuditEntry, copies: AuditCopies) -> bool:
    original = copies.original(entry.sequence)
    return original is not None and original.hash != entry.hash


def _replaced(entry: AuditEntry) -> AuditBreak:
    return _break(
        entry.sequence,
        entry.entry_id,
        "altered",
        "it differs from its locked copy (replaced, its hash recomputed)",
    )


def _unreadable(stored: StoredEntry, copies: AuditCopies) -> AuditBreak:
    original = copies.original(stored.sequence)
    entry_id = original.entry_id if original else stored.entry_id
    return _break(stored.sequence, entry_id, "altered", "it no longer reads as an entry")


def _missing(
    sequence: int, entry_id: str | None, copies: AuditCopies, *, truncated: bool = False
) -> AuditBreak:
    if entry_id is None:
        original = copies.original(sequence)
        entry_id = original.entry_id if original else None
    detail = (
        "it and every entry after it are gone from the table, their locked copies remain "
        "(truncated)"
        if truncated
        else "it is gone from the table (deleted)"
    )
    return _break(sequence, entry_id, "missing", detail)


def _break(sequence: int, entry_id: str | None, reason: str, detail: str) -> AuditBreak:
    return AuditBreak(sequence=sequence, id=entry_id, reason=reason, detail=detail)


def to_record(entry: AuditEntry) -> AuditRecord:
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
        details=dict(entry.details),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )
