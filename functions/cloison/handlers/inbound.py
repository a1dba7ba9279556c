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
from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.adapters.vault import ReplyVault
from cloison.compliance.signup import allowed_regions
from cloison.config import InboundSettings
from cloison.models.events import inbound_from_queue
from cloison.observability import logger, metrics, tracer
from cloison.services.inbound import ReplyReceiver
from cloison.services.signup import SignupRequests, request_limits
from cloison.services.signup_confirmation import SignupConfirmations

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def receiver() -> ReplyReceiver:
    config = InboundSettings.from_environ()
    sealer = EnvelopeSealer.from_settings(config)
    consents = ConsentStore.from_settings(config)
    hasher = PepperedHasher.from_settings(config)
    suppressions = SuppressionStore.from_settings(config, sealer)
    carrier = SmsCarrier.from_settings(config)
    campaigns = CampaignStore.from_settings(config)
    pending = PendingSignups.from_settings(config)
    return ReplyReceiver(
        hasher=hasher,
        suppressions=suppressions,
        messages=MessageStore.from_settings(config),
        index=ReplyIndex.from_settings(config),
        vault=ReplyVault.from_settings(config, sealer),
        carrier=carrier,
        consents=consents,
        campaigns=campaigns,
        allowance=ReplyAllowance.from_settings(config),
        answer_from=config.origination_identity,
        signups=SignupConfirmations(pending, consents),
        # A team's keyword texted to its number asks for the same sign-up as its page.
        signup_requests=SignupRequests(
            hasher=hasher,
            notices=campaigns,
            consents=consents,
            suppressions=suppressions,
            pending=pending,
            limits=SignupLimits.from_settings(config),
            carrier=carrier,
            origination=config.origination_identity,
            confirmation_hours=config.signup_confirmation_hours,
            regions=allowed_regions(config.signup_regions),
            request_limits=request_limits(config),
        ),
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
