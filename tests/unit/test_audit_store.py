"""AuditStore and AuditArchive on the table and bucket the template defines (moto, in process)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from in_process_aws import create_tables, in_process_aws, resources

from cloison.adapters.audit import Anchor, AuditStore, _entry_item
from cloison.adapters.audit_archive import AuditArchive, KmsMac, anchor_key, copy_key
from cloison.adapters.audit_notes import AuditNotes
from cloison.adapters.envelope import EnvelopeSealer
from cloison.errors import DependencyError, RuleViolation
from cloison.models.records import AuditEntry
from cloison.services.access import Caller
from cloison.services.audit import Auditor
from cloison.services.audit_chain import AuditBreak, entry_hash, mac_message

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TABLE = "audit"
BUCKET = "audit-copies"
ALICE = Caller(subject="sub-alice", username="alice", teams=frozenset({"sales"}), roles=frozenset())
BRUNO = Caller(
    subject="sub-bruno", username="bruno", teams=frozenset({"support"}), roles=frozenset()
)
AURELE = Caller(
    subject="sub-aurele", username="aurele", teams=frozenset(), roles=frozenset({"auditor"})
)


@dataclass
class Chain:
    auditor: Auditor
    store: AuditStore
    archive: AuditArchive
    signer: KmsMac

    def item(self, sequence: int) -> dict[str, Any]:
        return {"pk": {"S": "chain"}, "sequence": {"N": str(sequence)}}


@pytest.fixture
def chain(monkeypatch: pytest.MonkeyPatch) -> Iterator[Chain]:
    """The audit table and bucket as the template defines them, in moto's in-process AWS."""
    bucket = resources()["AuditBucket"]["Properties"]
    with in_process_aws(monkeypatch):
        create_tables({TABLE: "AuditTable"})
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=BUCKET,
            CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
            ObjectLockEnabledForBucket=bucket["ObjectLockEnabled"],
        )
        s3.put_object_lock_configuration(
            Bucket=BUCKET,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
            },
        )
        key = resources()["AuditKey"]["Properties"]
        key_arn = boto3.client("kms").create_key(KeySpec=key["KeySpec"], KeyUsage=key["KeyUsage"])[
            "KeyMetadata"
        ]["Arn"]
        store, archive, signer = AuditStore(TABLE), AuditArchive(BUCKET), KmsMac(key_arn)
        auditor = Auditor(log=store, copies=archive, signer=signer, pause=lambda _s: None)
        yield Chain(auditor, store, archive, signer)


def record_some(chain: Chain, count: int) -> list[AuditEntry]:
    return [
        chain.auditor.record(
            ALICE if number % 2 else BRUNO,
            "reply.open" if number % 3 else "campaign.cancel",
            team="sales" if number % 2 else "support",
            target=f"reply/r-{number}",
            reason="other" if number % 4 == 0 else None,
            details={"n": str(number)},
        )
        for number in range(1, count + 1)
    ]


def named(broken: AuditBreak | None) -> tuple[int, str, str]:
    """The entry a verification found the chain broken at, by sequence and id, and why."""
    assert broken is not None, "the chain verifies"
    return broken.sequence, broken.id, broken.reason


def linked_after(previous: AuditEntry, entry_id: str, **changes: str) -> AuditEntry:
    """An entry that follows `previous` in the chain, and but for `changes` copies it; its hash
    is computed anew."""
    entry = previous.model_copy(
        update={
            "sequence": previous.sequence + 1,
            "entry_id": entry_id,
            "prev_id": previous.entry_id,
            "prev_hash": previous.hash,
            **changes,
        }
    )
    return entry.model_copy(update={"hash": entry_hash(entry)})


def test_entries_read_back_exactly_as_written_and_verify(chain: Chain) -> None:
    # Given entries appended to the table
    written = record_some(chain, 6)

    # When they are read back and the chain verified
    read = [stored.entry for stored in chain.store.entries(1, 6)]
    result = chain.auditor.verify(AURELE)

    # Then they are the same entries, with the same hashes, and the chain holds
    assert read == written
    assert all(entry is not None and entry_hash(entry) == entry.hash for entry in read)
    assert chain.store.head() == written[-1]
    assert (result.ok, result.checked, result.head) == (True, 6, 6)


def test_an_append_after_a_stale_head_is_refused(chain: Chain) -> None:
    # Given a chain of two entries
    first, second = record_some(chain, 2)

    # When a writer that read the first as head tries to append after it
    late = first.model_copy(update={"sequence": 2, "entry_id": "au-late"})

    # Then the write is refused, and the chain is unchanged
    assert chain.store.append(late, first) is False
    assert chain.store.head() == second
    assert chain.auditor.verify(AURELE).ok


def test_an_append_whose_number_is_taken_is_refused_even_with_the_right_head(chain: Chain) -> None:
    # Given a chain of one entry, and its head put back by hand (as if the head were stale)
    (first,) = record_some(chain, 1)
    client = boto3.client("dynamodb")
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "head"}, "sequence": {"N": "0"}})

    # When a writer appends a first entry again
    again = first.model_copy(update={"entry_id": "au-again"})

    # Then the taken sequence number refuses it
    assert chain.store.append(again, None) is False


def test_each_entry_has_its_locked_copy(chain: Chain) -> None:
    # Given entries
    written = record_some(chain, 3)

    # When their copies are read
    s3 = boto3.client("s3")
    heads = [
        s3.head_object(Bucket=BUCKET, Key=copy_key(entry.sequence, entry.hash)) for entry in written
    ]

    # Then each is there, locked, and holds its entry
    assert all(head["ObjectLockMode"] == "COMPLIANCE" for head in heads)
    assert [chain.archive.original(entry.sequence) for entry in written] == written
    assert chain.archive.first_after(2) == 3
    assert chain.archive.first_after(3) is None


def test_a_copy_is_written_once(chain: Chain) -> None:
    # Given an entry and its copy
    (entry,) = record_some(chain, 1)

    # When the copy is written again, with other content under the same hash
    chain.archive.put(entry.model_copy(update={"actor": "sub-mallory"}))

    # Then the first version stays the only one
    versions = boto3.client("s3").list_object_versions(
        Bucket=BUCKET, Prefix=copy_key(1, entry.hash)
    )
    assert len(versions["Versions"]) == 1
    assert chain.archive.original(1) == entry
    assert chain.archive.hashes(1, 1) == {1: {entry.hash}}


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("actor", {"S": "sub-mallory"}),
        ("team", {"S": "support"}),
        ("target", {"S": "reply/other"}),
        ("at", {"S": "2020-01-01T00:00:00.000000+00:00"}),
        ("details", {"M": {}}),
        ("hash", {"S": "0" * 64}),
        ("entry_id", {"N": "12"}),
    ],
)
def test_an_item_altered_in_the_table_is_named(
    chain: Chain, attribute: str, value: dict[str, Any]
) -> None:
    # Given a chain, and one attribute of entry 3 changed in DynamoDB
    written = record_some(chain, 5)
    boto3.client("dynamodb").update_item(
        TableName=TABLE,
        Key=chain.item(3),
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":v": value},
    )

    # When the chain is verified
    result = chain.auditor.verify(AURELE)

    # Then it fails at entry 3, named
    assert (result.ok, result.checked) == (False, 2)
    assert named(result.broken) == (3, written[2].entry_id, "altered")


def test_an_item_deleted_from_the_table_is_named(chain: Chain) -> None:
    # Given a chain, and entry 2 deleted from DynamoDB
    written = record_some(chain, 4)
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key=chain.item(2))

    # When the chain is verified
    broken = chain.auditor.verify(AURELE).broken

    # Then entry 2 is named missing
    assert named(broken) == (2, written[1].entry_id, "missing")


def test_the_last_items_deleted_with_the_head_moved_back_are_named_by_the_copies(
    chain: Chain,
) -> None:
    # Given a chain whose last two entries are deleted and whose head names entry 2
    written = record_some(chain, 4)
    client = boto3.client("dynamodb")
    for sequence in (3, 4):
        client.delete_item(TableName=TABLE, Key=chain.item(sequence))
    head = client.get_item(TableName=TABLE, Key={"pk": {"S": "head"}, "sequence": {"N": "0"}})
    entry_two = client.get_item(TableName=TABLE, Key=chain.item(2))["Item"]
    del entry_two["pk"]
    client.put_item(
        TableName=TABLE,
        Item={**head["Item"], "last": {"N": "2"}, "entry": {"M": entry_two}},
    )

    # When the chain is verified
    broken = chain.auditor.verify(AURELE).broken

    # Then the first entry cut off is named
    assert named(broken) == (3, written[2].entry_id, "missing")


def test_the_listing_filters_by_team_action_and_time_and_pages_with_a_cursor(
    chain: Chain,
) -> None:
    # Given ten entries of two teams
    written = record_some(chain, 10)
    sales = [entry for entry in reversed(written) if entry.team == "sales"]

    # When the sales entries are listed two by two
    pages, cursor = [], None
    for _ in range(5):
        page = chain.auditor.list(AURELE, team="sales", limit=2, cursor=cursor)
        pages.append([item.id for item in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break

    # Then every sales entry comes once, newest first, and the last page has no cursor
    assert [entry_id for page in pages for entry_id in page] == [e.entry_id for e in sales]
    assert cursor is None

    # And the other filters narrow it down
    cancels = chain.auditor.list(AURELE, action="campaign.cancel").items
    assert {item.action for item in cancels} == {"campaign.cancel"}
    assert len(cancels) == 3
    sales_cancels = chain.auditor.list(AURELE, team="sales", action="campaign.cancel").items
    assert {(item.team, item.action) for item in sales_cancels} == {("sales", "campaign.cancel")}
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert chain.auditor.list(AURELE, since=later).items == []
    assert len(chain.auditor.list(AURELE, until=later, limit=200).items) == 10


def test_a_cursor_of_another_listing_is_refused(chain: Chain) -> None:
    record_some(chain, 4)
    cursor = chain.auditor.list(AURELE, team="sales", limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(RuleViolation):
        chain.auditor.list(AURELE, action="reply.open", cursor=cursor)
    with pytest.raises(RuleViolation):
        chain.auditor.list(AURELE, cursor="not-a-cursor")


def rewrite_from(chain: Chain, sequence: int, *, sign: bool) -> list[AuditEntry]:
    """What someone who writes the table does to hide an action: entry `sequence` gets another
    actor, every entry after it is re-hashed (and re-signed, if they hold the audit key) so that
    the chain links again, and the head follows."""
    entries = [stored.entry for stored in chain.store.entries(1, 10_000)]
    forged: list[AuditEntry] = []
    previous = entries[sequence - 2] if sequence > 1 else None
    for entry in entries[sequence - 1 :]:
        assert entry is not None
        update: dict[str, Any] = {
            "prev_hash": previous.hash if previous else "0" * 64,
            "prev_id": previous.entry_id if previous else None,
        }
        if entry.sequence == sequence:
            update |= {"actor": "sub-mallory", "actor_name": "mallory"}
        rewritten = entry.model_copy(update=update)
        rewritten = rewritten.model_copy(update={"hash": entry_hash(rewritten)})
        if sign:
            rewritten = rewritten.model_copy(
                update={"mac": chain.signer.sign(mac_message(rewritten))}
            )
        force_head(chain, rewritten)
        forged.append(rewritten)
        previous = rewritten
    return forged


def force_head(chain: Chain, entry: AuditEntry) -> None:
    """Puts `entry` in the table over whatever was there, and makes it the head."""
    boto3.resource("dynamodb").Table(TABLE).put_item(
        Item={"pk": "head", "sequence": 0, "last": entry.sequence, "entry": _entry_item(entry)}
    )
    boto3.resource("dynamodb").Table(TABLE).put_item(Item={"pk": "chain", **_entry_item(entry)})


def test_a_rewritten_entry_with_the_chain_recomputed_and_one_entry_added_is_named(
    chain: Chain,
) -> None:
    # Given five entries, then someone who writes the audit table (not the audit key) rewrites
    # entry 2's actor, recomputes every hash after it and the head, and appends an entry of
    # their own without its locked copy
    written = record_some(chain, 5)
    forged = rewrite_from(chain, 2, sign=False)
    force_head(chain, linked_after(forged[-1], "au-extra"))

    # When the chain is verified
    result = chain.auditor.verify(AURELE)

    # Then entry 2 is named: it differs from its locked copy
    assert named(result.broken) == (2, written[1].entry_id, "altered")


def test_a_rewrite_by_a_holder_of_the_audit_key_still_differs_from_the_locked_copy(
    chain: Chain,
) -> None:
    # Given the same rewrite by someone who also holds the audit key and writes copies (the
    # API's role): the new entries carry valid MACs and copies of their own
    written = record_some(chain, 4)
    for entry in rewrite_from(chain, 3, sign=True):
        chain.archive.put(entry)

    # When verified, then entry 3 is named: two copies, and its first is not this entry
    broken = chain.auditor.verify(AURELE).broken
    assert named(broken) == (3, written[2].entry_id, "altered")


def test_an_entry_appended_without_the_audit_key_is_named_forged(chain: Chain) -> None:
    # Given three entries, and a fourth appended by someone who writes the table and the bucket
    # but may not use the audit key: its hashes link, its copy exists, its MAC is made up
    written = record_some(chain, 3)
    extra = linked_after(written[-1], "au-extra", mac="bm90IGEgbWFj")
    assert chain.store.append(extra, written[-1])
    chain.archive.put(extra)

    # When verified, then it is named
    broken = chain.auditor.verify(AURELE).broken
    assert named(broken) == (4, "au-extra", "forged")


def test_an_entry_without_its_copy_older_than_the_head_is_a_break(chain: Chain) -> None:
    # Given four entries, entry 4 written to the table around the archive (no copy), then a
    # fifth through the auditor (which copies the head first: here it finds 4 and copies it)
    written = record_some(chain, 3)
    lone = linked_after(written[-1], "au-lone")
    lone = lone.model_copy(update={"mac": chain.signer.sign(mac_message(lone))})
    assert chain.store.append(lone, written[-1])
    # The head may lack its copy (it is written just after the entry)
    assert chain.auditor.verify(AURELE).ok
    # but not once entries follow it: here they follow it in the table only
    follower = linked_after(lone, "au-next")
    follower = follower.model_copy(update={"mac": chain.signer.sign(mac_message(follower))})
    assert chain.store.append(follower, lone)
    broken = chain.auditor.verify(AURELE).broken
    assert named(broken) == (4, "au-lone", "uncopied")


def test_the_chain_may_not_fall_short_of_its_anchor(chain: Chain) -> None:
    # Given six entries, the head anchored at 6, then entries 5 and 6 deleted, the head moved
    # back to 4, and (as if they had been written around the archive) their copies absent
    written = record_some(chain, 6)
    anchor = chain.auditor.anchor(datetime.now(UTC))
    assert anchor is not None
    assert anchor.sequence == 6
    assert chain.auditor.anchor(datetime.now(UTC)) is not None  # the same head: written once
    assert chain.archive.latest_anchor() == anchor
    client = boto3.client("dynamodb")
    for sequence in (5, 6):
        client.delete_item(TableName=TABLE, Key=chain.item(sequence))
    force_head(chain, written[3])
    chain.archive.first_after = lambda _sequence: None  # type: ignore[method-assign]

    # When verified, then the entry after the new head is named missing, the chain truncated
    broken = chain.auditor.verify(AURELE).broken
    sequence, _, reason = named(broken)
    assert (sequence, reason) == (5, "missing")


def test_a_delete_marker_over_the_latest_anchor_does_not_hide_it(chain: Chain) -> None:
    # Given the head anchored at 3, then at 6, and a delete marker put over the second anchor
    # (anyone allowed s3:DeleteObject can, Object Lock keeping the version beneath)
    record_some(chain, 3)
    older = chain.auditor.anchor(datetime.now(UTC))
    record_some(chain, 3)
    latest = chain.auditor.anchor(datetime.now(UTC))
    assert older is not None
    assert latest is not None
    boto3.client("s3").delete_object(Bucket=BUCKET, Key=anchor_key(latest.sequence))
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="anchor/")["Contents"]
    assert [item["Key"] for item in listed] == [anchor_key(older.sequence)]

    # When the latest anchor is read, then it is still the one at 6
    assert chain.archive.latest_anchor() == latest


def test_an_anchor_not_written_with_the_audit_key_is_named(chain: Chain) -> None:
    # Given a chain, and an anchor put in the bucket by someone without the audit key
    record_some(chain, 2)
    forged = Anchor(sequence=2, entry_id="au-x", hash="0" * 64, at=datetime.now(UTC), mac="eA==")
    assert chain.archive.put_anchor(forged)
    # Then the verification names it
    broken = chain.auditor.verify(AURELE).broken
    assert named(broken)[2] == "anchor"


def test_the_anchor_names_the_head_and_is_written_once_per_head(chain: Chain) -> None:
    written = record_some(chain, 3)
    first = chain.auditor.anchor(datetime.now(UTC))
    chain.auditor.anchor(datetime.now(UTC) + timedelta(hours=1))
    anchored = chain.archive.latest_anchor()
    assert anchored == first
    assert anchored is not None
    assert (anchored.sequence, anchored.entry_id, anchored.hash) == (
        3,
        written[-1].entry_id,
        written[-1].hash,
    )
    assert chain.signer.verify(anchored.message(), anchored.mac)
    # And a later head's anchor is the latest
    record_some(chain, 1)
    chain.auditor.anchor(datetime.now(UTC))
    latest = chain.archive.latest_anchor()
    assert latest is not None
    assert latest.sequence == 4


# ---------------------------------------------------------------- notes beside the chain


def test_a_note_is_sealed_in_the_contacts_table_and_an_erasure_leaves_nothing_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with in_process_aws(monkeypatch):
        create_tables({"contacts": "ContactsTable"})
        key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
        notes = AuditNotes("contacts", EnvelopeSealer(key_arn), 1825)
        at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)

        # Given two notes about one number, and one about none
        first = notes.seal("au-0000000000000001", "Mme Lefèvre, par courrier", at, "nk-1")
        notes.seal("au-0000000000000002", "rappel", at, "nk-1")
        notes.seal("au-0000000000000003", "interne", at, None)

        # Then each opens as committed, and the table holds no text in clear
        opened = notes.open_many(["au-0000000000000001", "au-0000000000000003", "au-9"])
        assert set(opened) == {"au-0000000000000001", "au-0000000000000003"}
        assert opened["au-0000000000000001"] is not None
        assert opened["au-0000000000000001"].matches(first)
        items = boto3.client("dynamodb").scan(TableName="contacts")["Items"]
        assert "Lef" not in str(items)
        assert all(int(item["expires_at"]["N"]) > at.timestamp() + 1800 * 86_400 for item in items)

        # When a note's sealed text is moved onto another entry, it no longer opens
        table = boto3.resource("dynamodb").Table("contacts")
        sealed = table.get_item(Key={"pk": "auditnote#au-0000000000000001", "sk": "note"})["Item"]
        table.put_item(Item={**sealed, "pk": "auditnote#au-0000000000000003"})
        assert notes.open_many(["au-0000000000000003"]) == {"au-0000000000000003": None}

        # And when the number is erased, its notes and their pointers go, the other stays
        assert notes.erase_for_number("nk-1") == 2
        left = boto3.client("dynamodb").scan(TableName="contacts")["Items"]
        assert [item["pk"]["S"] for item in left] == ["auditnote#au-0000000000000003"]


def test_a_head_that_does_not_verify_is_not_anchored(chain: Chain) -> None:
    # Given a chain whose head was replaced by an entry its writer hashed but could not sign
    written = record_some(chain, 3)
    forged = written[2].model_copy(update={"actor": "sub-mallory", "actor_name": "mallory"})
    force_head(chain, forged.model_copy(update={"hash": entry_hash(forged)}))

    # When the anchoring runs, then it fails and writes no anchor
    with pytest.raises(DependencyError, match="does not verify"):
        chain.auditor.anchor(datetime.now(UTC))
    assert chain.archive.latest_anchor() is None
