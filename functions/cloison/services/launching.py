"""Fan-out: a launched campaign becomes one send-queue reference per audience chunk."""

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

    def launch(self, request: LaunchRequest) -> int:
        """Marks the campaign sending, then enqueues every chunk; returns the chunks enqueued.

        The status changes first so that no worker finds a chunk of a campaign not yet sending;
        a retry after a crash enqueues the chunks again, and the send worker's chunk claim makes
        the duplicates harmless.
        """
        campaign = self.store.get_campaign(request.campaign_id)
        if campaign is None or campaign.team != request.team:
            logger.warning(
                "launch request for an unknown campaign", extra={"campaign": request.campaign_id}
            )
            return 0
        if campaign.status not in STARTABLE:
            logger.info(
                "campaign not launchable",
                extra={"campaign": campaign.campaign_id, "status": campaign.status.value},
            )
            return 0
        if campaign.status != CampaignStatus.SENDING:
            self.store.set_status(
                campaign.campaign_id, CampaignStatus.SENDING, allowed_from=STARTABLE
            )
        refs = [
            ChunkRef(campaign_id=campaign.campaign_id, team=campaign.team, chunk=chunk)
            for chunk in range(campaign.chunk_count)
        ]
        self.send_queue.send(refs)
        logger.info(
            "campaign launched", extra={"campaign": campaign.campaign_id, "chunks": len(refs)}
        )
        return len(refs)
