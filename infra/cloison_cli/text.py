"""What the command line prints: numbers masked, control characters neutralised, tables."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

# Six digits or more, whatever separates them: spaces of any width, dots, commas, dashes of any
# kind, underscores, middle dots, slashes, brackets (up to three in a row). The API's pattern
# (cloison.compliance.phone), which the command line does not import; it masks dates too, which
# the API keeps: what it shows is never less masked than what the API holds.
_DIGIT_RUN = re.compile(r"\+?\d(?:(?:[^\w\n]|_){0,3}\d){5,}")
# A count written with thousands separators (100,000), which no phone number is written as.
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
# Characters that reorder or hide text on a terminal (bidirectional overrides and isolates).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def mask_phone(raw: str) -> str:
    """A phone number with every digit hidden but the last two, as the API shows numbers."""
    digits = [char for char in raw if char.isdigit()]
    return "***" + "".join(digits[-2:]) if len(digits) >= 4 else "***"


def scrub(text: str) -> str:
    """Free text with every run of digits long enough to be a phone number masked."""
    return _DIGIT_RUN.sub(
        lambda match: (
            match.group() if _THOUSANDS.fullmatch(match.group()) else mask_phone(match.group())
        ),
        text,
    )


def _unsafe(char: str) -> bool:
    return char in _BIDI or (unicodedata.category(char) in ("Cc", "Cf") and char not in "\n\t")


def printable(text: str, *, newlines: bool = False) -> str:
    """Text as data: control, format and bidirectional characters shown as escapes, so that what
    a recipient wrote can neither drive the terminal nor hide part of itself."""
    out = []
    for char in text:
        if char == "\n" and newlines:
            out.append(char)
        elif char in "\n\t" or _unsafe(char):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def safe(value: Any) -> str:
    """One table cell: printable. Ids and times are shown whole (a hex id or a date may hold a
    run of digits); free text goes through `free_text`."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return printable(str(value))


def free_text(value: Any) -> str:
    """Text the API wrote for people (a problem's detail, a row's reason): printable, and any
    number in it masked."""
    return printable(scrub(str(value)))


def to_json(document: Any) -> str:
    """JSON for scripts: UTF-8 kept readable, every control or bidirectional character escaped."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return "".join(f"\\u{ord(char):04x}" if _unsafe(char) else char for char in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [[safe(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """`label  value` lines, labels aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    return "\n".join(f"{label.ljust(width)}  {safe(value)}" for label, value in pairs)


def size(count: int) -> str:
    """A byte count for people: 812 B, 12.3 KB, 4.0 MB."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.1f} KB"
    return f"{count / 1_000_000:.1f} MB"
