"""What the carrier simulator publishes to SNS, delivery events in End User Messaging's shape
and two-way replies: scheduled, then published in batches on a background thread."""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from cloison_local.carrier.protocol import TEXT_EVENT_DESCRIPTIONS, JsonObject
from cloison_local.carrier.state import SentMessage, _CarrierState, _now, _Scheduled

if TYPE_CHECKING:
    from mypy_boto3_sns.type_defs import PublishBatchRequestEntryTypeDef

_LOG = logging.getLogger("cloison_local.carrier")

PRICE_PER_PART = 0.0458
SNS_BATCH_SIZE = 10
_MAX_EVENTS_PER_PUBLISH_ROUND = 200


class _EventPublisher(_CarrierState):
    """Events wait in a schedule until due; a background thread publishes them, so none goes
    out inside the request that caused it."""

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


def _epoch_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
