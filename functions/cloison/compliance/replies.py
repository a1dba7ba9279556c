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
# Opt-out intent inside a sentence (as `fold_reply` writes it): suppress, and let a person check.
# French and English as people write them to a sender; each phrase is in the corpus of
# tests/unit/compliance/test_reply_classification.py, with replies that must not match.
_OPT_OUT_INTENT = re.compile(
    r"\b(?:stop\w*|arret\w*|desabo\w*|desinscri\w*|unsub\w*|unsu\w*scri\w*|opt(?:ing)? ?(?:me )?out"
    r"|nosms"
    # "ne plus m'écrire", "ne pas me contacter", "ne m'écrivez plus", "ne me relancez jamais"
    r"|ne (?:plus|pas|jamais) (?:m |me )?(?:recevoir|contacter|envoyer|ecrire|appeler|relancer"
    r"|solliciter|deranger|spammer)"
    r"|ne (?:m |me )?(?:ecri|envoy|contact|appel|relanc|sollicit|derang|spamm|texto)\w* (?:plus|jamais)"
    r"|ne (?:veu[xt]|souhaite\w*|desire|voudrai\w*) (?:plus|pas|rien|aucun\w*) (?:\w+ ){0,3}"
    r"(?:sms|messages?|textos?|pubs?|publicites?|offres?|notifications?|contacte\w*|sollicit\w*)"
    r"|(?:m |me )?envoy\w* plus|plus (?:de|d aucun\w*) (?:sms|messages?|pubs?|publicite\w*|textos?)"
    r"|cess\w* (?:de |d )?(?:m |me )?(?:envoy|ecri|contact|harcel|spamm|relanc|sollicit)\w*"
    r"|(?:retir|supprim|enlev|effac|ray)\w* (?:moi|mon numero|mes (?:donnees|coordonnees)"
    r"|mon (?:\w+ )?contact)"
    r"|laisse\w* moi (?:tranquille|en paix)|(?:fout|fich)\w* moi la paix|lache\w* moi"
    r"|(?:marre|ras le bol|assez) (?:de |d )?(?:vos |ces |tes |tous ces )?(?:sms|messages?|textos?"
    r"|pubs?|relances?)"
    r"|harcel\w*|spam\w*|cnil|plainte|pas interess\w*"
    # consent in doubt: the number is not the person's, or they never gave it
    r"|(?:mauvais|faux) numero|erreur de (?:numero|personne)|trompe\w* de (?:numero|personne)"
    r"|jamais donne mon numero|(?:rien|jamais) demande|pas (?:inscrit|abonne)\w*"
    r"|remove me|take me off|leave me alone|no more|not interested|go away"
    r"|(?:remove|delete|erase) (?:me|my (?:number|data|details|info\w*))"
    r"|(?:do ?n ?t|do not|never) (?:ever )?(?:text|send|message|contact|call|sms|bother|spam)\w*"
    r"|(?:do ?n ?t|do not) want (?:these|your|any|this|more|to (?:receive|get|hear))"
    r"|(?:quit|cease) (?:texting|messaging|sending|contacting|spamming|bothering)"
    r"|(?:wrong|incorrect) (?:number|person)|who gave you my number"
    r"|never (?:signed|subscribed|opted|agreed))\b"
)
_CONTACT_QUESTION = re.compile(
    r"\b(?:qui (?:etes vous|est ce|es tu|me (?:contacte|parle|ecrit))|c est qui"
    r"|vous etes qui|who (?:is this|are you|is it)|qui vous a donne mon numero)\b"
)
_DIGITS = re.compile(r"[0-9]{1,6}")
_WORD_SEPARATORS = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"(.)\1+")
# Symbols people send for "stop": the octagonal stop sign is one; the no-entry, prohibited,
# no-phones and muted-bell signs ask the same less plainly, and go to review.
_SYMBOL_WORDS: Final = {
    "\U0001f6d1": " stop ",
    **dict.fromkeys("\u26d4\U0001f6ab\U0001f4f5\U0001f515", " nosms "),
}
# Digits and signs written for letters inside a word ("ST0P", "$TOP"), folded only in words
# that hold two letters or more, so that numbers and times ("14h") stay as they are.
_LEET: Final = str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "@": "a"})
_HAS_LETTERS = re.compile(r"[a-z].*[a-z]")
# Letters drawn as symbols, whose Unicode name says which Latin letter they show: small
# capitals (ᴛ), negative circled and squared letters (🅢, 🆂), regional indicators (🇸).
_LETTER_NAME = re.compile(
    r"(?:LATIN|REGIONAL INDICATOR SYMBOL)\b.*\bLETTER (?:SMALL |CAPITAL )*([A-Z])$"
)


def normalize_reply(text: str) -> str:
    """Lower case, accents and punctuation removed, single spaces: `"Arrêt !"` -> `"arret"`."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD_SEPARATORS.sub(" ", bare.casefold()).strip()


def fold_reply(text: str) -> str:
    """`normalize_reply` of what the reader sees: look-alike letters of other scripts and letter
    symbols read as the Latin letters they show (Unicode's confusables table, UTS #39), the stop
    sign as "stop", digits written for letters inside words as those letters.

    `"\u0405\u0422\u041e\u0420"` (STOP in Cyrillic) -> `"stop"`, `"ST0P"` -> `"stop"`.
    """
    shown = "".join(_SYMBOL_WORDS.get(char) or _latin_look_alike(char) for char in text)
    words = unicodedata.normalize("NFKD", shown).casefold().split()
    return normalize_reply(
        " ".join(w.translate(_LEET) if _HAS_LETTERS.search(w) else w for w in words)
    )


def collapse_repeats(word: str) -> str:
    """A letter repeated for emphasis counts once: `"stooop"` -> `"stop"`, `"arret"` -> `"aret"`."""
    return _REPEATS.sub(r"\1", word)


@lru_cache(maxsize=4096)
def _latin_look_alike(char: str) -> str:
    """The Latin letter(s) `char` is drawn like, or `char` itself (Latin-1 is left as it is:
    accents are dropped later, and nothing there stands for another letter)."""
    if ord(char) <= 0xFF:
        return char
    named = _LETTER_NAME.search(unicodedata.name(char, ""))
    if named:
        return named.group(1)
    if not unicodedata.category(char).startswith("L"):
        return char
    for prototype in _confusables().get(char, ()):
        shown = "".join(_latin_letter(part) for part in prototype["c"])
        if shown.isascii() and shown.isalpha():
            return shown
    return char


def _latin_letter(char: str) -> str:
    named = _LETTER_NAME.search(unicodedata.name(char, ""))
    return named.group(1) if named else char


@lru_cache(maxsize=1)
def _confusables() -> dict[str, list[dict[str, str]]]:
    # Loaded at the first letter outside Latin-1 (about 50 ms): most replies never need it.
    from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

    table: dict[str, list[dict[str, str]]] = confusables.confusables_data
    return table


def classify_reply(text: str) -> ReplyClass:
    """Classify an inbound SMS.

    An opt-out always wins: a missed STOP is unlawful, and a sensitive reply that also asks
    to stop is suppressed and reviewed as OPT_OUT_REVIEW. Opt-outs are read on the folded text
    (`fold_reply`) with repeated letters counted once; an opt-in is read on the text as written,
    so that a look-alike never lifts a suppression.
    """
    words = normalize_reply(text).split()
    folded = fold_reply(text).split()
    collapsed = [collapse_repeats(word) for word in folded]
    # The text as written, then as folded: folding only ever adds an opt-out ("Fin 🇫🇷" is one
    # as written, whatever the flag folds into).
    if (
        _only(words, OPT_OUT_KEYWORDS)
        or "".join(words) in OPT_OUT_KEYWORDS
        or _only(collapsed, _COLLAPSED_OPT_OUT, _COLLAPSED_FILLERS)
        or collapse_repeats("".join(folded)) in _COLLAPSED_OPT_OUT
    ):
        return ReplyClass.OPT_OUT
    sentences = (" ".join(words), " ".join(folded), " ".join(collapsed))
    if any(_OPT_OUT_INTENT.search(sentence) for sentence in sentences) or any(
        _looks_like_opt_out(variant) for variant in (words, folded)
    ):
        return ReplyClass.OPT_OUT_REVIEW
    if find_personal_data(text):
        return ReplyClass.SENSITIVE
    sentence = " ".join(words)
    if _only(words, OPT_IN_KEYWORDS) or "".join(words) in OPT_IN_KEYWORDS:
        return ReplyClass.OPT_IN
    if _only(words, HELP_KEYWORDS):
        return ReplyClass.HELP
    if _only(words, CONTACT_KEYWORDS) or _CONTACT_QUESTION.search(sentence):
        return ReplyClass.CONTACT
    return ReplyClass.REPLY


_COLLAPSED_OPT_OUT: Final = frozenset(map(collapse_repeats, OPT_OUT_KEYWORDS))
_COLLAPSED_FILLERS: Final = frozenset(map(collapse_repeats, FILLER_WORDS))


def _only(
    words: list[str], keywords: frozenset[str], fillers: frozenset[str] = FILLER_WORDS
) -> bool:
    """A keyword, possibly repeated or surrounded by filler words and a short code."""
    return any(word in keywords for word in words) and all(
        word in keywords or word in fillers or _DIGITS.fullmatch(word) for word in words
    )


def _looks_like_opt_out(words: list[str]) -> bool:
    # A short reply one typo away from an opt-out keyword ("stpo", "desabonenr").
    if not 1 <= len(words) <= 2:
        return False
    return any(_near_keyword(word) for word in words)


@lru_cache(maxsize=4096)
def _near_keyword(word: str) -> bool:
    # Against the keywords as written: their collapsed forms ("aret") are one edit from
    # ordinary words ("pret").
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
