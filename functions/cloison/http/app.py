"""Routes of the HTTP API on the Powertools REST resolver; the OpenAPI document is generated."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query

from cloison.errors import (
    Conflict,
    ContextMismatch,
    DependencyError,
    Forbidden,
    NotFound,
    RuleViolation,
)
from cloison.http import wiring
from cloison.http.problems import field_errors, problem
from cloison.models.api import (
    AudienceIn,
    AudienceResult,
    Campaign,
    CampaignIn,
    CampaignStats,
    Consent,
    ConsentIn,
    Health,
    LaunchIn,
    Preview,
    ReplyDetail,
    ReplyList,
    SenderProfile,
    SenderProfileIn,
    Suppression,
    SuppressionIn,
)
from cloison.observability import logger
from cloison.services.access import Caller, caller_from_claims
from cloison.services.campaigns import to_campaign

app = APIGatewayRestResolver(enable_validation=True)


def caller() -> Caller:
    claims = app.current_event.request_context.authorizer.claims or {}
    return caller_from_claims(claims)


@app.get("/health")
def health() -> Health:
    return Health(status="ok")


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=app.get_openapi_json_schema(title="Cloison API", version="0.1.0"),
    )


@app.post("/campaigns")
def create_campaign(campaign: CampaignIn) -> Response[Campaign]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=wiring.campaigns().create(caller(), campaign),
    )


@app.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str) -> Campaign:
    return to_campaign(wiring.campaigns().get(caller(), campaign_id))


@app.post("/campaigns/<campaign_id>/audience")
def add_audience(campaign_id: str, audience: AudienceIn) -> AudienceResult:
    return wiring.campaigns().add_audience(caller(), campaign_id, audience)


@app.get("/campaigns/<campaign_id>/preview")
def preview_campaign(campaign_id: str) -> Preview:
    return wiring.campaigns().preview(caller(), campaign_id)


@app.post("/campaigns/<campaign_id>/launch")
def launch_campaign(campaign_id: str, launch: LaunchIn | None = None) -> Response[Campaign]:
    return Response(
        status_code=202,
        content_type="application/json",
        body=wiring.campaigns().launch(caller(), campaign_id, launch or LaunchIn()),
    )


@app.get("/campaigns/<campaign_id>/stats")
def campaign_stats(campaign_id: str) -> CampaignStats:
    return wiring.campaigns().stats(caller(), campaign_id)


@app.get("/replies")
def list_replies(
    campaign: Annotated[str | None, Query(max_length=64)] = None,
    reply_class: Annotated[str | None, Query(alias="class", max_length=32)] = None,
) -> ReplyList:
    return ReplyList(
        items=wiring.replies().list(caller(), campaign_id=campaign, reply_class=reply_class)
    )


@app.get("/replies/<reply_id>")
def open_reply(reply_id: str) -> ReplyDetail:
    return wiring.replies().open(caller(), reply_id)


@app.post("/consents")
def record_consent(consent: ConsentIn) -> Response[Consent]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=wiring.registry().record_consent(caller(), consent),
    )


@app.post("/suppressions")
def add_suppression(suppression: SuppressionIn) -> Response[Suppression]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=wiring.registry().suppress(caller(), suppression),
    )


@app.put("/teams/<team>/senders/<sender>")
def put_sender(team: str, sender: str, profile: SenderProfileIn) -> SenderProfile:
    return wiring.registry().put_sender(caller(), team, sender, profile)


# ---------------------------------------------------------------- errors as problem documents
@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response[str]:
    errors = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in errors):
        return problem(400, "malformed-json", "The body is not valid JSON", "Send a JSON document.")
    return problem(
        422,
        "invalid-request",
        "The request is invalid",
        "See `errors` for each field.",
        errors=field_errors(list(error.errors())),
    )


@app.exception_handler(RuleViolation)
def rule_violation(error: RuleViolation) -> Response[str]:
    return problem(
        422,
        "rule-violation",
        "A rule forbids this",
        error.reason,
        errors=[{"field": error.field, "reason": error.reason}],
    )


@app.exception_handler(NotFound)
@app.exception_handler(ContextMismatch)
def not_found(error: Exception) -> Response[str]:
    return problem(404, "not-found", "Not found", "No such object among your teams' objects.")


@app.exception_handler(Forbidden)
def forbidden(error: Forbidden) -> Response[str]:
    return problem(403, "forbidden", "Forbidden", str(error))


@app.exception_handler(Conflict)
def conflict(error: Conflict) -> Response[str]:
    return problem(409, "conflict", "Conflict with the current state", str(error))


@app.exception_handler(DependencyError)
def unavailable(error: DependencyError) -> Response[str]:
    logger.warning("dependency failed", extra={"reason": str(error)})
    return problem(503, "unavailable", "Temporarily unavailable", "Retry later.")


@app.exception_handler(Exception)
def internal_error(error: Exception) -> Response[str]:
    # A bug, not the caller's fault: logged with its trace, answered without details.
    logger.exception("unhandled error")
    return problem(500, "internal-error", "Internal error", "The error was logged; retry later.")


@app.not_found
def unknown_route(error: Exception) -> Response[str]:
    return problem(404, "no-route", "No such route", "See /openapi.json for the routes.")
