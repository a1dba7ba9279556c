"""Suppressions (opt-outs) by number hash and scope: one item per number, its scopes inside."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self, cast

from botocore.exceptions import ClientError

from cloison.config import SuppressionsTable
from cloison.models.records import (
    SuppressionRecord,
)

if TYPE_CHECKING:
    from cloison.adapters.envelope import Sealer
from cloison.adapters.tables._dynamo import (
    Item,
    _is_condition_failure,
    _item,
    _table,
    batch_get,
    dynamodb_call,
)
from cloison.adapters.tables.keys import GLOBAL_SCOPE, suppression_key, team_scope
from cloison.adapters.tables.opt_out_sync import OptOutListSync
from cloison.adapters.tables.opt_outs import (
    LiftedSuppression,
    SuppressionHolding,
    said,
)


class SuppressionStore(OptOutListSync):
    """Opt-outs, one item per number hash: its scopes are `all` (a STOP) and `team#<team>`.

    One item per number makes the send path's check one key per recipient. The opt-out list
    reconciliation keeps its place in the list in one more item, `reconciliation#opt-out-list`.
    `sealer` seals the numbers it remembers for the carrier's opt-out list.
    """

    @classmethod
    def from_settings(cls, config: SuppressionsTable, sealer: Sealer) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.suppressions_table, sealer)

    def __init__(self, table_name: str, sealer: Sealer) -> None:
        self.table_name = table_name
        self._table = _table(table_name)
        self._sealer = sealer

    @dynamodb_call
    def put(self, record: SuppressionRecord) -> bool:
        """Records an opt-out; True when the number stands suppressed in its scope afterwards.

        An opt-out the person said (`said_at`) is ordered by when they said it, whatever order
        the replies are processed in: it never replaces a standing one said later, and it does
        not stand when a START said later lifted it (or would have: `note_opt_in`). An opt-out
        that waits for review never replaces a clear one: lifting it after review must not lift
        the person's plain STOP with it.
        """
        entry = _item(record.model_dump(exclude={"number_key", "scope"}))
        names = {"#entry": f"scope:{record.scope}"}
        values: dict[str, Any] = {
            ":entry": entry,
            ":key": record.number_key,
            ":scope": {record.scope},
        }
        conditions: list[str] = []
        older_entry = None
        if record.said_at is not None:
            entry["said_at"] = values[":said"] = said(record.said_at)
            names |= {"#lifted": f"lifted:{record.scope}", "#said": "said_at"}
            conditions.append("(attribute_not_exists(#lifted.#said) OR #lifted.#said < :said)")
            older_entry = "attribute_not_exists(#entry.#said) OR #entry.#said < :said"
        if record.review:
            values[":true"] = True
            reviewed = "#entry.review = :true" + (f" AND ({older_entry})" if older_entry else "")
            conditions.append(f"(attribute_not_exists(#entry) OR ({reviewed}))")
        elif older_entry is not None:
            values[":true"] = True
            conditions.append(
                f"(attribute_not_exists(#entry) OR #entry.review = :true OR {older_entry})"
            )
        try:
            if conditions:
                replaced = self._table.update_item(
                    Key=suppression_key(record.number_key),
                    UpdateExpression="SET #entry = :entry, number_key = :key ADD scopes :scope",
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_OLD",
                ).get("Attributes", {})
                # A clear STOP over a review said later keeps the later instant: it stands
                # for both, and no START said between them lifts it.
                earlier = replaced.get(f"scope:{record.scope}")
                later = earlier.get("said_at") if isinstance(earlier, dict) else None
                if not record.review and isinstance(later, str) and later > values[":said"]:
                    self._carry_later_instant(record.number_key, record.scope, later)
            else:
                self._table.update_item(
                    Key=suppression_key(record.number_key),
                    UpdateExpression="SET #entry = :entry, number_key = :key ADD scopes :scope",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
        except ClientError as exc:
            if not (conditions and _is_condition_failure(exc)):
                raise
            # Said before a START that lifted it (not suppressed), before an opt-out that
            # stands, or a review's next to a clear STOP, which stands for it: the clear one
            # then carries the later instant, so that no START said before it lifts it.
            if record.review and record.said_at is not None:
                self._carry_later_instant(record.number_key, record.scope, said(record.said_at))
            return record.scope in self.get(record.number_key)
        return True

    @dynamodb_call
    def _carry_later_instant(self, number_key: str, scope: str, instant: str) -> None:
        try:
            self._table.update_item(
                Key=suppression_key(number_key),
                UpdateExpression="SET #entry.#said = :said",
                ConditionExpression=(
                    "#entry.review = :false AND "
                    "(attribute_not_exists(#entry.#said) OR #entry.#said < :said)"
                ),
                ExpressionAttributeNames={"#entry": f"scope:{scope}", "#said": "said_at"},
                ExpressionAttributeValues={":said": instant, ":false": False},
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise

    @dynamodb_call
    def note_opt_in(
        self, number_key: str, scope: str, *, evidence: str, said_at: datetime, at: datetime
    ) -> bool:
        """Remembers a START with no opt-out standing to lift, so that a STOP said before it and
        processed after it does not stand. False when an opt-out stands now, or a later START
        is already remembered."""
        try:
            self._table.update_item(
                Key=suppression_key(number_key),
                UpdateExpression="SET #lifted = :lifted, number_key = :key",
                ConditionExpression=(
                    "attribute_not_exists(#entry) AND "
                    "(attribute_not_exists(#lifted.#said) OR #lifted.#said < :said)"
                ),
                ExpressionAttributeNames={
                    "#entry": f"scope:{scope}",
                    "#lifted": f"lifted:{scope}",
                    "#said": "said_at",
                },
                ExpressionAttributeValues={
                    ":lifted": {
                        "at": at.isoformat(),
                        "evidence": evidence,
                        "said_at": said(said_at),
                    },
                    ":key": number_key,
                    ":said": said(said_at),
                },
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    @dynamodb_call
    def delete(self, number_key: str, scope: str) -> None:
        self._table.update_item(
            Key=suppression_key(number_key),
            UpdateExpression="REMOVE #entry DELETE scopes :scope",
            ExpressionAttributeNames={"#entry": f"scope:{scope}"},
            ExpressionAttributeValues={":scope": {scope}},
        )

    def get(self, number_key: str) -> dict[str, SuppressionRecord]:
        """The number's suppressions by scope (`all`, `team#<team>`); empty when it has none."""
        holding = self.holding(number_key)
        return dict(holding.standing) if holding is not None else {}

    @dynamodb_call
    def holding(self, number_key: str) -> SuppressionHolding | None:
        """All the number's suppression item holds: what stands, what was lifted, whether the
        number waits (sealed) for the carrier's opt-out list. None when it has no item."""
        item = self._table.get_item(Key=suppression_key(number_key), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        standing = {
            scope: SuppressionRecord.model_validate(
                cast(Item, item[f"scope:{scope}"]) | {"number_key": number_key, "scope": scope}
            )
            for scope in cast(set[str], item.get("scopes", set()))
            if f"scope:{scope}" in item
        }
        lifted = {
            name.removeprefix("lifted:"): LiftedSuppression(
                at=datetime.fromisoformat(str(value["at"])),
                evidence=str(value["evidence"]),
                said_at=datetime.fromisoformat(str(value["said_at"]))
                if "said_at" in value
                else None,
            )
            for name, value in item.items()
            if name.startswith("lifted:") and isinstance(value, dict)
        }
        return SuppressionHolding(standing, lifted, provider_pending="provider_number" in item)

    @dynamodb_call
    def lift(
        self,
        number_key: str,
        scope: str,
        *,
        recorded_with: str,
        evidence: str,
        at: datetime,
        said_at: datetime | None = None,
    ) -> bool:
        """Removes one scope if it still stands on `recorded_with`, keeping when and why it went
        (and, for a START, when the person said it).

        False when it does not: a newer opt-out replaced it, or it was lifted already.
        """
        lifted: dict[str, str] = {"at": at.isoformat(), "evidence": evidence}
        if said_at is not None:
            lifted["said_at"] = said(said_at)
        try:
            self._table.update_item(
                Key=suppression_key(number_key),
                UpdateExpression="SET #lifted = :lifted REMOVE #entry DELETE scopes :scope",
                ConditionExpression="#entry.evidence = :evidence",
                ExpressionAttributeNames={"#entry": f"scope:{scope}", "#lifted": f"lifted:{scope}"},
                ExpressionAttributeValues={
                    ":lifted": lifted,
                    ":scope": {scope},
                    ":evidence": recorded_with,
                },
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def suppressed(
        self, number_keys: Sequence[str], team: str, *, consistent: bool = False
    ) -> set[str]:
        """Which of `number_keys` must not receive messages of `team`."""
        keys = [suppression_key(key) for key in dict.fromkeys(number_keys)]
        blocking = {GLOBAL_SCOPE, team_scope(team)}
        return {
            str(item["number_key"])
            for item in batch_get(self.table_name, keys, consistent=consistent)
            if blocking & set(cast(set[str], item.get("scopes", set())))
        }
