"""Message records, keyed by the number they went to, then the campaign."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self, cast

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from cloison.adapters.tables._dynamo import (
    ExpiringStore,
    Item,
    _expires_at,
    _is_condition_failure,
    _query_all,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import message_key, recipient_pk
from cloison.config import MessagesTable
from cloison.models.records import (
    MessageRecord,
    MessageStatus,
)

# delivered, failed and expired share this rank: nothing moves a message past it
FINAL_RANK = 3
# An erased number's tombstone ranks above every status: no event moves it (MessageStore.bury).
ERASED_RANK = 99


# Message records are keyed by the number they went to (`recipient#<hash>`, `campaign#<id>`):
# a reply's match, a person's access or erasure read one item collection, and a campaign's
# writes spread over as many partition keys as it has recipients. A record still waiting for
# its final event carries `open_campaign`, which puts it (and only it) in this sparse index.
OPEN_INDEX = "open-by-campaign"


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


class MessageStore(ExpiringStore):
    """Per-recipient message records, keyed by number hash and campaign."""

    @classmethod
    def from_settings(cls, config: MessagesTable) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.messages_table, config.message_retention_days)

    @dynamodb_call
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
                Key=message_key(campaign_id, number_key),
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(pk) OR status_rank < :rank",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return None
            raise
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
            KeyConditionExpression=Key("pk").eq(recipient_pk(number_key)),
            FilterExpression=Attr("carrier_message_id").eq(carrier_message_id),
        )
        return MessageRef.of(items[0]) if items else None

    def latest_to(self, number_key: str) -> MessageRef | None:
        """The number's most recent message (a number gets a handful: all are read)."""
        records = self.to_number(number_key)
        return MessageRef.of(records[0].model_dump()) if records else None

    @dynamodb_call
    def get(self, campaign_id: str, number_key: str) -> MessageRecord | None:
        item = self._table.get_item(
            Key=message_key(campaign_id, number_key), ConsistentRead=True
        ).get("Item")
        return MessageRecord.model_validate(item) if item else None

    def to_number(self, number_key: str) -> list[MessageRecord]:
        """Every message record to a number, newest first."""
        items = _query_all(
            self._table, KeyConditionExpression=Key("pk").eq(recipient_pk(number_key))
        )
        records = [MessageRecord.model_validate(item) for item in items if "status" in item]
        return sorted(records, key=lambda record: record.sent_at or record.updated_at, reverse=True)

    def bury(self, number_key: str, campaign_ids: Iterable[str], until: datetime) -> int:
        """Replaces the number's record of each campaign by a tombstone until `until`: no
        campaign, team, status or carrier id, only a rank above every status, so that a
        delivery event arriving after an erasure (up to 72 hours after a send) moves nothing
        and writes nothing back. The table's time to live deletes it. Returns how many."""
        campaigns = sorted(set(campaign_ids))
        with dynamodb_errors(), self._table.batch_writer() as batch:
            for campaign_id in campaigns:
                batch.put_item(
                    Item={
                        **message_key(campaign_id, number_key),
                        "status_rank": ERASED_RANK,
                        "expires_at": int(until.timestamp()),
                    }
                )
        return len(campaigns)
