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
- DynamoDB UpdateItem parsed its expression twice, re-ran checks that depend on its text alone
  (two of them quadratic in its length) and rebuilt each validator's dispatch table at every
  node of the expression's syntax tree.
- The server listed moto's own package directory at every request to find its backend.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("cloison_local.moto_speedups")

SUPPORTED_MOTO = "5.2."


def apply() -> list[str]:
    """Applies every patch to moto in this process; returns their names (none if unsupported)."""
    import moto

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
        _dynamodb_update_expression_parsed_once,
        _dynamodb_traversers_build_their_dispatch_once,
        _dynamodb_expression_checks_once_per_expression,
    ]
    for patch in patches:
        patch()
    return [patch.__name__.lstrip("_") for patch in patches]


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
