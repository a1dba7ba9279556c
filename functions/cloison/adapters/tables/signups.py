"""The contacts table's sign-ups: confirmations waiting for the person's reply, the rolling
limits on requests, and each team's daily budget of confirmation SMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Self, cast

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from cloison.adapters.tables._dynamo import (
    TableStore,
    _is_condition_failure,
    _item,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import (
    SIGNUP_PREFIX,
    contact_pk,
    signup_budget_key,
    signup_key,
    signup_limit_key,
)
from cloison.compliance.signup import LimitKind, RollingLimit
from cloison.config import ApiSettings, ContactsTable, InboundSettings
from cloison.models.records import PendingSignupRecord

# Writers racing on one limit's item retry this often before the request is refused: a flood
# on one key is exactly what the limit is for.
RACE_ATTEMPTS = 5
# The contacts table's sparse index of the sign-ups waiting, by team and expiry: only a waiting
# sign-up carries `signup_team`. Its keys only: counted, never read for a number.
PENDING_INDEX = "signups-by-team"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class PendingSignups(TableStore):
    """Sign-ups waiting for their confirmation, one per number and team, under the number's
    contact partition; DynamoDB's TTL deletes those never confirmed, and a reader ignores
    those past their expiry that TTL has not deleted yet. Each is in the index PENDING_INDEX
    under its team, so that a team's are counted without a scan."""

    @classmethod
    def from_settings(cls, config: ContactsTable) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.contacts_table)

    @dynamodb_call
    def put(self, record: PendingSignupRecord) -> None:
        """Keeps the sign-up; a newer request for the same number and team replaces it."""
        item = _item(record.model_dump(exclude={"expires_at"})) | {
            **signup_key(record.number_key, record.team),
            "expires_at": _epoch(record.expires_at),
            "signup_team": record.team,
        }
        self._table.put_item(Item=item)

    def count(self, team: str, now: datetime) -> int:
        """How many sign-ups of the team wait at `now`: DynamoDB counts the index's entries
        that have not expired, and returns none of them."""
        total = 0
        arguments: dict[str, Any] = {
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": Key("signup_team").eq(team)
            & Key("expires_at").gt(_epoch(now)),
            "Select": "COUNT",
        }
        with dynamodb_errors():
            while True:
                page = self._table.query(**arguments)
                total += page["Count"]
                if "LastEvaluatedKey" not in page:
                    return total
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @dynamodb_call
    def held(self, number_key: str) -> list[PendingSignupRecord]:
        """Every sign-up of the number the table holds, those past their expiry that TTL has
        not deleted yet included, the latest request first."""
        items = self._table.query(
            KeyConditionExpression=Key("pk").eq(contact_pk(number_key))
            & Key("sk").begins_with(SIGNUP_PREFIX),
            ConsistentRead=True,
        )["Items"]
        records = [
            PendingSignupRecord.model_validate(
                {
                    **item,
                    "expires_at": datetime.fromtimestamp(
                        int(cast(Decimal, item["expires_at"])), UTC
                    ),
                }
            )
            for item in items
        ]
        return sorted(records, key=lambda record: record.requested_at, reverse=True)

    def waiting(self, number_key: str, now: datetime) -> list[PendingSignupRecord]:
        """The number's sign-ups still waiting at `now`, the latest request first."""
        return [record for record in self.held(number_key) if record.expires_at > now]

    @dynamodb_call
    def delete(self, number_key: str, team: str) -> None:
        self._table.delete_item(Key=signup_key(number_key, team))

    def forget(self, number_key: str) -> int:
        """Deletes every sign-up of the number (an erasure); returns how many there were."""
        held = self.held(number_key)
        for record in held:
            self.delete(number_key, record.team)
        return len(held)


class SignupLimits(TableStore):
    """Rolling limits on sign-up requests, and each team's daily budget of confirmations.

    A limit's item holds the times of the requests inside its window (never more than the
    limit allows) and a version: a request reads it, and writes it back on condition that no
    one else did meanwhile. A budget is a counter per team and UTC day, as the reply allowance.
    """

    @classmethod
    def from_settings(cls, config: ApiSettings | InboundSettings) -> Self:
        """Built from the settings of the function that uses it (the API's page, the inbound
        function's keywords)."""
        return cls(config.contacts_table, config.signup_daily_budget)

    def __init__(self, table_name: str, daily_budget: int) -> None:
        if daily_budget < 1:
            raise ValueError("a team's budget is at least one confirmation a day")
        super().__init__(table_name)
        self.daily_budget = daily_budget

    @dynamodb_call
    def counted(self, kind: LimitKind, subject: str) -> list[datetime] | None:
        """The request times a limit's item holds for `subject` (those of its window at the
        last request), or None if it holds none."""
        item = self._table.get_item(Key=signup_limit_key(kind, subject), ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return [datetime.fromisoformat(moment) for moment in cast(list[str], item["times"])]

    @dynamodb_call
    def forget(self, kind: LimitKind, subject: str) -> int:
        """Deletes the limit's item of `subject` (an erasure); returns 1 if there was one."""
        answer = self._table.delete_item(
            Key=signup_limit_key(kind, subject), ReturnValues="ALL_OLD"
        )
        return 1 if answer.get("Attributes") else 0

    @dynamodb_call
    def take(self, kind: LimitKind, subject: str, limit: RollingLimit, now: datetime) -> bool:
        """True if one more request of `subject` fits in `limit` at `now`, and it is counted."""
        key = signup_limit_key(kind, subject)
        for _attempt in range(RACE_ATTEMPTS):
            item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            written = cast(list[str], (item or {}).get("times", []))
            times = [datetime.fromisoformat(moment) for moment in written]
            kept = limit.admit(times, now)
            if kept is None:
                return False
            version = int(cast(Decimal, item["version"])) if item else 0
            try:
                self._table.put_item(
                    Item={
                        **key,
                        "times": [moment.isoformat() for moment in kept],
                        "version": version + 1,
                        "expires_at": _epoch(now + limit.window + timedelta(hours=1)),
                    },
                    ConditionExpression="attribute_not_exists(pk) OR version = :version",
                    ExpressionAttributeValues={":version": version},
                )
            except ClientError as exc:
                if not _is_condition_failure(exc):
                    raise
                continue  # another request wrote it meanwhile: read it again
            return True
        return False

    @dynamodb_call
    def spent(self, team: str, day: str) -> int:
        """How many confirmations the team sent on `day` (UTC)."""
        item = self._table.get_item(Key=signup_budget_key(team, day), ConsistentRead=True).get(
            "Item"
        )
        return int(cast(Decimal, item["sent"])) if item and "sent" in item else 0

    @dynamodb_call
    def spend(self, team: str, day: str, now: datetime) -> bool:
        """True if the team has a confirmation left for `day` (UTC), and it is spent."""
        try:
            self._table.update_item(
                Key=signup_budget_key(team, day),
                UpdateExpression="ADD sent :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(sent) OR sent < :budget",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":budget": self.daily_budget,
                    ":expires": _epoch(now + timedelta(days=2)),
                },
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            return False
        return True
