"""What a person wrote when they acted (an audit reason's free text), sealed beside the chain.

The chain keeps five years, locked, a code and a commitment to the note: SHA-256 of the note
under a random salt that is sealed with it. Destroying the note (an erasure of the number it
concerns, or a privacy officer) destroys the salt too, and the commitment then says nothing of
what the note held; the chain itself is untouched.

Items, in the contacts table:
- `auditnote#<entry id>` / `note`: the sealed note (data key, context `audit-note` + entry id);
- `contact#<number hash>` / `auditnote#<entry id>`: the pointer an erasure of the number
  finds it by, written first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, Self

from boto3.dynamodb.conditions import Key

from cloison.adapters import aws
from cloison.adapters.envelope import Sealer
from cloison.adapters.tables._dynamo import (
    _expires_at,
    _query_all,
    batch_get,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import NOTE_PREFIX as NOTE_PREFIX
from cloison.adapters.tables.keys import contact_pk, note_entry_id, note_key, note_pointer_key
from cloison.config import ApiSettings
from cloison.errors import ContextMismatch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

DIGEST_PREFIX = "sha256:"
_SALT_BYTES = 32


def _context(entry_id: str) -> dict[str, str]:
    return {"purpose": "audit-note", "entry": entry_id}


def commitment(salt: bytes, text: str) -> str:
    return DIGEST_PREFIX + hashlib.sha256(salt + text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Note:
    """A note as it was opened: its text, and whether it is the one the entry committed to."""

    text: str
    digest: str

    def matches(self, committed: str) -> bool:
        return hmac.compare_digest(self.digest, committed)


class NoteStore(Protocol):
    def seal(self, entry_id: str, text: str, at: datetime, number_key: str | None) -> str: ...

    def open_many(self, entry_ids: Iterable[str]) -> dict[str, Note | None]: ...

    def about(self, number_key: str) -> dict[str, Note | None]: ...

    def erase(self, entry_id: str) -> bool: ...

    def erase_for_number(self, number_key: str) -> int: ...


class AuditNotes:
    @classmethod
    def from_settings(cls, config: ApiSettings, sealer: Sealer) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.contacts_table, sealer, config.audit_retention_days)

    def __init__(self, table_name: str, sealer: Sealer, retention_days: int) -> None:
        self.table_name = table_name
        self._table: Table = aws.dynamodb().Table(table_name)
        self.sealer = sealer
        self.retention_days = retention_days

    def seal(self, entry_id: str, text: str, at: datetime, number_key: str | None) -> str:
        """Stores the note of entry `entry_id` (before the entry is appended); returns the
        commitment the entry carries. A note whose entry is never appended is never shown,
        and expires with the others."""
        salt = secrets.token_bytes(_SALT_BYTES)
        sealed = self.sealer.seal(
            json.dumps({"salt": base64.b64encode(salt).decode(), "text": text}).encode(),
            _context(entry_id),
        )
        expires_at = _expires_at(at, self.retention_days)
        with dynamodb_errors():
            if number_key is not None:
                self._table.put_item(
                    Item={**note_pointer_key(number_key, entry_id), "expires_at": expires_at}
                )
            self._table.put_item(
                Item={
                    **note_key(entry_id),
                    "sealed": sealed,
                    "expires_at": expires_at,
                }
            )
        return commitment(salt, text)

    def open_many(self, entry_ids: Iterable[str]) -> dict[str, Note | None]:
        """The notes still kept, by entry id; None for one that no longer opens as its own
        (sealed for another entry, or not a note at all). Absent: erased or expired."""
        keys = [note_key(entry_id) for entry_id in entry_ids]
        return {
            note_entry_id(item["pk"]): self._open(note_entry_id(item["pk"]), item.get("sealed"))
            for item in batch_get(
                self.table_name, list({key["pk"]: key for key in keys}.values()), consistent=True
            )
        }

    def _open(self, entry_id: str, sealed: Any) -> Note | None:
        raw = getattr(sealed, "value", sealed)
        if not isinstance(raw, bytes):
            return None
        try:
            document = json.loads(self.sealer.open(raw, _context(entry_id)))
            salt = base64.b64decode(document["salt"], validate=True)
            text = str(document["text"])
        except (ContextMismatch, ValueError, KeyError, TypeError):
            return None
        return Note(text=text, digest=commitment(salt, text))

    def about(self, number_key: str) -> dict[str, Note | None]:
        """The notes that concern the number, by entry id, for an access request."""
        pointers = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(contact_pk(number_key))
            & Key("sk").begins_with(NOTE_PREFIX),
            ProjectionExpression="sk",
            ConsistentRead=True,
        )
        return self.open_many(note_entry_id(item["sk"]) for item in pointers)

    @dynamodb_call
    def erase(self, entry_id: str) -> bool:
        """Destroys one note; False when there was none."""
        answer = self._table.delete_item(Key=note_key(entry_id), ReturnValues="ALL_OLD")
        return bool(answer.get("Attributes"))

    def erase_for_number(self, number_key: str) -> int:
        """Destroys every note that concerns the number (then the pointers to them)."""
        pk = contact_pk(number_key)
        erased = 0
        arguments: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(NOTE_PREFIX),
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        with dynamodb_errors():
            while True:
                page = self._table.query(**arguments)
                for item in page["Items"]:
                    entry_id = note_entry_id(item["sk"])
                    erased += self.erase(entry_id)
                    self._table.delete_item(Key={"pk": pk, "sk": item["sk"]})
                if "LastEvaluatedKey" not in page:
                    return erased
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
