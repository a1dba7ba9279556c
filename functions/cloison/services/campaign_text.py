"""A campaign's text as the rules make it: its template's variables, and the final message."""

from typing import cast

from cloison.compliance.errors import ComplianceError
from cloison.compliance.message import MessageKind, compose_message, template_variables
from cloison.errors import RuleViolation
from cloison.models.records import SenderRecord


def body_variables(body: str) -> tuple[str, ...]:
    try:
        return template_variables(body)
    except ComplianceError as exc:
        raise RuleViolation(exc.field, exc.reason) from exc


def compose_checked(
    body: str,
    kind: str,
    sender: SenderRecord,
    variables: dict[str, str] | None,
    *,
    placeholder: bool,
) -> str:
    """The final text; with `placeholder`, every template variable stands for itself."""
    try:
        if placeholder:
            variables = {name: "{" + name + "}" for name in template_variables(body)}
        return compose_message(
            body,
            kind=cast(MessageKind, kind),
            sender=sender.sender_id,
            stop_mention=sender.stop_mention,
            variables=variables,
        )
    except ComplianceError as exc:
        raise RuleViolation(exc.field, exc.reason) from exc
