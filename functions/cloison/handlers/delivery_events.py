"""Entry point of DeliveryEventsFunction: End User Messaging delivery events, in batches."""

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

from cloison.adapters.tables import MessageStore
from cloison.config import DeliverySettings
from cloison.models.events import DeliveryEvent, parse_payload
from cloison.observability import logger, metrics, tracer
from cloison.services.delivery_events import DeliveryRecorder

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def recorder() -> DeliveryRecorder:
    config = DeliverySettings.from_environ()
    return DeliveryRecorder(messages=MessageStore.from_settings(config))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    events: list[DeliveryEvent] = []

    def collect(record: SQSRecord) -> None:
        # A malformed record fails alone; the well-formed ones are applied together below.
        events.append(parse_payload(DeliveryEvent, record.body))

    response = process_partial_response(
        event=event, record_handler=collect, processor=processor, context=context
    )
    # Idempotent: if this raises, the whole batch comes back and moves nothing twice.
    applied = recorder().record(events)
    metrics.add_metric(name="DeliveryEventsApplied", unit=MetricUnit.Count, value=applied)
    return response
