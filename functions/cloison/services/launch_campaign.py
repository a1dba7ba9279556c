"""Fan-out: a launched campaign becomes send-queue references to its chunks, released in turn.

A recurring campaign sends nothing itself: each firing of its schedule creates an occurrence,
a campaign of its own that reads the recurring campaign's sealed audience, and launches it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cloison.adapters.queues import WorkQueue
from cloison.adapters.tables import CampaignStore, MessageStore
from cloison.models.events import ChunkRef, LaunchRequest
from cloison.models.kinds import CampaignStatus
from cloison.models.records import CampaignRecord, MessageStatus
from cloison.observability import logger
from cloison.services.delivery_events import STATUS_RANK
from cloison.services.parking import release_parked

STARTABLE = (CampaignStatus.LAUNCHING, CampaignStatus.SCHEDULED, CampaignStatus.SENDING)


def occurrence_id(campaign_id: str, scheduled_at: datetime) -> str:
    """The id of the occurrence a firing creates: the same for every delivery of that firing."""
    return f"{campaign_id}-{scheduled_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def occurrence_of(
    recurring: CampaignRecord, scheduled_at: datetime, now: datetime
) -> CampaignRecord:
    """A firing's campaign: the recurring campaign's content, its audience by reference."""
    local = scheduled_at.astimezone(ZoneInfo(recurring.schedule_timezone or "UTC"))
    return CampaignRecord(
        campaign_id=occurrence_id(recurring.campaign_id, scheduled_at),
        team=recurring.team,
        name=f"{recurring.name} ({local:%Y-%m-%d %H:%M})",
        sender=recurring.sender,
        kind=recurring.kind,
        body=recurring.body,
        status=CampaignStatus.LAUNCHING,
        created_at=now,
        created_by=recurring.created_by,
        chunk_count=recurring.chunk_count,
        recipient_count=recurring.recipient_count,
        uploads=[
            upload.model_copy(update={"audience_of": upload.audience_of or recurring.campaign_id})
            for upload in recurring.uploads
        ],
        launch_at=scheduled_at.astimezone(UTC),
        occurrence_of=recurring.campaign_id,
    )


@dataclass
class Launcher:
    store: CampaignStore
    send_queue: WorkQueue
    messages: MessageStore

    def handle(self, request: LaunchRequest) -> int:
        """Launches a campaign or releases its parked chunks; returns the chunk passes enqueued."""
        campaign = self.store.get_campaign(request.campaign_id)
        if campaign is None or campaign.team != request.team:
            logger.warning(
                "launch request for an unknown campaign", extra={"campaign": request.campaign_id}
            )
            return 0
        if request.action == "release":
            return self._release(request)
        if request.action == "expire":
            return self._expire(request)
        if request.action == "occurrence":
            return self._occurrence(campaign, request)
        if campaign.schedule is not None:
            # Its firings carry their time; a bare launch request would send the audience
            # outside any occurrence, with nothing to tell one delivery from the next.
            logger.warning(
                "launch request for a recurring campaign ignored",
                extra={"campaign": campaign.campaign_id},
            )
            return 0
        return self._start(campaign)

    def _occurrence(self, recurring: CampaignRecord, request: LaunchRequest) -> int:
        """Creates the firing's occurrence once, then launches it as any campaign is launched.

        A firing while the recurring campaign is paused (or no longer scheduled) sends nothing.
        A redelivered firing finds its occurrence and launches it again, which the passes'
        leases make harmless: a crash between creating and launching loses no occurrence.
        """
        scheduled_at = request.scheduled_at
        if scheduled_at is None:
            raise ValueError("an occurrence request without its scheduled time")
        fresh = occurrence_of(recurring, scheduled_at, datetime.now(UTC))
        log = {"campaign": recurring.campaign_id, "occurrence": fresh.campaign_id}
        occurrence = self.store.get_campaign(fresh.campaign_id)
        if occurrence is None:
            if recurring.schedule is None or recurring.status != CampaignStatus.SCHEDULED:
                logger.info("firing skipped", extra=log | {"status": recurring.status.value})
                return 0
            if self.store.add_occurrence(fresh):
                logger.info("occurrence created", extra=log)
                return self._start(fresh)
            occurrence = self.store.get_campaign(fresh.campaign_id)
            if occurrence is None:
                # Paused or cancelled between the read and the write.
                logger.info("firing skipped", extra=log)
                return 0
        logger.info("firing delivered again: its occurrence exists", extra=log)
        return self._start(occurrence)

    def _start(self, campaign: CampaignRecord) -> int:
        """Moves the campaign to sending and enqueues a first pass over each of its chunks."""
        if campaign.status not in STARTABLE:
            logger.info(
                "campaign not launchable",
                extra={"campaign": campaign.campaign_id, "status": campaign.status.value},
            )
            return 0
        # The status changes first, so that no worker finds a chunk of a campaign not yet
        # sending; a retry enqueues the chunks again, and each pass's lease makes that harmless.
        if campaign.status != CampaignStatus.SENDING:
            self.store.set_status(
                campaign.campaign_id, CampaignStatus.SENDING, allowed_from=STARTABLE
            )
        refs = [
            ChunkRef(
                campaign_id=campaign.campaign_id,
                team=campaign.team,
                upload=upload.upload_id,
                chunk=chunk,
            )
            for upload in campaign.uploads
            for chunk in range(upload.chunks)
        ]
        self.send_queue.send(refs)
        logger.info(
            "campaign launched", extra={"campaign": campaign.campaign_id, "chunks": len(refs)}
        )
        return len(refs)

    def _expire(self, request: LaunchRequest) -> int:
        """Ends as `expired` every message with no final event once its time to live is over.

        Messages with a record (a "sent" event came) move to `expired`, which their records'
        changes count; messages that never got any event have no record, and are counted as
        expired here, from the counters' difference read before anything moves.
        """
        unfinished = self.messages.unfinished(request.campaign_id)
        counts = self.store.get_counts(request.campaign_id)
        final = sum(counts.get(status, 0) for status in ("delivered", "failed", "expired"))
        # In-doubt recipients that were never sent are settled here too: no event, no message.
        silent = max(
            0, int(counts.get("queued", 0) + counts.get("in_doubt", 0) - final - len(unfinished))
        )
        now = datetime.now(UTC)
        for message in unfinished:
            self.messages.advance(
                request.campaign_id,
                message.team,
                message.number_key,
                message.carrier_message_id or "",
                MessageStatus.EXPIRED,
                STATUS_RANK[MessageStatus.EXPIRED],
                now,
            )
        self.store.add_counts(request.campaign_id, {"expired": silent})
        logger.info(
            "messages expired",
            extra={"campaign": request.campaign_id, "count": len(unfinished) + silent},
        )
        return 0

    def _release(self, request: LaunchRequest) -> int:
        """Re-enqueues the passes parked until `release_at` (all of them when it is None)."""
        return release_parked(
            self.store, self.send_queue, request.campaign_id, request.team, request.release_at
        )
