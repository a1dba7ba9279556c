"""Bad input on the thin paths gets a 4xx problem document, never a 500 nor a half-written record."""

from datetime import timedelta

import pytest
import requests
from local_api import (
    add_recipients,
    api,
    campaign_json,
    consent_answer,
    new_campaign,
    problem_of,
)

from cloison_local.stack import LocalStack


def fields(response: requests.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def test_a_missing_field_is_a_422_naming_the_field(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # When a campaign is created without its body
    without_body = campaign_json(name="Sans corps")
    del without_body["body"]
    response = api(stack, tokens["alice"], "POST", "/campaigns", json=without_body)
    # Then 422, a problem document that names `body`
    assert problem_of(response, 422)["type"].endswith("/invalid-request")
    assert "body" in fields(response)


def test_an_unknown_field_is_refused(stack: LocalStack, tokens: dict[str, str]) -> None:
    response = api(stack, tokens["alice"], "POST", "/campaigns", json=campaign_json(colour="red"))
    assert response.status_code == 422
    assert "colour" in fields(response)


def test_broken_json_is_a_400_problem(stack: LocalStack, tokens: dict[str, str]) -> None:
    response = api(
        stack,
        tokens["alice"],
        "POST",
        "/campaigns",
        data=b'{"team": "sales",',
        headers={"Content-Type": "application/json"},
    )
    assert problem_of(response, 400)["type"].endswith("/malformed-json")


def test_a_malformed_phone_number_is_a_422_naming_phone(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # When a consent is recorded for a number that cannot exist
    response = consent_answer(stack, tokens["alice"], "06 12")
    # Then 422 naming `phone`, and the number is not echoed back
    assert response.status_code == 422
    assert fields(response) == ["phone"]
    assert "06 12" not in response.text


@pytest.mark.parametrize("when", ["tomorrow", "without a time zone"])
def test_a_consent_given_in_the_future_or_without_a_time_zone_is_a_422_naming_given_at(
    stack: LocalStack, tokens: dict[str, str], when: str
) -> None:
    # Given a consent dated tomorrow (by the functions' clock), or dated without an offset
    number = {"tomorrow": "+33751007101", "without a time zone": "+33751007102"}[when]
    given_at = {
        "tomorrow": (stack.now() + timedelta(days=1)).isoformat(),
        "without a time zone": "2026-11-01T10:00:00",
    }[when]

    # When it is recorded
    response = consent_answer(stack, tokens["alice"], number, given_at=given_at)

    # Then 422 naming `given_at`, and no consent was recorded: there is none to withdraw
    problem_of(response, 422)
    assert fields(response) == ["given_at"]
    withdrawal = api(
        stack,
        tokens["alice"],
        "DELETE",
        "/consents",
        json={"team": "sales", "phone": number, "reason": "test"},
    )
    assert withdrawal.status_code == 404


def test_malformed_numbers_in_an_audience_are_reported_by_row(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign = new_campaign(stack, tokens["alice"])
    rows = [
        {"phone": "+33612345678", "variables": {"first_name": "Léa"}},
        {"phone": "not a number", "variables": {"first_name": "X"}},
        {"phone": "+33612345679", "variables": {}},
    ]
    response = add_recipients(stack, tokens["alice"], campaign, rows)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [(error["row"], error["field"].split(" ")[0]) for error in body["rejected"]] == [
        (2, "phone"),
        (3, "variables"),
    ]


def test_an_unknown_campaign_is_a_404_problem(stack: LocalStack, tokens: dict[str, str]) -> None:
    response = api(stack, tokens["alice"], "GET", "/campaigns/c-0000000000000000")
    problem_of(response, 404)


def test_another_teams_campaign_is_a_404_not_a_403(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a campaign of team sales
    campaign = new_campaign(stack, tokens["alice"])
    # When a member of team support asks for it, its stats or its audience
    answers = [
        api(stack, tokens["bruno"], "GET", f"/campaigns/{campaign}").status_code,
        api(stack, tokens["bruno"], "GET", f"/campaigns/{campaign}/stats").status_code,
        api(stack, tokens["bruno"], "POST", f"/campaigns/{campaign}/launch", json={}).status_code,
    ]
    # Then it does not exist for them
    assert answers == [404, 404, 404]


def test_creating_in_another_team_is_forbidden(stack: LocalStack, tokens: dict[str, str]) -> None:
    response = api(stack, tokens["bruno"], "POST", "/campaigns", json=campaign_json())
    assert response.status_code == 403


def test_launching_without_an_audience_is_refused(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign = new_campaign(stack, tokens["alice"])
    response = api(stack, tokens["alice"], "POST", f"/campaigns/{campaign}/launch", json={})
    assert response.status_code == 422
    assert fields(response) == ["audience"]
    status = api(stack, tokens["alice"], "GET", f"/campaigns/{campaign}").json()["status"]
    assert status == "draft"


def test_an_unknown_sender_profile_is_a_422_naming_sender(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    created = campaign_json(sender="nobody")
    response = api(stack, tokens["alice"], "POST", "/campaigns", json=created)
    assert response.status_code == 422
    assert fields(response) == ["sender"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/campaigns/c-1"),
        ("POST", "/campaigns"),
        ("GET", "/replies"),
        ("POST", "/consents"),
    ],
)
def test_no_token_is_a_401(stack: LocalStack, method: str, path: str) -> None:
    response = api(stack, None, method, path, json={})
    assert response.status_code == 401


def test_health_and_openapi_are_public(stack: LocalStack) -> None:
    assert api(stack, None, "GET", "/health").json() == {"status": "ok"}
    document = api(stack, None, "GET", "/openapi.json").json()
    assert "/campaigns" in document["paths"]
