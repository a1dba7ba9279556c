"""boto3 clients and resources, built once per execution environment with standard retries."""

from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_pinpoint_sms_voice_v2 import PinpointSMSVoiceV2Client
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# Standard mode retries throttling and transient errors with backoff (5 retries after the first
# attempt: botocore reads `max_attempts` as retries); a throttled call did not happen.
RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20
)


@lru_cache(maxsize=1)
def dynamodb() -> "DynamoDBServiceResource":
    return boto3.resource("dynamodb", config=RETRIES)


@lru_cache(maxsize=1)
def s3() -> "S3Client":
    return boto3.client("s3", config=RETRIES)


@lru_cache(maxsize=1)
def kms() -> "KMSClient":
    return boto3.client("kms", config=RETRIES)


@lru_cache(maxsize=1)
def sqs() -> "SQSClient":
    return boto3.client("sqs", config=RETRIES)


@lru_cache(maxsize=1)
def scheduler() -> "EventBridgeSchedulerClient":
    return boto3.client("scheduler", config=RETRIES)


@lru_cache(maxsize=1)
def sts() -> "STSClient":
    return boto3.client("sts", config=RETRIES)


# A send is not idempotent: a retry after a timeout may send twice. The SMS client never retries
# by itself; the send path retries what surely did not happen (throttling, no connection).
# `total_max_attempts`, not `max_attempts`: botocore reads the latter as retries after the first
# attempt, so `max_attempts: 1` sent a message again 10 s after its answer timed out (found by
# the soak test as a duplicate send).
SEND_ONCE = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=10
)


@lru_cache(maxsize=1)
def sms() -> "PinpointSMSVoiceV2Client":
    return boto3.client("pinpoint-sms-voice-v2", config=SEND_ONCE)


@lru_cache(maxsize=1)
def sms_lists() -> "PinpointSMSVoiceV2Client":
    """For the opt-out list, whose calls are idempotent: retried like any other AWS call."""
    return boto3.client("pinpoint-sms-voice-v2", config=RETRIES)
