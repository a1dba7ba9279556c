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

from cloison.adapters.audit import AuditArchive, AuditStore, copy_key
from cloison.errors import RuleViolation
from cloison.models.records import AuditEntry
from cloison.services.access import Caller
from cloison.services.audit import Auditor, entry_hash

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
        store, archive = AuditStore(TABLE), AuditArchive(BUCKET)
        yield Chain(Auditor(log=store, copies=archive, pause=lambda _s: None), store, archive)


def record_some(chain: Chain, count: int) -> list[AuditEntry]:
    return [
        chain.auditor.record(
            ALICE if number % 2 else BRUNO,
            "reply.open" if number % 3 else "campaign.cancel",
            team="sales" if number % 2 else "support",
            target=f"reply/r-{number}",
            reason="checking" if number % 4 == 0 else None,
            details={"n": str(number)},
        )
        for number in range(1, count + 1)
    ]


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
    heads = [s3.head_object(Bucket=BUCKET, Key=copy_key(entry.sequence)) for entry in written]

    # Then each is there, locked, and holds its entry
    assert all(head["ObjectLockMode"] == "COMPLIANCE" for head in heads)
    assert [chain.archive.original(entry.sequence) for entry in written] == written
    assert chain.archive.first_after(2) == 3
    assert chain.archive.first_after(3) is None


def test_a_copy_is_written_once(chain: Chain) -> None:
    # Given an entry and its copy
    (entry,) = record_some(chain, 1)

    # When the copy is written again, with other content
    chain.archive.put(entry.model_copy(update={"actor": "sub-mallory"}))

    # Then the first version stays the only one
    versions = boto3.client("s3").list_object_versions(Bucket=BUCKET, Prefix=copy_key(1))
    assert len(versions["Versions"]) == 1
    assert chain.archive.original(1) == entry


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
    assert result.broken is not None
    assert (result.ok, result.checked) == (False, 2)
    assert (result.broken.sequence, result.broken.id, result.broken.reason) == (
        3,
        written[2].entry_id,
        "altered",
    )


def test_an_item_deleted_from_the_table_is_named(chain: Chain) -> None:
    # Given a chain, and entry 2 deleted from DynamoDB
    written = record_some(chain, 4)
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key=chain.item(2))

    # When the chain is verified
    broken = chain.auditor.verify(AURELE).broken

    # Then entry 2 is named missing
    assert broken is not None
    assert (broken.sequence, broken.id, broken.reason) == (2, written[1].entry_id, "missing")


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
    assert broken is not None
    assert (broken.sequence, broken.id, broken.reason) == (3, written[2].entry_id, "missing")


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
