"""The creators of what moto cannot run, stood in for by the local stack: functions (run by the
local runtime), their event source mappings (read by the local pollers) and permissions, the
REST API (served by the local gateway), and CloudFront's console edge (the gateway serves the
console)."""

from __future__ import annotations

import fnmatch
import re

from cloison_local.model import FunctionSpec, JsonDict, Route, SqsSource, StreamSource
from cloison_local.provision.base import ACCOUNT_ID, Creators, Physical
from cloison_local.template import TemplateError

# API Gateway's Lambda proxy integration URI: `.../functions/<function ARN>/invocations`.
_INVOCATION_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/[^/]+/functions/(.+)/invocations$"
)
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
# Event source mapping properties the local pollers honour; any other fails the start.
_SQS_MAPPING_PROPERTIES = frozenset(
    {
        "EventSourceArn",
        "FunctionName",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "FunctionResponseTypes",
        "ScalingConfig",
        "Enabled",
    }
)
_STREAM_MAPPING_PROPERTIES = frozenset(
    {
        "EventSourceArn",
        "FunctionName",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "StartingPosition",
        "MaximumRetryAttempts",
        "BisectBatchOnFunctionError",
        "DestinationConfig",
        "Enabled",
    }
)


class FunctionCreators(Creators):
    """Functions, what invokes them, the REST API and the console's CloudFront stand-in."""

    def _console_edge(self, logical_id: str, properties: JsonDict) -> Physical:
        # CloudFront serves the console in AWS. Locally the gateway serves console/ itself, on
        # the API's origin, with the same security headers (stack.console_headers): nothing is
        # created, and the ids below are placeholders, never reached.
        local_id = f"local-{logical_id.lower()}"
        return Physical(
            local_id,
            {
                "Id": local_id,
                "DomainName": "127.0.0.1",
                "FunctionMetadata.FunctionARN": f"arn:aws:cloudfront::{ACCOUNT_ID}:function/{local_id}",
            },
        )

    def _function(self, logical_id: str, properties: JsonDict) -> Physical:
        """A function of the stack, run by the local runtime with its own environment."""
        if properties.get("PackageType", "Zip") != "Zip" or "Handler" not in properties:
            raise TemplateError(
                f"{logical_id}: only zip-packaged functions with a Handler run locally"
            )
        if not str(properties.get("Runtime", "")).startswith("python"):
            raise TemplateError(
                f"{logical_id}: runtime {properties.get('Runtime')} does not run locally"
            )
        name = properties.get("FunctionName", self._name(logical_id))
        arn = self._arn("lambda", f"function:{name}")
        variables = properties.get("Environment", {}).get("Variables", {})
        self.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=str(properties["Handler"]),
            environment={key: str(value) for key, value in variables.items()},
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            reserved_concurrency=(
                int(properties["ReservedConcurrentExecutions"])
                if "ReservedConcurrentExecutions" in properties
                else None
            ),
            role_arn=str(properties["Role"]),
        )
        return Physical(name, {"Arn": arn})

    def _function_of(self, name_or_arn: str, where: str) -> str:
        """The logical id of the stack's function named (or ARN'd) `name_or_arn`."""
        for logical_id, spec in self.functions.items():
            if name_or_arn in (spec.name, spec.arn):
                return logical_id
        raise TemplateError(f"{where}: {name_or_arn} is not a function of this stack")

    def _queue_url(self, arn: str, where: str) -> str:
        for physical in self.resources.values():
            if physical.attributes.get("Arn") == arn and "QueueUrl" in physical.attributes:
                return str(physical.ref)
        raise TemplateError(f"{where}: {arn} is not a queue of this stack")

    def _permission(self, logical_id: str, properties: JsonDict) -> Physical:
        """Who may invoke a function: the gateway serves only the routes a permission covers."""
        self._function_of(str(properties["FunctionName"]), logical_id)
        self.permissions.append(
            (
                str(properties["FunctionName"]),
                str(properties["Principal"]),
                str(properties.get("SourceArn", "")),
            )
        )
        return Physical(f"local-{logical_id.lower()}")

    def _event_source_mapping(self, logical_id: str, properties: JsonDict) -> Physical:
        """An SQS queue or DynamoDB stream that a local poller reads for its function."""
        function = self._function_of(str(properties["FunctionName"]), logical_id)
        source_arn = str(properties["EventSourceArn"])
        service = source_arn.split(":")[2] if source_arn.count(":") >= 5 else ""
        if service == "sqs":
            self._only_known(logical_id, properties, _SQS_MAPPING_PROPERTIES)
            source: SqsSource | StreamSource = SqsSource(
                function=function,
                queue_arn=source_arn,
                queue_url=self._queue_url(source_arn, logical_id),
                batch_size=int(properties.get("BatchSize", 10)),
                batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in properties.get("FunctionResponseTypes", []),
                maximum_concurrency=(
                    int(properties["ScalingConfig"]["MaximumConcurrency"])
                    if "ScalingConfig" in properties
                    else None
                ),
            )
        elif service == "dynamodb" and "/stream/" in source_arn:
            self._only_known(logical_id, properties, _STREAM_MAPPING_PROPERTIES)
            if properties.get("BisectBatchOnFunctionError"):
                raise TemplateError(f"{logical_id}: only whole-batch retries run locally")
            on_failure = properties.get("DestinationConfig", {}).get("OnFailure", {})
            source = StreamSource(
                function=function,
                stream_arn=source_arn,
                batch_size=int(properties.get("BatchSize", 100)),
                batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                on_failure_queue_url=(
                    self._queue_url(str(on_failure["Destination"]), logical_id)
                    if on_failure
                    else None
                ),
            )
        else:
            raise TemplateError(
                f"{logical_id}: event source {source_arn} does not run locally (every "
                "asynchronous source lands in SQS first, or comes from a DynamoDB stream)"
            )
        if properties.get("Enabled", True) not in (False, "false"):
            if isinstance(source, SqsSource):
                self.sqs_sources.append(source)
            else:
                self.stream_sources.append(source)
        return Physical(f"local-{logical_id.lower()}")

    @staticmethod
    def _only_known(logical_id: str, properties: JsonDict, known: frozenset[str]) -> None:
        unknown = sorted(set(properties) - known)
        if unknown:
            raise TemplateError(f"{logical_id}: {', '.join(unknown)} does not run locally")

    def _event_invoke_config(self, logical_id: str, properties: JsonDict) -> Physical:
        # Asynchronous invocations come from the schedules alone, whose dead-letter queue the
        # local scheduler writes to; the function must still be the stack's.
        self._function_of(str(properties["FunctionName"]), logical_id)
        return Physical(f"local-{logical_id.lower()}")

    def _rest_api(self, logical_id: str, properties: JsonDict) -> Physical:
        """A REST API as SAM writes it (an OpenAPI Body), served by the local gateway."""
        body = properties.get("Body")
        if not isinstance(body, dict):
            raise TemplateError(
                f"{logical_id}: only a REST API defined by its OpenAPI Body runs locally"
            )
        api_id = f"local{logical_id.lower()}"[:10]
        schemes = body.get("components", {}).get("securitySchemes", {})
        for name, scheme in schemes.items():
            settings = scheme.get("x-amazon-apigateway-authorizer", {})
            providers = settings.get("providerARNs", [])
            if settings.get("type") != "cognito_user_pools" or len(providers) != 1:
                raise TemplateError(
                    f"{logical_id}: authorizer {name}: only Cognito user pool authorizers of "
                    "one pool run locally"
                )
            self.authorizer_pools[name] = str(providers[0])
        for path, item in body.get("paths", {}).items():
            for method, operation in item.items():
                where = f"{logical_id} {method.upper()} {path}"
                if method not in _HTTP_METHODS:
                    raise TemplateError(f"{where}: does not run locally")
                integration = operation.get("x-amazon-apigateway-integration", {})
                target = _INVOCATION_URI.match(str(integration.get("uri", "")))
                if integration.get("type") != "aws_proxy" or target is None:
                    raise TemplateError(f"{where}: only Lambda proxy integrations run locally")
                authorizer: str | None = None
                scopes: tuple[str, ...] = ()
                for requirement in operation.get("security", body.get("security", [])):
                    for name, required in requirement.items():
                        # SAM's `Authorizer: NONE`: a requirement naming no defined scheme.
                        if name == "NONE":
                            continue
                        if name not in schemes:
                            raise TemplateError(f"{where}: unknown authorizer {name}")
                        authorizer, scopes = name, tuple(required)
                route = Route(
                    method.upper(),
                    path,
                    self._function_of(target.group(1), where),
                    authorizer,
                    scopes,
                )
                self.routes.append(route)
                self._route_apis.append((route, api_id))
        return Physical(api_id, {"RootResourceId": f"{api_id}-root"})

    def _api_deployment(self, logical_id: str, properties: JsonDict) -> Physical:
        return Physical(f"local-{logical_id.lower()}")

    def _api_account(self, logical_id: str, properties: JsonDict) -> Physical:
        return Physical(f"local-{logical_id.lower()}")

    def _api_stage(self, logical_id: str, properties: JsonDict) -> Physical:
        return Physical(str(properties["StageName"]))

    def _check_api_permissions(self) -> None:
        """Each route's function lets API Gateway invoke it for that route, as AWS requires
        (without it API Gateway answers 500: "Invalid permissions on Lambda function")."""
        for route, api_id in self._route_apis:
            spec = self.functions[route.function]
            path = re.sub(r"\{[^}]+\}", "value", route.path)
            invoked = f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{api_id}/stage/{route.method}{path}"
            if not any(
                function in (spec.name, spec.arn)
                and principal == "apigateway.amazonaws.com"
                and fnmatch.fnmatchcase(invoked, source_arn or "*")
                for function, principal, source_arn in self.permissions
            ):
                raise TemplateError(
                    f"{route.method} {route.path}: no AWS::Lambda::Permission lets API Gateway "
                    f"invoke {route.function} for it"
                )
