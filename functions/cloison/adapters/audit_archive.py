"""The audit trail's locked copies and anchors in S3 (Object Lock), and the audit key (KMS HMAC)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Self

from botocore.exceptions import ClientError
from pydantic import ValidationError

from cloison.adapters import aws
from cloison.adapters.audit import COPY_PREFIX, Anchor
from cloison.config import Audit
from cloison.errors import DependencyError
from cloison.models.records import AuditEntry

ANCHOR_PREFIX = "anchor/"
_BLOCK = 1000  # copies listed together: the entries whose sequence numbers share 9 digits
_MAX_SEQUENCE = 999_999_999_999


def copy_key(sequence: int, entry_hash: str) -> str:
    """Copies sort as the chain does (the sequence number, zero-padded), and name the hash of
    the entry they hold: a listing tells every entry's copies without reading one."""
    return f"{COPY_PREFIX}{sequence:012d}.{entry_hash}.json"


def _copy_prefix(sequence: int) -> str:
    return f"{COPY_PREFIX}{sequence:012d}."


def _copy_name(key: str) -> tuple[int, str] | None:
    parts = key.removeprefix(COPY_PREFIX).split(".")
    if len(parts) != 3 or not parts[0].isdigit() or parts[2] != "json":
        return None
    return int(parts[0]), parts[1]


def anchor_key(sequence: int) -> str:
    """Anchors sort newest first: the first key listed is the latest anchor."""
    return f"{ANCHOR_PREFIX}{_MAX_SEQUENCE - sequence:012d}.json"


class AuditArchive:
    """A copy of every entry, one object per entry, and the anchors, in the Object Lock bucket.

    Objects are written once (`If-None-Match`, which the bucket policy requires of every
    upload), so a copy is never replaced by a second version; the bucket's default retention
    keeps each one from being deleted or overwritten. A second copy for one sequence number
    (another hash) is itself the trace of a rewrite.
    """

    @classmethod
    def from_settings(cls, config: Audit) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.audit_bucket)

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def _put_once(self, key: str, document: dict[str, Any]) -> bool:
        body = json.dumps(document, sort_keys=True, ensure_ascii=False)
        try:
            aws.s3().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body.encode("utf-8"),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "PreconditionFailed":
                return False  # already written
            raise DependencyError(f"S3 {exc.response['Error']['Code']}") from exc
        return True

    def put(self, entry: AuditEntry) -> None:
        self._put_once(copy_key(entry.sequence, entry.hash), entry.model_dump(mode="json"))

    def original(self, sequence: int) -> AuditEntry | None:
        """The first copy written of an entry; None if there is none or it is unreadable."""
        prefix = _copy_prefix(sequence)
        try:
            versions = [
                version
                for version in aws.s3()
                .list_object_versions(Bucket=self.bucket, Prefix=prefix)
                .get("Versions", [])
                if str(version.get("Key", "")).startswith(prefix)
            ]
            if not versions:
                return None
            first = min(versions, key=lambda version: version["LastModified"])
            body = (
                aws.s3()
                .get_object(Bucket=self.bucket, Key=first["Key"], VersionId=first["VersionId"])[
                    "Body"
                ]
                .read()
            )
        except ClientError as exc:
            raise DependencyError(f"S3 {exc.response['Error']['Code']}") from exc
        try:
            return AuditEntry.model_validate_json(body)
        except ValidationError:
            return None

    def hashes(self, first: int, last: int) -> dict[int, set[str]]:
        """The hashes the copies of entries `first` to `last` name, by sequence number (a
        listing of a thousand entries' copies a call; deleted copies count, as S3 keeps them)."""
        found: dict[int, set[str]] = {}
        for block in range(first // _BLOCK, last // _BLOCK + 1):
            for sequence, named_hash in self._block(block):
                if first <= sequence <= last:
                    found.setdefault(sequence, set()).add(named_hash)
        return found

    def first_after(self, sequence: int) -> int | None:
        """The lowest sequence number with a copy (or a deleted one) after `sequence`, looked
        for in its block of a thousand and the next: copies are written in sequence, so a chain
        cut short leaves the copy of the entry right after its new head."""
        for block in (sequence // _BLOCK, sequence // _BLOCK + 1):
            later = [number for number, _hash in self._block(block) if number > sequence]
            if later:
                return min(later)
        return None

    def _block(self, block: int) -> Iterator[tuple[int, str]]:
        """(sequence, hash) of every version of every copy of entries `block`000 to `block`999.

        Listed by prefix, never from a bare KeyMarker: the copies of a block share the first
        nine digits of their sequence number.
        """
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": f"{COPY_PREFIX}{block:09d}"}
        while True:
            try:
                page = aws.s3().list_object_versions(**arguments)
            except ClientError as exc:
                raise DependencyError(f"S3 {exc.response['Error']['Code']}") from exc
            for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                named = _copy_name(str(version.get("Key", "")))
                if named is not None:
                    yield named
            if not page.get("IsTruncated"):
                return
            arguments["KeyMarker"] = page["NextKeyMarker"]
            arguments["VersionIdMarker"] = page["NextVersionIdMarker"]

    def put_anchor(self, anchor: Anchor) -> bool:
        """Writes the anchor once; False if the head was anchored already."""
        return self._put_once(anchor_key(anchor.sequence), anchor.document())

    def latest_anchor(self) -> Anchor | None:
        """The anchor of the highest sequence number (an unreadable one reads as forged).

        Listed by version: a delete marker (which anyone allowed `s3:DeleteObject` can put
        over a locked object, the version itself staying) must not make an older anchor the
        latest. Keys sort highest sequence first, so the first version listed is the one.
        """
        s3 = aws.s3()
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": ANCHOR_PREFIX}
        try:
            while True:
                page = s3.list_object_versions(**arguments)
                versions = page.get("Versions", [])
                if versions:
                    latest = min(versions, key=lambda version: str(version["Key"]))
                    key, version_id = str(latest["Key"]), str(latest["VersionId"])
                    break
                if not page.get("IsTruncated"):
                    return None
                # A page of delete markers only: go on after them.
                arguments["KeyMarker"] = page["NextKeyMarker"]
                arguments["VersionIdMarker"] = page["NextVersionIdMarker"]
            body = s3.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)["Body"].read()
        except ClientError as exc:
            raise DependencyError(f"S3 {exc.response['Error']['Code']}") from exc
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        return Anchor.of(document) or Anchor(
            sequence=_MAX_SEQUENCE - int(key[len(ANCHOR_PREFIX) :][:12]),
            entry_id="",
            hash="",
            at=datetime.fromtimestamp(0, UTC),
        )


class KmsMac:
    """HMAC-SHA-256 under a KMS HMAC key: the key never leaves KMS, and only roles granted
    kms:GenerateMac on it can make a MAC that verifies."""

    @classmethod
    def from_settings(cls, config: Audit) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.audit_key_arn)

    def __init__(self, key_arn: str) -> None:
        self.key_arn = key_arn

    def sign(self, message: bytes) -> str:
        try:
            mac = aws.kms().generate_mac(
                KeyId=self.key_arn, Message=message, MacAlgorithm="HMAC_SHA_256"
            )["Mac"]
        except ClientError as exc:
            raise DependencyError(f"KMS {exc.response['Error']['Code']}") from exc
        return base64.b64encode(mac).decode()

    def verify(self, message: bytes, mac: str) -> bool:
        try:
            raw = base64.b64decode(mac.encode(), validate=True)
        except (binascii.Error, ValueError):
            return False
        if not raw:
            return False
        try:
            return bool(
                aws.kms().verify_mac(
                    KeyId=self.key_arn, Message=message, MacAlgorithm="HMAC_SHA_256", Mac=raw
                )["MacValid"]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("KMSInvalidMacException", "ValidationException"):
                return False
            raise DependencyError(f"KMS {exc.response['Error']['Code']}") from exc
