"""Per-function settings, read from the environment the template gives each function."""

import os
from typing import Self

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    # Built at first use: a function builds its own settings model, never the other functions'.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def from_environ(cls) -> Self:
        """Validates the environment; a missing variable fails the invocation with its name."""
        return cls.model_validate(dict(os.environ))


class Tables(_Settings):
    campaigns_table: str = Field(alias="CAMPAIGNS_TABLE")
    messages_table: str = Field(alias="MESSAGES_TABLE")
    contacts_table: str = Field(alias="CONTACTS_TABLE")
    suppressions_table: str = Field(alias="SUPPRESSIONS_TABLE")
    replies_table: str = Field(alias="REPLIES_TABLE")
    audit_table: str = Field(alias="AUDIT_TABLE")


class Secrets(_Settings):
    data_key_arn: str = Field(alias="DATA_KEY_ARN")
    pepper_secret_arn: str = Field(alias="PEPPER_SECRET_ARN")


class Retention(_Settings):
    message_retention_days: int = Field(alias="MESSAGE_RETENTION_DAYS", gt=0)
    reply_retention_days: int = Field(alias="REPLY_RETENTION_DAYS", gt=0)
    prospect_retention_days: int = Field(alias="PROSPECT_RETENTION_DAYS", gt=0)


class Messaging(_Settings):
    configuration_set: str = Field(alias="CONFIGURATION_SET")
    opt_out_list: str = Field(alias="OPT_OUT_LIST")
    origination_identity: str = Field(alias="ORIGINATION_IDENTITY")


class Launches(_Settings):
    """Where launch and release requests go, directly or through EventBridge Scheduler."""

    launch_queue_url: str = Field(alias="LAUNCH_QUEUE_URL")
    launch_queue_arn: str = Field(alias="LAUNCH_QUEUE_ARN")
    launch_dlq_arn: str = Field(alias="LAUNCH_DLQ_ARN")
    schedule_group: str = Field(alias="SCHEDULE_GROUP")
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN")


class ApiSettings(Tables, Secrets, Retention, Launches, Messaging):
    """The HTTP API function."""

    reply_bucket: str = Field(alias="REPLY_BUCKET")
    audit_bucket: str = Field(alias="AUDIT_BUCKET")
    audit_key_arn: str = Field(alias="AUDIT_KEY_ARN")
    # The dead-letter queues an erasure takes the number's messages out of.
    inbound_dlq_url: str = Field(alias="INBOUND_DLQ_URL")
    delivery_dlq_url: str = Field(alias="DELIVERY_DLQ_URL")
    privacy_receipt_retention_days: int = Field(alias="PRIVACY_RECEIPT_RETENTION_DAYS", gt=0)
    # Notes beside audit entries (what people wrote) expire with the entries' locked copies.
    audit_retention_days: int = Field(alias="AUDIT_RETENTION_DAYS", gt=0)
    # `<prefix><team>` is the reader role replies of that team are opened with.
    reader_role_arn_prefix: str = Field(alias="READER_ROLE_ARN_PREFIX")


class LaunchSettings(Tables, Secrets, Retention):
    """The function that fans a campaign out into chunk references."""

    send_queue_url: str = Field(alias="SEND_QUEUE_URL")


class SendSettings(Tables, Secrets, Retention, Messaging, Launches):
    """The send worker."""

    send_queue_url: str = Field(alias="SEND_QUEUE_URL")
    send_concurrency: int = Field(alias="SEND_CONCURRENCY", ge=1)


class DeliverySettings(Tables, Retention):
    """The delivery events function."""


class CountingSettings(_Settings):
    """The function that counts message records' changes into campaign counters."""

    campaigns_table: str = Field(alias="CAMPAIGNS_TABLE")


class InboundSettings(Tables, Secrets, Retention, Messaging):
    """The inbound replies function."""

    reply_bucket: str = Field(alias="REPLY_BUCKET")
    replies_per_number_per_hour: int = Field(alias="REPLIES_PER_NUMBER_PER_HOUR", ge=1)


class ReconcileSettings(Tables, Secrets, Messaging):
    """The scheduled reconciliation of End User Messaging's opt-out list with the suppressions."""


class AnchorSettings(_Settings):
    """The scheduled anchoring of the audit chain's head in the locked bucket."""

    audit_table: str = Field(alias="AUDIT_TABLE")
    audit_bucket: str = Field(alias="AUDIT_BUCKET")
    audit_key_arn: str = Field(alias="AUDIT_KEY_ARN")
