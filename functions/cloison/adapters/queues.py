"""SQS: launch requests and chunk references, sent in batches of ten."""

from collections.abc import Sequence

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
