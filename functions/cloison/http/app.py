"""Routes of the HTTP API on the Powertools REST resolver; the OpenAPI document is generated."""

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloison.errors import (
    Conflict,
    ContextMismatch,
    DependencyError,
    Forbidden,
    NotFound,
    RuleViolation,
    TooLarge,
)
from cloison.http import wiring
from cloison.http.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from cloison.http.problems import Problem, field_errors, inline_schema, problem
from cloison.models.api import (
    AUDIT_ACTION_PATTERN,
    AUDIT_ENTRY_PATTERN,
    IDENTIFIER_PATTERN,
    MAX_JSON_RECIPIENTS,
    TEAM_PATTERN,
    AudienceIn,
    AudienceResult,
    AuditList,
    AuditVerification,
    Campaign,
    CampaignIn,
    CampaignStats,
    Consent,
    ConsentIn,
    ConsentWithdrawal,
    ConsentWithdrawalIn,
    Health,
    Instant,
    LaunchIn,
    NoteErasure,
    NoteErasureIn,
    Preview,
    PrivacyReceipt,
    PrivacyRequestIn,
    ReplyDetail,
    ReplyList,
    ReplyReviewIn,
    ReplySummary,
    SenderProfile,
    SenderProfileIn,
    SenderProfileList,
    Suppression,
    SuppressionIn,
)
from cloison.models.kinds import CampaignStatus
from cloison.observability import logger
from cloison.services.access import Caller, caller_from_claims
from cloison.services.audience_csv import MAX_BYTES, MAX_ROWS
from cloison.services.audit_chain import MAX_VERIFY_LIMIT, VERIFY_LIMIT
from cloison.services.campaigns import LISTED_CAMPAIGNS
from cloison.services.lifecycle import InvalidTransition

app = APIGatewayRestResolver(enable_validation=True)

JSON = "application/json"
CSV = "text/csv"


class UnsupportedMediaType(Exception):
    """The body's Content-Type is not one the route reads."""

    def __init__(self, accepted: tuple[str, ...]) -> None:
        super().__init__(f"this route takes {' or '.join(accepted)}")
        self.accepted = accepted


def _problem_response(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"model": Problem}}}


# What each error status means when a route does not say more; every one is a problem document.
_ERRORS: dict[int, str] = {
    400: "The body is not JSON (or not UTF-8).",
    403: "The caller is not a member of the team, or lacks the role the route requires.",
    404: "No such object among your teams' objects.",
    409: "The object's current state does not allow this.",
    415: "The body is not application/json.",
    422: "The request is invalid: `errors` names each field at fault and why.",
    503: "A dependency failed; retry later.",
}


def _answers(
    status: int,
    model: Any,
    description: str,
    errors: dict[int, str | None] | None = None,
    *,
    body: bool = False,
) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: its success, then its problem documents (`None` takes the
    usual meaning). Every route may answer 422 and 503; a route reading a JSON body, 400 and 415."""
    answers: dict[int, OpenAPIResponse] = {
        status: {"description": description, "content": {JSON: {"model": model}}}
    }
    wanted: dict[int, str | None] = {422: None, 503: None}
    if body:
        wanted |= {400: None, 415: None}
    wanted |= errors or {}
    for code in sorted(wanted):
        answers[code] = _problem_response(wanted[code] or _ERRORS[code])
    return answers


def _lifecycle_responses(success: str) -> dict[int, OpenAPIResponse]:
    return _answers(
        200,
        Campaign,
        success,
        {
            404: "No such campaign among your teams' campaigns.",
            409: "The campaign's status does not allow this.",
        },
    )


def _media_type() -> str | None:
    """The request's media type, lowercased and without parameters; None when not given."""
    header = app.current_event.headers.get("content-type") or ""
    return header.split(";", 1)[0].strip().lower() or None


def _refused_media_type() -> UnsupportedMediaType | None:
    """A route that reads a JSON body takes application/json, or a body without a Content-Type.

    The resolver alone would also read form and multipart bodies, and any type starting with
    `application/json`, into the model."""
    route = app.context.get("_route")
    if route is None or not route.dependant.body_params:
        return None
    if _media_type() in (None, JSON):
        return None
    return UnsupportedMediaType((JSON,))


def json_bodies_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Runs once the request validated; `invalid_request` does the same check when it did not."""
    refusal = _refused_media_type()
    if refusal is not None:
        raise refusal
    return next_middleware(app)


app.use(middlewares=[json_bodies_only])


def caller() -> Caller:
    claims = app.current_event.request_context.authorizer.claims or {}
    return caller_from_claims(claims)


# The resolver documents a 422 on every route: here too, as the problem document it would be.
@app.get(
    "/health",
    responses={
        200: {"description": "Alive.", "content": {JSON: {"model": Health}}},
        422: _problem_response(_ERRORS[422]),
    },
)
def health() -> Health:
    return Health(status="ok")


@app.get(
    "/openapi.json",
    responses={
        200: {"description": "This document (OpenAPI 3.1).", "content": {JSON: {}}},
        422: _problem_response(_ERRORS[422]),
    },
)
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    """The API's OpenAPI document, generated from the routes and models below."""
    return app.get_openapi_json_schema(title="Cloison API", version="0.1.0")


@app.post(
    "/campaigns",
    summary="Create a draft campaign",
    responses=_answers(201, Campaign, "The campaign, a draft.", {403: None}, body=True),
)
def create_campaign(campaign: CampaignIn) -> Response[Campaign]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=wiring.campaigns().create(caller(), campaign),
    )


class CampaignList(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[Campaign] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when there is none."
    )


@app.get(
    "/campaigns",
    summary="List your teams' campaigns, newest first",
    description=(
        "Every team of the caller, or the one `team` names (another team is a 404, as for "
        "its campaigns); `status` keeps one status. Recurring campaigns' occurrences are "
        "campaigns of their own and are listed too. Bodies and names are the campaign's, "
        "never a recipient's. `next_cursor` gives the next page, with the same filters."
    ),
    responses=_answers(
        200,
        CampaignList,
        "A page of campaigns (at most `limit`).",
        {404: "No such team among your teams.", 422: "A filter or the cursor is invalid."},
    ),
)
def list_campaigns(
    team: Annotated[str | None, Query(pattern=TEAM_PATTERN)] = None,
    status: Annotated[CampaignStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = LISTED_CAMPAIGNS,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> CampaignList:
    items, next_cursor = wiring.campaigns().find(
        caller(), team=team, status=status, limit=limit, cursor=cursor
    )
    return CampaignList(items=items, next_cursor=next_cursor)


@app.get(
    "/campaigns/<campaign_id>",
    summary="Read a campaign",
    description=(
        "A recurring campaign lists its latest occurrences: each firing of its schedule sends "
        "a campaign of its own (`occurrence_of` names the recurring one), read here and at "
        "its own /stats."
    ),
    responses=_answers(
        200, Campaign, "The campaign.", {404: "No such campaign among your teams' campaigns."}
    ),
)
def get_campaign(campaign_id: str) -> Campaign:
    return wiring.campaigns().describe(caller(), campaign_id)


@app.post(
    "/campaigns/<campaign_id>/audience",
    summary="Add recipients to a draft campaign, as JSON or as a CSV file",
    description=(
        f"JSON: up to {MAX_JSON_RECIPIENTS:,} "
        "recipients. CSV (UTF-8, with or without BOM, separated by commas, semicolons or tabs): "
        "a header row with a `phone` column, an optional `departement` column, every other "
        f"column a template variable; up to {MAX_ROWS:,} rows and {MAX_BYTES // 2**20} MB. "
        "The good rows are kept as one upload, all or none; each bad row is reported with its "
        "row (JSON: position; CSV: line number, the header being line 1), field and reason."
    ),
    openapi_extensions={
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": inline_schema(AudienceIn)},
                CSV: {
                    "schema": {"type": "string"},
                    "example": "phone,first_name,departement\n06 12 34 56 78,Léa,75\n",
                },
            },
        }
    },
    responses=_answers(
        200,
        AudienceResult,
        "The good rows were added; the bad ones are listed.",
        {
            400: "The JSON body is not JSON (or not UTF-8).",
            404: "No such campaign among your teams' campaigns.",
            409: "The campaign is no longer a draft.",
            413: f"Over {MAX_ROWS:,} rows or {MAX_BYTES // 2**20} MB.",
            415: "Neither application/json nor text/csv.",
            422: "The JSON body or the CSV header is unusable.",
        },
    ),
)
def add_audience(campaign_id: str) -> AudienceResult:
    # No body parameter: the resolver would refuse text/csv before this runs.
    event = app.current_event
    media = (event.headers.get("content-type") or JSON).split(";", 1)[0].strip().lower()
    if media == CSV:
        return wiring.campaigns().add_csv_audience(caller(), campaign_id, _body_bytes())
    if media != JSON:
        raise UnsupportedMediaType((JSON, CSV))
    return wiring.campaigns().add_audience(caller(), campaign_id, _json_audience())


def _body_bytes() -> bytes:
    """The body as sent: API Gateway passes binary media types base64-encoded."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RuleViolation("body", "is not valid base64") from None
    return body.encode("utf-8")


def _json_audience() -> AudienceIn:
    """The body validated as the resolver validates a body parameter, with the same errors."""
    try:
        document: Any = json.loads(_body_bytes() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
        ) from exc
    try:
        return AudienceIn.model_validate(document)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {**error, "loc": ("body", *error["loc"])}
                for error in exc.errors(include_input=False, include_url=False)
            ]
        ) from None


@app.get(
    "/campaigns/<campaign_id>/preview",
    summary="Dry-run a campaign: text, encoding, segments, counts, cost, sending time",
    responses=_answers(
        200, Preview, "The preview.", {404: "No such campaign among your teams' campaigns."}
    ),
)
def preview_campaign(campaign_id: str) -> Preview:
    return wiring.campaigns().preview(caller(), campaign_id)


@app.post(
    "/campaigns/<campaign_id>/launch",
    summary="Launch a draft campaign now, at an instant, or on a recurring schedule",
    responses=_answers(
        202,
        Campaign,
        "Accepted: the campaign is launching or scheduled.",
        {
            404: "No such campaign among your teams' campaigns.",
            409: "The campaign's status does not allow this.",
            422: "The body is invalid, or the campaign has no recipients.",
        },
        body=True,
    ),
)
def launch_campaign(campaign_id: str, launch: LaunchIn | None = None) -> Response[Campaign]:
    return Response(
        status_code=202,
        content_type="application/json",
        body=wiring.campaigns().launch(caller(), campaign_id, launch or LaunchIn()),
    )


@app.post(
    "/campaigns/<campaign_id>/pause",
    summary="Pause a sending or recurring campaign",
    description=(
        "Chunks not yet sent are held (within one chunk) until the campaign is resumed. "
        "A recurring campaign's firings send nothing while it is paused."
    ),
    responses=_lifecycle_responses("The campaign is paused."),
)
def pause_campaign(campaign_id: str) -> Campaign:
    return wiring.campaigns().pause(caller(), campaign_id)


@app.post(
    "/campaigns/<campaign_id>/resume",
    summary="Resume a paused campaign",
    description=(
        "The campaign sends again; the chunks held while it was paused are released. "
        "A recurring campaign is scheduled again: its next firing sends."
    ),
    responses=_lifecycle_responses("The campaign is sending again."),
)
def resume_campaign(campaign_id: str) -> Campaign:
    return wiring.campaigns().resume(caller(), campaign_id)


@app.post(
    "/campaigns/<campaign_id>/cancel",
    summary="Cancel a campaign for good",
    description=(
        "From draft, scheduled, launching, sending or paused. Its launch schedules are deleted; "
        "what was already sent stays sent."
    ),
    responses=_lifecycle_responses("The campaign is cancelled."),
)
def cancel_campaign(campaign_id: str) -> Campaign:
    return wiring.campaigns().cancel(caller(), campaign_id)


@app.get(
    "/campaigns/<campaign_id>/stats",
    summary="Counts by status, deliverability and cost of a campaign",
    responses=_answers(
        200,
        CampaignStats,
        "The statistics.",
        {404: "No such campaign among your teams' campaigns."},
    ),
)
def campaign_stats(campaign_id: str) -> CampaignStats:
    return wiring.campaigns().stats(caller(), campaign_id)


@app.get(
    "/replies",
    summary="List replies (metadata only), newest first",
    responses=_answers(200, ReplyList, "The replies.", {422: "A filter is invalid."}),
)
def list_replies(
    campaign: Annotated[str | None, Query(max_length=64)] = None,
    reply_class: Annotated[str | None, Query(alias="class", max_length=32)] = None,
    review: Annotated[
        Literal["pending", "confirmed", "lifted"] | None,
        Query(description="`pending` lists the review queue."),
    ] = None,
) -> ReplyList:
    return ReplyList(
        items=wiring.replies().list(
            caller(), campaign_id=campaign, reply_class=reply_class, review=review
        )
    )


@app.get(
    "/replies/<reply_id>",
    summary="Open a reply: its body, decrypted (audited)",
    responses=_answers(
        200, ReplyDetail, "The reply with its body.", {404: "No such reply in your teams."}
    ),
)
def open_reply(reply_id: str) -> ReplyDetail:
    return wiring.replies().open(caller(), reply_id)


@app.post(
    "/replies/<reply_id>/review",
    summary="Settle a reply awaiting review",
    description="Ambiguous opt-outs and sensitive replies wait in the review queue "
    "(`GET /replies?review=pending`). `confirm` keeps the suppression; `lift` (privacy officers) "
    "says the reply was no opt-out and lifts it, here and in the provider's opt-out list.",
    responses=_answers(
        200,
        ReplySummary,
        "The reviewed reply.",
        {
            403: "Lifting requires the privacy_officer role.",
            404: "No such reply in the caller's compartments.",
            409: "Not awaiting review, or a later opt-out stands.",
        },
        body=True,
    ),
)
def review_reply(reply_id: str, decision: ReplyReviewIn) -> ReplySummary:
    return wiring.replies().review(caller(), reply_id, decision)


@app.post(
    "/consents",
    summary="Record a consent",
    responses=_answers(201, Consent, "The consent, the number masked.", {403: None}, body=True),
)
def record_consent(consent: ConsentIn) -> Response[Consent]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=wiring.registry().record_consent(caller(), consent),
    )


@app.delete(
    "/consents",
    summary="Withdraw a consent",
    description="The number travels in the body, never in the URL. Later marketing sends skip it.",
    responses=_answers(
        200,
        ConsentWithdrawal,
        "The receipt of the withdrawal.",
        {403: None, 404: "No consent recorded for this number, team and purpose."},
        body=True,
    ),
)
def withdraw_consent(withdrawal: ConsentWithdrawalIn) -> ConsentWithdrawal:
    return wiring.registry().withdraw_consent(caller(), withdrawal)


@app.post(
    "/suppressions",
    summary="Suppress a number for a team",
    responses=_answers(201, Suppression, "The suppression.", {403: None}, body=True),
)
def add_suppression(suppression: SuppressionIn) -> Response[Suppression]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=wiring.registry().suppress(caller(), suppression),
    )


@app.post(
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
    responses=_answers(
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
    if app.current_event.query_string_parameters:
        # Access logs keep URLs: a number put there by mistake is refused, not used.
        raise RuleViolation("query", "takes no query parameters: the number goes in the body")
    return Response(
        status_code=201,
        content_type="application/json",
        body=wiring.subjects().submit(caller(), request),
    )


@app.get(
    "/privacy/requests/<request_id>",
    summary="Read the receipt of a data-subject request",
    responses=_answers(
        200,
        PrivacyReceipt,
        "The receipt.",
        {403: "Requires the privacy_officer role.", 404: "No such request."},
    ),
)
def get_privacy_request(request_id: str) -> PrivacyReceipt:
    return wiring.subjects().receipt(caller(), request_id)


@app.put(
    "/teams/<team>/senders/<sender>",
    summary="Create or replace a team's sender profile (administrators)",
    responses=_answers(
        200, SenderProfile, "The sender profile.", {403: "Requires the admin role."}, body=True
    ),
)
def put_sender(
    team: Annotated[str, Path(pattern=TEAM_PATTERN)],
    sender: Annotated[str, Path(pattern=IDENTIFIER_PATTERN)],
    profile: SenderProfileIn,
) -> SenderProfile:
    return wiring.registry().put_sender(caller(), team, sender, profile)


@app.get(
    "/teams/<team>/senders",
    summary="List a team's sender profiles",
    description=(
        "For the team's members, and for administrators, who put them. Another team is a 404, "
        "as for its campaigns."
    ),
    responses=_answers(
        200,
        SenderProfileList,
        "The team's sender profiles, by name.",
        {404: "No such team among your teams.", 422: "The team is not a team slug."},
    ),
)
def list_senders(team: Annotated[str, Path(pattern=TEAM_PATTERN)]) -> SenderProfileList:
    return SenderProfileList(items=wiring.registry().senders(caller(), team))


@app.get(
    "/audit",
    summary="List the audit trail (auditors)",
    description=(
        "Opening a reply, reviewing one, launching, scheduling, pausing, resuming or cancelling "
        "a campaign, recording or withdrawing a consent, adding or lifting a suppression, "
        "changing a sender profile and data-subject requests each write an entry: who, what, "
        "when, which team, which object, why. Newest first; `since` and `until` (with a time "
        "zone) bound `at`, both included; `next_cursor` gives the next page."
    ),
    responses=_answers(
        200,
        AuditList,
        "A page of entries.",
        {403: "Requires the auditor role.", 422: "A filter or the cursor is invalid."},
    ),
)
def list_audit(
    team: Annotated[str | None, Query(pattern=TEAM_PATTERN)] = None,
    action: Annotated[str | None, Query(pattern=AUDIT_ACTION_PATTERN, max_length=40)] = None,
    since: Annotated[Instant | None, Query(description="Entries at or after this instant.")] = None,
    until: Annotated[
        Instant | None, Query(description="Entries at or before this instant.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AuditList:
    return wiring.auditor().list(
        caller(),
        team=team,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )


@app.get(
    "/audit/verify",
    summary="Check the audit chain (auditors)",
    description=(
        "Walks the chain in sequence order from `from` to `to` (the head when absent), "
        f"`limit` entries at most (default {VERIFY_LIMIT:,}): each entry's hash, its link to the "
        "entry before it and the sequence with no gap; a walk that reaches the head also checks "
        "that nothing follows it and that the last entry matches its locked copy. The answer is "
        "a 200 either way: `ok` says whether the chain holds, `broken` names the first entry at "
        "fault (sequence, id, reason). A walk that stopped at `limit` gives `next`: pass it as "
        "`from` to go on."
    ),
    responses=_answers(
        200,
        AuditVerification,
        "The result of the walk, whether the chain holds or not.",
        {403: "Requires the auditor role.", 422: "A bound is invalid."},
    ),
)
def verify_audit(
    first: Annotated[int, Query(alias="from", ge=1, description="First sequence number.")] = 1,
    last: Annotated[
        int | None, Query(alias="to", ge=1, description="Last sequence number.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_VERIFY_LIMIT)] = VERIFY_LIMIT,
) -> AuditVerification:
    return wiring.auditor().verify(caller(), first=first, last=last, limit=limit)


@app.delete(
    "/audit/notes/<entry>",
    summary="Erase the note of an audit entry (privacy officers)",
    description=(
        "What a person wrote when they acted is kept beside the entry, sealed; the entry keeps "
        "a code. An erasure of the number destroys the notes that concern it; this destroys one "
        "note that holds what else must be forgotten (a name, a detail). The entry, its code "
        "and the chain are untouched: `/audit` then shows the note as `erased`. Audited."
    ),
    responses=_answers(
        200,
        NoteErasure,
        "The note is gone.",
        {403: "Requires the privacy_officer role.", 404: "No note is kept for this entry."},
        body=True,
    ),
)
def erase_audit_note(
    entry: Annotated[str, Path(pattern=AUDIT_ENTRY_PATTERN)], erasure: NoteErasureIn
) -> NoteErasure:
    return wiring.auditor().erase_note(caller(), entry, erasure)


# ---------------------------------------------------------------- errors as problem documents
def _malformed_json(detail: str = "Send a JSON document.") -> Response[str]:
    return problem(400, "malformed-json", "The body is not valid JSON", detail)


def _unsupported(error: UnsupportedMediaType) -> Response[str]:
    return problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"This route takes {' or '.join(error.accepted)}.",
        accepted=list(error.accepted),
    )


def _internal_error() -> Response[str]:
    # A bug, not the caller's fault: logged with its trace, answered without details.
    logger.exception("unhandled error")
    return problem(500, "internal-error", "Internal error", "The error was logged; retry later.")


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response[str]:
    # A body of another type may fail validation too: its type is the first thing wrong with it.
    refusal = _refused_media_type()
    if refusal is not None:
        return _unsupported(refusal)
    errors = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in errors):
        return _malformed_json()
    if all(item.get("type") == "value_error" for item in errors):
        # Only the models' own validators refused it: a rule the OpenAPI schemas cannot state
        # (a time zone, a schedule expression, fields that go together), not a shape.
        return problem(
            422,
            "rule-violation",
            "A rule forbids this",
            "See `errors` for each field.",
            errors=field_errors(errors),
        )
    return problem(
        422,
        "invalid-request",
        "The request is invalid",
        "See `errors` for each field.",
        errors=field_errors(errors),
    )


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_content_type(error: Exception) -> Response[str]:
    return _unsupported(UnsupportedMediaType((JSON,)))


def _unreadable_json() -> str | None:
    """Why the body cannot be read as JSON, where the resolver's parser raises rather than
    reporting a validation error: bytes that are not UTF-8, nesting past Python's recursion."""
    try:
        # Decoded here: json.loads would take bytes with NULs in them for UTF-16 or UTF-32.
        text = (_body_bytes() or b"null").decode("utf-8")
    except UnicodeDecodeError:
        return "JSON is UTF-8: the body is not."
    try:
        json.loads(text)
    except RecursionError:
        return "The body nests too deeply."
    except (json.JSONDecodeError, RuleViolation):
        return None
    return None


@app.exception_handler(UnicodeDecodeError)
@app.exception_handler(RecursionError)
def unreadable(error: Exception) -> Response[str]:
    reason = _unreadable_json()
    return _malformed_json(reason) if reason else _internal_error()


@app.exception_handler(UnsupportedMediaType)
def unsupported_media_type(error: UnsupportedMediaType) -> Response[str]:
    return _unsupported(error)


@app.exception_handler(TooLarge)
def too_large(error: TooLarge) -> Response[str]:
    return problem(413, "too-large", "Too large", f"{error}; nothing was kept.")


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


@app.exception_handler(InvalidTransition)
def invalid_transition(error: InvalidTransition) -> Response[str]:
    return problem(
        409,
        "conflict",
        "Conflict with the current state",
        str(error),
        campaign_status=error.status.value,
        allowed_from=[status.value for status in error.allowed_from],
    )


@app.exception_handler(Conflict)
def conflict(error: Conflict) -> Response[str]:
    return problem(409, "conflict", "Conflict with the current state", str(error))


@app.exception_handler(DependencyError)
def unavailable(error: DependencyError) -> Response[str]:
    logger.warning("dependency failed", extra={"reason": str(error)})
    return problem(503, "unavailable", "Temporarily unavailable", "Retry later.")


@app.exception_handler(Exception)
def internal_error(error: Exception) -> Response[str]:
    # The resolver's own parsers fail on some bodies of types a route does not read (multipart
    # without a boundary raises ValueError): the type was the caller's error.
    refusal = _refused_media_type()
    if refusal is not None:
        return _unsupported(refusal)
    return _internal_error()


@app.not_found
def unknown_route(error: Exception) -> Response[str]:
    return problem(404, "no-route", "No such route", "See /openapi.json for the routes.")
