"""What the carrier simulator holds: the records of its resources (configuration sets and
their event destinations, opt-out lists, the account), of sends, faults and scheduled events,
and the state they live in, with the registrations the template makes and what tests read."""

from __future__ import annotations

import itertools
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NotRequired, TypedDict

from cloison_local.carrier.protocol import (
    _NAME,
    DELIVERED_OUTCOME,
    MATCH_EVERY_TEXT_EVENT,
    TEXT_EVENT_DESCRIPTIONS,
    JsonObject,
    _not_found,
)
from cloison_local.origination import DEFAULT_OPT_OUT_LIST, Originations

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class EventDestinationSpec(TypedDict):
    """An SNS event destination of a configuration set, as the local stack reads it."""

    name: str
    topic_arn: str
    matching_event_types: Sequence[str]
    enabled: NotRequired[bool]


@dataclass(frozen=True)
class SentMessage:
    """One accepted SendTextMessage, as the carrier saw it."""

    message_id: str
    destination: str
    origination: str
    body: str
    context: Mapping[str, str]
    configuration_set: str | None
    message_type: str
    sent_at: datetime
    encoding: str
    parts: int

    def to_json(self) -> JsonObject:
        """The record as the control API shows it."""
        return {
            "id": self.message_id,
            "destination": self.destination,
            "origination": self.origination,
            "body": self.body,
            "context": dict(self.context),
            "configuration_set": self.configuration_set,
            "message_type": self.message_type,
            "time": self.sent_at.isoformat(),
            "encoding": self.encoding,
            "parts": self.parts,
        }


@dataclass(frozen=True)
class _EventDestination:
    name: str
    topic_arn: str
    matching_event_types: tuple[str, ...]
    enabled: bool

    def matches(self, event_type: str) -> bool:
        wanted = set(self.matching_event_types)
        return self.enabled and (event_type in wanted or bool(wanted & MATCH_EVERY_TEXT_EVENT))


@dataclass(frozen=True)
class _ConfigurationSet:
    name: str
    arn: str
    destinations: tuple[_EventDestination, ...]
    created: datetime


@dataclass(frozen=True)
class _OptedOut:
    opted_out_at: datetime
    by_end_user: bool


@dataclass
class _OptOutList:
    name: str
    arn: str
    created: datetime
    numbers: dict[str, _OptedOut] = field(default_factory=dict)


@dataclass
class _Account:
    """The account's End User Messaging settings: its tier (a new account is in the SMS
    sandbox) and monthly spend limit, and the destination numbers verified for the sandbox."""

    tier: str = "PRODUCTION"
    spend_limit: int = 10_000
    verified: tuple[str, ...] = ()


@dataclass
class _Faults:
    throttle_next: int = 0
    stall_next: int = 0
    stall_seconds: float = 0.0
    fail_rate: float = 0.0
    throttle_rate: float = 0.0
    opt_out_lists_down: bool = False


@dataclass(order=True, frozen=True)
class _Scheduled:
    due: float
    sequence: int
    topic_arns: tuple[str, ...] = field(compare=False)
    # Built when published, so eventTimestamp is the time the event went out.
    render: Callable[[], str] = field(compare=False)


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _check_rates(faults: _Faults) -> None:
    for rate in (faults.fail_rate, faults.throttle_rate):
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rates are shares from 0 to 1")


class _CarrierState:
    """The simulator's state, which each part `CarrierSimulator` is made of builds on: the
    registrations from the template, the runtime state that `reset()` clears, and the events
    waiting to go out."""

    def __init__(
        self,
        region: str,
        *,
        delivery_delay_seconds: float,
        account_id: str,
        fail_rate: float,
        throttle_rate: float,
        seed: int,
        max_recorded_sends: int,
    ) -> None:
        if delivery_delay_seconds < 0:
            raise ValueError("delivery_delay_seconds must not be negative")
        self._region = region
        self._delivery_delay = delivery_delay_seconds
        self._account_id = account_id
        self._seed = seed
        self._initial_faults = _Faults(fail_rate=fail_rate, throttle_rate=throttle_rate)
        _check_rates(self._initial_faults)

        # Guards every piece of state below; taken before _schedule_changed when both are needed.
        self._lock = threading.RLock()
        self._configuration_sets: dict[str, _ConfigurationSet] = {}
        # Every account has the Default list, on which a phone number starts.
        self._opt_out_lists: dict[str, _OptOutList] = {
            DEFAULT_OPT_OUT_LIST: _OptOutList(
                name=DEFAULT_OPT_OUT_LIST,
                arn=f"arn:aws:sms-voice:{region}:{account_id}:opt-out-list/{DEFAULT_OPT_OUT_LIST}",
                created=_now(),
            )
        }
        self._originations = Originations(region, account_id)
        self._account = _Account()
        self._sent: deque[SentMessage] = deque(maxlen=max_recorded_sends)
        # Sends refused because the number is opted out: (destination, context), for tests.
        self._refused: deque[tuple[str, Mapping[str, str]]] = deque(maxlen=max_recorded_sends)
        # Replies injected: (person, body), for tests that look for bodies where none may be.
        self._injected: deque[tuple[str, str]] = deque(maxlen=max_recorded_sends)
        self._calls: dict[str, int] = {}
        self._faults = _Faults(fail_rate=fail_rate, throttle_rate=throttle_rate)
        # Seeded so a fault pattern can be replayed; it decides faults, not secrets.
        self._random = random.Random(seed)  # noqa: S311
        self._default_outcome: tuple[str, ...] = DELIVERED_OUTCOME
        self._outcomes: dict[str, tuple[str, ...]] = {}

        self._schedule_changed = threading.Condition()
        self._schedule: list[_Scheduled] = []
        self._sequence = itertools.count()
        self._in_flight = 0
        self._stopping = False
        # The client events are published with, made by start().
        self._sns: SNSClient | None = None

    # -- registrations from the template ---------------------------------------------------

    def register_configuration_set(
        self, name: str, destinations: Iterable[EventDestinationSpec]
    ) -> None:
        """Declare a configuration set and its SNS event destinations (replacing any before)."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid configuration set name {name!r}")
        known = set(TEXT_EVENT_DESCRIPTIONS) | MATCH_EVERY_TEXT_EVENT
        parsed = []
        for spec in destinations:
            types = tuple(spec["matching_event_types"])
            if not types or not set(types) <= known:
                raise ValueError(f"destination {spec['name']!r} matches unknown event types")
            parsed.append(
                _EventDestination(
                    name=spec["name"],
                    topic_arn=spec["topic_arn"],
                    matching_event_types=types,
                    enabled=spec.get("enabled", True),
                )
            )
        with self._lock:
            self._configuration_sets[name] = _ConfigurationSet(
                name=name,
                arn=self._arn("configuration-set", name),
                destinations=tuple(parsed),
                created=_now(),
            )

    def register_opt_out_list(self, name: str) -> None:
        """Declare an opt-out list; registering it again keeps the numbers it holds."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid opt-out list name {name!r}")
        with self._lock:
            if name not in self._opt_out_lists:
                self._opt_out_lists[name] = _OptOutList(
                    name=name, arn=self._arn("opt-out-list", name), created=_now()
                )

    def register_phone_number(
        self,
        number: str,
        *,
        opt_out_list: str = DEFAULT_OPT_OUT_LIST,
        two_way_topic: str | None = None,
        self_managed: bool = False,
    ) -> str:
        """A phone number or short code of the account, as AWS gives it before any stack (on
        the Default list, no two-way channel, unless told); returns its PhoneNumberId."""
        with self._lock:
            if opt_out_list not in self._opt_out_lists:
                raise ValueError(f"no opt-out list {opt_out_list!r}")
            registered = self._originations.add_number(
                number,
                opt_out_list=opt_out_list,
                two_way_topic=two_way_topic,
                self_managed=self_managed,
            )
            return registered.phone_number_id

    def register_two_way_channel(self, origination_identity: str, topic_arn: str) -> None:
        """Route replies sent to `origination_identity` (our number or short code) to the
        topic: the number's own two-way channel (UpdatePhoneNumber)."""
        with self._lock:
            self._originations.add_number(origination_identity, two_way_topic=topic_arn)

    def register_sender_id(self, sender_id: str) -> None:
        with self._lock:
            self._originations.add_sender_id(sender_id)

    def register_pool(
        self,
        name: str,
        identities: Sequence[str],
        *,
        opt_out_list: str = DEFAULT_OPT_OUT_LIST,
        two_way_topic: str | None = None,
        self_managed: bool = False,
        stop_message: str = "",
        help_message: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A pool of registered identities (AWS::SMSVOICE::Pool): what is sent through it and
        what its numbers receive follow its settings; returns its PoolId."""
        with self._lock:
            if opt_out_list not in self._opt_out_lists:
                raise ValueError(f"no opt-out list {opt_out_list!r}")
            pool = self._originations.add_pool(
                name,
                list(identities),
                opt_out_list=opt_out_list,
                two_way_topic=two_way_topic,
                self_managed=self_managed,
                stop_message=stop_message,
                help_message=help_message,
                tags=dict(tags or {}),
            )
            return pool.pool_id

    def set_account(
        self, *, tier: str = "PRODUCTION", spend_limit: int = 10_000, verified: Sequence[str] = ()
    ) -> None:
        """The account's tier (SANDBOX sends to `verified` numbers only) and spend limit."""
        if tier not in ("SANDBOX", "PRODUCTION"):
            raise ValueError("tier is SANDBOX or PRODUCTION")
        with self._lock:
            self._account = _Account(tier, spend_limit, tuple(verified))

    # -- what happened ---------------------------------------------------------------------

    def sent_messages(self) -> list[SentMessage]:
        """The recorded sends, oldest first (the most recent `max_recorded_sends` only)."""
        with self._lock:
            return list(self._sent)

    def refused_sends(self) -> list[tuple[str, Mapping[str, str]]]:
        """(destination, context) of each send refused because the number was opted out."""
        with self._lock:
            return list(self._refused)

    def injected_replies(self) -> list[tuple[str, str]]:
        """(person, body) of each reply injected, oldest first (the most recent
        `max_recorded_sends` only)."""
        with self._lock:
            return list(self._injected)

    def call_counts(self) -> dict[str, int]:
        """API calls received by operation, faulted ones included."""
        with self._lock:
            return dict(self._calls)

    # -- resources by name or ARN ----------------------------------------------------------

    def _configuration_set(self, name_or_arn: str) -> _ConfigurationSet:
        for configuration_set in self._configuration_sets.values():
            if name_or_arn in (configuration_set.name, configuration_set.arn):
                return configuration_set
        raise _not_found("configuration-set", name_or_arn)

    def _opt_out_list(self, name_or_arn: str) -> _OptOutList:
        for opt_out_list in self._opt_out_lists.values():
            if name_or_arn in (opt_out_list.name, opt_out_list.arn):
                return opt_out_list
        raise _not_found("opt-out-list", name_or_arn)

    def _arn(self, resource_type: str, name: str) -> str:
        return f"arn:aws:sms-voice:{self._region}:{self._account_id}:{resource_type}/{name}"
