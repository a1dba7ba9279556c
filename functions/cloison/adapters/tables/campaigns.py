"""Campaigns, their occurrences and sender profiles; `CampaignStore` joins them with the
audiences, the passes and the teams' notices, all in the campaigns table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, Self

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from cloison.adapters.tables._dynamo import (
    Item,
    TableStore,
    _is_condition_failure,
    _item,
    _query_all,
    batch_get,
    dynamodb_call,
)
from cloison.adapters.tables.audiences import AudienceChunks
from cloison.adapters.tables.keys import (
    OCCURRENCE_PREFIX,
    SENDER_PREFIX,
    campaign_key,
    campaign_pk,
    occurrence_sk,
    sender_key,
    team_pk,
)
from cloison.adapters.tables.notices import TeamNotices
from cloison.adapters.tables.passes import PassProgress
from cloison.adapters.tables.routes import NumberRoutes
from cloison.config import CampaignsTable
from cloison.errors import Conflict
from cloison.models.records import (
    CampaignRecord,
    SenderRecord,
)


class CampaignPosition(NamedTuple):
    """A campaign's place in its team's listing (the `by-team` index): created when, which."""

    created_at: datetime
    campaign_id: str


class CampaignRecords(TableStore):
    """Campaign records, the occurrences of a recurring campaign, sender profiles."""

    # campaigns
    @dynamodb_call
    def put_campaign(self, record: CampaignRecord) -> None:
        item = _item(record.model_dump())
        item |= {**campaign_key(record.campaign_id), "team_pk": team_pk(record.team)}
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise Conflict(f"campaign {record.campaign_id} exists") from exc
            raise

    @dynamodb_call
    def get_campaign(self, campaign_id: str) -> CampaignRecord | None:
        item = self._table.get_item(Key=campaign_key(campaign_id), ConsistentRead=True).get("Item")
        return CampaignRecord.model_validate(item) if item else None

    @dynamodb_call
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
                Key=campaign_key(campaign_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise Conflict(f"campaign cannot become {status} from its current status") from exc
            raise

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
            **campaign_key(occurrence.campaign_id),
            "team_pk": team_pk(occurrence.team),
        }
        at = scheduled_at.astimezone(UTC).isoformat()
        actions: list[Any] = [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": campaign_key(recurring),
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
                        "pk": campaign_pk(recurring),
                        "sk": occurrence_sk(at),
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

    @dynamodb_call
    def occurrences(self, campaign_id: str, limit: int = 20) -> list[CampaignRecord]:
        """The latest occurrences of a recurring campaign, newest first: one query, one batch."""
        items = self._table.query(
            KeyConditionExpression=Key("pk").eq(campaign_pk(campaign_id))
            & Key("sk").begins_with(OCCURRENCE_PREFIX),
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )["Items"]
        ids = [str(item["campaign_id"]) for item in items]
        found = {
            str(item["campaign_id"]): CampaignRecord.model_validate(item)
            for item in batch_get(self.table_name, [campaign_key(each) for each in ids])
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
            "KeyConditionExpression": Key("team_pk").eq(team_pk(team)),
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
                "team_pk": team_pk(team),
                "created_at": after.created_at.isoformat(),
                **campaign_key(after.campaign_id),
            }
        items = _query_all(self._table, limit + 1, **arguments)
        return [CampaignRecord.model_validate(item) for item in items[:limit]], len(items) > limit

    # sender profiles
    @dynamodb_call
    def put_sender(self, record: SenderRecord) -> None:
        item = _item(record.model_dump()) | sender_key(record.team, record.name)
        self._table.put_item(Item=item)

    @dynamodb_call
    def get_sender(self, team: str, name: str) -> SenderRecord | None:
        item = self._table.get_item(Key=sender_key(team, name)).get("Item")
        return SenderRecord.model_validate(item) if item else None

    def senders_of(self, team: str) -> list[SenderRecord]:
        """The team's sender profiles, by name."""
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(team_pk(team))
            & Key("sk").begins_with(SENDER_PREFIX),
        )
        return [SenderRecord.model_validate(item) for item in items]


class CampaignStore(CampaignRecords, AudienceChunks, PassProgress, TeamNotices, NumberRoutes):
    """Campaigns, their sender profiles, sealed audience chunks, chunk claims and counters, the
    teams' notices, and which team each of our own numbers and keywords belongs to."""

    @classmethod
    def from_settings(cls, config: CampaignsTable) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.campaigns_table)
