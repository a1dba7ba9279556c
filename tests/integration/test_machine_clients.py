"""Applications through the local stack: the user pool domain's token endpoint (client
credentials) answers as Cognito does, its tokens pass the API's authorizer, and a team's
application acts in its own team only."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
import requests
from local_api import api

from cloison_local.stack import LocalStack, TeamStack

CAMPAIGN = {"name": "Relance", "sender": "promo", "kind": "marketing", "body": "Soldes"}


def team(stack: LocalStack, name: str) -> TeamStack:
    return stack.team_stacks[name]


def token_request(
    stack: LocalStack,
    data: dict[str, str] | None,
    auth: tuple[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    assert stack.token_endpoint is not None
    return requests.post(
        f"{stack.token_endpoint.url}/oauth2/token", data=data, auth=auth, timeout=10, **kwargs
    )


def machine_token(stack: LocalStack, name: str, scope: str | None = None) -> str:
    client = team(stack, name)
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    answer = token_request(stack, data, (client.client_id, client.client_secret))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_the_token_endpoint_issues_an_access_token_of_the_pool_to_a_team_client(
    stack: LocalStack,
) -> None:
    # Given team sales' machine client
    client = team(stack, "sales")

    # When it asks for a token with its id and secret (HTTP Basic) and its scopes
    answer = token_request(
        stack,
        {"grant_type": "client_credentials", "scope": client.scopes},
        (client.client_id, client.client_secret),
    )

    # Then Cognito's answer comes back: a bearer access token of the pool, for the client
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == claims["sub"] == client.client_id
    assert claims["token_use"] == "access"
    assert claims["scope"] == "cloison/api cloison-team-sales/member"
    assert (
        claims["iss"]
        == f"https://cognito-idp.eu-west-3.amazonaws.com/{stack.outputs['UserPoolId']}"
    )
    assert "username" not in claims
    assert "cognito:groups" not in claims


def test_without_a_scope_the_client_gets_every_scope_it_is_allowed(stack: LocalStack) -> None:
    # Given team support's client, asking for no scope, its secret in the body
    client = team(stack, "support")

    # When it asks for a token
    answer = token_request(
        stack,
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )

    # Then the token grants all of the client's scopes
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert sorted(claims["scope"].split()) == ["cloison-team-support/member", "cloison/api"]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("wrong secret", "invalid_client"),
        ("unknown client", "invalid_client"),
        ("no client authentication", "invalid_client"),
        ("another team's scope", "invalid_scope"),
        ("unknown scope", "invalid_scope"),
        ("password grant", "unsupported_grant_type"),
        ("no grant type", "invalid_request"),
        ("json body", "invalid_request"),
    ],
)
def test_the_token_endpoint_refuses_as_cognito_does(
    stack: LocalStack, case: str, error: str
) -> None:
    # Given a token request that is wrong in one way
    client = team(stack, "sales")
    auth: tuple[str, str] | None = (client.client_id, client.client_secret)
    data: dict[str, str] = {"grant_type": "client_credentials"}
    extra: dict[str, Any] = {}
    if case == "wrong secret":
        auth = (client.client_id, client.client_secret[::-1])
    elif case == "unknown client":
        auth = ("1example23456789", client.client_secret)
    elif case == "no client authentication":
        auth = None
    elif case == "another team's scope":
        data["scope"] = "cloison/api cloison-team-support/member"
    elif case == "unknown scope":
        data["scope"] = "cloison/admin"
    elif case == "password grant":
        data = {"grant_type": "password", "username": "alice", "password": "x"}
    elif case == "no grant type":
        data = {"scope": "cloison/api"}
    elif case == "json body":
        extra = {"json": data}
        data = {}

    # When it is sent
    answer = token_request(stack, data or None, auth, **extra)

    # Then Cognito's 400 and error code come back, and no token
    assert answer.status_code == 400
    assert answer.json() == {"error": error}


def test_a_team_applications_token_is_accepted_by_the_api(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given team sales' application with its token (and the demo teams' sender profiles)
    token = machine_token(stack, "sales")

    # When it creates a campaign of its team, sending the token as a bearer token
    created = api(
        stack, f"Bearer {token}", "POST", "/campaigns", json={"team": "sales", **CAMPAIGN}
    )

    # Then the API takes it: the campaign is created by the application's client
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == team(stack, "sales").client_id
    listed = api(stack, token, "GET", "/replies")
    assert listed.status_code == 200, listed.text


def test_an_application_cannot_act_outside_its_team(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a campaign of team support, and team sales' application
    theirs = api(stack, tokens["bruno"], "POST", "/campaigns", json={"team": "support", **CAMPAIGN})
    assert theirs.status_code == 201, theirs.text
    token = machine_token(stack, "sales")

    # When the application creates a campaign for support, reads support's campaign, records a
    # consent for support
    created = api(stack, token, "POST", "/campaigns", json={"team": "support", **CAMPAIGN})
    read = api(stack, token, "GET", f"/campaigns/{theirs.json()['id']}")
    consent = api(
        stack,
        token,
        "POST",
        "/consents",
        json={"team": "support", "phone": "+33612345699", "source": "app", "proof": "oui"},
    )

    # Then it is forbidden to act, and the other team's campaign does not exist for it
    assert created.status_code == 403
    assert read.status_code == 404
    assert consent.status_code == 403


def test_an_application_without_its_team_scope_is_in_no_team(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given team sales' application asking for cloison/api only
    token = machine_token(stack, "sales", scope="cloison/api")

    # When it creates a campaign of team sales
    created = api(stack, token, "POST", "/campaigns", json={"team": "sales", **CAMPAIGN})

    # Then it passes the authorizer but is no member of sales
    assert created.status_code == 403


def test_a_token_without_the_api_scope_is_refused_by_the_authorizer(stack: LocalStack) -> None:
    # Given team sales' application asking for its team scope only
    token = machine_token(stack, "sales", scope="cloison-team-sales/member")

    # When it calls the API
    answer = api(stack, token, "GET", "/replies")

    # Then API Gateway refuses it: the routes need cloison/api (or a person's scope)
    assert answer.status_code == 401


def test_a_tampered_client_token_is_refused(stack: LocalStack) -> None:
    # Given team sales' token with its scope rewritten to support's
    header, payload, signature = machine_token(stack, "sales").split(".")
    claims = jwt.decode(f"{header}.{payload}.{signature}", options={"verify_signature": False})
    claims["scope"] = "cloison/api cloison-team-support/member"
    forged = base64.urlsafe_b64encode(jwt.api_jws.json.dumps(claims).encode()).rstrip(b"=")

    # When it is presented
    answer = api(stack, f"{header}.{forged.decode()}.{signature}", "GET", "/replies")

    # Then the signature no longer matches
    assert answer.status_code == 401
