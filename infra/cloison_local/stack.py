"""The local stack: moto server, the template's resources, its functions, event sources and API."""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import boto3
import requests
from botocore.exceptions import ClientError

from cloison_local.carrier import CarrierSimulator
from cloison_local.expand import EXAMPLE_PARAMETERS, EXAMPLE_SHORT_CODE, phone_number_arn
from cloison_local.gateway import ApiGateway, CognitoAuthorizer
from cloison_local.model import JsonDict, RoleUsage
from cloison_local.onboarding import machine_client, provision_team
from cloison_local.pollers import Scheduler, SqsPoller, StreamPoller
from cloison_local.provision import PoolSpec, Provisioner, Stack
from cloison_local.runtime import FunctionRuntime
from cloison_local.seed import TEAMS
from cloison_local.template import load_template
from cloison_local.token_endpoint import TokenEndpoint

log = logging.getLogger("cloison_local")

REGION = "eu-west-3"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Two cores here: more warm workers per function than this only adds processes, not speed.
LOCAL_MAX_CONCURRENCY = 4
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# The operator console's static files: served by the gateway wherever no API route matches, as
# CloudFront serves them from the console bucket in AWS.
DEFAULT_CONSOLE = DEFAULT_TEMPLATE.parent / "console"


def console_headers(auth_url: str) -> tuple[tuple[str, str], ...]:
    """The security headers of the template's ConsoleHeaders policy; the console may also call
    the Cognito endpoint, here moto's."""
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {auth_url}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return (
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    )


@dataclass(frozen=True)
class TeamStack:
    """A team onboarded from infra/team.yaml: its machine client's id, secret and scopes."""

    team: str
    client_id: str
    client_secret: str
    scopes: str
    # The team stack's outputs (`TeamPoolArn` when it has its own identity).
    outputs: dict[str, str] = field(default_factory=dict)


class MotoServer:
    """moto in server mode, in a process of its own: its state is this stack's alone.

    With `speedups` (the default) it runs with cloison_local.moto_speedups applied: the same
    answers, in time that no longer grows with queue depth or table size, and DynamoDB requests
    handled one at a time, so that conditional writes are atomic as in AWS.
    """

    def __init__(
        self, host: str, port: int = 0, log_path: Path | None = None, *, speedups: bool = True
    ) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.log_path = log_path
        self.speedups = speedups
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 30.0) -> None:
        output = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cloison_local.moto_speedups" if self.speedups else "moto.server",
                *("-H", self.host, "-p", str(self.port)),
            ],
            stdout=output,
            stderr=output,
            # AWS managed policies exist in moto's IAM only when asked for: the function roles
            # SAM writes attach some (basic execution, X-Ray, the SQS poller's).
            env={**os.environ, **CREDENTIALS, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
            # Out of the terminal's process group: Ctrl-C stops the stack, which stops the moto
            # server last, after the pollers that call it.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"moto server exited with {self._process.returncode} (port {self.port} taken?)"
                )
            try:
                requests.get(f"{self.url}/moto-api/data.json", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"moto server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalStack:
    """Runs template.yaml on this machine: nothing but moto server and our own processes.

    `clock_start` moves the functions' clock to that instant (it then runs on in real time),
    so that a demo or a test can run inside the sending window whatever the hour; `set_clock`
    moves it again while the stack runs. The functions read the real `datetime.now()`: their
    worker processes travel in time with time-machine.
    """

    # The role usage of every stack of this process once stopped: what a test session's
    # least-privilege check and grant report read.
    finished: ClassVar[list[dict[str, RoleUsage]]] = []

    def __init__(
        self,
        template_path: Path = DEFAULT_TEMPLATE,
        *,
        host: str = "127.0.0.1",
        api_port: int = 3000,
        moto_port: int = 0,
        carrier_port: int = 0,
        stack_name: str = "cloison-local",
        parameters: Mapping[str, str] | None = None,
        clock_start: datetime | None = None,
        retry_after_seconds: int | None = None,
        delivery_delay_seconds: float = 0.2,
        log_dir: Path | None = Path(".local/logs"),
        function_timeouts: Mapping[str, int] | None = None,
        environment_overrides: Mapping[str, Mapping[str, str]] | None = None,
        teams: Sequence[str] = TEAMS,
        team_identities: Mapping[str, str] | None = None,
        moto_speedups: bool = True,
        console_dir: Path | None = DEFAULT_CONSOLE,
    ) -> None:
        self.console_dir = console_dir
        self.log_dir = log_dir
        self.moto_speedups = moto_speedups
        # Fault injection: a shorter timeout makes a stalled function die sooner, as in Lambda.
        self.function_timeouts = dict(function_timeouts or {})
        # Variables added to a function's environment, by logical id, e.g. for a benchmark.
        self.environment_overrides = {
            logical_id: dict(variables)
            for logical_id, variables in (environment_overrides or {}).items()
        }
        self.template_path = template_path
        self.host = host
        self.api_port = api_port
        self.moto_port = moto_port
        self.carrier_port = carrier_port
        self.stack_name = stack_name
        self.parameters = {**EXAMPLE_PARAMETERS, **(parameters or {})}
        self.clock_offset = (clock_start - datetime.now(UTC)) if clock_start else timedelta(0)
        self.retry_after_seconds = retry_after_seconds
        self.delivery_delay_seconds = delivery_delay_seconds
        self.teams = tuple(teams)
        # A team's own short code or number (registered with the carrier simulator as AWS
        # registers one for the account), which its team stack puts in the team's own pool.
        self.team_identities = dict(team_identities or {})
        self.team_stacks: dict[str, TeamStack] = {}
        self._team_pools: list[PoolSpec] = []
        self.token_endpoint: TokenEndpoint | None = None
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.pollers: list[SqsPoller | StreamPoller] = []
        self._moto: MotoServer | None = None
        self.stack: Stack | None = None
        self.carrier: CarrierSimulator | None = None
        self.gateway: ApiGateway | None = None
        self.scheduler: Scheduler | None = None
        self.moto_url = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        for key, value in {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
            os.environ.setdefault(key, value)
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self._moto = MotoServer(
            self.host,
            self.moto_port,
            self.log_dir / "moto-server.log" if self.log_dir else None,
            speedups=self.moto_speedups,
        )
        self._moto.start()
        self.moto_url = self._moto.url
        template = load_template(self.template_path)
        self.stack = Provisioner(
            template,
            endpoint_url=self.moto_url,
            region=REGION,
            stack_name=self.stack_name,
            parameter_overrides=self.parameters,
        ).provision()
        for team in self.teams:
            number = self.team_identities.get(team)
            self.add_team(team, phone_number_arn(number) if number else "")
        self._start_token_endpoint(self.stack)
        self._start_carrier(self.stack)
        self._start_functions(self.stack)
        self._start_gateway(self.stack)
        self._start_event_sources(self.stack)
        return self

    def stop(self) -> None:
        if self.runtimes:
            LocalStack.finished.append(self.role_usage())
        for poller in self.pollers:
            poller.stop()
        if self.scheduler:
            self.scheduler.stop()
        if self.gateway:
            self.gateway.stop()
        for runtime in self.runtimes.values():
            runtime.stop()
        if self.carrier:
            self.carrier.stop()
        if self.token_endpoint:
            self.token_endpoint.stop()
        if self._moto:
            self._moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ parts
    def add_team(self, team: str, origination: str = "") -> TeamStack:
        """Onboards `team` from infra/team.yaml, with the main stack's exports, as `make team`
        does in AWS: its reader role, its Cognito group, its scope and its machine client; with
        `origination` (an identity registered with the carrier simulator, by ARN), its own pool,
        and the grant its pool gives the main stack's functions."""
        assert self.stack is not None
        stack = provision_team(
            self.moto_url, REGION, self.stack_name, team, self.stack.exports, origination
        )
        self._team_pools.extend(stack.pools)
        if self.carrier is not None:
            self._register_pools(stack.pools)
        for role_name, policy in stack.attached_policies:
            if not self.runtimes:  # the functions start with it
                for arn, policies in self.stack.role_policies.items():
                    if arn.endswith(f":role/{role_name}"):
                        policies.append(policy)
            for runtime in self.runtimes.values():
                if runtime.spec.role_arn.endswith(f":role/{role_name}"):
                    runtime.grant(policy)
        onboarded = TeamStack(team=team, **machine_client(stack), outputs=dict(stack.outputs))
        self.team_stacks[team] = onboarded
        return onboarded

    def _start_token_endpoint(self, stack: Stack) -> None:
        for pool_id in stack.user_pool_domains.values():
            self.token_endpoint = TokenEndpoint(
                self.client("cognito-idp"), REGION, pool_id, host=self.host
            )
            self.token_endpoint.start()
            return

    def _start_carrier(self, stack: Stack) -> None:
        self.carrier = CarrierSimulator(
            self.moto_url,
            REGION,
            host=self.host,
            port=self.carrier_port,
            delivery_delay_seconds=self.delivery_delay_seconds,
        )
        for configuration_set in stack.configuration_sets:
            self.carrier.register_configuration_set(
                configuration_set.name, configuration_set.destinations
            )
        for name in stack.opt_out_lists:
            self.carrier.register_opt_out_list(name)
        # The identity AWS gave the account before the stack: a short code on the Default list,
        # without two-way channel; the template's pool takes it in (by its ARN, the
        # OriginationIdentity parameter). `ShortCode` is local: the number people write to.
        self.carrier.register_phone_number(EXAMPLE_SHORT_CODE)
        stack.outputs["ShortCode"] = EXAMPLE_SHORT_CODE
        for number in self.team_identities.values():
            self.carrier.register_phone_number(number)
        self._register_pools([*stack.pools, *self._team_pools])
        self.carrier.start()

    def _register_pools(self, pools: Sequence[PoolSpec]) -> None:
        assert self.carrier is not None
        for pool in pools:
            self.carrier.register_pool(
                pool.name,
                pool.identities,
                opt_out_list=pool.opt_out_list,
                two_way_topic=pool.two_way_topic,
                self_managed=pool.self_managed,
                stop_message=pool.stop_message,
                help_message=pool.help_message,
                tags=dict(pool.tags),
            )

    def function_environment(self, spec_name: str, memory_mb: int, handler: str) -> dict[str, str]:
        """What Lambda and the local stack add to a function's own environment."""
        assert self.carrier is not None
        return {
            **CREDENTIALS,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": spec_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "_HANDLER": handler,
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2": self.carrier.endpoint_url,
            # No X-Ray daemon runs locally.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
        }

    def _start_functions(self, stack: Stack) -> None:
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for logical_id, spec in stack.functions.items():
            if logical_id in self.function_timeouts:
                spec = replace(spec, timeout_seconds=self.function_timeouts[logical_id])
            sources = [source for source in stack.sqs_sources if source.function == logical_id]
            concurrency = min(
                LOCAL_MAX_CONCURRENCY,
                spec.reserved_concurrency
                or max([2, *[source.maximum_concurrency or 1 for source in sources]]),
            )
            self.runtimes[logical_id] = FunctionRuntime(
                spec,
                {
                    **self.function_environment(spec.name, spec.memory_mb, spec.handler),
                    **self.environment_overrides.get(logical_id, {}),
                },
                concurrency=concurrency,
                clock_offset=lambda: self.clock_offset.total_seconds(),
                log_path=str(self.log_dir / f"{logical_id}.log") if self.log_dir else None,
                policies=stack.role_policies[spec.role_arn],
            )
        # Cold starts happen now, in parallel, rather than on the first request.
        warmers = [threading.Thread(target=runtime.warm) for runtime in self.runtimes.values()]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()

    def _start_gateway(self, stack: Stack) -> None:
        app_client_ids = [
            *stack.app_client_ids,
            *(team.client_id for team in self.team_stacks.values()),
        ]
        authorizers = {
            name: CognitoAuthorizer(
                self.moto_url,
                REGION,
                pool_arn.rsplit("/", 1)[1],
                app_client_ids,
                client_lookup=functools.partial(self._pool_has_client, pool_arn.rsplit("/", 1)[1]),
            )
            for name, pool_arn in stack.authorizer_pools.items()
        }
        self.gateway = ApiGateway(
            stack.routes,
            self.invoke,
            authorizers,
            host=self.host,
            port=self.api_port,
            stage=str(stack.parameters.get("Stage", "dev")),
            static_dir=self.console_dir,
            static_files={"/config.json": json.dumps(self.console_config(stack)).encode()},
            static_headers=console_headers(self.moto_url),
        )
        self.gateway.start()
        if "ConsoleUrl" in stack.outputs:
            # CloudFront's domain in AWS; here the console is the gateway's.
            stack.outputs["ConsoleUrl"] = f"{self.gateway.url}/"

    def console_config(self, stack: Stack) -> JsonDict:
        """What the console reads from config.json: here the API is on the console's origin,
        and people sign in with moto's InitiateAuth (the user pool's endpoint in AWS)."""
        return {
            "api_url": "",
            "region": REGION,
            "user_pool_id": stack.outputs.get("UserPoolId", ""),
            "client_id": stack.outputs.get("UserPoolClientId", ""),
            "auth_url": self.moto_url,
        }

    def _pool_has_client(self, user_pool_id: str, client_id: str) -> bool:
        try:
            self.client("cognito-idp").describe_user_pool_client(
                UserPoolId=user_pool_id, ClientId=client_id
            )
        except ClientError:
            return False
        return True

    def _start_event_sources(self, stack: Stack) -> None:
        sqs = self.client("sqs")
        for source in stack.sqs_sources:
            poller = SqsPoller(
                replace(
                    source,
                    maximum_concurrency=min(LOCAL_MAX_CONCURRENCY, source.maximum_concurrency or 1),
                ),
                sqs,
                self.invoke,
                REGION,
                retry_after_seconds=self.retry_after_seconds,
            )
            poller.start()
            self.pollers.append(poller)
        for stream_source in stack.stream_sources:
            stream_poller = StreamPoller(
                stream_source,
                self.client("dynamodbstreams"),
                sqs,
                self.invoke,
                REGION,
                retry_after_seconds=float(self.retry_after_seconds or 1),
            )
            stream_poller.start()
            self.pollers.append(stream_poller)
        queue_urls = {
            physical.attributes["Arn"]: physical.ref
            for physical in stack.resources.values()
            if str(physical.attributes.get("Arn", "")).startswith("arn:aws:sqs:")
        }
        self.scheduler = Scheduler(
            self.client("scheduler"), sqs, self.invoke_arn, queue_urls.get, self.now
        )
        self.scheduler.start()

    # ------------------------------------------------------------------ use
    def now(self) -> datetime:
        """The functions' clock."""
        return datetime.now(UTC) + self.clock_offset

    def set_clock(self, instant: datetime) -> None:
        """Moves the functions' clock (and the scheduler's) to `instant`; it runs on from there."""
        self.clock_offset = instant - datetime.now(UTC)

    def invoke(self, function: str, event: JsonDict) -> Any:
        return self.runtimes[function].invoke(event)

    def call_counts(self) -> dict[tuple[str, str], int]:
        """AWS API calls made by all the stack's functions, by (service, operation)."""
        totals: dict[tuple[str, str], int] = {}
        for runtime in self.runtimes.values():
            for call, count in runtime.call_counts().items():
                totals[call] = totals.get(call, 0) + count
        return totals

    def denied_calls(self) -> dict[str, list[str]]:
        """The calls each function's execution role refused, by function (none, if least
        privilege holds and the role allows what the code does)."""
        return {
            logical_id: list(runtime.denied)
            for logical_id, runtime in self.runtimes.items()
            if runtime.denied
        }

    def role_usage(self) -> dict[str, RoleUsage]:
        """What each function's role was asked for since the start, by function."""
        return {
            logical_id: RoleUsage(
                denied=sorted(set(runtime.denied)),
                grants=sorted([name, index, action] for name, index, action in runtime.grants),
                unevaluated=sorted(runtime.unevaluated),
            )
            for logical_id, runtime in self.runtimes.items()
        }

    def invoke_arn(self, arn: str, event: JsonDict) -> Any:
        assert self.stack is not None
        spec = self.stack.function_by_arn(arn)
        if spec is None:
            raise LookupError(f"no function of this stack has the ARN {arn}")
        return self.invoke(spec.logical_id, event)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.moto_url, region_name=REGION)  # type: ignore[call-overload]

    @property
    def moto_pid(self) -> int | None:
        """The moto server's process id (benchmarks read its CPU time)."""
        return self._moto.pid if self._moto is not None else None

    @property
    def outputs(self) -> dict[str, str]:
        assert self.stack is not None
        return self.stack.outputs

    @property
    def api_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def wait_idle(self, timeout: float = 60.0, quiet_seconds: float = 1.0) -> bool:
        """Waits until every event-source queue is empty and no function is busy for a while."""
        assert self.stack is not None
        sqs = self.client("sqs")
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            busy = (
                any(poller.busy for poller in self.pollers)
                or any(
                    int(
                        sqs.get_queue_attributes(
                            QueueUrl=source.queue_url,
                            AttributeNames=[
                                "ApproximateNumberOfMessages",
                                "ApproximateNumberOfMessagesNotVisible",
                                "ApproximateNumberOfMessagesDelayed",
                            ],
                        )["Attributes"].get(name, 0)
                    )
                    for source in self.stack.sqs_sources
                    for name in (
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                        "ApproximateNumberOfMessagesDelayed",
                    )
                )
                or (self.carrier is not None and not self.carrier.wait_idle(0.0))
            )
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_seconds:
                return True
            time.sleep(0.2)
        return False
