"""The contacts table's frequency caps: one item per number, every team's marketing messages
together, holding the times of those counted in the rolling period and a version.

The send path and the preview read them in batches; the send path counts a send by a write
conditional on the version it read, inside the transaction that writes down the slice about to
be sent (`PassProgress.checkpoint`), so the count costs no call of its own. DynamoDB's TTL
deletes an item once its last send stops counting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Self, cast

from cloison.adapters.tables._dynamo import TableStore, batch_get, dynamodb_call
from cloison.adapters.tables.keys import frequency_cap_key
from cloison.compliance.frequency import FrequencyCap
from cloison.config import FrequencyCapSettings


@dataclass(frozen=True)
class CapHolding:
    """A number's cap item as read: the times counted (epoch seconds) and its version (0: no
    item)."""

    times: tuple[int, ...] = ()
    version: int = 0


def _holding(item: dict[str, Any]) -> CapHolding:
    return CapHolding(
        times=tuple(int(cast(Decimal, moment)) for moment in item.get("sent_at", [])),
        version=int(cast(Decimal, item.get("version", 0))),
    )


class FrequencyCaps(TableStore):
    """The marketing messages counted against each number's cap, and the cap itself (`rule`)."""

    @classmethod
    def from_settings(cls, config: FrequencyCapSettings) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(
            config.contacts_table,
            FrequencyCap(config.frequency_cap_messages, timedelta(days=config.frequency_cap_days)),
        )

    def __init__(self, table_name: str, rule: FrequencyCap) -> None:
        super().__init__(table_name)
        self.rule = rule

    def holdings(
        self, number_keys: Sequence[str], *, consistent: bool = False
    ) -> dict[str, CapHolding]:
        """The cap items of `number_keys` that exist, by number key, in batches of 100 keys."""
        keys = [frequency_cap_key(key) for key in dict.fromkeys(number_keys)]
        return {
            str(item["number_key"]): _holding(item)
            for item in batch_get(self.table_name, keys, consistent=consistent)
        }

    def reservation(self, number_key: str, holding: CapHolding, at: datetime) -> Any | None:
        """The transaction's write that counts a send at `at` against the number's cap, on
        condition that the item is still the one read; None when the cap allows no more."""
        kept = self.rule.admit(holding.times, at)
        if kept is None:
            return None
        values: dict[str, Any] = {
            ":sent": kept,
            ":next": holding.version + 1,
            ":key": number_key,
            ":expires": self.rule.expires_at(kept),
        }
        if holding.version:
            values[":read"] = holding.version
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": frequency_cap_key(number_key),
                "UpdateExpression": (
                    "SET sent_at = :sent, #version = :next, number_key = :key, "
                    "expires_at = :expires"
                ),
                "ConditionExpression": (
                    "#version = :read" if holding.version else "attribute_not_exists(#version)"
                ),
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": values,
            }
        }

    @dynamodb_call
    def get(self, number_key: str) -> CapHolding | None:
        """The number's cap item, read strongly; None when it has none."""
        item = self._table.get_item(Key=frequency_cap_key(number_key), ConsistentRead=True).get(
            "Item"
        )
        return _holding(item) if item else None

    @dynamodb_call
    def forget(self, number_key: str) -> bool:
        """Deletes the number's cap item (an erasure); whether there was one."""
        answer = self._table.delete_item(Key=frequency_cap_key(number_key), ReturnValues="ALL_OLD")
        return bool(answer.get("Attributes"))
