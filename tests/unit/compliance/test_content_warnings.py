"""Content warnings: what a carrier's spam filter would flag, said before the campaign is sent."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.compliance.content import LINK_SHORTENERS, content_warnings

STOP = "STOP au 36111"


def codes(text: str, **options: str) -> list[str]:
    return [warning.code for warning in content_warnings(text, **options)]  # type: ignore[arg-type]


def test_a_plain_polite_message_raises_nothing() -> None:
    # Given a short marketing message with a secure link on the sender's own domain
    text = f"Bonjour Léa, -20 % ce week-end sur https://boutique.example.fr/soldes\n{STOP}"

    # When its warnings are computed
    # Then there are none
    assert codes(text, template="Bonjour {first_name}, -20 %. STOP", kind="marketing") == []


@pytest.mark.parametrize("shortener", sorted(LINK_SHORTENERS))
def test_every_public_link_shortener_is_flagged(shortener: str) -> None:
    # When a message links through a public shortener, with https
    warnings = content_warnings(f"Nos offres : https://{shortener}/a1B2c3")

    # Then the shortener is named
    assert [warning.code for warning in warnings] == ["link-shortener"]
    assert shortener in warnings[0].detail


@pytest.mark.parametrize(
    "text",
    ["Voir bit.ly/xYz", "Voir http://bit.ly/xYz", "Voir www.bit.ly/xYz", "Voir BIT.LY/xYz"],
    ids=["bare", "http", "www", "capitals"],
)
def test_a_shortener_is_flagged_however_it_is_written(text: str) -> None:
    assert "link-shortener" in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Voir http://boutique.example.fr/soldes",
        "Voir www.boutique.example.fr",
        "Voir boutique.example.fr/soldes",
    ],
    ids=["http", "www", "bare-with-path"],
)
def test_links_without_https_are_flagged(text: str) -> None:
    assert codes(text) == ["insecure-link"]


@pytest.mark.parametrize(
    "text",
    [
        "Écrivez à contact@boutique.example.fr.",
        "Rendez-vous à 10h.Merci",
        "Code: A1.B2",
        "Prix 19.99 EUR",
    ],
    ids=["email", "missing-space", "code", "price"],
)
def test_things_that_are_not_links_are_left_alone(text: str) -> None:
    assert codes(text) == []


def test_shouting_is_flagged_but_not_the_stop_keyword_nor_one_word() -> None:
    assert codes("PROMO EXCEPTIONNELLE SUR TOUT LE MAGASIN") == ["shouting"]
    assert codes("Dernier jour: SOLDES FOLLES partout AUJOURD'HUI") == ["shouting"]
    assert codes(f"Les SOLDES commencent demain.\n{STOP}") == []


@pytest.mark.parametrize("text", ["Vite !!", "Quoi ??", "Gagnez $$$", "Super! Génial! Oui! Top!"])
def test_excessive_punctuation_is_flagged(text: str) -> None:
    assert "punctuation" in codes(text)


def test_a_marketing_template_without_stop_is_flagged_even_though_it_is_appended() -> None:
    # Given the final text (the STOP mention appended) of a template that never says STOP
    text = f"Bonjour Léa, -20 % ce week-end.\n{STOP}"

    # When its warnings are computed for marketing, then for a transactional message
    marketing = codes(text, template="Bonjour {first_name}, -20 % ce week-end.", kind="marketing")
    transactional = codes(
        "Votre code est 1234.", template="Votre code est {code}.", kind="transactional"
    )

    # Then only the marketing one is flagged
    assert marketing == ["missing-stop"]
    assert transactional == []


def test_more_than_three_segments_is_flagged() -> None:
    # Given a UCS-2 text of four segments (67 units each) and a GSM-7 one of three (153 each)
    four = "é" * 10 + "ç" * 250
    three = "a" * 459

    # Then only the first is flagged
    assert codes(four) == ["too-many-segments"]
    assert codes(three) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gets_known_warnings_each_at_most_once(text: str) -> None:
    found = codes(text, template=text, kind="marketing")
    assert len(found) == len(set(found))
    assert set(found) <= {
        "link-shortener",
        "insecure-link",
        "shouting",
        "punctuation",
        "missing-stop",
        "too-many-segments",
    }
