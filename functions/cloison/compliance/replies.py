"""What an inbound SMS asks for: opt-out, opt-in, help, contact, or a plain reply."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from typing import Final

from .personal_data import find_personal_data


class ReplyClass(StrEnum):
    """The class of a reply, from the most to the least binding."""

    OPT_OUT = "OPT_OUT"
    OPT_OUT_REVIEW = "OPT_OUT_REVIEW"
    SENSITIVE = "SENSITIVE"
    OPT_IN = "OPT_IN"
    HELP = "HELP"
    CONTACT = "CONTACT"
    REPLY = "REPLY"

    @property
    def opts_out(self) -> bool:
        """The number must be suppressed at once."""
        return self in (ReplyClass.OPT_OUT, ReplyClass.OPT_OUT_REVIEW)

    @property
    def needs_review(self) -> bool:
        """A person must look at the reply."""
        return self in (ReplyClass.OPT_OUT_REVIEW, ReplyClass.SENSITIVE)

    @property
    def listable(self) -> bool:
        """The reply may appear in lists; a sensitive one never does."""
        return self is not ReplyClass.SENSITIVE


# Keywords, as normalize_reply writes them (lower case, no accents, no punctuation).
OPT_OUT_KEYWORDS: Final = frozenset(
    {
        "stop", "stopall", "arret", "arrete", "arreter", "arretez", "desabonner",
        "desabonnez", "desabonne", "desabonnement", "desinscription", "desinscrire",
        "desinscrivez", "desinscrit", "unsubscribe", "optout", "cancel", "end", "quit", "fin",
    }
)  # fmt: skip
OPT_IN_KEYWORDS: Final = frozenset(
    {"start", "unstop", "arrive", "subscribe", "resubscribe", "abonner", "reabonner"}
)
HELP_KEYWORDS: Final = frozenset({"help", "aide", "info", "infos", "information", "informations"})
CONTACT_KEYWORDS: Final = frozenset({"contact", "contacts", "contacter"})
# Keywords whose typos are common enough to suppress (and review) a short reply.
TYPO_TARGETS: Final = frozenset(
    {"stop", "stopall", "arret", "arretez", "desabonner", "desinscription", "unsubscribe"}
)
# Words that may surround a keyword without changing it: "stop svp", "STOP SMS", "Stop merci".
FILLER_WORDS: Final = frozenset(
    {
        "svp", "stp", "s", "il", "vous", "te", "plait", "merci", "please", "pls", "plz",
        "thanks", "thank", "you", "sms", "pub", "pubs", "publicite", "message", "messages",
        "au", "a", "all", "now", "maintenant", "definitivement", "the", "me", "moi",
    }
)  # fmt: skip
# Opt-out intent inside a sentence: suppress, and let a person check.
_OPT_OUT_INTENT = re.compile(
    r"\b(?:stop\w*|arret\w*|desabonn\w*|desinscri\w*|unsubscribe\w*|opt ?out"
    r"|ne (?:plus|pas) (?:me )?(?:recevoir|contacter|envoyer|ecrire)"
    r"|(?:m |me )?envoy\w* plus|plus (?:de|d aucun\w*) (?:sms|messages?|pubs?|publicite\w*)"
    r"|(?:retir|supprim|enlev|effac|ray)\w* (?:moi|mon numero|mes donnees|mon (?:\w+ )?contact)"
    r"|laisse\w* moi tranquille|harcel\w*|spam\w*|cnil|plainte"
    r"|remove me|take me off|leave me alone|no more|do ?n ?t (?:text|send|message|contact)"
    r"|do not (?:text|send|message|contact))\b"
)
_CONTACT_QUESTION = re.compile(
    r"\b(?:qui (?:etes vous|est ce|es tu|me (?:contacte|parle|ecrit))|c est qui"
    r"|vous etes qui|who (?:is this|are you|is it)|qui vous a donne mon numero)\b"
)
_DIGITS = re.compile(r"[0-9]{1,6}")
_WORD_SEPARATORS = re.compile(r"[\W_]+")


def normalize_reply(text: str) -> str:
    """Lower case, accents and punctuation removed, single spaces: `"Arrêt !"` -> `"arret"`."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD_SEPARATORS.sub(" ", bare.casefold()).strip()


def classify_reply(text: str) -> ReplyClass:
    """Classify an inbound SMS.

    An opt-out always wins: a missed STOP is unlawful, and a sensitive reply that also asks
    to stop is suppressed and reviewed as OPT_OUT_REVIEW.
    """
    words = normalize_reply(text).split()
    if _only(words, OPT_OUT_KEYWORDS) or "".join(words) in OPT_OUT_KEYWORDS:
        return ReplyClass.OPT_OUT
    sentence = " ".join(words)
    if _OPT_OUT_INTENT.search(sentence) or _looks_like_opt_out(words):
        return ReplyClass.OPT_OUT_REVIEW
    if find_personal_data(text):
        return ReplyClass.SENSITIVE
    if _only(words, OPT_IN_KEYWORDS) or "".join(words) in OPT_IN_KEYWORDS:
        return ReplyClass.OPT_IN
    if _only(words, HELP_KEYWORDS):
        return ReplyClass.HELP
    if _only(words, CONTACT_KEYWORDS) or _CONTACT_QUESTION.search(sentence):
        return ReplyClass.CONTACT
    return ReplyClass.REPLY


def _only(words: list[str], keywords: frozenset[str]) -> bool:
    """A keyword, possibly repeated or surrounded by filler words and a short code."""
    return any(word in keywords for word in words) and all(
        word in keywords or word in FILLER_WORDS or _DIGITS.fullmatch(word) for word in words
    )


def _looks_like_opt_out(words: list[str]) -> bool:
    # A short reply one typo away from an opt-out keyword ("stpo", "desabonenr").
    if not 1 <= len(words) <= 2:
        return False
    return any(_near_keyword(word) for word in words)


@lru_cache(maxsize=4096)
def _near_keyword(word: str) -> bool:
    return len(word) >= 4 and any(_one_edit_apart(word, keyword) for keyword in TYPO_TARGETS)


def _one_edit_apart(word: str, keyword: str) -> bool:
    """Damerau-Levenshtein distance of exactly one: a letter added, dropped, changed or swapped."""
    if word == keyword or abs(len(word) - len(keyword)) > 1:
        return False
    if len(word) == len(keyword):
        diffs = [i for i, (a, b) in enumerate(zip(word, keyword, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        first = diffs[0]
        return (
            len(diffs) == 2
            and diffs[1] == first + 1
            and word[first] == keyword[first + 1]
            and word[first + 1] == keyword[first]
        )
    shorter, longer = sorted((word, keyword), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
