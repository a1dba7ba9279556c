"""Per-function settings, read from the environment the template gives each function.

Each function's model names exactly the variables it reads, and its `Environment` in the
template holds exactly those (a test compares them both ways); only Powertools' own settings are
given to every function, in `Globals`.
"""

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


# ---------------------------------------------------------------- what several functions read
class DataKey(_Settings):
    data_key_arn: str = Field(alias="DATA_KEY_ARN")


class Pepper(_Settings):
    pepper_secret_arn: str = Field(alias="PEPPER_SECRET_ARN")


class OptOutList(_Settings):
    opt_out_list: str = Field(alias="OPT_OUT_LIST")


class Messaging(OptOutList):
    """How messages go out: the configuration set, and the opt-out list of the pool."""

    configuration_set: str = Field(alias="CONFIGURATION_SET")


class Origination(_Settings):
    origination_identity: str = Field(alias="ORIGINATION_IDENTITY")


class Launches(_Settings):
    """Where launch and release requests go through EventBridge Scheduler."""

    launch_queue_arn: str = Field(alias="LAUNCH_QUEUE_ARN")
    launch_dlq_arn: str = Field(alias="LAUNCH_DLQ_ARN")
    schedule_group: str = Field(alias="SCHEDULE_GROUP")
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN")


class CampaignsTable(_Settings):
    campaigns_table: str = Field(alias="CAMPAIGNS_TABLE")


class MessagesTable(_Settings):
    messages_table: str = Field(alias="MESSAGES_TABLE")
    message_retention_days: int = Field(alias="MESSAGE_RETENTION_DAYS", gt=0)


class ContactsTable(_Settings):
    contacts_table: str = Field(alias="CONTACTS_TABLE")
    prospect_retention_days: int = Field(alias="PROSPECT_RETENTION_DAYS", gt=0)


class SuppressionsTable(_Settings):
    suppressions_table: str = Field(alias="SUPPRESSIONS_TABLE")


class Replies(_Settings):
    replies_table: str = Field(alias="REPLIES_TABLE")
    reply_retention_days: int = Field(alias="REPLY_RETENTION_DAYS", gt=0)
    reply_bucket: str = Field(alias="REPLY_BUCKET")


class Audit(_Settings):
    audit_table: str = Field(alias="AUDIT_TABLE")
    audit_bucket: str = Field(alias="AUDIT_BUCKET")
    audit_key_arn: str = Field(alias="AUDIT_KEY_ARN")


class Signups(_Settings):
    """Sign-up by double opt-in: how long a confirmation waits, a team's daily budget of
    confirmation SMS, the regions whose numbers are taken (comma-separated, `FR,GP,MQ`), and
    the requests allowed per source address (an hour), number (a day) and block (an hour)."""

    signup_confirmation_hours: int = Field(alias="SIGNUP_CONFIRMATION_HOURS", ge=1, le=168)
    signup_daily_budget: int = Field(alias="SIGNUP_DAILY_BUDGET", ge=1)
    signup_regions: str = Field(alias="SIGNUP_REGIONS", pattern=r"^[A-Z]{2}(,[A-Z]{2})*$")
    # The template's bounds: a limit's item holds one time per request it allows.
    signup_address_limit: int = Field(alias="SIGNUP_ADDRESS_LIMIT", ge=1, le=1000)
    signup_number_limit: int = Field(alias="SIGNUP_NUMBER_LIMIT", ge=1, le=10)
    signup_prefix_limit: int = Field(alias="SIGNUP_PREFIX_LIMIT", ge=1, le=1000)


class FrequencyCapSettings(ContactsTable):
    """The frequency cap of marketing messages, every team's together: at most
    `frequency_cap_messages` to one number in any `frequency_cap_days` days (0 messages: no
    cap). Its items are in the contacts table."""

    frequency_cap_messages: int = Field(alias="FREQUENCY_CAP_MESSAGES", ge=0)
    frequency_cap_days: int = Field(alias="FREQUENCY_CAP_DAYS", ge=1)


class SendQueue(_Settings):
    send_queue_url: str = Field(alias="SEND_QUEUE_URL")


# ---------------------------------------------------------------- one model per function
class ApiSettings(
    CampaignsTable,
    MessagesTable,
    FrequencyCapSettings,
    ContactsTable,
    SuppressionsTable,
    Replies,
    Audit,
    DataKey,
    Pepper,
    Messaging,
    Origination,
    Launches,
    Signups,
):
    """The HTTP API function."""

    launch_queue_url: str = Field(alias="LAUNCH_QUEUE_URL")
    # The dead-letter queues an erasure takes the number's messages out of.
    inbound_dlq_url: str = Field(alias="INBOUND_DLQ_URL")
    delivery_dlq_url: str = Field(alias="DELIVERY_DLQ_URL")
    privacy_receipt_retention_days: int = Field(alias="PRIVACY_RECEIPT_RETENTION_DAYS", gt=0)
    # Notes beside audit entries (what people wrote) expire with the entries' locked copies.
    audit_retention_days: int = Field(alias="AUDIT_RETENTION_DAYS", gt=0)
    # `<prefix><team>` is the reader role replies of that team are opened with.
    reader_role_arn_prefix: str = Field(alias="READER_ROLE_ARN_PREFIX")
    # Where a team's own pool must publish its replies (checked when a profile names it).
    inbound_topic_arn: str = Field(alias="INBOUND_TOPIC_ARN")


class LaunchSettings(CampaignsTable, MessagesTable, SendQueue):
    """The function that fans a campaign out into chunk references."""


class SendSettings(
    CampaignsTable,
    FrequencyCapSettings,
    ContactsTable,
    SuppressionsTable,
    DataKey,
    Messaging,
    Origination,
    Launches,
    SendQueue,
):
    """The send worker."""

    send_concurrency: int = Field(alias="SEND_CONCURRENCY", ge=1)


class DeliverySettings(MessagesTable):
    """The delivery events function."""


class CountingSettings(CampaignsTable):
    """The function that counts message records' changes into campaign counters."""


class InboundSettings(
    CampaignsTable,
    MessagesTable,
    ContactsTable,
    SuppressionsTable,
    Replies,
    DataKey,
    Pepper,
    Messaging,
    Origination,
    Signups,
):
    """The inbound replies function (sign-ups asked by keyword included)."""

    replies_per_number_per_hour: int = Field(alias="REPLIES_PER_NUMBER_PER_HOUR", ge=1)


class ReconcileSettings(SuppressionsTable, DataKey, Pepper, OptOutList):
    """The scheduled reconciliation of End User Messaging's opt-out list with the suppressions."""


class AnchorSettings(Audit):
    """The scheduled anchoring of the audit chain's head in the locked bucket."""
