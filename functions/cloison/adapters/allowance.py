"""Each number's allowance of replies per hour, counted in a fixed window item keyed by its HMAC."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Self

from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.tables._dynamo import dynamodb_call
from cloison.adapters.tables.keys import allowance_partition as allowance_partition
from cloison.adapters.tables.keys import allowance_window_key
from cloison.config import InboundSettings

WINDOW = timedelta(hours=1)
# A window's item outlives it by an hour, so that a late redelivery still finds its admission;
# DynamoDB's TTL then deletes it (within a few days at worst: it is tiny).
KEPT_AFTER_WINDOW = timedelta(hours=1)


def window_start(now: datetime) -> datetime:
    """The fixed window `now` falls in: the hour, in UTC."""
    return now.replace(minute=0, second=0, microsecond=0)


def window_key(number_key: str, now: datetime) -> dict[str, str]:
    return allowance_window_key(number_key, window_start(now))


class ReplyAllowance:
    """How many replies a number may have stored per hour; the rest are counted, not stored.

    One conditional write per reply: the reply's id joins the window's set of admitted ids while
    that set is smaller than the allowance, and a reply already in it (a redelivery) is admitted
    again without taking a second place. A refusal adds one more write, to count it. The item
    holds the number's HMAC, at most `per_hour` reply ids and a count: under 1 KB for 20.
    """

    @classmethod
    def from_settings(cls, config: InboundSettings) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.replies_table, config.replies_per_number_per_hour)

    def __init__(self, table_name: str, per_hour: int) -> None:
        if per_hour < 1:
            raise ValueError("the allowance is at least one reply per hour")
        self.table_name = table_name
        self.per_hour = per_hour
        self._table = aws.dynamodb().Table(table_name)

    @dynamodb_call
    def admit(self, number_key: str, reply_id: str, now: datetime) -> bool:
        """True if the reply is within the number's allowance for the hour of `now`."""
        try:
            self._table.update_item(
                Key=window_key(number_key, now),
                UpdateExpression="ADD admitted :ids SET expires_at = :expires",
                ConditionExpression=(
                    "attribute_not_exists(admitted) OR size(admitted) < :allowance"
                    " OR contains(admitted, :id)"
                ),
                ExpressionAttributeValues={
                    ":ids": {reply_id},
                    ":id": reply_id,
                    ":allowance": self.per_hour,
                    ":expires": _expires_at(now),
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    @dynamodb_call
    def count_refusal(self, number_key: str, now: datetime) -> None:
        """Counts one reply refused in the window (each delivery of it: SNS may deliver twice)."""
        self._table.update_item(
            Key=window_key(number_key, now),
            UpdateExpression="ADD refused :one SET expires_at = :expires",
            ExpressionAttributeValues={":one": 1, ":expires": _expires_at(now)},
        )


def _expires_at(now: datetime) -> int:
    return int((window_start(now) + WINDOW + KEPT_AFTER_WINDOW).timestamp())
