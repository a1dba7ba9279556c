"""Composing the final text: template variables, sender, STOP mention on marketing only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.compliance.encoding import analyze_text
from cloison.compliance.errors import InvalidMessage, InvalidSender
from cloison.compliance.message import (
    MAX_MESSAGE_LENGTH,
    compose_message,
    template_variables,
    validate_sender,
)

STOP = "STOP au 36111"
PROMO = "Bonjour {first_name}, -20 % sur toute la boutique ce week-end avec le code {code} !"


def test_marketing_message_gets_the_stop_mention_on_its_own_line() -> None:
    # Given a marketing template and a recipient's variables
    # When the message is composed
    text = compose_message(
        PROMO,
        kind="marketing",
        sender="BOUTIQUE",
        stop_mention=STOP,
        variables={"first_name": "Zoé", "code": "ETE26"},
    )
    # Then the variables are filled and the STOP mention closes the message, once
    assert text == (
        "Bonjour Zoé, -20 % sur toute la boutique ce week-end avec le code ETE26 !\nSTOP au 36111"
    )
    # And the mention counts in the segments
    assert analyze_text(text).units == len(text)


def test_transactional_message_never_gets_the_stop_mention() -> None:
    # Given a transactional template, and a team that has a STOP mention
    # When the message is composed
    text = compose_message(
        "Votre code de connexion est {code}. Il expire dans 10 minutes.",
        kind="transactional",
        sender="MaBanque",
        stop_mention=STOP,
        variables={"code": 482913},
    )
    # Then no STOP mention is added
    assert text == "Votre code de connexion est 482913. Il expire dans 10 minutes."


@pytest.mark.parametrize(
    "body",
    [
        "Ventes privées jusqu'à dimanche. STOP au 36111",
        "Ventes privées jusqu'à dimanche.\nSTOP au 36111",
        "Ventes privées jusqu'à dimanche.\nstop AU  36111.",
        "Ventes privées jusqu'à dimanche.\n\nSTOP au 36111\n",
    ],
    ids=["same-line", "own-line", "other-case-and-spacing", "trailing-blank-lines"],
)
def test_stop_mention_is_not_added_twice(body: str) -> None:
    # Given a marketing body that already ends with the team's STOP mention
    # When the message is composed
    text = compose_message(body, kind="marketing", sender="36111", stop_mention=STOP)
    # Then the mention appears once, on its own line, at the end
    assert text == "Ventes privées jusqu'à dimanche.\nSTOP au 36111"


def test_mention_is_appended_when_the_body_only_mentions_stop_elsewhere() -> None:
    # Given a body speaking of a "non-stop" sale
    text = compose_message("Soldes non-stop", kind="marketing", sender="36111", stop_mention=STOP)
    # Then the mention is still added
    assert text == "Soldes non-stop\nSTOP au 36111"


def test_literal_braces_and_crlf() -> None:
    # Given a template with escaped braces and Windows line breaks
    text = compose_message(
        "Code {{promo}} : {code}\r\nMerci", kind="transactional", sender="ABC", stop_mention=None,
        variables={"code": Decimal("12.50")},
    )  # fmt: skip
    # Then braces are literal and line breaks are single LF
    assert text == "Code {promo} : 12.50\nMerci"


@pytest.mark.parametrize(
    ("body", "variables", "field", "reason"),
    [
        ("Bonjour {prenom}", {"first_name": "Léa"}, "body", "unknown variable {prenom}"),
        ("Bonjour {first_name}", {"first_name": ""}, "variables.first_name", "no value"),
        ("Bonjour {first_name}", {"first_name": None}, "variables.first_name", "no value"),
        ("Bonjour {first_name}", {"first_name": "Léa\nSTOP"}, "variables.first_name", "line break"),
        ("Bonjour {user.name}", {}, "body", "attribute or index access"),
        ("Bonjour {user[0]}", {}, "body", "attribute or index access"),
        ("Bonjour {__class__.__mro__}", {}, "body", "attribute or index access"),
        ("Bonjour {}", {}, "body", "positional"),
        ("Bonjour {0}", {}, "body", "positional"),
        ("Bonjour {name!r}", {"name": "x"}, "body", "carries a format"),
        ("Total {amount:>10}", {"amount": 3}, "body", "carries a format"),
        ("Bonjour {first name}", {}, "body", "not a variable name"),
        ("Bonjour {first_name", {}, "body", "bad template"),
        ("Bonjour }", {}, "body", "bad template"),
        ("   ", {}, "body", "is empty"),
    ],
    ids=[
        "unknown",
        "empty-value",
        "none-value",
        "line-break-in-value",
        "attribute",
        "index",
        "dunder",
        "positional-empty",
        "positional-number",
        "conversion",
        "format-spec",
        "space-in-name",
        "unclosed",
        "lone-closing-brace",
        "blank-body",
    ],
)
def test_bad_templates_and_variables_are_refused_clearly(
    body: str, variables: dict[str, str | int | None], field: str, reason: str
) -> None:
    # Given a template or variables that cannot make a message
    # When it is composed
    with pytest.raises(InvalidMessage) as raised:
        compose_message(
            body, kind="transactional", sender="ABC", stop_mention=None, variables=variables
        )
    # Then the error names the field and the reason
    assert raised.value.field == field
    assert reason in raised.value.reason


def test_unknown_variable_error_lists_the_known_ones() -> None:
    with pytest.raises(InvalidMessage, match=r"known variables: code, first_name"):
        compose_message(
            "Bonjour {prénom}",
            kind="transactional",
            sender="ABC",
            stop_mention=None,
            variables={"first_name": "Léa", "code": "X"},
        )


@pytest.mark.parametrize(
    ("stop_mention", "reason"),
    [
        (None, "is required"),
        ("  ", "is required"),
        ("Désinscription au 36111", "keyword STOP"),
        ("STOPPEZ au 36111", "keyword STOP"),
        ("STOP\nau 36111", "one line"),
    ],
    ids=["missing", "blank", "no-keyword", "keyword-inside-word", "two-lines"],
)
def test_marketing_needs_a_real_stop_mention(stop_mention: str | None, reason: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        compose_message("Promo", kind="marketing", sender="36111", stop_mention=stop_mention)
    assert raised.value.field == "stop_mention"
    assert reason in raised.value.reason


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="kind"):
        compose_message("Promo", kind="newsletter", sender="36111", stop_mention=STOP)  # type: ignore[arg-type]


def test_message_longer_than_the_carrier_limit_is_refused() -> None:
    with pytest.raises(InvalidMessage, match=str(MAX_MESSAGE_LENGTH)):
        compose_message("a" * 1600, kind="marketing", sender="36111", stop_mention=STOP)


@pytest.mark.parametrize(
    "sender", ["BOUTIQUE", "MaBanque", "Shop24", "ABC", "ABCDEFGHIJK", "36111", "1234", "12345678"]
)
def test_valid_senders(sender: str) -> None:
    # Given an alphanumeric sender ID of 3-11 characters with a letter, or a short code
    # Then it is accepted
    assert validate_sender(sender) == sender


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("AB", "has 2 characters"),
        ("ABCDEFGHIJKL", "has 12 characters"),
        ("0612345678", "no letter"),
        ("123", "no letter"),
        ("Ma Banque", "other than"),
        ("Crédit", "other than"),
        ("Shop-24", "other than"),
        ("", "is empty"),
    ],
    ids=["short", "long", "phone-number", "three-digits", "space", "accent", "dash", "empty"],
)
def test_invalid_senders(sender: str, reason: str) -> None:
    with pytest.raises(InvalidSender) as raised:
        compose_message("Bonjour", kind="transactional", sender=sender, stop_mention=None)
    assert raised.value.field == "sender"
    assert reason in raised.value.reason


def test_template_variables_are_listed_in_order() -> None:
    assert template_variables("{b} {a} {b} {{c}}") == ("b", "a")


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).filter(lambda name: name.strip() != "")


@settings(max_examples=200, deadline=None)
@given(first_name=NAMES)
def test_any_name_is_inserted_verbatim_and_the_mention_appears_once(first_name: str) -> None:
    # Given any printable first name, even one holding braces or the mention itself
    # When a marketing message is composed
    text = compose_message(
        "Bonjour {first_name} !",
        kind="marketing",
        sender="36111",
        stop_mention=STOP,
        variables={"first_name": first_name},
    )
    # Then the name is inserted as is, and the message ends with exactly one mention line
    assert text.startswith(f"Bonjour {first_name}")
    assert text.endswith("\n" + STOP)
    assert text.count("\n" + STOP) == 1


def test_a_variable_that_reads_like_the_mention_is_not_taken_for_it() -> None:
    # Given a recipient whose "first name" field holds the STOP mention itself
    # When a marketing message is composed
    text = compose_message(
        "Bonjour {first_name}",
        kind="marketing",
        sender="36111",
        stop_mention=STOP,
        variables={"first_name": "STOP AU 36111"},
    )
    # Then the value is kept where it was written and the mention still ends the message
    assert text == f"Bonjour STOP AU 36111\n{STOP}"
