"""A campaign's text as the rules make it: its template's variables, and the final message."""

from typing import cast

from cloison.compliance.message import MessageKind, compose_message, template_variables
from cloison.models.records import SenderRecord


def body_variables(body: str) -> tuple[str, ...]:
    """The template's variables; a malformed template is a `RuleViolation` naming the field."""
    return template_variables(body)


def compose_checked(
    body: str,
    kind: str,
    sender: SenderRecord,
    variables: dict[str, str] | None,
    *,
    placeholder: bool,
) -> str:
    """The final text; with `placeholder`, every template variable stands for itself. A text
    the rules refuse is a `RuleViolation` (a `ComplianceError`) naming the field."""
    if placeholder:
        variables = {name: "{" + name + "}" for name in template_variables(body)}
    return compose_message(
        body,
        kind=cast(MessageKind, kind),
        sender=sender.sender_id,
        stop_mention=sender.stop_mention,
        variables=variables,
    )
