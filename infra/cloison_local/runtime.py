"""Runs each function in worker processes of its own, with its own environment, as Lambda does.

Each worker also counts the AWS API calls its function makes (by service and operation) and the
CPU time it spends, and hands both back with every result, so benchmarks can report figures that
do not depend on how fast moto answers.

Each call made with the function's own credentials is decided against the function's execution
role first (cloison_local.iam_check), as AWS decides it: a call the role does not allow fails
with AWS's AccessDenied, and is reported with the result, as are the grants each allowed call
used.
"""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import queue
import random
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import time_machine

from cloison_local.iam_check import (
    Authorization,
    NamedPolicy,
    RolePolicies,
    UnmappedCall,
    authorizations,
    denial_message,
)
from cloison_local.model import FunctionSpec, JsonDict

log = logging.getLogger("cloison_local.runtime")

CallCounts = dict[tuple[str, str], int]


class FunctionError(Exception):
    """The function raised, timed out or returned something that is not JSON."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class InvocationUsage:
    """What one invocation cost inside its worker: AWS API calls and CPU seconds.

    `faults` counts the calls among `calls` that fault injection made fail.
    """

    calls: tuple[tuple[str, str, int], ...] = ()
    cpu_seconds: float = 0.0
    faults: tuple[tuple[str, str, int], ...] = ()
    # Calls the execution role refused, as AWS's message says them.
    denied: tuple[str, ...] = ()
    # (policy name, statement index, action) of each grant an allowed call used.
    grants: tuple[tuple[str, int, str], ...] = ()
    # Statements that allowed a call with a condition the call could not be checked against.
    unevaluated: tuple[str, ...] = ()


class _CallCounter:
    """AWS API calls made in this process by (service, operation), from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, service: str, operation: str) -> None:
        with self._lock:
            self._counts[(service, operation)] += 1

    def take(self) -> tuple[tuple[str, str, int], ...]:
        """The calls counted since the last take."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return tuple((service, operation, count) for (service, operation), count in counts.items())


class _Faults:
    """Fault injection inside a worker: AWS calls of some services fail at a given rate."""

    def __init__(self) -> None:
        self.rates: dict[str, float] = {}
        self.injected = _CallCounter()
        self._random = random.Random(0)  # noqa: S311 - decides faults, not secrets

    def raise_for(self, service: str, operation: str) -> None:
        rate = self.rates.get(service, 0.0)
        if rate and self._random.random() < rate:
            from botocore.exceptions import ClientError

            self.injected.add(service, operation)
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "injected fault"}},
                operation,
            )


# The error code each service answers a refused call with (the others: AccessDeniedException).
_ACCESS_DENIED_CODES = {"s3": "AccessDenied", "sqs": "AccessDenied", "sts": "AccessDenied"}


class RoleCheck:
    """The worker's function role, held against every call made with the function's own
    credentials (calls under an assumed role are that role's: moto decides those)."""

    def __init__(self, spec: FunctionSpec, policies: list[NamedPolicy]) -> None:
        self.spec = spec
        self.role = RolePolicies(policies)
        self.account = spec.arn.split(":")[4]
        self._lock = threading.Lock()
        self.denied: list[str] = []
        self.grants: set[tuple[str, int, str]] = set()
        self.unevaluated: set[str] = set()

    def check(self, client: Any, service: str, operation: str, params: Any) -> None:
        if not _own_credentials(client):
            return
        from botocore.exceptions import ClientError

        try:
            found = authorizations(
                service, operation, params, region=client.meta.region_name, account=self.account
            )
        except UnmappedCall as exc:
            found = [Authorization(f"{service}:{operation}", "unmapped")]
            message = str(exc)
        else:
            message = ""
        for authorization in found:
            decision = self.role.decide(authorization) if not message else None
            with self._lock:
                if decision is not None and decision.allowed:
                    self.grants.update(
                        (name, index, authorization.action) for name, index in decision.grants
                    )
                    self.unevaluated.update(decision.unevaluated)
                    continue
                denial = message or denial_message(
                    self.spec.role_arn, self.spec.name, authorization
                )
                self.denied.append(denial)
            code = _ACCESS_DENIED_CODES.get(service, "AccessDeniedException")
            raise ClientError({"Error": {"Code": code, "Message": denial}}, operation)

    def take(self) -> tuple[tuple[str, ...], tuple[tuple[str, int, str], ...], tuple[str, ...]]:
        with self._lock:
            taken = (
                tuple(self.denied),
                tuple(sorted(self.grants)),
                tuple(sorted(self.unevaluated)),
            )
            self.denied, self.grants, self.unevaluated = [], set(), set()
        return taken


def _own_credentials(client: Any) -> bool:
    """Whether a client signs with the function's own credentials (the environment's)."""
    try:
        access_key = client._request_signer._credentials.access_key
    except AttributeError:
        return True
    return bool(access_key == os.environ.get("AWS_ACCESS_KEY_ID"))


def _count_api_calls(
    counter: _CallCounter, faults: _Faults | None = None, role: RoleCheck | None = None
) -> None:
    """Wraps botocore's single entry point for API calls, so every client of the process counts.

    That includes the clients Powertools and the Encryption SDK build for themselves. A call is
    counted once however many times botocore retries it, and counted even if it fails.
    """
    from botocore.client import BaseClient

    # Read through the class dictionary: the stubs do not declare this private method.
    original: Callable[..., Any] = BaseClient.__dict__["_make_api_call"]
    if getattr(original, "_counts_calls", False):
        return

    def counted(client: Any, operation_name: str, api_params: Any) -> Any:
        service = client.meta.service_model.service_name
        counter.add(service, operation_name)
        if role is not None:
            role.check(client, service, operation_name, api_params)
        if faults is not None:
            faults.raise_for(service, operation_name)
        return original(client, operation_name, api_params)

    counted._counts_calls = True  # type: ignore[attr-defined]
    setattr(BaseClient, "_make_api_call", counted)  # noqa: B010 - mypy rejects assigning a method


def _worker_main(
    connection: Connection,
    spec: FunctionSpec,
    environment: Mapping[str, str],
    log_path: str | None,
    policies: list[NamedPolicy] | None = None,
) -> None:
    """Inside the worker process: set the environment, import the handler, serve invocations."""
    if log_path:
        # What the function prints goes to its own file, as it would to its log group.
        log_file = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log_file, 1)
        os.dup2(log_file, 2)
    os.environ.update(environment)
    clock = _Clock()
    calls = _CallCounter()
    faults = _Faults()
    role = RoleCheck(spec, policies) if policies is not None else None
    _count_api_calls(calls, faults, role)
    module_name, _, function_name = spec.handler.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:
        error = ("Runtime.ImportModuleError", f"{type(exc).__name__}: {exc}")
        while True:
            connection.recv()
            connection.send(("error", error, InvocationUsage(calls=calls.take())))
    while True:
        request_id, event, clock_offset, fault_rates = connection.recv()
        clock.move(clock_offset)
        faults.rates = dict(fault_rates)
        context = LambdaContext(
            function_name=spec.name,
            function_version="$LATEST",
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_mb,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name=f"local/{os.getpid()}",
            deadline=time.monotonic() + spec.timeout_seconds,
        )
        # Calls made between invocations (at import, or by a thread left running) count with
        # the next one: every call the worker makes is reported once.
        cpu_started = time.process_time()
        payload: Any
        try:
            result = handler(event, context)
            status, payload = "ok", json.dumps(result)
        except Exception as exc:
            traceback.print_exc()
            status, payload = "error", (type(exc).__name__, str(exc))
        denied, grants, unevaluated = role.take() if role is not None else ((), (), ())
        usage = InvocationUsage(
            calls.take(),
            time.process_time() - cpu_started,
            faults.injected.take(),
            denied,
            grants,
            unevaluated,
        )
        connection.send((status, payload, usage))


class _Clock:
    """The worker's wall clock: real time moved by an offset, with time-machine (it keeps ticking)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._traveller: Any = None

    def move(self, offset: float) -> None:
        if offset == self.offset:
            return
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None
        if offset:
            self._traveller = time_machine.travel(time.time() + offset, tick=True)
            self._traveller.start()
        self.offset = offset


class _Worker:
    """One warm execution environment."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        log_path: str | None,
        policies: list[NamedPolicy] | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child, spec, dict(environment), log_path, policies),
            name=f"lambda-{spec.logical_id}",
            daemon=True,
        )
        self.process.start()

    def invoke(
        self, event: JsonDict, timeout: float, clock_offset: float, fault_rates: Mapping[str, float]
    ) -> tuple[str, Any, InvocationUsage]:
        """The status, the payload and what it cost; a killed worker's usage is lost with it."""
        exited = ("Runtime.ExitError", "the runtime exited without answering")
        try:
            self.connection.send((str(uuid.uuid4()), event, clock_offset, dict(fault_rates)))
            if not self.connection.poll(timeout):
                self.kill()
                timed_out = ("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds")
                return "error", timed_out, InvocationUsage()
            status, payload, usage = self.connection.recv()
        except (EOFError, OSError):
            # Killed before or during the invocation: the pipe breaks at one end or the other.
            return "error", exited, InvocationUsage()
        return status, payload, usage

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)


class FunctionRuntime:
    """A pool of warm workers for one function; concurrency beyond the pool waits its turn.

    It keeps running totals of the AWS API calls its workers made and of the CPU seconds they
    spent in invocations, since it started or since `reset_call_counts()`.
    """

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        *,
        concurrency: int,
        clock_offset: Callable[[], float] = lambda: 0.0,
        log_path: str | None = None,
        policies: list[NamedPolicy] | None = None,
    ) -> None:
        self.spec = spec
        self.log_path = log_path
        # The execution role's policies; None runs the function without the role check.
        self.policies = policies
        self.denied: list[str] = []
        self.grants: set[tuple[str, int, str]] = set()
        self.unevaluated: set[str] = set()
        self.environment = {**spec.environment, **environment}
        self.concurrency = concurrency
        self.clock_offset = clock_offset
        # Fault injection: share of each service's calls that fail, e.g. {"dynamodb": 0.05}.
        self.fault_rates: dict[str, float] = {}
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._busy: set[_Worker] = set()
        self._started = 0
        # Workers started before the role's policies last changed are not used again.
        self._generation = 0
        self._worker_generation: dict[_Worker, int] = {}
        self._lock = threading.Lock()
        self.invocations = 0
        self.errors = 0
        self._calls: Counter[tuple[str, str]] = Counter()
        self._faults: Counter[tuple[str, str]] = Counter()
        self._cpu_seconds = 0.0

    def call_counts(self) -> CallCounts:
        """AWS API calls by (service, operation), e.g. `("dynamodb", "BatchGetItem")`."""
        with self._lock:
            return dict(self._calls)

    def fault_counts(self) -> CallCounts:
        """The calls among `call_counts()` that `fault_rates` made fail, by (service, operation)."""
        with self._lock:
            return dict(self._faults)

    def cpu_seconds(self) -> float:
        """CPU seconds the workers spent inside invocations (every thread of each worker)."""
        with self._lock:
            return self._cpu_seconds

    def reset_call_counts(self) -> None:
        """Starts a new measurement: call counts and CPU seconds go back to zero."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._cpu_seconds = 0.0

    def warm(self) -> None:
        worker = self._take()
        self._idle.put(worker)

    def grant(self, policy: NamedPolicy) -> None:
        """A policy attached to the role after the start (a team stack's `AWS::IAM::Policy`):
        the next invocations are decided with it, by workers started anew."""
        with self._lock:
            if self.policies is None:
                return
            self.policies = [*self.policies, policy]
            self._generation += 1
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            self._retire(worker)

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._worker_generation.pop(worker, None)
            self._started -= 1

    def kill_busy(self) -> int:
        """Fault injection: kills the workers in the middle of an invocation, as a crash would."""
        with self._lock:
            busy = list(self._busy)
        for worker in busy:
            worker.kill()
        return len(busy)

    def invoke(self, event: JsonDict) -> Any:
        worker = self._take()
        with self._lock:
            self._busy.add(worker)
        try:
            status, payload, usage = worker.invoke(
                event, float(self.spec.timeout_seconds), self.clock_offset(), self.fault_rates
            )
        finally:
            with self._lock:
                self._busy.discard(worker)
                current = self._worker_generation.get(worker) == self._generation
            if worker.alive() and current:
                self._idle.put(worker)
            elif worker.alive():
                self._retire(worker)
            else:
                with self._lock:
                    self._worker_generation.pop(worker, None)
                    self._started -= 1
        with self._lock:
            self.invocations += 1
            if status != "ok":
                self.errors += 1
            for service, operation, count in usage.calls:
                self._calls[(service, operation)] += count
            for service, operation, count in usage.faults:
                self._faults[(service, operation)] += count
            self._cpu_seconds += usage.cpu_seconds
            self.denied.extend(usage.denied)
            self.grants.update(usage.grants)
            self.unevaluated.update(usage.unevaluated)
        if status != "ok":
            error_type, message = payload
            raise FunctionError(self.spec.logical_id, error_type, message)
        return json.loads(payload)

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            start_new = self._started < self.concurrency
            if start_new:
                self._started += 1
        if start_new:
            with self._lock:
                generation, policies = self._generation, self.policies
            worker = _Worker(self.spec, self.environment, self.log_path, policies)
            with self._lock:
                self._worker_generation[worker] = generation
            return worker
        return self._idle.get()

    def stop(self) -> None:
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return
