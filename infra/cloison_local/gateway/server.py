"""The local API Gateway's HTTP server: ApiGateway serves the template's routes, finds the
resource and method of each request as API Gateway does, checks its authorizer, and calls the
route's function with the request's Lambda proxy event; static files are served where no route
matches."""

from __future__ import annotations

import base64
import logging
import mimetypes
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from cloison_local.gateway.authorizer import CognitoAuthorizer, Unauthorized
from cloison_local.gateway.events import _clf_time, _header, _is_text, _Request, render_claims
from cloison_local.gateway.responses import (
    _MISSING_TOKEN,
    _gateway_error,
    _MalformedResult,
    _proxy_reply,
    _Reply,
)
from cloison_local.model import Invoker, JsonDict, Route

# Every part of the gateway logs as the gateway.
logger = logging.getLogger("cloison_local.gateway")

MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
ACCOUNT_ID = "123456789012"
API_ID = "cloisonlcl"


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


def _resource_id(path: str) -> str:
    # Stable across restarts, like the id a deployed resource keeps.
    return uuid.uuid5(uuid.NAMESPACE_URL, path).hex[:6]


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
