"""The contacts table: consents with their proof, and receipts of data-subject requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Self, cast

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.tables._dynamo import (
    SECONDS_PER_DAY,
    ExpiringStore,
    Item,
    _expires_at,
    _is_condition_failure,
    _item,
    _query_all,
    batch_get,
    dynamodb_call,
)
from cloison.adapters.tables.keys import (
    CONSENT_PREFIX,
    consent_key,
    contact_pk,
    receipt_key,
    signup_key,
)
from cloison.config import ApiSettings, ContactsTable
from cloison.models.records import (
    ConsentRecord,
    PrivacyReceiptRecord,
)


class ConsentStore(ExpiringStore):
    """Opt-in consents with their proof, by number hash and team."""

    @classmethod
    def from_settings(cls, config: ContactsTable) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.contacts_table, config.prospect_retention_days)

    def _consent_item(self, record: ConsentRecord) -> Item:
        return _item(record.model_dump()) | {
            **consent_key(record.number_key, record.team, record.purpose),
            "expires_at": _expires_at(record.given_at, self.retention_days),
        }

    @dynamodb_call
    def put(self, record: ConsentRecord) -> None:
        self._table.put_item(Item=self._consent_item(record))

    @dynamodb_call
    def put_confirmed(self, record: ConsentRecord) -> bool:
        """Records a consent given by double opt-in only while the number's sign-up to the team
        still waits; False if it no longer does (nothing is written).

        An erasure deletes the number's sign-ups before it reads its consents: a confirmation
        racing it either lands first, and is erased with the others, or writes nothing.
        """
        try:
            aws.dynamodb().meta.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self.table_name,
                            "Key": signup_key(record.number_key, record.team),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self.table_name, "Item": self._consent_item(record)}},
                ]
            )
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                return False
            raise
        return True

    @dynamodb_call
    def delete(self, number_key: str, team: str, purpose: str) -> ConsentRecord | None:
        """Withdraws a consent; returns what was recorded, or None if there was nothing."""
        answer = self._table.delete_item(
            Key=consent_key(number_key, team, purpose),
            ReturnValues="ALL_OLD",
        )
        item = answer.get("Attributes")
        return ConsentRecord.model_validate(item) if item else None

    @dynamodb_call
    def for_number(self, number_key: str) -> list[ConsentRecord]:
        """Every consent the number gave, to any team and for any purpose."""
        items = self._table.query(
            KeyConditionExpression=Key("pk").eq(contact_pk(number_key))
            & Key("sk").begins_with(CONSENT_PREFIX),
            ConsistentRead=True,
        )["Items"]
        return [ConsentRecord.model_validate(item) for item in items]

    @dynamodb_call
    def touch(self, number_key: str, at: datetime) -> int:
        """The person contacted us at `at`: their consents are kept `retention_days` from then.

        A consent's expiry moves at most once a day, so a chatty number costs one query a
        reply. Returns how many consents moved.
        """
        expires_at = _expires_at(at, self.retention_days)
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(contact_pk(number_key))
            & Key("sk").begins_with(CONSENT_PREFIX),
            ProjectionExpression="pk, sk, expires_at",
        )
        moved = 0
        for item in items:
            if int(cast(Decimal, item.get("expires_at", 0))) > expires_at - SECONDS_PER_DAY:
                continue
            try:
                self._table.update_item(
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET expires_at = :expires",
                    ConditionExpression="attribute_exists(pk) AND expires_at < :expires",
                    ExpressionAttributeValues={":expires": expires_at},
                )
            except ClientError as exc:
                if _is_condition_failure(exc):
                    continue  # withdrawn or moved meanwhile
                raise
            moved += 1
        return moved

    def consented(
        self, number_keys: Sequence[str], team: str, purpose: str = "marketing"
    ) -> set[str]:
        keys = [consent_key(key, team, purpose) for key in dict.fromkeys(number_keys)]
        return {str(item["number_key"]) for item in batch_get(self.table_name, keys)}


class PrivacyReceipts(ExpiringStore):
    """Receipts of data-subject requests, in the contacts table, keyed by request id only."""

    @classmethod
    def from_settings(cls, config: ApiSettings) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.contacts_table, config.privacy_receipt_retention_days)

    @dynamodb_call
    def put(self, record: PrivacyReceiptRecord) -> None:
        item = _item(record.model_dump()) | {
            **receipt_key(record.request_id),
            "expires_at": _expires_at(record.completed_at, self.retention_days),
        }
        self._table.put_item(Item=item)

    @dynamodb_call
    def get(self, request_id: str) -> PrivacyReceiptRecord | None:
        item = self._table.get_item(Key=receipt_key(request_id), ConsistentRead=True).get("Item")
        return PrivacyReceiptRecord.model_validate(item) if item else None
