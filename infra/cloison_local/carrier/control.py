"""What tests change and read in the carrier simulator: outcomes and faults to program,
replies from people to inject (with what the service does with their keywords), and the
control API under `/_simulator/` that offers them over HTTP."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from cloison_local.carrier.events import _EventPublisher
from cloison_local.carrier.protocol import (
    _E164,
    DELIVERED_OUTCOME,
    TEXT_EVENT_DESCRIPTIONS,
    JsonObject,
    mask_number,
    message_parts,
)
from cloison_local.carrier.state import SentMessage, _check_rates, _Faults, _now, _OptedOut
from cloison_local.origination import (
    HELP_KEYWORD,
    OPT_OUT_KEYWORDS,
    Governing,
    UnknownIdentity,
    keyword_of,
)

_LOG = logging.getLogger("cloison_local.carrier")

CONTROL_PREFIX = "/_simulator/"


class UnknownChannelError(LookupError):
    """A reply was injected to a number that has no registered two-way channel."""


class _Control(_EventPublisher):
    """Programmed outcomes and faults, injected replies, and the control API."""

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


def _optional_float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a number")
    return float(value)
