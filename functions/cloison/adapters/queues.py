"""SQS: launch requests and chunk references, sent in batches of ten."""

from collections.abc import Sequence
from contextlib import suppress

from botocore.exceptions import ClientError
from pydantic import BaseModel

from cloison.adapters import aws
from cloison.errors import DependencyError

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
        kept: list[str] = []
        removed = 0
        try:
            while True:
                batch = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=SQS_BATCH,
                    VisibilityTimeout=_HOLD_SECONDS,
                    WaitTimeSeconds=0,
                ).get("Messages", [])
                if not batch:
                    break
                for message in batch:
                    if e164 in message.get("Body", ""):
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                        removed += 1
                    else:
                        kept.append(message["ReceiptHandle"])
        except ClientError as exc:
            raise DependencyError(f"SQS {exc.response['Error']['Code']}") from exc
        finally:
            for start in range(0, len(kept), SQS_BATCH):
                entries = [
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(kept[start : start + SQS_BATCH])
                ]
                # If this fails, they come back by themselves when the hold runs out.
                with suppress(ClientError):
                    sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
        return removed
