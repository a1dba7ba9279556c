"""DynamoDB access: one small store per kind of record, items mapped explicitly to records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.allowance import allowance_partition
from cloison.errors import Conflict, DependencyError
from cloison.models.records import (
    CampaignRecord,
    ChunkProgress,
    ConsentRecord,
    MessageRecord,
    MessageStatus,
    PrivacyReceiptRecord,
    ReplyRecord,
    SenderRecord,
    SuppressionRecord,
    UploadRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from cloison.adapters.envelope import Sealer

Item = dict[str, Any]
BATCH_GET_LIMIT = 100


class CampaignPosition(NamedTuple):
    """A campaign's place in its team's listing (the `by-team` index): created when, which."""

    created_at: datetime
    campaign_id: str


def _table(name: str) -> Table:
    return aws.dynamodb().Table(name)


def _item(record_fields: Mapping[str, Any]) -> Item:
    """A record's fields as DynamoDB attributes: datetimes as ISO text, floats as Decimal, no None."""
    item: Item = {}
    for key, value in record_fields.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            item[key] = value.isoformat()
        elif isinstance(value, float):
            item[key] = Decimal(str(value))
        else:
            item[key] = value
    return item


SECONDS_PER_DAY = 86_400


def _expires_at(start: datetime, days: int) -> int:
    return int((start + timedelta(days=days)).timestamp())


def _failed(exc: ClientError) -> DependencyError:
    return DependencyError(f"DynamoDB {exc.response['Error']['Code']}")


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _query_all(table: Table, limit: int | None = None, **arguments: Any) -> list[Item]:
    """Every item a query finds, page after page; with `limit`, stops once that many passed
    the query's filter (a query's own `Limit` applies before its filter)."""
    items: list[Item] = []
    try:
        while limit is None or len(items) < limit:
            page = table.query(**arguments)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    except ClientError as exc:
        raise _failed(exc) from exc
    return items if limit is None else items[:limit]


def batch_get(table_name: str, keys: Sequence[Item], *, consistent: bool = False) -> list[Item]:
    """BatchGetItem over any number of keys, retrying what DynamoDB leaves unprocessed;
    `consistent` reads what was written just before (twice the read capacity)."""
    found: list[Item] = []
    client = aws.dynamodb()
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        request: Any = {
            table_name: {
                "Keys": list(keys[start : start + BATCH_GET_LIMIT]),
                "ConsistentRead": consistent,
            }
        }
        for _attempt in range(8):
            try:
                answer = client.batch_get_item(RequestItems=request)
            except ClientError as exc:
                raise _failed(exc) from exc
            found.extend(answer["Responses"].get(table_name, []))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise DependencyError("DynamoDB left keys unprocessed after retries")
    return found


# The audience index groups number keys by their first characters: an upload writes one item
# per bucket it touches (4,096 at most) rather than one per recipient, and a number's query
# reads one item per upload of its bucket.
INDEX_BUCKET_CHARS = 3


# An upload's numbers are kept by print (the first 16 hex digits of their keyed hash, 64 bits:
# two numbers share one with odds of 1 in 10^8 in an audience of 10^6), space-separated, this
# many an item (about 100 KB).
PRINT_CHARS = 16
PRINTS_PER_ITEM = 6000


def audience_print(number_key: str) -> str:
    return number_key[:PRINT_CHARS]


def _index_bucket(number_key: str) -> str:
    return f"recipients#{number_key[:INDEX_BUCKET_CHARS]}"


@dataclass(frozen=True)
class AudienceHolding:
    """One chunk of an upload that holds a given number: its campaign, team and position."""

    campaign_id: str
    upload_id: str
    team: str
    chunk: int


class CampaignStore:
    """Campaigns, their sender profiles, sealed audience chunks, chunk claims and counters."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._table = _table(table_name)

    # campaigns
    def put_campaign(self, record: CampaignRecord) -> None:
        item = _item(record.model_dump())
        item |= {
            "pk": f"campaign#{record.campaign_id}",
            "sk": "campaign",
            "team_pk": f"team#{record.team}",
        }
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise Conflict(f"campaign {record.campaign_id} exists") from exc
            raise _failed(exc) from exc

    def get_campaign(self, campaign_id: str) -> CampaignRecord | None:
        try:
            item = self._table.get_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": "campaign"}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        return CampaignRecord.model_validate(item) if item else None

    def set_status(
        self,
        campaign_id: str,
        status: str,
        *,
        allowed_from: Iterable[str],
        launch_at: datetime | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        """Moves a campaign to `status` only from one of `allowed_from`; otherwise Conflict.

        `fields` are set in the same write (a recurring schedule, for instance).
        """
        names = {"#status": "status"}
        values: Item = {":status": status}
        allowed = list(allowed_from)
        for index, current in enumerate(allowed):
            values[f":from{index}"] = current
        update = "SET #status = :status"
        if launch_at is not None:
            update += ", launch_at = :launch_at"
            values[":launch_at"] = launch_at.isoformat()
        for index, (name, value) in enumerate((fields or {}).items()):
            names[f"#f{index}"] = name
            values[f":f{index}"] = value
            update += f", #f{index} = :f{index}"
        condition = (
            "#status IN (" + ", ".join(f":from{index}" for index in range(len(allowed))) + ")"
        )
        try:
            self._table.update_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": "campaign"},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise Conflict(f"campaign cannot become {status} from its current status") from exc
            raise _failed(exc) from exc

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
                index.setdefault(_index_bucket(key), {})[key] = number
        prints = sorted({audience_print(key) for keys in members for key in keys})
        try:
            with self._table.batch_writer() as batch:
                # The upload's numbers, by print, for the next upload of the campaign to be
                # checked against (CampaignStore.audience_prints).
                for start in range(0, len(prints), PRINTS_PER_ITEM):
                    batch.put_item(
                        Item={
                            "pk": f"campaign#{campaign_id}",
                            "sk": f"prints#{upload_id}#{start // PRINTS_PER_ITEM:05d}",
                            "prints": " ".join(prints[start : start + PRINTS_PER_ITEM]),
                            "expires_at": expires_at,
                        }
                    )
                for number, (sealed, size) in enumerate(sealed_chunks):
                    batch.put_item(
                        Item={
                            "pk": f"campaign#{campaign_id}",
                            "sk": f"chunk#{upload_id}#{number:05d}",
                            "sealed": sealed,
                            "size": size,
                            "expires_at": expires_at,
                        }
                    )
                for bucket, chunk_of in index.items():
                    batch.put_item(
                        Item={
                            "pk": bucket,
                            "sk": f"upload#{campaign_id}#{upload_id}",
                            "campaign_id": campaign_id,
                            "upload_id": upload_id,
                            "team": team,
                            "members": chunk_of,
                            "expires_at": expires_at,
                        }
                    )
        except ClientError as exc:
            raise _failed(exc) from exc

    def audience_prints(self, campaign_id: str, upload_ids: Iterable[str]) -> set[str]:
        """The prints of the numbers of the campaign's committed uploads `upload_ids` (staged
        uploads never committed are left out): a page of DynamoDB holds about 60,000."""
        committed = set(upload_ids)
        if not committed:
            return set()
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(f"campaign#{campaign_id}")
            & Key("sk").begins_with("prints#"),
            ConsistentRead=True,  # the upload committed a moment ago counts
        )
        return {
            value
            for item in items
            if str(item["sk"]).split("#")[1] in committed
            for value in str(item["prints"]).split()
        }

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
                Key={"pk": f"campaign#{campaign_id}", "sk": "campaign"},
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
            raise _failed(exc) from exc

    # occurrences of a recurring campaign: each firing is a campaign of its own
    def add_occurrence(self, occurrence: CampaignRecord) -> bool:
        """Creates a firing's campaign and its entry under the recurring campaign, in one write.

        Only while the recurring campaign is `scheduled`, and only once per occurrence id.
        False when nothing was written: the firing came before (a redelivery), or the
        recurring campaign was paused or cancelled meanwhile.
        """
        recurring, scheduled_at = occurrence.occurrence_of, occurrence.launch_at
        if recurring is None or scheduled_at is None:
            raise ValueError("an occurrence names its recurring campaign and its time")
        item = _item(occurrence.model_dump()) | {
            "pk": f"campaign#{occurrence.campaign_id}",
            "sk": "campaign",
            "team_pk": f"team#{occurrence.team}",
        }
        at = scheduled_at.astimezone(UTC).isoformat()
        actions: list[Any] = [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": {"pk": f"campaign#{recurring}", "sk": "campaign"},
                    "ConditionExpression": "#status = :scheduled AND attribute_exists(schedule)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":scheduled": "scheduled"},
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "pk": f"campaign#{recurring}",
                        "sk": f"occurrence#{at}",
                        "campaign_id": occurrence.campaign_id,
                        "scheduled_at": at,
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            self._transact(actions, conflict="occurrence exists or campaign not scheduled")
        except Conflict:
            return False
        return True

    def occurrences(self, campaign_id: str, limit: int = 20) -> list[CampaignRecord]:
        """The latest occurrences of a recurring campaign, newest first: one query, one batch."""
        try:
            items = self._table.query(
                KeyConditionExpression=Key("pk").eq(f"campaign#{campaign_id}")
                & Key("sk").begins_with("occurrence#"),
                ScanIndexForward=False,
                Limit=limit,
                ConsistentRead=True,
            )["Items"]
        except ClientError as exc:
            raise _failed(exc) from exc
        ids = [str(item["campaign_id"]) for item in items]
        found = {
            str(item["campaign_id"]): CampaignRecord.model_validate(item)
            for item in batch_get(
                self.table_name, [{"pk": f"campaign#{each}", "sk": "campaign"} for each in ids]
            )
        }
        return [found[each] for each in ids if each in found]

    def of_team(
        self,
        team: str,
        *,
        status: str | None = None,
        after: CampaignPosition | None = None,
        limit: int = 100,
    ) -> tuple[list[CampaignRecord], bool]:
        """Up to `limit` of a team's campaigns, newest first, from the `by-team` index (one
        query, no scan), those after `after` if given; and whether more follow."""
        arguments: dict[str, Any] = {
            "IndexName": "by-team",
            "KeyConditionExpression": Key("team_pk").eq(f"team#{team}"),
            "ScanIndexForward": False,
        }
        if status is not None:
            arguments["FilterExpression"] = Attr("status").eq(status)
        else:
            # One more than listed says whether more follow; a filter applies after `Limit`.
            arguments["Limit"] = limit + 1
        if after is not None:
            # The index's key and the table's, as put_campaign wrote them.
            arguments["ExclusiveStartKey"] = {
                "team_pk": f"team#{team}",
                "created_at": after.created_at.isoformat(),
                "pk": f"campaign#{after.campaign_id}",
                "sk": "campaign",
            }
        items = _query_all(self._table, limit + 1, **arguments)
        return [CampaignRecord.model_validate(item) for item in items[:limit]], len(items) > limit

    # sender profiles
    def put_sender(self, record: SenderRecord) -> None:
        item = _item(record.model_dump()) | {
            "pk": f"team#{record.team}",
            "sk": f"sender#{record.name}",
        }
        try:
            self._table.put_item(Item=item)
        except ClientError as exc:
            raise _failed(exc) from exc

    def get_sender(self, team: str, name: str) -> SenderRecord | None:
        try:
            item = self._table.get_item(Key={"pk": f"team#{team}", "sk": f"sender#{name}"}).get(
                "Item"
            )
        except ClientError as exc:
            raise _failed(exc) from exc
        return SenderRecord.model_validate(item) if item else None

    def senders_of(self, team: str) -> list[SenderRecord]:
        """The team's sender profiles, by name."""
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(f"team#{team}") & Key("sk").begins_with("sender#"),
        )
        return [SenderRecord.model_validate(item) for item in items]

    # audience chunks
    def get_chunk(self, campaign_id: str, upload_id: str, chunk: int) -> bytes | None:
        try:
            item = self._table.get_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": f"chunk#{upload_id}#{chunk:05d}"}
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        if not item:
            return None
        sealed = item["sealed"]
        if isinstance(sealed, Binary):
            return bytes(sealed.value)
        return bytes(cast(bytes, sealed))

    def replace_chunk(self, campaign_id: str, upload_id: str, chunk: int, sealed: bytes) -> bool:
        """Writes a chunk sealed anew over the old one; False if it expired meanwhile."""
        try:
            self._table.update_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": f"chunk#{upload_id}#{chunk:05d}"},
                UpdateExpression="SET sealed = :sealed",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":sealed": sealed},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise _failed(exc) from exc
        return True

    # the audience index: which upload chunks hold a number, without reading every chunk
    def audiences_of(self, number_key: str) -> list[AudienceHolding]:
        """Every chunk of every upload that holds `number_key`: one query of its bucket."""
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(_index_bucket(number_key))
            & Key("sk").begins_with("upload#"),
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

    def forget_audience_member(self, holding: AudienceHolding, number_key: str) -> None:
        """Takes `number_key` out of the audience index of one upload (its chunk is erased),
        then its print out of the upload's prints."""
        self._forget_print(holding, audience_print(number_key))
        try:
            self._table.update_item(
                Key={
                    "pk": _index_bucket(number_key),
                    "sk": f"upload#{holding.campaign_id}#{holding.upload_id}",
                },
                UpdateExpression="REMOVE #members.#key",
                # An update of an item that expired meanwhile would write it again, empty.
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#members": "members", "#key": number_key},
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise _failed(exc) from exc

    def _forget_print(self, holding: AudienceHolding, value: str) -> None:
        """Rewrites the upload's prints items that hold `value` without it, each only if no one
        rewrote it meanwhile (two erasures at once: the loser reads it again)."""
        for _attempt in range(5):
            items = _query_all(
                self._table,
                KeyConditionExpression=Key("pk").eq(f"campaign#{holding.campaign_id}")
                & Key("sk").begins_with(f"prints#{holding.upload_id}#"),
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
                    raise _failed(exc) from exc
        raise DependencyError("the upload's prints kept changing; the erasure can be sent again")

    # progress of a chunk pass: a lease, a checkpoint per slice, never one write per recipient
    def lease(
        self, campaign_id: str, key: str, worker: str, now: datetime, until: datetime
    ) -> ChunkProgress | None:
        """Takes the pass for `worker`; None if the pass is done; Conflict if another holds it."""
        try:
            answer = self._table.update_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": f"progress#{key}"},
                UpdateExpression="SET worker = :worker, lease_until = :until",
                ConditionExpression=(
                    "attribute_not_exists(pk) OR "
                    "(NOT done = :true AND (lease_until < :now OR worker = :worker))"
                ),
                ExpressionAttributeValues={
                    ":worker": worker,
                    ":until": until.isoformat(),
                    ":now": now.isoformat(),
                    ":true": True,
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise _failed(exc) from exc
            current = self._table.get_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": f"progress#{key}"}, ConsistentRead=True
            ).get("Item", {})
            if current.get("done"):
                return None
            raise Conflict("another worker holds this pass") from exc
        return ChunkProgress.model_validate(answer.get("Attributes", {}))

    def checkpoint(
        self,
        campaign_id: str,
        key: str,
        worker: str,
        *,
        next_index: int,
        in_flight: Sequence[int] = (),
        done: bool = False,
        release: bool = False,
        counts: Mapping[str, float] | None = None,
    ) -> None:
        """Records how far the pass got, and which recipients are being sent right now.

        `counts` (the campaign counters' share of the recipients settled since the last
        checkpoint) are added in the same transaction: a crash never counts a recipient twice
        nor loses one. With `release`, the lease ends now, so the next worker goes on from here.
        """
        update = "SET next_index = :next, in_flight = :flight, done = :done"
        values: Item = {
            ":next": next_index,
            ":flight": list(in_flight),
            ":done": done,
            ":worker": worker,
        }
        if release:
            update += ", lease_until = :ended"
            values[":ended"] = ""
        progress = {
            "TableName": self.table_name,
            "Key": {"pk": f"campaign#{campaign_id}", "sk": f"progress#{key}"},
            "UpdateExpression": update,
            "ConditionExpression": "worker = :worker",
            "ExpressionAttributeValues": values,
        }
        self._transact(
            [{"Update": progress}, *self._counter_update(campaign_id, counts or {})],
            conflict="the chunk's lease was taken over",
        )

    def park(
        self,
        campaign_id: str,
        release_at: datetime,
        ref_fields: Mapping[str, Any],
        counts: Mapping[str, float],
        *,
        parked_by: tuple[str, str] | None = None,
    ) -> bool:
        """Keeps a chunk's waiting recipients until `release_at` (their window, or a resume).

        The counters move in the same transaction, and with `parked_by` (the pass's key and its
        worker) the pass's progress records the recipients as parked: a retry of that pass, even
        once their window has opened, leaves them to the release. False when they were parked
        already.
        """
        item = {
            "pk": f"campaign#{campaign_id}",
            "sk": f"parked#{release_at.astimezone(UTC).isoformat()}#{ref_fields['upload']}"
            f"#{ref_fields['chunk']:05d}#{ref_fields['pass_no']:03d}#{ref_fields['tag']}",
            **ref_fields,
        }
        put = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        actions: list[Any] = [{"Put": put}, *self._counter_update(campaign_id, counts)]
        if parked_by is not None and ref_fields["indexes"]:
            key, worker = parked_by
            actions.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": f"campaign#{campaign_id}", "sk": f"progress#{key}"},
                        "UpdateExpression": "ADD parked :indexes",
                        "ConditionExpression": "worker = :worker",
                        "ExpressionAttributeValues": {
                            ":indexes": {int(index) for index in ref_fields["indexes"]},
                            ":worker": worker,
                        },
                    }
                }
            )
        try:
            self._transact(actions, conflict="parked")
        except Conflict:
            return False
        return True

    def add_counts_once(
        self, campaign_id: str, counts: Mapping[str, int], batch: str, expires_at: int
    ) -> bool:
        """Adds what one batch of record changes counts; False when that batch was added already.

        The counters and a marker of the batch are written in one transaction, so a batch that
        comes back (its function failed after some campaigns' counts) adds nothing twice. The
        marker outlives the stream's 24 hours of retention, then expires.
        """
        marker = {
            "Put": {
                "TableName": self.table_name,
                "Item": {
                    "pk": f"campaign#{campaign_id}",
                    "sk": f"counted#{batch}",
                    "expires_at": expires_at,
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self._transact([marker, *self._counter_update(campaign_id, counts)], conflict="counted")
        except Conflict:
            return False
        return True

    def _counter_update(self, campaign_id: str, counts: Mapping[str, float]) -> list[Any]:
        increments = {name: value for name, value in counts.items() if value}
        if not increments:
            return []
        return [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"pk": f"campaign#{campaign_id}", "sk": "stats"},
                    "UpdateExpression": "ADD "
                    + ", ".join(f"#c{index} :c{index}" for index in range(len(increments))),
                    "ExpressionAttributeNames": {
                        f"#c{index}": name for index, name in enumerate(increments)
                    },
                    "ExpressionAttributeValues": {
                        f":c{index}": Decimal(str(round(value, 6)))
                        for index, value in enumerate(increments.values())
                    },
                }
            }
        ]

    def _transact(self, actions: list[Any], *, conflict: str) -> None:
        try:
            if len(actions) == 1:
                # One item needs no transaction: the same write at half the capacity.
                only = actions[0]
                kind, request = next(iter(only.items()))
                table = self._table
                arguments = {key: value for key, value in request.items() if key != "TableName"}
                (table.update_item if kind == "Update" else table.put_item)(**arguments)
            else:
                aws.dynamodb().meta.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise Conflict(conflict) from exc
            raise _failed(exc) from exc

    def parked_until(self, campaign_id: str, until: datetime | None) -> list[Item]:
        """Parked chunk passes due at `until` (every one when None), oldest first."""
        high = f"parked#{until.astimezone(UTC).isoformat()}~" if until else "parked#~"
        return _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(f"campaign#{campaign_id}")
            & Key("sk").between("parked#", high),
            ConsistentRead=True,
        )

    def parked_by_pass(
        self, campaign_id: str, upload: str, chunk: int, pass_no: int
    ) -> set[datetime]:
        """When the passes numbered `pass_no` of one chunk are parked until, if any are."""
        return {
            datetime.fromisoformat(str(item["sk"]).split("#")[1])
            for item in self.parked_until(campaign_id, None)
            if (item["upload"], int(item["chunk"]), int(item["pass_no"]))
            == (upload, chunk, pass_no)
        }

    def unpark(self, campaign_id: str, sort_keys: Sequence[str]) -> None:
        try:
            with self._table.batch_writer() as batch:
                for sort_key in sort_keys:
                    batch.delete_item(Key={"pk": f"campaign#{campaign_id}", "sk": sort_key})
        except ClientError as exc:
            raise _failed(exc) from exc

    # counters: one update per batch, never one per recipient
    def add_counts(
        self, campaign_id: str, counts: Mapping[str, int], *, segments: int = 0, cost: float = 0.0
    ) -> dict[str, float]:
        increments = {name: value for name, value in counts.items() if value}
        if segments:
            increments["segments"] = segments
        if not increments and not cost:
            return {}
        names = {f"#c{index}": name for index, name in enumerate(increments)}
        values: Item = {f":c{index}": value for index, value in enumerate(increments.values())}
        clauses = [f"#c{index} :c{index}" for index in range(len(increments))]
        if cost:
            names["#cost"] = "cost"
            values[":cost"] = Decimal(str(round(cost, 6)))
            clauses.append("#cost :cost")
        try:
            answer = self._table.update_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": "stats"},
                UpdateExpression="ADD " + ", ".join(clauses),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            raise _failed(exc) from exc
        return {
            key: float(value)
            for key, value in answer.get("Attributes", {}).items()
            if isinstance(value, Decimal | int)
        }

    def get_counts(self, campaign_id: str) -> dict[str, float]:
        try:
            item = self._table.get_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": "stats"}, ConsistentRead=True
            ).get("Item", {})
        except ClientError as exc:
            raise _failed(exc) from exc
        return {
            key: float(value)
            for key, value in item.items()
            if key not in ("pk", "sk") and isinstance(value, Decimal | int | float)
        }


# Message records are keyed by the number they went to (`recipient#<hash>`, `campaign#<id>`):
# a reply's match, a person's access or erasure read one item collection, and a campaign's
# writes spread over as many partition keys as it has recipients. A record still waiting for
# its final event carries `open_campaign`, which puts it (and only it) in this sparse index.
OPEN_INDEX = "open-by-campaign"


def _message_key(campaign_id: str, number_key: str) -> Item:
    return {"pk": f"recipient#{number_key}", "sk": f"campaign#{campaign_id}"}


@dataclass(frozen=True)
class MessageRef:
    """What reply matching needs of a message: its campaign and team."""

    campaign_id: str
    team: str
    number_key: str
    carrier_message_id: str | None

    @classmethod
    def of(cls, item: Item) -> MessageRef:
        return cls(
            campaign_id=str(item["campaign_id"]),
            team=str(item["team"]),
            number_key=str(item["number_key"]),
            carrier_message_id=cast(str | None, item.get("carrier_message_id")),
        )


class MessageStore:
    """Per-recipient message records, keyed by number hash and campaign."""

    def __init__(self, table_name: str, retention_days: int) -> None:
        self.table_name = table_name
        self._table = _table(table_name)
        self.retention_days = retention_days

    def advance(
        self,
        campaign_id: str,
        team: str,
        number_key: str,
        carrier_message_id: str,
        status: MessageStatus,
        rank: int,
        now: datetime,
    ) -> int | None:
        """Creates or moves a record forward to `status`; its former rank, or None if it did not move.

        The carrier's events create the records: the send path writes none per recipient. A
        final event leaves the record out of the open index, so with final events only a
        message costs one write of one item.
        """
        values: dict[str, Any] = {
            ":status": status.value,
            ":rank": rank,
            ":now": now.isoformat(),
            ":campaign": campaign_id,
            ":team": team,
            ":key": number_key,
            ":message": carrier_message_id,
            ":expires": _expires_at(now, self.retention_days),
        }
        update = (
            "SET #status = :status, status_rank = :rank, updated_at = :now, "
            "campaign_id = :campaign, team = :team, number_key = :key, "
            "carrier_message_id = :message, sent_at = if_not_exists(sent_at, :now), "
            "expires_at = :expires"
        )
        if rank < FINAL_RANK:
            update += ", open_campaign = :campaign"
        else:
            update += " REMOVE open_campaign"
        try:
            answer = self._table.update_item(
                Key=_message_key(campaign_id, number_key),
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(pk) OR status_rank < :rank",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return None
            raise _failed(exc) from exc
        return int(cast(Decimal, answer.get("Attributes", {}).get("status_rank", 0)))

    def unfinished(self, campaign_id: str) -> list[MessageRecord]:
        """The campaign's messages that have no final status yet (the open index, page by page)."""
        items = _query_all(
            self._table,
            IndexName=OPEN_INDEX,
            KeyConditionExpression=Key("open_campaign").eq(campaign_id),
        )
        return [MessageRecord.model_validate(item) for item in items]

    def by_carrier_message(self, number_key: str, carrier_message_id: str) -> MessageRef | None:
        """The message a reply answers: among the number's messages, the one the carrier's id names."""
        items = _query_all(
            self._table,
            limit=1,
            KeyConditionExpression=Key("pk").eq(f"recipient#{number_key}"),
            FilterExpression=Attr("carrier_message_id").eq(carrier_message_id),
        )
        return MessageRef.of(items[0]) if items else None

    def latest_to(self, number_key: str) -> MessageRef | None:
        """The number's most recent message (a number gets a handful: all are read)."""
        records = self.to_number(number_key)
        return MessageRef.of(records[0].model_dump()) if records else None

    def get(self, campaign_id: str, number_key: str) -> MessageRecord | None:
        try:
            item = self._table.get_item(
                Key=_message_key(campaign_id, number_key), ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        return MessageRecord.model_validate(item) if item else None

    def to_number(self, number_key: str) -> list[MessageRecord]:
        """Every message record to a number, newest first."""
        items = _query_all(
            self._table, KeyConditionExpression=Key("pk").eq(f"recipient#{number_key}")
        )
        records = [MessageRecord.model_validate(item) for item in items if "status" in item]
        return sorted(records, key=lambda record: record.sent_at or record.updated_at, reverse=True)

    def bury(self, number_key: str, campaign_ids: Iterable[str], until: datetime) -> int:
        """Replaces the number's record of each campaign by a tombstone until `until`: no
        campaign, team, status or carrier id, only a rank above every status, so that a
        delivery event arriving after an erasure (up to 72 hours after a send) moves nothing
        and writes nothing back. The table's time to live deletes it. Returns how many."""
        campaigns = sorted(set(campaign_ids))
        try:
            with self._table.batch_writer() as batch:
                for campaign_id in campaigns:
                    batch.put_item(
                        Item={
                            **_message_key(campaign_id, number_key),
                            "status_rank": ERASED_RANK,
                            "expires_at": int(until.timestamp()),
                        }
                    )
        except ClientError as exc:
            raise _failed(exc) from exc
        return len(campaigns)


GLOBAL_SCOPE = "all"
# delivered, failed and expired share this rank: nothing moves a message past it
FINAL_RANK = 3
# An erased number's tombstone ranks above every status: no event moves it (MessageStore.bury).
ERASED_RANK = 99
# A suppression whose number End User Messaging's opt-out list may still lack carries this in
# `provider_sync`, which puts it (and only it) in the sparse index PROVIDER_SYNC_INDEX.
PROVIDER_SYNC_PENDING = "pending"
PROVIDER_SYNC_INDEX = "by-provider-sync"
# TransactWriteItems takes 100 actions in AWS; 25 (BatchWriteItem's size) keeps moto in step.
TRANSACT_LIMIT = 25
_RECONCILIATION_CURSOR = {"pk": "reconciliation#opt-out-list", "sk": "cursor"}


@dataclass(frozen=True)
class GlobalStanding:
    """Whether a number is suppressed for every team, and when a START last lifted that."""

    suppressed: bool
    lifted_at: datetime | None = None


@dataclass(frozen=True)
class LiftedSuppression:
    """When an opt-out of one scope was lifted, and on what evidence."""

    at: datetime
    evidence: str
    said_at: datetime | None = None


def said(instant: datetime) -> str:
    """An instant as fixed-width UTC text, so that DynamoDB compares instants as strings."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class SuppressionHolding:
    """A number's suppression item as a data-subject request sees it."""

    standing: dict[str, SuppressionRecord]
    lifted: dict[str, LiftedSuppression]
    # The number itself waits, sealed, for End User Messaging's opt-out list.
    provider_pending: bool


@dataclass(frozen=True)
class ProviderPending:
    """A number whose opt-out End User Messaging's list did not take when it was recorded."""

    number_key: str
    e164: str
    # False when a START lifted the suppression since: the number must not be pushed any more.
    suppressed: bool


class SuppressionStore:
    """Opt-outs, one item per number hash: its scopes are `all` (a STOP) and `team#<team>`.

    One item per number makes the send path's check one key per recipient. The opt-out list
    reconciliation keeps its place in the list in one more item, `reconciliation#opt-out-list`.
    `sealer` is needed only to remember numbers for the carrier's opt-out list.
    """

    def __init__(self, table_name: str, sealer: Sealer | None = None) -> None:
        self.table_name = table_name
        self._table = _table(table_name)
        self._sealer = sealer

    def put(self, record: SuppressionRecord) -> bool:
        """Records an opt-out; True when the number stands suppressed in its scope afterwards.

        An opt-out the person said (`said_at`) is ordered by when they said it, whatever order
        the replies are processed in: it never replaces a standing one said later, and it does
        not stand when a START said later lifted it (or would have: `note_opt_in`). An opt-out
        that waits for review never replaces a clear one: lifting it after review must not lift
        the person's plain STOP with it.
        """
        entry = _item(record.model_dump(exclude={"number_key", "scope"}))
        names = {"#entry": f"scope:{record.scope}"}
        values: dict[str, Any] = {
            ":entry": entry,
            ":key": record.number_key,
            ":scope": {record.scope},
        }
        conditions: list[str] = []
        older_entry = None
        if record.said_at is not None:
            entry["said_at"] = values[":said"] = said(record.said_at)
            names |= {"#lifted": f"lifted:{record.scope}", "#said": "said_at"}
            conditions.append("(attribute_not_exists(#lifted.#said) OR #lifted.#said < :said)")
            older_entry = "attribute_not_exists(#entry.#said) OR #entry.#said < :said"
        if record.review:
            values[":true"] = True
            reviewed = "#entry.review = :true" + (f" AND ({older_entry})" if older_entry else "")
            conditions.append(f"(attribute_not_exists(#entry) OR ({reviewed}))")
        elif older_entry is not None:
            values[":true"] = True
            conditions.append(
                f"(attribute_not_exists(#entry) OR #entry.review = :true OR {older_entry})"
            )
        try:
            if conditions:
                replaced = self._table.update_item(
                    Key={"pk": f"number#{record.number_key}", "sk": "suppression"},
                    UpdateExpression="SET #entry = :entry, number_key = :key ADD scopes :scope",
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_OLD",
                ).get("Attributes", {})
                # A clear STOP over a review said later keeps the later instant: it stands
                # for both, and no START said between them lifts it.
                earlier = replaced.get(f"scope:{record.scope}")
                later = earlier.get("said_at") if isinstance(earlier, dict) else None
                if not record.review and isinstance(later, str) and later > values[":said"]:
                    self._carry_later_instant(record.number_key, record.scope, later)
            else:
                self._table.update_item(
                    Key={"pk": f"number#{record.number_key}", "sk": "suppression"},
                    UpdateExpression="SET #entry = :entry, number_key = :key ADD scopes :scope",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
        except ClientError as exc:
            if not (conditions and _is_condition_failure(exc)):
                raise _failed(exc) from exc
            # Said before a START that lifted it (not suppressed), before an opt-out that
            # stands, or a review's next to a clear STOP, which stands for it: the clear one
            # then carries the later instant, so that no START said before it lifts it.
            if record.review and record.said_at is not None:
                self._carry_later_instant(record.number_key, record.scope, said(record.said_at))
            return record.scope in self.get(record.number_key)
        return True

    def _carry_later_instant(self, number_key: str, scope: str, instant: str) -> None:
        try:
            self._table.update_item(
                Key={"pk": f"number#{number_key}", "sk": "suppression"},
                UpdateExpression="SET #entry.#said = :said",
                ConditionExpression=(
                    "#entry.review = :false AND "
                    "(attribute_not_exists(#entry.#said) OR #entry.#said < :said)"
                ),
                ExpressionAttributeNames={"#entry": f"scope:{scope}", "#said": "said_at"},
                ExpressionAttributeValues={":said": instant, ":false": False},
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise _failed(exc) from exc

    def note_opt_in(
        self, number_key: str, scope: str, *, evidence: str, said_at: datetime, at: datetime
    ) -> bool:
        """Remembers a START with no opt-out standing to lift, so that a STOP said before it and
        processed after it does not stand. False when an opt-out stands now, or a later START
        is already remembered."""
        try:
            self._table.update_item(
                Key={"pk": f"number#{number_key}", "sk": "suppression"},
                UpdateExpression="SET #lifted = :lifted, number_key = :key",
                ConditionExpression=(
                    "attribute_not_exists(#entry) AND "
                    "(attribute_not_exists(#lifted.#said) OR #lifted.#said < :said)"
                ),
                ExpressionAttributeNames={
                    "#entry": f"scope:{scope}",
                    "#lifted": f"lifted:{scope}",
                    "#said": "said_at",
                },
                ExpressionAttributeValues={
                    ":lifted": {
                        "at": at.isoformat(),
                        "evidence": evidence,
                        "said_at": said(said_at),
                    },
                    ":key": number_key,
                    ":said": said(said_at),
                },
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise _failed(exc) from exc
        return True

    def delete(self, number_key: str, scope: str) -> None:
        try:
            self._table.update_item(
                Key={"pk": f"number#{number_key}", "sk": "suppression"},
                UpdateExpression="REMOVE #entry DELETE scopes :scope",
                ExpressionAttributeNames={"#entry": f"scope:{scope}"},
                ExpressionAttributeValues={":scope": {scope}},
            )
        except ClientError as exc:
            raise _failed(exc) from exc

    def get(self, number_key: str) -> dict[str, SuppressionRecord]:
        """The number's suppressions by scope (`all`, `team#<team>`); empty when it has none."""
        holding = self.holding(number_key)
        return dict(holding.standing) if holding is not None else {}

    def holding(self, number_key: str) -> SuppressionHolding | None:
        """All the number's suppression item holds: what stands, what was lifted, whether the
        number waits (sealed) for the carrier's opt-out list. None when it has no item."""
        try:
            item = self._table.get_item(
                Key={"pk": f"number#{number_key}", "sk": "suppression"}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        if not item:
            return None
        standing = {
            scope: SuppressionRecord.model_validate(
                cast(Item, item[f"scope:{scope}"]) | {"number_key": number_key, "scope": scope}
            )
            for scope in cast(set[str], item.get("scopes", set()))
            if f"scope:{scope}" in item
        }
        lifted = {
            name.removeprefix("lifted:"): LiftedSuppression(
                at=datetime.fromisoformat(str(value["at"])),
                evidence=str(value["evidence"]),
                said_at=datetime.fromisoformat(str(value["said_at"]))
                if "said_at" in value
                else None,
            )
            for name, value in item.items()
            if name.startswith("lifted:") and isinstance(value, dict)
        }
        return SuppressionHolding(standing, lifted, provider_pending="provider_number" in item)

    def lift(
        self,
        number_key: str,
        scope: str,
        *,
        recorded_with: str,
        evidence: str,
        at: datetime,
        said_at: datetime | None = None,
    ) -> bool:
        """Removes one scope if it still stands on `recorded_with`, keeping when and why it went
        (and, for a START, when the person said it).

        False when it does not: a newer opt-out replaced it, or it was lifted already.
        """
        lifted: dict[str, str] = {"at": at.isoformat(), "evidence": evidence}
        if said_at is not None:
            lifted["said_at"] = said(said_at)
        try:
            self._table.update_item(
                Key={"pk": f"number#{number_key}", "sk": "suppression"},
                UpdateExpression="SET #lifted = :lifted REMOVE #entry DELETE scopes :scope",
                ConditionExpression="#entry.evidence = :evidence",
                ExpressionAttributeNames={"#entry": f"scope:{scope}", "#lifted": f"lifted:{scope}"},
                ExpressionAttributeValues={
                    ":lifted": lifted,
                    ":scope": {scope},
                    ":evidence": recorded_with,
                },
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise _failed(exc) from exc
        return True

    def suppressed(
        self, number_keys: Sequence[str], team: str, *, consistent: bool = False
    ) -> set[str]:
        """Which of `number_keys` must not receive messages of `team`."""
        keys = [{"pk": f"number#{key}", "sk": "suppression"} for key in dict.fromkeys(number_keys)]
        blocking = {GLOBAL_SCOPE, f"team#{team}"}
        return {
            str(item["number_key"])
            for item in batch_get(self.table_name, keys, consistent=consistent)
            if blocking & set(cast(set[str], item.get("scopes", set())))
        }

    # the reconciliation with End User Messaging's opt-out list
    def global_standing(self, number_keys: Sequence[str]) -> dict[str, GlobalStanding]:
        """How each of `number_keys` that has an item stands for every team (batches of 100)."""
        keys = [{"pk": f"number#{key}", "sk": "suppression"} for key in dict.fromkeys(number_keys)]
        standing: dict[str, GlobalStanding] = {}
        for item in batch_get(self.table_name, keys):
            lifted = item.get(f"lifted:{GLOBAL_SCOPE}")
            standing[str(item["pk"]).removeprefix("number#")] = GlobalStanding(
                suppressed=GLOBAL_SCOPE in cast(set[str], item.get("scopes", set())),
                lifted_at=(
                    datetime.fromisoformat(str(lifted["at"]))
                    if isinstance(lifted, dict) and "at" in lifted
                    else None
                ),
            )
        return standing

    def add_unless_lifted(self, imports: Sequence[tuple[SuppressionRecord, datetime]]) -> int:
        """Writes each (record, since) unless its scope was lifted at or after `since`; never
        over a suppression of that scope that stands. In transactions; returns how many took."""
        updates = [
            {
                "Key": {"pk": f"number#{record.number_key}", "sk": "suppression"},
                "UpdateExpression": (
                    "SET #entry = if_not_exists(#entry, :entry), number_key = :key "
                    "ADD scopes :scope"
                ),
                "ConditionExpression": "attribute_not_exists(#lifted) OR #lifted.#at < :since",
                "ExpressionAttributeNames": {
                    "#entry": f"scope:{record.scope}",
                    "#lifted": f"lifted:{record.scope}",
                    "#at": "at",
                },
                "ExpressionAttributeValues": {
                    ":entry": _item(record.model_dump(exclude={"number_key", "scope"})),
                    ":key": record.number_key,
                    ":scope": {record.scope},
                    ":since": since.astimezone(UTC).isoformat(),
                },
            }
            for record, since in imports
        ]
        return self._update_each(updates)

    def mark_provider_pending(self, number_key: str, e164: str, at: datetime) -> None:
        """Remembers, sealed, a number whose opt-out the carrier's list did not take; the
        reconciliation pushes it there and forgets it."""
        if self._sealer is None:
            raise ValueError("this SuppressionStore was built without a sealer")
        sealed = self._sealer.seal(e164.encode(), _provider_context(number_key))
        try:
            self._table.update_item(
                Key={"pk": f"number#{number_key}", "sk": "suppression"},
                UpdateExpression=(
                    "SET provider_sync = :pending, provider_number = :sealed, "
                    "provider_pending_since = :at"
                ),
                ExpressionAttributeValues={
                    ":pending": PROVIDER_SYNC_PENDING,
                    ":sealed": sealed,
                    ":at": at.isoformat(),
                },
            )
        except ClientError as exc:
            raise _failed(exc) from exc

    def provider_pending(self) -> list[ProviderPending]:
        """The numbers `mark_provider_pending` remembered: a query of the sparse index."""
        if self._sealer is None:
            raise ValueError("this SuppressionStore was built without a sealer")
        items = _query_all(
            self._table,
            IndexName=PROVIDER_SYNC_INDEX,
            KeyConditionExpression=Key("provider_sync").eq(PROVIDER_SYNC_PENDING),
        )
        pending = []
        for item in items:
            number_key = str(item["pk"]).removeprefix("number#")
            ciphertext = bytes(item["provider_number"])  # a boto3 Binary converts itself
            pending.append(
                ProviderPending(
                    number_key=number_key,
                    e164=self._sealer.open(ciphertext, _provider_context(number_key)).decode(),
                    suppressed=GLOBAL_SCOPE in cast(set[str], item.get("scopes", set())),
                )
            )
        return pending

    def clear_provider_pending(self, number_keys: Sequence[str]) -> int:
        """Forgets the remembered numbers (they leave the sparse index); returns how many."""
        return self._update_each(
            [
                {
                    "Key": {"pk": f"number#{key}", "sk": "suppression"},
                    "UpdateExpression": (
                        "REMOVE provider_sync, provider_number, provider_pending_since"
                    ),
                    "ConditionExpression": "attribute_exists(provider_sync)",
                }
                for key in dict.fromkeys(number_keys)
            ]
        )

    def reconciliation_cursor(self) -> str | None:
        """Where the last reconciliation stopped in the opt-out list; None: at its end."""
        try:
            item = self._table.get_item(Key=_RECONCILIATION_CURSOR, ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        token = (item or {}).get("next_token")
        return str(token) if token else None

    def save_reconciliation_cursor(self, token: str | None, at: datetime) -> None:
        item: Item = {**_RECONCILIATION_CURSOR, "updated_at": at.isoformat()}
        if token:
            item["next_token"] = token
        try:
            self._table.put_item(Item=item)
        except ClientError as exc:
            raise _failed(exc) from exc

    def _update_each(self, updates: Sequence[Item]) -> int:
        """UpdateItem requests, TRANSACT_LIMIT per call; returns how many were applied.

        A transaction is all or nothing: when one condition fails, its chunk is written item
        by item, so that only the refused update is left out.
        """
        applied = 0
        for start in range(0, len(updates), TRANSACT_LIMIT):
            chunk = updates[start : start + TRANSACT_LIMIT]
            if len(chunk) == 1:
                applied += self._update_one(chunk[0])
                continue
            try:
                actions: Any = [
                    {"Update": {"TableName": self.table_name, **update}} for update in chunk
                ]
                aws.dynamodb().meta.client.transact_write_items(TransactItems=actions)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise _failed(exc) from exc
                applied += sum(self._update_one(update) for update in chunk)
            else:
                applied += len(chunk)
        return applied

    def _update_one(self, update: Item) -> bool:
        try:
            self._table.update_item(**update)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise _failed(exc) from exc
        return True


def _provider_context(number_key: str) -> dict[str, str]:
    return {"purpose": "opt-out-list", "number": number_key}


class ConsentStore:
    """Opt-in consents with their proof, by number hash and team."""

    def __init__(self, table_name: str, retention_days: int) -> None:
        self.table_name = table_name
        self._table = _table(table_name)
        self.retention_days = retention_days

    def put(self, record: ConsentRecord) -> None:
        item = _item(record.model_dump()) | {
            "pk": f"contact#{record.number_key}",
            "sk": f"consent#{record.team}#{record.purpose}",
            "expires_at": _expires_at(record.given_at, self.retention_days),
        }
        try:
            self._table.put_item(Item=item)
        except ClientError as exc:
            raise _failed(exc) from exc

    def delete(self, number_key: str, team: str, purpose: str) -> ConsentRecord | None:
        """Withdraws a consent; returns what was recorded, or None if there was nothing."""
        try:
            answer = self._table.delete_item(
                Key={"pk": f"contact#{number_key}", "sk": f"consent#{team}#{purpose}"},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            raise _failed(exc) from exc
        item = answer.get("Attributes")
        return ConsentRecord.model_validate(item) if item else None

    def for_number(self, number_key: str) -> list[ConsentRecord]:
        """Every consent the number gave, to any team and for any purpose."""
        try:
            items = self._table.query(
                KeyConditionExpression=Key("pk").eq(f"contact#{number_key}")
                & Key("sk").begins_with("consent#"),
                ConsistentRead=True,
            )["Items"]
        except ClientError as exc:
            raise _failed(exc) from exc
        return [ConsentRecord.model_validate(item) for item in items]

    def touch(self, number_key: str, at: datetime) -> int:
        """The person contacted us at `at`: their consents are kept `retention_days` from then.

        A consent's expiry moves at most once a day, so a chatty number costs one query a
        reply. Returns how many consents moved.
        """
        expires_at = _expires_at(at, self.retention_days)
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(f"contact#{number_key}")
            & Key("sk").begins_with("consent#"),
            ProjectionExpression="pk, sk, expires_at",
        )
        moved = 0
        for item in items:
            if int(cast(Decimal, item.get("expires_at", 0))) > expires_at - SECONDS_PER_DAY:
                continue
            try:
                self._table.update_item(
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET expires_at = :expires",
                    ConditionExpression="attribute_exists(pk) AND expires_at < :expires",
                    ExpressionAttributeValues={":expires": expires_at},
                )
            except ClientError as exc:
                if _is_condition_failure(exc):
                    continue  # withdrawn or moved meanwhile
                raise _failed(exc) from exc
            moved += 1
        return moved

    def consented(
        self, number_keys: Sequence[str], team: str, purpose: str = "marketing"
    ) -> set[str]:
        keys = [
            {"pk": f"contact#{key}", "sk": f"consent#{team}#{purpose}"}
            for key in dict.fromkeys(number_keys)
        ]
        return {str(item["number_key"]) for item in batch_get(self.table_name, keys)}


REVIEW_QUEUE = "pending"


class ReplyIndex:
    """Reply metadata by team; the body lives only in the vault."""

    def __init__(self, table_name: str, retention_days: int) -> None:
        self.table_name = table_name
        self._table = _table(table_name)
        self.retention_days = retention_days

    def claim(self, record: ReplyRecord) -> ReplyRecord:
        """Writes the index entry unless the reply was seen before; returns the entry that stands."""
        item = _item(record.model_dump()) | {
            "pk": f"team#{record.team}",
            "sk": f"reply#{record.reply_id}",
            "recipient_hmac": record.number_key,
            "expires_at": _expires_at(record.received_at, self.retention_days),
        }
        if record.review == "pending":
            item["review_queue"] = REVIEW_QUEUE
        # A guard keyed by the reply id alone, written with the entry: a later delivery that
        # matched another compartment (the campaign's record arrived meanwhile) finds the first.
        guard = {
            "pk": f"reply#{record.reply_id}",
            "sk": "claim",
            "team": record.team,
            "expires_at": item["expires_at"],
        }
        absent = "attribute_not_exists(pk)"
        try:
            aws.dynamodb().meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": item,
                            "ConditionExpression": absent,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": guard,
                            "ConditionExpression": absent,
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in (
                "TransactionCanceledException",
                "ConditionalCheckFailedException",
            ):
                raise _failed(exc) from exc
            existing = self.claimed(record.reply_id)
            if existing is None:
                # A concurrent claim of the same reply still in progress: try again later.
                raise DependencyError("reply claimed concurrently") from exc
            return existing
        return record

    def claimed(self, reply_id: str) -> ReplyRecord | None:
        """The entry an earlier delivery claimed, in whichever compartment it went to."""
        try:
            guard = self._table.get_item(
                Key={"pk": f"reply#{reply_id}", "sk": "claim"}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        return self.get(str(guard["team"]), reply_id) if guard else None

    def mark_stored(self, team: str, reply_id: str, *, answered: bool = False) -> None:
        try:
            self._table.update_item(
                Key={"pk": f"team#{team}", "sk": f"reply#{reply_id}"},
                UpdateExpression="SET #stored = :true, answered = :answered",
                ExpressionAttributeNames={"#stored": "stored"},
                ExpressionAttributeValues={":true": True, ":answered": answered},
            )
        except ClientError as exc:
            raise _failed(exc) from exc

    def review(self, team: str, reply_id: str, decision: str, by: str, at: datetime) -> None:
        """Records a person's decision on a reply awaiting review; a second decision is a 409."""
        try:
            self._table.update_item(
                Key={"pk": f"team#{team}", "sk": f"reply#{reply_id}"},
                UpdateExpression="SET review = :decision, reviewed_by = :by, reviewed_at = :at"
                " REMOVE review_queue",
                ConditionExpression="review = :pending",
                ExpressionAttributeValues={
                    ":decision": decision,
                    ":by": by,
                    ":at": at.isoformat(),
                    ":pending": "pending",
                },
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise Conflict("this reply is not awaiting review") from exc
            raise _failed(exc) from exc

    def awaiting_review(
        self, *, reply_id: str | None = None, limit: int = 100
    ) -> list[ReplyRecord]:
        """Replies of every team awaiting review, newest first (sparse index: only those)."""
        arguments: Any = {
            "IndexName": "pending-review",
            "KeyConditionExpression": Key("review_queue").eq(REVIEW_QUEUE),
            "ScanIndexForward": False,
        }
        if reply_id is not None:
            arguments["FilterExpression"] = Attr("sk").eq(f"reply#{reply_id}")
        items = _query_all(self._table, limit, **arguments)
        return [ReplyRecord.model_validate(item) for item in items]

    def get(self, team: str, reply_id: str) -> ReplyRecord | None:
        try:
            item = self._table.get_item(
                Key={"pk": f"team#{team}", "sk": f"reply#{reply_id}"}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        return ReplyRecord.model_validate(item) if item else None

    def from_number(self, number_key: str) -> list[ReplyRecord]:
        """Every reply a number sent, in every compartment, newest first (`by-recipient`)."""
        return [
            ReplyRecord.model_validate(item)
            for item in _query_all(
                self._table,
                IndexName="by-recipient",
                KeyConditionExpression=Key("recipient_hmac").eq(number_key),
                ScanIndexForward=False,
            )
        ]

    def forget(self, team: str, reply_id: str) -> None:
        """Deletes a reply's index entry and the guard that claimed it; absent already is fine."""
        try:
            with self._table.batch_writer() as batch:
                batch.delete_item(Key={"pk": f"team#{team}", "sk": f"reply#{reply_id}"})
                batch.delete_item(Key={"pk": f"reply#{reply_id}", "sk": "claim"})
        except ClientError as exc:
            raise _failed(exc) from exc

    def forget_allowance(self, number_key: str) -> int:
        """Deletes the number's reply-allowance windows (they hold its keyed hash); their count."""
        windows = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(allowance_partition(number_key)),
            ProjectionExpression="pk, sk",
        )
        try:
            with self._table.batch_writer() as batch:
                for window in windows:
                    batch.delete_item(Key={"pk": window["pk"], "sk": window["sk"]})
        except ClientError as exc:
            raise _failed(exc) from exc
        return len(windows)

    def list(
        self,
        team: str,
        *,
        campaign_id: str | None = None,
        reply_class: str | None = None,
        review: str | None = None,
        limit: int = 50,
    ) -> list[ReplyRecord]:
        arguments: Any = {
            "IndexName": "by-time",
            "KeyConditionExpression": Key("pk").eq(f"team#{team}"),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        filters: ConditionBase = Attr("stored").eq(True)
        if campaign_id:
            filters &= Attr("campaign_id").eq(campaign_id)
        if reply_class:
            filters &= Attr("reply_class").eq(reply_class)
        if review:
            filters &= Attr("review").eq(review)
        arguments["FilterExpression"] = filters
        items = _query_all(self._table, limit, **arguments)
        return [ReplyRecord.model_validate(item) for item in items]


class PrivacyReceipts:
    """Receipts of data-subject requests, in the contacts table, keyed by request id only."""

    def __init__(self, table_name: str, retention_days: int) -> None:
        self.table_name = table_name
        self._table = _table(table_name)
        self.retention_days = retention_days

    def put(self, record: PrivacyReceiptRecord) -> None:
        item = _item(record.model_dump()) | {
            "pk": f"request#{record.request_id}",
            "sk": "receipt",
            "expires_at": _expires_at(record.completed_at, self.retention_days),
        }
        try:
            self._table.put_item(Item=item)
        except ClientError as exc:
            raise _failed(exc) from exc

    def get(self, request_id: str) -> PrivacyReceiptRecord | None:
        try:
            item = self._table.get_item(
                Key={"pk": f"request#{request_id}", "sk": "receipt"}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        return PrivacyReceiptRecord.model_validate(item) if item else None
