"""Data-subject requests and their receipts."""

from functools import lru_cache

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from cloison.adapters.queues import DeadLetters
from cloison.adapters.tables import MessageStore, PrivacyReceipts
from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.errors import (
    RuleViolation,
)
from cloison.http import wiring
from cloison.http.answers import answers
from cloison.http.resolver import caller
from cloison.models.api.privacy import PrivacyReceipt, PrivacyRequestIn
from cloison.services.subjects import SubjectRights

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@lru_cache(maxsize=1)
def service() -> SubjectRights:
    """The data subjects' rights, built at the first call of these routes."""
    config = wiring.settings()
    return SubjectRights(
        hasher=wiring.hasher(),
        consents=wiring.consent_store(),
        suppressions=wiring.suppression_store(),
        caps=wiring.frequency_caps(),
        messages=MessageStore.from_settings(config),
        replies=wiring.reply_index(),
        vault=wiring.vault(),
        campaigns=wiring.campaign_store(),
        sealer=wiring.sealer(),
        opt_out_list=wiring.carrier(),
        receipts=PrivacyReceipts.from_settings(config),
        auditor=wiring.auditor(),
        dead_letters=DeadLetters([config.inbound_dlq_url, config.delivery_dlq_url]),
        signups=PendingSignups.from_settings(config),
        signup_limits=SignupLimits.from_settings(config),
    )


@router.post(
    "/privacy/requests",
    summary="Answer a data-subject request about a phone number",
    description=(
        "Privacy officers. `access` answers at once with everything held about the number, "
        "replies decrypted (the export is not kept); `rectification` corrects the number's "
        "attributes (`changes`) in every audience that holds it; `erasure` deletes everything "
        "but the opt-out, kept as the number's keyed hash. The number travels in the body, "
        "never in the URL. Each request is audited under its id, and its receipt (without the "
        "number) is kept at /privacy/requests/{id}."
    ),
    responses=answers(
        201,
        PrivacyReceipt,
        "The receipt.",
        {
            403: "Requires the privacy_officer role.",
            422: "The body is invalid, or the URL carries a query.",
        },
        body=True,
    ),
)
def submit_privacy_request(request: PrivacyRequestIn) -> Response[PrivacyReceipt]:
    if router.current_event.query_string_parameters:
        # Access logs keep URLs: a number put there by mistake is refused, not used.
        raise RuleViolation("query", "takes no query parameters: the number goes in the body")
    return Response(
        status_code=201,
        content_type="application/json",
        body=service().submit(caller(), request),
    )


@router.get(
    "/privacy/requests/<request_id>",
    summary="Read the receipt of a data-subject request",
    responses=answers(
        200,
        PrivacyReceipt,
        "The receipt.",
        {403: "Requires the privacy_officer role.", 404: "No such request."},
    ),
)
def get_privacy_request(request_id: str) -> PrivacyReceipt:
    return service().receipt(caller(), request_id)
