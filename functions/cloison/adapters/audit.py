"""The audit log in DynamoDB: one hash chain, appended under a condition; and what its
copies, anchors and key adapters (`audit_archive`) answer to."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, Self

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError
from pydantic import ValidationError

from cloison.adapters import aws
from cloison.adapters.tables._dynamo import dynamodb_call, dynamodb_errors
from cloison.adapters.tables.keys import CHAIN as CHAIN
from cloison.adapters.tables.keys import HEAD as HEAD
from cloison.adapters.tables.keys import audit_entry_key, audit_head_key
from cloison.config import Audit
from cloison.errors import DependencyError, RuleViolation
from cloison.models.records import AuditEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

BY_TIME = "by-time"
BY_TEAM = "by-team"
BY_ACTION = "by-action"
COPY_PREFIX = "audit/"
# Conflicts an append retries: another writer took the sequence number first.
_LOST_RACE = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict"})
# Pages of a verification walk: about 500 bytes an entry, well under DynamoDB's 1 MB a page.
_WALK_PAGE = 1000
# A listing reads at most this many pages before it answers with a cursor.
_LIST_PAGES = 10

Item = dict[str, Any]


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the table holds it; `entry` is None when its item no longer parses."""

    sequence: int
    entry: AuditEntry | None
    entry_id: str | None = None


def _stored(item: Item) -> StoredEntry:
    entry_id = item.get("entry_id")
    return StoredEntry(
        sequence=int(_plain(item["sequence"])),
        entry=_parse(item),
        entry_id=entry_id if isinstance(entry_id, str) else None,
    )


@dataclass(frozen=True)
class AuditQuery:
    team: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditLog(Protocol):
    def head(self) -> AuditEntry | None: ...

    def append(self, entry: AuditEntry, after: AuditEntry | None) -> bool: ...

    def entry(self, sequence: int) -> StoredEntry | None: ...

    def entries(self, first: int, last: int) -> Iterator[StoredEntry]: ...

    def first_after(self, sequence: int) -> StoredEntry | None: ...

    def page(
        self, query: AuditQuery, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]: ...


class AuditCopies(Protocol):
    def put(self, entry: AuditEntry) -> None: ...

    def original(self, sequence: int) -> AuditEntry | None: ...

    def first_after(self, sequence: int) -> int | None: ...

    def hashes(self, first: int, last: int) -> dict[int, set[str]]: ...

    def put_anchor(self, anchor: Anchor) -> bool: ...

    def latest_anchor(self) -> Anchor | None: ...


class AuditSigner(Protocol):
    """A MAC under a key only the audit's writers may use (KMS HMAC): an entry or an anchor
    written by anyone else does not verify."""

    def sign(self, message: bytes) -> str: ...

    def verify(self, message: bytes, mac: str) -> bool: ...


@dataclass(frozen=True)
class Anchor:
    """The chain's head at one moment, written to the locked bucket on a schedule: the chain
    may never again be shorter than it, nor differ at its entry."""

    sequence: int
    entry_id: str
    hash: str
    at: datetime
    mac: str = ""

    def message(self) -> bytes:
        """What the anchor's MAC is taken over."""
        return f"anchor:{self.sequence}:{self.entry_id}:{self.hash}:{timestamp(self.at)}".encode()

    def document(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "id": self.entry_id,
            "hash": self.hash,
            "at": timestamp(self.at),
            "mac": self.mac,
        }

    @classmethod
    def of(cls, document: Any) -> Anchor | None:
        try:
            return cls(
                sequence=int(document["sequence"]),
                entry_id=str(document["id"]),
                hash=str(document["hash"]),
                at=datetime.fromisoformat(str(document["at"])),
                mac=str(document["mac"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def timestamp(at: datetime) -> str:
    """One text form for every instant, so that index keys sort as time does."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _entry_item(entry: AuditEntry) -> Item:
    item: Item = {
        "sequence": entry.sequence,
        "entry_id": entry.entry_id,
        "at": timestamp(entry.at),
        "actor": entry.actor,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "target": entry.target,
        "details": dict(entry.details),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "mac": entry.mac,
    }
    for name in ("team", "reason", "note", "prev_id"):
        value = getattr(entry, name)
        if value is not None:
            item[name] = value
    return item


def _parse(item: Item) -> AuditEntry | None:
    try:
        return AuditEntry.model_validate(_plain(item))
    except ValidationError:
        return None


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints, recursively; the rest as it is."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


class AuditStore:
    """The chain in `AuditTable`: entries under one partition, keyed by sequence number, and
    a head item naming the last one. An append writes both in one transaction, conditional on
    the sequence being free and the head being the one read: two writers never share a number.
    """

    @classmethod
    def from_settings(cls, config: Audit) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.audit_table)

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._table: Table = aws.dynamodb().Table(table_name)

    @dynamodb_call
    def head(self) -> AuditEntry | None:
        item = self._table.get_item(Key=audit_head_key(), ConsistentRead=True).get("Item")
        if item is None:
            return None
        stored = item.get("entry")
        entry = _parse(stored) if isinstance(stored, dict) else None
        if entry is None:
            raise DependencyError("the audit log's head is unreadable")
        return entry

    @dynamodb_call
    def append(self, entry: AuditEntry, after: AuditEntry | None) -> bool:
        """Writes `entry` after `after` (None: the first entry); False if another writer won."""
        head_condition = "attribute_not_exists(pk)" if after is None else "#last = :last"
        head_put: Item = {
            "TableName": self.table_name,
            "Item": {
                **audit_head_key(),
                "last": entry.sequence,
                "entry": _entry_item(entry),
            },
            "ConditionExpression": head_condition,
        }
        if after is not None:
            head_put["ExpressionAttributeNames"] = {"#last": "last"}
            head_put["ExpressionAttributeValues"] = {":last": after.sequence}
        actions: Any = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {"pk": CHAIN, **_entry_item(entry)},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": head_put},
        ]
        try:
            aws.dynamodb().meta.client.transact_write_items(
                TransactItems=actions,
                # A retry of this very request after a lost answer is not a second append.
                ClientRequestToken=f"{entry.entry_id}-{entry.sequence}"[:36],
            )
        except ClientError as exc:
            error = exc.response["Error"]["Code"]
            reasons = {
                str(reason.get("Code", "None"))
                for reason in exc.response.get("CancellationReasons", [])
            }
            if error == "TransactionCanceledException" and reasons <= _LOST_RACE:
                return False
            if error == "TransactionConflictException":
                return False
            raise
        return True

    @dynamodb_call
    def entry(self, sequence: int) -> StoredEntry | None:
        item = self._table.get_item(Key=audit_entry_key(sequence), ConsistentRead=True).get("Item")
        return _stored(item) if item else None

    def entries(self, first: int, last: int) -> Iterator[StoredEntry]:
        """The entries from `first` to `last` in sequence order, read page by page."""
        arguments: Any = {
            "KeyConditionExpression": Key("pk").eq(CHAIN) & Key("sequence").between(first, last),
            "ConsistentRead": True,
            "Limit": _WALK_PAGE,
        }
        while True:
            with dynamodb_errors():
                page = self._table.query(**arguments)
            for item in page["Items"]:
                yield _stored(item)
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @dynamodb_call
    def first_after(self, sequence: int) -> StoredEntry | None:
        items = self._table.query(
            KeyConditionExpression=Key("pk").eq(CHAIN) & Key("sequence").gt(sequence),
            ConsistentRead=True,
            Limit=1,
        )["Items"]
        return _stored(items[0]) if items else None

    @dynamodb_call
    def page(
        self, query: AuditQuery, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]:
        """Entries matching `query`, newest first, and a cursor to the next page (None: no more)."""
        index, key = _index_for(query)
        if query.since is not None and query.until is not None:
            key = key & Key("at").between(timestamp(query.since), timestamp(query.until))
        elif query.since is not None:
            key = key & Key("at").gte(timestamp(query.since))
        elif query.until is not None:
            key = key & Key("at").lte(timestamp(query.until))
        arguments: Any = {
            "IndexName": index,
            "KeyConditionExpression": key,
            "ScanIndexForward": False,
        }
        if query.team is not None and query.action is not None:
            arguments["FilterExpression"] = Attr("action").eq(query.action)
        if cursor is not None:
            arguments["ExclusiveStartKey"] = _decode_cursor(cursor, index)
        found: list[AuditEntry] = []
        last_key: Item | None = None
        for _page in range(_LIST_PAGES):
            # Never more than still wanted: the cursor then points right after the last one kept.
            arguments["Limit"] = limit - len(found)
            try:
                page = self._table.query(**arguments)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ValidationException" and cursor:
                    raise RuleViolation("cursor", "is not a cursor of this listing") from exc
                raise
            found += [entry for entry in map(_parse, page["Items"]) if entry is not None]
            last_key = page.get("LastEvaluatedKey")
            if last_key is None or len(found) >= limit:
                break
            arguments["ExclusiveStartKey"] = last_key
        return found, (_encode_cursor(index, last_key) if last_key else None)


def _index_for(query: AuditQuery) -> tuple[str, ConditionBase]:
    if query.team is not None:
        return BY_TEAM, Key("team").eq(query.team)
    if query.action is not None:
        return BY_ACTION, Key("action").eq(query.action)
    return BY_TIME, Key("pk").eq(CHAIN)


def _encode_cursor(index: str, key: Item) -> str:
    document = {"index": index, "key": _plain(key)}
    return base64.urlsafe_b64encode(json.dumps(document, sort_keys=True).encode()).decode()


def _decode_cursor(cursor: str, index: str) -> Item:
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise RuleViolation("cursor", "is not a cursor this API gave") from exc
    if not isinstance(document, dict) or not isinstance(document.get("key"), dict):
        raise RuleViolation("cursor", "is not a cursor this API gave")
    if document.get("index") != index:
        raise RuleViolation("cursor", "belongs to a listing with other filters")
    key: Item = document["key"]
    if not all(isinstance(value, str | int) for value in key.values()):
        raise RuleViolation("cursor", "is not a cursor this API gave")
    return key
