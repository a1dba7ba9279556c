"""The HTTP API: the resolver with its routes (`routes/`, one router per resource), its
errors as problem documents (`errors`), and the OpenAPI document they generate."""

import importlib
import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from cloison.http import errors as errors  # registers the problem documents on the resolver
from cloison.http.answers import ERRORS, problem_response
from cloison.http.resolver import JSON, app, refused_media_type
from cloison.models.api.common import Health

__all__ = ["app", "include_all_routes", "include_routes_for", "openapi_document"]


def json_bodies_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Runs once the request validated; `invalid_request` does the same check when it did not."""
    refusal = refused_media_type()
    if refusal is not None:
        raise refusal
    return next_middleware(app)


app.use(middlewares=[json_bodies_only])


# The resolver documents a 422 on every route: here too, as the problem document it would be.
@app.get(
    "/health",
    responses={
        200: {"description": "Alive.", "content": {JSON: {"model": Health}}},
        422: problem_response(ERRORS[422]),
    },
)
def health() -> Health:
    return Health(status="ok")


@app.get(
    "/openapi.json",
    responses={
        200: {"description": "This document (OpenAPI 3.1).", "content": {JSON: {}}},
        422: problem_response(ERRORS[422]),
    },
)
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    """The API's OpenAPI document, generated from every route and its models; paths in order,
    whichever resources the function served first."""
    include_all_routes()
    document = json.loads(app.get_openapi_json_schema(title="Cloison API", version="0.1.0"))
    document["paths"] = dict(sorted(document["paths"].items()))
    return json.dumps(document, indent=2)


# Each resource's routes (`routes/<module>.py`), by the first segment of their paths. A request
# loads its resource's routes, with their models and services, at the first call of that
# resource in the execution environment, not every resource's at the cold start; the routing
# itself stays the resolver's. `tests/unit/test_template.py` keeps this map whole.
ROUTERS = {
    "campaigns": "campaigns",
    "replies": "replies",
    "consents": "registry",
    "suppressions": "registry",
    "teams": "registry",
    "privacy": "privacy",
    "audit": "audit",
    "signup": "signup",
}
_included: set[str] = set()


def _include(module: str) -> None:
    if module not in _included:
        app.include_router(importlib.import_module(f"cloison.http.routes.{module}").router)
        _included.add(module)


def include_routes_for(event: Mapping[str, Any]) -> None:
    """Registers the routes of the resource `event` asks for (API Gateway's `resource`, the
    path template it matched); a path of no resource is left to the resolver's 404."""
    resource = str(event.get("resource") or event.get("path") or "")
    module = ROUTERS.get(resource.strip("/").split("/", 1)[0])
    if module is not None:
        _include(module)


def include_all_routes() -> None:
    """Registers every resource's routes, in one order: for the OpenAPI document and tests."""
    for module in dict.fromkeys(ROUTERS.values()):
        _include(module)
