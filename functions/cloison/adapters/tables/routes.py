"""Which team one of our numbers belongs to, and the sign-up keywords texted to them: items of
the campaigns table, beside the sender profiles that claim them."""

from __future__ import annotations

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from cloison.adapters.tables._dynamo import (
    TableStore,
    _is_condition_failure,
    _item,
    dynamodb_call,
    dynamodb_errors,
)
from cloison.adapters.tables.keys import keyword_key, route_key
from cloison.errors import Conflict
from cloison.models.records import KeywordRecord, RouteRecord


class NumberRoutes(TableStore):
    """A number is claimed by one team for good (another team's claim is a Conflict); a keyword
    by one sender profile of one team until that profile lets it go."""

    def claim_route(self, record: RouteRecord) -> None:
        item = _item(record.model_dump()) | route_key(record.number)
        with dynamodb_errors():
            try:
                self._table.put_item(
                    Item=item,
                    ConditionExpression=Attr("pk").not_exists() | Attr("team").eq(record.team),
                )
            except ClientError as exc:
                if _is_condition_failure(exc):
                    raise Conflict(f"{record.number} belongs to another team") from exc
                raise

    @dynamodb_call
    def route_of(self, number: str) -> RouteRecord | None:
        item = self._table.get_item(Key=route_key(number)).get("Item")
        return RouteRecord.model_validate(item) if item else None

    def claim_keyword(self, record: KeywordRecord) -> None:
        item = _item(record.model_dump()) | keyword_key(record.number, record.word)
        with dynamodb_errors():
            try:
                self._table.put_item(
                    Item=item,
                    ConditionExpression=Attr("pk").not_exists()
                    | (Attr("team").eq(record.team) & Attr("sender").eq(record.sender)),
                )
            except ClientError as exc:
                if _is_condition_failure(exc):
                    raise Conflict(f"the keyword {record.word} is taken on that number") from exc
                raise

    def release_keyword(self, record: KeywordRecord) -> None:
        """Lets the keyword go, if the profile still holds it."""
        with dynamodb_errors():
            try:
                self._table.delete_item(
                    Key=keyword_key(record.number, record.word),
                    ConditionExpression=Attr("team").eq(record.team)
                    & Attr("sender").eq(record.sender),
                )
            except ClientError as exc:
                if not _is_condition_failure(exc):
                    raise

    @dynamodb_call
    def keyword_of(self, number: str, word: str) -> KeywordRecord | None:
        item = self._table.get_item(Key=keyword_key(number, word)).get("Item")
        return KeywordRecord.model_validate(item) if item else None
