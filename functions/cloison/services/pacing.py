"""How a send pass keeps its pace, and hears of the STOPs stored while it sends."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cloison.adapters.tables import SuppressionStore
from cloison.models.records import CampaignRecord, MessageStatus
from cloison.observability import logger
from cloison.services.decision import Planned


@dataclass
class Pacer:
    """Keeps one worker's sends under `per_second`."""

    per_second: float
    _next: float = field(default=0.0)

    def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + 1.0 / self.per_second


@dataclass
class LateStops:
    """Suppressions stored while a pass sends: the recipients not sent yet are read again once
    `every` seconds have gone by since they were last read (`read_at`, monotonic)."""

    suppressions: SuppressionStore
    campaign: CampaignRecord
    every: float
    read_at: float
    stopped: set[str] = field(default_factory=set)

    def refresh(self, upcoming: Sequence[Planned]) -> None:
        if time.monotonic() - self.read_at < self.every:
            return
        keys = [
            planned.number_key
            for planned in upcoming
            if planned.status == MessageStatus.QUEUED and planned.number_key not in self.stopped
        ]
        if not keys:
            return
        started = time.monotonic()
        # A strongly consistent read: a STOP stored a moment ago is seen.
        newly = self.suppressions.suppressed(keys, self.campaign.team, consistent=True)
        self.read_at = started
        if newly:
            logger.info(
                "recipients suppressed during the pass",
                extra={"campaign": self.campaign.campaign_id, "count": len(newly)},
            )
            self.stopped |= newly

    def allows(self, upcoming: Sequence[Planned]) -> bool:
        """Whether the first of `upcoming` may still be sent, suppressions read if due."""
        self.refresh(upcoming)
        return upcoming[0].number_key not in self.stopped
