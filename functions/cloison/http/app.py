"""The HTTP API: the resolver with its routes (`routes/`, one router per resource), its
errors as problem documents (`errors`), and the OpenAPI document they generate."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from cloison.http import errors as errors  # registers the problem documents on the resolver
from cloison.http.answers import ERRORS, problem_response
from cloison.http.resolver import JSON, app, refused_media_type
from cloison.http.routes import audit, campaigns, privacy, registry, replies
from cloison.models.api.common import Health

__all__ = ["app", "openapi_document"]


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
    """The API's OpenAPI document, generated from the routes and models below."""
    return app.get_openapi_json_schema(title="Cloison API", version="0.1.0")


for module in (campaigns, replies, registry, privacy, audit):
    app.include_router(module.router)
