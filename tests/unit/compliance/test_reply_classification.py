"""Classifying real replies: STOP in all its forms, opt-in, help, contact and personal data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.compliance import ReplyClass, classify_reply
from cloison.compliance.personal_data import (
    PersonalData,
    find_personal_data,
    is_valid_card_number,
    is_valid_iban,
    is_valid_nir,
)
from cloison.compliance.replies import normalize_reply

OPT_OUTS = [
    "STOP",
    "stop",
    "Stop.",
    "stop svp",
    "STOP SMS",
    "Stop merci",
    "STOP !!!",
    "  stop  ",
    "S T O P",
    "stop stop stop",
    "STOP au 36111",
    "ARRET",
    "ARRÊT",
    "arrêt",
    "Arrêtez",
    "DESABONNER",
    "Désabonner",
    "DÉSINSCRIPTION",
    "désinscription svp",
    "UNSUBSCRIBE",
    "Unsubscribe please",
    "STOPALL",
    "stop all",
    "\uff33\uff54\uff4f\uff50",  # "Stop" in fullwidth letters, from an Asian keyboard
]


@pytest.mark.parametrize("reply", OPT_OUTS)
def test_opt_out_keywords_in_any_form(reply: str) -> None:
    # Given a reply that is an opt-out keyword, in any case, accent, spacing or punctuation
    # When it is classified
    # Then it is an opt-out, which suppresses the number at once
    assert classify_reply(reply) is ReplyClass.OPT_OUT
    assert classify_reply(reply).opts_out


@pytest.mark.parametrize(
    "reply",
    [
        "stop sending me this",
        "Arrêtez de m'envoyer des SMS",
        "Je veux me désabonner de vos messages",
        "Merci de ne plus me contacter",
        "plus de sms svp",
        "Retirez moi de votre liste",
        "supprimez mon numéro !!",
        "C'est du spam",
        "Please remove me from this list",
        "don't text me again",
        "stpo",
        "Arrte",
        "unsubscrbe",
    ],
)
def test_opt_out_intent_in_a_sentence_is_suppressed_and_reviewed(reply: str) -> None:
    # Given a longer reply, or a misspelt keyword, that asks to stop
    # When it is classified
    reply_class = classify_reply(reply)
    # Then it is suppressed and flagged for a person to review, never ignored
    assert reply_class is ReplyClass.OPT_OUT_REVIEW
    assert reply_class.opts_out
    assert reply_class.needs_review


@pytest.mark.parametrize("reply", ["START", "start", "Start !", "ARRIVE", "unstop", "Subscribe"])
def test_opt_in(reply: str) -> None:
    assert classify_reply(reply) is ReplyClass.OPT_IN


@pytest.mark.parametrize("reply", ["HELP", "Aide", "aide svp", "INFO", "info ?", "Infos"])
def test_help(reply: str) -> None:
    assert classify_reply(reply) is ReplyClass.HELP


@pytest.mark.parametrize("reply", ["CONTACT", "contact svp", "Qui êtes-vous ?", "c'est qui ?"])
def test_contact(reply: str) -> None:
    assert classify_reply(reply) is ReplyClass.CONTACT


@pytest.mark.parametrize(
    "reply",
    [
        "Oui je serai là samedi",
        "Merci beaucoup !",
        "Top !",
        "Super, à demain",
        "👍",
        "",
        "Rappelez-moi au 06 12 34 56 78",
    ],
    ids=["answer", "thanks", "top", "see-you", "emoji", "empty", "call-me-back"],
)
def test_ordinary_replies(reply: str) -> None:
    # Given a reply with no keyword and no personal data
    # Then it is a plain reply, listed like any other
    assert classify_reply(reply) is ReplyClass.REPLY
    assert classify_reply(reply).listable


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("Mon adresse : jean.dupont@example.fr", PersonalData.EMAIL),
        ("IBAN FR76 3000 6000 0112 3456 7890 189 merci", PersonalData.IBAN),
        ("voici mon iban GB82WEST12345698765432", PersonalData.IBAN),
        ("Carte 4970 1012 3456 7893 exp 12/27", PersonalData.CARD_NUMBER),
        ("4111-1111-1111-1111", PersonalData.CARD_NUMBER),
        ("Mon numéro de sécu : 2 55 08 14 168 025 38", PersonalData.NIR),
        ("NIR 269052A12345688", PersonalData.NIR),
    ],
    ids=["email", "iban-fr", "iban-gb", "card-spaced", "card-dashed", "nir", "nir-corsica"],
)
def test_personal_data_makes_a_reply_sensitive(reply: str, kind: PersonalData) -> None:
    # Given a reply holding personal data
    # When it is classified
    reply_class = classify_reply(reply)
    # Then it is sensitive: stored, flagged, never listed
    assert reply_class is ReplyClass.SENSITIVE
    assert not reply_class.listable
    assert kind in find_personal_data(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "IBAN FR76 3000 6000 0112 3456 7890 188",
        "Carte 4970 1012 3456 7890",
        "Sécu 2 55 08 14 168 025 39",
        "Commande 1234567890123",
        "écrivez à service arobase example point fr",
    ],
    ids=["iban-bad-key", "card-bad-luhn", "nir-bad-key", "order-number", "spelled-out-email"],
)
def test_numbers_failing_their_check_are_not_personal_data(reply: str) -> None:
    assert find_personal_data(reply) == frozenset()
    assert classify_reply(reply) is ReplyClass.REPLY


def test_an_opt_out_with_personal_data_stays_an_opt_out() -> None:
    # Given a reply asking to stop and giving an email address
    reply = "Stop, et ne m'écrivez plus à jean.dupont@example.fr"
    # Then the opt-out wins (a missed STOP is unlawful), and a person reviews it
    assert classify_reply(reply) is ReplyClass.OPT_OUT_REVIEW


def test_check_digit_helpers() -> None:
    assert is_valid_iban("FR76 3000 6000 0112 3456 7890 189")
    assert not is_valid_iban("FR76 3000 6000 0112 3456 7890 18")
    assert is_valid_card_number("4970101234567893")
    assert not is_valid_card_number("4970101234567890")
    assert is_valid_nir("2 55 08 14 168 025 38")
    assert is_valid_nir("2690519123456 88".replace("19", "2A", 1))
    assert is_valid_nir("269052B123456 18")
    assert not is_valid_nir("2 55 08 14 168 025")


def test_normalize_reply() -> None:
    assert normalize_reply("  Arrêt  !!! ") == "arret"
    assert normalize_reply("DÉSINSCRIPTION, s'il vous plaît.") == "desinscription s il vous plait"


KEYWORDS = st.sampled_from(
    ["stop", "arret", "arrêt", "désabonner", "désinscription", "unsubscribe", "stopall"]
)
PUNCTUATION = st.text(alphabet=" .!?,;:-_*'\"\t", max_size=4)
FILLERS = st.lists(st.sampled_from(["svp", "merci", "SMS", "stp", "please", "36111"]), max_size=2)


@st.composite
def opt_out_variants(draw: st.DrawFn) -> str:
    """A keyword in random case, wrapped in punctuation and spacing, with polite words."""
    keyword = draw(KEYWORDS)
    upper = draw(st.lists(st.booleans(), min_size=len(keyword), max_size=len(keyword)))
    cased = "".join(c.upper() if up else c for c, up in zip(keyword, upper, strict=True))
    words = [cased, *draw(FILLERS)]
    return draw(PUNCTUATION) + " ".join(words) + draw(PUNCTUATION)


@settings(max_examples=300, deadline=None)
@given(reply=opt_out_variants())
def test_every_stop_variant_is_an_opt_out(reply: str) -> None:
    # Given a STOP keyword in any case, accents, spacing and punctuation, with polite words
    # When it is classified
    # Then it is an opt-out
    assert classify_reply(reply) is ReplyClass.OPT_OUT


SENTENCE_WORDS = st.lists(
    st.sampled_from(["je", "veux", "que", "vous", "ça", "maintenant", "please", "now", "your"]),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(before=SENTENCE_WORDS, keyword=KEYWORDS, after=SENTENCE_WORDS)
def test_a_stop_keyword_anywhere_always_suppresses(
    before: list[str], keyword: str, after: list[str]
) -> None:
    # Given a sentence holding an opt-out keyword anywhere
    reply = " ".join([*before, keyword.upper(), *after])
    # Then the number is suppressed, at once or after review
    assert classify_reply(reply).opts_out


@settings(max_examples=300, deadline=None)
@given(reply=st.text(max_size=200))
def test_classify_reply_never_fails(reply: str) -> None:
    # Given any text, even control characters or lone surrogates
    # Then it is classified
    assert classify_reply(reply) in set(ReplyClass)
