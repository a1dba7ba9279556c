"""What the gateway answers: its own errors, as API Gateway words them, and a function's proxy
result turned into an HTTP response as API Gateway turns it (or refused as malformed)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

_PROXY_RESULT_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)
# Framing headers are the gateway's to set, whatever the function returned.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


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
