"""Errors raised by the compliance rules: each names the field at fault and the reason."""

from __future__ import annotations


class ComplianceError(ValueError):
    """A value breaks a compliance rule; `field` and `reason` say which and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidPhoneNumber(ComplianceError):
    """The text is not a phone number that an SMS can be sent to."""


class InvalidMessage(ComplianceError):
    """The body, its variables, its kind or its STOP mention cannot make a lawful message."""


class InvalidSender(ComplianceError):
    """The sender is neither an alphanumeric sender ID nor a short code."""


class InvalidDepartement(ComplianceError):
    """The département is not a French département or overseas collectivity code."""


class InvalidSendTime(ComplianceError):
    """The reference instant cannot be placed in time (it is naive)."""


class NoSendWindow(ComplianceError):
    """The policy never opens, within a year, everywhere the recipient may be."""
