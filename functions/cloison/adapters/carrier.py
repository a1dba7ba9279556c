"""AWS End User Messaging SMS (pinpoint-sms-voice-v2): sending and the opt-out list."""

from collections.abc import Mapping

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from cloison.adapters import aws
from cloison.errors import DependencyError, NotSent, OutcomeUnknown, RuleViolation, Throttled

_REFUSED = {"ValidationException", "ConflictException"}


class SmsCarrier:
    """Sends through one configuration set, so that every send's events reach the delivery topic."""

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

    def opt_out(self, e164: str) -> None:
        """Adds the number to End User Messaging's own opt-out list, so AWS refuses it too."""
        try:
            aws.sms().put_opted_out_number(OptOutListName=self.opt_out_list, OptedOutNumber=e164)
        except ClientError as exc:
            raise DependencyError(f"carrier {exc.response['Error']['Code']}") from exc
