"""The audit chain: any appends verify; an altered, deleted or replaced entry is named."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cloison.adapters.audit import Anchor, AuditQuery, StoredEntry
from cloison.adapters.audit_notes import Note, commitment
from cloison.errors import DependencyError, Forbidden, NotFound, RuleViolation
from cloison.models.api.audit import NoteErasureIn
from cloison.models.records import AuditEntry
from cloison.services.access import Caller
from cloison.services.audit import ACTIONS, REASONS, Auditor, scrub, system_caller
from cloison.services.audit_chain import GENESIS_HASH, canonical, entry_hash, verify_chain

ALICE = Caller(subject="sub-alice", username="alice", teams=frozenset({"sales"}), roles=frozenset())
AURELE = Caller(
    subject="sub-aurele", username="aurele", teams=frozenset(), roles=frozenset({"auditor"})
)
PRIYA = Caller(
    subject="sub-priya", username="priya", teams=frozenset(), roles=frozenset({"privacy_officer"})
)


@dataclass
class MemoryLog:
    """The chain as AuditStore keeps it, in memory: entries by sequence and a head."""

    items: dict[int, AuditEntry | None] = field(default_factory=dict)
    last: AuditEntry | None = None
    appends: int = 0

    def head(self) -> AuditEntry | None:
        return self.last

    def append(self, entry: AuditEntry, after: AuditEntry | None) -> bool:
        self.appends += 1
        same_head = (after is None and self.last is None) or (
            after is not None and self.last is not None and after.sequence == self.last.sequence
        )
        if not same_head or entry.sequence in self.items:
            return False
        self.items[entry.sequence] = entry
        self.last = entry
        return True

    def entry(self, sequence: int) -> StoredEntry | None:
        if sequence not in self.items:
            return None
        return _stored(sequence, self.items[sequence])

    def entries(self, first: int, last: int) -> Iterator[StoredEntry]:
        for sequence in sorted(self.items):
            if first <= sequence <= last:
                yield _stored(sequence, self.items[sequence])

    def first_after(self, sequence: int) -> StoredEntry | None:
        later = [number for number in self.items if number > sequence]
        return _stored(min(later), self.items[min(later)]) if later else None

    def page(
        self, query: AuditQuery, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]:
        found = [
            entry
            for entry in self.items.values()
            if entry is not None and query.team in (None, entry.team)
        ]
        return sorted(found, key=lambda entry: entry.at, reverse=True)[:limit], None


def _stored(sequence: int, entry: AuditEntry | None) -> StoredEntry:
    return StoredEntry(sequence, entry, entry.entry_id if entry else None)


@dataclass
class MemoryCopies:
    """The locked bucket: the first copy written of each entry stays (a rewrite can only add a
    second copy beside it), and the anchors."""

    objects: dict[int, AuditEntry] = field(default_factory=dict)
    extra: dict[int, set[str]] = field(default_factory=dict)
    anchors: list[Anchor] = field(default_factory=list)
    fail: bool = False

    def put(self, entry: AuditEntry) -> None:
        if self.fail:
            raise DependencyError("S3 InternalError")
        if entry.sequence in self.objects and self.objects[entry.sequence].hash != entry.hash:
            self.extra.setdefault(entry.sequence, set()).add(entry.hash)
        self.objects.setdefault(entry.sequence, entry)

    def original(self, sequence: int) -> AuditEntry | None:
        return self.objects.get(sequence)

    def first_after(self, sequence: int) -> int | None:
        later = [number for number in self.objects if number > sequence]
        return min(later) if later else None

    def hashes(self, first: int, last: int) -> dict[int, set[str]]:
        return {
            sequence: {entry.hash} | self.extra.get(sequence, set())
            for sequence, entry in self.objects.items()
            if first <= sequence <= last
        }

    def put_anchor(self, anchor: Anchor) -> bool:
        if any(known.sequence == anchor.sequence for known in self.anchors):
            return False
        self.anchors.append(anchor)
        return True

    def latest_anchor(self) -> Anchor | None:
        return max(self.anchors, key=lambda anchor: anchor.sequence, default=None)


@dataclass
class MemoryNotes:
    """AuditNotes in memory: each note with its salt, and the pointers by number."""

    notes: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    by_number: dict[str, set[str]] = field(default_factory=dict)

    def seal(self, entry_id: str, text: str, at: datetime, number_key: str | None) -> str:
        salt = secrets.token_bytes(32)
        if number_key is not None:
            self.by_number.setdefault(number_key, set()).add(entry_id)
        self.notes[entry_id] = (salt, text)
        return commitment(salt, text)

    def open_many(self, entry_ids: Iterable[str]) -> dict[str, Note | None]:
        return {
            entry_id: Note(text=text, digest=commitment(salt, text))
            for entry_id in entry_ids
            if entry_id in self.notes
            for salt, text in [self.notes[entry_id]]
        }

    def erase(self, entry_id: str) -> bool:
        return self.notes.pop(entry_id, None) is not None

    def erase_for_number(self, number_key: str) -> int:
        return sum(self.erase(entry_id) for entry_id in self.by_number.pop(number_key, set()))


@dataclass
class MemorySigner:
    """The audit key: an HMAC whose secret only the writers hold."""

    secret: bytes = b"audit-key"

    def sign(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def verify(self, message: bytes, mac: str) -> bool:
        return hmac.compare_digest(self.sign(message), mac)


SIGNER = MemorySigner()


def auditor(notes: MemoryNotes | None = None) -> tuple[Auditor, MemoryLog, MemoryCopies]:
    log, copies = MemoryLog(), MemoryCopies()
    audit = Auditor(
        log=log,
        copies=copies,
        signer=SIGNER,
        notes=notes if notes is not None else MemoryNotes(),
        pause=lambda _seconds: None,
    )
    return audit, log, copies


# Each append logs, and machines vary: no per-example deadline.
QUICK = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

Append = tuple[str, str | None, str, str | None, str | None, dict[str, str]]

appends = st.lists(
    st.tuples(
        st.sampled_from(sorted(ACTIONS)),
        st.one_of(st.none(), st.sampled_from(["sales", "support"])),
        st.text(min_size=1, max_size=30),
        st.one_of(st.none(), st.sampled_from(sorted(REASONS))),
        st.one_of(st.none(), st.text(max_size=40)),
        st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=3),
    ),
    min_size=1,
    max_size=12,
)


def where_broken(log: MemoryLog, copies: MemoryCopies) -> tuple[int, str, str]:
    """Where verifying the chain finds it broken: the entry's sequence and id, and why."""
    broken = verify_chain(log, copies, SIGNER).broken
    assert broken is not None, "the chain verifies"
    return broken.sequence, broken.id, broken.reason


def write(audit: Auditor, operations: list[Append]) -> list[AuditEntry]:
    return [
        audit.record(
            ALICE, action, team=team, target=target, reason=reason, note=note, details=details
        )
        for action, team, target, reason, note, details in operations
    ]


# ---------------------------------------------------------------- appends


@QUICK
@given(appends)
def test_any_sequence_of_appends_verifies(operations: list[Append]) -> None:
    # Given a chain built from any appends
    audit, log, copies = auditor()
    written = write(audit, operations)

    # When it is verified
    result = verify_chain(log, copies, SIGNER)

    # Then it holds, every entry was checked, and each is linked to the one before
    assert result.broken is None
    assert result.checked == len(operations) == result.head
    assert written[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(written):
        assert (after.sequence, after.prev_hash, after.prev_id) == (
            before.sequence + 1,
            before.hash,
            before.entry_id,
        )
    assert set(copies.objects) == set(range(1, len(operations) + 1))


def test_an_entry_says_who_what_when_which_team_which_object_and_why() -> None:
    # Given an auditor
    audit, _log, _copies = auditor()

    # When a member withdraws a consent
    entry = audit.record(
        ALICE,
        "consent.withdraw",
        team="sales",
        target="consent/***78",
        reason="person_asked",
        note="asked by phone",
        details={"purpose": "marketing"},
    )

    # Then the entry holds each of them, and its hash covers them
    assert (entry.actor, entry.actor_name, entry.action, entry.team, entry.target) == (
        "sub-alice",
        "alice",
        "consent.withdraw",
        "sales",
        "consent/***78",
    )
    assert entry.reason == "person_asked"
    assert entry.note is not None
    assert entry.note.startswith("sha256:")
    assert abs(entry.at - datetime.now(UTC)) < timedelta(seconds=5)
    assert entry.hash == entry_hash(entry)


def test_an_unknown_action_is_a_bug_not_an_entry() -> None:
    audit, log, _ = auditor()
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(ALICE, "reply.peek", team="sales", target="reply/r-1")
    assert log.items == {}


def test_a_system_actor_is_named_as_such() -> None:
    audit, _, _ = auditor()
    entry = audit.record(
        system_caller("launch-scheduler"), "campaign.launch", team="sales", target="campaign/c-1"
    )
    assert (entry.actor, entry.actor_name) == ("system:launch-scheduler", "launch-scheduler")


@pytest.mark.parametrize(
    "text",
    ["rappeler le 06 12 34 56 78", "au +33612345678 svp", "tél. 06.12.34.56.78", "0612345678"],
)
def test_a_phone_number_in_a_note_is_masked(text: str) -> None:
    # Given a note typed by a person, with a number in it
    notes = MemoryNotes()
    audit, _, _ = auditor(notes)

    # When it is recorded
    entry = audit.record(
        ALICE, "suppression.add", team="sales", target="s", reason="other", note=text
    )

    # Then at most the last two digits remain in what is kept
    _salt, kept = notes.notes[entry.entry_id]
    assert "***78" in kept
    assert "345" not in kept
    assert scrub("campagne de 2026") == "campagne de 2026"


def test_what_a_person_wrote_never_enters_the_locked_chain() -> None:
    # Given a note that names someone
    notes = MemoryNotes()
    audit, _log, copies = auditor(notes)

    # When it is recorded with its entry
    entry = audit.record(
        ALICE,
        "suppression.add",
        team="sales",
        target="suppression/***78",
        reason="complaint",
        note="Mme Dupont, lettre du 3 décembre",
    )

    # Then the entry, its hash and its locked copy hold the code and a commitment only
    locked = copies.objects[entry.sequence].model_dump_json()
    assert "Dupont" not in locked
    assert "Dupont" not in canonical(entry).decode()
    assert entry.reason == "complaint"
    # and auditors read the note beside it, as kept
    (listed,) = audit.list(AURELE).items
    assert (listed.reason, listed.note, listed.note_state) == (
        "complaint",
        "Mme Dupont, lettre du 3 décembre",
        "kept",
    )


def test_a_note_erased_leaves_the_chain_whole_and_says_so() -> None:
    # Given two entries with notes, one of them about a number
    notes = MemoryNotes()
    audit, log, copies = auditor(notes)
    about = audit.record(
        ALICE,
        "consent.withdraw",
        team="sales",
        target="c",
        reason="person_asked",
        note="par courrier",
        subject="nk-1",
    )
    other = audit.record(
        ALICE, "suppression.add", team="sales", target="s", reason="other", note="interne"
    )

    # When the number is erased
    assert audit.forget_notes("nk-1") == 1

    # Then the chain still verifies, the note reads as erased, the other is kept
    assert verify_chain(log, copies, SIGNER).broken is None
    states = {item.id: (item.note_state, item.note) for item in audit.list(AURELE).items}
    assert states == {about.entry_id: ("erased", None), other.entry_id: ("kept", "interne")}


def test_a_note_swapped_for_another_is_not_shown() -> None:
    # Given an entry whose note was replaced in the store by someone who writes it
    notes = MemoryNotes()
    audit, _, _ = auditor(notes)
    entry = audit.record(
        ALICE, "suppression.add", team="sales", target="s", reason="other", note="le vrai motif"
    )
    salt, _text = notes.notes[entry.entry_id]
    notes.notes[entry.entry_id] = (salt, "un autre motif")

    # When an auditor lists it
    (listed,) = audit.list(AURELE).items

    # Then the note is flagged, not shown
    assert (listed.note_state, listed.note) == ("altered", None)


def test_an_entry_without_a_note_hashes_as_entries_did_before_notes() -> None:
    # Entries written before notes existed keep verifying: no `note` key in their canonical form.
    audit, _, _ = auditor()
    entry = audit.record(ALICE, "campaign.cancel", team="sales", target="campaign/c-1")
    assert "note" not in json.loads(canonical(entry))
    assert entry.hash == entry_hash(entry)


def test_free_text_as_a_reason_is_a_bug_not_an_entry() -> None:
    audit, log, _ = auditor()
    with pytest.raises(ValueError, match="unknown audit reason"):
        audit.record(ALICE, "suppression.add", team="sales", target="s", reason="asked by phone")
    assert log.items == {}


def test_only_privacy_officers_erase_a_note_and_the_erasure_is_audited() -> None:
    # Given an entry with a note
    notes = MemoryNotes()
    audit, log, copies = auditor(notes)
    entry = audit.record(
        ALICE, "suppression.add", team="sales", target="s", reason="other", note="M. Martin"
    )
    request = NoteErasureIn(reason="demande du 4 décembre", reason_code="person_asked")

    # When a member tries, then a privacy officer erases it
    with pytest.raises(Forbidden):
        audit.erase_note(ALICE, entry.entry_id, request)
    erased = audit.erase_note(PRIYA, entry.entry_id, request)

    # Then the note is gone, an entry says who erased it and why, and the chain holds
    assert entry.entry_id not in notes.notes
    last = log.head()
    assert last is not None
    assert (last.action, last.target, last.reason, last.entry_id) == (
        "note.erase",
        f"audit/{entry.entry_id}",
        "person_asked",
        erased.audited_as,
    )
    assert verify_chain(log, copies, SIGNER).broken is None
    # and erasing it again is a 404
    with pytest.raises(NotFound):
        audit.erase_note(PRIYA, entry.entry_id, request)


@pytest.mark.parametrize(
    "written",
    [
        "06,12,34,56,78",
        "06_12_34_56_78",
        "06\u201312\u201334\u201356\u201378",  # en dashes
        "06\u201412\u201434\u201456\u201478",  # em dashes
        "06\u221212\u221234\u221256\u221278",  # minus signs
        "06\u00b712\u00b734\u00b756\u00b778",  # middle dots
        "06\u00a012\u202f34\u200956\u300078",  # no-break, narrow, thin, ideographic spaces
        "+33 (0)6 12 34 56 78",
        "06 - 12 - 34 - 56 - 78",
    ],
)
def test_a_number_is_scrubbed_whatever_separates_its_digits(written: str) -> None:
    # Given a reason with a number written as people write them
    # When it is scrubbed
    scrubbed = scrub(f"rappeler le {written} demain")

    # Then only its last two digits remain, the words around it whole
    assert scrubbed == "rappeler le ***78 demain"


def test_short_runs_of_digits_are_kept() -> None:
    # Given figures that are no phone number
    for text in ("commande 12345, salle 7", "le 3 et le 4", "plus de 100,000 lignes"):
        # Then they stay as written
        assert scrub(text) == text


# ---------------------------------------------------------------- concurrency


def test_an_append_that_loses_the_race_reads_the_head_again_and_takes_the_next_number() -> None:
    # Given two writers on one chain, the second appending between the first's read and write
    log, copies = MemoryLog(), MemoryCopies()
    other = Auditor(log=log, copies=copies, signer=SIGNER, pause=lambda _s: None)
    pauses: list[float] = []

    @dataclass
    class Racing:
        raced: bool = False

        def head(self) -> AuditEntry | None:
            head = log.head()
            if not self.raced:
                self.raced = True
                other.record(ALICE, "campaign.pause", team="sales", target="campaign/c-1")
            return head

        def __getattr__(self, name: str) -> Any:
            return getattr(log, name)

    first = Auditor(log=Racing(), copies=copies, signer=SIGNER, pause=pauses.append)  # type: ignore[arg-type]

    # When the first writer appends
    entry = first.record(ALICE, "campaign.cancel", team="sales", target="campaign/c-1")

    # Then its first try lost, the second took the next number after the other's entry
    assert len(pauses) == 1
    assert entry.sequence == 2
    assert entry.prev_hash == log.items[1].hash  # type: ignore[union-attr]
    assert verify_chain(log, copies, SIGNER).broken is None


def test_an_append_that_always_loses_fails_the_action() -> None:
    # Given a log where every append loses
    @dataclass
    class Busy(MemoryLog):
        def append(self, entry: AuditEntry, after: AuditEntry | None) -> bool:
            return False

    audit = Auditor(log=Busy(), copies=MemoryCopies(), signer=SIGNER, pause=lambda _s: None)

    # When an entry is recorded, then it fails: the caller must not act
    with pytest.raises(DependencyError):
        audit.record(ALICE, "reply.open", team="sales", target="reply/r-1")


def test_a_copy_that_failed_is_written_by_the_next_append() -> None:
    # Given an entry whose copy could not be written (the action failed with it)
    audit, log, copies = auditor()
    copies.fail = True
    with pytest.raises(DependencyError):
        audit.record(ALICE, "reply.open", team="sales", target="reply/r-1")
    assert log.items
    assert not copies.objects

    # When the next entry is recorded
    copies.fail = False
    audit.record(ALICE, "reply.open", team="sales", target="reply/r-2")

    # Then both have their copy
    assert set(copies.objects) == {1, 2}


# ---------------------------------------------------------------- tampering

FIELDS = {
    "entry_id": "au-forged",
    "at": datetime(2020, 1, 1, tzinfo=UTC),
    "actor": "sub-someone-else",
    "actor_name": "mallory",
    "action": "reply.review",
    "team": "elsewhere",
    "target": "reply/forged",
    "reason": "nothing to see",
    "details": {"forged": "yes"},
    "prev_id": "au-forged-prev",
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
    "sequence": 99,
}


@QUICK
@given(appends, st.data(), st.sampled_from(sorted(FIELDS)))
def test_altering_any_field_of_any_entry_is_detected_and_named(
    operations: list[Append], data: st.DataObject, name: str
) -> None:
    # Given a chain, and one of its entries with one field changed in the table
    audit, log, copies = auditor()
    written = write(audit, operations)
    victim = data.draw(st.sampled_from(written))
    assume(getattr(victim, name) != FIELDS[name])
    altered = victim.model_copy(update={name: FIELDS[name]})
    log.items[victim.sequence] = altered

    # When the chain is verified
    broken = where_broken(log, copies)

    # Then it fails at that entry, named by its sequence and id
    assert broken == (victim.sequence, victim.entry_id, "altered")


@QUICK
@given(appends, st.data())
def test_deleting_any_entry_is_detected_and_named(
    operations: list[Append], data: st.DataObject
) -> None:
    # Given a chain, and one of its entries deleted from the table
    audit, log, copies = auditor()
    written = write(audit, operations)
    victim = data.draw(st.sampled_from(written))
    del log.items[victim.sequence]

    # When the chain is verified
    broken = where_broken(log, copies)

    # Then it fails at that entry, named by its sequence and id
    assert broken == (victim.sequence, victim.entry_id, "missing")


@QUICK
@given(appends, st.data())
def test_an_entry_replaced_whole_with_its_hash_recomputed_is_named_by_its_copy(
    operations: list[Append], data: st.DataObject
) -> None:
    # Given a chain, and one entry rewritten by someone who recomputed its hash (and the head's)
    audit, log, copies = auditor()
    written = write(audit, operations)
    victim = data.draw(st.sampled_from(written))
    forged = victim.model_copy(update={"actor": "sub-someone-else"})
    forged = forged.model_copy(update={"hash": entry_hash(forged)})
    log.items[victim.sequence] = forged
    if log.last is not None and log.last.sequence == victim.sequence:
        log.last = forged

    # When the chain is verified
    broken = where_broken(log, copies)

    # Then the locked copy names the rewritten entry
    assert broken == (victim.sequence, victim.entry_id, "altered")


@QUICK
@given(appends, st.data())
def test_a_chain_cut_short_with_its_head_moved_back_is_named_by_the_copies(
    operations: list[Append], data: st.DataObject
) -> None:
    # Given a chain whose last entries are deleted and whose head names the one before them
    audit, log, copies = auditor()
    written = write(audit, operations)
    victim = data.draw(st.sampled_from(written))
    for sequence in range(victim.sequence, len(written) + 1):
        del log.items[sequence]
    log.last = written[victim.sequence - 2] if victim.sequence > 1 else None

    # When the chain is verified
    broken = where_broken(log, copies)

    # Then the first entry cut off is named
    assert broken == (victim.sequence, victim.entry_id, "missing")


def test_an_entry_that_no_longer_parses_is_named() -> None:
    audit, log, copies = auditor()
    write(audit, [("reply.open", "sales", "reply/r-1", None, None, {})] * 3)
    log.items[2] = None
    sequence, _, reason = where_broken(log, copies)
    assert (sequence, reason) == (2, "altered")


def test_an_entry_inserted_after_the_head_is_named() -> None:
    # Given a chain and a forged entry after its head, in the table only
    audit, log, copies = auditor()
    written = write(audit, [("reply.open", "sales", "reply/r-1", None, None, {})] * 2)
    forged = written[-1].model_copy(update={"sequence": 3, "entry_id": "au-forged"})
    log.items[3] = forged.model_copy(update={"hash": entry_hash(forged)})

    # When verified, then it is named
    assert where_broken(log, copies) == (3, "au-forged", "unlinked")


def test_a_missing_head_is_reported_at_the_last_entry() -> None:
    audit, log, copies = auditor()
    write(audit, [("reply.open", "sales", "reply/r-1", None, None, {})] * 3)
    log.last = None
    sequence, _, reason = where_broken(log, copies)
    assert (sequence, reason) == (3, "head")


def test_an_empty_log_verifies_whatever_the_range() -> None:
    _, log, copies = auditor()
    for first, last in ((1, None), (5, None), (2, 3)):
        result = verify_chain(log, copies, SIGNER, first=first, last=last)
        assert (result.broken, result.checked, result.head) == (None, 0, None)


# ---------------------------------------------------------------- large logs


def test_a_walk_stops_at_its_limit_and_the_next_goes_on_from_there() -> None:
    # Given a chain of 25 entries, entry 20 deleted
    audit, log, copies = auditor()
    write(audit, [("reply.open", "sales", "reply/r", None, None, {})] * 25)
    del log.items[20]

    # When it is walked ten entries at a time
    first = verify_chain(log, copies, SIGNER, limit=10)
    second = verify_chain(log, copies, SIGNER, first=first.next or 0, limit=10)

    # Then the first walk checked 1-10 and holds; the second finds the gap
    assert (first.broken, first.checked, first.last, first.next) == (None, 10, 10, 11)
    assert second.broken is not None
    assert (second.checked, second.broken.sequence) == (9, 20)


def test_a_range_is_checked_against_the_entry_before_it() -> None:
    # Given a chain whose entry 5 was replaced whole, hash recomputed
    audit, log, copies = auditor()
    written = write(audit, [("reply.open", "sales", "reply/r", None, None, {})] * 10)
    forged = written[4].model_copy(update={"target": "reply/other"})
    log.items[5] = forged.model_copy(update={"hash": entry_hash(forged)})

    # When only 6 to 8 are verified, then the link from 5 to 6 fails and names 5
    result = verify_chain(log, copies, SIGNER, first=6, last=8)
    assert result.broken is not None
    assert (result.broken.sequence, result.broken.reason) == (5, "altered")

    # And a range that does not touch it holds
    assert verify_chain(log, copies, SIGNER, first=7, last=9).broken is None


# ---------------------------------------------------------------- who reads


def test_only_auditors_list_and_verify() -> None:
    audit, _, _ = auditor()
    audit.record(ALICE, "reply.open", team="sales", target="reply/r-1")
    with pytest.raises(Forbidden):
        audit.list(ALICE)
    with pytest.raises(Forbidden):
        audit.verify(ALICE)
    assert [item.action for item in audit.list(AURELE).items] == ["reply.open"]
    assert audit.verify(AURELE).ok


def test_a_listing_bound_without_a_time_zone_is_refused() -> None:
    audit, _, _ = auditor()
    with pytest.raises(RuleViolation):
        audit.list(AURELE, since=datetime(2026, 12, 1))


def test_the_canonical_form_is_stable_json_over_every_field_but_the_hash() -> None:
    # Given an entry
    audit, _, _ = auditor()
    entry = audit.record(ALICE, "sender.put", team="sales", target="sender/sales/promo")

    # When its canonical form is read
    document = json.loads(canonical(entry))

    # Then it holds every field but the hash, and the hash is over exactly it
    assert "hash" not in document
    assert document["prev_hash"] == GENESIS_HASH
    assert document["id"] == entry.entry_id
    assert entry_hash(entry) == entry.hash
