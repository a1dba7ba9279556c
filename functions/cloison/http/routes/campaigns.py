"""Campaigns: drafts, their audiences, previews, launches, lifecycle and counts."""

import json
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloison.adapters.queues import WorkQueue
from cloison.adapters.schedules import LaunchSchedules
from cloison.http import wiring
from cloison.http.answers import answers, lifecycle_responses
from cloison.http.problems import inline_schema
from cloison.http.resolver import CSV, JSON, UnsupportedMediaType, body_bytes, caller
from cloison.models.api.campaigns import (
    MAX_JSON_RECIPIENTS,
    AudienceIn,
    AudienceResult,
    Campaign,
    CampaignIn,
    CampaignStats,
    LaunchIn,
    Preview,
)
from cloison.models.api.common import TEAM_PATTERN
from cloison.models.kinds import CampaignStatus
from cloison.services.audience import AudienceWriter
from cloison.services.audience_csv import MAX_BYTES, MAX_ROWS
from cloison.services.campaigns import LISTED_CAMPAIGNS, CampaignService
from cloison.services.preview import CampaignPreviewer

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@lru_cache(maxsize=1)
def service() -> CampaignService:
    """The campaigns' service, built at the first call of these routes."""
    config = wiring.settings()
    audiences = AudienceWriter(
        wiring.campaign_store(), wiring.sealer(), config.message_retention_days
    )
    return CampaignService(
        store=wiring.campaign_store(),
        audiences=audiences,
        previewer=CampaignPreviewer(
            audiences=audiences,
            suppressions=wiring.suppression_store(),
            consents=wiring.consent_store(),
            caps=wiring.frequency_caps(),
        ),
        hasher=wiring.hasher(),
        launch_queue=WorkQueue(config.launch_queue_url),
        schedules=LaunchSchedules.from_settings(config),
        auditor=wiring.auditor(),
    )


@router.post(
    "/campaigns",
    summary="Create a draft campaign",
    responses=answers(201, Campaign, "The campaign, a draft.", {403: None}, body=True),
)
def create_campaign(campaign: CampaignIn) -> Response[Campaign]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=service().create(caller(), campaign),
    )


class CampaignList(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[Campaign] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when there is none."
    )


@router.get(
    "/campaigns",
    summary="List your teams' campaigns, newest first",
    description=(
        "Every team of the caller, or the one `team` names (another team is a 404, as for "
        "its campaigns); `status` keeps one status. Recurring campaigns' occurrences are "
        "campaigns of their own and are listed too. Bodies and names are the campaign's, "
        "never a recipient's. `next_cursor` gives the next page, with the same filters."
    ),
    responses=answers(
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
    items, next_cursor = service().find(
        caller(), team=team, status=status, limit=limit, cursor=cursor
    )
    return CampaignList(items=items, next_cursor=next_cursor)


@router.get(
    "/campaigns/<campaign_id>",
    summary="Read a campaign",
    description=(
        "A recurring campaign lists its latest occurrences: each firing of its schedule sends "
        "a campaign of its own (`occurrence_of` names the recurring one), read here and at "
        "its own /stats."
    ),
    responses=answers(
        200, Campaign, "The campaign.", {404: "No such campaign among your teams' campaigns."}
    ),
)
def get_campaign(campaign_id: str) -> Campaign:
    return service().describe(caller(), campaign_id)


@router.post(
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
    responses=answers(
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
    event = router.current_event
    media = (event.headers.get("content-type") or JSON).split(";", 1)[0].strip().lower()
    if media == CSV:
        return service().add_csv_audience(caller(), campaign_id, body_bytes())
    if media != JSON:
        raise UnsupportedMediaType((JSON, CSV))
    return service().add_audience(caller(), campaign_id, _json_audience())


def _json_audience() -> AudienceIn:
    """The body validated as the resolver validates a body parameter, with the same errors."""
    try:
        document: Any = json.loads(body_bytes() or b"null")
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


@router.get(
    "/campaigns/<campaign_id>/preview",
    summary="Dry-run a campaign: text, encoding, segments, counts, cost, sending time",
    responses=answers(
        200, Preview, "The preview.", {404: "No such campaign among your teams' campaigns."}
    ),
)
def preview_campaign(campaign_id: str) -> Preview:
    return service().preview(caller(), campaign_id)


@router.post(
    "/campaigns/<campaign_id>/launch",
    summary="Launch a draft campaign now, at an instant, or on a recurring schedule",
    responses=answers(
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
        body=service().launch(caller(), campaign_id, launch or LaunchIn()),
    )


@router.post(
    "/campaigns/<campaign_id>/pause",
    summary="Pause a sending or recurring campaign",
    description=(
        "Chunks not yet sent are held (within one chunk) until the campaign is resumed. "
        "A recurring campaign's firings send nothing while it is paused."
    ),
    responses=lifecycle_responses("The campaign is paused."),
)
def pause_campaign(campaign_id: str) -> Campaign:
    return service().pause(caller(), campaign_id)


@router.post(
    "/campaigns/<campaign_id>/resume",
    summary="Resume a paused campaign",
    description=(
        "The campaign sends again; the chunks held while it was paused are released. "
        "A recurring campaign is scheduled again: its next firing sends."
    ),
    responses=lifecycle_responses("The campaign is sending again."),
)
def resume_campaign(campaign_id: str) -> Campaign:
    return service().resume(caller(), campaign_id)


@router.post(
    "/campaigns/<campaign_id>/cancel",
    summary="Cancel a campaign for good",
    description=(
        "From draft, scheduled, launching, sending or paused. Its launch schedules are deleted; "
        "what was already sent stays sent."
    ),
    responses=lifecycle_responses("The campaign is cancelled."),
)
def cancel_campaign(campaign_id: str) -> Campaign:
    return service().cancel(caller(), campaign_id)


@router.get(
    "/campaigns/<campaign_id>/stats",
    summary="Counts by status, deliverability and cost of a campaign",
    responses=answers(
        200,
        CampaignStats,
        "The statistics.",
        {404: "No such campaign among your teams' campaigns."},
    ),
)
def campaign_stats(campaign_id: str) -> CampaignStats:
    return service().stats(caller(), campaign_id)
