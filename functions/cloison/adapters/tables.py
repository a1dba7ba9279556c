"""DynamoDB access: one small store per kind of record, items mapped explicitly to records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.errors import Conflict, DependencyError
from cloison.models.records import (
    CampaignRecord,
    ChunkProgress,
    ConsentRecord,
    MessageRecord,
    MessageStatus,
    ReplyRecord,
    SenderRecord,
    SuppressionRecord,
    UploadRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Item = dict[str, Any]
BATCH_GET_LIMIT = 100


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


def _expires_at(start: datetime, days: int) -> int:
    return int((start + timedelta(days=days)).timestamp())


def _failed(exc: ClientError) -> DependencyError:
    return DependencyError(f"DynamoDB {exc.response['Error']['Code']}")


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def batch_get(table_name: str, keys: Sequence[Item]) -> list[Item]:
    """BatchGetItem over any number of keys, retrying what DynamoDB leaves unprocessed."""
    found: list[Item] = []
    client = aws.dynamodb()
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        request: Any = {table_name: {"Keys": list(keys[start : start + BATCH_GET_LIMIT])}}
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
    ) -> None:
        """Writes an upload's sealed chunks; they count only once `commit_upload` names them."""
        try:
            with self._table.batch_writer() as batch:
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
        except ClientError as exc:
            raise _failed(exc) from exc

    def commit_upload(self, campaign_id: str, upload: UploadRecord) -> None:
        """Adds a staged upload to a draft campaign in one conditional write: all of it or none."""
        try:
            self._table.update_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": "campaign"},
                UpdateExpression=(
                    "SET uploads = list_append(if_not_exists(uploads, :none), :upload) "
                    "ADD chunk_count :chunks, recipient_count :recipients, upload_ids :ids"
                ),
                ConditionExpression="#status = :draft AND NOT contains(upload_ids, :id)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":none": [],
                    ":upload": [upload.model_dump()],
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
                    "the audience can only change while the campaign is a draft"
                ) from exc
            raise _failed(exc) from exc

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
    ) -> bool:
        """Keeps a chunk's waiting recipients until `release_at` (their window, or a resume).

        The counters move in the same transaction. False when they were parked already (an
        invocation that went on from a checkpoint parks the same recipients again).
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
        try:
            self._transact(
                [{"Put": put}, *self._counter_update(campaign_id, counts)], conflict="parked"
            )
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
        items: list[Item] = []
        arguments: Any = {
            "KeyConditionExpression": Key("pk").eq(f"campaign#{campaign_id}")
            & Key("sk").between("parked#", high),
            "ConsistentRead": True,
        }
        try:
            while True:
                page = self._table.query(**arguments)
                items += page["Items"]
                if "LastEvaluatedKey" not in page:
                    return items
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise _failed(exc) from exc

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


class MessageStore:
    """Per-recipient message records, keyed by campaign and number hash."""

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

        The carrier's events create the records: the send path writes none per recipient.
        """
        try:
            answer = self._table.update_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": f"recipient#{number_key}"},
                UpdateExpression=(
                    "SET #status = :status, status_rank = :rank, updated_at = :now, "
                    "campaign_id = :campaign, team = :team, number_key = :key, recipient_hmac = :key, "
                    "carrier_message_id = :message, sent_at = if_not_exists(sent_at, :now), "
                    "expires_at = :expires"
                ),
                ConditionExpression="attribute_not_exists(pk) OR status_rank < :rank",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": status.value,
                    ":rank": rank,
                    ":now": now.isoformat(),
                    ":campaign": campaign_id,
                    ":team": team,
                    ":key": number_key,
                    ":message": carrier_message_id,
                    ":expires": _expires_at(now, self.retention_days),
                },
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return None
            raise _failed(exc) from exc
        return int(cast(Decimal, answer.get("Attributes", {}).get("status_rank", 0)))

    def unfinished(self, campaign_id: str) -> list[MessageRecord]:
        """The campaign's messages that have no final status yet (a Query, page by page)."""
        arguments: Any = {
            "KeyConditionExpression": Key("pk").eq(f"campaign#{campaign_id}"),
            "FilterExpression": Attr("status_rank").lt(FINAL_RANK),
        }
        found: list[MessageRecord] = []
        try:
            while True:
                page = self._table.query(**arguments)
                found += [MessageRecord.model_validate(item) for item in page["Items"]]
                if "LastEvaluatedKey" not in page:
                    return found
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise _failed(exc) from exc

    def by_carrier_message(self, carrier_message_id: str) -> MessageRecord | None:
        try:
            items = self._table.query(
                IndexName="by-carrier-message",
                KeyConditionExpression=Key("carrier_message_id").eq(carrier_message_id),
                Limit=1,
            )["Items"]
        except ClientError as exc:
            raise _failed(exc) from exc
        return MessageRecord.model_validate(items[0]) if items else None

    def latest_to(self, number_key: str) -> MessageRecord | None:
        try:
            items = self._table.query(
                IndexName="by-recipient",
                KeyConditionExpression=Key("recipient_hmac").eq(number_key),
                ScanIndexForward=False,
                Limit=1,
            )["Items"]
        except ClientError as exc:
            raise _failed(exc) from exc
        return MessageRecord.model_validate(items[0]) if items else None

    def get(self, campaign_id: str, number_key: str) -> MessageRecord | None:
        try:
            item = self._table.get_item(
                Key={"pk": f"campaign#{campaign_id}", "sk": f"recipient#{number_key}"},
                ConsistentRead=True,
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        return MessageRecord.model_validate(item) if item else None


GLOBAL_SCOPE = "all"
# delivered, failed and expired share this rank: nothing moves a message past it
FINAL_RANK = 3


class SuppressionStore:
    """Opt-outs, one item per number hash: its scopes are `all` (a STOP) and `team#<team>`.

    One item per number makes the send path's check one key per recipient.
    """

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._table = _table(table_name)

    def put(self, record: SuppressionRecord) -> None:
        entry = _item(record.model_dump(exclude={"number_key", "scope"}))
        try:
            self._table.update_item(
                Key={"pk": f"number#{record.number_key}", "sk": "suppression"},
                UpdateExpression="SET #entry = :entry, number_key = :key ADD scopes :scope",
                ExpressionAttributeNames={"#entry": f"scope:{record.scope}"},
                ExpressionAttributeValues={
                    ":entry": entry,
                    ":key": record.number_key,
                    ":scope": {record.scope},
                },
            )
        except ClientError as exc:
            raise _failed(exc) from exc

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

    def suppressed(self, number_keys: Sequence[str], team: str) -> set[str]:
        """Which of `number_keys` must not receive messages of `team`."""
        keys = [{"pk": f"number#{key}", "sk": "suppression"} for key in dict.fromkeys(number_keys)]
        blocking = {GLOBAL_SCOPE, f"team#{team}"}
        return {
            str(item["number_key"])
            for item in batch_get(self.table_name, keys)
            if blocking & set(cast(set[str], item.get("scopes", set())))
        }


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

    def consented(
        self, number_keys: Sequence[str], team: str, purpose: str = "marketing"
    ) -> set[str]:
        keys = [
            {"pk": f"contact#{key}", "sk": f"consent#{team}#{purpose}"}
            for key in dict.fromkeys(number_keys)
        ]
        return {str(item["number_key"]) for item in batch_get(self.table_name, keys)}


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
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise _failed(exc) from exc
            existing = self.get(record.team, record.reply_id)
            if existing is None:
                raise DependencyError("reply index entry vanished") from exc
            return existing
        return record

    def mark_stored(self, team: str, reply_id: str) -> None:
        try:
            self._table.update_item(
                Key={"pk": f"team#{team}", "sk": f"reply#{reply_id}"},
                UpdateExpression="SET #stored = :true",
                ExpressionAttributeNames={"#stored": "stored"},
                ExpressionAttributeValues={":true": True},
            )
        except ClientError as exc:
            raise _failed(exc) from exc

    def get(self, team: str, reply_id: str) -> ReplyRecord | None:
        try:
            item = self._table.get_item(
                Key={"pk": f"team#{team}", "sk": f"reply#{reply_id}"}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise _failed(exc) from exc
        return ReplyRecord.model_validate(item) if item else None

    def list(
        self,
        team: str,
        *,
        campaign_id: str | None = None,
        reply_class: str | None = None,
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
        arguments["FilterExpression"] = filters
        try:
            items = self._table.query(**arguments)["Items"]
        except ClientError as exc:
            raise _failed(exc) from exc
        return [ReplyRecord.model_validate(item) for item in items]
