"""Retention: each kind of record expires after the template parameter that DESIGN.md gives it,
by DynamoDB TTL or an S3 lifecycle rule, never by hand; opt-outs and the audit trail stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fakes import FakeSealer, campaign_record, consent_record
from in_process_aws import create_tables, in_process_aws
from sam_template import resources_of, template

from cloison.adapters import aws
from cloison.adapters.tables import (
    CampaignStore,
    ConsentStore,
    MessageStore,
    PrivacyReceipts,
    ReplyIndex,
)
from cloison.adapters.vault import reply_object_key
from cloison.config import ApiSettings
from cloison.models.kinds import CampaignKind
from cloison.models.records import (
    AudienceMember,
    MessageStatus,
    PrivacyReceiptRecord,
    ReplyRecord,
)
from cloison.services.audience import AudienceWriter
from cloison_local.expand import function_properties

DAY = 86_400
# DESIGN.md: prospects 3 years from last contact, message records 13 months, replies 1 year;
# receipts of data-subject requests 5 years (the French limitation period).
DEFAULT_DAYS = {
    "ProspectRetentionDays": 1095,
    "MessageRetentionDays": 395,
    "ReplyRetentionDays": 365,
    "PrivacyReceiptRetentionDays": 1825,
}
VARIABLE_OF = {
    "ProspectRetentionDays": "PROSPECT_RETENTION_DAYS",
    "MessageRetentionDays": "MESSAGE_RETENTION_DAYS",
    "ReplyRetentionDays": "REPLY_RETENTION_DAYS",
    "PrivacyReceiptRetentionDays": "PRIVACY_RECEIPT_RETENTION_DAYS",
}
# What each expiring table holds, by the parameter that keeps it.
KEPT_BY = {
    "CampaignsTable": {"MessageRetentionDays"},  # audience chunks and their index
    "MessagesTable": {"MessageRetentionDays"},
    "ContactsTable": {"ProspectRetentionDays", "PrivacyReceiptRetentionDays"},
    "RepliesTable": {"ReplyRetentionDays"},
    "IdempotencyTable": set(),  # Powertools' own records, expired by Powertools
}
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _expiring_tables() -> list[str]:
    return sorted(
        logical_id
        for logical_id, table in resources_of("AWS::DynamoDB::Table").items()
        if table["Properties"].get("TimeToLiveSpecification", {}).get("Enabled") is True
    )


# ---------------------------------------------------------------- the template


@pytest.mark.parametrize(("parameter", "days"), sorted(DEFAULT_DAYS.items()))
def test_retention_parameters_default_to_the_designs_periods(parameter: str, days: int) -> None:
    declared = template()["Parameters"][parameter]
    assert declared["Type"] == "Number"
    assert declared["Default"] == days
    assert declared["MinValue"] == 1


@pytest.mark.parametrize("table", _expiring_tables())
def test_every_expiring_table_is_kept_by_known_parameters(table: str) -> None:
    # Given a table whose items expire
    ttl = template()["Resources"][table]["Properties"]["TimeToLiveSpecification"]

    # Then its records' periods are known, and the stores write the attribute its TTL reads
    assert table in KEPT_BY
    assert ttl["AttributeName"] == ("expiration" if not KEPT_BY[table] else "expires_at")


@pytest.mark.parametrize("parameter", sorted(DEFAULT_DAYS))
def test_each_retention_parameter_reaches_the_api_as_a_setting(parameter: str) -> None:
    # Given the API function's environment, Globals merged in
    environment = function_properties("ApiFunction")["Environment"]["Variables"]

    # Then the parameter's variable is set from the parameter itself, and read by the settings
    assert environment[VARIABLE_OF[parameter]] == {"Ref": parameter}
    assert VARIABLE_OF[parameter] in {field.alias for field in ApiSettings.model_fields.values()}


@pytest.mark.parametrize(
    "key",
    [
        reply_object_key("sales", "c-1", NOW, "in-1"),
        reply_object_key("sales", None, NOW, "in-2"),
        reply_object_key(None, None, NOW, "in-3"),
    ],
)
def test_every_reply_object_expires_after_reply_retention_with_its_old_versions(
    key: str,
) -> None:
    # Given where the vault writes a reply, and the reply bucket's lifecycle rules
    bucket = function_properties("InboundFunction")["Environment"]["Variables"]["REPLY_BUCKET"][
        "Ref"
    ]
    rules = template()["Resources"][bucket]["Properties"]["LifecycleConfiguration"]["Rules"]

    # When the rules that apply to it are found
    applying = [
        rule
        for rule in rules
        if rule["Status"] == "Enabled"
        and "ExpirationInDays" in rule
        and key.startswith(rule.get("Prefix", rule.get("Filter", {}).get("Prefix", "")))
    ]

    # Then one expires it after ReplyRetentionDays, and its noncurrent versions a day later
    assert len(applying) == 1
    assert applying[0]["ExpirationInDays"] == {"Ref": "ReplyRetentionDays"}
    assert applying[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 1


# ---------------------------------------------------------------- the stores


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with in_process_aws(monkeypatch):
        create_tables(
            {
                name: name
                for name in ("CampaignsTable", "MessagesTable", "ContactsTable", "RepliesTable")
            }
        )
        yield


def expiries(table: str) -> dict[str, int]:
    """Each item's expiry by its keys: what DynamoDB's TTL will act on."""
    return {
        f"{item['pk']}|{item['sk']}": int(item["expires_at"])
        for item in aws.dynamodb().Table(table).scan()["Items"]
        if isinstance(item.get("expires_at"), Decimal)
    }


def after(moment: datetime, days: int) -> int:
    return int((moment + timedelta(days=days)).timestamp())


def test_consents_are_kept_three_years_from_the_last_contact(tables: None) -> None:
    # Given a consent given on 1 December
    consents = ConsentStore("ContactsTable", 1095)
    consents.put(consent_record("k1", proof="Oui", given_at=NOW))
    assert set(expiries("ContactsTable").values()) == {after(NOW, 1095)}

    # When the person replies an hour later, then 40 days later
    assert consents.touch("k1", NOW + timedelta(hours=1)) == 0  # less than a day: not rewritten
    assert consents.touch("k1", NOW + timedelta(days=40)) == 1

    # Then the consent is kept three years from the latest reply
    assert set(expiries("ContactsTable").values()) == {after(NOW + timedelta(days=40), 1095)}
    # And a number without consents costs no write
    assert consents.touch("k2", NOW) == 0


def test_message_records_reply_entries_audiences_and_receipts_expire_by_their_parameter(
    tables: None,
) -> None:
    # Given one record of each kind, written by its store as the functions write it
    MessageStore("MessagesTable", 395).advance(
        "c-1", "sales", "k1", "m-1", MessageStatus.DELIVERED, 3, NOW
    )
    ReplyIndex("RepliesTable", 365).claim(
        ReplyRecord(
            reply_id="in-1",
            team="sales",
            number_key="k1",
            received_at=NOW,
            reply_class="REPLY",
            sensitive=False,
            object_key="replies/team=sales/campaign=none/in-1",
        )
    )
    campaigns = CampaignStore("CampaignsTable")
    campaign = campaign_record(kind=CampaignKind.TRANSACTIONAL, created_at=NOW)
    campaigns.put_campaign(campaign)
    uploaded_at = datetime.now(UTC)
    AudienceWriter(campaigns, FakeSealer(), 395).append(
        campaign, [AudienceMember(e164="+33612345678", number_key="k1")]
    )
    PrivacyReceipts("ContactsTable", 1825).put(
        PrivacyReceiptRecord(
            request_id="pr-0123456789abcdef",
            kind="erasure",
            reason="asked",
            requested_by="priya",
            requested_at=NOW,
            completed_at=NOW,
        )
    )

    # Then each expires after its own period
    assert set(expiries("MessagesTable").values()) == {after(NOW, 395)}
    assert set(expiries("RepliesTable").values()) == {after(NOW, 365)}  # entry and its guard
    assert len(expiries("RepliesTable")) == 2
    audience = {
        key: value for key, value in expiries("CampaignsTable").items() if "campaign|" not in key
    }
    assert len(audience) == 3  # the chunk, its index item and its numbers' prints
    assert all(abs(value - after(uploaded_at, 395)) <= 5 for value in audience.values())
    assert expiries("ContactsTable") == {"request#pr-0123456789abcdef|receipt": after(NOW, 1825)}
