"""A pass's slices: how its plan is cut, and how each slice is written down before it is sent,
its marketing sends counted against their numbers' frequency caps in the same transaction."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cloison.adapters.tables import CampaignStore, CapHolding, FrequencyCaps
from cloison.errors import CapRaced, DependencyError
from cloison.models.events import ChunkRef
from cloison.models.records import CampaignRecord, MessageStatus
from cloison.observability import logger
from cloison.services.decision import Planned

SLICE_SIZE = 100
# Each of a slice's marketing sends is counted against its number's cap in the transaction that
# writes the slice down, with the pass's progress: 100 items at most.
COUNTED_PER_SLICE = 99
# Campaigns racing for the same numbers' caps: the numbers of a slice that lost are read and
# decided again this many times before the chunk is left for a retry.
CAP_RACE_ATTEMPTS = 5


def slices(plan: Sequence[Planned]) -> list[range]:
    """The plan cut into slices of at most SLICE_SIZE recipients, of which at most
    COUNTED_PER_SLICE count against a frequency cap; one empty slice for an empty plan."""
    bounds: list[range] = []
    start = counted = 0
    for position, planned in enumerate(plan):
        counts = planned.cap is not None
        if position - start == SLICE_SIZE or (counts and counted == COUNTED_PER_SLICE):
            bounds.append(range(start, position))
            start, counted = position, 0
        counted += counts
    bounds.append(range(start, len(plan)))
    return bounds


def capped(piece: Sequence[Planned], number_keys: set[str]) -> list[Planned]:
    """The slice with its marketing sends to `number_keys` turned `capped`."""
    return [
        Planned(planned.index, MessageStatus.CAPPED)
        if planned.cap is not None and planned.number_key in number_keys
        else planned
        for planned in piece
    ]


@dataclass
class SliceWriter:
    """Writes down, for one worker, the slices it is about to send."""

    campaigns: CampaignStore
    caps: FrequencyCaps
    worker_id: str

    def write_down(
        self,
        campaign: CampaignRecord,
        ref: ChunkRef,
        piece: list[Planned],
        position: int,
        stopped: set[str],
    ) -> list[Planned]:
        """Writes down the slice about to be sent (its recipients but those `stopped` since the
        plan), its marketing sends counted against their numbers' frequency caps in the same
        transaction; returns the slice as it will be sent.

        A number whose cap changed since it was read (another campaign counted a send to it
        meanwhile) is read again and decided again: sent if the cap still allows it, `capped`
        otherwise; then the write is tried again. A send counted here stays counted whatever
        becomes of it: the cap errs towards fewer messages.
        """
        for _attempt in range(CAP_RACE_ATTEMPTS):
            at = datetime.now(UTC)
            # Only a clock turned back since the plan was made finds a cap full here.
            piece = capped(
                piece,
                {
                    planned.number_key
                    for planned in piece
                    if planned.cap is not None and not self.caps.rule.allows(planned.cap.times, at)
                },
            )
            sendable = [
                planned
                for planned in piece
                if planned.status == MessageStatus.QUEUED and planned.number_key not in stopped
            ]
            if not sendable:
                return piece
            counted = {
                planned.number_key: self.caps.reservation(planned.number_key, planned.cap, at)
                for planned in sendable
                if planned.cap is not None
            }
            try:
                self.campaigns.checkpoint(
                    campaign.campaign_id,
                    ref.key,
                    self.worker_id,
                    next_index=position,
                    in_flight=[planned.index for planned in sendable],
                    reservations=counted,
                )
            except CapRaced as raced:
                piece = self._decide_again(campaign, piece, raced.number_keys, at)
            else:
                return piece
        raise DependencyError("frequency caps kept changing under the slice: tried again later")

    def _decide_again(
        self, campaign: CampaignRecord, piece: list[Planned], number_keys: list[str], at: datetime
    ) -> list[Planned]:
        """The slice with the caps of `number_keys` read again (strongly) and applied at `at`."""
        holdings = self.caps.holdings(number_keys, consistent=True)
        over = {
            number_key
            for number_key in number_keys
            if not self.caps.rule.allows(holdings.get(number_key, CapHolding()).times, at)
        }
        logger.info(
            "frequency caps changed meanwhile",
            extra={
                "campaign": campaign.campaign_id,
                "raced": len(number_keys),
                "capped": len(over),
            },
        )
        return [
            replace(planned, cap=holdings.get(planned.number_key, CapHolding()))
            if planned.cap is not None and planned.number_key in number_keys
            else planned
            for planned in capped(piece, over)
        ]
