"""A local stand-in for AWS End User Messaging SMS that speaks the pinpoint-sms-voice-v2 wire
protocol, records what was sent and publishes delivery events and two-way replies to SNS.

`protocol` holds what the API says (limits, checks, errors, pages, SMS parts); `state` the
resources and the simulator's state; `operations` and `describe` the operations it answers;
`events` what it publishes to SNS; `control` what tests program, inject and read; `server` the
`CarrierSimulator` made of them all, behind its HTTP server."""

from cloison_local.carrier.control import UnknownChannelError
from cloison_local.carrier.protocol import DELIVERED_OUTCOME, TEXT_EVENT_DESCRIPTIONS, message_parts
from cloison_local.carrier.server import CarrierSimulator
from cloison_local.carrier.state import EventDestinationSpec, SentMessage

__all__ = [
    "DELIVERED_OUTCOME",
    "TEXT_EVENT_DESCRIPTIONS",
    "CarrierSimulator",
    "EventDestinationSpec",
    "SentMessage",
    "UnknownChannelError",
    "message_parts",
]
