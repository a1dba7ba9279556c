"""What every store of the package shares: items from records, expiry, paging, batch reads,
and the one translation of DynamoDB's errors into the application's."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import wraps
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.errors import Conflict, DependencyError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Item = dict[str, Any]
BATCH_GET_LIMIT = 100
P = ParamSpec("P")
R = TypeVar("R")


def _table(name: str) -> Table:
    return aws.dynamodb().Table(name)


def _item(record_fields: Mapping[str, Any]) -> Item:
    """A record's fields as DynamoDB attributes: datetimes as ISO text, floats as Decimal, no None."""
    item: Item = {}
    for key, value in record_fields.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            item[key] = value.isoformat()
        elif isinstance(value, float):
            item[key] = Decimal(str(value))
        else:
            item[key] = value
    return item


SECONDS_PER_DAY = 86_400


def _expires_at(start: datetime, days: int) -> int:
    return int((start + timedelta(days=days)).timestamp())


def _failed(exc: ClientError) -> DependencyError:
    return DependencyError(f"DynamoDB {exc.response['Error']['Code']}")


class _DynamoDBErrors:
    """The `with` block of `dynamodb_errors`: lets every other exception through unchanged."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if isinstance(exc, ClientError):
            raise _failed(exc) from exc


_TRANSLATED = _DynamoDBErrors()


def dynamodb_errors() -> _DynamoDBErrors:
    """A block whose ClientError becomes the application's `DependencyError("DynamoDB <code>")`,
    raised from it. A block that answers some codes itself (a failed condition: Conflict, False)
    catches them inside this one and re-raises the others (`raise`) for it to translate."""
    return _TRANSLATED


def dynamodb_call(method: Callable[P, R]) -> Callable[P, R]:
    """A method whose AWS calls are all DynamoDB's, run in `dynamodb_errors`."""

    @wraps(method)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        with _TRANSLATED:
            return method(*args, **kwargs)

    return translated


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _query_all(table: Table, limit: int | None = None, **arguments: Any) -> list[Item]:
    """Every item a query finds, page after page; with `limit`, stops once that many passed
    the query's filter (a query's own `Limit` applies before its filter)."""
    items: list[Item] = []
    with dynamodb_errors():
        while limit is None or len(items) < limit:
            page = table.query(**arguments)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items if limit is None else items[:limit]


def batch_get(table_name: str, keys: Sequence[Item], *, consistent: bool = False) -> list[Item]:
    """BatchGetItem over any number of keys, retrying what DynamoDB leaves unprocessed;
    `consistent` reads what was written just before (twice the read capacity)."""
    found: list[Item] = []
    client = aws.dynamodb()
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        request: Any = {
            table_name: {
                "Keys": list(keys[start : start + BATCH_GET_LIMIT]),
                "ConsistentRead": consistent,
            }
        }
        for _attempt in range(8):
            with dynamodb_errors():
                answer = client.batch_get_item(RequestItems=request)
            found.extend(answer["Responses"].get(table_name, []))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise DependencyError("DynamoDB left keys unprocessed after retries")
    return found


class TableStore:
    """A store over one table: its name, the boto3 Table, and a write made whole or not at all."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._table = _table(table_name)

    @dynamodb_call
    def _transact(
        self,
        actions: list[Any],
        *,
        conflict: str,
        on_cancel: Callable[[list[str]], None] | None = None,
    ) -> None:
        """Writes `actions` whole or not at all; Conflict(`conflict`) when a condition failed.

        `on_cancel` is handed the code of each action's failure in a cancelled transaction, in
        the actions' order (`None` for an action that did not fail), to raise a Conflict of
        its own naming what failed.
        """
        try:
            if len(actions) == 1:
                # One item needs no transaction: the same write at half the capacity.
                only = actions[0]
                kind, request = next(iter(only.items()))
                table = self._table
                arguments = {key: value for key, value in request.items() if key != "TableName"}
                (table.update_item if kind == "Update" else table.put_item)(**arguments)
            else:
                aws.dynamodb().meta.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "TransactionCanceledException" and on_cancel is not None:
                reasons = cast(list[dict[str, Any]], exc.response.get("CancellationReasons", []))
                try:
                    on_cancel([str(reason.get("Code", "None")) for reason in reasons])
                except Conflict as named:
                    raise named from exc
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise Conflict(conflict) from exc
            raise


class ExpiringStore(TableStore):
    """A store whose items expire `retention_days` after the instant each record names."""

    def __init__(self, table_name: str, retention_days: int) -> None:
        super().__init__(table_name)
        self.retention_days = retention_days
