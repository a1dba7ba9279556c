"""Fan-out: a launched campaign becomes send-queue references to its chunks, released in turn."""

from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.queues import WorkQueue
from cloison.adapters.tables import CampaignStore, MessageStore
from cloison.models.api import CampaignStatus
from cloison.models.events import ChunkRef, LaunchRequest
from cloison.models.records import MessageStatus
from cloison.observability import logger
from cloison.services.delivery import STATUS_RANK

STARTABLE = (CampaignStatus.LAUNCHING, CampaignStatus.SCHEDULED, CampaignStatus.SENDING)


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

        Messages with a record (a "sent" event came) move to `expired`; messages that never got
        any event have no record, and are counted as expired from the counters' difference.
        """
        now = datetime.now(UTC)
        moved = 0
        for message in self.messages.unfinished(request.campaign_id):
            former = self.messages.advance(
                request.campaign_id,
                message.team,
                message.number_key,
                message.carrier_message_id or "",
                MessageStatus.EXPIRED,
                STATUS_RANK[MessageStatus.EXPIRED],
                now,
            )
            moved += former is not None
        counts = self.store.get_counts(request.campaign_id)
        final = sum(counts.get(status, 0) for status in ("delivered", "failed", "expired"))
        silent = int(counts.get("queued", 0) + counts.get("in_doubt", 0) - final - moved)
        # In-doubt recipients that were never sent are settled here too: no event, no message.
        self.store.add_counts(request.campaign_id, {"expired": moved + max(0, silent)})
        logger.info(
            "messages expired",
            extra={"campaign": request.campaign_id, "count": moved + max(0, silent)},
        )
        return 0

    def _release(self, request: LaunchRequest) -> int:
        """Re-enqueues the passes parked until `release_at` (all of them when it is None)."""
        parked = self.store.parked_until(request.campaign_id, request.release_at)
        refs = [
            ChunkRef(
                campaign_id=request.campaign_id,
                team=request.team,
                upload=str(item["upload"]),
                chunk=int(item["chunk"]),
                pass_no=int(item["pass_no"]),
                tag=str(item.get("tag", "")),
                indexes=[int(index) for index in item["indexes"]],
            )
            for item in parked
        ]
        self.send_queue.send(refs)
        # Removed only once enqueued: a crash in between enqueues them twice, which the leases absorb.
        self.store.unpark(request.campaign_id, [str(item["sk"]) for item in parked])
        logger.info(
            "parked chunks released", extra={"campaign": request.campaign_id, "chunks": len(refs)}
        )
        return len(refs)
