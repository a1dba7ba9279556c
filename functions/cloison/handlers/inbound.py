"""Entry point of InboundFunction: two-way SMS replies, through SNS and SQS."""

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

from cloison.adapters.allowance import ReplyAllowance
from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.identity import PepperedHasher
from cloison.adapters.tables import (
    CampaignStore,
    ConsentStore,
    MessageStore,
    ReplyIndex,
    SuppressionStore,
)
from cloison.adapters.vault import ReplyVault
from cloison.config import InboundSettings
from cloison.models.events import inbound_from_queue
from cloison.observability import logger, metrics, tracer
from cloison.services.inbound import ReplyReceiver

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def receiver() -> ReplyReceiver:
    config = InboundSettings.from_environ()
    return ReplyReceiver(
        hasher=PepperedHasher(config.pepper_secret_arn),
        suppressions=SuppressionStore(
            config.suppressions_table, EnvelopeSealer(config.data_key_arn)
        ),
        messages=MessageStore(config.messages_table, config.message_retention_days),
        index=ReplyIndex(config.replies_table, config.reply_retention_days),
        vault=ReplyVault(config.reply_bucket, EnvelopeSealer(config.data_key_arn)),
        carrier=SmsCarrier(config.configuration_set, config.opt_out_list),
        consents=ConsentStore(config.contacts_table, config.prospect_retention_days),
        campaigns=CampaignStore(config.campaigns_table),
        allowance=ReplyAllowance(config.replies_table, config.replies_per_number_per_hour),
        answer_from=config.origination_identity,
    )


def receive(record: SQSRecord) -> None:
    attempt = int(record.attributes.approximate_receive_count or 1)
    sms = inbound_from_queue(record.body)
    stored = receiver().receive(sms, attempt)
    if stored is None:
        metrics.add_metric(name="RepliesBeyondAllowance", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="RepliesReceived", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    receiver()
    return process_partial_response(
        event=event, record_handler=receive, processor=processor, context=context
    )
