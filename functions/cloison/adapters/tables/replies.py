"""Reply metadata by team; the body lives only in the vault."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.tables._dynamo import (
    ExpiringStore,
    _expires_at,
    _is_condition_failure,
    _item,
    _query_all,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import REVIEW_QUEUE as REVIEW_QUEUE
from cloison.adapters.tables.keys import (
    allowance_partition,
    claim_key,
    reply_key,
    reply_sk,
    team_pk,
)
from cloison.config import Replies
from cloison.errors import Conflict, DependencyError
from cloison.models.records import (
    ReplyRecord,
)


class ReplyIndex(ExpiringStore):
    """Reply metadata by team; the body lives only in the vault."""

    @classmethod
    def from_settings(cls, config: Replies) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.replies_table, config.reply_retention_days)

    @dynamodb_call
    def claim(self, record: ReplyRecord) -> ReplyRecord:
        """Writes the index entry unless the reply was seen before; returns the entry that stands."""
        item = _item(record.model_dump()) | {
            **reply_key(record.team, record.reply_id),
            "recipient_hmac": record.number_key,
            "expires_at": _expires_at(record.received_at, self.retention_days),
        }
        if record.review == "pending":
            item["review_queue"] = REVIEW_QUEUE
        # A guard keyed by the reply id alone, written with the entry: a later delivery that
        # matched another compartment (the campaign's record arrived meanwhile) finds the first.
        guard = {
            **claim_key(record.reply_id),
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
                raise
            existing = self.claimed(record.reply_id)
            if existing is None:
                # A concurrent claim of the same reply still in progress: try again later.
                raise DependencyError("reply claimed concurrently") from exc
            return existing
        return record

    @dynamodb_call
    def claimed(self, reply_id: str) -> ReplyRecord | None:
        """The entry an earlier delivery claimed, in whichever compartment it went to."""
        guard = self._table.get_item(Key=claim_key(reply_id), ConsistentRead=True).get("Item")
        return self.get(str(guard["team"]), reply_id) if guard else None

    @dynamodb_call
    def mark_stored(self, team: str, reply_id: str, *, answered: bool = False) -> None:
        self._table.update_item(
            Key=reply_key(team, reply_id),
            UpdateExpression="SET #stored = :true, answered = :answered",
            ExpressionAttributeNames={"#stored": "stored"},
            ExpressionAttributeValues={":true": True, ":answered": answered},
        )

    @dynamodb_call
    def review(self, team: str, reply_id: str, decision: str, by: str, at: datetime) -> None:
        """Records a person's decision on a reply awaiting review; a second decision is a 409."""
        try:
            self._table.update_item(
                Key=reply_key(team, reply_id),
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
            raise

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
            arguments["FilterExpression"] = Attr("sk").eq(reply_sk(reply_id))
        items = _query_all(self._table, limit, **arguments)
        return [ReplyRecord.model_validate(item) for item in items]

    @dynamodb_call
    def get(self, team: str, reply_id: str) -> ReplyRecord | None:
        item = self._table.get_item(Key=reply_key(team, reply_id), ConsistentRead=True).get("Item")
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
        with dynamodb_errors(), self._table.batch_writer() as batch:
            batch.delete_item(Key=reply_key(team, reply_id))
            batch.delete_item(Key=claim_key(reply_id))

    def forget_allowance(self, number_key: str) -> int:
        """Deletes the number's reply-allowance windows (they hold its keyed hash); their count."""
        windows = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(allowance_partition(number_key)),
            ProjectionExpression="pk, sk",
        )
        with dynamodb_errors(), self._table.batch_writer() as batch:
            for window in windows:
                batch.delete_item(Key={"pk": window["pk"], "sk": window["sk"]})
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
            "KeyConditionExpression": Key("pk").eq(team_pk(team)),
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
