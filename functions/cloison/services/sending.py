"""The send path: consent, suppression, window and STOP rules for one chunk, then the carrier."""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import Sealer
from cloison.adapters.tables import CampaignStore, ConsentStore, MessageStore, SuppressionStore
from cloison.compliance import (
    SendWindowPolicy,
    analyze_text,
    compose_message,
    next_send_time,
    normalize_phone,
)
from cloison.compliance.errors import ComplianceError
from cloison.compliance.phone import mask_phone
from cloison.errors import DependencyError, RuleViolation, Throttled
from cloison.models.api import CampaignKind, CampaignStatus
from cloison.models.events import ChunkRef
from cloison.models.records import (
    AudienceMember,
    CampaignRecord,
    MessageRecord,
    MessageStatus,
    SenderRecord,
)
from cloison.observability import logger
from cloison.services.campaigns import open_chunk
from cloison.services.delivery import STATUS_RANK
from cloison.services.windows import window_policy

FINISHED = frozenset({CampaignStatus.CANCELLED, CampaignStatus.COMPLETED})
THROTTLE_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0)
MESSAGE_TYPE = {CampaignKind.MARKETING: "PROMOTIONAL", CampaignKind.TRANSACTIONAL: "TRANSACTIONAL"}


class CampaignNotSending(Exception):
    """The chunk's campaign is paused or not started yet: retry the chunk later."""


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
class ChunkSender:
    campaigns: CampaignStore
    messages: MessageStore
    suppressions: SuppressionStore
    consents: ConsentStore
    sealer: Sealer
    carrier: SmsCarrier
    origination: str
    worker_id: str
    concurrency: int = 2

    def send(self, ref: ChunkRef) -> dict[str, int]:
        """Sends one chunk at most once; returns the count of each outcome."""
        campaign = self.campaigns.get_campaign(ref.campaign_id)
        if campaign is None or campaign.team != ref.team:
            logger.warning("chunk of an unknown campaign", extra={"campaign": ref.campaign_id})
            return {}
        if campaign.status in FINISHED:
            logger.info(
                "campaign finished; chunk dropped",
                extra={"campaign": campaign.campaign_id, "status": campaign.status.value},
            )
            return {}
        if campaign.status != CampaignStatus.SENDING:
            # Paused or not yet started: the message comes back after its visibility timeout.
            raise CampaignNotSending(f"campaign {campaign.campaign_id} is {campaign.status.value}")
        sender = self.campaigns.get_sender(campaign.team, campaign.sender)
        sealed = self.campaigns.get_chunk(campaign.campaign_id, ref.chunk)
        if sender is None or sealed is None:
            raise LookupError(
                f"campaign {campaign.campaign_id} lacks its sender profile or chunk {ref.chunk}"
            )
        now = datetime.now(UTC)
        # The claim makes the chunk at-most-once: a redelivered message finds it taken.
        if not self.campaigns.claim_chunk(campaign.campaign_id, ref.chunk, self.worker_id, now):
            logger.info(
                "chunk already claimed",
                extra={"campaign": campaign.campaign_id, "chunk": ref.chunk},
            )
            return {}
        members = open_chunk(self.sealer, sealed, campaign.team, campaign.campaign_id)
        keys = [member.number_key for member in members]
        suppressed = self.suppressions.suppressed(keys, campaign.team)
        consented = (
            self.consents.consented(keys, campaign.team)
            if campaign.kind == CampaignKind.MARKETING
            else set(keys)
        )
        records, counts, segments = self._send_members(
            campaign, sender, ref.chunk, members, suppressed, consented
        )
        self.messages.put_many(records)
        counts["chunks_done"] = 1
        totals = self.campaigns.add_counts(
            campaign.campaign_id,
            counts,
            segments=segments,
            cost=segments * sender.price_per_segment,
        )
        # Deferred recipients still wait for their window: the campaign is not over for them.
        if totals.get("chunks_done", 0) >= campaign.chunk_count and not totals.get("deferred", 0):
            self.campaigns.set_status(
                campaign.campaign_id,
                CampaignStatus.COMPLETED,
                allowed_from=(CampaignStatus.SENDING,),
            )
        return counts

    def _send_members(
        self,
        campaign: CampaignRecord,
        sender: SenderRecord,
        chunk: int,
        members: list[AudienceMember],
        suppressed: set[str],
        consented: set[str],
    ) -> tuple[list[MessageRecord], dict[str, int], int]:
        pacer = Pacer(per_second=max(0.1, sender.mps / max(1, self.concurrency)))
        policy = window_policy(sender.window)
        records: list[MessageRecord] = []
        counts: dict[str, int] = {}
        segments_total = 0
        for member in members:
            now = datetime.now(UTC)
            status, carrier_id, segments, release_at = self._one(
                campaign, sender, member, suppressed, consented, policy, now, pacer
            )
            counts[status.value] = counts.get(status.value, 0) + 1
            segments_total += segments
            records.append(
                MessageRecord(
                    campaign_id=campaign.campaign_id,
                    team=campaign.team,
                    number_key=member.number_key,
                    masked_number=mask_phone(member.e164),
                    status=status,
                    status_rank=STATUS_RANK[status],
                    chunk=chunk,
                    segments=segments,
                    carrier_message_id=carrier_id,
                    sent_at=now if carrier_id else None,
                    release_at=release_at,
                    updated_at=now,
                )
            )
        return records, counts, segments_total

    def _one(
        self,
        campaign: CampaignRecord,
        sender: SenderRecord,
        member: AudienceMember,
        suppressed: set[str],
        consented: set[str],
        policy: SendWindowPolicy,
        now: datetime,
        pacer: Pacer,
    ) -> tuple[MessageStatus, str | None, int, datetime | None]:
        if member.number_key in suppressed:
            return MessageStatus.SUPPRESSED, None, 0, None
        if member.number_key not in consented:
            return MessageStatus.NO_CONSENT, None, 0, None
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
            return MessageStatus.INVALID, None, 0, None
        if opening > now:
            return MessageStatus.DEFERRED, None, 0, opening
        segments = analyze_text(text).segments
        context = {
            "campaign": campaign.campaign_id,
            "team": campaign.team,
            "recipient": member.number_key,
        }
        for backoff in (*THROTTLE_BACKOFF_SECONDS, None):
            pacer.wait()
            try:
                message_id = self.carrier.send(
                    destination=phone.e164,
                    body=text,
                    origination=self.origination,
                    message_type=MESSAGE_TYPE[campaign.kind],
                    context=context,
                )
            except Throttled:
                # A throttled call sent nothing: wait and try the same recipient again.
                if backoff is None:
                    break
                time.sleep(backoff)
            except (RuleViolation, DependencyError) as exc:
                logger.warning("carrier refused a send", extra={"reason": str(exc)})
                break
            else:
                return MessageStatus.QUEUED, message_id, segments, None
        return MessageStatus.FAILED, None, 0, None
