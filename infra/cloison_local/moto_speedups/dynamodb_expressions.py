"""The speed-ups of moto's DynamoDB UpdateExpressions: each text parsed once, its syntax tree
traversed and copied for less, and the checks that depend on its text alone run once per text."""

from __future__ import annotations

import copy
import functools
import pickle
import threading
import weakref
from collections.abc import Callable
from typing import Any

from cloison_local.moto_speedups.internals import _module


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
