"""SuppressionStore's side of the opt-out list reconciliation, on the table the template defines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from fakes import FakeSealer
from in_process_aws import create_tables, in_process_aws

from cloison.adapters.tables import GLOBAL_SCOPE, GlobalStanding, SuppressionStore
from cloison.errors import ContextMismatch
from cloison.models.records import SuppressionRecord

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
OPTED_OUT_AT = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
PERSON = "+33751009001"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[SuppressionStore]:
    """The suppressions table as the template defines it, in moto's in-process DynamoDB."""
    with in_process_aws(monkeypatch):
        create_tables({"suppressions": "SuppressionsTable"})
        yield SuppressionStore("suppressions", FakeSealer())


def imported(number_key: str) -> SuppressionRecord:
    return SuppressionRecord(
        number_key=number_key,
        scope=GLOBAL_SCOPE,
        reason="OPT_OUT",
        source="provider-opt-out-list",
        evidence="opt-out list l: opted out 2026-11-30T18:30:00+00:00 by the end user",
        created_at=OPTED_OUT_AT + timedelta(minutes=5),
    )


def stop(store: SuppressionStore, number_key: str, scope: str = GLOBAL_SCOPE) -> None:
    store.put(
        SuppressionRecord(
            number_key=number_key,
            scope=scope,
            reason="OPT_OUT",
            source="sms-reply" if scope == GLOBAL_SCOPE else "api",
            evidence=f"inbound r-{number_key}",
            created_at=OPTED_OUT_AT,
        )
    )


def test_imports_go_in_transactions_and_keep_what_already_stands(store: SuppressionStore) -> None:
    # Given 60 numbers to import: one already stopped by a reply, one suppressed by a team only
    keys = [f"k{index:03d}" for index in range(60)]
    stop(store, keys[0])
    stop(store, keys[1], scope="team#sales")

    # When they are imported
    written = store.add_unless_lifted([(imported(key), OPTED_OUT_AT) for key in keys])

    # Then every number is suppressed for every team, the reply's STOP keeps its own evidence,
    # and the team's suppression is still there
    assert written == 60
    standing = store.global_standing(keys)
    assert all(standing[key].suppressed for key in keys)
    assert store.get(keys[0])[GLOBAL_SCOPE].source == "sms-reply"
    assert store.get(keys[1])["team#sales"].source == "api"
    assert store.get(keys[1])[GLOBAL_SCOPE].source == "provider-opt-out-list"
    assert store.suppressed([keys[1]], "support") == {keys[1]}


def test_a_number_a_start_lifted_since_is_left_out_and_the_others_are_written(
    store: SuppressionStore,
) -> None:
    # Given a STOP lifted by a START after the carrier's opt-out, among two other numbers
    stop(store, "lifted")
    assert store.lift(
        "lifted",
        GLOBAL_SCOPE,
        recorded_with="inbound r-lifted",
        evidence="inbound r-start",
        at=OPTED_OUT_AT + timedelta(hours=1),
    )

    # When the three are imported in one transaction
    written = store.add_unless_lifted(
        [(imported(key), OPTED_OUT_AT) for key in ("before", "lifted", "after")]
    )

    # Then only the lifted one is left out
    assert written == 2
    standing = store.global_standing(["before", "lifted", "after"])
    assert standing["lifted"] == GlobalStanding(
        suppressed=False, lifted_at=OPTED_OUT_AT + timedelta(hours=1)
    )
    assert standing["before"].suppressed
    assert standing["after"].suppressed


def test_an_opt_out_at_the_carrier_after_the_start_is_written(store: SuppressionStore) -> None:
    # Given a START that lifted a STOP an hour before the carrier's opt-out
    stop(store, "again")
    store.lift(
        "again",
        GLOBAL_SCOPE,
        recorded_with="inbound r-again",
        evidence="inbound r-start",
        at=OPTED_OUT_AT - timedelta(hours=1),
    )

    # When it is imported alone (one UpdateItem, no transaction)
    written = store.add_unless_lifted([(imported("again"), OPTED_OUT_AT)])

    # Then it is suppressed again
    assert written == 1
    assert store.global_standing(["again"])["again"].suppressed


def test_numbers_without_an_item_are_absent_from_the_standing(store: SuppressionStore) -> None:
    assert store.global_standing(["nobody"]) == {}


def test_a_pending_opt_out_is_kept_sealed_then_read_back_and_forgotten(
    store: SuppressionStore,
) -> None:
    # Given a STOP whose carrier call failed
    stop(store, "k-person")
    store.mark_provider_pending("k-person", PERSON, OPTED_OUT_AT)

    # When the pending opt-outs are read
    pending = store.provider_pending()

    # Then the number comes back opened, and the table never held it in clear
    assert [(each.number_key, each.e164, each.suppressed) for each in pending] == [
        ("k-person", PERSON, True)
    ]
    scanned = json.dumps(boto3.client("dynamodb").scan(TableName="suppressions"), default=str)
    assert PERSON not in scanned
    assert PERSON[1:] not in scanned

    # And once cleared, it is pending no more; clearing again writes nothing
    assert store.clear_provider_pending(["k-person"]) == 1
    assert store.provider_pending() == []
    assert store.clear_provider_pending(["k-person"]) == 0
    assert store.get("k-person")[GLOBAL_SCOPE].source == "sms-reply"


def test_clearing_many_pending_opt_outs_skips_those_cleared_already(
    store: SuppressionStore,
) -> None:
    # Given 30 pending opt-outs, one of which was cleared already
    keys = [f"p{index:02d}" for index in range(30)]
    for key in keys:
        stop(store, key)
        store.mark_provider_pending(key, PERSON, OPTED_OUT_AT)
    store.clear_provider_pending([keys[3]])

    # When all 30 are cleared
    cleared = store.clear_provider_pending(keys)

    # Then the 29 others are, and no empty item is created for an unknown key
    assert cleared == 29
    assert store.provider_pending() == []
    assert store.clear_provider_pending(["unknown"]) == 0
    assert store.global_standing(["unknown"]) == {}


def test_a_sealed_number_opens_only_for_its_own_item(store: SuppressionStore) -> None:
    # Given a sealed number copied onto another number's item
    stop(store, "k-a")
    store.mark_provider_pending("k-a", PERSON, OPTED_OUT_AT)
    item = boto3.client("dynamodb").get_item(
        TableName="suppressions", Key={"pk": {"S": "number#k-a"}, "sk": {"S": "suppression"}}
    )["Item"]
    boto3.client("dynamodb").put_item(
        TableName="suppressions",
        Item={**item, "pk": {"S": "number#k-b"}, "number_key": {"S": "k-b"}},
    )

    # When the pending opt-outs are read
    # Then the copy does not open
    with pytest.raises(ContextMismatch):
        store.provider_pending()


def test_the_place_in_the_list_is_kept_until_a_pass_ends(store: SuppressionStore) -> None:
    assert store.reconciliation_cursor() is None
    store.save_reconciliation_cursor("token-2", OPTED_OUT_AT)
    assert store.reconciliation_cursor() == "token-2"
    store.save_reconciliation_cursor(None, OPTED_OUT_AT)
    assert store.reconciliation_cursor() is None
