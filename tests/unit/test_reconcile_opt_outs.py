"""The opt-out list reconciliation: the carrier's list and the global suppressions come to agree."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from cloison.adapters.carrier import OptedOutNumber, OptedOutPage
from cloison.adapters.tables import GLOBAL_SCOPE, GlobalStanding, ProviderPending
from cloison.errors import DependencyError, RuleViolation
from cloison.models.records import SuppressionRecord
from cloison.services.reconcile_opt_outs import (
    PROVIDER_SOURCE,
    TIME_MARGIN_SECONDS,
    OptOutReconciler,
    ReconciliationReport,
)

LIST_NAME = "cloison-SmsOptOutList"
OPTED_OUT_AT = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
PLENTY_OF_TIME = 280.0


def number(index: int) -> str:
    """Fictional French mobiles, one per index."""
    return f"+3375100{index:04d}"


class FakeHasher:
    def key(self, e164: str) -> str:
        return hashlib.sha256(e164.encode()).hexdigest()


HASHER = FakeHasher()


class FakeOptOutList:
    """The carrier's list in memory, paged in number order as the simulator and AWS page it."""

    def __init__(self, page_size: int = 100) -> None:
        self.name = LIST_NAME
        self.page_size = page_size
        self.entries: dict[str, OptedOutNumber] = {}
        self.pages_read = 0
        self.added: list[str] = []
        self.removed: list[str] = []
        self.refuse: set[str] = set()
        self.unavailable = False

    def opt_out(self, e164: str, at: datetime = OPTED_OUT_AT, *, by_end_user: bool = True) -> None:
        self.entries[e164] = OptedOutNumber(e164=e164, opted_out_at=at, by_end_user=by_end_user)

    def page(self, token: str | None = None) -> OptedOutPage:
        self.pages_read += 1
        if token is not None and not token.startswith("after:"):
            raise RuleViolation("NextToken", "refused by the carrier (ValidationException)")
        after = token.removeprefix("after:") if token else ""
        remaining = [self.entries[key] for key in sorted(self.entries) if key > after]
        page = remaining[: self.page_size]
        more = len(remaining) > self.page_size
        return OptedOutPage(numbers=page, next_token=f"after:{page[-1].e164}" if more else None)

    def add(self, e164: str) -> None:
        if self.unavailable:
            raise DependencyError("carrier InternalServerException")
        if e164 in self.refuse:
            raise RuleViolation("phone", "refused by the carrier (ValidationException)")
        self.added.append(e164)
        self.entries.setdefault(e164, OptedOutNumber(e164, datetime.now(UTC), by_end_user=False))

    def remove(self, e164: str) -> None:
        if e164 in self.refuse:
            raise RuleViolation("phone", "refused by the carrier (ConflictException)")
        self.removed.append(e164)
        self.entries.pop(e164, None)


@dataclass
class Suppression:
    entries: dict[str, SuppressionRecord] = field(default_factory=dict)
    lifted_at: datetime | None = None
    pending: str | None = None


class FakeSuppressions:
    """SuppressionStore's reconciliation methods in memory, counting the calls they would make."""

    def __init__(self) -> None:
        self.items: dict[str, Suppression] = {}
        self.cursor: str | None = None
        self.reads = 0
        self.writes = 0

    # set-up helpers
    def stop(self, e164: str, source: str = "sms-reply") -> None:
        record = SuppressionRecord(
            number_key=HASHER.key(e164),
            scope=GLOBAL_SCOPE,
            reason="OPT_OUT",
            source=source,
            evidence="inbound r-1",
            created_at=OPTED_OUT_AT,
        )
        self.items.setdefault(record.number_key, Suppression()).entries[GLOBAL_SCOPE] = record

    def lift(self, e164: str, at: datetime) -> None:
        item = self.items.setdefault(HASHER.key(e164), Suppression())
        item.entries.pop(GLOBAL_SCOPE, None)
        item.lifted_at = at

    def global_entry(self, e164: str) -> SuppressionRecord | None:
        item = self.items.get(HASHER.key(e164))
        return item.entries.get(GLOBAL_SCOPE) if item else None

    # the store's interface
    def global_standing(self, number_keys: Sequence[str]) -> dict[str, GlobalStanding]:
        assert len(number_keys) <= 100, "one BatchGetItem reads 100 keys at most"
        self.reads += 1
        return {
            key: GlobalStanding(GLOBAL_SCOPE in self.items[key].entries, self.items[key].lifted_at)
            for key in number_keys
            if key in self.items
        }

    def add_unless_lifted(self, imports: Sequence[tuple[SuppressionRecord, datetime]]) -> int:
        self.writes += (len(imports) + 24) // 25
        written = 0
        for record, since in imports:
            item = self.items.setdefault(record.number_key, Suppression())
            if item.lifted_at is not None and item.lifted_at >= since:
                continue
            item.entries.setdefault(record.scope, record)
            written += 1
        return written

    def provider_pending(self) -> list[ProviderPending]:
        self.reads += 1
        return [
            ProviderPending(key, item.pending, GLOBAL_SCOPE in item.entries)
            for key, item in self.items.items()
            if item.pending is not None
        ]

    def clear_provider_pending(self, number_keys: Sequence[str]) -> int:
        self.writes += 1
        for key in number_keys:
            self.items[key].pending = None
        return len(number_keys)

    def reconciliation_cursor(self) -> str | None:
        self.reads += 1
        return self.cursor

    def save_reconciliation_cursor(self, token: str | None, at: datetime) -> None:
        self.writes += 1
        self.cursor = token


def reconciler(opt_out_list: FakeOptOutList, suppressions: FakeSuppressions) -> OptOutReconciler:
    return OptOutReconciler(hasher=HASHER, suppressions=suppressions, opt_out_list=opt_out_list)


def run(opt_out_list: FakeOptOutList, suppressions: FakeSuppressions) -> ReconciliationReport:
    return reconciler(opt_out_list, suppressions).reconcile(time_left=lambda: PLENTY_OF_TIME)


# ---------------------------------------------------------------- from the carrier's list


def test_a_number_opted_out_only_at_the_carrier_becomes_a_global_suppression() -> None:
    # Given a number that End User Messaging opted out, unknown to the suppressions
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    opt_out_list.opt_out(number(1))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the number is suppressed for every team, with where and when it came from
    entry = suppressions.global_entry(number(1))
    assert entry is not None
    assert entry.source == PROVIDER_SOURCE
    assert entry.reason == "OPT_OUT"
    assert LIST_NAME in entry.evidence
    assert "2026-11-30T18:30:00+00:00" in entry.evidence
    assert "end user" in entry.evidence
    assert report.imported == 1
    assert report.complete


def test_a_number_the_account_put_on_the_list_is_imported_with_its_own_reason() -> None:
    # Given a number added to the list by an operator, not by the person
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    opt_out_list.opt_out(number(2), by_end_user=False)

    # When the reconciliation runs
    run(opt_out_list, suppressions)

    # Then it is suppressed, and the evidence says who put it there
    entry = suppressions.global_entry(number(2))
    assert entry is not None
    assert entry.reason == "OPT_OUT_LIST"
    assert "by the account" in entry.evidence


def test_a_second_run_imports_nothing_and_writes_nothing() -> None:
    # Given a list already reconciled once
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    for index in range(3):
        opt_out_list.opt_out(number(index))
    run(opt_out_list, suppressions)
    suppressions.writes = 0

    # When the reconciliation runs again
    report = run(opt_out_list, suppressions)

    # Then it reads the list and the suppressions once each, and writes nothing
    assert report.imported == 0
    assert report.read == 3
    assert suppressions.writes == 0


def test_an_existing_stop_is_neither_rewritten_nor_counted() -> None:
    # Given a STOP recorded from a reply, which the carrier's list also holds
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    suppressions.stop(number(3))
    opt_out_list.opt_out(number(3))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the STOP's own record stands
    entry = suppressions.global_entry(number(3))
    assert entry is not None
    assert entry.source == "sms-reply"
    assert report.imported == 0
    assert suppressions.writes == 0


def test_a_long_list_is_read_a_page_and_one_batch_read_per_hundred_numbers() -> None:
    # Given 250 numbers on the carrier's list
    opt_out_list, suppressions = FakeOptOutList(page_size=100), FakeSuppressions()
    for index in range(250):
        opt_out_list.opt_out(number(index))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then three pages were read, each checked with one batch read, and every number imported
    assert (report.pages, report.read, report.imported) == (3, 250, 250)
    assert opt_out_list.pages_read == 3
    # the pending opt-outs and the saved place, then one batch read per page
    assert suppressions.reads == 2 + 3
    assert suppressions.writes == 4 + 4 + 2  # transactions of 25 for pages of 100, 100 and 50


def test_a_run_short_of_time_saves_its_place_and_the_next_one_goes_on() -> None:
    # Given 250 numbers and a run that has only time for one page
    opt_out_list, suppressions = FakeOptOutList(page_size=100), FakeSuppressions()
    for index in range(250):
        opt_out_list.opt_out(number(index))
    hurried = reconciler(opt_out_list, suppressions)

    # When it runs
    first = hurried.reconcile(time_left=lambda: TIME_MARGIN_SECONDS - 1)

    # Then it stops after one page and keeps its place
    assert (first.pages, first.imported, first.complete) == (1, 100, False)
    assert suppressions.cursor == f"after:{number(99)}"

    # And the next run with time enough reads on from there to the end, and forgets the place
    second = run(opt_out_list, suppressions)
    assert (second.pages, second.imported, second.complete) == (2, 150, True)
    assert suppressions.cursor is None
    assert all(suppressions.global_entry(number(index)) for index in range(250))


def test_a_saved_place_the_carrier_refuses_restarts_from_the_top() -> None:
    # Given a saved place that the carrier no longer accepts (an expired token, say)
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    opt_out_list.opt_out(number(4))
    suppressions.cursor = "expired-token"

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then it reads the list from its first page and forgets the bad place
    assert report.imported == 1
    assert report.complete
    assert suppressions.cursor is None


def test_a_failing_carrier_fails_the_run_so_that_it_is_retried() -> None:
    # Given a carrier whose list cannot be read
    class Down(FakeOptOutList):
        def page(self, token: str | None = None) -> OptedOutPage:
            raise DependencyError("carrier InternalServerException")

    # When the reconciliation runs
    # Then the error propagates (the invocation fails, and the schedule's retry policy applies)
    with pytest.raises(DependencyError):
        run(Down(), FakeSuppressions())


# ---------------------------------------------------------------- a START in between


def test_a_number_a_start_lifted_after_the_carrier_opt_out_is_taken_off_the_list() -> None:
    # Given a number the carrier's list holds since yesterday, whose opt-out a START lifted today
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    opt_out_list.opt_out(number(5))
    suppressions.lift(number(5), OPTED_OUT_AT + timedelta(days=1))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the suppression is not brought back, and the carrier's list follows the START
    assert suppressions.global_entry(number(5)) is None
    assert opt_out_list.removed == [number(5)]
    assert (report.imported, report.taken_off) == (0, 1)


def test_a_list_entry_the_carrier_will_not_delete_yet_is_counted_stale_not_imported() -> None:
    # Given a lifted opt-out whose list entry the carrier refuses to delete (30-day limit)
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    opt_out_list.opt_out(number(6))
    opt_out_list.refuse.add(number(6))
    suppressions.lift(number(6), OPTED_OUT_AT + timedelta(hours=1))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the START still stands in Cloison, and the disagreement is counted
    assert suppressions.global_entry(number(6)) is None
    assert (report.imported, report.stale) == (0, 1)


def test_an_opt_out_at_the_carrier_after_a_start_is_imported() -> None:
    # Given a START last week, then an opt-out at the carrier today
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    suppressions.lift(number(7), OPTED_OUT_AT - timedelta(days=7))
    opt_out_list.opt_out(number(7))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the later opt-out wins
    assert suppressions.global_entry(number(7)) is not None
    assert report.imported == 1


# ---------------------------------------------------------------- to the carrier's list


def test_a_stop_whose_carrier_call_failed_is_pushed_to_the_list_and_forgotten() -> None:
    # Given a STOP recorded while the carrier's list could not take it
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    suppressions.stop(number(8))
    suppressions.items[HASHER.key(number(8))].pending = number(8)

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the list holds the number, nothing is imported back, and nothing is pending
    assert opt_out_list.added == [number(8)]
    assert number(8) in opt_out_list.entries
    assert (report.pushed, report.imported) == (1, 0)
    assert suppressions.items[HASHER.key(number(8))].pending is None


def test_pending_opt_outs_wait_for_the_next_run_while_the_list_is_unavailable() -> None:
    # Given a pending opt-out and a carrier that fails to add to its list
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    suppressions.stop(number(9))
    suppressions.items[HASHER.key(number(9))].pending = number(9)
    opt_out_list.unavailable = True

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the number stays pending for the next run
    assert report.pushed == 0
    assert suppressions.items[HASHER.key(number(9))].pending == number(9)


def test_a_number_the_carrier_refuses_on_its_list_is_not_tried_forever() -> None:
    # Given a pending opt-out of a number the carrier refuses (not a valid destination)
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    suppressions.stop(number(10))
    suppressions.items[HASHER.key(number(10))].pending = number(10)
    opt_out_list.refuse.add(number(10))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then it is counted and forgotten; the suppression itself stands
    assert report.refused == 1
    assert suppressions.items[HASHER.key(number(10))].pending is None
    assert suppressions.global_entry(number(10)) is not None


def test_a_pending_opt_out_lifted_since_is_not_pushed() -> None:
    # Given a STOP whose carrier call failed, then a START that lifted it
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    suppressions.stop(number(11))
    suppressions.items[HASHER.key(number(11))].pending = number(11)
    suppressions.lift(number(11), datetime.now(UTC))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then the carrier's list is left alone and the number is no longer pending
    assert opt_out_list.added == []
    assert report.pushed == 0
    assert suppressions.items[HASHER.key(number(11))].pending is None


# ---------------------------------------------------------------- what it shows


def test_the_report_and_the_logs_hold_counts_never_a_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given numbers to import, one to push and one the carrier refuses
    opt_out_list, suppressions = FakeOptOutList(), FakeSuppressions()
    opt_out_list.opt_out(number(12))
    for index in (13, 14):
        suppressions.stop(number(index))
        suppressions.items[HASHER.key(number(index))].pending = number(index)
    opt_out_list.refuse.add(number(14))

    # When the reconciliation runs
    report = run(opt_out_list, suppressions)

    # Then neither its result nor its logs show a full number
    logged = [record.__dict__ for record in caplog.records]
    shown = json.dumps([report.model_dump(), *logged], default=str)
    assert "refuses" in shown
    for index in (12, 13, 14):
        assert number(index) not in shown
        assert number(index)[1:] not in shown
