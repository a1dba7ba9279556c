"""The send path: consent, suppression, window, frequency cap and STOP rules for one chunk pass,
then the carrier.

At most once per (campaign, recipient), at a few AWS calls per hundred recipients: a pass is
leased as a whole, its progress is checkpointed once per slice of recipients (the slice about to
be sent is written down first, with its marketing sends counted against their numbers' frequency
caps in the same transaction), and the recipients of a slice whose worker died are in doubt:
they are settled from the carrier's delivery events, never sent again. Recipients outside their
sending window are parked until it opens, and released by an EventBridge schedule.
"""

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import Sealer
from cloison.adapters.queues import WorkQueue
from cloison.adapters.schedules import LaunchSchedules
from cloison.adapters.tables import CampaignStore, ConsentStore, FrequencyCaps, SuppressionStore
from cloison.compliance.encoding import analyze_text
from cloison.errors import (
    Conflict,
    DependencyError,
    NotSent,
    OutcomeUnknown,
    RuleViolation,
    Throttled,
)
from cloison.models.events import ChunkRef
from cloison.models.kinds import CampaignKind, CampaignStatus
from cloison.models.records import AudienceMember, CampaignRecord, MessageStatus, SenderRecord
from cloison.observability import logger
from cloison.services.audience import open_chunk
from cloison.services.decision import Planned, decide_members
from cloison.services.pacing import LateStops, Pacer
from cloison.services.parking import release_parked
from cloison.services.slices import SliceWriter, slices
from cloison.services.windows import window_policy

FINISHED = frozenset({CampaignStatus.CANCELLED, CampaignStatus.COMPLETED})
THROTTLE_BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
MESSAGE_TYPE = {CampaignKind.MARKETING: "PROMOTIONAL", CampaignKind.TRANSACTIONAL: "TRANSACTIONAL"}
# A lease outlives the longest invocation, so a live worker is never taken over.
LEASE = timedelta(minutes=16)
# End User Messaging's default time to live is 72 hours; an hour more for late events.
EXPIRY_AFTER = timedelta(hours=73)
# How long a chunk reference waits when another worker holds its pass.
BUSY_RETRY_SECONDS = 30
# Stop taking new slices when less than this is left of the invocation.
SAFETY_MILLIS = 20_000
# A pass reads its recipients' suppressions again when this long has gone by since it last read
# them, before its next send: a STOP stored during a pass stops every send that starts more than
# this (and one batch read) after it, whatever the provider's opt-out list answered.
RECHECK_SECONDS = 4.0
# Statuses that settle a recipient for good on the send side (delivery events come on top).
SETTLED = ("queued", "rejected", "suppressed", "no_consent", "capped", "invalid", "in_doubt")


class CampaignNotSending(Exception):
    """The chunk's campaign has not started yet: retry the chunk later."""


@dataclass
class ChunkSender:
    campaigns: CampaignStore
    suppressions: SuppressionStore
    consents: ConsentStore
    caps: FrequencyCaps
    sealer: Sealer
    carrier: SmsCarrier
    send_queue: WorkQueue
    releases: LaunchSchedules
    origination: str
    worker_id: str
    concurrency: int = 2
    recheck_seconds: float = RECHECK_SECONDS
    _scheduled: set[tuple[str, datetime]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._slices = SliceWriter(self.campaigns, self.caps, self.worker_id)

    def send(self, ref: ChunkRef, remaining_millis: Callable[[], int]) -> dict[str, int]:
        """Sends one chunk pass, or as much of it as the invocation allows; returns the counts."""
        campaign = self.campaigns.get_campaign(ref.campaign_id)
        if campaign is None or campaign.team != ref.team:
            logger.warning("chunk of an unknown campaign", extra={"campaign": ref.campaign_id})
            return {}
        if campaign.status in FINISHED:
            return {}
        if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
            raise CampaignNotSending(f"campaign {campaign.campaign_id} is {campaign.status.value}")
        now = datetime.now(UTC)
        try:
            progress = self.campaigns.lease(
                campaign.campaign_id, ref.key, self.worker_id, now, now + LEASE
            )
        except Conflict:
            # Another worker holds the pass: look again later, until it is done or that
            # worker's lease runs out (it died). Re-queued rather than failed, so that the
            # wait does not use up the message's receive count.
            self.send_queue.send([ref], delay_seconds=BUSY_RETRY_SECONDS)
            return {}
        if progress is None:
            logger.info("pass already done", extra={"campaign": ref.campaign_id, "pass": ref.key})
            # Its worker may have failed or died between its last checkpoint and the campaign's
            # completion: this delivery of the pass completes it.
            if campaign.status == CampaignStatus.SENDING and self._all_settled(campaign):
                self._complete(campaign, now)
            return {}
        sender = self.campaigns.get_sender(campaign.team, campaign.sender)
        # An occurrence reads its recurring campaign's chunks; all else is keyed by its own id.
        owner = campaign.audience_owner(ref.upload)
        sealed = self.campaigns.get_chunk(owner, ref.upload, ref.chunk)
        if sender is None or sealed is None:
            raise LookupError(
                f"campaign {campaign.campaign_id} lacks its sender profile or a chunk"
            )
        members = open_chunk(self.sealer, sealed, campaign.team, owner)
        positions = [
            index
            for index in (range(len(members)) if ref.indexes is None else ref.indexes)
            if index < len(members)
        ]
        start = progress.next_index
        # A worker died while sending the slice that starts here: its sends may have happened.
        # Those recipients are settled by the carrier's events, never sent again.
        in_doubt = set(progress.in_flight)
        if in_doubt:
            logger.warning("recipients in doubt after a crash", extra={"count": len(in_doubt)})
        # Parked by an earlier attempt at this pass: theirs is the release, whatever the time now.
        parked = progress.parked
        todo = positions[start:]
        if campaign.status == CampaignStatus.PAUSED:
            # Parked whole; a resume releases it. Nothing is sent while the campaign is paused.
            doubtful = [index for index in todo if index in in_doubt]
            held = [index for index in todo if index not in in_doubt and index not in parked]
            self._park(campaign, ref, {now: held}, counted_before=bool(ref.pass_no), paused=True)
            self.campaigns.checkpoint(
                campaign.campaign_id,
                ref.key,
                self.worker_id,
                next_index=len(positions),
                done=True,
                counts={
                    "in_doubt": len(doubtful),
                    "deferred": -len(doubtful) if ref.pass_no else 0,
                },
            )
            return {}
        if parked:
            self._rearrange_releases(campaign, ref)
        fresh = [index for index in todo if index not in in_doubt and index not in parked]
        read_at = time.monotonic()  # the plan's suppressions are read from here on
        decided = {
            planned.index: planned
            for planned in self._plan(
                campaign, sender, [members[index] for index in fresh], fresh, now
            )
        }
        plan = [
            decided.get(index)
            or Planned(index, MessageStatus.DEFERRED if index in parked else MessageStatus.IN_DOUBT)
            for index in todo
        ]
        waiting: dict[datetime, list[int]] = defaultdict(list)
        for planned in plan:
            if planned.release_at is not None:
                waiting[planned.release_at].append(planned.index)
        # Parked before anything is sent, so a crash never loses a waiting recipient.
        self._park(campaign, ref, waiting)
        counts, next_index = self._send_slices(
            campaign, sender, ref, plan, start, remaining_millis, read_at
        )
        finished = next_index >= len(positions)
        if not finished:
            # Out of time: the rest of the pass goes back on the queue, from the checkpoint.
            self.send_queue.send([ref])
        elif self._all_settled(campaign):
            self._complete(campaign, now)
        return dict(counts)

    def _complete(self, campaign: CampaignRecord, now: datetime) -> None:
        """Completes a settled campaign, its expiry scheduled first: a failure in between leaves
        a campaign that the next delivery of its pass completes, never one completed without
        its expiry (messages still without a final event when their time to live is over)."""
        self.releases.expire(campaign.campaign_id, campaign.team, now + EXPIRY_AFTER)
        with suppress(Conflict):  # another worker completed it
            self.campaigns.set_status(
                campaign.campaign_id,
                CampaignStatus.COMPLETED,
                allowed_from=(CampaignStatus.SENDING,),
            )

    def _plan(
        self,
        campaign: CampaignRecord,
        sender: SenderRecord,
        members: Sequence[AudienceMember],
        indexes: Sequence[int],
        now: datetime,
    ) -> list[Planned]:
        return decide_members(
            campaign,
            sender,
            members,
            indexes,
            suppressions=self.suppressions,
            consents=self.consents,
            caps=self.caps,
            policy=window_policy(sender.window),
            now=now,
        )

    def _send_slices(
        self,
        campaign: CampaignRecord,
        sender: SenderRecord,
        ref: ChunkRef,
        plan: Sequence[Planned],
        start: int,
        remaining_millis: Callable[[], int],
        read_at: float,
    ) -> tuple[Counter[str], int]:
        """Sends slice by slice; each slice's outcome is checkpointed with its counters.

        Suppressions are read again for the recipients not sent yet whenever `recheck_seconds`
        have gone by since they were last read (`read_at`, a monotonic time), before a slice
        and between two sends: one batch read of at most a slice's keys each time.
        """
        pacer = Pacer(per_second=max(0.1, sender.mps / max(1, self.concurrency)))
        safety = min(SAFETY_MILLIS, remaining_millis() // 3)
        position = start
        total: Counter[str] = Counter()
        context = {"campaign": campaign.campaign_id, "team": campaign.team}
        late = LateStops(self.suppressions, campaign, self.recheck_seconds, read_at)
        bounds = slices(plan)
        for number, bound in enumerate(bounds):
            piece = list(plan[bound.start : bound.stop])
            if number and remaining_millis() < safety:
                self.campaigns.checkpoint(
                    campaign.campaign_id, ref.key, self.worker_id, next_index=position, release=True
                )
                return total, position
            late.refresh(piece)
            piece = self._slices.write_down(campaign, ref, piece, position, late.stopped)
            counts: Counter[str] = Counter()
            for offset, planned in enumerate(piece):
                if ref.pass_no:
                    counts["deferred"] -= 1  # it was counted as deferred when it was parked
                if planned.status == MessageStatus.QUEUED:
                    recipient = context | {"recipient": planned.number_key}
                    outcome = self._send_one(
                        campaign,
                        planned,
                        recipient,
                        pacer,
                        partial(late.allows, piece[offset:]),
                        # The team's own pool, or the stack's shared one.
                        sender.origination or self.origination,
                    )
                    counts[outcome] += 1
                    if outcome in ("queued", "in_doubt"):
                        counts["segments"] += analyze_text(planned.text).segments
                elif planned.status != MessageStatus.DEFERRED:
                    counts[planned.status.value] += 1
            position += len(piece)
            self.campaigns.checkpoint(
                campaign.campaign_id,
                ref.key,
                self.worker_id,
                next_index=position,
                done=number == len(bounds) - 1,
                counts={**counts, "cost": counts["segments"] * sender.price_per_segment},
            )
            total += counts
        return total, position

    def _send_one(
        self,
        campaign: CampaignRecord,
        planned: Planned,
        context: dict[str, str],
        pacer: Pacer,
        still_allowed: Callable[[], bool],
        origination: str,
    ) -> str:
        """`queued`, `rejected`, `in_doubt` or `suppressed` (stopped during the pass): what
        became of one send. Suppressions are looked at again right before each attempt."""
        for backoff in (*THROTTLE_BACKOFF_SECONDS, None):
            pacer.wait()
            if not still_allowed():
                return "suppressed"
            try:
                self.carrier.send(
                    destination=planned.e164,
                    body=planned.text,
                    origination=origination,
                    message_type=MESSAGE_TYPE[campaign.kind],
                    context=context,
                )
            except (Throttled, NotSent):
                # Nothing was sent: wait and try the same recipient again.
                if backoff is None:
                    return "rejected"
                time.sleep(backoff)
            except OutcomeUnknown:
                # Maybe sent: never tried again; the carrier's events will tell.
                logger.warning("send outcome unknown", extra={"campaign": campaign.campaign_id})
                return "in_doubt"
            except (RuleViolation, DependencyError) as exc:
                logger.warning("carrier refused a send", extra={"reason": str(exc)})
                return "rejected"
            else:
                return "queued"
        return "rejected"

    def _park(
        self,
        campaign: CampaignRecord,
        ref: ChunkRef,
        waiting: dict[datetime, list[int]],
        *,
        counted_before: bool = False,
        paused: bool = False,
    ) -> None:
        """Parks waiting recipients until their window opens (or, `paused`, until a resume).

        `counted_before` when they are counted as deferred already. What is parked is released
        here at once when its release may have come and gone while it was being parked: a
        window that opened meanwhile (the clock is read after the park is written), or a
        resume.
        """
        for release_at, indexes in waiting.items():
            if not indexes:
                continue
            # False when an earlier attempt at this pass parked them: they are handled below
            # all the same, since that attempt may have died before their release was arranged.
            self.campaigns.park(
                campaign.campaign_id,
                release_at,
                {
                    "upload": ref.upload,
                    "chunk": ref.chunk,
                    "pass_no": ref.pass_no + 1,
                    "tag": str(int(release_at.timestamp())),
                    "indexes": indexes,
                },
                counts={"deferred": 0 if counted_before else len(indexes)},
                parked_by=(ref.key, self.worker_id),
            )
            self._arrange_release(campaign, release_at, paused=paused)

    def _arrange_release(
        self, campaign: CampaignRecord, release_at: datetime, *, paused: bool = False
    ) -> None:
        """Schedules the release of what is parked until `release_at`, or releases it now."""
        if self._due(campaign, release_at, paused=paused):
            release_parked(
                self.campaigns, self.send_queue, campaign.campaign_id, campaign.team, release_at
            )
            return
        key = (campaign.campaign_id, release_at)
        if not paused and key not in self._scheduled:
            self.releases.release(campaign.campaign_id, campaign.team, release_at)
            self._scheduled.add(key)

    def _rearrange_releases(self, campaign: CampaignRecord, ref: ChunkRef) -> None:
        """Arranges again the releases of what an earlier attempt at this pass parked: it may
        have died between the parking and the release's schedule."""
        for release_at in self.campaigns.parked_by_pass(
            campaign.campaign_id, ref.upload, ref.chunk, ref.pass_no + 1
        ):
            self._arrange_release(campaign, release_at)

    def _due(self, campaign: CampaignRecord, release_at: datetime, *, paused: bool) -> bool:
        if not paused:
            return release_at <= datetime.now(UTC)
        current = self.campaigns.get_campaign(campaign.campaign_id)
        return current is not None and current.status != CampaignStatus.PAUSED

    def _all_settled(self, campaign: CampaignRecord) -> bool:
        totals = self.campaigns.get_counts(campaign.campaign_id)
        settled = sum(totals.get(status, 0) for status in SETTLED)
        return settled >= campaign.recipient_count and totals.get("deferred", 0) <= 0
