"""Errors raised by the compliance rules: each names the field at fault and the reason.

Each is a `RuleViolation`, which the HTTP layer answers as a 422 naming the field, and a
`ValueError`, which pydantic reports as a validation error when a model's validator raises it.
"""

from __future__ import annotations

from cloison.errors import RuleViolation


class ComplianceError(RuleViolation, ValueError):
    """A value breaks a compliance rule; `field` and `reason` say which and why."""


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
