"""The local API Gateway: serves the template's REST routes over HTTP, checking Cognito tokens and
calling each route's function with a real REST (v1) Lambda proxy event."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import mimetypes
import secrets
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt

from cloison_local.model import Invoker, JsonDict, Route

logger = logging.getLogger(__name__)

MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
ACCOUNT_ID = "123456789012"
API_ID = "cloisonlcl"
JWKS_FETCH_TIMEOUT_SECONDS = 5.0

_PROXY_RESULT_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)
# Framing headers are the gateway's to set, whatever the function returned.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_TEXT_MEDIA_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-www-form-urlencoded",
        "application/graphql",
    }
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# API Gateway renders these two claims as java.util.Date strings; auth_time stays a number.
_DATE_CLAIMS = frozenset({"exp", "iat"})


class Unauthorized(Exception):
    """A token was refused; the message says why, for the log only, never for the client."""


class CognitoAuthorizer:
    """What API Gateway's COGNITO_USER_POOLS authorizer checks, against one user pool."""

    def __init__(
        self,
        cognito_endpoint_url: str,
        region: str,
        user_pool_id: str,
        app_client_ids: Iterable[str],
        client_lookup: Callable[[str], bool] | None = None,
    ) -> None:
        """`client_lookup` says whether an app client unknown so far is one of the pool's (one
        created after start, as onboarding a team does): access tokens of it are then taken."""
        endpoint = cognito_endpoint_url.rstrip("/")
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"Cognito endpoint must be http(s): {cognito_endpoint_url!r}")
        self.app_client_ids = frozenset(app_client_ids)
        if not self.app_client_ids:
            raise ValueError("a Cognito authorizer needs at least one app client id")
        self.user_pool_id = user_pool_id
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.jwks_url = f"{endpoint}/{user_pool_id}/.well-known/jwks.json"
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_lock = threading.Lock()
        self._client_lookup = client_lookup

    def authorize(self, authorization: str | None, scopes: Sequence[str] = ()) -> JsonDict:
        """Return the verified claims of the token in `authorization`, or raise Unauthorized.

        With `scopes`, an access token granting one of them is required; without, an ID token.
        """
        try:
            return self._verify(_bearer_token(authorization), scopes)
        except Unauthorized as refusal:
            logger.info("token refused for pool %s: %s", self.user_pool_id, refusal)
            raise

    def _verify(self, token: str, scopes: Sequence[str]) -> JsonDict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"unreadable token header ({type(exc).__name__})") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized("token not signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("token header has no key id")
        wants_access_token = bool(scopes)
        expected_use = "access" if wants_access_token else "id"
        try:
            claims: JsonDict = jwt.decode(
                token,
                key=self._signing_key(kid),
                algorithms=["RS256"],
                issuer=self.issuer,
                # Access tokens carry no aud; pyjwt then refuses any token that has one.
                audience=None if wants_access_token else sorted(self.app_client_ids),
                options={"require": ["exp", "iat", "iss", "sub", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"{type(exc).__name__}: {exc}") from exc

        # A route with scopes takes only access tokens; one without, only ID tokens.
        if claims["token_use"] != expected_use:
            raise Unauthorized(f"route needs an {expected_use} token")
        if wants_access_token:
            if not self._knows_client(claims.get("client_id")):
                raise Unauthorized("access token issued to an unknown app client")
            granted = claims.get("scope")
            if not isinstance(granted, str) or not set(granted.split()) & set(scopes):
                raise Unauthorized("access token grants none of the route's scopes")
        return claims

    def _knows_client(self, client_id: Any) -> bool:
        if client_id in self.app_client_ids:
            return True
        if self._client_lookup is None or not isinstance(client_id, str):
            return False
        if not self._client_lookup(client_id):
            return False
        self.app_client_ids = self.app_client_ids | {client_id}
        return True

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        with self._keys_lock:
            if kid not in self._keys:
                # Fetched once; a kid we do not know may mean the pool rotated its keys.
                self._keys = self._fetch_keys()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token signed with a key the pool does not publish")
        return key

    def _fetch_keys(self) -> dict[str, jwt.PyJWK]:
        try:
            # The scheme was checked in the constructor: only http(s) reaches here.
            with urllib.request.urlopen(  # noqa: S310
                self.jwks_url, timeout=JWKS_FETCH_TIMEOUT_SECONDS
            ) as response:
                key_set = jwt.PyJWKSet.from_json(response.read().decode("utf-8"))
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise Unauthorized(f"pool keys unavailable ({type(exc).__name__})") from exc
        logger.debug("fetched %d signing keys for pool %s", len(key_set.keys), self.user_pool_id)
        return {key.key_id: key for key in key_set.keys if key.key_id}


def _bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise Unauthorized("no Authorization header")
    token = authorization.strip()
    scheme, _, rest = token.partition(" ")
    if rest and scheme.lower() == "bearer":
        token = rest.strip()
    if not token or " " in token:
        raise Unauthorized("Authorization header is not a token")
    return token


def render_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Render verified claims as API Gateway REST passes them in `requestContext.authorizer.claims`.

    Every value becomes a string: lists are joined with commas (`cognito:groups` of two groups
    arrives as "member,team-sales"), booleans are "true"/"false", `exp` and `iat` are
    java.util.Date strings such as "Tue Apr 04 18:39:39 UTC 2023", other numbers are decimal.
    """
    rendered: dict[str, str] = {}
    for name, value in claims.items():
        if value is None:
            continue
        if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
            rendered[name] = _java_date(value)
        else:
            rendered[name] = _claim_text(value)
    return rendered


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(_claim_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _java_date(epoch_seconds: float) -> str:
    # Fixed English names: strftime's %a and %b follow the process locale.
    t = time.gmtime(epoch_seconds)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year}"
    )


def _clf_time(epoch_seconds: float) -> str:
    t = time.gmtime(epoch_seconds)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def _is_text(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return (
        not media
        or media.startswith("text/")
        or media in _TEXT_MEDIA_TYPES
        or media.endswith(("+json", "+xml"))
    )


@dataclass(frozen=True)
class _Resource:
    """One route with its path split into segments, ready to match request paths."""

    route: Route
    segments: tuple[str, ...]
    resource_id: str

    def match(self, parts: Sequence[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """Return (specificity, path parameters) if `parts` matches; lower specificity wins."""
        rank: list[int] = []
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = parts[index:]
                if not rest:
                    return None
                params[segment[1:-2]] = "/".join(rest)
                rank.append(2)
                return tuple(rank), params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if not parts[index]:
                    return None
                params[segment[1:-1]] = parts[index]
                rank.append(1)
            elif segment == parts[index]:
                rank.append(0)
            else:
                return None
        if len(parts) != len(self.segments):
            return None
        return tuple(rank), params


def _split_path(path: str) -> tuple[str, ...]:
    # API Gateway serves /campaigns/ as /campaigns; the root resource has no segments.
    stripped = path.strip("/")
    return tuple(stripped.split("/")) if stripped else ()


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _gateway_error(status: int, message: str, error_type: str | None = None) -> _Reply:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return _Reply(status, headers, json.dumps({"message": message}).encode())


_MISSING_TOKEN = ("Missing Authentication Token", "MissingAuthenticationTokenException")


class _MalformedResult(Exception):
    """The function returned something API Gateway cannot turn into an HTTP response."""


class ApiGateway:
    """Serves `routes` on host:port like an API Gateway REST API stage with Lambda proxy
    integrations, calling `invoke(function, event)` for each request that passes its authorizer."""

    def __init__(
        self,
        routes: Iterable[Route],
        invoke: Invoker,
        authorizers: Mapping[str, CognitoAuthorizer],
        host: str = "127.0.0.1",
        port: int = 3000,
        stage: str = "dev",
        static_dir: str | Path | None = None,
        static_files: Mapping[str, bytes] | None = None,
        static_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._routes = tuple(routes)
        unknown = {r.authorizer for r in self._routes if r.authorizer} - set(authorizers)
        if unknown:
            raise ValueError(f"routes name authorizers that were not given: {sorted(unknown)}")
        self._invoke = invoke
        self._authorizers = dict(authorizers)
        self._host = host
        self._port = port
        self.stage = stage
        self._static_dir = Path(static_dir).resolve() if static_dir is not None else None
        # Files made at start (the console's config.json), served before the directory's.
        self._static_files = dict(static_files or {})
        # What the CDN in front of the static files adds to each (the console's security headers).
        self._static_headers = tuple(static_headers)
        self._resources = tuple(
            _Resource(route, _split_path(route.path), _resource_id(route.path))
            for route in self._routes
        )
        self._server: _GatewayServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the running gateway, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("the gateway is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Bind and serve in a background thread; port 0 picks a free port."""
        if self._server is not None:
            raise RuntimeError("the gateway is already started")
        server = _GatewayServer((self._host, self._port), _GatewayRequestHandler, self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},  # so that stop() returns promptly
            name="cloison-api-gateway",
            daemon=True,
        )
        self._thread.start()
        logger.info("API Gateway stage %s listening on %s", self.stage, self.url)

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> ApiGateway:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _handle(self, request: _Request) -> _Reply:
        """Answer one HTTP request as API Gateway would."""
        started = time.monotonic()
        parts = _split_path(request.path)
        found = self._find(request.method, parts)
        if found is None:
            reply = self._static(request) or _gateway_error(403, *_MISSING_TOKEN)
            logger.info("%s (no route) -> %d", request.method, reply.status)
            return reply
        resource, params = found
        route = resource.route
        claims: JsonDict | None = None
        if route.authorizer is not None:
            try:
                claims = self._authorizers[route.authorizer].authorize(
                    request.authorization, route.scopes
                )
            except Unauthorized:
                reply = _gateway_error(401, "Unauthorized", "UnauthorizedException")
                logger.info("%s %s -> 401", request.method, route.path)
                return reply
        event = self._event(request, resource, params, claims)
        reply = self._call(route, event)
        logger.info(
            "%s %s -> %s %d (%.0f ms)",
            request.method,
            route.path,
            route.function,
            reply.status,
            (time.monotonic() - started) * 1000,
        )
        return reply

    def _find(self, method: str, parts: Sequence[str]) -> tuple[_Resource, dict[str, str]] | None:
        # API Gateway picks the resource first (literal beats {param} beats {proxy+}, segment by
        # segment), then the method on it: a method the resource lacks is not looked for elsewhere.
        matches = [(m, r) for r in self._resources if (m := r.match(parts)) is not None]
        if not matches:
            return None
        best_rank = min(rank for (rank, _), _ in matches)
        on_resource = [(r, params) for (rank, params), r in matches if rank == best_rank]
        for wanted in (method, "ANY"):
            for resource, params in on_resource:
                if resource.route.method.upper() == wanted:
                    return resource, params
        return None

    def _event(
        self,
        request: _Request,
        resource: _Resource,
        path_params: dict[str, str],
        claims: JsonDict | None,
    ) -> JsonDict:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)

        query = parse_qsl(request.query, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for name, value in query:
            multi_query.setdefault(name, []).append(value)

        if not request.body:
            body, is_base64 = None, False
        elif _is_text(_header(request.headers, "content-type")):
            try:
                body, is_base64 = request.body.decode("utf-8"), False
            except UnicodeDecodeError:
                # Bytes that are not UTF-8 travel intact, so handlers meet them as sent.
                body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
        else:
            body, is_base64 = base64.b64encode(request.body).decode("ascii"), True

        host_header = _header(request.headers, "host") or f"{self._host}:{self._port}"
        request_context: JsonDict = {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": resource.resource_id,
            "resourcePath": resource.route.path,
            "httpMethod": request.method,
            "requestId": request.request_id,
            "extendedRequestId": request.extended_request_id,
            "requestTime": _clf_time(request.received_at),
            "requestTimeEpoch": int(request.received_at * 1000),
            "path": f"/{self.stage}{request.path}",
            "stage": self.stage,
            "protocol": request.protocol,
            "domainName": host_header,
            "domainPrefix": host_header.split(".", 1)[0],
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": _header(request.headers, "user-agent"),
                "user": None,
            },
        }
        if claims is not None:
            request_context["authorizer"] = {"claims": render_claims(claims)}

        return {
            "resource": resource.route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": dict(query) or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _call(self, route: Route, event: JsonDict) -> _Reply:
        request_id = event["requestContext"]["requestId"]
        try:
            result = self._invoke(route.function, event)
        except Exception as exc:  # a function error or timeout, as Lambda reports it
            logger.warning("function %s failed: %s", route.function, type(exc).__name__)
            return _gateway_error(502, "Internal server error", "InternalServerErrorException")
        try:
            reply = _proxy_reply(result)
        except _MalformedResult as exc:
            logger.warning("function %s returned a malformed result: %s", route.function, exc)
            return _gateway_error(502, "Internal server error", "InternalServerErrorException")
        reply.headers.append(("x-amzn-RequestId", request_id))
        reply.headers.append(("x-amz-apigw-id", event["requestContext"]["extendedRequestId"]))
        return reply

    def _static(self, request: _Request) -> _Reply | None:
        if request.method not in ("GET", "HEAD"):
            return None
        generated = self._static_files.get(request.path)
        if generated is not None:
            return self._static_reply(request.path, generated)
        if self._static_dir is None:
            return None
        target = (self._static_dir / unquote(request.path).lstrip("/")).resolve()
        if not target.is_relative_to(self._static_dir):
            return None
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return None
        return self._static_reply(target.name, target.read_bytes())

    def _static_reply(self, name: str, body: bytes) -> _Reply:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return _Reply(200, [("Content-Type", content_type), *self._static_headers], body)


def _proxy_reply(result: Any) -> _Reply:
    if not isinstance(result, dict):
        raise _MalformedResult(f"result is a {type(result).__name__}, not an object")
    extra = set(result) - _PROXY_RESULT_KEYS
    if extra:
        raise _MalformedResult(f"unexpected keys {sorted(extra)}")
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise _MalformedResult("statusCode is not an HTTP status")

    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise _MalformedResult("headers must be objects")
    # As API Gateway merges them: a name in multiValueHeaders replaces the same name in headers.
    multi_names = {str(name).lower() for name in multi}
    pairs: list[tuple[str, str]] = []
    for name, value in single.items():
        if str(name).lower() not in multi_names:
            pairs.append((_header_name(name), _header_value(value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise _MalformedResult("multiValueHeaders values must be lists")
        pairs.extend((_header_name(name), _header_value(value)) for value in values)
    headers = [(name, value) for name, value in pairs if name.lower() not in _FRAMING_HEADERS]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))

    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif not isinstance(raw_body, str):
        raise _MalformedResult("body is not a string")
    elif result.get("isBase64Encoded") is True:
        try:
            body = base64.b64decode(raw_body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _MalformedResult("body is not valid base64") from exc
    else:
        body = raw_body.encode("utf-8")
    return _Reply(status, headers, body)


def _header_name(name: Any) -> str:
    if not isinstance(name, str) or not name or any(c in name for c in " :\r\n"):
        raise _MalformedResult("header name is not a token")
    return name


def _header_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _MalformedResult("header values must be strings or numbers")
    text = str(value)
    if "\r" in text or "\n" in text:
        raise _MalformedResult("header contains a line break")
    return text


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _resource_id(path: str) -> str:
    # Stable across restarts, like the id a deployed resource keeps.
    return uuid.uuid5(uuid.NAMESPACE_URL, path).hex[:6]


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query: str
    protocol: str
    headers: list[tuple[str, str]]
    authorization: str | None
    body: bytes
    source_ip: str
    request_id: str
    extended_request_id: str
    received_at: float


class _GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        gateway: ApiGateway,
    ) -> None:
        self.gateway = gateway
        super().__init__(address, handler)


class _BodyTooLarge(Exception):
    pass


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloison-local-apigateway"

    def version_string(self) -> str:
        return self.server_version

    def _serve(self) -> None:
        received_at = time.time()
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self.close_connection = True
            self._write(_gateway_error(413, "Request Too Long"))
            return
        except ValueError:
            self.close_connection = True
            self._write(_gateway_error(400, "Bad Request"))
            return
        url = urlsplit(self.path)
        authorizations = self.headers.get_all("Authorization") or []
        request = _Request(
            method=self.command,
            path=url.path or "/",
            query=url.query,
            protocol=self.request_version,
            headers=self._event_headers(),
            # Two Authorization headers are ambiguous: treat them as none.
            authorization=authorizations[0] if len(authorizations) == 1 else None,
            body=body,
            source_ip=self.client_address[0],
            request_id=str(uuid.uuid4()),
            extended_request_id=base64.b64encode(secrets.token_bytes(10)).decode("ascii"),
            received_at=received_at,
        )
        gateway = cast(_GatewayServer, self.server).gateway
        try:
            reply = gateway._handle(request)
        except Exception:
            logger.exception("local API Gateway failed on %s", self.command)
            reply = _gateway_error(500, "Internal server error")
        self._write(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _event_headers(self) -> list[tuple[str, str]]:
        headers = [(name, value) for name, value in self.headers.items()]
        forwarded = [value for name, value in headers if name.lower() == "x-forwarded-for"]
        client_ip = self.client_address[0]
        headers = [(name, value) for name, value in headers if name.lower() != "x-forwarded-for"]
        # API Gateway appends the caller to X-Forwarded-For and says how it was reached.
        headers.append(("X-Forwarded-For", ", ".join([*forwarded, client_ip])))
        names = {name.lower() for name, _ in headers}
        if "x-forwarded-proto" not in names:
            headers.append(("X-Forwarded-Proto", "http"))
        if "x-forwarded-port" not in names:
            headers.append(("X-Forwarded-Port", str(cast(_GatewayServer, self.server).server_port)))
        if "x-amzn-trace-id" not in names:
            trace = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
            headers.append(("X-Amzn-Trace-Id", trace))
        return headers

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        length = int(length_header)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_REQUEST_BODY_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_REQUEST_BODY_BYTES:
                raise _BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _write(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line can carry query strings with personal data; ApiGateway logs instead.
        return
