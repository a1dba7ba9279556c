"""Classifying real replies: STOP in all its forms, opt-in, help, contact and personal data."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.compliance.personal_data import (
    PersonalData,
    find_personal_data,
    is_valid_card_number,
    is_valid_iban,
    is_valid_nir,
)
from cloison.compliance.replies import ReplyClass, classify_reply, normalize_reply

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


# ------------------------------------------------ how people write it: look-alikes, emphasis, words

LOOK_ALIKE_OPT_OUTS = [
    "\u0405\u0422\u041e\u0420",  # "STOP" in Cyrillic capitals, from a Cyrillic keyboard
    "S\u03a4OP",  # a Greek capital tau among Latin letters
    "\u0455top",  # a Cyrillic dze for the s
    "\ua731\u1d1b\u1d0f\u1d18",  # small capitals, from "fancy text" keyboards
    "\U0001d412\U0001d413\U0001d40e\U0001d40f",  # mathematical bold
    "\u24c8\u24e3\u24de\u24df",  # circled letters
    "\U0001f162\U0001f163\U0001f15e\U0001f15f",  # negative circled letters
    "\U0001f142\U0001f143\U0001f13e\U0001f13f",  # squared letters
    "\U0001f1f8\U0001f1f9\U0001f1f4\U0001f1f5",  # regional indicator letters
    "\U0001f6d1",  # the octagonal stop sign
    "\U0001f6d1 \U0001f6d1 \U0001f6d1",
    "STOOOOP",
    "stoppp",
    "Stooop svp",
    "ARRÊÊÊT",
    "arrreeeet",
    "DÉSINSCRIPTIOOON",
    "S.T.O.P",
    "S-T-O-P !",
    "ST0P",
    "$TOP",
    "5T0P merci",
]


@pytest.mark.parametrize("reply", LOOK_ALIKE_OPT_OUTS)
def test_opt_out_keywords_written_with_look_alikes_symbols_or_emphasis(reply: str) -> None:
    # Given a keyword written with letters of another script, letter symbols, the stop sign,
    # digits for letters or letters repeated for emphasis
    # When it is classified
    # Then it is an opt-out, at once
    assert classify_reply(reply) is ReplyClass.OPT_OUT


REFUSALS_IN_WORDS = [
    # French, as people write to a sender
    "Merci de ne plus m'écrire",
    "Ne m'écrivez plus",
    "ne me contactez plus jamais",
    "Je ne veux plus recevoir vos messages",
    "je ne souhaite plus être contactée",
    "Je ne veux plus de vos pubs",
    "Cessez de m'envoyer des SMS",
    "Foutez-moi la paix",
    "Laissez-moi en paix",
    "J'en ai marre de vos sms",
    "ras le bol de ces messages",
    "désabo",
    "Pas intéressé, merci",
    "Mauvais numéro",
    "Vous vous trompez de numéro",
    "Je n'ai jamais donné mon numéro",
    "j'ai rien demandé moi",
    # English
    "please stop texting me",
    "Don't ever text me again",
    "do not contact me",
    "take me off your list",
    "Remove my number please",
    "I don't want these messages",
    "not interested",
    "wrong number",
    "Who gave you my number?",
    "I never signed up for this",
    "unsub",
    "opt me out",
    # symbols that refuse less plainly than the stop sign
    "\u26d4",
    "\U0001f6ab sms",
    "\U0001f4f5",
]


@pytest.mark.parametrize("reply", REFUSALS_IN_WORDS)
def test_refusals_in_people_s_own_words_are_suppressed_and_reviewed(reply: str) -> None:
    # Given a refusal written as a sentence, or a number that is not the person's
    # When it is classified
    reply_class = classify_reply(reply)
    # Then the number is suppressed at once and a person reviews it ("sans entrave")
    assert reply_class is ReplyClass.OPT_OUT_REVIEW


NOT_OPT_OUTS = [
    "Don't forget my parcel",
    "Ne pas sonner, code 1234",
    "Je ne veux pas rater la livraison",
    "Je ne veux pas de sac",
    "Pas de souci",
    "Fin de matinée ça me va",
    "Bonne fin de journée",
    "The end of the week works",
    "Merci, plus besoin de rappeler",
    "D'accord pour jeudi 14h",
    "ok thanks see you",
    "Top !",
    "Oui merci",
    "Спасибо",  # thanks, in Russian: Cyrillic folded is no keyword
    "Καλημέρα",  # good morning, in Greek
    "\U0001f44d\U0001f44d",
    "4 colis svp",
    "Prêt !",  # one edit from "aret", the collapsed "arret": typos are read on the keyword
    "oui prêt",
    "déjà prêt",
    "steep",
]


@pytest.mark.parametrize("reply", NOT_OPT_OUTS)
def test_replies_that_refuse_nothing_stay_replies(reply: str) -> None:
    assert classify_reply(reply) is ReplyClass.REPLY


@pytest.mark.parametrize(
    "reply",
    [
        "Je serai à l'arrêt de bus à 8h",
        "Can't stop smiling",
        "Can you stop by tomorrow?",
        "Arrêt maladie jusqu'à lundi",
    ],
)
def test_a_stop_word_in_another_sense_is_never_a_hard_opt_out(reply: str) -> None:
    # Given "stop" or "arrêt" used in another sense, in a sentence
    # Then the number is not suppressed without a person looking (review, which a privacy
    # officer may lift), and never taken as a bare keyword
    assert classify_reply(reply) is ReplyClass.OPT_OUT_REVIEW


@pytest.mark.parametrize(
    "reply", ["\u0405\u0422\u0410R\u0422", "\U0001f162\U0001f163ART", "STAAART"]
)
def test_a_look_alike_or_an_emphasis_never_lifts_an_opt_out(reply: str) -> None:
    # Given START written with look-alikes or repeated letters
    # Then it is no opt-in: what lifts a suppression is read as written
    assert classify_reply(reply) is not ReplyClass.OPT_IN


def _look_alikes() -> dict[str, list[str]]:
    """For each lower-case ASCII letter, the letters of other scripts that Unicode's
    confusables table (as confusable_homoglyphs ships it) draws first as that letter. Latin
    letters drawn differently (a fullwidth I for an l) are read as the letter they are."""
    from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

    table: dict[str, list[str]] = {}
    for char, prototypes in confusables.confusables_data.items():
        shown = prototypes[0]["c"] if prototypes else ""
        one_letter = len(shown) == 1 and shown.isascii() and shown.isalpha()
        if len(char) != 1 or ord(char) <= 0xFF or not char.isalpha():
            continue
        if one_letter and "LATIN" not in unicodedata.name(char, ""):
            table.setdefault(shown.lower(), []).append(char)
    return table


LOOK_ALIKES = _look_alikes()


@st.composite
def disguised_keywords(draw: st.DrawFn) -> str:
    """An opt-out keyword with any of its letters swapped for a look-alike of another script
    and any of them repeated for emphasis (two to four times)."""
    keyword = draw(st.sampled_from(["stop", "arret", "desabonner", "unsubscribe", "stopall"]))
    letters = []
    for letter in keyword:
        options = [letter, letter.upper(), *LOOK_ALIKES.get(letter, [])]
        drawn = draw(st.sampled_from(options))
        letters.append(drawn * draw(st.integers(min_value=1, max_value=4)))
    return "".join(letters)


@settings(max_examples=500, deadline=None)
@given(reply=disguised_keywords())
def test_every_disguised_keyword_is_an_opt_out(reply: str) -> None:
    # Given a keyword whose letters are look-alikes or repeated
    # Then it is an opt-out, at once
    assert classify_reply(reply) is ReplyClass.OPT_OUT


@pytest.mark.parametrize(
    "symbol", ["\U0001f1eb\U0001f1f7", "\U0001f1ec\U0001f1e7", "\U0001f17f", "!"]
)
@pytest.mark.parametrize("keyword", ["Fin", "end", "Quit", "cancel", "STOP"])
def test_folding_never_loses_an_opt_out_written_plainly(keyword: str, symbol: str) -> None:
    # Given a keyword followed by a flag or a letter symbol (which folding reads as letters)
    # Then it is an opt-out as written, whatever the symbol folds into
    for reply in (f"{keyword} {symbol}", f"{keyword}{symbol}"):
        assert classify_reply(reply) is ReplyClass.OPT_OUT, reply


@settings(max_examples=300, deadline=None)
@given(keyword=KEYWORDS, symbol=st.characters(min_codepoint=0x100, max_codepoint=0x1FFFF))
def test_any_character_after_a_keyword_keeps_an_opt_out(keyword: str, symbol: str) -> None:
    # Given a keyword and any one character after a space: the keyword is still read
    assert classify_reply(f"{keyword} {symbol}").opts_out
