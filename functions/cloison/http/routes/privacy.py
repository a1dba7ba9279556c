"""Data-subject requests and their receipts."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from cloison.errors import (
    RuleViolation,
)
from cloison.http import wiring
from cloison.http.answers import answers
from cloison.http.resolver import caller
from cloison.models.api.privacy import PrivacyReceipt, PrivacyRequestIn

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


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
        body=wiring.subjects().submit(caller(), request),
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
    return wiring.subjects().receipt(caller(), request_id)
