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
class FunctionSpec:
    """An `AWS::Serverless::Function` after Globals are merged and intrinsics resolved."""

    logical_id: str
    name: str
    arn: str
    handler: str
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: int = 3
    memory_mb: int = 128
    reserved_concurrency: int | None = None


class Invoker(Protocol):
    """Runs one function of the stack on one event, as Lambda would, and returns its result."""

    def __call__(self, function: str, event: JsonDict) -> Any: ...
