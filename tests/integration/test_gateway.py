"""The local API Gateway against a Cognito user pool in moto: who gets through, and what the
function behind each route receives and returns."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import http.client
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer

from cloison_local.gateway import ApiGateway, CognitoAuthorizer, Unauthorized, render_claims
from cloison_local.model import JsonDict, Route
from cloison_local.token_endpoint import moto_signing_key

pytestmark = pytest.mark.integration

REGION = "eu-west-3"
PASSWORD = "Corr3ct-Horse-Battery!"
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
STAGE = "dev"

ROUTES = (
    Route("GET", "/health", "Health"),
    Route("GET", "/campaigns", "ListCampaigns", "Cognito"),
    Route("POST", "/campaigns", "CreateCampaign", "Cognito", (ADMIN_SCOPE,)),
    Route("GET", "/campaigns/stats", "CampaignStats", "Cognito"),
    Route("GET", "/campaigns/{campaignId}", "GetCampaign", "Cognito"),
    Route("GET", "/campaigns/{campaignId}/replies", "ListReplies", "Cognito", (ADMIN_SCOPE,)),
    Route("ANY", "/files/{proxy+}", "Files", "Cognito", (ADMIN_SCOPE,)),
    Route("POST", "/uploads", "Upload", "Cognito", (ADMIN_SCOPE,)),
    Route("DELETE", "/teams/{team}", "DeleteTeam", "Cognito", ("cloison/admin",)),
)
# One concrete request per protected route.
PROTECTED_REQUESTS = {
    "ListCampaigns": ("GET", "/campaigns"),
    "CreateCampaign": ("POST", "/campaigns"),
    "CampaignStats": ("GET", "/campaigns/stats"),
    "GetCampaign": ("GET", "/campaigns/c-1"),
    "ListReplies": ("GET", "/campaigns/c-1/replies"),
    "Files": ("PUT", "/files/a/b.csv"),
    "Upload": ("POST", "/uploads"),
    "DeleteTeam": ("DELETE", "/teams/sales"),
}
BAD_TOKENS = (
    "no token",
    "empty bearer",
    "not a jwt",
    "expired",
    "wrong signature",
    "unknown signing key",
    "another pool",
    "issuer of another pool",
    "another app client",
    "claims tampered",
    "alg none",
    "hs256 with the public key",
    "wrong token type",
    "token_use swapped",
    "missing scope",
)
DATE_CLAIM = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$"
)


@dataclass(frozen=True)
class Pool:
    id: str
    client_id: str
    id_token: str
    access_token: str


class FakeFunctions:
    """Stands in for Lambda: records each (function, event) and answers with `reply`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, JsonDict]] = []
        self.reply: Callable[[str, JsonDict], Any] = _ok

    def __call__(self, function: str, event: JsonDict) -> Any:
        self.calls.append((function, event))
        return self.reply(function, event)

    @property
    def last_event(self) -> JsonDict:
        assert self.calls, "no function was invoked"
        return self.calls[-1][1]


def _ok(function: str, event: JsonDict) -> JsonDict:
    return {"statusCode": 200, "body": json.dumps({"function": function})}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.delenv("AWS_PROFILE", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


def _create_pool(endpoint: str, name: str) -> Pool:
    cognito = boto3.client("cognito-idp", endpoint_url=endpoint, region_name=REGION)
    pool_id = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=f"{name}-console",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    for group in ("team-sales", "member"):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    cognito.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True
    )
    for group in ("team-sales", "member"):
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName=group)
    tokens = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return Pool(pool_id, client_id, tokens["IdToken"], tokens["AccessToken"])


@pytest.fixture(scope="module")
def pool(moto_endpoint: str) -> Pool:
    return _create_pool(moto_endpoint, "cloison-users")


@pytest.fixture(scope="module")
def other_pool(moto_endpoint: str) -> Pool:
    return _create_pool(moto_endpoint, "someone-elses-users")


@pytest.fixture(scope="module")
def functions() -> FakeFunctions:
    return FakeFunctions()


@pytest.fixture(autouse=True)
def _fresh_functions(functions: FakeFunctions) -> None:
    functions.calls.clear()
    functions.reply = _ok


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("console")
    (root / "index.html").write_text("<h1>Cloison</h1>")
    (root / "app.js").write_text("console.log('cloison')")
    return root


@pytest.fixture(scope="module")
def gateway(
    moto_endpoint: str, pool: Pool, functions: FakeFunctions, static_dir: Path
) -> Iterator[ApiGateway]:
    authorizer = CognitoAuthorizer(moto_endpoint, REGION, pool.id, [pool.client_id])
    api = ApiGateway(
        ROUTES, functions, {"Cognito": authorizer}, port=0, stage=STAGE, static_dir=static_dir
    )
    with api:
        yield api


def call(
    api: ApiGateway,
    method: str,
    path: str,
    authorization: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}))
    if authorization is not None:
        headers["Authorization"] = authorization
    return requests.request(method, api.url + path, headers=headers, timeout=10, **kwargs)


def claims_of(token: str) -> JsonDict:
    return jwt.decode(token, options={"verify_signature": False})


@functools.cache
def stranger_key() -> rsa.RSAPrivateKey:
    """An RSA key no pool published."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(claims: JsonDict, key: Any = None, kid: str = "dummy") -> str:
    return jwt.encode(claims, key or moto_signing_key(), algorithm="RS256", headers={"kid": kid})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bad_authorization(case: str, route: Route, pool: Pool, other_pool: Pool) -> str | None:
    """An Authorization header that API Gateway's Cognito authorizer refuses on `route`."""
    wants_access = bool(route.scopes)
    good = pool.access_token if wants_access else pool.id_token
    claims = claims_of(good)
    now = int(time.time())
    if case == "no token":
        return None
    if case == "empty bearer":
        return "Bearer "
    if case == "not a jwt":
        return "Bearer not-a-jwt"
    if case == "expired":
        return sign({**claims, "iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600})
    if case in ("wrong signature", "unknown signing key"):
        return sign(claims, stranger_key(), kid="dummy" if case == "wrong signature" else "rotated")
    if case == "another pool":
        return other_pool.access_token if wants_access else other_pool.id_token
    if case == "issuer of another pool":
        # moto signs every pool's tokens with one key: only the issuer tells pools apart.
        return sign({**claims, "iss": claims_of(other_pool.id_token)["iss"]})
    if case == "another app client":
        return sign({**claims, ("client_id" if wants_access else "aud"): "someone-elses-app"})
    if case == "claims tampered":
        header, _, signature = good.split(".")
        richer = {**claims, "cognito:groups": ["team-sales", "admin"]}
        return ".".join([header, _b64url(json.dumps(richer).encode()), signature])
    if case == "alg none":
        header = _b64url(json.dumps({"alg": "none", "kid": "dummy"}).encode())
        return f"{header}.{_b64url(json.dumps(claims).encode())}."
    if case == "hs256 with the public key":
        public_pem = (
            moto_signing_key()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        signing_input = ".".join(
            [
                _b64url(json.dumps({"alg": "HS256", "kid": "dummy"}).encode()),
                _b64url(json.dumps(claims).encode()),
            ]
        )
        mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(mac)}"
    if case == "wrong token type":
        return pool.id_token if wants_access else pool.access_token
    if case == "token_use swapped":
        return sign({**claims, "token_use": "id" if wants_access else "access"})
    if case == "missing scope":
        return sign({**claims, "scope": "openid email"})
    raise AssertionError(case)


def _matrix() -> list[Any]:
    cases = []
    for route in ROUTES:
        if route.authorizer is None:
            continue
        for case in BAD_TOKENS:
            if case == "missing scope" and not route.scopes:
                continue  # a route without scopes takes ID tokens, which carry no scope
            cases.append(pytest.param(route, case, id=f"{route.function}-{case}"))
    return cases


@pytest.mark.parametrize(("route", "case"), _matrix())
def test_every_protected_route_refuses_a_bad_token_with_401(
    gateway: ApiGateway,
    functions: FakeFunctions,
    pool: Pool,
    other_pool: Pool,
    route: Route,
    case: str,
) -> None:
    # Given a token the pool's authorizer must refuse on this route
    authorization = bad_authorization(case, route, pool, other_pool)
    method, path = PROTECTED_REQUESTS[route.function]

    # When it is presented
    response = call(gateway, method, path, authorization, data=b'{"name": "spring"}')

    # Then API Gateway's 401 comes back and the function never runs
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert functions.calls == []


def test_the_routes_own_scope_is_required_even_with_a_genuine_access_token(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # Given a genuine access token, which grants only aws.cognito.signin.user.admin
    # When it calls a route that asks for cloison/admin
    response = call(gateway, "DELETE", "/teams/sales", f"Bearer {pool.access_token}")

    # Then it is refused
    assert response.status_code == 401
    assert functions.calls == []


def test_an_id_token_reaches_the_function_with_a_rest_proxy_event(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # Given alice's ID token, sent raw as Cognito's samples do
    token_claims = claims_of(pool.id_token)
    before_ms = int(time.time() * 1000)

    # When she lists campaigns
    response = call(gateway, "GET", "/campaigns", pool.id_token, headers={"User-Agent": "ua/1"})

    # Then the function gets the REST (v1) proxy event API Gateway would build
    assert response.status_code == 200
    assert response.json() == {"function": "ListCampaigns"}
    function, event = functions.calls[-1]
    assert function == "ListCampaigns"
    assert set(event) == {
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
        "body",
        "isBase64Encoded",
    }
    assert event["resource"] == "/campaigns"
    assert event["path"] == "/campaigns"
    assert event["httpMethod"] == "GET"
    assert event["headers"]["User-Agent"] == "ua/1"
    assert event["multiValueHeaders"]["User-Agent"] == ["ua/1"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False

    context = event["requestContext"]
    assert context["accountId"] == "123456789012"
    assert context["apiId"]
    assert context["resourceId"]
    assert context["resourcePath"] == "/campaigns"
    assert context["httpMethod"] == "GET"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert context["extendedRequestId"] == response.headers["x-amz-apigw-id"]
    assert re.fullmatch(
        r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["requestTime"]
    )
    assert before_ms - 1000 <= context["requestTimeEpoch"] <= int(time.time() * 1000)
    assert context["path"] == f"/{STAGE}/campaigns"
    assert context["stage"] == STAGE
    assert context["protocol"] == "HTTP/1.1"
    assert context["domainName"] == gateway.url.removeprefix("http://")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "ua/1"

    # And the claims arrive as API Gateway renders them: every value a string
    claims = context["authorizer"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    assert claims["sub"] == token_claims["sub"]
    assert claims["aud"] == pool.client_id
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == "alice"
    assert claims["cognito:groups"] == ",".join(token_claims["cognito:groups"])
    assert set(claims["cognito:groups"].split(",")) == {"team-sales", "member"}
    assert claims["auth_time"] == str(token_claims["auth_time"])
    for name in ("exp", "iat"):
        assert DATE_CLAIM.fullmatch(claims[name])
        assert claims[name] == datetime.fromtimestamp(token_claims[name], UTC).strftime(
            "%a %b %d %H:%M:%S UTC %Y"
        )


def test_an_access_token_with_bearer_reaches_a_scoped_route_and_its_reply_is_mapped(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # Given a function that answers 201 with cookies in multiValueHeaders
    functions.reply = lambda function, event: {
        "statusCode": 201,
        "headers": {"Content-Type": "application/problem+json", "Set-Cookie": "lost=1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": '{"id": "c-9"}',
        "isBase64Encoded": False,
    }

    # When alice creates a campaign with her access token
    response = call(
        gateway,
        "POST",
        "/campaigns",
        f"Bearer {pool.access_token}",
        json={"name": "spring"},
    )

    # Then the event carries the JSON body as text and the access token's claims
    event = functions.last_event
    assert event["body"] == '{"name": "spring"}'
    assert event["isBase64Encoded"] is False
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["token_use"] == "access"
    assert claims["client_id"] == pool.client_id
    assert claims["scope"] == ADMIN_SCOPE
    assert claims["username"] == "alice"
    # And the proxy result becomes the HTTP response, multiValueHeaders winning over headers
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.json() == {"id": "c-9"}


def test_path_parameters_come_from_the_matching_resource(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # When a campaign is opened by id
    response = call(gateway, "GET", "/campaigns/c-42", pool.id_token)

    # Then the {campaignId} resource serves it, with its parameter
    assert response.status_code == 200
    function, event = functions.calls[-1]
    assert function == "GetCampaign"
    assert event["resource"] == "/campaigns/{campaignId}"
    assert event["requestContext"]["resourcePath"] == "/campaigns/{campaignId}"
    assert event["path"] == "/campaigns/c-42"
    assert event["pathParameters"] == {"campaignId": "c-42"}


def test_a_literal_segment_wins_over_a_path_parameter(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # When /campaigns/stats is asked for, which {campaignId} would also match
    response = call(gateway, "GET", "/campaigns/stats", pool.id_token)

    # Then the literal resource serves it
    assert response.status_code == 200
    function, event = functions.calls[-1]
    assert function == "CampaignStats"
    assert event["pathParameters"] is None


def test_a_greedy_proxy_resource_takes_the_rest_of_the_path_for_any_method(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # When a file deep under /files is deleted
    response = call(gateway, "DELETE", "/files/2026/04/report.csv", pool.access_token)

    # Then ANY /files/{proxy+} serves it with the whole remainder
    assert response.status_code == 200
    function, event = functions.calls[-1]
    assert function == "Files"
    assert event["httpMethod"] == "DELETE"
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "2026/04/report.csv"}


def test_query_strings_keep_every_value_and_the_last_one(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # When a query repeats a parameter, uses + for a space and leaves one empty
    call(gateway, "GET", "/campaigns?status=sent&status=draft&q=spring+sale&cursor=", pool.id_token)

    # Then single values hold the last, multi values hold all, decoded
    event = functions.last_event
    assert event["queryStringParameters"] == {"status": "draft", "q": "spring sale", "cursor": ""}
    assert event["multiValueQueryStringParameters"] == {
        "status": ["sent", "draft"],
        "q": ["spring sale"],
        "cursor": [""],
    }


def test_repeated_request_headers_keep_every_value_and_the_last_one(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # Given a request repeating a header, which requests cannot send
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("GET", "/campaigns")
    connection.putheader("Authorization", pool.id_token)
    connection.putheader("X-Team", "sales")
    connection.putheader("X-Team", "support")

    # When it is sent
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()

    # Then headers holds the last value and multiValueHeaders all of them
    assert response.status == 200
    event = functions.last_event
    assert event["headers"]["X-Team"] == "support"
    assert event["multiValueHeaders"]["X-Team"] == ["sales", "support"]


def test_binary_bodies_travel_base64_both_ways(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # Given a function that answers with a PNG
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    functions.reply = lambda function, event: {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }
    upload = bytes(range(256)) * 4

    # When a binary file is uploaded
    response = call(
        gateway,
        "POST",
        "/uploads",
        pool.access_token,
        data=upload,
        headers={"Content-Type": "application/octet-stream"},
    )

    # Then the function gets it base64-encoded, and the client gets the PNG's bytes
    event = functions.last_event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == upload
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content == png


def test_text_that_is_not_utf8_reaches_the_function_intact(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # When a client sends broken UTF-8 labelled as JSON
    broken = b'{"name": "\xff\xfe"}'
    call(
        gateway,
        "POST",
        "/campaigns",
        pool.access_token,
        data=broken,
        headers={"Content-Type": "application/json"},
    )

    # Then the handler sees exactly those bytes, base64-encoded
    event = functions.last_event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == broken


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("PUT", "/campaigns"), ("GET", "/files"), ("GET", "/campaigns/c-1/x")],
)
def test_an_unknown_route_is_403_missing_authentication_token(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool, method: str, path: str
) -> None:
    # When a path or method no resource defines is called, even with a good token
    response = call(gateway, method, path, pool.id_token)

    # Then API Gateway's 403 comes back
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert functions.calls == []


def test_a_public_route_needs_no_token_and_gets_no_authorizer(
    gateway: ApiGateway, functions: FakeFunctions
) -> None:
    # When the health route is called without a token
    response = call(gateway, "GET", "/health")

    # Then the function runs, with no authorizer context
    assert response.status_code == 200
    assert "authorizer" not in functions.last_event["requestContext"]


def _raise(exc: Exception) -> Callable[[str, JsonDict], Any]:
    def reply(function: str, event: JsonDict) -> Any:
        raise exc

    return reply


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(_raise(RuntimeError("handler crashed")), id="function error"),
        pytest.param(_raise(TimeoutError("Task timed out after 3.00 seconds")), id="timeout"),
        pytest.param(lambda f, e: "ok", id="not an object"),
        pytest.param(lambda f, e: {"body": "{}"}, id="no statusCode"),
        pytest.param(lambda f, e: {"statusCode": "200"}, id="statusCode as text"),
        pytest.param(lambda f, e: {"statusCode": 200, "body": {"a": 1}}, id="body not a string"),
        pytest.param(lambda f, e: {"statusCode": 200, "extra": 1}, id="unknown key"),
        pytest.param(
            lambda f, e: {"statusCode": 200, "headers": {"X-A": "1\r\nSet-Cookie: s=1"}},
            id="header injection",
        ),
        pytest.param(
            lambda f, e: {"statusCode": 200, "body": "***", "isBase64Encoded": True},
            id="bad base64",
        ),
    ],
)
def test_a_failing_or_malformed_function_is_502(
    gateway: ApiGateway,
    functions: FakeFunctions,
    pool: Pool,
    reply: Callable[[str, JsonDict], Any],
) -> None:
    # Given a function that fails or answers something API Gateway cannot map
    functions.reply = reply

    # When it is called
    response = call(gateway, "GET", "/campaigns", pool.id_token)

    # Then the client sees API Gateway's 502, and nothing of the failure
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert "Set-Cookie" not in response.headers


def test_a_body_over_10_mb_is_413_before_the_function_runs(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # Given a request announcing one byte more than API Gateway accepts
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/uploads")
    connection.putheader("Authorization", pool.access_token)
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))

    # When its headers arrive
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()

    # Then it is refused as too large
    assert response.status == 413
    assert json.loads(body) == {"message": "Request Too Long"}
    assert functions.calls == []


def test_a_body_of_exactly_10_mb_is_accepted(
    gateway: ApiGateway, functions: FakeFunctions, pool: Pool
) -> None:
    # When exactly 10 MB is uploaded
    response = call(
        gateway,
        "POST",
        "/uploads",
        pool.access_token,
        data=b"\0" * (10 * 1024 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )

    # Then the function gets all of it
    assert response.status_code == 200
    assert len(base64.b64decode(functions.last_event["body"])) == 10 * 1024 * 1024


def test_the_static_console_is_served_where_no_route_matches(gateway: ApiGateway) -> None:
    # When the console's files are asked for
    index = call(gateway, "GET", "/")
    script = call(gateway, "GET", "/app.js")
    escape = call(gateway, "GET", "/%2e%2e/%2e%2e/etc/passwd")

    # Then they are served, and nothing outside the directory is
    assert index.status_code == 200
    assert index.text == "<h1>Cloison</h1>"
    assert index.headers["Content-Type"] == "text/html"
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert escape.status_code == 403


def test_pool_keys_are_fetched_once_and_again_for_an_unknown_key(
    moto_endpoint: str, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an authorizer that counts its JWKS fetches
    authorizer = CognitoAuthorizer(moto_endpoint, REGION, pool.id, [pool.client_id])
    fetches: list[float] = []
    fetch = authorizer._fetch_keys

    def counting_fetch() -> Any:
        fetches.append(time.monotonic())
        return fetch()

    monkeypatch.setattr(authorizer, "_fetch_keys", counting_fetch)

    # When two good tokens are checked, then one signed with a key the pool never published
    authorizer.authorize(pool.id_token)
    authorizer.authorize(f"Bearer {pool.access_token}", [ADMIN_SCOPE])
    with pytest.raises(Unauthorized):
        authorizer.authorize(sign(claims_of(pool.id_token), stranger_key(), kid="rotated"))

    # Then the keys were fetched once, and once more for the unknown key
    assert len(fetches) == 2


def test_neither_tokens_nor_bodies_reach_the_log(
    gateway: ApiGateway, pool: Pool, caplog: pytest.LogCaptureFixture
) -> None:
    # Given everything the gateway logs
    caplog.set_level(logging.DEBUG, logger="cloison_local")
    expired = sign({**claims_of(pool.id_token), "exp": int(time.time()) - 60})

    # When one request is refused and another carries a phone number in its body and query
    refused = call(gateway, "GET", "/campaigns", f"Bearer {expired}")
    accepted = call(
        gateway,
        "POST",
        "/campaigns?to=%2B33612345678",
        pool.access_token,
        json={"to": "+33612345678"},
    )

    # Then the refusal's reason is logged, but no token, body or query
    assert refused.status_code == 401
    assert accepted.status_code == 200
    assert "ExpiredSignatureError" in caplog.text
    for secret in (expired, pool.access_token, "33612345678", expired.split(".")[1]):
        assert secret not in caplog.text


def test_claims_render_as_api_gateway_strings() -> None:
    # Given claims of every JSON type
    claims = {
        "cognito:groups": ["team-sales", "member"],
        "email_verified": True,
        "auth_time": 1680629979,
        "exp": 1680633579,
        "iat": 1680629979,
        "custom:team": "sales",
        "nested": {"a": 1},
    }

    # When they are rendered
    rendered = render_claims(claims)

    # Then each is the string API Gateway REST passes
    assert rendered == {
        "cognito:groups": "team-sales,member",
        "email_verified": "true",
        "auth_time": "1680629979",
        "exp": "Tue Apr 04 18:39:39 UTC 2023",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "custom:team": "sales",
        "nested": '{"a":1}',
    }
