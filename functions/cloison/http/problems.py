"""RFC 9457 problem documents: the one place where errors become HTTP responses."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict

PROBLEM_TYPES = "https://cloison.dev/problems/"
CONTENT_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An error as RFC 9457 describes it; `type` is stable, `errors` names the fields at fault."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


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


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its definitions inlined, for a hand-written OpenAPI entry."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
