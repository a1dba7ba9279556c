"""The operations that send and those of opt-out lists, as the service answers them:
SendTextMessage, PutOptedOutNumber, DeleteOptedOutNumber, DescribeOptedOutNumbers and
DescribeOptOutLists."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from cloison_local.carrier.events import _delivery_event_renderer, _EventPublisher
from cloison_local.carrier.protocol import (
    _MAX_PRICE,
    _NAME_OR_ARN,
    _NOT_BLANK,
    _ORIGINATION_IDENTITY,
    DEFAULT_MESSAGE_TYPE,
    MAX_BODY_CHARS,
    MAX_NAMES_FILTER,
    MAX_TIME_TO_LIVE,
    MESSAGE_TYPES,
    MIN_TIME_TO_LIVE,
    JsonObject,
    _boolean,
    _context,
    _filters,
    _integer,
    _iso_country,
    _not_found,
    _page,
    _phone_number,
    _required_text,
    _ServiceError,
    _text,
    _text_list,
    _validation_error,
    mask_number,
    message_parts,
)
from cloison_local.carrier.state import SentMessage, _now, _OptedOut, _OptOutList
from cloison_local.origination import UnknownIdentity

_LOG = logging.getLogger("cloison_local.carrier")


class _Operations(_EventPublisher):
    """SendTextMessage, with the faults programmed for it, and the opt-out list operations."""

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


def _opted_out_answer(opt_out_list: _OptOutList, number: str, entry: _OptedOut) -> JsonObject:
    return {
        "OptOutListArn": opt_out_list.arn,
        "OptOutListName": opt_out_list.name,
        "OptedOutNumber": number,
        "OptedOutTimestamp": entry.opted_out_at.timestamp(),
        "EndUserOptedOut": entry.by_end_user,
    }


def _end_user_filter(payload: Mapping[str, Any]) -> set[bool] | None:
    accepted: set[bool] | None = None
    for _, values in _filters(payload, ["end-user-opted-out"]):
        wanted = {value.lower() == "true" for value in values}
        accepted = wanted if accepted is None else accepted & wanted
    return accepted
