"""The user pool domain's token endpoint (`POST /oauth2/token`), for the client-credentials grant.

In AWS it is `https://<domain>.auth.<region>.amazoncognito.com/oauth2/token`; moto has none. This
one reads the app client from moto (its secret, flows and scopes), answers as Cognito does, and
signs the access token with moto's own key, which the pool's JWKS publishes: the local API
Gateway, like API Gateway's Cognito authorizer, verifies it as any token of the pool.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs

import jwt
import moto.cognitoidp
from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)

GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
FORM = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 64 * 1024
# Seconds per unit of an app client's token validity (TokenValidityUnits).
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


class TokenError(Exception):
    """An OAuth 2.0 error answer: `code` is what the `error` field says."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class TokenAnswer:
    status: int
    body: dict[str, Any]


@functools.cache
def moto_signing_key() -> Any:
    """The private key moto signs the pool's tokens with (kid `dummy` in its JWKS)."""
    resources = Path(moto.cognitoidp.__file__).parent / "resources"
    private_jwk = json.loads(gzip.decompress((resources / "jwks-private.json.gz").read_bytes()))
    return jwt.PyJWK(private_jwk).key


class TokenEndpoint:
    """`POST /oauth2/token` of one user pool's domain, on host:port."""

    def __init__(
        self,
        cognito: Any,
        region: str,
        user_pool_id: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._cognito = cognito
        self.user_pool_id = user_pool_id
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self._host = host
        self._port = port
        self._server: _TokenServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the domain, without a trailing slash (append `/oauth2/token`)."""
        if self._server is None:
            raise RuntimeError("the token endpoint is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        server = _TokenServer((self._host, self._port), _TokenRequestHandler, self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="cloison-token-endpoint",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    # ------------------------------------------------------------------ the grant
    def answer(
        self, authorization: str | None, content_type: str | None, body: bytes
    ) -> TokenAnswer:
        """What Cognito answers to one token request: the token, or a 400 with its error code."""
        try:
            return TokenAnswer(200, self._grant(authorization, content_type, body))
        except TokenError as refusal:
            # The reason is for the log only; the client gets the error code alone, as from Cognito.
            logger.info("token request refused: %s (%s)", refusal.code, refusal)
            return TokenAnswer(400, {"error": refusal.code})

    def _grant(
        self, authorization: str | None, content_type: str | None, body: bytes
    ) -> dict[str, Any]:
        if (content_type or "").split(";", 1)[0].strip().lower() != FORM:
            raise TokenError("invalid_request", f"Content-Type must be {FORM}")
        form = _form(body)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise TokenError("invalid_request", "no grant_type")
        if grant_type not in GRANT_TYPES:
            raise TokenError("unsupported_grant_type", "not a grant type Cognito knows")
        if grant_type != "client_credentials":
            # People sign in through the console client; the hosted UI is not emulated.
            raise TokenError(
                "unsupported_grant_type", "the local domain has client credentials only"
            )
        client_id, secret = _client_credentials(authorization, form)
        client = self._client(client_id)
        expected = client.get("ClientSecret")
        if not expected or not hmac.compare_digest(str(expected).encode(), secret.encode()):
            raise TokenError("invalid_client", "wrong client secret, or a client without one")
        if not client.get("AllowedOAuthFlowsUserPoolClient") or "client_credentials" not in (
            client.get("AllowedOAuthFlows") or []
        ):
            raise TokenError("unauthorized_client", "client credentials are not allowed to it")
        allowed = list(client.get("AllowedOAuthScopes") or [])
        requested = (form.get("scope") or "").split()
        unknown = sorted(set(requested) - set(allowed))
        if unknown:
            raise TokenError("invalid_scope", f"scopes not allowed to the client: {unknown}")
        # Without `scope`, Cognito grants every custom scope the client is allowed.
        granted = requested or [scope for scope in allowed if "/" in scope]
        if not granted:
            raise TokenError("invalid_scope", "the client is allowed no custom scope")
        expires_in = _access_token_seconds(client)
        return {
            "access_token": self._sign(client_id, granted, expires_in),
            "expires_in": expires_in,
            "token_type": "Bearer",
        }

    def _client(self, client_id: str) -> Mapping[str, Any]:
        try:
            answer = self._cognito.describe_user_pool_client(
                UserPoolId=self.user_pool_id, ClientId=client_id
            )
        except ClientError as exc:
            raise TokenError("invalid_client", exc.response["Error"]["Code"]) from exc
        return cast(Mapping[str, Any], answer["UserPoolClient"])

    def _sign(self, client_id: str, scopes: list[str], expires_in: int) -> str:
        now = int(time.time())
        # The claims of a Cognito client-credentials access token: the client is the subject.
        claims = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": self.issuer,
            "exp": now + expires_in,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        return jwt.encode(claims, moto_signing_key(), algorithm="RS256", headers={"kid": "dummy"})


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise TokenError("invalid_request", "body is not UTF-8") from exc
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise TokenError("invalid_request", f"repeated parameters: {repeated}")
    return {name: values[0] for name, values in fields.items()}


def _client_credentials(authorization: str | None, form: Mapping[str, str]) -> tuple[str, str]:
    """client_secret_basic (the Authorization header) or client_secret_post (the body)."""
    in_body = "client_secret" in form
    if authorization:
        if in_body:
            raise TokenError("invalid_request", "two client authentication methods")
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise TokenError("invalid_client", "Authorization is not Basic")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise TokenError("invalid_client", "Basic credentials are not base64") from exc
        client_id, colon, secret = decoded.partition(":")
        if not colon or not client_id:
            raise TokenError("invalid_client", "Basic credentials are not id:secret")
        if form.get("client_id", client_id) != client_id:
            raise TokenError("invalid_client", "client_id differs from the Authorization header")
        return client_id, secret
    if in_body and form.get("client_id"):
        return form["client_id"], form["client_secret"]
    raise TokenError("invalid_client", "no client authentication")


def _access_token_seconds(client: Mapping[str, Any]) -> int:
    validity = client.get("AccessTokenValidity")
    if validity is None:
        return 3600
    unit = (client.get("TokenValidityUnits") or {}).get("AccessToken", "hours")
    return int(validity) * _UNIT_SECONDS[str(unit)]


class _TokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        endpoint: TokenEndpoint,
    ) -> None:
        self.endpoint = endpoint
        super().__init__(address, handler)


class _TokenRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloison-local-cognito"

    def version_string(self) -> str:
        return self.server_version

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/oauth2/token":
            self._write(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._write(400, {"error": "invalid_request"})
            return
        endpoint = cast(_TokenServer, self.server).endpoint
        answer = endpoint.answer(
            self.headers.get("Authorization"),
            self.headers.get("Content-Type"),
            self.rfile.read(length),
        )
        self._write(answer.status, answer.body)

    def do_GET(self) -> None:
        # The token endpoint takes POST only.
        self._write(405, {"error": "invalid_request"})

    def _write(self, status: int, body: Mapping[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines and bodies may carry client secrets: nothing is logged from here.
        return
