"""Sign-up keywords: a word a person texts to a team's number to ask for its SMS (the same
double opt-in as the public page). A keyword must not be a word that already means something
in a reply: an opt-out, a resubscription, a request for help, a sign-up's confirmation."""

import re

from cloison.compliance.replies import ReplyClass, classify_reply, normalize_reply
from cloison.compliance.signup import is_confirmation

KEYWORD_PATTERN = r"^[A-Za-z0-9]{2,20}$"
_KEYWORD = re.compile(KEYWORD_PATTERN)


def keyword_of(text: str) -> str | None:
    """The keyword a whole message is, upper-cased (`" info ! "` -> `"INFO"`), or None when it
    is more than one word: `INFO` starts a sign-up, `INFO svp` is a reply like any other."""
    word = normalize_reply(text).upper()
    return word if _KEYWORD.fullmatch(word) else None


def keyword_refusal(word: str) -> str | None:
    """Why `word` cannot be a sign-up keyword, or None if it can."""
    if not _KEYWORD.fullmatch(word):
        return "must be 2 to 20 unaccented letters or digits"
    if is_confirmation(word):
        return "is the word that confirms a sign-up"
    reply_class = classify_reply(word)
    if reply_class is not ReplyClass.REPLY:
        return f"already means {reply_class.value} in a reply"
    return None
