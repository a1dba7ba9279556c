"""The audit chain itself: how an entry is hashed and signed, and the walk that checks it.

Each entry carries its sequence number, the hash of the entry before it and its own hash
(SHA-256 over the canonical JSON of its fields, the previous hash included). Altering an entry
breaks its own hash; deleting one leaves a gap in the sequence; replacing one whole, hash
recomputed, breaks the link of the next entry and differs from its locked copy in S3, against
which every entry is held. Each entry carries a MAC under a KMS HMAC key that only the audit's
writers may use: an entry appended by anyone else, its hashes right, does not verify. On a
schedule the head is anchored in the locked bucket: the chain may never become shorter than an
anchor, nor differ at its entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cloison.adapters.audit import (
    AuditCopies,
    AuditLog,
    AuditSigner,
    StoredEntry,
    timestamp,
)
from cloison.models.api.audit import AuditBreak
from cloison.models.records import AuditEntry

GENESIS_HASH = "0" * 64
# Entries one verification request walks: well inside API Gateway's 29 seconds.
VERIFY_LIMIT = 10_000
MAX_VERIFY_LIMIT = 50_000
MAX_SEQUENCE = 2**53  # beyond any log
# A run of entries without a valid MAC is walked back this far to name its first one.
FORGED_WALK_BACK = 1000


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
    if entry.note is not None:  # entries written before notes are hashed as they were
        document["note"] = entry.note
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def mac_message(entry: AuditEntry) -> bytes:
    """What an entry's MAC is taken over: its place and its hash (which covers every field)."""
    return f"entry:{entry.sequence}:{entry.hash}".encode()


@dataclass(frozen=True)
class Verification:
    """What a walk of the chain found: how many entries it checked and the first break."""

    checked: int
    first: int
    last: int | None
    head: int | None
    next: int | None
    broken: AuditBreak | None


def verify_chain(
    log: AuditLog,
    copies: AuditCopies,
    signer: AuditSigner,
    *,
    first: int = 1,
    last: int | None = None,
    limit: int = VERIFY_LIMIT,
) -> Verification:
    """Walks the chain from `first` to `last` (the head when None), `limit` entries at most,
    and names the first entry that is altered, missing, or does not follow the one before it.

    Every entry is held against its locked copy: none but the head may lack one, and no
    sequence number may have two. The MAC of the last entry walked authenticates everything
    before it (each entry hashes the one before). A walk that stops at `limit` gives `next`,
    where the following walk starts. A walk that reaches the head also checks the end of the
    chain: the head names the last entry, nothing follows it in the table or among the copies,
    the last entry matches its copy, and the latest anchor is neither beyond the head nor
    different from the entry it names.
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
    copied = copies.hashes(first, min(end, first + limit - 1)) if first <= end else {}
    head_sequence = head.sequence if head else None
    for stored in log.entries(first, end) if first <= end else iter(()):
        if walk.checked >= limit:
            return walk.done(_forged(previous, log, signer), next_start=expected)
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
        broken_copy = _check_copy(entry, copied.get(entry.sequence), head_sequence)
        if broken_copy is not None:
            return walk.done(broken_copy)
        previous = entry
        walk.passed(entry.sequence)
        expected += 1
    forged = _forged(previous, log, signer)
    if forged is not None:
        return walk.done(forged)
    if head is None:
        return walk.done(_headless(walk, copies, log) or _against_anchor(log, copies, signer, None))
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
    return walk.done(
        _end_of_chain(log, copies, head, last_entry) or _against_anchor(log, copies, signer, head)
    )


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


def _check_copy(
    entry: AuditEntry, hashes: set[str] | None, head_sequence: int | None
) -> AuditBreak | None:
    """The entry is its locked copy. Only the head may have none yet (its copy is written just
    after it, and again before the next entry); two copies of one entry are a rewrite."""
    if hashes is None:
        if entry.sequence == head_sequence:
            return None
        return _break(
            entry.sequence,
            entry.entry_id,
            "uncopied",
            "it has no locked copy, though entries follow it (written around the audit writer)",
        )
    if hashes != {entry.hash}:
        return _replaced(entry)
    return None


def _forged(last: AuditEntry | None, log: AuditLog, signer: AuditSigner) -> AuditBreak | None:
    """The last entry walked carries the audit key's MAC; if not, the first entry of the run
    that lacks it (walking back) is named: everything after a good MAC is not the writer's."""
    if last is None or signer.verify(mac_message(last), last.mac):
        return None
    first_forged = last
    for sequence in range(last.sequence - 1, max(0, last.sequence - FORGED_WALK_BACK), -1):
        stored = log.entry(sequence)
        if stored is None or stored.entry is None:
            break
        if signer.verify(mac_message(stored.entry), stored.entry.mac):
            break
        first_forged = stored.entry
    return _break(
        first_forged.sequence,
        first_forged.entry_id,
        "forged",
        "its MAC does not verify: it was not written with the audit key",
    )


def _against_anchor(
    log: AuditLog, copies: AuditCopies, signer: AuditSigner, head: AuditEntry | None
) -> AuditBreak | None:
    """The chain reaches the latest anchor, and its entry there is the one anchored."""
    anchor = copies.latest_anchor()
    if anchor is None:
        return None
    if not signer.verify(anchor.message(), anchor.mac):
        return _break(
            anchor.sequence,
            anchor.entry_id or None,
            "anchor",
            "an anchor that does not verify lies in the locked bucket (not written with the audit key)",
        )
    if (head is None or head.sequence < anchor.sequence) and _beyond_head(log, anchor.sequence):
        # (read again: the anchor may have been written after this walk read the head)
        cut = head.sequence + 1 if head else 1
        return _missing(cut, None, copies, truncated=True)
    stored = log.entry(anchor.sequence)
    if stored is None or stored.entry is None or stored.entry.hash != anchor.hash:
        return _break(
            anchor.sequence,
            anchor.entry_id,
            "altered",
            "it differs from the chain's head as anchored",
        )
    return None


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
