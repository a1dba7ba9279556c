"""What the local stack reads out of template.yaml: functions, their event sources and API routes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One API Gateway method: `method path` served by `function`, behind `authorizer` if set."""

    method: str
    path: str
    function: str
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SqsSource:
    """An SQS event source mapping: `queue_url` polled for `function`."""

    function: str
    queue_arn: str
    queue_url: str
    batch_size: int = 10
    batching_window_seconds: int = 0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source mapping: the table's stream read for `function`.

    `maximum_retry_attempts` -1 retries a failed batch until it succeeds; after that many
    failures a batch is given up, and described in the `on_failure_queue_url` queue if any.
    """

    function: str
    stream_arn: str
    batch_size: int = 100
    batching_window_seconds: int = 0
    maximum_retry_attempts: int = -1
    on_failure_queue_url: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """An `AWS::Lambda::Function` of the expanded template, its intrinsics resolved."""

    logical_id: str
    name: str
    arn: str
    handler: str
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: int = 3
    memory_mb: int = 128
    reserved_concurrency: int | None = None
    # The execution role: what the least-privilege check holds each call against.
    role_arn: str = ""


@dataclass
class RoleUsage:
    """What one function's execution role was asked for: the calls it refused, the grants
    (policy, statement index, action) that allowed the others, and the conditions that could
    not be checked."""

    denied: list[str]
    grants: list[list[Any]]
    unevaluated: list[str]


class Invoker(Protocol):
    """Runs one function of the stack on one event, as Lambda would, and returns its result."""

    def __call__(self, function: str, event: JsonDict) -> Any: ...
