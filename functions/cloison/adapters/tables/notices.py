"""Teams' notices in the campaigns table, beside their sender profiles: one item per version,
under the team's partition, never overwritten."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from cloison.adapters.tables._dynamo import (
    TableStore,
    _is_condition_failure,
    _item,
    _query_all,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import NOTICE_PREFIX, notice_key, team_pk
from cloison.errors import Conflict
from cloison.models.records import NoticeRecord


class TeamNotices(TableStore):
    """The versions of each team's notice."""

    def add_notice(self, record: NoticeRecord) -> None:
        """Writes a new version; Conflict if that version exists (another writer came first)."""
        item = _item(record.model_dump()) | notice_key(record.team, record.version)
        with dynamodb_errors():
            try:
                self._table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
            except ClientError as exc:
                if _is_condition_failure(exc):
                    raise Conflict(
                        f"version {record.version} of the notice was written meanwhile"
                    ) from exc
                raise

    @dynamodb_call
    def latest_notice(self, team: str) -> NoticeRecord | None:
        items = self._table.query(
            KeyConditionExpression=Key("pk").eq(team_pk(team))
            & Key("sk").begins_with(NOTICE_PREFIX),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )["Items"]
        return NoticeRecord.model_validate(items[0]) if items else None

    def notices_of(self, team: str, *, notice_hash: str | None = None) -> list[NoticeRecord]:
        """The team's notice versions, newest first; with `notice_hash`, those of that hash."""
        arguments: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(team_pk(team))
            & Key("sk").begins_with(NOTICE_PREFIX),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if notice_hash is not None:
            arguments["FilterExpression"] = Attr("hash").eq(notice_hash)
        return [NoticeRecord.model_validate(item) for item in _query_all(self._table, **arguments)]
