"""Speed-ups for moto's server under bulk load that keep what every call answers.

`python -m cloison_local.moto_speedups -H HOST -p PORT` starts moto's server (same arguments as
`python -m moto.server`) with the patches below applied; `apply()` applies them to moto in the
current process. Each patch replaces one moto function or property by one doing the same work in
less time, and says what moto does, why that is slow, and why the answers stay the same. They were
written against moto 5.2 and are applied to that line only: another version runs unpatched, with
a warning in the server's log.

What they fix, as measured on a queue a few thousand messages deep and a table of 10,000 items:

- SQS: every ReceiveMessage of 10 computed every queue attribute 30 times (a retention check
  per message reads one attribute through the whole attribute map), and each computation counted
  the queue's messages three times, reading the clock twice per message. Deletes and sends did
  smaller versions of the same. Calls grew from milliseconds to seconds with the queue's depth.
- DynamoDB Query sorted the whole table (every partition) before keeping one partition.
- DynamoDB TransactWriteItems deep-copied every table it named, to be able to roll back.
- DynamoDB UpdateItem parsed its expression twice, re-ran checks that depend on its text alone
  (two of them quadratic in its length), deep-copied its syntax tree in Python and rebuilt each
  validator's dispatch table at every node of that tree.
- The server listed moto's own package directory at every request to find its backend.

One patch is about behaviour rather than speed: DynamoDB requests are handled one at a time, as
moto's conditional writes are otherwise not atomic across the server's threads.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import importlib
import logging
import pickle
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("cloison_local.moto_speedups")

SUPPORTED_MOTO = "5.2."
_applied: list[str] = []


def apply() -> list[str]:
    """Applies every patch to moto in this process, once; returns their names.

    None is applied, and none returned, if moto is not the version they were written for.
    """
    import moto

    if _applied:
        return list(_applied)
    if not str(moto.__version__).startswith(SUPPORTED_MOTO):
        log.warning(
            "moto %s: speed-ups written for %sx, running moto unpatched",
            moto.__version__,
            SUPPORTED_MOTO,
        )
        return []
    patches: list[Callable[[], None]] = [
        _server_lists_moto_modules_once,
        _sqs_one_clock_read_per_pass,
        _sqs_retention_check_reads_one_attribute,
        _sqs_queue_attributes_computed_once_per_call,
        _sqs_delete_finds_the_message_once,
        _dynamodb_query_reads_one_partition,
        _dynamodb_transactions_keep_what_they_touch,
        _dynamodb_requests_one_at_a_time,
        _dynamodb_update_expression_parsed_once,
        _dynamodb_traversers_build_their_dispatch_once,
        _dynamodb_validators_copy_the_tree_from_a_pickle,
        _dynamodb_expression_checks_once_per_expression,
    ]
    for patch in patches:
        patch()
    _applied.extend(patch.__name__.lstrip("_") for patch in patches)
    return list(_applied)


def _module(name: str) -> Any:
    """A moto module, typed loosely: the patches reach into its internals."""
    return importlib.import_module(name)


# ------------------------------------------------------------------------------------- server
def _server_lists_moto_modules_once() -> None:
    """The server lists moto's service packages once, not at every request.

    moto: to find the backend of a request, `DomainDispatcherApplication.get_backend_for_host`
    tests `host in backends.list_of_moto_modules()`, a generator that lists moto's package
    directory and stats each of its 150-odd entries: a sixth of a GetItem's time in the server.

    Patch: the listing is made once and kept as a tuple, which the membership test reads the
    same way. The listing only changes if moto's own installed files change under a running
    server.
    """
    backends = _module("moto.backends")

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


# ---------------------------------------------------------------------------------------- SQS
def _sqs_one_clock_read_per_pass() -> None:
    """One clock read per pass over a queue's messages, not two per message.

    moto: `Queue.messages` (the visible, undelayed messages), `approximate_number_of_messages_
    delayed` and `..._not_visible` test `message.visible` and `message.delayed` for every message
    in the queue; each property reads the clock (`unix_time_millis()`, a datetime subtraction).
    These passes run inside every SendMessage (through `Queue.attributes`), ReceiveMessage and
    GetQueueAttributes, so a queue 3,000 deep costs thousands of clock reads per call.

    Patch: read the clock once per pass and compare each message's `visible_at` and
    `delayed_until` with it, which is what `visible` (`now > visible_at`) and `delayed`
    (`now < delayed_until`) compute. A pass now sees one instant instead of a few microseconds
    of drift across its messages; no message changes state within a pass otherwise.
    """
    models = _module("moto.sqs.models")

    def messages(self: Any) -> list[Any]:
        now = models.unix_time_millis()
        return [
            message
            for message in self._messages
            if now > message.visible_at and not now < message.delayed_until
        ]

    def delayed(self: Any) -> int:
        now = models.unix_time_millis()
        return sum(1 for message in self._messages if now < message.delayed_until)

    def not_visible(self: Any) -> int:
        now = models.unix_time_millis()
        return sum(1 for message in self._messages if not now > message.visible_at)

    models.Queue.messages = property(messages)
    models.Queue.approximate_number_of_messages_delayed = property(delayed)
    models.Queue.approximate_number_of_messages_not_visible = property(not_visible)


def _sqs_retention_check_reads_one_attribute() -> None:
    """The retention check of each received message reads the queue's retention period directly.

    moto: `SQSBackend.is_message_valid_based_on_retention_period`, called for every message that
    ReceiveMessage hands out, gets the period through `get_queue_attributes(name,
    ["MessageRetentionPeriod"])`, which builds the whole `Queue.attributes` map three times
    (each one counting the queue's messages three times). A ReceiveMessage of 10 on a queue
    1,000 deep took most of a second, nearly all of it here.

    Patch: read `queue.message_retention_period`, the value that attribute map returns for
    MessageRetentionPeriod (an int, set by `_set_attributes`), and compare as moto does.
    """
    models = _module("moto.sqs.models")

    def is_message_valid_based_on_retention_period(
        self: Any, queue_name: str, message: Any
    ) -> bool:
        retention_period = self.get_queue(queue_name).message_retention_period
        retain_until = retention_period + message.sent_timestamp / 1000
        return bool(retain_until > models.unix_time())

    models.SQSBackend.is_message_valid_based_on_retention_period = (
        is_message_valid_based_on_retention_period
    )


def _sqs_queue_attributes_computed_once_per_call() -> None:
    """GetQueueAttributes with attribute names builds the queue's attribute map once.

    moto: for each requested name, `SQSBackend.get_queue_attributes` evaluates
    `queue.attributes` (every attribute, message counts included) three times: to test the
    name, to test its value, to read it. Asking for the three message counts, as a poller
    waiting for a queue to empty does, counted the queue's messages 27 times.

    Patch: the same validation and selection over one evaluation of `queue.attributes`. The
    answer is the same map, taken at one instant rather than at nine.
    """
    models = _module("moto.sqs.models")

    def get_queue_attributes(
        self: Any, queue_name: str, attribute_names: list[str]
    ) -> dict[str, Any]:
        queue = self.get_queue(queue_name)
        if not attribute_names:
            return {}
        valid_names = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
        invalid_name = next((name for name in attribute_names if name not in valid_names), None)
        if invalid_name or invalid_name == "":
            raise models.InvalidAttributeName(invalid_name)
        current: dict[str, Any] = queue.attributes
        if "All" in attribute_names:
            return current
        return {
            name: current[name]
            for name in attribute_names
            if name in current and current[name] is not None
        }

    models.SQSBackend.get_queue_attributes = get_queue_attributes


def _sqs_delete_finds_the_message_once() -> None:
    """DeleteMessage finds the message with one scan that builds nothing.

    moto: `Queue.delete_message` first scans every message with `had_receipt_handle`, which
    builds a new list of the message's receipt handles for each message, then scans them all
    again to build the queue's list without the deleted one. A DeleteMessageBatch of 10 did
    twenty such scans.

    Patch: one scan comparing the handle with each message's current and former handles (what
    `had_receipt_handle` tests), then the queue's list rebuilt without that message, as moto
    rebuilds it (a new list, so a concurrent reader keeps a consistent one). Receipt handles
    are unique, so the first match is the only one moto would have removed; a handle already
    deleted returns quietly and an unknown one raises ReceiptHandleIsInvalid, as before. The
    rebuild holds the queue's message lock, which moto's own appends take, so a message sent
    during a delete is not lost.
    """
    models = _module("moto.sqs.models")

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return
        with self._messages_lock:
            messages = self._messages
            index = next(
                (
                    position
                    for position, message in enumerate(messages)
                    if message.receipt_handle == receipt_handle
                    or receipt_handle in message._old_receipt_handles
                ),
                None,
            )
            if index is None:
                raise models.ReceiptHandleIsInvalid()
            message = messages[index]
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            self._messages = messages[:index] + messages[index + 1 :]

    models.Queue.delete_message = delete_message


# ----------------------------------------------------------------------------------- DynamoDB
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


def _dynamodb_update_expression_parsed_once() -> None:
    """An UpdateExpression is parsed once per distinct text, not twice per call.

    moto: UpdateItem parses its UpdateExpression in the response layer (to list the names and
    values it uses) and again in the backend (to validate and run it); each parse tokenizes
    and builds a syntax tree in Python, for the same text every time a client repeats an
    update.

    Patch: `UpdateExpressionParser.make` keeps the trees of the last 256 texts. No caller
    changes the tree it gets: the response layer only reads it (`find_clauses`), and the
    validators work on a deep copy (`Validator.__init__` copies it) which they then execute. A
    text that does not parse raises each time, as before (exceptions are not cached).
    """
    expressions = _module("moto.dynamodb.parsing.expressions")

    parser = expressions.UpdateExpressionParser
    make = parser.make.__func__

    @functools.lru_cache(maxsize=256)
    def parse(cls: Any, expression_str: str) -> Any:
        return make(cls, expression_str)

    def cached_make(cls: Any, expression_str: str) -> Any:
        return parse(cls, expression_str)

    parser.make = classmethod(cached_make)


def _dynamodb_traversers_build_their_dispatch_once() -> None:
    """Syntax-tree traversers build their dispatch table once per traverser, not per node.

    moto: each UpdateItem runs ten validators (`DepthFirstTraverser`s) over the expression's
    tree; at every node, `nodes_to_be_processed()` and `process()` call `_processing_map()`,
    which builds a new dict of bound methods, and a tuple of its keys.

    Patch: each traverser keeps the first map it builds. Every `_processing_map` in moto
    returns a constant mapping of node classes to its own methods, and validators are created
    anew for each request, so the kept map is the one moto would have rebuilt.
    """
    ast_nodes = _module("moto.dynamodb.parsing.ast_nodes")

    def processing_map(self: Any) -> dict[type, Callable[[Any], Any]]:
        cached: dict[type, Callable[[Any], Any]] | None = self.__dict__.get("_speedup_map")
        if cached is None:
            cached = self._processing_map()
            self.__dict__["_speedup_map"] = cached
            self.__dict__["_speedup_types"] = tuple(cached)
        return cached

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        processing_map(self)
        types: tuple[type, ...] = self.__dict__["_speedup_types"]
        return types

    def process(self: Any, node: Any) -> Any:
        for class_key, processor in processing_map(self).items():
            if isinstance(node, class_key):
                return processor(node)
        return None

    ast_nodes.DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed
    ast_nodes.DepthFirstTraverser.process = process


def _dynamodb_validators_copy_the_tree_from_a_pickle() -> None:
    """Each UpdateItem validation copies the expression's tree from a pickle, not by deepcopy.

    moto: `Validator.__init__` deep-copies the expression's syntax tree (about 90 nodes for a
    SET of ten attributes) before the validators rewrite it, once or twice per UpdateItem;
    `copy.deepcopy` walks it in Python, a fifth of an UpdateItem's time.

    Patch: the tree (one per text, from the parse cache above) is pickled once, and each
    validation gets `pickle.loads` of that: the same structure rebuilt in C, ten times faster.
    The nodes hold strings, None, lists of nodes and links to their parents, which pickle
    rebuilds as deepcopy does (both through `__reduce_ex__`). A tree that cannot be pickled is
    deep-copied as before.
    """
    validators = _module("moto.dynamodb.parsing.validators")
    pickles: weakref.WeakKeyDictionary[Any, bytes | None] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def copy_of(tree: Any) -> Any:
        with lock:
            known = tree in pickles
            blob = pickles.get(tree)
        if not known:
            try:
                blob = pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # anything pickle refuses is copied as moto does
                blob = None
            with lock:
                pickles[tree] = blob
        return copy.deepcopy(tree) if blob is None else pickle.loads(blob)  # noqa: S301 - our own bytes

    def __init__(
        self: Any,
        expression: Any,
        expression_attribute_names: dict[str, str],
        expression_attribute_values: dict[str, dict[str, Any]],
        item: Any,
        table: Any,
    ) -> None:
        # moto's Validator.__init__, with the copy made by copy_of.
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        self.node_to_validate = copy_of(expression)

    validators.UpdateExpressionValidator.__init__ = __init__


def _dynamodb_expression_checks_once_per_expression() -> None:
    """The checks of an UpdateExpression that depend on its text alone run once per text.

    moto: every UpdateItem validates its expression with ten traversals of its syntax tree.
    The first three, `ActionCountValidator` (one SET, ADD, REMOVE clause at most),
    `OverlappingPathsValidator` (no path updated twice) and `UpdateHashRangeKeyValidator`
    (no key attribute updated), look at nothing but the tree, the ExpressionAttributeNames and
    the table's key attributes; they change nothing, and the first two call `find_clauses` on
    every clause node, walking the tree again from each: a third of an UpdateItem's time.

    Patch: once a validation of a parsed expression (the tree shared by the parse cache above)
    has succeeded with given names and key attributes, later validations of the same tree
    with the same names and keys skip those three checks, which could only pass again. The
    other seven, which read the item and the values, run every time. A validation that fails
    records nothing, so an invalid expression fails the same way on every call.
    """
    validators = _module("moto.dynamodb.parsing.validators")

    text_only = (
        validators.ActionCountValidator,
        validators.OverlappingPathsValidator,
        validators.UpdateHashRangeKeyValidator,
    )
    passed: weakref.WeakKeyDictionary[Any, set[Any]] = weakref.WeakKeyDictionary()
    lock = threading.Lock()
    original_init = validators.UpdateExpressionValidator.__init__

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, expression, *args, **kwargs)
        self.__dict__["_speedup_source"] = expression

    def validate(self: Any) -> Any:
        source = self.__dict__.get("_speedup_source")
        names = self.expression_attribute_names
        try:
            key = (
                None if names is None else tuple(sorted(names.items())),
                tuple(self.table.table_key_attrs),
            )
            with lock:
                known = source is not None and key in passed.get(source, ())
        except TypeError:  # names that cannot be a key: check everything, remember nothing
            key, known = None, False
        node = self.node_to_validate
        for processor in self.processors:
            if known and type(processor) in text_only:
                continue
            node = processor.traverse(node)
        if source is not None and key is not None and not known:
            with lock:
                passed.setdefault(source, set()).add(key)
        return node

    validators.UpdateExpressionValidator.__init__ = __init__
    validators.UpdateExpressionValidator.validate = validate


def main(argv: list[str] | None = None) -> None:
    """moto's server, patched: takes `python -m moto.server`'s arguments."""
    applied = apply()
    sys.stderr.write(f"moto speed-ups applied: {', '.join(applied) or 'none'}\n")
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
