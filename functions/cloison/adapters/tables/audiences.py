"""Audiences: sealed chunks of an upload, the prints a later upload is checked against, and
the index that finds the chunks holding a number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from cloison.errors import Conflict, DependencyError
from cloison.models.records import (
    UploadRecord,
)

if TYPE_CHECKING:
    pass
from cloison.adapters.tables._dynamo import (
    TableStore,
    _is_condition_failure,
    _query_all,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import (
    AUDIENCE_UPLOAD_PREFIX,
    PRINTS_PREFIX,
    audience_index_key,
    audience_index_pk,
    audience_upload_sk,
    campaign_key,
    campaign_pk,
    chunk_key,
    chunk_sk,
    prints_prefix,
    prints_sk,
    upload_of_prints,
)

# An upload's numbers are kept by print (the first 16 hex digits of their keyed hash, 64 bits:
# two numbers share one with odds of 1 in 10^8 in an audience of 10^6), space-separated, this
# many an item (about 100 KB).
PRINT_CHARS = 16
PRINTS_PER_ITEM = 6000


def audience_print(number_key: str) -> str:
    return number_key[:PRINT_CHARS]


@dataclass(frozen=True)
class AudienceHolding:
    """One chunk of an upload that holds a given number: its campaign, team and position."""

    campaign_id: str
    upload_id: str
    team: str
    chunk: int


class AudienceChunks(TableStore):
    """Sealed audience chunks, uploads' prints and the audience index."""

    def stage_chunks(
        self,
        campaign_id: str,
        upload_id: str,
        sealed_chunks: Sequence[tuple[bytes, int]],
        expires_at: int,
        *,
        team: str,
        members: Sequence[Sequence[str]],
    ) -> None:
        """Writes an upload's sealed chunks; they count only once `commit_upload` names them.

        `members` are the number keys of each chunk, in order: they go into the audience index
        (`audiences_of`), so that a data-subject request finds the chunks holding a number.
        """
        index: dict[str, dict[str, int]] = {}
        for number, keys in enumerate(members):
            for key in keys:
                index.setdefault(audience_index_pk(key), {})[key] = number
        prints = sorted({audience_print(key) for keys in members for key in keys})
        with dynamodb_errors(), self._table.batch_writer() as batch:
            # The upload's numbers, by print, for the next upload of the campaign to be
            # checked against (CampaignStore.audience_prints).
            for start in range(0, len(prints), PRINTS_PER_ITEM):
                batch.put_item(
                    Item={
                        "pk": campaign_pk(campaign_id),
                        "sk": prints_sk(upload_id, start // PRINTS_PER_ITEM),
                        "prints": " ".join(prints[start : start + PRINTS_PER_ITEM]),
                        "expires_at": expires_at,
                    }
                )
            for number, (sealed, size) in enumerate(sealed_chunks):
                batch.put_item(
                    Item={
                        "pk": campaign_pk(campaign_id),
                        "sk": chunk_sk(upload_id, number),
                        "sealed": sealed,
                        "size": size,
                        "expires_at": expires_at,
                    }
                )
            for bucket, chunk_of in index.items():
                batch.put_item(
                    Item={
                        "pk": bucket,
                        "sk": audience_upload_sk(campaign_id, upload_id),
                        "campaign_id": campaign_id,
                        "upload_id": upload_id,
                        "team": team,
                        "members": chunk_of,
                        "expires_at": expires_at,
                    }
                )

    def audience_prints(self, campaign_id: str, upload_ids: Iterable[str]) -> set[str]:
        """The prints of the numbers of the campaign's committed uploads `upload_ids` (staged
        uploads never committed are left out): a page of DynamoDB holds about 60,000."""
        committed = set(upload_ids)
        if not committed:
            return set()
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(campaign_pk(campaign_id))
            & Key("sk").begins_with(PRINTS_PREFIX),
            ConsistentRead=True,  # the upload committed a moment ago counts
        )
        return {
            value
            for item in items
            if upload_of_prints(item["sk"]) in committed
            for value in str(item["prints"]).split()
        }

    @dynamodb_call
    def commit_upload(
        self, campaign_id: str, upload: UploadRecord, *, after: int | None = None
    ) -> None:
        """Adds a staged upload to a draft campaign in one conditional write: all of it or none.

        With `after`, only if the campaign still has that many uploads: the upload was checked
        against those, and one committed meanwhile makes it a Conflict (send it again).
        """
        condition = "#status = :draft AND NOT contains(upload_ids, :id)"
        values: dict[str, Any] = {}
        if after is not None:
            condition += (
                " AND attribute_not_exists(upload_ids)"
                if after == 0
                else " AND size(upload_ids) = :known"
            )
            if after:
                values[":known"] = after
        try:
            self._table.update_item(
                Key=campaign_key(campaign_id),
                UpdateExpression=(
                    "SET uploads = list_append(if_not_exists(uploads, :none), :upload) "
                    "ADD chunk_count :chunks, recipient_count :recipients, upload_ids :ids"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    **values,
                    ":none": [],
                    ":upload": [upload.model_dump(exclude_none=True)],
                    ":chunks": upload.chunks,
                    ":recipients": upload.recipients,
                    ":ids": {upload.upload_id},
                    ":id": upload.upload_id,
                    ":draft": "draft",
                },
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise Conflict(
                    "the audience can only change while the campaign is a draft, one upload "
                    "at a time (another was added meanwhile: send this one again)"
                ) from exc
            raise

    # audience chunks
    @dynamodb_call
    def get_chunk(self, campaign_id: str, upload_id: str, chunk: int) -> bytes | None:
        item = self._table.get_item(Key=chunk_key(campaign_id, upload_id, chunk)).get("Item")
        if not item:
            return None
        sealed = item["sealed"]
        if isinstance(sealed, Binary):
            return bytes(sealed.value)
        return bytes(cast(bytes, sealed))

    @dynamodb_call
    def replace_chunk(self, campaign_id: str, upload_id: str, chunk: int, sealed: bytes) -> bool:
        """Writes a chunk sealed anew over the old one; False if it expired meanwhile."""
        try:
            self._table.update_item(
                Key=chunk_key(campaign_id, upload_id, chunk),
                UpdateExpression="SET sealed = :sealed",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":sealed": sealed},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    # the audience index: which upload chunks hold a number, without reading every chunk
    def audiences_of(self, number_key: str) -> list[AudienceHolding]:
        """Every chunk of every upload that holds `number_key`: one query of its bucket."""
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(audience_index_pk(number_key))
            & Key("sk").begins_with(AUDIENCE_UPLOAD_PREFIX),
            FilterExpression="attribute_exists(#members.#key)",
            ProjectionExpression="campaign_id, upload_id, team, #members.#key",
            ExpressionAttributeNames={"#members": "members", "#key": number_key},
            ConsistentRead=True,
        )
        return [
            AudienceHolding(
                campaign_id=str(item["campaign_id"]),
                upload_id=str(item["upload_id"]),
                team=str(item["team"]),
                chunk=int(cast(Decimal, item["members"][number_key])),
            )
            for item in items
        ]

    @dynamodb_call
    def forget_audience_member(self, holding: AudienceHolding, number_key: str) -> None:
        """Takes `number_key` out of the audience index of one upload (its chunk is erased),
        then its print out of the upload's prints."""
        self._forget_print(holding, audience_print(number_key))
        try:
            self._table.update_item(
                Key=audience_index_key(number_key, holding.campaign_id, holding.upload_id),
                UpdateExpression="REMOVE #members.#key",
                # An update of an item that expired meanwhile would write it again, empty.
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#members": "members", "#key": number_key},
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise

    @dynamodb_call
    def _forget_print(self, holding: AudienceHolding, value: str) -> None:
        """Rewrites the upload's prints items that hold `value` without it, each only if no one
        rewrote it meanwhile (two erasures at once: the loser reads it again)."""
        for _attempt in range(5):
            items = _query_all(
                self._table,
                KeyConditionExpression=Key("pk").eq(campaign_pk(holding.campaign_id))
                & Key("sk").begins_with(prints_prefix(holding.upload_id)),
                ConsistentRead=True,
            )
            try:
                for item in items:
                    prints = str(item["prints"]).split()
                    if value not in prints:
                        continue
                    self._table.update_item(
                        Key={"pk": item["pk"], "sk": item["sk"]},
                        UpdateExpression="SET prints = :kept",
                        ConditionExpression="prints = :read",
                        ExpressionAttributeValues={
                            ":kept": " ".join(kept for kept in prints if kept != value),
                            ":read": item["prints"],
                        },
                    )
                return
            except ClientError as exc:
                if not _is_condition_failure(exc):
                    raise
        raise DependencyError("the upload's prints kept changing; the erasure can be sent again")
