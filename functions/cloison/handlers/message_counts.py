"""Entry point of MessageCountsFunction: message records' changes, from MessagesTable's stream."""

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloison.adapters.tables import CampaignStore
from cloison.config import CountingSettings
from cloison.models.records import MessageStatus
from cloison.observability import logger, metrics, tracer
from cloison.services.message_counts import MessageCounter, RecordChange


@lru_cache(maxsize=1)
def counter() -> MessageCounter:
    return MessageCounter(campaigns=CampaignStore.from_settings(CountingSettings.from_environ()))


def status_in(image: dict[str, Any]) -> MessageStatus | None:
    value = image.get("status")
    try:
        return MessageStatus(value) if value is not None else None
    except ValueError:
        logger.warning("message record with an unknown status", extra={"status": str(value)})
        return None


def change_of(record: DynamoDBRecord) -> RecordChange | None:
    """A record's change of status, or None for a deletion (expiry, erasure: counts stay)."""
    change = record.dynamodb
    if change is None or not change.new_image:
        return None
    campaign_id = change.new_image.get("campaign_id")
    if not campaign_id:
        return None
    return RecordChange(
        campaign_id=str(campaign_id),
        before=status_in(change.old_image),
        after=status_in(change.new_image),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def lambda_handler(event: DynamoDBStreamEvent, context: LambdaContext) -> None:
    records = list(event.records)
    if not records:
        return
    # A failed batch comes back whole (no bisecting, no partial response): its first and last
    # sequence numbers name it on every delivery.
    first, last = records[0].dynamodb, records[-1].dynamodb
    batch = f"{first.sequence_number if first else ''}-{last.sequence_number if last else ''}"
    changes = [change for record in records if (change := change_of(record)) is not None]
    added = counter().apply(batch, changes)
    metrics.add_metric(name="CampaignCountsAdded", unit=MetricUnit.Count, value=added)
