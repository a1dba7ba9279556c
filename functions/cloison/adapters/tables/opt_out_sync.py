"""The suppressions' side of the reconciliation with End User Messaging's opt-out list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.models.records import (
    SuppressionRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from cloison.adapters.envelope import Sealer
from cloison.adapters.tables._dynamo import (
    Item,
    _is_condition_failure,
    _item,
    _query_all,
    batch_get,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import (
    GLOBAL_SCOPE,
    number_key_of,
    reconciliation_cursor_key,
    suppression_key,
)
from cloison.adapters.tables.opt_outs import (
    PROVIDER_SYNC_INDEX,
    PROVIDER_SYNC_PENDING,
    TRANSACT_LIMIT,
    GlobalStanding,
    ProviderPending,
    _provider_context,
)


class OptOutListSync:
    """What the reconciliation reads and writes among the suppressions."""

    table_name: str
    _table: Table
    _sealer: Sealer

    # the reconciliation with End User Messaging's opt-out list
    def global_standing(self, number_keys: Sequence[str]) -> dict[str, GlobalStanding]:
        """How each of `number_keys` that has an item stands for every team (batches of 100)."""
        keys = [suppression_key(key) for key in dict.fromkeys(number_keys)]
        standing: dict[str, GlobalStanding] = {}
        for item in batch_get(self.table_name, keys):
            lifted = item.get(f"lifted:{GLOBAL_SCOPE}")
            standing[number_key_of(item["pk"])] = GlobalStanding(
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
                "Key": suppression_key(record.number_key),
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
        sealed = self._sealer.seal(e164.encode(), _provider_context(number_key))
        with dynamodb_errors():
            self._table.update_item(
                Key=suppression_key(number_key),
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

    def provider_pending(self) -> list[ProviderPending]:
        """The numbers `mark_provider_pending` remembered: a query of the sparse index."""
        items = _query_all(
            self._table,
            IndexName=PROVIDER_SYNC_INDEX,
            KeyConditionExpression=Key("provider_sync").eq(PROVIDER_SYNC_PENDING),
        )
        pending = []
        for item in items:
            number_key = number_key_of(item["pk"])
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
                    "Key": suppression_key(key),
                    "UpdateExpression": (
                        "REMOVE provider_sync, provider_number, provider_pending_since"
                    ),
                    "ConditionExpression": "attribute_exists(provider_sync)",
                }
                for key in dict.fromkeys(number_keys)
            ]
        )

    @dynamodb_call
    def reconciliation_cursor(self) -> str | None:
        """Where the last reconciliation stopped in the opt-out list; None: at its end."""
        item = self._table.get_item(Key=reconciliation_cursor_key(), ConsistentRead=True).get(
            "Item"
        )
        token = (item or {}).get("next_token")
        return str(token) if token else None

    @dynamodb_call
    def save_reconciliation_cursor(self, token: str | None, at: datetime) -> None:
        item: Item = {**reconciliation_cursor_key(), "updated_at": at.isoformat()}
        if token:
            item["next_token"] = token
        self._table.put_item(Item=item)

    @dynamodb_call
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
                    raise
                applied += sum(self._update_one(update) for update in chunk)
            else:
                applied += len(chunk)
        return applied

    @dynamodb_call
    def _update_one(self, update: Item) -> bool:
        try:
            self._table.update_item(**update)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True
