"""What provisioning makes and what every creator shares: each created resource's `Ref` and
attributes, the Stack the local stack runs, and the state the creators fill in as they go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from cloison_local.carrier import EventDestinationSpec
from cloison_local.iam_check import NamedPolicy
from cloison_local.model import FunctionSpec, JsonDict, Route, SqsSource, StreamSource

ACCOUNT_ID = "123456789012"


@dataclass
class Physical:
    """A created resource: what `Ref` gives and what `GetAtt` can ask for."""

    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConfigurationSet:
    """An End User Messaging configuration set and where it publishes events."""

    name: str
    destinations: list[EventDestinationSpec]


@dataclass(frozen=True)
class PoolSpec:
    """An End User Messaging pool of the template, for the carrier simulator to hold."""

    name: str
    identities: tuple[str, ...]
    opt_out_list: str
    two_way_topic: str | None
    self_managed: bool
    stop_message: str
    help_message: str
    tags: tuple[tuple[str, str], ...]


@dataclass
class Stack:
    """Everything the local stack needs to run the template after provisioning."""

    name: str
    region: str
    parameters: dict[str, Any]
    resources: dict[str, Physical]
    outputs: dict[str, str]
    functions: dict[str, FunctionSpec]
    routes: list[Route]
    authorizer_pools: dict[str, str]
    sqs_sources: list[SqsSource]
    stream_sources: list[StreamSource]
    configuration_sets: list[ConfigurationSet]
    opt_out_lists: list[str]
    app_client_ids: list[str]
    pools: list[PoolSpec] = field(default_factory=list)
    # Outputs with an `Export`, by export name: what `Fn::ImportValue` gives other stacks.
    exports: dict[str, str] = field(default_factory=dict)
    # Cognito domains and the user pool each belongs to: where `/oauth2/token` is served.
    user_pool_domains: dict[str, str] = field(default_factory=dict)
    # The CloudFormation the template was expanded into, as created.
    expanded: JsonDict = field(default_factory=dict)
    # Each role's policies by role ARN, resolved: inline by name, managed by ARN.
    role_policies: dict[str, list[NamedPolicy]] = field(default_factory=dict)
    # AWS::IAM::Policy resources, by the name of each role they are put on (maybe another
    # stack's role: a team stack grants the main stack's functions its pool).
    attached_policies: list[tuple[str, NamedPolicy]] = field(default_factory=list)

    def function_by_arn(self, arn: str) -> FunctionSpec | None:
        return next((spec for spec in self.functions.values() if spec.arn == arn), None)


class Creators:
    """The state the creators of each resource type read and fill in, and what they all use:
    clients of moto server, the stack's names and ARNs. Provisioner brings them together."""

    def __init__(self, *, endpoint_url: str, region: str, stack_name: str) -> None:
        self.region = region
        self.stack_name = stack_name
        self.session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url
        self.resources: dict[str, Physical] = {}
        self.configuration_sets: list[ConfigurationSet] = []
        self.opt_out_lists: list[str] = []
        self.pools: list[PoolSpec] = []
        self.user_pool_domains: dict[str, str] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self.routes: list[Route] = []
        self.authorizer_pools: dict[str, str] = {}
        self.sqs_sources: list[SqsSource] = []
        self.stream_sources: list[StreamSource] = []
        # (function name, principal, source ARN) of each AWS::Lambda::Permission.
        self.permissions: list[tuple[str, str, str]] = []
        self._route_apis: list[tuple[Route, str]] = []
        self.role_policies: dict[str, list[NamedPolicy]] = {}
        self.attached_policies: list[tuple[str, NamedPolicy]] = []

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def _name(self, logical_id: str, limit: int = 64) -> str:
        return f"{self.stack_name}-{logical_id}"[:limit]

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"
