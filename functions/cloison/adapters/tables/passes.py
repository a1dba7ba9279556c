"""A chunk pass's progress: its lease, a checkpoint per slice, parked recipients, and the
campaign's counters, one write per batch, never one per recipient."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from cloison.errors import CapRaced, Conflict
from cloison.models.records import (
    ChunkProgress,
)

if TYPE_CHECKING:
    pass
from cloison.adapters.tables._dynamo import (
    Item,
    TableStore,
    _is_condition_failure,
    _query_all,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import (
    PARKED_PREFIX,
    campaign_pk,
    counted_sk,
    parked_due_bound,
    parked_release,
    parked_sk,
    progress_key,
    stats_key,
)


class PassProgress(TableStore):
    """Leases, checkpoints, parking and counters of a campaign's chunk passes."""

    # progress of a chunk pass: a lease, a checkpoint per slice, never one write per recipient
    def lease(
        self, campaign_id: str, key: str, worker: str, now: datetime, until: datetime
    ) -> ChunkProgress | None:
        """Takes the pass for `worker`; None if the pass is done; Conflict if another holds it."""
        with dynamodb_errors():
            try:
                answer = self._table.update_item(
                    Key=progress_key(campaign_id, key),
                    UpdateExpression="SET worker = :worker, lease_until = :until",
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR "
                        "(NOT done = :true AND (lease_until < :now OR worker = :worker))"
                    ),
                    ExpressionAttributeValues={
                        ":worker": worker,
                        ":until": until.isoformat(),
                        ":now": now.isoformat(),
                        ":true": True,
                    },
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if not _is_condition_failure(exc):
                    raise
                taken = exc
            else:
                return ChunkProgress.model_validate(answer.get("Attributes", {}))
        # The condition failed; this read's own errors reach the caller untranslated.
        current = self._table.get_item(Key=progress_key(campaign_id, key), ConsistentRead=True).get(
            "Item", {}
        )
        if current.get("done"):
            return None
        raise Conflict("another worker holds this pass") from taken

    def checkpoint(
        self,
        campaign_id: str,
        key: str,
        worker: str,
        *,
        next_index: int,
        in_flight: Sequence[int] = (),
        done: bool = False,
        release: bool = False,
        counts: Mapping[str, float] | None = None,
        reservations: Mapping[str, Any] | None = None,
    ) -> None:
        """Records how far the pass got, and which recipients are being sent right now.

        `counts` (the campaign counters' share of the recipients settled since the last
        checkpoint) are added in the same transaction: a crash never counts a recipient twice
        nor loses one. With `release`, the lease ends now, so the next worker goes on from here.
        `reservations` (a number key's conditional write of its frequency cap, another table's
        item) are written in the same transaction too: CapRaced names the numbers whose cap
        changed since it was read; Conflict, as ever, says the lease was taken over.
        """
        update = "SET next_index = :next, in_flight = :flight, done = :done"
        values: Item = {
            ":next": next_index,
            ":flight": list(in_flight),
            ":done": done,
            ":worker": worker,
        }
        if release:
            update += ", lease_until = :ended"
            values[":ended"] = ""
        progress = {
            "TableName": self.table_name,
            "Key": progress_key(campaign_id, key),
            "UpdateExpression": update,
            "ConditionExpression": "worker = :worker",
            "ExpressionAttributeValues": values,
        }
        counters = self._counter_update(campaign_id, counts or {})
        reserved = list((reservations or {}).items())
        actions = [{"Update": progress}, *counters, *(action for _, action in reserved)]

        def name_raced_caps(codes: list[str]) -> None:
            if codes[:1] == ["ConditionalCheckFailed"]:
                return  # the lease: a Conflict as without reservations
            first = 1 + len(counters)
            raced = [
                number_key
                for (number_key, _), code in zip(reserved, codes[first:], strict=False)
                if code in ("ConditionalCheckFailed", "TransactionConflict")
            ]
            if raced:
                raise CapRaced(raced)

        self._transact(
            actions,
            conflict="the chunk's lease was taken over",
            on_cancel=name_raced_caps if reserved else None,
        )

    def park(
        self,
        campaign_id: str,
        release_at: datetime,
        ref_fields: Mapping[str, Any],
        counts: Mapping[str, float],
        *,
        parked_by: tuple[str, str] | None = None,
    ) -> bool:
        """Keeps a chunk's waiting recipients until `release_at` (their window, or a resume).

        The counters move in the same transaction, and with `parked_by` (the pass's key and its
        worker) the pass's progress records the recipients as parked: a retry of that pass, even
        once their window has opened, leaves them to the release. False when they were parked
        already.
        """
        item = {
            "pk": campaign_pk(campaign_id),
            "sk": parked_sk(
                release_at,
                ref_fields["upload"],
                ref_fields["chunk"],
                ref_fields["pass_no"],
                ref_fields["tag"],
            ),
            **ref_fields,
        }
        put = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        actions: list[Any] = [{"Put": put}, *self._counter_update(campaign_id, counts)]
        if parked_by is not None and ref_fields["indexes"]:
            key, worker = parked_by
            actions.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": progress_key(campaign_id, key),
                        "UpdateExpression": "ADD parked :indexes",
                        "ConditionExpression": "worker = :worker",
                        "ExpressionAttributeValues": {
                            ":indexes": {int(index) for index in ref_fields["indexes"]},
                            ":worker": worker,
                        },
                    }
                }
            )
        try:
            self._transact(actions, conflict="parked")
        except Conflict:
            return False
        return True

    def add_counts_once(
        self, campaign_id: str, counts: Mapping[str, int], batch: str, expires_at: int
    ) -> bool:
        """Adds what one batch of record changes counts; False when that batch was added already.

        The counters and a marker of the batch are written in one transaction, so a batch that
        comes back (its function failed after some campaigns' counts) adds nothing twice. The
        marker outlives the stream's 24 hours of retention, then expires.
        """
        marker = {
            "Put": {
                "TableName": self.table_name,
                "Item": {
                    "pk": campaign_pk(campaign_id),
                    "sk": counted_sk(batch),
                    "expires_at": expires_at,
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self._transact([marker, *self._counter_update(campaign_id, counts)], conflict="counted")
        except Conflict:
            return False
        return True

    def _counter_update(self, campaign_id: str, counts: Mapping[str, float]) -> list[Any]:
        increments = {name: value for name, value in counts.items() if value}
        if not increments:
            return []
        return [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": stats_key(campaign_id),
                    "UpdateExpression": "ADD "
                    + ", ".join(f"#c{index} :c{index}" for index in range(len(increments))),
                    "ExpressionAttributeNames": {
                        f"#c{index}": name for index, name in enumerate(increments)
                    },
                    "ExpressionAttributeValues": {
                        f":c{index}": Decimal(str(round(value, 6)))
                        for index, value in enumerate(increments.values())
                    },
                }
            }
        ]

    def parked_until(self, campaign_id: str, until: datetime | None) -> list[Item]:
        """Parked chunk passes due at `until` (every one when None), oldest first."""
        return _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(campaign_pk(campaign_id))
            & Key("sk").between(PARKED_PREFIX, parked_due_bound(until)),
            ConsistentRead=True,
        )

    def parked_by_pass(
        self, campaign_id: str, upload: str, chunk: int, pass_no: int
    ) -> set[datetime]:
        """When the passes numbered `pass_no` of one chunk are parked until, if any are."""
        return {
            parked_release(item["sk"])
            for item in self.parked_until(campaign_id, None)
            if (item["upload"], int(item["chunk"]), int(item["pass_no"]))
            == (upload, chunk, pass_no)
        }

    def unpark(self, campaign_id: str, sort_keys: Sequence[str]) -> None:
        with dynamodb_errors(), self._table.batch_writer() as batch:
            for sort_key in sort_keys:
                batch.delete_item(Key={"pk": campaign_pk(campaign_id), "sk": sort_key})

    # counters: one update per batch, never one per recipient
    @dynamodb_call
    def add_counts(
        self, campaign_id: str, counts: Mapping[str, int], *, segments: int = 0, cost: float = 0.0
    ) -> dict[str, float]:
        increments = {name: value for name, value in counts.items() if value}
        if segments:
            increments["segments"] = segments
        if not increments and not cost:
            return {}
        names = {f"#c{index}": name for index, name in enumerate(increments)}
        values: Item = {f":c{index}": value for index, value in enumerate(increments.values())}
        clauses = [f"#c{index} :c{index}" for index in range(len(increments))]
        if cost:
            names["#cost"] = "cost"
            values[":cost"] = Decimal(str(round(cost, 6)))
            clauses.append("#cost :cost")
        answer = self._table.update_item(
            Key=stats_key(campaign_id),
            UpdateExpression="ADD " + ", ".join(clauses),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return {
            key: float(value)
            for key, value in answer.get("Attributes", {}).items()
            if isinstance(value, Decimal | int)
        }

    @dynamodb_call
    def get_counts(self, campaign_id: str) -> dict[str, float]:
        item = self._table.get_item(Key=stats_key(campaign_id), ConsistentRead=True).get("Item", {})
        return {
            key: float(value)
            for key, value in item.items()
            if key not in ("pk", "sk") and isinstance(value, Decimal | int | float)
        }
