"""How routes document their answers in the OpenAPI document: a success, then the problem
documents each route may answer."""

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from cloison.http.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from cloison.http.problems import Problem
from cloison.http.resolver import JSON
from cloison.models.api.campaigns import Campaign


def problem_response(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"model": Problem}}}


# What each error status means when a route does not say more; every one is a problem document.
ERRORS: dict[int, str] = {
    400: "The body is not JSON (or not UTF-8).",
    403: "The caller is not a member of the team, or lacks the role the route requires.",
    404: "No such object among your teams' objects.",
    409: "The object's current state does not allow this.",
    415: "The body is not application/json.",
    422: "The request is invalid: `errors` names each field at fault and why.",
    503: "A dependency failed; retry later.",
}


def answers(
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
        answers[code] = problem_response(wanted[code] or ERRORS[code])
    return answers


def lifecycle_responses(success: str) -> dict[int, OpenAPIResponse]:
    return answers(
        200,
        Campaign,
        success,
        {
            404: "No such campaign among your teams' campaigns.",
            409: "The campaign's status does not allow this.",
        },
    )
