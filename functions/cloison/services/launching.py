"""Fan-out: a launched campaign becomes send-queue references to its chunks, released in turn."""

from dataclasses import dataclass

from cloison.adapters.queues import WorkQueue
from cloison.adapters.tables import CampaignStore
from cloison.models.api import CampaignStatus
from cloison.models.events import ChunkRef, LaunchRequest
from cloison.observability import logger

STARTABLE = (CampaignStatus.LAUNCHING, CampaignStatus.SCHEDULED, CampaignStatus.SENDING)


@dataclass
class Launcher:
    store: CampaignStore
    send_queue: WorkQueue

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
