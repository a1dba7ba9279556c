"""The local API Gateway: serves the template's REST routes over HTTP, checking Cognito tokens and
calling each route's function with a real REST (v1) Lambda proxy event.

`server` holds the HTTP server and its routing (ApiGateway), `authorizer` what the Cognito user
pool authorizer checks, `events` how a request reads in the Lambda proxy event, and `responses`
what the gateway answers: its own errors and the functions' proxy results.
"""

from cloison_local.gateway.authorizer import CognitoAuthorizer, Unauthorized
from cloison_local.gateway.events import render_claims
from cloison_local.gateway.server import MAX_REQUEST_BODY_BYTES, ApiGateway

__all__ = [
    "MAX_REQUEST_BODY_BYTES",
    "ApiGateway",
    "CognitoAuthorizer",
    "Unauthorized",
    "render_claims",
]
