"""Compliance rules of a lawful, affordable SMS campaign, as pure functions with no AWS code.

Phone numbers (`normalize_phone`), encoding and segments (`analyze_text`), the final text
with its STOP mention (`compose_message`), sending windows (`SendWindowPolicy`,
`next_send_time`) and the classification of replies (`classify_reply`).
"""

from .encoding import TextAnalysis, analyze_text
from .errors import (
    ComplianceError,
    InvalidDepartement,
    InvalidMessage,
    InvalidPhoneNumber,
    InvalidSender,
    InvalidSendTime,
    NoSendWindow,
)
from .message import MessageKind, compose_message
from .phone import Phone, normalize_phone
from .replies import ReplyClass, classify_reply
from .window import Opening, SendWindowPolicy, next_send_time

__all__ = [
    "ComplianceError",
    "InvalidDepartement",
    "InvalidMessage",
    "InvalidPhoneNumber",
    "InvalidSendTime",
    "InvalidSender",
    "MessageKind",
    "NoSendWindow",
    "Opening",
    "Phone",
    "ReplyClass",
    "SendWindowPolicy",
    "TextAnalysis",
    "analyze_text",
    "classify_reply",
    "compose_message",
    "next_send_time",
    "normalize_phone",
]
