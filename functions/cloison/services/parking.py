"""Parked chunk passes: recipients waiting for their sending window, or for a resume."""

from datetime import datetime

from cloison.adapters.queues import WorkQueue
from cloison.adapters.tables import CampaignStore
from cloison.models.events import ChunkRef
from cloison.observability import logger


def release_parked(
    store: CampaignStore, send_queue: WorkQueue, campaign_id: str, team: str, until: datetime | None
) -> int:
    """Re-enqueues the campaign's passes parked until `until` (all of them when None)."""
    parked = store.parked_until(campaign_id, until)
    refs = [
        ChunkRef(
            campaign_id=campaign_id,
            team=team,
            upload=str(item["upload"]),
            chunk=int(item["chunk"]),
            pass_no=int(item["pass_no"]),
            tag=str(item.get("tag", "")),
            indexes=[int(index) for index in item["indexes"]],
        )
        for item in parked
    ]
    send_queue.send(refs)
    # Removed only once enqueued: a crash in between enqueues them twice, which the leases absorb.
    store.unpark(campaign_id, [str(item["sk"]) for item in parked])
    logger.info("parked chunks released", extra={"campaign": campaign_id, "chunks": len(refs)})
    return len(refs)
