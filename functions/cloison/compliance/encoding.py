"""How a text travels as SMS: GSM 03.38 or UCS-2, its length in units and its segments."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import gsm0338
from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

Encoding = Literal["GSM-7", "UCS-2"]
GSM7: Encoding = "GSM-7"
UCS2: Encoding = "UCS-2"

GSM7_SINGLE_SEGMENT = 160
GSM7_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_SEGMENT = 67

_ESCAPE = "\x1b"


def _lookup(name: str) -> str:
    return unicodedata.lookup(name)


# gsm0338 wrongly maps U+001B, the escape to the extension table, as a character: "\x1b<" is "[".
GSM7_BASIC = frozenset(_lookup(name) for name in BASIC_CHARACTER_SET.values()) - {_ESCAPE}
GSM7_EXTENSION = frozenset(_lookup(name) for name in BASIC_CHARACTER_SET_EXTENSION.values())
GSM7_CHARACTERS = GSM7_BASIC | GSM7_EXTENSION

# Character classes compiled once: scanning a text is then a single pass in C.
_NOT_GSM7 = re.compile("[^" + "".join(sorted(map(re.escape, GSM7_CHARACTERS))) + "]")
_EXTENSION = re.compile("[" + "".join(sorted(map(re.escape, GSM7_EXTENSION))) + "]")

# Look-alikes whose GSM replacement keeps the meaning; letters with accents are handled apart.
LOOK_ALIKES: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u02bc\u02b9`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u2039\u203a", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\u2022", "-"),
    **dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u3000\t", " "),
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
    "\u2026": "...",
    "\u2024": ".",
    "\u00b7": ".",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u00e7": "c",
    "\u2044": "/",
    "\u2215": "/",
    "\u02c6": "^",
    "\u02dc": "~",
    "\u00a6": "|",
    # Greek capitals that look exactly like Latin ones (GSM has only the others).
    **dict(
        zip(
            "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7",
            "ABEZHIKMNOPTYX",
            strict=True,
        )
    ),
}


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """What a text costs as SMS.

    `units` are septets for GSM-7 (an extension character counts two) or UTF-16 code units
    for UCS-2; `non_gsm` lists, in order of appearance and without repeats, the characters
    that forced UCS-2; `text` is the text analysed (after look-alike substitution if asked).
    """

    text: str
    encoding: Encoding
    units: int
    segments: int
    non_gsm: tuple[str, ...]


def analyze_text(text: str, *, smart: bool = False) -> TextAnalysis:
    """Encoding, length and segments of `text`, following GSM 03.38 and 3GPP TS 23.040.

    With `smart=True`, characters outside GSM 03.38 that have a look-alike (curly quotes,
    dashes, ellipsis, non-breaking spaces, accented capitals...) are replaced when that
    makes the whole text GSM-7 in no more segments; otherwise the text is kept as written.
    """
    if not _NOT_GSM7.search(text):
        return _gsm7(text)
    non_gsm = tuple(dict.fromkeys(_NOT_GSM7.findall(text)))
    as_written = _ucs2(text, non_gsm)
    if smart:
        # Accents typed as separate marks (macOS, iOS) recompose into GSM letters (e + U+0301 -> é).
        smart_text = unicodedata.normalize("NFC", text)
        forcing = dict.fromkeys(_NOT_GSM7.findall(smart_text))
        replacements = [(char, _look_alike(char)) for char in forcing]
        if all(replacement is not None for _, replacement in replacements):
            # A few str.replace calls beat str.translate, which is slow on non-ASCII text.
            for char, replacement in replacements:
                smart_text = smart_text.replace(char, replacement or "")
            substituted = _gsm7(smart_text)
            # "…" becomes three septets: a long run of them can cost more than UCS-2 would.
            if substituted.segments <= as_written.segments:
                return substituted
    return as_written


def _gsm7(text: str) -> TextAnalysis:
    extended = len(_EXTENSION.findall(text))
    units = len(text) + extended
    if units <= GSM7_SINGLE_SEGMENT:
        return TextAnalysis(text, GSM7, units, 1 if units else 0, ())
    if not extended:
        return TextAnalysis(text, GSM7, units, -(-units // GSM7_SEGMENT), ())
    segments, used = 1, 0
    for char in text:
        width = 2 if char in GSM7_EXTENSION else 1
        # An escape sequence is never split: the pair moves whole to the next segment.
        if used + width > GSM7_SEGMENT:
            segments, used = segments + 1, 0
        used += width
    return TextAnalysis(text, GSM7, units, segments, ())


def _ucs2(text: str, non_gsm: tuple[str, ...]) -> TextAnalysis:
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if units <= UCS2_SINGLE_SEGMENT:
        return TextAnalysis(text, UCS2, units, 1, non_gsm)
    if units == len(text):
        return TextAnalysis(text, UCS2, units, -(-units // UCS2_SEGMENT), non_gsm)
    segments, used = 1, 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        # A surrogate pair is never split across segments.
        if used + width > UCS2_SEGMENT:
            segments, used = segments + 1, 0
        used += width
    return TextAnalysis(text, UCS2, units, segments, non_gsm)


@lru_cache(maxsize=2048)
def _look_alike(char: str) -> str | None:
    """The GSM replacement of a non-GSM character, or None if none keeps its meaning."""
    if char in LOOK_ALIKES:
        return LOOK_ALIKES[char]
    if unicodedata.category(char).startswith("L") and unicodedata.name(char, "").startswith(
        "LATIN"
    ):
        # A Latin letter whose accent GSM lacks keeps its meaning without it: Ê -> E, ô -> o.
        base = "".join(
            part for part in unicodedata.normalize("NFD", char) if not unicodedata.combining(part)
        )
        if base and all(part in GSM7_CHARACTERS for part in base):
            return base
    return None


@lru_cache(maxsize=1)
def _codec() -> gsm0338.Codec:
    return gsm0338.Codec()


def encode_gsm7(text: str) -> bytes:
    """The GSM 03.38 septets of `text`, one per byte (unpacked); raises on a non-GSM character."""
    forcing = _NOT_GSM7.search(text)
    if forcing:
        raise ValueError(f"text: {forcing.group()!r} is not in the GSM 03.38 alphabet")
    septets, _ = _codec().encode(text)
    return bytes(septets)


def decode_gsm7(septets: bytes) -> str:
    """The text held by unpacked GSM 03.38 septets."""
    text, _ = _codec().decode(septets)
    return str(text)
