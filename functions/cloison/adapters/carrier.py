"""AWS End User Messaging SMS (pinpoint-sms-voice-v2): sending and the opt-out list."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from cloison.adapters import aws
from cloison.config import Messaging, OptOutList
from cloison.errors import DependencyError, NotSent, OutcomeUnknown, RuleViolation, Throttled

_REFUSED = {"ValidationException", "ConflictException"}


class SmsCarrier:
    """Sends through one configuration set, so that every send's events reach the delivery topic."""

    @classmethod
    def from_settings(cls, config: Messaging) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.configuration_set, config.opt_out_list)

    def __init__(self, configuration_set: str, opt_out_list: str) -> None:
        self.configuration_set = configuration_set
        self.opt_out_list = opt_out_list

    def send(
        self,
        *,
        destination: str,
        body: str,
        origination: str,
        message_type: str,
        context: Mapping[str, str],
    ) -> str:
        """Sends one SMS and returns the carrier's message id."""
        try:
            answer = aws.sms().send_text_message(
                DestinationPhoneNumber=destination,
                OriginationIdentity=origination,
                MessageBody=body,
                MessageType=message_type,  # type: ignore[arg-type]
                ConfigurationSetName=self.configuration_set,
                Context=dict(context),
            )
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            raise NotSent("no connection to the carrier") from exc
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            raise OutcomeUnknown("the carrier's answer never came") from exc
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "ThrottlingException":
                raise Throttled("carrier throttled the send") from exc
            if code in _REFUSED:
                raise RuleViolation("destination", f"refused by the carrier ({code})") from exc
            raise DependencyError(f"carrier {code}") from exc
        return answer["MessageId"]

    def opt_in(self, e164: str) -> None:
        """Takes the number off End User Messaging's opt-out list; absent already is fine."""
        try:
            aws.sms().delete_opted_out_number(OptOutListName=self.opt_out_list, OptedOutNumber=e164)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise DependencyError(f"carrier {exc.response['Error']['Code']}") from exc

    def opt_out(self, e164: str) -> None:
        """Adds the number to End User Messaging's own opt-out list, so AWS refuses it too."""
        try:
            aws.sms().put_opted_out_number(OptOutListName=self.opt_out_list, OptedOutNumber=e164)
        except ClientError as exc:
            raise DependencyError(f"carrier {exc.response['Error']['Code']}") from exc
        except BotoCoreError as exc:
            raise DependencyError("no answer from the carrier") from exc


# DescribeOptedOutNumbers returns at most this many numbers per call.
OPT_OUT_PAGE_SIZE = 100


@dataclass(frozen=True)
class OptedOutNumber:
    """One entry of End User Messaging's opt-out list."""

    e164: str
    opted_out_at: datetime
    by_end_user: bool


@dataclass(frozen=True)
class OptedOutPage:
    numbers: list[OptedOutNumber]
    next_token: str | None


class ProviderOptOutList:
    """End User Messaging's opt-out list, read page by page and changed number by number.

    These calls are idempotent, so unlike sends they are retried on throttling and timeouts.
    """

    @classmethod
    def from_settings(cls, config: OptOutList) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.opt_out_list)

    def __init__(self, name: str) -> None:
        self.name = name

    def page(self, token: str | None = None) -> OptedOutPage:
        """One DescribeOptedOutNumbers call; `token` is the previous page's `next_token`.

        Called page by page rather than through boto3's paginator: a run that stops early keeps
        the page's NextToken, which the paginator cannot resume from.
        """
        try:
            if token is None:
                answer = aws.sms_lists().describe_opted_out_numbers(
                    OptOutListName=self.name, MaxResults=OPT_OUT_PAGE_SIZE
                )
            else:
                answer = aws.sms_lists().describe_opted_out_numbers(
                    OptOutListName=self.name, MaxResults=OPT_OUT_PAGE_SIZE, NextToken=token
                )
        except ClientError as exc:
            raise _list_error(exc, "NextToken") from exc
        except BotoCoreError as exc:
            raise DependencyError("no answer from the carrier") from exc
        return OptedOutPage(
            numbers=[
                OptedOutNumber(
                    e164=entry["OptedOutNumber"],
                    opted_out_at=_utc(entry["OptedOutTimestamp"]),
                    by_end_user=entry["EndUserOptedOut"],
                )
                for entry in answer.get("OptedOutNumbers", [])
            ],
            next_token=answer.get("NextToken") or None,
        )

    def add(self, e164: str) -> None:
        try:
            aws.sms_lists().put_opted_out_number(OptOutListName=self.name, OptedOutNumber=e164)
        except ClientError as exc:
            raise _list_error(exc, "phone") from exc
        except BotoCoreError as exc:
            raise DependencyError("no answer from the carrier") from exc

    def remove(self, e164: str) -> None:
        """Takes the number off the list; absent already is fine."""
        try:
            aws.sms_lists().delete_opted_out_number(OptOutListName=self.name, OptedOutNumber=e164)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise _list_error(exc, "phone") from exc
        except BotoCoreError as exc:
            raise DependencyError("no answer from the carrier") from exc


def _list_error(exc: ClientError, field: str) -> Exception:
    """A refusal for good (a bad number or token, a number deleted in the last 30 days) is a
    RuleViolation; anything else may pass on a later try."""
    code = exc.response["Error"]["Code"]
    if code in _REFUSED:
        return RuleViolation(field, f"refused by the carrier ({code})")
    return DependencyError(f"carrier {code}")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
