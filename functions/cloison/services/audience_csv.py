"""CSV audiences: an uploaded file read as a stream into recipients and per-line errors.

Pure: bytes in, recipients and row errors out. The header names the columns: `phone`
(required), `departement` (optional), and every other column is a template variable. Line
numbers count the header as line 1. No error quotes a cell: a number typed in the wrong column
never comes back in a response.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cloison.compliance.errors import InvalidDepartement, InvalidPhoneNumber
from cloison.compliance.phone import Phone, normalize_phone
from cloison.compliance.territories import normalize_departement
from cloison.errors import RuleViolation, TooLarge

MAX_ROWS = 100_000
MAX_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_VARIABLES = 20
MAX_VARIABLE_LENGTH = 200
PHONE = "phone"
DEPARTEMENT = "departement"
_DEPARTEMENT_NAMES = frozenset({"departement", "département"})
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_DELIMITERS = (",", ";", "\t")  # spreadsheets in French locales export with ';'
_DEPARTEMENT_REASON = "is not a département code (01-95, 2A, 2B, 971-978, 986-988)"


class CsvUnreadable(RuleViolation, ValueError):
    """The file as a whole cannot be read as an audience (no header, no phone column...)."""


class CsvTooLarge(TooLarge, ValueError):
    """The file has more rows or bytes than one upload may hold."""


@dataclass(frozen=True, slots=True)
class CsvRecipient:
    line: int
    phone: Phone
    variables: dict[str, str]
    departement: str | None = None


@dataclass(frozen=True, slots=True)
class CsvRowError:
    line: int
    field: str
    reason: str


@dataclass
class CsvAudience:
    recipients: list[CsvRecipient] = field(default_factory=list)
    errors: list[CsvRowError] = field(default_factory=list)


@dataclass(frozen=True)
class _Header:
    width: int
    phone: int
    departement: int | None
    variables: tuple[tuple[int, str], ...]


def parse_audience_csv(
    data: bytes,
    *,
    required: Iterable[str] = (),
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> CsvAudience:
    """Reads an audience file: UTF-8 with or without BOM, comma, semicolon or tab separated.

    `required` names the variables the template needs: a file without one of those columns is
    unreadable, a row with an empty cell in one is an error. Raises CsvTooLarge beyond
    `max_rows` data rows or `max_bytes`, CsvUnreadable when the header is unusable.
    """
    if len(data) > max_bytes:
        raise CsvTooLarge(f"the file is over {max_bytes // (1024 * 1024)} MB")
    if data.count(b"\n") > max_rows and _rows(data) > max_rows:
        # Counted before any number is read: a file over the limit is refused at once.
        raise CsvTooLarge(f"the file has more than {max_rows:,} rows")
    broken: set[int] = set()
    lines = _decoded_lines(data, broken)
    first = next(lines, None)
    if first is None or not first.strip():
        raise CsvUnreadable("header", "the file is empty; line 1 must name the columns")
    if 1 in broken:
        raise CsvUnreadable("header", "line 1 is not valid UTF-8")
    reader = csv.reader(_chain(first, lines), delimiter=_delimiter(first), strict=False)
    try:
        header = _header(next(reader), frozenset(required))
    except csv.Error:
        raise CsvUnreadable("header", "line 1 is not a CSV header") from None
    audience = CsvAudience()
    rows = 0
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return audience
        except csv.Error:
            audience.errors.append(CsvRowError(start, "row", "is not valid CSV"))
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and rows of empty cells are not rows
        rows += 1
        if rows > max_rows:
            raise CsvTooLarge(f"the file has more than {max_rows:,} rows")
        end = reader.line_num
        if any(line in broken for line in range(start, end + 1)):
            audience.errors.append(CsvRowError(start, "row", "is not valid UTF-8"))
            continue
        if end > start:
            # A line break inside quotes: no cell may hold one, and an unclosed quote swallows
            # the lines after it, which must not vanish into one cell unnoticed.
            audience.errors.append(
                CsvRowError(start, "row", f"runs to line {end} inside quotes (an unclosed quote?)")
            )
            continue
        if len(cells) != header.width:
            reason = f"has {len(cells)} fields where the header has {header.width}"
            audience.errors.append(CsvRowError(start, "row", reason))
            continue
        _read_row(start, cells, header, frozenset(required), audience)


def _read_row(
    line: int, cells: list[str], header: _Header, required: frozenset[str], audience: CsvAudience
) -> None:
    errors: list[CsvRowError] = []
    phone: Phone | None = None
    raw = cells[header.phone].strip()
    if not raw:
        errors.append(CsvRowError(line, PHONE, "is empty"))
    else:
        try:
            phone = normalize_phone(raw)
        except InvalidPhoneNumber as exc:
            errors.append(CsvRowError(line, PHONE, exc.reason))
    departement: str | None = None
    if header.departement is not None and cells[header.departement].strip():
        try:
            departement = normalize_departement(cells[header.departement])
        except InvalidDepartement:
            errors.append(CsvRowError(line, DEPARTEMENT, _DEPARTEMENT_REASON))
    variables: dict[str, str] = {}
    for index, name in header.variables:
        value = cells[index].strip()
        if not value:
            if name in required:
                errors.append(
                    CsvRowError(line, f"variables.{name}", "is empty; the template needs it")
                )
        elif len(value) > MAX_VARIABLE_LENGTH:
            errors.append(
                CsvRowError(line, f"variables.{name}", f"is over {MAX_VARIABLE_LENGTH} characters")
            )
        else:
            variables[name] = value
    if errors or phone is None:
        audience.errors.extend(errors)
        return
    audience.recipients.append(CsvRecipient(line, phone, variables, departement))


def _header(cells: list[str], required: frozenset[str]) -> _Header:
    names = [cell.strip() for cell in cells]
    phone: int | None = None
    departement: int | None = None
    variables: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, name in enumerate(names):
        column = index + 1
        if not name:
            continue  # an unnamed column (a spreadsheet's trailing one) is ignored
        folded = name.casefold()
        if folded in seen:
            raise CsvUnreadable("header", f"column {column} repeats the name of another column")
        seen.add(folded)
        if folded == PHONE:
            phone = index
        elif folded in _DEPARTEMENT_NAMES:
            departement = index
        elif _VARIABLE_NAME.fullmatch(name):
            variables.append((index, name))
        else:
            raise CsvUnreadable(
                "header",
                f"column {column} is not a variable name (a letter or _, then letters, "
                "digits or _, 40 at most)",
            )
    if phone is None:
        raise CsvUnreadable(
            "header", "line 1 has no `phone` column; the first line must name the columns"
        )
    if len(variables) > MAX_VARIABLES:
        raise CsvUnreadable("header", f"more than {MAX_VARIABLES} variable columns")
    missing = sorted(required - {name for _, name in variables})
    if missing:
        raise CsvUnreadable(
            "header",
            "the template uses " + ", ".join(f"{{{name}}}" for name in missing) + " but the "
            "file has no column of that name",
        )
    return _Header(len(cells), phone, departement, tuple(variables))


def _rows(data: bytes) -> int:
    """Data rows in the file, blank ones aside, as the csv module splits it."""
    lines = _decoded_lines(data, set())
    first = next(lines, "")
    reader = csv.reader(_chain(first, lines), delimiter=_delimiter(first), strict=False)
    count = -1  # the header
    try:
        for cells in reader:
            count += any(cell.strip() for cell in cells)
    except csv.Error:
        pass  # the full read reports it on its line
    return count


def _delimiter(first_line: str) -> str:
    """The separator the header uses most (outside quotes it is the only punctuation there)."""
    return max(_DELIMITERS, key=first_line.count)


def _decoded_lines(data: bytes, broken: set[int]) -> Iterator[str]:
    """The file's lines as text, one at a time; lines that are not UTF-8 are noted in `broken`."""
    number = 0
    start = 0
    size = len(data)
    while start < size:
        end = data.find(b"\n", start)
        end = size if end < 0 else end + 1
        raw = data[start:end]
        if number == 0 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            broken.add(number)
            text = raw.decode("utf-8", errors="replace")
        # Line ends become '\n'; a stray '\r' inside a line would end it for the csv module.
        ending = "\n" if text.endswith("\n") else ""
        yield text.rstrip("\r\n").replace("\r", "") + ending
        start = end


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
