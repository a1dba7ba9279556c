"""SQS: launch requests and chunk references, sent in batches of ten."""

import time
from collections.abc import Sequence
from contextlib import suppress

from botocore.exceptions import ClientError
from pydantic import BaseModel

from cloison.adapters import aws
from cloison.errors import DependencyError
from cloison.observability import logger

SQS_BATCH = 10


class WorkQueue:
    """A queue of small JSON messages (references, never personal data)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, messages: Sequence[BaseModel], *, delay_seconds: int = 0) -> None:
        for start in range(0, len(messages), SQS_BATCH):
            entries = [
                {
                    "Id": str(index),
                    "MessageBody": message.model_dump_json(),
                    "DelaySeconds": delay_seconds,
                }
                for index, message in enumerate(messages[start : start + SQS_BATCH])
            ]
            try:
                answer = aws.sqs().send_message_batch(QueueUrl=self.url, Entries=entries)  # type: ignore[arg-type]
            except ClientError as exc:
                raise DependencyError(f"SQS {exc.response['Error']['Code']}") from exc
            if answer.get("Failed"):
                raise DependencyError(f"SQS refused {len(answer['Failed'])} message(s)")


# Long enough for one erasure to walk a dead-letter queue; the messages it keeps are made
# visible again as soon as it is done.
_HOLD_SECONDS = 60
# Long polling: a short poll samples only some of SQS's servers and may answer empty while
# messages remain; a long poll queries them all ("Amazon SQS short and long polling", SQS
# developer guide), so an empty one ends the walk. A walk that would outlast the API's time
# fails the erasure instead (sent again, it does what is left).
_POLL_SECONDS = 1
_EMPTY_POLLS = 1
_WALK_SECONDS = 15.0


class DeadLetters:
    """The dead-letter queues that hold carrier payloads (a reply's number and body, a delivery
    event's number): an erasure takes out every message that names the number."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = [url for url in urls if url]

    def purge(self, e164: str) -> int:
        """Deletes the messages naming `e164` (in E.164, as End User Messaging writes it);
        returns how many. Every other message is held while the queue is walked, then made
        visible again: a dead-letter queue is small (an alarm fires at its first message)."""
        removed = 0
        for url in self.urls:
            removed += self._purge(url, e164)
        return removed

    def _purge(self, url: str, e164: str) -> int:
        sqs = aws.sqs()
        kept: dict[str, str] = {}  # message id -> receipt handle
        removed = 0
        empty = 0
        deadline = time.monotonic() + _WALK_SECONDS
        try:
            while empty < _EMPTY_POLLS and time.monotonic() < deadline:
                batch = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=SQS_BATCH,
                    VisibilityTimeout=_HOLD_SECONDS,
                    WaitTimeSeconds=_POLL_SECONDS,
                ).get("Messages", [])
                fresh = [message for message in batch if message["MessageId"] not in kept]
                empty = 0 if fresh else empty + 1
                for message in fresh:
                    if e164 in message.get("Body", ""):
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                        removed += 1
                    else:
                        kept[message["MessageId"]] = message["ReceiptHandle"]
        except ClientError as exc:
            raise DependencyError(f"SQS {exc.response['Error']['Code']}") from exc
        finally:
            handles = list(kept.values())
            for start in range(0, len(handles), SQS_BATCH):
                entries = [
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(handles[start : start + SQS_BATCH])
                ]
                # If this fails, they come back by themselves when the hold runs out.
                with suppress(ClientError):
                    sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
        if empty < _EMPTY_POLLS:
            logger.warning("dead-letter queue walked in part", extra={"removed": removed})
            raise DependencyError("a dead-letter queue is too long to walk now; send it again")
        return removed
