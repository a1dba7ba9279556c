"""Entry point of LaunchCampaignFunction: launch requests from the API and from schedules."""

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

from cloison.adapters.queues import WorkQueue
from cloison.adapters.tables import CampaignStore, MessageStore
from cloison.config import LaunchSettings
from cloison.models.events import LaunchRequest, parse_payload
from cloison.observability import logger, metrics, tracer
from cloison.services.launch_campaign import Launcher

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def launcher() -> Launcher:
    config = LaunchSettings.from_environ()
    return Launcher(
        store=CampaignStore.from_settings(config),
        send_queue=WorkQueue(config.send_queue_url),
        messages=MessageStore.from_settings(config),
    )


def launch(record: SQSRecord) -> None:
    chunks = launcher().handle(parse_payload(LaunchRequest, record.body))
    metrics.add_metric(name="ChunksEnqueued", unit=MetricUnit.Count, value=chunks)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    launcher()
    return process_partial_response(
        event=event, record_handler=launch, processor=processor, context=context
    )
