"""Entry point of ReconcileOptOutsFunction: the opt-out list reconciliation, fired by a schedule."""

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloison.adapters.carrier import ProviderOptOutList
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.identity import PepperedHasher
from cloison.adapters.tables import SuppressionStore
from cloison.config import ReconcileSettings
from cloison.observability import logger, metrics, tracer
from cloison.services.reconcile_opt_outs import OptOutReconciler

MILLISECONDS = 1000


@lru_cache(maxsize=1)
def reconciler() -> OptOutReconciler:
    config = ReconcileSettings.from_environ()
    return OptOutReconciler(
        hasher=PepperedHasher.from_settings(config),
        suppressions=SuppressionStore.from_settings(config, EnvelopeSealer.from_settings(config)),
        opt_out_list=ProviderOptOutList.from_settings(config),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The schedule's event carries nothing the run needs: each run reads where it stands."""
    report = reconciler().reconcile(
        time_left=lambda: context.get_remaining_time_in_millis() / MILLISECONDS
    )
    metrics.add_metric(name="OptOutsImported", unit=MetricUnit.Count, value=report.imported)
    metrics.add_metric(name="OptOutsPushed", unit=MetricUnit.Count, value=report.pushed)
    return report.model_dump()
