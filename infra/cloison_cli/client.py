"""Calls to Cloison's HTTP API over the standard library; errors come back as problem documents."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

USER_AGENT = "cloison-cli/0.1"
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, media type and body."""

    status: int
    content_type: str
    body: bytes

    def document(self) -> Any:
        """The body as JSON; None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


class Transport(Protocol):
    """Sends one request; `body` is bytes, or a readable stream of `length` bytes."""

    def __call__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | IO[bytes] | None,
    ) -> Answer: ...


class Unreachable(Exception):
    """The API could not be reached at all (no answer)."""


def urllib_transport(
    method: str, url: str, headers: dict[str, str], body: bytes | IO[bytes] | None
) -> Answer:
    """The standard library's HTTP client: a stream is sent as it is read (progress follows it)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return Answer(response.status, response.headers.get_content_type(), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.headers.get_content_type(), error.read())
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise Unreachable(f"{urllib.parse.urlsplit(url).netloc}: {reason}") from None


@dataclass(eq=False)
class ApiError(Exception):
    """The API refused: a problem document (RFC 9457), or an answer of another shape."""

    status: int
    title: str
    detail: str = ""
    type: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}"

    @property
    def no_route(self) -> bool:
        """API Gateway's answer to a path or method it does not have."""
        return self.type.endswith("/no-route") or (
            self.status == 403 and self.title == "Missing Authentication Token"
        )

    @classmethod
    def from_answer(cls, answer: Answer) -> ApiError:
        document = answer.document()
        if isinstance(document, dict) and "title" in document:
            known = {"type", "title", "status", "detail", "errors"}
            errors = document.get("errors")
            return cls(
                status=answer.status,
                title=str(document["title"]),
                detail=str(document.get("detail") or ""),
                type=str(document.get("type") or ""),
                errors=[
                    {str(key): str(value) for key, value in item.items()}
                    for item in errors
                    if isinstance(item, dict)
                ]
                if isinstance(errors, list)
                else [],
                extra={key: value for key, value in document.items() if key not in known},
            )
        # API Gateway's own answers (authorizer, unknown route, throttling): {"message": "..."}.
        if isinstance(document, dict) and isinstance(document.get("message"), str):
            return cls(status=answer.status, title=document["message"])
        text = answer.body[:200].decode("utf-8", "replace").strip()
        return cls(status=answer.status, title=text or f"HTTP {answer.status}")

    def document(self) -> dict[str, Any]:
        """The problem as a JSON document, for --json."""
        return {
            "type": self.type or None,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": self.errors,
            **self.extra,
        }


class Api:
    """Cloison's API at `base_url`, called with a token; every non-2xx raises ApiError."""

    def __init__(
        self,
        base_url: str,
        authorization: Callable[[], str],
        transport: Transport = urllib_transport,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._authorization = authorization
        self._transport = transport

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str | None] | None = None,
        json_body: Any = None,
        body: bytes | IO[bytes] | None = None,
        content_type: str | None = None,
        length: int | None = None,
    ) -> Any:
        """One request; the answer's JSON document."""
        url = self.base_url + path
        params = {key: value for key, value in (query or {}).items() if value is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {
            "Authorization": self._authorization(),
            "Accept": "application/json, application/problem+json",
            "User-Agent": USER_AGENT,
        }
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            content_type = "application/json"
        if body is not None:
            headers["Content-Type"] = content_type or "application/octet-stream"
            headers["Content-Length"] = str(len(body) if isinstance(body, bytes) else length)
        elif method in ("POST", "PUT", "DELETE"):
            headers["Content-Length"] = "0"
        answer = self._transport(method, url, headers, body)
        if not 200 <= answer.status < 300:
            raise ApiError.from_answer(answer)
        return answer.document()

    def get(self, path: str, **query: str | None) -> Any:
        return self.call("GET", path, query=query)

    def post(self, path: str, json_body: Any = None) -> Any:
        return self.call("POST", path, json_body=json_body)
