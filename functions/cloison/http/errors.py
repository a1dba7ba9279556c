"""Every error as an RFC 9457 problem document: the one map from the application's errors
(and the resolver's) to HTTP answers."""

import json

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from cloison.errors import (
    Conflict,
    ContextMismatch,
    DependencyError,
    Forbidden,
    NotFound,
    RuleViolation,
    TooLarge,
)
from cloison.http.problems import field_errors, problem
from cloison.http.resolver import JSON, UnsupportedMediaType, app, body_bytes, refused_media_type
from cloison.observability import logger
from cloison.services.lifecycle import InvalidTransition


def _malformed_json(detail: str = "Send a JSON document.") -> Response[str]:
    return problem(400, "malformed-json", "The body is not valid JSON", detail)


def _unsupported(error: UnsupportedMediaType) -> Response[str]:
    return problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"This route takes {' or '.join(error.accepted)}.",
        accepted=list(error.accepted),
    )


def _internal_error() -> Response[str]:
    # A bug, not the caller's fault: logged with its trace, answered without details.
    logger.exception("unhandled error")
    return problem(500, "internal-error", "Internal error", "The error was logged; retry later.")


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response[str]:
    # A body of another type may fail validation too: its type is the first thing wrong with it.
    refusal = refused_media_type()
    if refusal is not None:
        return _unsupported(refusal)
    errors = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in errors):
        return _malformed_json()
    if all(item.get("type") == "value_error" for item in errors):
        # Only the models' own validators refused it: a rule the OpenAPI schemas cannot state
        # (a time zone, a schedule expression, fields that go together), not a shape.
        return problem(
            422,
            "rule-violation",
            "A rule forbids this",
            "See `errors` for each field.",
            errors=field_errors(errors),
        )
    return problem(
        422,
        "invalid-request",
        "The request is invalid",
        "See `errors` for each field.",
        errors=field_errors(errors),
    )


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_content_type(error: Exception) -> Response[str]:
    return _unsupported(UnsupportedMediaType((JSON,)))


def _unreadable_json() -> str | None:
    """Why the body cannot be read as JSON, where the resolver's parser raises rather than
    reporting a validation error: bytes that are not UTF-8, nesting past Python's recursion."""
    try:
        # Decoded here: json.loads would take bytes with NULs in them for UTF-16 or UTF-32.
        text = (body_bytes() or b"null").decode("utf-8")
    except UnicodeDecodeError:
        return "JSON is UTF-8: the body is not."
    try:
        json.loads(text)
    except RecursionError:
        return "The body nests too deeply."
    except (json.JSONDecodeError, RuleViolation):
        return None
    return None


@app.exception_handler(UnicodeDecodeError)
@app.exception_handler(RecursionError)
def unreadable(error: Exception) -> Response[str]:
    reason = _unreadable_json()
    return _malformed_json(reason) if reason else _internal_error()


@app.exception_handler(UnsupportedMediaType)
def unsupported_media_type(error: UnsupportedMediaType) -> Response[str]:
    return _unsupported(error)


@app.exception_handler(TooLarge)
def too_large(error: TooLarge) -> Response[str]:
    return problem(413, "too-large", "Too large", f"{error}; nothing was kept.")


@app.exception_handler(RuleViolation)
def rule_violation(error: RuleViolation) -> Response[str]:
    return problem(
        422,
        "rule-violation",
        "A rule forbids this",
        error.reason,
        errors=[{"field": error.field, "reason": error.reason}],
    )


@app.exception_handler(NotFound)
@app.exception_handler(ContextMismatch)
def not_found(error: Exception) -> Response[str]:
    return problem(404, "not-found", "Not found", "No such object among your teams' objects.")


@app.exception_handler(Forbidden)
def forbidden(error: Forbidden) -> Response[str]:
    return problem(403, "forbidden", "Forbidden", str(error))


@app.exception_handler(InvalidTransition)
def invalid_transition(error: InvalidTransition) -> Response[str]:
    return problem(
        409,
        "conflict",
        "Conflict with the current state",
        str(error),
        campaign_status=error.status.value,
        allowed_from=[status.value for status in error.allowed_from],
    )


@app.exception_handler(Conflict)
def conflict(error: Conflict) -> Response[str]:
    return problem(409, "conflict", "Conflict with the current state", str(error))


@app.exception_handler(DependencyError)
def unavailable(error: DependencyError) -> Response[str]:
    logger.warning("dependency failed", extra={"reason": str(error)})
    return problem(503, "unavailable", "Temporarily unavailable", "Retry later.")


@app.exception_handler(Exception)
def internal_error(error: Exception) -> Response[str]:
    # The resolver's own parsers fail on some bodies of types a route does not read (multipart
    # without a boundary raises ValueError): the type was the caller's error.
    refusal = refused_media_type()
    if refusal is not None:
        return _unsupported(refusal)
    return _internal_error()


@app.not_found
def unknown_route(error: Exception) -> Response[str]:
    return problem(404, "no-route", "No such route", "See /openapi.json for the routes.")
