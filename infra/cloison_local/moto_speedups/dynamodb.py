"""The patches of moto's DynamoDB tables and requests: Query reads one partition,
TransactWriteItems keeps only what it touches for a rollback, and requests are handled one at a
time so that conditional writes are atomic."""

from __future__ import annotations

import contextvars
import copy
import functools
import threading
from collections.abc import Iterable
from typing import Any

from cloison_local.moto_speedups.internals import _module

_query_scope: contextvars.ContextVar[tuple[Any, Any, bool] | None] = contextvars.ContextVar(
    "moto_query_scope", default=None
)


def _dynamodb_query_reads_one_partition() -> None:
    """Query reads the partition it asks for instead of sorting the whole table.

    moto: `Table.query` starts from `Table.all_items()`, every item of the table sorted by
    (hash key, range key), then keeps the items of the queried partition (or, on an index, the
    items whose index key matches) and sorts those again. Sorting compares `DynamoType`s in
    Python: a Query of 100 items on a 20,000-item table took over a second.

    Patch: while `Table.query` runs, `all_items()` of that table returns only the queried
    partition's items for a query on the table (the same items the hash-key filter keeps,
    found by the dict lookup moto itself stores them by), and every item unsorted for a query
    on an index. Both are sorted afterwards by `query` as before: by range key within a
    partition (range keys are unique there), and on an index by the index keys then the
    table's keys, a total order, so the order of the input cannot show. Anything else calling
    `all_items()` (Scan, exports, other threads) gets moto's own answer.
    """
    table_models = _module("moto.dynamodb.models.table")

    original_query = table_models.Table.query
    original_all_items = table_models.Table.all_items

    @functools.wraps(original_query)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if not index_name and hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        token = _query_scope.set((self, hash_key, bool(index_name)))
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.reset(token)

    def all_items(self: Any) -> list[Any]:
        scope = _query_scope.get()
        if scope is None or scope[0] is not self:
            everything: list[Any] = original_all_items(self)
            return everything
        _, hash_key, on_index = scope
        if on_index:
            return list(_every_item(self))
        partition = self.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr else [partition]

    table_models.Table.query = query
    table_models.Table.all_items = all_items


def _dynamodb_transactions_keep_what_they_touch() -> None:
    """TransactWriteItems keeps the items it touches for a rollback, not whole tables.

    moto: `DynamoDBBackend.transact_write_items` starts with `copy.deepcopy` of every table the
    transaction names, whatever their size, to put the copies back if an action fails. An
    append to a log table of 2,000 entries copied all 2,000 at each call, and each call
    slowed every other request of the server.

    Patch: moto's own steps in moto's order (the same checks, conditions, writes, errors and
    cancellation reasons), except that before each action the item it names is copied (or
    noted absent), with whether its partition existed; a rollback restores those items, last
    first, which leaves every table as the whole-table copies would have. Two things moto's
    rollback did that this one does not: put back the writes other requests made to those
    tables meanwhile (they are kept), and replace the table objects (they stay). A table with a
    stream keeps moto's own transaction, whose copy also rolls its stream records back.
    """
    backend_module = _module("moto.dynamodb.models")
    exceptions = _module("moto.dynamodb.exceptions")
    backend_class = backend_module.DynamoDBBackend
    original = backend_class.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise exceptions.TooManyTransactionsException()
        named = {
            op.get("TableName")
            for item in transact_items
            for op in list(item.values())[:1]
            if op.get("TableName") in self.tables
        }
        if any(self.tables[name].stream_shard is not None for name in named):
            return original(self, transact_items)  # type: ignore[no-any-return]
        undo: list[tuple[Any, Any, Any, bool, Any]] = []

        def rollback() -> None:
            for table, hash_key, range_key, partition_existed, previous in reversed(undo):
                if table.range_key_attr:
                    partition = table.items.get(hash_key)
                    if previous is not None:
                        table.items[hash_key][range_key] = previous
                    elif partition is not None:
                        partition.pop(range_key, None)
                    if not partition_existed and not table.items.get(hash_key, True):
                        del table.items[hash_key]
                elif previous is not None:
                    table.items[hash_key] = previous
                else:
                    table.items.pop(hash_key, None)

        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise exceptions.MultipleTransactionsException()
            target_items.add(item)

        errors: list[tuple[Any, Any, Any]] = []
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise exceptions.TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get(
                    "ReturnValuesOnConditionCheckFailure"
                )
                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                check_unicity(table_name, key)
                # moto's `self.get_item(table_name, key)`, the item kept before anything moves.
                table = self.get_table(table_name)
                hash_key, range_key = self.get_keys_value(table, key)
                partition_existed = hash_key in table.items
                current = table.get_item(hash_key, range_key)
                undo.append((table, hash_key, range_key, partition_existed, copy.deepcopy(current)))
                if condition_expression is not None:
                    condition_op = backend_module.get_filter_expression(
                        condition_expression,
                        expression_attribute_names,
                        expression_attribute_values,
                    )
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise exceptions.ConditionalCheckFailed(item=original_item)
                if op_type == "Put":
                    self.put_item(
                        table_name,
                        op["Item"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        table_name,
                        key,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Update":
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                errors.append((None, None, None))
            except (exceptions.MultipleTransactionsException, exceptions.MockValidationException):
                rollback()
                raise
            except exceptions.ConditionalCheckFailed as error:
                errors.append(("ConditionalCheckFailed", str(error.message), original_item))
            except Exception as error:
                errors.append((type(error).__name__, str(error), original_item))
        if any(code is not None for code, _, _ in errors):
            rollback()
            raise exceptions.TransactionCanceledException(errors)
        return None

    backend_class.transact_write_items = transact_write_items


def _dynamodb_requests_one_at_a_time() -> None:
    """DynamoDB requests are handled one at a time, so a conditional write is atomic.

    moto: the server handles each request in a thread of its own, and a DynamoDB write reads
    the item, evaluates its condition, then writes, with no lock. Two UpdateItems on one new
    item, each conditioned on `attribute_not_exists(pk) OR rank < :rank`, can both see no item
    and both write: the lower rank can land last, and both answer that nothing was there.
    DynamoDB never does that (each item's writes are serialized); of 300 such pairs sent at
    once, moto let 77 end at the lower rank. Reads can also see an item an UpdateItem is
    changing in place.

    Patch: every DynamoDB request, from its parameters to its serialized answer, holds one
    lock. This does not change an answer DynamoDB could give; it removes answers it never
    gives. It costs little: the server's threads already take turns on one interpreter lock.
    This is a correctness fix more than a speed-up, needed once calls are fast enough for the
    delivery events of one message to be handled at the same moment.
    """
    responses = _module("moto.dynamodb.responses")
    handler = responses.DynamoHandler
    original = handler.call_action
    lock = threading.RLock()

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    handler.call_action = call_action


def _every_item(table: Any) -> Iterable[Any]:
    for partition in table.items.values():
        if table.range_key_attr:
            yield from partition.values()
        else:
            yield partition
