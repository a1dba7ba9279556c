"""Entry point of SendWorkerFunction: one audience chunk per send-queue message."""

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.queues import WorkQueue
from cloison.adapters.schedules import LaunchSchedules
from cloison.adapters.tables import CampaignStore, ConsentStore, FrequencyCaps, SuppressionStore
from cloison.config import SendSettings
from cloison.models.events import ChunkRef, parse_payload
from cloison.observability import logger, metrics, tracer
from cloison.services.send_worker import ChunkSender

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def chunk_sender(worker_id: str) -> ChunkSender:
    config = SendSettings.from_environ()
    sealer = EnvelopeSealer.from_settings(config)
    return ChunkSender(
        campaigns=CampaignStore.from_settings(config),
        suppressions=SuppressionStore.from_settings(config, sealer),
        consents=ConsentStore.from_settings(config),
        caps=FrequencyCaps.from_settings(config),
        sealer=sealer,
        carrier=SmsCarrier.from_settings(config),
        send_queue=WorkQueue(config.send_queue_url),
        releases=LaunchSchedules.from_settings(config),
        origination=config.origination_identity,
        worker_id=worker_id,
        concurrency=config.send_concurrency,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    sender = chunk_sender(context.log_stream_name)

    def send(record: SQSRecord) -> None:
        counts = sender.send(
            parse_payload(ChunkRef, record.body), context.get_remaining_time_in_millis
        )
        logger.info("chunk done", extra={"counts": counts})
        metrics.add_metric(
            name="MessagesQueued", unit=MetricUnit.Count, value=counts.get("queued", 0)
        )

    return process_partial_response(
        event=event, record_handler=send, processor=processor, context=context
    )
