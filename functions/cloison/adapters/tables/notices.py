"""Teams' notices in the campaigns table, beside their sender profiles: one item per version,
under the team's partition, never overwritten."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from cloison.adapters.tables._dynamo import (
    TableStore,
    _failed,
    _is_condition_failure,
    _item,
    _query_all,
)
from cloison.errors import Conflict
from cloison.models.records import NoticeRecord

NOTICE_PREFIX = "notice#"


def team_key(team: str) -> str:
    return f"team#{team}"


def notice_key(version: int) -> str:
    """Zero-padded, so that the sort key orders versions as numbers."""
    return f"{NOTICE_PREFIX}{version:08d}"


class TeamNotices(TableStore):
    """The versions of each team's notice."""

    def add_notice(self, record: NoticeRecord) -> None:
        """Writes a new version; Conflict if that version exists (another writer came first)."""
        item = _item(record.model_dump()) | {
            "pk": team_key(record.team),
            "sk": notice_key(record.version),
        }
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise Conflict(
                    f"version {record.version} of the notice was written meanwhile"
                ) from exc
            raise _failed(exc) from exc

    def latest_notice(self, team: str) -> NoticeRecord | None:
        try:
            items = self._table.query(
                KeyConditionExpression=Key("pk").eq(team_key(team))
                & Key("sk").begins_with(NOTICE_PREFIX),
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )["Items"]
        except ClientError as exc:
            raise _failed(exc) from exc
        return NoticeRecord.model_validate(items[0]) if items else None

    def notices_of(self, team: str, *, notice_hash: str | None = None) -> list[NoticeRecord]:
        """The team's notice versions, newest first; with `notice_hash`, those of that hash."""
        arguments: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(team_key(team))
            & Key("sk").begins_with(NOTICE_PREFIX),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if notice_hash is not None:
            arguments["FilterExpression"] = Attr("hash").eq(notice_hash)
        return [NoticeRecord.model_validate(item) for item in _query_all(self._table, **arguments)]
