"""The speed-ups of moto's SQS: message counts, retention checks, attributes and deletes."""

from __future__ import annotations

from typing import Any

from cloison_local.moto_speedups.internals import _module


def _sqs_one_clock_read_per_pass() -> None:
    """One clock read per pass over a queue's messages, not two per message.

    moto: `Queue.messages` (the visible, undelayed messages), `approximate_number_of_messages_
    delayed` and `..._not_visible` test `message.visible` and `message.delayed` for every message
    in the queue; each property reads the clock (`unix_time_millis()`, a datetime subtraction).
    These passes run inside every SendMessage (through `Queue.attributes`), ReceiveMessage and
    GetQueueAttributes, so a queue 3,000 deep costs thousands of clock reads per call.

    Patch: read the clock once per pass and compare each message's `visible_at` and
    `delayed_until` with it, which is what `visible` (`now > visible_at`) and `delayed`
    (`now < delayed_until`) compute. A pass now sees one instant instead of a few microseconds
    of drift across its messages; no message changes state within a pass otherwise.
    """
    models = _module("moto.sqs.models")

    def messages(self: Any) -> list[Any]:
        now = models.unix_time_millis()
        return [
            message
            for message in self._messages
            if now > message.visible_at and not now < message.delayed_until
        ]

    def delayed(self: Any) -> int:
        now = models.unix_time_millis()
        return sum(1 for message in self._messages if now < message.delayed_until)

    def not_visible(self: Any) -> int:
        now = models.unix_time_millis()
        return sum(1 for message in self._messages if not now > message.visible_at)

    models.Queue.messages = property(messages)
    models.Queue.approximate_number_of_messages_delayed = property(delayed)
    models.Queue.approximate_number_of_messages_not_visible = property(not_visible)


def _sqs_retention_check_reads_one_attribute() -> None:
    """The retention check of each received message reads the queue's retention period directly.

    moto: `SQSBackend.is_message_valid_based_on_retention_period`, called for every message that
    ReceiveMessage hands out, gets the period through `get_queue_attributes(name,
    ["MessageRetentionPeriod"])`, which builds the whole `Queue.attributes` map three times
    (each one counting the queue's messages three times). A ReceiveMessage of 10 on a queue
    1,000 deep took most of a second, nearly all of it here.

    Patch: read `queue.message_retention_period`, the value that attribute map returns for
    MessageRetentionPeriod (an int, set by `_set_attributes`), and compare as moto does.
    """
    models = _module("moto.sqs.models")

    def is_message_valid_based_on_retention_period(
        self: Any, queue_name: str, message: Any
    ) -> bool:
        retention_period = self.get_queue(queue_name).message_retention_period
        retain_until = retention_period + message.sent_timestamp / 1000
        return bool(retain_until > models.unix_time())

    models.SQSBackend.is_message_valid_based_on_retention_period = (
        is_message_valid_based_on_retention_period
    )


def _sqs_queue_attributes_computed_once_per_call() -> None:
    """GetQueueAttributes with attribute names builds the queue's attribute map once.

    moto: for each requested name, `SQSBackend.get_queue_attributes` evaluates
    `queue.attributes` (every attribute, message counts included) three times: to test the
    name, to test its value, to read it. Asking for the three message counts, as a poller
    waiting for a queue to empty does, counted the queue's messages 27 times.

    Patch: the same validation and selection over one evaluation of `queue.attributes`. The
    answer is the same map, taken at one instant rather than at nine.
    """
    models = _module("moto.sqs.models")

    def get_queue_attributes(
        self: Any, queue_name: str, attribute_names: list[str]
    ) -> dict[str, Any]:
        queue = self.get_queue(queue_name)
        if not attribute_names:
            return {}
        valid_names = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
        invalid_name = next((name for name in attribute_names if name not in valid_names), None)
        if invalid_name or invalid_name == "":
            raise models.InvalidAttributeName(invalid_name)
        current: dict[str, Any] = queue.attributes
        if "All" in attribute_names:
            return current
        return {
            name: current[name]
            for name in attribute_names
            if name in current and current[name] is not None
        }

    models.SQSBackend.get_queue_attributes = get_queue_attributes


def _sqs_delete_finds_the_message_once() -> None:
    """DeleteMessage finds the message with one scan that builds nothing.

    moto: `Queue.delete_message` first scans every message with `had_receipt_handle`, which
    builds a new list of the message's receipt handles for each message, then scans them all
    again to build the queue's list without the deleted one. A DeleteMessageBatch of 10 did
    twenty such scans.

    Patch: one scan comparing the handle with each message's current and former handles (what
    `had_receipt_handle` tests), then the queue's list rebuilt without that message, as moto
    rebuilds it (a new list, so a concurrent reader keeps a consistent one). Receipt handles
    are unique, so the first match is the only one moto would have removed; a handle already
    deleted returns quietly and an unknown one raises ReceiptHandleIsInvalid, as before. The
    rebuild holds the queue's message lock, which moto's own appends take, so a message sent
    during a delete is not lost.
    """
    models = _module("moto.sqs.models")

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return
        with self._messages_lock:
            messages = self._messages
            index = next(
                (
                    position
                    for position, message in enumerate(messages)
                    if message.receipt_handle == receipt_handle
                    or receipt_handle in message._old_receipt_handles
                ),
                None,
            )
            if index is None:
                raise models.ReceiptHandleIsInvalid()
            message = messages[index]
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            self._messages = messages[:index] + messages[index + 1 :]

    models.Queue.delete_message = delete_message
