"""The local token endpoint's answers, without a server: what Cognito's `/oauth2/token` says to
each client-credentials request, and a token the pool's published key verifies."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import moto.cognitoidp
import pytest
from botocore.exceptions import ClientError

from cloison_local.token_endpoint import FORM, TokenEndpoint

POOL = "eu-west-3_Pool"
CLIENT = "1example23456789abcdefghij"
SECRET = "s3cret-of-the-client"
ALLOWED = ["cloison/api", "cloison-team-sales/member"]


class FakeCognito:
    """describe_user_pool_client over a few app clients, as moto answers it."""

    def __init__(self, **clients: dict[str, Any]) -> None:
        self.clients = clients

    def describe_user_pool_client(self, UserPoolId: str, ClientId: str) -> dict[str, Any]:
        if UserPoolId != POOL or ClientId not in self.clients:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "no"}},
                "DescribeUserPoolClient",
            )
        return {"UserPoolClient": {"ClientId": ClientId, **self.clients[ClientId]}}


def _machine(**changes: Any) -> dict[str, Any]:
    return {
        "ClientSecret": SECRET,
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": ALLOWED,
        "AccessTokenValidity": 60,
        "TokenValidityUnits": {"AccessToken": "minutes"},
        **changes,
    }


def _endpoint(**client: Any) -> TokenEndpoint:
    return TokenEndpoint(FakeCognito(**{CLIENT: _machine(**client)}), "eu-west-3", POOL)


def _basic(client_id: str = CLIENT, secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def _published_key() -> Any:
    resources = Path(moto.cognitoidp.__file__).parent / "resources"
    key_set = json.loads(gzip.decompress((resources / "jwks-public.json.gz").read_bytes()))
    return jwt.PyJWK(key_set["keys"][0]).key


def test_a_token_is_signed_with_the_key_the_pool_publishes() -> None:
    # Given a machine client allowed the API and team sales' scope
    endpoint = _endpoint()

    # When it asks for a token for one of its scopes
    answer = endpoint.answer(
        _basic(), FORM, _form(grant_type="client_credentials", scope="cloison/api")
    )

    # Then the token verifies against the pool's published key, as the client's access token
    assert answer.status == 200
    assert answer.body["expires_in"] == 3600
    claims = jwt.decode(
        answer.body["access_token"],
        _published_key(),
        algorithms=["RS256"],
        issuer=f"https://cognito-idp.eu-west-3.amazonaws.com/{POOL}",
    )
    assert claims["client_id"] == claims["sub"] == CLIENT
    assert claims["token_use"] == "access"
    assert claims["scope"] == "cloison/api"
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    ("case", "client", "authorization", "body", "error"),
    [
        (
            "client without the grant",
            {"AllowedOAuthFlows": ["code"]},
            _basic(),
            _form(grant_type="client_credentials"),
            "unauthorized_client",
        ),
        (
            "client without a secret",
            {"ClientSecret": None},
            _basic(),
            _form(grant_type="client_credentials"),
            "invalid_client",
        ),
        (
            "two authentication methods",
            {},
            _basic(),
            _form(grant_type="client_credentials", client_id=CLIENT, client_secret=SECRET),
            "invalid_request",
        ),
        (
            "repeated parameter",
            {},
            _basic(),
            b"grant_type=client_credentials&scope=cloison/api&scope=cloison/api",
            "invalid_request",
        ),
        (
            "not basic",
            {},
            "Bearer abc",
            _form(grant_type="client_credentials"),
            "invalid_client",
        ),
        (
            "no custom scope allowed",
            {"AllowedOAuthScopes": ["openid"]},
            _basic(),
            _form(grant_type="client_credentials"),
            "invalid_scope",
        ),
        (
            "authorization code",
            {},
            _basic(),
            _form(grant_type="authorization_code", code="abc"),
            "unsupported_grant_type",
        ),
    ],
)
def test_each_wrong_request_gets_cognitos_error_code(
    case: str, client: dict[str, Any], authorization: str, body: bytes, error: str
) -> None:
    # Given a machine client set up in one way, and a request for a token
    endpoint = _endpoint(**client)

    # When the request is answered
    answer = endpoint.answer(authorization, FORM, body)

    # Then it is a 400 with Cognito's error code, and no more
    assert (answer.status, answer.body) == (400, {"error": error})
