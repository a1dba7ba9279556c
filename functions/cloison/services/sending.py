"""The send path: consent, suppression, window and STOP rules for one chunk pass, then the carrier.

At most once per (campaign, recipient), at a few AWS calls per hundred recipients: a pass is
leased as a whole, its progress is checkpointed once per slice of recipients (the slice about to
be sent is written down first), and the recipients of a slice whose worker died are in doubt:
they are settled from the carrier's delivery events, never sent again. Recipients outside their
sending window are parked until it opens, and released by an EventBridge schedule.
"""

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import Sealer
from cloison.adapters.queues import WorkQueue
from cloison.adapters.schedules import LaunchSchedules
from cloison.adapters.tables import CampaignStore, ConsentStore, SuppressionStore
from cloison.compliance import (
    SendWindowPolicy,
    analyze_text,
    compose_message,
    next_send_time,
    normalize_phone,
)
from cloison.compliance.errors import ComplianceError
from cloison.errors import DependencyError, RuleViolation, Throttled
from cloison.models.api import CampaignKind, CampaignStatus
from cloison.models.events import ChunkRef
from cloison.models.records import AudienceMember, CampaignRecord, MessageStatus, SenderRecord
from cloison.observability import logger
from cloison.services.audience import open_chunk
from cloison.services.windows import window_policy

FINISHED = frozenset({CampaignStatus.CANCELLED, CampaignStatus.COMPLETED})
THROTTLE_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0)
MESSAGE_TYPE = {CampaignKind.MARKETING: "PROMOTIONAL", CampaignKind.TRANSACTIONAL: "TRANSACTIONAL"}
SLICE_SIZE = 100
# A lease outlives the longest invocation, so a live worker is never taken over.
LEASE = timedelta(minutes=16)
# Stop taking new slices when less than this is left of the invocation.
SAFETY_MILLIS = 20_000
# Statuses that settle a recipient for good on the send side (delivery events come on top).
SETTLED = ("queued", "rejected", "suppressed", "no_consent", "invalid", "in_doubt")


class CampaignNotSending(Exception):
    """The chunk's campaign has not started yet: retry the chunk later."""


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


@dataclass(frozen=True)
class Planned:
    """What the rules decided for one recipient of a pass."""

    index: int
    status: MessageStatus
    number_key: str = ""
    text: str = ""
    e164: str = ""
    release_at: datetime | None = None


@dataclass
class ChunkSender:
    campaigns: CampaignStore
    suppressions: SuppressionStore
    consents: ConsentStore
    sealer: Sealer
    carrier: SmsCarrier
    send_queue: WorkQueue
    releases: LaunchSchedules
    origination: str
    worker_id: str
    concurrency: int = 2
    _scheduled: set[tuple[str, datetime]] = field(default_factory=set)

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
        progress = self.campaigns.lease(
            campaign.campaign_id, ref.key, self.worker_id, now, now + LEASE
        )
        if progress is None:
            logger.info(
                "pass done or held by a live worker",
                extra={"campaign": ref.campaign_id, "pass": ref.key},
            )
            return {}
        sender = self.campaigns.get_sender(campaign.team, campaign.sender)
        sealed = self.campaigns.get_chunk(campaign.campaign_id, ref.upload, ref.chunk)
        if sender is None or sealed is None:
            raise LookupError(
                f"campaign {campaign.campaign_id} lacks its sender profile or a chunk"
            )
        members = open_chunk(self.sealer, sealed, campaign.team, campaign.campaign_id)
        positions = [
            index for index in (ref.indexes or range(len(members))) if index < len(members)
        ]
        counts: Counter[str] = Counter()
        start = progress.next_index
        if progress.in_flight:
            # A worker died while sending this slice: those recipients may have been sent.
            counts["in_doubt"] += len(progress.in_flight)
            start += len(progress.in_flight)
            logger.warning(
                "recipients in doubt after a crash", extra={"count": len(progress.in_flight)}
            )
        todo = positions[start:]
        if ref.pass_no:
            counts["deferred"] -= len(todo) + len(progress.in_flight)
        if campaign.status == CampaignStatus.PAUSED:
            # Parked whole; a resume releases it. Nothing is sent while the campaign is paused.
            self._park(campaign, ref, {now: todo}, counts)
            self.campaigns.checkpoint(
                campaign.campaign_id, ref.key, self.worker_id, next_index=len(positions), done=True
            )
            return self._count(campaign, counts, 0, sender)
        plan = self._plan(campaign, sender, [members[index] for index in todo], todo, now)
        waiting: dict[datetime, list[int]] = defaultdict(list)
        for planned in plan:
            if planned.release_at is not None:
                waiting[planned.release_at].append(planned.index)
        # Parked before anything is sent, so a crash never loses a waiting recipient.
        self._park(campaign, ref, waiting, counts)
        segments, next_index = self._send_slices(
            campaign, sender, ref, plan, start, counts, remaining_millis
        )
        finished = next_index >= len(positions)
        self.campaigns.checkpoint(
            campaign.campaign_id,
            ref.key,
            self.worker_id,
            next_index=next_index,
            done=finished,
            release=not finished,
        )
        if not finished:
            # Out of time: the rest of the pass goes back on the queue, from the checkpoint.
            self.send_queue.send([ref])
        return self._count(campaign, counts, segments, sender)

    def _plan(
        self,
        campaign: CampaignRecord,
        sender: SenderRecord,
        members: Sequence[AudienceMember],
        indexes: Sequence[int],
        now: datetime,
    ) -> list[Planned]:
        keys = [member.number_key for member in members]
        suppressed = self.suppressions.suppressed(keys, campaign.team)
        consented = (
            self.consents.consented(keys, campaign.team)
            if campaign.kind == CampaignKind.MARKETING
            else set(keys)
        )
        policy = window_policy(sender.window)
        return [
            _decide(campaign, sender, member, index, suppressed, consented, policy, now)
            for member, index in zip(members, indexes, strict=True)
        ]

    def _send_slices(
        self,
        campaign: CampaignRecord,
        sender: SenderRecord,
        ref: ChunkRef,
        plan: Sequence[Planned],
        start: int,
        counts: Counter[str],
        remaining_millis: Callable[[], int],
    ) -> tuple[int, int]:
        pacer = Pacer(per_second=max(0.1, sender.mps / max(1, self.concurrency)))
        segments = 0
        position = start
        context = {"campaign": campaign.campaign_id, "team": campaign.team}
        for first in range(0, len(plan), SLICE_SIZE):
            if remaining_millis() < SAFETY_MILLIS:
                break
            piece = plan[first : first + SLICE_SIZE]
            sendable = [planned for planned in piece if planned.status == MessageStatus.QUEUED]
            if sendable:
                self.campaigns.checkpoint(
                    campaign.campaign_id,
                    ref.key,
                    self.worker_id,
                    next_index=position,
                    in_flight=[planned.index for planned in sendable],
                )
            for planned in piece:
                if planned.status == MessageStatus.QUEUED:
                    recipient = context | {"recipient": planned.number_key}
                    sent = self._send_one(campaign, planned, recipient, pacer)
                    counts["queued" if sent else "rejected"] += 1
                    segments += analyze_text(planned.text).segments if sent else 0
                elif planned.status != MessageStatus.DEFERRED:
                    counts[planned.status.value] += 1
            position += len(piece)
            if sendable and first + SLICE_SIZE < len(plan):
                self.campaigns.checkpoint(
                    campaign.campaign_id, ref.key, self.worker_id, next_index=position
                )
        return segments, position

    def _send_one(
        self, campaign: CampaignRecord, planned: Planned, context: dict[str, str], pacer: Pacer
    ) -> bool:
        for backoff in (*THROTTLE_BACKOFF_SECONDS, None):
            pacer.wait()
            try:
                self.carrier.send(
                    destination=planned.e164,
                    body=planned.text,
                    origination=self.origination,
                    message_type=MESSAGE_TYPE[campaign.kind],
                    context=context,
                )
            except Throttled:
                # A throttled call sent nothing: wait and try the same recipient again.
                if backoff is None:
                    return False
                time.sleep(backoff)
            except (RuleViolation, DependencyError) as exc:
                logger.warning("carrier refused a send", extra={"reason": str(exc)})
                return False
            else:
                return True
        return False

    def _park(
        self,
        campaign: CampaignRecord,
        ref: ChunkRef,
        waiting: dict[datetime, list[int]],
        counts: Counter[str],
    ) -> None:
        for release_at, indexes in waiting.items():
            if not indexes:
                continue
            tag = str(int(release_at.timestamp()))
            self.campaigns.park(
                campaign.campaign_id,
                release_at,
                {
                    "upload": ref.upload,
                    "chunk": ref.chunk,
                    "pass_no": ref.pass_no + 1,
                    "tag": tag,
                    "indexes": indexes,
                },
            )
            counts["deferred"] += len(indexes)
            if (
                release_at > datetime.now(UTC)
                and (campaign.campaign_id, release_at) not in self._scheduled
            ):
                self.releases.release(campaign.campaign_id, campaign.team, release_at)
                self._scheduled.add((campaign.campaign_id, release_at))

    def _count(
        self, campaign: CampaignRecord, counts: Counter[str], segments: int, sender: SenderRecord
    ) -> dict[str, int]:
        totals = self.campaigns.add_counts(
            campaign.campaign_id,
            dict(counts),
            segments=segments,
            cost=segments * sender.price_per_segment,
        )
        settled = sum(totals.get(status, 0) for status in SETTLED)
        if settled >= campaign.recipient_count and totals.get("deferred", 0) <= 0:
            self.campaigns.set_status(
                campaign.campaign_id,
                CampaignStatus.COMPLETED,
                allowed_from=(CampaignStatus.SENDING,),
            )
        return dict(counts)


def _decide(
    campaign: CampaignRecord,
    sender: SenderRecord,
    member: AudienceMember,
    index: int,
    suppressed: set[str],
    consented: set[str],
    policy: SendWindowPolicy,
    now: datetime,
) -> Planned:
    if member.number_key in suppressed:
        return Planned(index, MessageStatus.SUPPRESSED)
    if member.number_key not in consented:
        return Planned(index, MessageStatus.NO_CONSENT)
    try:
        phone = normalize_phone(member.e164)
        text = compose_message(
            campaign.body,
            kind=campaign.kind.value,
            sender=sender.sender_id,
            stop_mention=sender.stop_mention,
            variables=member.variables,
        )
        opening = next_send_time(now, phone, policy=policy, departement=member.departement)
    except ComplianceError as exc:
        logger.warning("recipient invalid at send time", extra={"field": exc.field})
        return Planned(index, MessageStatus.INVALID)
    if opening > now:
        return Planned(index, MessageStatus.DEFERRED, release_at=opening)
    return Planned(index, MessageStatus.QUEUED, member.number_key, text=text, e164=phone.e164)
