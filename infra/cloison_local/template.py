"""Reads template.yaml: CloudFormation short tags, intrinsic functions, Globals and SAM events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cloison_local.model import FunctionSpec, JsonDict, Route, SqsSource, StreamSource

NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class TemplateError(Exception):
    """The template uses something the local stack cannot run; the message says what and where."""


class _Loader(yaml.SafeLoader):
    """YAML loader that turns `!Ref x` and `!GetAtt a.b` into their long `Fn::` forms."""


def _construct_tag(loader: _Loader, suffix: str, node: yaml.Node) -> JsonDict:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> JsonDict:
    """Parse a CloudFormation/SAM YAML template into plain data with long-form intrinsics."""
    with path.open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return data


AttributeGetter = Callable[[str, str], Any]


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameters, pseudo parameters and created resources."""

    template: JsonDict
    parameters: Mapping[str, Any]
    pseudo: Mapping[str, str]
    ref: Callable[[str], Any]
    get_att: AttributeGetter
    conditions: dict[str, bool] = field(default_factory=dict)
    # `Fn::ImportValue`: the exports of the stacks created before this one, by export name.
    imports: Mapping[str, str] = field(default_factory=dict)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            expression = self.template.get("Conditions", {}).get(name)
            if expression is None:
                raise TemplateError(f"unknown condition {name!r}")
            self.conditions[name] = bool(self.resolve(expression))
        return self.conditions[name]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(logical_id, self.resolve(attribute))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                separator, items = arg
                return str(separator).join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = self.resolve(arg)
                return items[int(index)]
            if key == "Fn::Split":
                separator, text = self.resolve(arg)
                return str(text).split(separator)
            if key == "Fn::ImportValue":
                name = str(self.resolve(arg))
                if name not in self.imports:
                    raise TemplateError(f"Fn::ImportValue {name!r}: no stack exports it")
                return self.imports[name]
            if key == "Fn::FindInMap":
                mapping, top, second = self.resolve(arg)
                return self.template["Mappings"][mapping][top][second]
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(item) for item in arg)
            if key == "Fn::Or":
                return any(self.resolve(item) for item in arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                raise TemplateError(f"intrinsic {key} is not supported by the local stack")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.ref(name)

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self._ref(name))

        # `${!Name}` is CloudFormation's escape for a literal `${Name}`.
        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


def parameter_values(template: JsonDict, overrides: Mapping[str, str]) -> dict[str, Any]:
    """Template parameters with their defaults, overridden by `overrides`; unknown names fail."""
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in spec:
            values[name] = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no value")
        allowed = spec.get("AllowedValues")
        if allowed and values[name] not in allowed:
            raise TemplateError(f"parameter {name}={values[name]!r} is not one of {allowed}")
    return values


def dependencies(value: Any) -> Iterator[str]:
    """Logical ids that a piece of the template refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, list):
        for item in value:
            yield from dependencies(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and not item.startswith("AWS::"):
                yield item
            elif key == "Fn::GetAtt":
                yield item[0] if isinstance(item, list) else str(item).split(".", 1)[0]
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                for name in _SUB_VARIABLE.findall(text):
                    if not name.startswith("AWS::"):
                        yield name.split(".", 1)[0]
                if not isinstance(item, str):
                    yield from dependencies(item[1])
            else:
                yield from dependencies(item)


def creation_order(resources: Mapping[str, JsonDict]) -> list[str]:
    """Logical ids ordered so that each resource comes after those it refers to."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(logical_id: str, path: tuple[str, ...]) -> None:
        if state.get(logical_id) == "done":
            return
        if state.get(logical_id) == "visiting":
            raise TemplateError(f"circular dependency: {' -> '.join((*path, logical_id))}")
        state[logical_id] = "visiting"
        resource = resources[logical_id]
        needs = set(dependencies(resource.get("Properties", {})))
        depends_on = resource.get("DependsOn", [])
        needs.update([depends_on] if isinstance(depends_on, str) else depends_on)
        for name in sorted(needs):
            owner = name if name in resources else implicit_owner(resources, name)
            if owner is not None:
                visit(owner, (*path, logical_id))
        state[logical_id] = "done"
        order.append(logical_id)

    for logical_id in resources:
        visit(logical_id, ())
    return order


def implicit_owner(resources: Mapping[str, JsonDict], logical_id: str) -> str | None:
    """The function whose SAM-generated role `logical_id` is (`<Function>Role`), if any."""
    owner = logical_id.removesuffix("Role")
    resource = resources.get(owner, {}) if owner != logical_id else {}
    if resource.get("Type") == "AWS::Serverless::Function" and "Role" not in resource.get(
        "Properties", {}
    ):
        return owner
    return None


def merged_function_properties(template: JsonDict, logical_id: str) -> JsonDict:
    """A function's properties with the template's Globals merged in, as SAM merges them."""
    globals_ = template.get("Globals", {}).get("Function", {})
    own = template["Resources"][logical_id].get("Properties", {})
    merged = {**globals_, **own}
    global_env = globals_.get("Environment", {}).get("Variables", {})
    own_env = own.get("Environment", {}).get("Variables", {})
    merged["Environment"] = {"Variables": {**global_env, **own_env}}
    return merged


def function_spec(
    template: JsonDict, logical_id: str, resolver: Resolver, name: str, arn: str
) -> FunctionSpec:
    """The runnable description of one `AWS::Serverless::Function`."""
    properties = merged_function_properties(template, logical_id)
    if "Handler" not in properties:
        raise TemplateError(f"{logical_id}: no Handler")
    environment = resolver.resolve(properties["Environment"]["Variables"])
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=arn,
        handler=str(properties["Handler"]),
        environment={key: str(value) for key, value in environment.items()},
        timeout_seconds=int(resolver.resolve(properties.get("Timeout", 3))),
        memory_mb=int(resolver.resolve(properties.get("MemorySize", 128))),
        reserved_concurrency=(
            int(resolver.resolve(properties["ReservedConcurrentExecutions"]))
            if "ReservedConcurrentExecutions" in properties
            else None
        ),
    )


def function_events(template: JsonDict, logical_id: str) -> dict[str, JsonDict]:
    """The `Events` of a function, by event name."""
    events = template["Resources"][logical_id].get("Properties", {}).get("Events", {})
    return dict(events)


def api_routes(template: JsonDict, resolver: Resolver) -> list[Route]:
    """Every `Type: Api` event of every function, with the authorizer and scopes that apply."""
    routes: list[Route] = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event_name, event in function_events(template, logical_id).items():
            if event.get("Type") != "Api":
                continue
            properties = event.get("Properties", {})
            api_id = _ref_name(properties.get("RestApiId"), default="ServerlessRestApi")
            api_auth = _api_auth(template, api_id)
            auth = properties.get("Auth", {})
            authorizer_name = auth.get("Authorizer", api_auth.get("DefaultAuthorizer"))
            if authorizer_name in (None, "NONE"):
                routes.append(
                    Route(str(properties["Method"]).upper(), properties["Path"], logical_id)
                )
                continue
            authorizer = api_auth.get("Authorizers", {}).get(authorizer_name)
            if authorizer is None:
                raise TemplateError(
                    f"{logical_id}.{event_name}: unknown authorizer {authorizer_name}"
                )
            scopes = auth.get("AuthorizationScopes", authorizer.get("AuthorizationScopes", []))
            routes.append(
                Route(
                    method=str(properties["Method"]).upper(),
                    path=properties["Path"],
                    function=logical_id,
                    authorizer=authorizer_name,
                    scopes=tuple(resolver.resolve(scopes)),
                )
            )
    return routes


def authorizer_pools(template: JsonDict, resolver: Resolver) -> dict[str, str]:
    """Cognito authorizer name -> user pool ARN, over every API of the template."""
    pools: dict[str, str] = {}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Api":
            continue
        for name, authorizer in (
            resource.get("Properties", {}).get("Auth", {}).get("Authorizers", {}).items()
        ):
            if "UserPoolArn" not in authorizer:
                raise TemplateError(
                    f"authorizer {name}: only Cognito user pool authorizers run locally"
                )
            pools[name] = str(resolver.resolve(authorizer["UserPoolArn"]))
    return pools


def sqs_sources(
    template: JsonDict, resolver: Resolver, queue_url_by_arn: Mapping[str, str]
) -> list[SqsSource]:
    """Every `Type: SQS` event of every function."""
    sources: list[SqsSource] = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event_name, event in function_events(template, logical_id).items():
            kind = event.get("Type")
            if kind in ("Api", "ScheduleV2", "DynamoDB"):
                continue
            if kind != "SQS":
                raise TemplateError(
                    f"{logical_id}.{event_name}: event type {kind} does not run locally "
                    "(every asynchronous source lands in SQS first, or comes from a DynamoDB stream)"
                )
            properties = resolver.resolve(event["Properties"])
            queue_arn = str(properties["Queue"])
            sources.append(
                SqsSource(
                    function=logical_id,
                    queue_arn=queue_arn,
                    queue_url=queue_url_by_arn[queue_arn],
                    batch_size=int(properties.get("BatchSize", 10)),
                    batching_window_seconds=int(
                        properties.get("MaximumBatchingWindowInSeconds", 0)
                    ),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in properties.get("FunctionResponseTypes", []),
                    maximum_concurrency=(
                        int(properties["ScalingConfig"]["MaximumConcurrency"])
                        if "ScalingConfig" in properties
                        else None
                    ),
                )
            )
    return sources


def stream_sources(
    template: JsonDict, resolver: Resolver, queue_url_by_arn: Mapping[str, str]
) -> list[StreamSource]:
    """Every `Type: DynamoDB` event of every function."""
    sources: list[StreamSource] = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event_name, event in function_events(template, logical_id).items():
            if event.get("Type") != "DynamoDB":
                continue
            properties = resolver.resolve(event["Properties"])
            for unsupported in (
                "FilterCriteria",
                "TumblingWindowInSeconds",
                "ParallelizationFactor",
            ):
                if unsupported in properties:
                    raise TemplateError(
                        f"{logical_id}.{event_name}: {unsupported} does not run locally"
                    )
            if properties.get("BisectBatchOnFunctionError") or properties.get(
                "FunctionResponseTypes"
            ):
                raise TemplateError(
                    f"{logical_id}.{event_name}: only whole-batch retries run locally"
                )
            on_failure = properties.get("DestinationConfig", {}).get("OnFailure", {})
            sources.append(
                StreamSource(
                    function=logical_id,
                    stream_arn=str(properties["Stream"]),
                    batch_size=int(properties.get("BatchSize", 100)),
                    batching_window_seconds=int(
                        properties.get("MaximumBatchingWindowInSeconds", 0)
                    ),
                    maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                    on_failure_queue_url=(
                        queue_url_by_arn[str(on_failure["Destination"])] if on_failure else None
                    ),
                )
            )
    return sources


def _ref_name(value: Any, *, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    raise TemplateError(f"RestApiId must be a Ref, not {value!r}")


def _api_auth(template: JsonDict, api_id: str) -> JsonDict:
    if api_id == "ServerlessRestApi":
        return dict(template.get("Globals", {}).get("Api", {}).get("Auth", {}))
    api = template["Resources"].get(api_id)
    if api is None or api.get("Type") != "AWS::Serverless::Api":
        raise TemplateError(f"RestApiId {api_id} is not an AWS::Serverless::Api")
    return dict(api.get("Properties", {}).get("Auth", {}))
