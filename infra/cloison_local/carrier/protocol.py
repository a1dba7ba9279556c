"""What the pinpoint-sms-voice-v2 API says, as the carrier simulator answers it: the service
model's limits and formats, the checks of each request member, errors in the service's JSON
shape, pages and their tokens, filters, the SMS event types, and how a body is counted in SMS
parts (GSM 03.38 or UCS-2)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

import phonenumbers

JsonObject = dict[str, Any]
_T = TypeVar("_T")

TARGET_PREFIX = "PinpointSMSVoiceV2."
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"

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

# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


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
