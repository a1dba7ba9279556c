"""What a carrier's content filter would flag in a message, before anyone is charged for it.

Warnings, not refusals: public link shorteners (filtered as spam by French carriers), links
without https, shouting in capitals, runs of punctuation, a marketing template that does not
say how to opt out (the mention is appended anyway), and long messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from .encoding import analyze_text
from .message import MessageKind

MAX_SEGMENTS: Final = 3
# Shared public shorteners: their domains are on carriers' block lists because spam uses them.
LINK_SHORTENERS: Final = frozenset(
    {
        "bit.ly",
        "bitly.com",
        "tinyurl.com",
        "goo.gl",
        "t.co",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "cutt.ly",
        "rebrand.ly",
        "shorturl.at",
        "tiny.cc",
        "rb.gy",
        "t.ly",
        "s.id",
        "v.gd",
        "lnkd.in",
        "shorte.st",
        "adf.ly",
        "bl.ink",
        "snip.ly",
        "short.io",
        "urlz.fr",
    }
)
# A link: a scheme, or "www.", or a domain followed by a path.
_LINK = re.compile(
    r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)?"
    r"(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})"
    r"(?P<rest>[/?#][^\s]*)?",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_STOP_WORD = re.compile(r"(?<![^\W_])STOP(?![^\W_])", re.IGNORECASE)
_PUNCTUATION_RUN = re.compile(r"[!?]{2,}|[$€£]{2,}|\.{4,}")
MIN_LETTERS_FOR_SHOUTING: Final = 12
SHOUTED_WORDS: Final = 3


@dataclass(frozen=True, slots=True)
class ContentWarning:
    code: str
    detail: str


def content_warnings(
    text: str, *, template: str | None = None, kind: MessageKind = "transactional"
) -> list[ContentWarning]:
    """The warnings for `text`, a final message; `template` is the body it came from.

    A marketing `template` that does not mention STOP gets a warning even though the final
    text always ends with the sender's STOP mention.
    """
    warnings: list[ContentWarning] = []
    shorteners: dict[str, None] = {}
    insecure = 0
    for link in _links(text):
        host = link.group("host").lower().removeprefix("www.")
        if host in LINK_SHORTENERS:
            shorteners[host] = None
        scheme = (link.group("scheme") or "").lower()
        if scheme != "https://":
            insecure += 1
    if shorteners:
        warnings.append(
            ContentWarning(
                "link-shortener",
                f"{', '.join(shorteners)} is a public link shortener; carriers filter such links "
                "as spam. Use a link on your own domain.",
            )
        )
    if insecure:
        warnings.append(
            ContentWarning(
                "insecure-link",
                f"{insecure} link(s) without https://; write links in full, with https.",
            )
        )
    if _shouts(text):
        warnings.append(
            ContentWarning(
                "shouting", "much of the text is in capitals, which filters read as spam."
            )
        )
    if _PUNCTUATION_RUN.search(text) or text.count("!") > 3:
        warnings.append(
            ContentWarning(
                "punctuation", "repeated punctuation (!!, ??, $$$...) is typical of spam."
            )
        )
    if kind == "marketing" and template is not None and not _STOP_WORD.search(template):
        warnings.append(
            ContentWarning(
                "missing-stop",
                "the template does not say how to opt out; the sender's STOP mention is "
                "appended, but saying it in the text reads better.",
            )
        )
    segments = analyze_text(text).segments
    if segments > MAX_SEGMENTS:
        warnings.append(
            ContentWarning(
                "too-many-segments",
                f"the message takes {segments} segments; over {MAX_SEGMENTS}, some carriers "
                "filter or split it, and each segment is charged.",
            )
        )
    return warnings


def _links(text: str) -> list[re.Match[str]]:
    """The links in `text`: with a scheme, with "www.", or a domain followed by a path."""
    found = []
    for match in _LINK.finditer(text):
        host = match.group("host").lower()
        if (
            match.group("scheme")
            or host.startswith("www.")
            or match.group("rest")
            or host in LINK_SHORTENERS
        ):
            found.append(match)
    return found


def _shouts(text: str) -> bool:
    """Most letters in capitals, or several words of four letters or more all in capitals."""
    words = _WORD.findall(_STOP_WORD.sub(" ", text))
    letters = [char for word in words for char in word]
    if len(letters) >= MIN_LETTERS_FOR_SHOUTING:
        upper = sum(1 for char in letters if char.isupper())
        if upper * 2 > len(letters):
            return True
    loud = [word for word in words if len(word) >= 4 and word.isupper()]
    return len(loud) >= SHOUTED_WORDS
