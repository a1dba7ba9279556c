"""Entry point of ApiFunction: every HTTP route of the API."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloison.http import wiring
from cloison.http.app import app, include_routes_for
from cloison.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wiring.settings()  # a misconfigured function fails here, naming the missing variable
    include_routes_for(event)
    return app.resolve(event, context)
