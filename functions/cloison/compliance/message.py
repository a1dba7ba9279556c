"""The text a recipient receives: template filled, sender checked, STOP mention appended."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Final, Literal, get_args

from .errors import InvalidMessage, InvalidSender

MessageKind = Literal["marketing", "transactional"]
MESSAGE_KINDS: Final = frozenset(get_args(MessageKind))

# AWS End User Messaging accepts a MessageBody of at most 1,600 characters.
MAX_MESSAGE_LENGTH: Final = 1600
SENDER_ID_LENGTH: Final = (3, 11)
SHORT_CODE_LENGTH: Final = (4, 8)

VariableValue = str | int | Decimal
_SENDER_ID = re.compile(r"[A-Za-z0-9]{3,11}")
_SHORT_CODE = re.compile(r"[0-9]{4,8}")
_STOP_WORD = re.compile(r"(?<![^\W_])STOP(?![^\W_])", re.IGNORECASE)
_FORMATTER = string.Formatter()
_LINE_BREAK_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MENTION_TRAILER = " .!\t\n"


def validate_sender(sender: str) -> str:
    """Return `sender` if it is an alphanumeric sender ID or a short code, else raise."""
    if _SHORT_CODE.fullmatch(sender):
        return sender
    if _SENDER_ID.fullmatch(sender) and not sender.isdigit():
        return sender
    if not sender:
        problem = "is empty"
    elif sender.startswith("+") and sender[1:].isdigit():
        # A long number: French operators keep them for person-to-person messages.
        problem = "is a phone number"
    elif sender.isdigit():
        problem = f"has {len(sender)} digits and no letter"
    elif not sender.isascii() or not sender.isalnum():
        problem = "holds characters other than unaccented letters and digits"
    else:
        problem = f"has {len(sender)} characters"
    raise InvalidSender(
        "sender",
        f"{problem}; expected a sender ID of 3 to 11 letters and digits with at least one "
        "letter, or a short code of 4 to 8 digits",
    )


def validate_stop_mention(stop_mention: str | None) -> str:
    """The mention a marketing message ends with, trimmed; raises if it cannot be one."""
    mention = (stop_mention or "").strip()
    if not mention:
        raise InvalidMessage("stop_mention", "is required for a marketing message")
    if "\n" in mention or "\r" in mention:
        raise InvalidMessage("stop_mention", "must fit on one line")
    if not _STOP_WORD.search(mention):
        raise InvalidMessage("stop_mention", "must contain the keyword STOP, e.g. 'STOP au 36111'")
    return mention


def template_variables(body: str) -> tuple[str, ...]:
    """The variables a body template uses, in order of first use; raises on a bad template."""
    return tuple(dict.fromkeys(name for _, name in _parse_template(body) if name is not None))


def compose_message(
    body: str,
    *,
    kind: MessageKind,
    sender: str,
    stop_mention: str | None,
    variables: Mapping[str, VariableValue | None] | None = None,
) -> str:
    """The final text of one message.

    `body` is a template whose `{name}` fields are filled from `variables`; attribute and
    index access, positional fields, conversions and format specs are refused. A marketing
    message ends with `stop_mention` on its own line, exactly once; a transactional one never
    gets it. Raises InvalidMessage or InvalidSender naming the field and the reason.
    """
    if kind not in MESSAGE_KINDS:
        raise InvalidMessage("kind", f"{kind!r} is neither 'marketing' nor 'transactional'")
    validate_sender(sender)
    template = body.replace("\r\n", "\n").rstrip()
    mention = validate_stop_mention(stop_mention) if kind == "marketing" else None
    if mention:
        # A mention already written in the template is kept once, on its own line; only the
        # template is searched, so that a variable's value is never taken for the mention.
        template = _without_stop_mention(template, mention)
    text = _fill(template, variables or {}).rstrip()
    if mention:
        text = f"{text}\n{mention}" if text else mention
    if not text:
        raise InvalidMessage("body", "is empty")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise InvalidMessage(
            "body", f"is {len(text)} characters once composed; the limit is {MAX_MESSAGE_LENGTH}"
        )
    return text


@lru_cache(maxsize=256)
def _parse_template(body: str) -> tuple[tuple[str, str | None], ...]:
    """The template as (literal text, variable name or None) pairs; cached per campaign body."""
    try:
        fields = list(_FORMATTER.parse(body))
    except ValueError as exc:
        raise InvalidMessage(
            "body", f"bad template ({exc}); write a literal brace as {{{{ or }}}}"
        ) from None
    parsed: list[tuple[str, str | None]] = []
    for literal, name, format_spec, conversion in fields:
        if name is not None:
            if "." in name or "[" in name:
                raise InvalidMessage(
                    "body", f"{{{name}}} uses attribute or index access; write {{name}} only"
                )
            if not name or name.isdigit():
                raise InvalidMessage(
                    "body", f"{{{name}}} is positional; name the variable, e.g. {{first_name}}"
                )
            if not name.isidentifier():
                raise InvalidMessage("body", f"{{{name}}} is not a variable name")
            if format_spec or conversion:
                raise InvalidMessage("body", f"{{{name}}} carries a format; write {{{name}}} only")
        parsed.append((literal, name))
    return tuple(parsed)


def _fill(body: str, variables: Mapping[str, VariableValue | None]) -> str:
    parts: list[str] = []
    for literal, name in _parse_template(body):
        parts.append(literal)
        if name is None:
            continue
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            raise InvalidMessage("body", f"unknown variable {{{name}}}; known variables: {known}")
        value = variables[name]
        text = "" if value is None else str(value)
        if not text.strip():
            raise InvalidMessage(f"variables.{name}", "has no value for this recipient")
        if _LINE_BREAK_OR_CONTROL.search(text):
            raise InvalidMessage(f"variables.{name}", "holds a line break or control character")
        parts.append(text)
    return "".join(parts)


@lru_cache(maxsize=64)
def _trailing_mention(mention: str) -> re.Pattern[str]:
    words = r"\s+".join(map(re.escape, mention.split()))
    return re.compile(rf"\s*(?<![^\W_]){words}[{_MENTION_TRAILER}]*\Z", re.IGNORECASE)


def _without_stop_mention(text: str, mention: str) -> str:
    """The text without the mention it may already end with."""
    last_word = mention.rsplit(maxsplit=1)[-1].casefold()
    if text.rstrip(_MENTION_TRAILER).casefold().endswith(last_word):
        found = _trailing_mention(mention).search(text)
        if found:
            return text[: found.start()].rstrip()
    return text
