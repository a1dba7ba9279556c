"""End User Messaging's opt-out list and Cloison's suppressions, brought to agree on a schedule."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel

from cloison.adapters.carrier import OptedOutNumber, OptedOutPage
from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import GLOBAL_SCOPE, GlobalStanding, ProviderPending
from cloison.compliance.masking import mask_phone
from cloison.errors import DependencyError, RuleViolation
from cloison.models.records import SuppressionRecord
from cloison.observability import logger

PROVIDER_SOURCE = "provider-opt-out-list"
# A run stops reading the list with this much time left, and the next run goes on from there.
TIME_MARGIN_SECONDS = 60.0


class OptOutList(Protocol):
    name: str

    def page(self, token: str | None = None) -> OptedOutPage: ...

    def add(self, e164: str) -> None: ...

    def remove(self, e164: str) -> None: ...


class OptOutSuppressions(Protocol):
    def global_standing(self, number_keys: Sequence[str]) -> dict[str, GlobalStanding]: ...

    def add_unless_lifted(self, imports: Sequence[tuple[SuppressionRecord, datetime]]) -> int: ...

    def provider_pending(self) -> list[ProviderPending]: ...

    def clear_provider_pending(self, number_keys: Sequence[str]) -> int: ...

    def reconciliation_cursor(self) -> str | None: ...

    def save_reconciliation_cursor(self, token: str | None, at: datetime) -> None: ...


class ReconciliationReport(BaseModel):
    """What one run did; counts only, never a number."""

    pushed: int = 0  # Cloison opt-outs the carrier's list lacked, added to it
    refused: int = 0  # of those, numbers the carrier refuses on its list (not E.164, say)
    pages: int = 0
    read: int = 0  # numbers read from the carrier's list
    imported: int = 0  # of those, numbers added to the suppressions
    taken_off: int = 0  # of those, numbers a START lifted since, taken off the carrier's list
    stale: int = 0  # numbers a START lifted that the carrier's list keeps for now
    complete: bool = False  # the list was read to its end (else the next run goes on)


@dataclass
class OptOutReconciler:
    """Makes the carrier's opt-out list and the global suppressions agree, in both directions.

    The list cannot be filtered by date (DescribeOptedOutNumbers filters only on
    `end-user-opted-out`), so each pass reads it whole, 100 numbers a call, and checks each page
    against the suppressions with one BatchGetItem: a full comparison that also repairs what a
    restored table or a lost write left behind.
    """

    hasher: NumberHasher
    suppressions: OptOutSuppressions
    opt_out_list: OptOutList

    def reconcile(self, time_left: Callable[[], float]) -> ReconciliationReport:
        """One run; `time_left` is the seconds the invocation has left."""
        now = datetime.now(UTC)
        report = ReconciliationReport()
        self._push_pending(report)
        saved = self.suppressions.reconciliation_cursor()
        token = self._read(saved, now, report, time_left)
        if token != saved:
            self.suppressions.save_reconciliation_cursor(token, now)
        report.complete = token is None
        logger.info("opt-out list reconciled", extra=report.model_dump())
        return report

    def _push_pending(self, report: ReconciliationReport) -> None:
        """Opt-outs whose carrier call failed when they were recorded go to the list now."""
        done: list[str] = []
        for pending in self.suppressions.provider_pending():
            if pending.suppressed:
                try:
                    self.opt_out_list.add(pending.e164)
                except RuleViolation:
                    logger.warning(
                        "the carrier refuses this number on its opt-out list",
                        extra={"phone": mask_phone(pending.e164)},
                    )
                    report.refused += 1
                except DependencyError:
                    logger.warning("opt-out list unavailable: pending opt-outs wait for next run")
                    break
                else:
                    report.pushed += 1
            # A START lifted it since: there is nothing left to push.
            done.append(pending.number_key)
        if done:
            self.suppressions.clear_provider_pending(done)

    def _read(
        self,
        saved: str | None,
        now: datetime,
        report: ReconciliationReport,
        time_left: Callable[[], float],
    ) -> str | None:
        """Reads pages from `saved` on until the end or the time margin; where it stopped."""
        token = saved
        try:
            page = self.opt_out_list.page(token)
        except RuleViolation:
            if token is None:
                raise
            logger.warning("saved place in the opt-out list refused: reading it from the start")
            page = self.opt_out_list.page(None)
        while True:
            report.pages += 1
            report.read += len(page.numbers)
            self._reconcile_page(page.numbers, now, report)
            token = page.next_token
            if token is None or time_left() < TIME_MARGIN_SECONDS:
                return token
            page = self.opt_out_list.page(token)

    def _reconcile_page(
        self, numbers: Sequence[OptedOutNumber], now: datetime, report: ReconciliationReport
    ) -> None:
        by_key = {self.hasher.key(entry.e164): entry for entry in numbers}
        standing = self.suppressions.global_standing(list(by_key))
        imports: list[tuple[SuppressionRecord, datetime]] = []
        for number_key, entry in by_key.items():
            current = standing.get(number_key, GlobalStanding(suppressed=False))
            if current.suppressed:
                continue
            if current.lifted_at is not None and current.lifted_at >= entry.opted_out_at:
                # The person's START came after this entry: the carrier's list is behind.
                self._take_off(entry, report)
                continue
            imports.append((self._suppression(number_key, entry, now), entry.opted_out_at))
        if imports:
            report.imported += self.suppressions.add_unless_lifted(imports)

    def _suppression(
        self, number_key: str, entry: OptedOutNumber, now: datetime
    ) -> SuppressionRecord:
        by_whom = "by the end user" if entry.by_end_user else "by the account"
        return SuppressionRecord(
            number_key=number_key,
            scope=GLOBAL_SCOPE,
            reason="OPT_OUT" if entry.by_end_user else "OPT_OUT_LIST",
            source=PROVIDER_SOURCE,
            evidence=(
                f"opt-out list {self.opt_out_list.name}: opted out "
                f"{entry.opted_out_at.isoformat()} {by_whom}"
            ),
            created_at=now,
        )

    def _take_off(self, entry: OptedOutNumber, report: ReconciliationReport) -> None:
        try:
            self.opt_out_list.remove(entry.e164)
        except (RuleViolation, DependencyError) as exc:
            # Deletions are limited to one per number every 30 days; the next run tries again.
            logger.warning(
                "opt-out lifted in Cloison still on the carrier's list",
                extra={"phone": mask_phone(entry.e164), "error": str(exc)},
            )
            report.stale += 1
        else:
            report.taken_off += 1
