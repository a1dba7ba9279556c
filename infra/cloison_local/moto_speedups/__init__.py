"""Speed-ups for moto's server under bulk load that keep what every call answers.

`python -m cloison_local.moto_speedups -H HOST -p PORT` starts moto's server (same arguments as
`python -m moto.server`) with the patches of this package applied; `apply()` applies them to moto
in the current process. Each patch replaces one moto function or property by one doing the same
work in less time, and says what moto does, why that is slow, and why the answers stay the same.
They were written against moto 5.2 and are applied to that line only: another version runs
unpatched, with a warning in the server's log.

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

The patches are kept by what they patch: `server` (moto's request dispatch), `sqs`, `dynamodb`
(tables, transactions and request handling) and `dynamodb_expressions` (UpdateExpression
parsing and validation).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from cloison_local.moto_speedups.dynamodb import (
    _dynamodb_query_reads_one_partition,
    _dynamodb_requests_one_at_a_time,
    _dynamodb_transactions_keep_what_they_touch,
)
from cloison_local.moto_speedups.dynamodb_expressions import (
    _dynamodb_expression_checks_once_per_expression,
    _dynamodb_traversers_build_their_dispatch_once,
    _dynamodb_update_expression_parsed_once,
    _dynamodb_validators_copy_the_tree_from_a_pickle,
)
from cloison_local.moto_speedups.server import _server_lists_moto_modules_once
from cloison_local.moto_speedups.sqs import (
    _sqs_delete_finds_the_message_once,
    _sqs_one_clock_read_per_pass,
    _sqs_queue_attributes_computed_once_per_call,
    _sqs_retention_check_reads_one_attribute,
)

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


def main(argv: list[str] | None = None) -> None:
    """moto's server, patched: takes `python -m moto.server`'s arguments."""
    applied = apply()
    sys.stderr.write(f"moto speed-ups applied: {', '.join(applied) or 'none'}\n")
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])
