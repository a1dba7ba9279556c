"""A local stand-in for AWS End User Messaging SMS that speaks the pinpoint-sms-voice-v2 wire
protocol, records what was sent and publishes delivery events and two-way replies to SNS."""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import json
import logging
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, TypeVar
from urllib.parse import parse_qs, urlsplit

import boto3
import phonenumbers
from botocore.exceptions import BotoCoreError, ClientError

from cloison_local.origination import (
    DEFAULT_OPT_OUT_LIST,
    HELP_KEYWORD,
    OPT_OUT_KEYWORDS,
    Governing,
    Originations,
    UnknownIdentity,
    keyword_of,
)

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import PublishBatchRequestEntryTypeDef

_LOG = logging.getLogger(__name__)

JsonObject = dict[str, Any]
_T = TypeVar("_T")

TARGET_PREFIX = "PinpointSMSVoiceV2."
CONTROL_PREFIX = "/_simulator/"
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
# moto's default account, so the ARNs made here line up with the stack's own.
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_DELIVERY_DELAY_SECONDS = 0.2
MAX_RECORDED_SENDS = 100_000
# Origination shown in events when a send names none and no two-way channel is registered.

# Limits from the service model (botocore checks only minimums client-side).
MAX_BODY_CHARS = 1600
MIN_TIME_TO_LIVE, MAX_TIME_TO_LIVE = 5, 259_200
MAX_CONTEXT_ENTRIES = 5
MAX_CONTEXT_KEY_CHARS, MAX_CONTEXT_VALUE_CHARS = 100, 800
MAX_NAMES_FILTER = 5
MAX_PAGE_SIZE = 100
MESSAGE_TYPES = frozenset({"TRANSACTIONAL", "PROMOTIONAL"})
DEFAULT_MESSAGE_TYPE = "TRANSACTIONAL"

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_NOT_BLANK = re.compile(r"(?!\s*$)[\s\S]+")
_ORIGINATION_IDENTITY = re.compile(r"[A-Za-z0-9_:/+-]+")
_NAME_OR_ARN = re.compile(r"[A-Za-z0-9_:/-]+")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_PRICE = re.compile(r"[0-9]{0,2}\.[0-9]{1,5}")

# Event types a configuration set can match that stand for every SMS event.
MATCH_EVERY_TEXT_EVENT = frozenset({"ALL", "TEXT_ALL"})
# Each SMS event type with the description the simulator reports for it.
TEXT_EVENT_DESCRIPTIONS: Mapping[str, str] = {
    "TEXT_QUEUED": "Message is queued for delivery",
    "TEXT_PENDING": "Message is in the process of being delivered",
    "TEXT_SUCCESSFUL": "Message has been accepted by phone carrier",
    "TEXT_DELIVERED": "Message has been accepted by phone",
    "TEXT_BLOCKED": "Message was blocked by the recipient's device or carrier",
    "TEXT_TTL_EXPIRED": "Message was not delivered within its time to live",
    "TEXT_CARRIER_UNREACHABLE": "Recipient's carrier network had a temporary error",
    "TEXT_INVALID": "Destination phone number is not valid",
    "TEXT_INVALID_MESSAGE": "Message body is not valid and cannot be delivered",
    "TEXT_CARRIER_BLOCKED": "Recipient's carrier blocked the message",
    "TEXT_UNREACHABLE": "Recipient's device is unreachable",
    "TEXT_SPAM": "Recipient's carrier identified the message as spam",
    "TEXT_UNKNOWN": "Message could not be delivered for an unknown reason",
    "TEXT_PROTECT_BLOCKED": "Message was blocked by a protect configuration",
}
DELIVERED_OUTCOME = ("TEXT_SUCCESSFUL", "TEXT_DELIVERED")
PRICE_PER_PART = 0.0458

# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
SNS_BATCH_SIZE = 10
_MAX_EVENTS_PER_PUBLISH_ROUND = 200
_SHUTDOWN_POLL_SECONDS = 0.05


def mask_number(number: str) -> str:
    """Hide all but the last two characters, so logs tell numbers apart without showing them."""
    if len(number) <= 2:
        return "*" * len(number)
    return "*" * (len(number) - 2) + number[-2:]


def message_parts(body: str) -> tuple[str, int]:
    """Return the encoding ("GSM" or "UCS2") and the number of SMS parts `body` is sent in."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        costs = [2 if char in GSM7_EXTENSION else 1 for char in body]
        return "GSM", _pack(costs, GSM7_SINGLE, GSM7_PART)
    # UTF-16 code units: a character outside the BMP is a surrogate pair.
    costs = [2 if ord(char) > 0xFFFF else 1 for char in body]
    return "UCS2", _pack(costs, UCS2_SINGLE, UCS2_PART)


def _pack(costs: Sequence[int], single: int, per_part: int) -> int:
    """Count parts, never splitting an escape sequence or a surrogate pair across two parts."""
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


class EventDestinationSpec(TypedDict):
    """An SNS event destination of a configuration set, as the local stack reads it."""

    name: str
    topic_arn: str
    matching_event_types: Sequence[str]
    enabled: NotRequired[bool]


class UnknownChannelError(LookupError):
    """A reply was injected to a number that has no registered two-way channel."""


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


class _ServiceError(Exception):
    """An error answered in the service's JSON shape, which botocore maps to a modeled exception."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = HTTPStatus.BAD_REQUEST,
        **fields: object,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def body(self) -> JsonObject:
        # botocore's Error.Message reads `message`; the modeled member is `Message`.
        return {
            "__type": self.code,
            "message": self.message,
            "Message": self.message,
            **self.fields,
        }


def _validation_error(
    message: str, *, reason: str = "FIELD_VALIDATION_FAILED", field_name: str | None = None
) -> _ServiceError:
    if field_name is None:
        return _ServiceError("ValidationException", message, Reason=reason)
    return _ServiceError(
        "ValidationException",
        message,
        Reason=reason,
        Fields=[{"Name": field_name, "Message": message}],
    )


def _not_found(resource_type: str, resource_id: str) -> _ServiceError:
    return _ServiceError(
        "ResourceNotFoundException",
        f"No {resource_type} named {resource_id!r}",
        ResourceType=resource_type,
        ResourceId=resource_id,
    )


def _text(
    payload: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    max_chars: int = 256,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    value = payload.get(name)
    if value is None:
        if required:
            raise _validation_error(
                f"{name} is required", reason="MISSING_PARAMETER", field_name=name
            )
        return None
    if not isinstance(value, str) or not value:
        raise _validation_error(f"{name} must be a non-empty string", field_name=name)
    if len(value) > max_chars:
        raise _validation_error(f"{name} is longer than {max_chars} characters", field_name=name)
    if pattern is not None and not pattern.fullmatch(value):
        raise _validation_error(f"{name} is not in the expected format", field_name=name)
    return value


def _required_text(payload: Mapping[str, Any], name: str, **constraints: Any) -> str:
    value = _text(payload, name, required=True, **constraints)
    assert value is not None  # _text raised otherwise
    return value


def _integer(payload: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    # bool is an int in Python but not in JSON.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _validation_error(f"{name} must be an integer from {low} to {high}", field_name=name)
    return value


def _boolean(payload: Mapping[str, Any], name: str) -> bool:
    value = payload.get(name, False)
    if not isinstance(value, bool):
        raise _validation_error(f"{name} must be a boolean", field_name=name)
    return value


def _text_list(payload: Mapping[str, Any], name: str, max_items: int) -> list[str] | None:
    value = payload.get(name)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > max_items
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise _validation_error(
            f"{name} must be a list of at most {max_items} strings", field_name=name
        )
    return list(value)


def _phone_number(payload: Mapping[str, Any], name: str) -> str:
    value = _required_text(payload, name, max_chars=20)
    if not _E164.fullmatch(value) or _iso_country(value) is None:
        raise _validation_error(f"{name} is not a valid E.164 phone number", field_name=name)
    return value


def _iso_country(number: str) -> str | None:
    """The ISO country of a valid phone number, None if the number is not valid."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed)


def _context(payload: Mapping[str, Any]) -> dict[str, str]:
    value = payload.get("Context")
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_CONTEXT_ENTRIES:
        raise _validation_error(
            f"Context must be a map of at most {MAX_CONTEXT_ENTRIES} entries", field_name="Context"
        )
    for key, item in value.items():
        if (
            not 1 <= len(key) <= MAX_CONTEXT_KEY_CHARS
            or any(char.isspace() for char in key)
            or not isinstance(item, str)
            or not 1 <= len(item) <= MAX_CONTEXT_VALUE_CHARS
            or item != item.strip()
        ):
            raise _validation_error("Context holds an invalid key or value", field_name="Context")
    return dict(value)


def _page_size(payload: Mapping[str, Any]) -> int:
    return _integer(payload, "MaxResults", 1, MAX_PAGE_SIZE) or MAX_PAGE_SIZE


def _page(
    items: Iterable[_T], key: Callable[[_T], str], payload: Mapping[str, Any]
) -> tuple[list[_T], str | None]:
    """One page of `items` in key order; the token names the last key, so deletions skip nothing."""
    size = _page_size(payload)
    after = _decode_token(_text(payload, "NextToken", max_chars=1024))
    ordered = sorted(items, key=key)
    remaining = [item for item in ordered if after is None or key(item) > after]
    page = remaining[:size]
    next_token = _encode_token(key(page[-1])) if len(remaining) > size else None
    return page, next_token


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError) as exc:
        raise _validation_error("NextToken is not valid", reason="INVALID_NEXT_TOKEN") from exc
    after = decoded.get("after") if isinstance(decoded, dict) else None
    if not isinstance(after, str):
        raise _validation_error("NextToken is not valid", reason="INVALID_NEXT_TOKEN")
    return after


def _epoch_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _now() -> datetime:
    return datetime.now(tz=UTC)


class CarrierSimulator:
    """An HTTP server answering the SMS v2 API as AWS would, with programmable outcomes.

    Registrations (configuration sets, opt-out lists, two-way channels) come from the template;
    everything else is runtime state that `reset()` clears. Events go out on a background
    thread, `delivery_delay_seconds` apart, never inside the request that caused them.
    """

    def __init__(
        self,
        sns_endpoint_url: str,
        region: str,
        *,
        delivery_delay_seconds: float = DEFAULT_DELIVERY_DELAY_SECONDS,
        host: str = "127.0.0.1",
        port: int = 0,
        account_id: str = DEFAULT_ACCOUNT_ID,
        fail_rate: float = 0.0,
        throttle_rate: float = 0.0,
        seed: int = 0,
        max_recorded_sends: int = MAX_RECORDED_SENDS,
    ) -> None:
        if delivery_delay_seconds < 0:
            raise ValueError("delivery_delay_seconds must not be negative")
        self._sns_endpoint_url = sns_endpoint_url
        self._region = region
        self._delivery_delay = delivery_delay_seconds
        self._host = host
        self._port = port
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

        self._operations: dict[str, Callable[[Mapping[str, Any]], JsonObject]] = {
            "SendTextMessage": self._send_text_message,
            "PutOptedOutNumber": self._put_opted_out_number,
            "DeleteOptedOutNumber": self._delete_opted_out_number,
            "DescribeOptedOutNumbers": self._describe_opted_out_numbers,
            "DescribeOptOutLists": self._describe_opt_out_lists,
            "DescribeConfigurationSets": self._describe_configuration_sets,
            "DescribePhoneNumbers": self._describe_phone_numbers,
            "DescribeSenderIds": self._describe_sender_ids,
            "DescribePools": self._describe_pools,
            "ListTagsForResource": self._list_tags_for_resource,
            "DescribeAccountAttributes": self._describe_account_attributes,
            "DescribeSpendLimits": self._describe_spend_limits,
            "DescribeVerifiedDestinationNumbers": self._describe_verified_destination_numbers,
        }
        self._server: _CarrierHttpServer | None = None
        self._threads: list[threading.Thread] = []
        self._sns: SNSClient | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the port and start serving requests and publishing events."""
        if self._server is not None:
            raise RuntimeError("the carrier simulator is already running")
        self._sns = boto3.client(
            "sns", endpoint_url=self._sns_endpoint_url, region_name=self._region
        )
        self._stopping = False
        self._server = _CarrierHttpServer((self._host, self._port), self)
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                # A short poll keeps stop() quick; the server sleeps in select() between polls.
                kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
                name="carrier-http",
                daemon=True,
            ),
            threading.Thread(target=self._publish_due_events, name="carrier-events", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        _LOG.info("carrier simulator listening on %s", self.endpoint_url)

    def stop(self) -> None:
        """Stop serving; events not yet published are dropped, as a stopped stack sends nothing."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._schedule_changed:
            self._stopping = True
            self._schedule.clear()
            self._schedule_changed.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def __enter__(self) -> CarrierSimulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """The URL to give botocore, e.g. as AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2."""
        if self._server is None:
            raise RuntimeError("the carrier simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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

    # -- programmable behaviour ------------------------------------------------------------

    def set_outcome(self, events: Sequence[str], *, destination: str | None = None) -> None:
        """Make sends to `destination` (to every number if None) emit `events`, the last final.

        For instance `("TEXT_PENDING", "TEXT_CARRIER_UNREACHABLE")`; a rule for one number
        wins over the rule for every number.
        """
        outcome = tuple(events)
        unknown = set(outcome) - set(TEXT_EVENT_DESCRIPTIONS)
        if not outcome or unknown:
            raise ValueError(f"an outcome is a non-empty list of SMS event types, not {events!r}")
        with self._lock:
            if destination is None:
                self._default_outcome = outcome
            else:
                self._outcomes[destination] = outcome

    def throttle_next(self, count: int) -> None:
        """Answer ThrottlingException to the next `count` SendTextMessage calls."""
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            self._faults.throttle_next = count

    def opt_out_lists_down(self, down: bool = True) -> None:
        """Answer every PutOptedOutNumber with a server error (500) while `down`: an opt-out
        Cloison pushes does not reach the list, and sends to the number still go out."""
        with self._lock:
            self._faults.opt_out_lists_down = down

    def stall_after_next(self, count: int, seconds: float) -> None:
        """Accept the next `count` sends, then hold each answer `seconds` before giving it.

        The message is sent and its events go out; only the caller waits, as when a network
        breaks after the service did the work: the caller cannot know whether it was sent.
        """
        if count < 0 or seconds < 0:
            raise ValueError("count and seconds must not be negative")
        with self._lock:
            self._faults.stall_next = count
            self._faults.stall_seconds = seconds

    def set_fault_rates(
        self,
        *,
        fail_rate: float | None = None,
        throttle_rate: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Make that share of SendTextMessage calls fail (500) or throttle, drawn from `seed`."""
        with self._lock:
            current = self._faults
            faults = _Faults(
                throttle_next=current.throttle_next,
                fail_rate=current.fail_rate if fail_rate is None else fail_rate,
                throttle_rate=current.throttle_rate if throttle_rate is None else throttle_rate,
                opt_out_lists_down=current.opt_out_lists_down,
            )
            _check_rates(faults)
            self._faults = faults
            if seed is not None:
                self._random.seed(seed)

    def reset(self) -> None:
        """Forget sends, injected replies, opt-outs, faults, outcomes and pending events; keep
        the registrations."""
        with self._lock:
            self._sent.clear()
            self._refused.clear()
            self._injected.clear()
            self._calls.clear()
            for opt_out_list in self._opt_out_lists.values():
                opt_out_list.numbers.clear()
            self._faults = _Faults(
                fail_rate=self._initial_faults.fail_rate,
                throttle_rate=self._initial_faults.throttle_rate,
            )
            self._random.seed(self._seed)
            self._default_outcome = DELIVERED_OUTCOME
            self._outcomes.clear()
            with self._schedule_changed:
                self._schedule.clear()
                self._schedule_changed.notify_all()

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

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every scheduled event has been published; False if `timeout` ran out."""
        deadline = time.monotonic() + timeout
        with self._schedule_changed:
            while self._schedule or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._schedule_changed.wait(remaining)
        return True

    # -- two-way replies -------------------------------------------------------------------

    def inject_reply(
        self,
        origination_number: str,
        destination_number: str,
        body: str,
        previous_published_message_id: str | None = None,
        *,
        copies: int = 1,
        copy_delay_seconds: float = 0.0,
    ) -> str:
        """Publish a reply from a person to our number, with the service's two-way SNS payload.

        `origination_number` is the person, `destination_number` our number or short code.
        Without `previous_published_message_id` the reply answers the last message sent to
        that person (from that number if any); it is "" when nothing was sent to them.
        `copies` > 1 publishes the same payload (same `inboundMessageId`) that many times,
        `copy_delay_seconds` apart, as SNS's at-least-once delivery may hand it over.
        """
        if not _E164.fullmatch(origination_number):
            raise ValueError("origination_number must be an E.164 phone number")
        if copies < 1 or copy_delay_seconds < 0:
            raise ValueError("copies must be at least 1 and copy_delay_seconds not negative")
        with self._lock:
            try:
                governing = self._originations.for_inbound(destination_number)
            except UnknownIdentity:
                governing = None
            if governing is None or governing.two_way_topic is None:
                raise UnknownChannelError(
                    f"no two-way channel for {mask_number(destination_number)}"
                )
            topic_arn = governing.two_way_topic
            # The number the person wrote to, however the caller named it (number, id or ARN).
            destination_number = governing.shown_as
            self._apply_keyword(origination_number, body, governing)
            if previous_published_message_id is None:
                previous_published_message_id = self._last_message_id(
                    origination_number, destination_number
                )
            self._injected.append((origination_number, body))
        inbound_message_id = str(uuid.uuid4())
        payload = json.dumps(
            {
                "originationNumber": origination_number,
                "destinationNumber": destination_number,
                "messageKeyword": f"KEYWORD_{self._account_id}",
                "messageBody": body,
                "inboundMessageId": inbound_message_id,
                "previousPublishedMessageId": previous_published_message_id,
            }
        )
        for copy in range(copies):
            self._schedule_event(copy * copy_delay_seconds, (topic_arn,), lambda: payload)
        _LOG.info(
            "reply %s from %s to %s",
            inbound_message_id,
            mask_number(origination_number),
            mask_number(destination_number),
        )
        return inbound_message_id

    def _apply_keyword(self, person: str, body: str, governing: Governing) -> None:
        """What the service itself does with a keyword, unless opt-outs are self-managed: an
        opt-out keyword puts the person on the governing list, and STOP and HELP are answered."""
        if governing.self_managed:
            return
        keyword = keyword_of(body)
        if keyword in OPT_OUT_KEYWORDS:
            self._opt_out_lists[governing.opt_out_list].numbers.setdefault(
                person, _OptedOut(_now(), by_end_user=True)
            )
            _LOG.info("opted out %s by keyword", mask_number(person))
            answer = governing.stop_message
        elif keyword == HELP_KEYWORD:
            answer = governing.help_message
        else:
            return
        if answer:
            encoding, parts = message_parts(answer)
            self._sent.append(
                SentMessage(
                    message_id=str(uuid.uuid4()),
                    destination=person,
                    origination=governing.shown_as,
                    body=answer,
                    context={},
                    configuration_set=None,
                    message_type="TRANSACTIONAL",
                    sent_at=_now(),
                    encoding=encoding,
                    parts=parts,
                )
            )

    def _last_message_id(self, person: str, our_number: str) -> str:
        fallback = ""
        for sent in reversed(self._sent):
            if sent.destination != person:
                continue
            if sent.origination == our_number:
                return sent.message_id
            fallback = fallback or sent.message_id
        return fallback

    # -- the wire protocol -----------------------------------------------------------------

    def _answer_api_call(self, target: str | None, raw_body: bytes) -> tuple[int, JsonObject]:
        target = target or ""
        operation = target.removeprefix(TARGET_PREFIX)
        handler = self._operations.get(operation) if target.startswith(TARGET_PREFIX) else None
        if handler is None:
            unknown = _validation_error(
                f"Unsupported operation {target!r}", reason="UNKNOWN_OPERATION"
            )
            return unknown.status, unknown.body()
        with self._lock:
            self._calls[operation] = self._calls.get(operation, 0) + 1
        try:
            payload = json.loads(raw_body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError:
            unparsable = _validation_error(
                "The request body is not valid JSON", reason="CANNOT_PARSE"
            )
            return unparsable.status, unparsable.body()
        try:
            return HTTPStatus.OK, handler(payload)
        except _ServiceError as error:
            _LOG.info("%s answered %s", operation, error.code)
            return error.status, error.body()
        except Exception:
            _LOG.exception("%s failed inside the simulator", operation)
            failure = _ServiceError(
                "InternalServerException",
                "The carrier simulator failed",
                status=HTTPStatus.INTERNAL_SERVER_ERROR,
                RequestId=str(uuid.uuid4()),
            )
            return failure.status, failure.body()

    def _apply_send_faults(self) -> None:
        with self._lock:
            faults = self._faults
            if faults.throttle_next > 0:
                faults.throttle_next -= 1
                throttled = True
            else:
                throttled = self._random.random() < faults.throttle_rate
            failed = not throttled and self._random.random() < faults.fail_rate
        if throttled:
            raise _ServiceError("ThrottlingException", "Rate exceeded")
        if failed:
            raise _ServiceError(
                "InternalServerException",
                "Simulated internal error",
                status=HTTPStatus.INTERNAL_SERVER_ERROR,
                RequestId=str(uuid.uuid4()),
            )

    def _send_text_message(self, payload: Mapping[str, Any]) -> JsonObject:
        # Throttling is decided before the request is looked at, as a rate limiter would.
        self._apply_send_faults()
        destination = _phone_number(payload, "DestinationPhoneNumber")
        body = _required_text(payload, "MessageBody", max_chars=MAX_BODY_CHARS, pattern=_NOT_BLANK)
        origination = _text(payload, "OriginationIdentity", pattern=_ORIGINATION_IDENTITY)
        message_type = _text(payload, "MessageType", max_chars=16) or DEFAULT_MESSAGE_TYPE
        if message_type not in MESSAGE_TYPES:
            raise _validation_error(
                "MessageType must be TRANSACTIONAL or PROMOTIONAL", field_name="MessageType"
            )
        configuration_set_name = _text(payload, "ConfigurationSetName", pattern=_NAME_OR_ARN)
        context = _context(payload)
        _integer(payload, "TimeToLive", MIN_TIME_TO_LIVE, MAX_TIME_TO_LIVE)
        _text(payload, "Keyword", max_chars=30)
        _text(payload, "MaxPrice", max_chars=8, pattern=_MAX_PRICE)
        dry_run = _boolean(payload, "DryRun")
        iso_country = _iso_country(destination)
        encoding, parts = message_parts(body)
        requested_at = _now()

        with self._lock:
            configuration_set = (
                self._configuration_set(configuration_set_name)
                if configuration_set_name is not None
                else None
            )
            try:
                governing = self._originations.for_send(origination)
            except UnknownIdentity:
                raise _not_found("origination-identity", str(origination)) from None
            if self._account.tier == "SANDBOX" and destination not in self._account.verified:
                raise _validation_error(
                    "The destination phone number is not verified (the account is in the SMS "
                    "sandbox)",
                    reason="DESTINATION_PHONE_NUMBER_NOT_VERIFIED",
                    field_name="DestinationPhoneNumber",
                )
            # Only the list associated with the identity used counts ("Opt-out lists").
            opt_out_list = self._opt_out_lists[governing.opt_out_list]
            if destination in opt_out_list.numbers:
                self._refused.append((destination, context))
                raise _ServiceError(
                    "ConflictException",
                    "The destination phone number is opted out",
                    Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT",
                    ResourceType="opt-out-list",
                    ResourceId=opt_out_list.name,
                )
            message_id = str(uuid.uuid4())
            if dry_run:
                return {"MessageId": message_id}
            sent = SentMessage(
                message_id=message_id,
                destination=destination,
                origination=governing.shown_as,
                body=body,
                context=context,
                configuration_set=configuration_set.name if configuration_set else None,
                message_type=message_type,
                sent_at=requested_at,
                encoding=encoding,
                parts=parts,
            )
            self._sent.append(sent)
            outcome = self._outcomes.get(destination, self._default_outcome)

        if configuration_set is not None:
            for position, event_type in enumerate(outcome):
                topics = tuple(
                    d.topic_arn for d in configuration_set.destinations if d.matches(event_type)
                )
                if topics:
                    self._schedule_event(
                        self._delivery_delay * (position + 1),
                        topics,
                        _delivery_event_renderer(
                            sent, event_type, position == len(outcome) - 1, iso_country
                        ),
                    )
        _LOG.info(
            "SendTextMessage %s to %s: %d %s part(s)",
            message_id,
            mask_number(destination),
            parts,
            encoding,
        )
        with self._lock:
            stall = self._faults.stall_seconds if self._faults.stall_next > 0 else 0.0
            self._faults.stall_next = max(0, self._faults.stall_next - 1)
        if stall:
            time.sleep(stall)
        return {"MessageId": message_id}

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

    def _put_opted_out_number(self, payload: Mapping[str, Any]) -> JsonObject:
        name = _required_text(payload, "OptOutListName", pattern=_NAME_OR_ARN)
        number = _phone_number(payload, "OptedOutNumber")
        with self._lock:
            if self._faults.opt_out_lists_down:
                raise _ServiceError(
                    "InternalServerException",
                    "Simulated internal error",
                    status=HTTPStatus.INTERNAL_SERVER_ERROR,
                    RequestId=str(uuid.uuid4()),
                )
            opt_out_list = self._opt_out_list(name)
            entry = opt_out_list.numbers.setdefault(number, _OptedOut(_now(), by_end_user=False))
        _LOG.info("opted out %s on %s", mask_number(number), opt_out_list.name)
        return _opted_out_answer(opt_out_list, number, entry)

    def _delete_opted_out_number(self, payload: Mapping[str, Any]) -> JsonObject:
        name = _required_text(payload, "OptOutListName", pattern=_NAME_OR_ARN)
        number = _phone_number(payload, "OptedOutNumber")
        with self._lock:
            opt_out_list = self._opt_out_list(name)
            entry = opt_out_list.numbers.pop(number, None)
        if entry is None:
            raise _not_found("opted-out-number", mask_number(number))
        _LOG.info("opted in %s on %s", mask_number(number), opt_out_list.name)
        return _opted_out_answer(opt_out_list, number, entry)

    def _describe_opted_out_numbers(self, payload: Mapping[str, Any]) -> JsonObject:
        name = _required_text(payload, "OptOutListName", pattern=_NAME_OR_ARN)
        wanted = _text_list(payload, "OptedOutNumbers", MAX_NAMES_FILTER)
        end_user_filter = _end_user_filter(payload)
        with self._lock:
            opt_out_list = self._opt_out_list(name)
            entries = [
                (number, entry)
                for number, entry in opt_out_list.numbers.items()
                if (wanted is None or number in wanted)
                and (end_user_filter is None or entry.by_end_user in end_user_filter)
            ]
        page, next_token = _page(entries, lambda item: item[0], payload)
        answer: JsonObject = {
            "OptOutListArn": opt_out_list.arn,
            "OptOutListName": opt_out_list.name,
            "OptedOutNumbers": [
                {
                    "OptedOutNumber": number,
                    "OptedOutTimestamp": entry.opted_out_at.timestamp(),
                    "EndUserOptedOut": entry.by_end_user,
                }
                for number, entry in page
            ],
        }
        if next_token is not None:
            answer["NextToken"] = next_token
        return answer

    def _describe_opt_out_lists(self, payload: Mapping[str, Any]) -> JsonObject:
        names = _text_list(payload, "OptOutListNames", MAX_NAMES_FILTER)
        owner = _text(payload, "Owner", max_chars=16)
        if owner not in (None, "SELF", "SHARED"):
            raise _validation_error("Owner must be SELF or SHARED", field_name="Owner")
        with self._lock:
            if names is not None:
                lists = [self._opt_out_list(name) for name in names]
            else:
                lists = list(self._opt_out_lists.values())
        # Nothing is shared with this account.
        if owner == "SHARED":
            lists = []
        page, next_token = _page(lists, lambda item: item.name, payload)
        answer: JsonObject = {
            "OptOutLists": [
                {
                    "OptOutListArn": item.arn,
                    "OptOutListName": item.name,
                    "CreatedTimestamp": item.created.timestamp(),
                }
                for item in page
            ]
        }
        if next_token is not None:
            answer["NextToken"] = next_token
        return answer

    def _describe_configuration_sets(self, payload: Mapping[str, Any]) -> JsonObject:
        names = _text_list(payload, "ConfigurationSetNames", MAX_NAMES_FILTER)
        filters = _configuration_set_filters(payload)
        with self._lock:
            if names is not None:
                sets = [self._configuration_set(name) for name in names]
            else:
                sets = list(self._configuration_sets.values())
        sets = [item for item in sets if all(check(item) for check in filters)]
        page, next_token = _page(sets, lambda item: item.name, payload)
        answer: JsonObject = {
            "ConfigurationSets": [
                {
                    "ConfigurationSetArn": item.arn,
                    "ConfigurationSetName": item.name,
                    "EventDestinations": [
                        {
                            "EventDestinationName": destination.name,
                            "Enabled": destination.enabled,
                            "MatchingEventTypes": list(destination.matching_event_types),
                            "SnsDestination": {"TopicArn": destination.topic_arn},
                        }
                        for destination in item.destinations
                    ],
                    "CreatedTimestamp": item.created.timestamp(),
                }
                for item in page
            ]
        }
        if next_token is not None:
            answer["NextToken"] = next_token
        return answer

    # -- the account and its identities (what `make preflight` reads) -----------------------

    def _describe_phone_numbers(self, payload: Mapping[str, Any]) -> JsonObject:
        wanted = _text_list(payload, "PhoneNumberIds", MAX_NAMES_FILTER)
        with self._lock:
            numbers = _chosen(
                {n.phone_number_id: n for n in self._originations.numbers.values()},
                wanted,
                "phone-number",
            )
            return {
                "PhoneNumbers": [
                    {
                        "PhoneNumberArn": number.arn,
                        "PhoneNumberId": number.phone_number_id,
                        "PhoneNumber": number.number,
                        "Status": "ACTIVE",
                        "IsoCountryCode": number.iso_country,
                        "MessageType": "PROMOTIONAL",
                        "NumberCapabilities": ["SMS"],
                        "NumberType": number.number_type,
                        "MonthlyLeasingPrice": "0.00",
                        "TwoWayEnabled": number.two_way_topic is not None,
                        **(
                            {"TwoWayChannelArn": number.two_way_topic}
                            if number.two_way_topic
                            else {}
                        ),
                        "SelfManagedOptOutsEnabled": number.self_managed,
                        "OptOutListName": number.opt_out_list,
                        "DeletionProtectionEnabled": False,
                        **({"PoolId": number.pool_id} if number.pool_id else {}),
                        "CreatedTimestamp": _now().timestamp(),
                    }
                    for number in numbers
                ]
            }

    def _describe_sender_ids(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            return {
                "SenderIds": [
                    {
                        "SenderIdArn": sender.arn,
                        "SenderId": sender.sender_id,
                        "IsoCountryCode": sender.iso_country,
                        "MessageTypes": ["TRANSACTIONAL", "PROMOTIONAL"],
                        "MonthlyLeasingPrice": "0.00",
                        "DeletionProtectionEnabled": False,
                        "Registered": True,
                    }
                    for sender in self._originations.sender_ids.values()
                ]
            }

    def _describe_pools(self, payload: Mapping[str, Any]) -> JsonObject:
        wanted = _text_list(payload, "PoolIds", MAX_NAMES_FILTER)
        with self._lock:
            pools = _chosen(
                {pool.pool_id: pool for pool in self._originations.pools.values()}, wanted, "pool"
            )
            return {
                "Pools": [
                    {
                        "PoolArn": pool.arn,
                        "PoolId": pool.pool_id,
                        "Status": "ACTIVE",
                        "MessageType": "PROMOTIONAL",
                        "TwoWayEnabled": pool.two_way_topic is not None,
                        **({"TwoWayChannelArn": pool.two_way_topic} if pool.two_way_topic else {}),
                        "SelfManagedOptOutsEnabled": pool.self_managed,
                        "OptOutListName": pool.opt_out_list,
                        "SharedRoutesEnabled": False,
                        "DeletionProtectionEnabled": False,
                        "CreatedTimestamp": _now().timestamp(),
                    }
                    for pool in pools
                ]
            }

    def _list_tags_for_resource(self, payload: Mapping[str, Any]) -> JsonObject:
        arn = _required_text(payload, "ResourceArn", pattern=_NAME_OR_ARN)
        with self._lock:
            pool = next((p for p in self._originations.pools.values() if p.arn == arn), None)
            tags = pool.tags if pool is not None else {}
            return {
                "ResourceArn": arn,
                "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
            }

    def _describe_account_attributes(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            return {"AccountAttributes": [{"Name": "ACCOUNT_TIER", "Value": self._account.tier}]}

    def _describe_spend_limits(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            limit = self._account.spend_limit
        return {
            "SpendLimits": [
                {
                    "Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT",
                    "EnforcedLimit": limit,
                    "MaxLimit": limit,
                    "Overridden": False,
                }
            ]
        }

    def _describe_verified_destination_numbers(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            verified = self._account.verified
        return {
            "VerifiedDestinationNumbers": [
                {
                    "VerifiedDestinationNumberArn": self._arn(
                        "verified-destination-number", f"verified-{index}"
                    ),
                    "VerifiedDestinationNumberId": f"verified-{index}",
                    "DestinationPhoneNumber": number,
                    "Status": "VERIFIED",
                    "CreatedTimestamp": _now().timestamp(),
                }
                for index, number in enumerate(verified)
            ]
        }

    def _arn(self, resource_type: str, name: str) -> str:
        return f"arn:aws:sms-voice:{self._region}:{self._account_id}:{resource_type}/{name}"

    # -- the control API -------------------------------------------------------------------

    def _answer_control_call(
        self, method: str, path: str, query: str, raw_body: bytes
    ) -> tuple[int, JsonObject]:
        route = path.removeprefix(CONTROL_PREFIX).strip("/")
        try:
            if method == "GET" and route == "messages":
                return HTTPStatus.OK, self._control_messages(parse_qs(query))
            payload = json.loads(raw_body or b"{}") if method == "POST" else None
            if payload is not None and not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            if method == "POST" and route == "replies":
                return HTTPStatus.OK, self._control_reply(payload or {})
            if method == "POST" and route == "faults":
                return HTTPStatus.OK, self._control_faults(payload or {})
            if method == "POST" and route == "reset":
                self.reset()
                return HTTPStatus.OK, {}
        except UnknownChannelError as exc:
            return HTTPStatus.NOT_FOUND, {"error": str(exc)}
        except (ValueError, TypeError, KeyError) as exc:
            return HTTPStatus.BAD_REQUEST, {"error": f"invalid request: {exc}"}
        return HTTPStatus.NOT_FOUND, {"error": f"no control route {method} {path}"}

    def _control_messages(self, query: Mapping[str, list[str]]) -> JsonObject:
        messages = self.sent_messages()
        if "limit" in query:
            limit = int(query["limit"][-1])
            messages = messages[-limit:] if limit > 0 else []
        return {"messages": [message.to_json() for message in messages]}

    def _control_reply(self, payload: Mapping[str, Any]) -> JsonObject:
        sender, to, body = payload["from"], payload["to"], payload["body"]
        previous = payload.get("previous_message_id")
        copies = payload.get("copies", 1)
        if not all(isinstance(value, str) for value in (sender, to, body)) or not isinstance(
            previous, str | None
        ):
            raise ValueError("from, to, body and previous_message_id must be strings")
        if not isinstance(copies, int) or isinstance(copies, bool):
            raise ValueError("copies must be an integer")
        inbound_message_id = self.inject_reply(sender, to, body, previous, copies=copies)
        return {"inbound_message_id": inbound_message_id}

    def _control_faults(self, payload: Mapping[str, Any]) -> JsonObject:
        if "throttle_next" in payload:
            self.throttle_next(int(payload["throttle_next"]))
        self.set_fault_rates(
            fail_rate=_optional_float(payload.get("fail_rate")),
            throttle_rate=_optional_float(payload.get("throttle_rate")),
            seed=None if payload.get("seed") is None else int(payload["seed"]),
        )
        outcome = payload.get("outcome")
        if outcome is not None:
            self.set_outcome(list(outcome["events"]), destination=outcome.get("destination"))
        with self._lock:
            faults = self._faults
            return {
                "throttle_next": faults.throttle_next,
                "fail_rate": faults.fail_rate,
                "throttle_rate": faults.throttle_rate,
            }

    # -- publishing ------------------------------------------------------------------------

    def _schedule_event(
        self, delay: float, topic_arns: tuple[str, ...], render: Callable[[], str]
    ) -> None:
        item = _Scheduled(time.monotonic() + delay, next(self._sequence), topic_arns, render)
        with self._schedule_changed:
            heapq.heappush(self._schedule, item)
            self._schedule_changed.notify_all()

    def _publish_due_events(self) -> None:
        while True:
            with self._schedule_changed:
                while not self._stopping and not self._due_now():
                    timeout = self._schedule[0].due - time.monotonic() if self._schedule else None
                    self._schedule_changed.wait(timeout)
                if self._stopping:
                    return
                due: list[_Scheduled] = []
                while self._due_now() and len(due) < _MAX_EVENTS_PER_PUBLISH_ROUND:
                    due.append(heapq.heappop(self._schedule))
                self._in_flight += len(due)
            try:
                self._publish(due)
            finally:
                with self._schedule_changed:
                    self._in_flight -= len(due)
                    self._schedule_changed.notify_all()

    def _due_now(self) -> bool:
        return bool(self._schedule) and self._schedule[0].due <= time.monotonic()

    def _publish(self, due: Sequence[_Scheduled]) -> None:
        """Publish in batches per topic, so a bulk send costs a tenth of the SNS calls."""
        by_topic: dict[str, list[str]] = {}
        for item in due:
            message = item.render()
            for topic_arn in item.topic_arns:
                by_topic.setdefault(topic_arn, []).append(message)
        sns = self._sns
        assert sns is not None  # set by start() before the worker runs
        for topic_arn, messages in by_topic.items():
            for first in range(0, len(messages), SNS_BATCH_SIZE):
                entries: list[PublishBatchRequestEntryTypeDef] = [
                    {"Id": str(index), "Message": message}
                    for index, message in enumerate(messages[first : first + SNS_BATCH_SIZE])
                ]
                try:
                    answer = sns.publish_batch(
                        TopicArn=topic_arn, PublishBatchRequestEntries=entries
                    )
                except (BotoCoreError, ClientError) as exc:
                    _LOG.warning("publishing %d event(s) failed: %s", len(entries), exc)
                    continue
                if answer.get("Failed"):
                    _LOG.warning("SNS refused %d event(s)", len(answer["Failed"]))


def _delivery_event_renderer(
    sent: SentMessage, event_type: str, is_final: bool, iso_country: str | None
) -> Callable[[], str]:
    def render() -> str:
        event: JsonObject = {
            "eventType": event_type,
            "eventVersion": "1.0",
            "eventTimestamp": _epoch_millis(_now()),
            "isFinal": is_final,
            "originationPhoneNumber": sent.origination,
            "destinationPhoneNumber": sent.destination,
            "isoCountryCode": iso_country,
            "isInternationalSend": False,
            "messageId": sent.message_id,
            "messageRequestTimestamp": _epoch_millis(sent.sent_at),
            "messageEncoding": sent.encoding,
            "messageType": sent.message_type,
            "messageStatus": event_type.removeprefix("TEXT_"),
            "messageStatusDescription": TEXT_EVENT_DESCRIPTIONS[event_type],
            "context": dict(sent.context),
            "totalMessageParts": sent.parts,
            "totalMessagePrice": round(sent.parts * PRICE_PER_PART, 5),
            "totalCarrierFee": 0.0,
        }
        return json.dumps(event)

    return render


def _chosen(items: Mapping[str, _T], wanted: Sequence[str] | None, resource_type: str) -> list[_T]:
    """The items named in `wanted` by id or ARN (every item if None), in its order; an unknown
    name is ResourceNotFoundException, as the Describe operations answer it."""
    if wanted is None:
        return list(items.values())
    chosen = []
    for name in wanted:
        identifier = name.rsplit("/", 1)[-1]
        if identifier not in items:
            raise _not_found(resource_type, name)
        chosen.append(items[identifier])
    return chosen


def _opted_out_answer(opt_out_list: _OptOutList, number: str, entry: _OptedOut) -> JsonObject:
    return {
        "OptOutListArn": opt_out_list.arn,
        "OptOutListName": opt_out_list.name,
        "OptedOutNumber": number,
        "OptedOutTimestamp": entry.opted_out_at.timestamp(),
        "EndUserOptedOut": entry.by_end_user,
    }


def _filters(payload: Mapping[str, Any], names: Iterable[str]) -> list[tuple[str, list[str]]]:
    value = payload.get("Filters") or []
    allowed = set(names)
    parsed = []
    if not isinstance(value, list):
        raise _validation_error("Filters must be a list", field_name="Filters")
    for item in value:
        name = item.get("Name") if isinstance(item, dict) else None
        values = item.get("Values") if isinstance(item, dict) else None
        if (
            name not in allowed
            or not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise _validation_error(
                "Filters holds an unknown name or invalid values",
                reason="INVALID_FILTER_VALUES",
                field_name="Filters",
            )
        parsed.append((str(name), list(values)))
    return parsed


def _end_user_filter(payload: Mapping[str, Any]) -> set[bool] | None:
    accepted: set[bool] | None = None
    for _, values in _filters(payload, ["end-user-opted-out"]):
        wanted = {value.lower() == "true" for value in values}
        accepted = wanted if accepted is None else accepted & wanted
    return accepted


def _configuration_set_filters(
    payload: Mapping[str, Any],
) -> list[Callable[[_ConfigurationSet], bool]]:
    checks: list[Callable[[_ConfigurationSet], bool]] = []
    known = [
        "event-destination-name",
        "matching-event-types",
        "default-message-type",
        "default-sender-id",
        "default-message-feedback-enabled",
        "protect-configuration-id",
    ]
    for name, values in _filters(payload, known):
        if name == "event-destination-name":
            checks.append(_has_destination_named(frozenset(values)))
        elif name == "matching-event-types":
            checks.append(_has_destination_matching(frozenset(values)))
        else:
            # The registered sets carry none of these defaults, so nothing matches them.
            checks.append(lambda item: False)
    return checks


def _has_destination_named(names: frozenset[str]) -> Callable[[_ConfigurationSet], bool]:
    return lambda item: any(d.name in names for d in item.destinations)


def _has_destination_matching(types: frozenset[str]) -> Callable[[_ConfigurationSet], bool]:
    return lambda item: any(set(d.matching_event_types) & types for d in item.destinations)


def _optional_float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a number")
    return float(value)


def _check_rates(faults: _Faults) -> None:
    for rate in (faults.fail_rate, faults.throttle_rate):
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rates are shares from 0 to 1")


class _CarrierHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: CarrierSimulator) -> None:
        self.simulator = simulator
        super().__init__(address, _CarrierRequestHandler)


class _CarrierRequestHandler(BaseHTTPRequestHandler):
    # botocore keeps connections alive; HTTP/1.1 with a Content-Length on every answer lets it.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each call would wait ~40 ms.
    disable_nagle_algorithm = True
    server: _CarrierHttpServer

    def do_POST(self) -> None:
        self._answer("POST")

    def do_GET(self) -> None:
        self._answer("GET")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        simulator = self.server.simulator
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            # Without a usable length the body cannot be read, nor the connection kept.
            self.close_connection = True
            self._write(
                HTTPStatus.BAD_REQUEST,
                "application/json",
                {"error": "a Content-Length is required"},
            )
            return
        raw_body = self.rfile.read(int(length))
        if url.path.startswith(CONTROL_PREFIX):
            status, payload = simulator._answer_control_call(method, url.path, url.query, raw_body)
            content_type = "application/json"
        elif method == "POST" and url.path == "/":
            status, payload = simulator._answer_api_call(self.headers.get("X-Amz-Target"), raw_body)
            content_type = JSON_CONTENT_TYPE
        else:
            status, payload = HTTPStatus.NOT_FOUND, {"error": f"nothing at {method} {url.path}"}
            content_type = "application/json"
        self._write(status, content_type, payload)

    def _write(self, status: int, content_type: str, payload: JsonObject) -> None:
        encoded = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(encoded)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry no numbers or bodies; keep them out of stderr, in debug logs.
        _LOG.debug("carrier http: " + format, *args)
