"""Entry point of AnchorAuditFunction: the audit chain's head, anchored in the locked bucket on
a schedule, so that the chain can never again be shorter than it nor differ at its entry."""

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloison.adapters.audit import AuditStore
from cloison.adapters.audit_archive import AuditArchive, KmsMac
from cloison.config import AnchorSettings
from cloison.observability import logger, metrics, tracer
from cloison.services.audit import Auditor


@lru_cache(maxsize=1)
def auditor() -> Auditor:
    config = AnchorSettings.from_environ()
    return Auditor(
        log=AuditStore.from_settings(config),
        copies=AuditArchive.from_settings(config),
        signer=KmsMac.from_settings(config),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The schedule's event carries nothing the run needs: it anchors the head as it is now."""
    anchor = auditor().anchor(datetime.now(UTC))
    if anchor is None:
        return {"anchored": None}
    return {"anchored": anchor.sequence}
