"""The API's resolver, and what every route reads of the request it serves: the caller, the
body as sent, its media type."""

import base64
import binascii

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from cloison.errors import (
    RuleViolation,
)
from cloison.services.access import Caller, caller_from_claims

app = APIGatewayRestResolver(enable_validation=True)

JSON = "application/json"
CSV = "text/csv"


class UnsupportedMediaType(Exception):
    """The body's Content-Type is not one the route reads."""

    def __init__(self, accepted: tuple[str, ...]) -> None:
        super().__init__(f"this route takes {' or '.join(accepted)}")
        self.accepted = accepted


def caller() -> Caller:
    claims = app.current_event.request_context.authorizer.claims or {}
    return caller_from_claims(claims)


def media_type() -> str | None:
    """The request's media type, lowercased and without parameters; None when not given."""
    header = app.current_event.headers.get("content-type") or ""
    return header.split(";", 1)[0].strip().lower() or None


def refused_media_type() -> UnsupportedMediaType | None:
    """A route that reads a JSON body takes application/json, or a body without a Content-Type.

    The resolver alone would also read form and multipart bodies, and any type starting with
    `application/json`, into the model."""
    route = app.context.get("_route")
    if route is None or not route.dependant.body_params:
        return None
    if media_type() in (None, JSON):
        return None
    return UnsupportedMediaType((JSON,))


def body_bytes() -> bytes:
    """The body as sent: API Gateway passes binary media types base64-encoded."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RuleViolation("body", "is not valid base64") from None
    return body.encode("utf-8")
