"""How a request reads in a REST (v1) Lambda proxy event: the request as the gateway read it, its
headers and body, and the authorizer's claims and the request's time rendered as API Gateway
renders them."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


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
