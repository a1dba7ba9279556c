"""RFC 9457 problem documents: the one place where errors become HTTP responses."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

PROBLEM_TYPES = "https://cloison.dev/problems/"
CONTENT_TYPE = "application/problem+json"


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> Response[str]:
    body = {
        "type": PROBLEM_TYPES + slug,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(status_code=status, content_type=CONTENT_TYPE, body=json.dumps(body))


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic errors as {field, reason}, without the offending input (it may be a phone number)."""
    described = []
    for error in errors:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")
        ]
        described.append(
            {"field": ".".join(location) or "body", "reason": str(error.get("msg", "is invalid"))}
        )
    return described
