"""Audiences sent in parts: a CSV file or a JSON list of recipients cut into uploads that each
stay within what one API request may carry, with row numbers mapped back to the whole file."""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cloison_cli.client import Api, ApiError

# One upload: the API takes up to 100,000 CSV rows and 10 MB, but in AWS Lambda's 6 MB request
# limit applies to the base64-encoded body, about 4.4 MB of CSV. Smaller parts also show
# progress sooner; each part is kept or refused as a whole by the API.
PART_BYTES = 4_000_000
PART_ROWS = 20_000
MAX_PART_ROWS = 100_000
JSON_PART_RECIPIENTS = 5_000  # the API's limit per JSON upload
_LINE = re.compile(r"\bline (\d+)")
_RECIPIENT_FIELD = re.compile(r"^recipients\.(\d+)")


@dataclass(frozen=True)
class Part:
    """One upload: its body, and where its rows come from in the whole file."""

    body: bytes
    first_row: int  # CSV: the file's line number of the part's first line; JSON: 1-based position
    last_row: int
    rows: int
    source_bytes: int  # bytes of the whole file this part carries (the repeated header aside)

    unit: ClassVar[str] = "rows"

    def row_in_file(self, row: int) -> int:
        """A row number the API gave for this part, as a row number of the whole file."""
        raise NotImplementedError


@dataclass(frozen=True)
class CsvPart(Part):
    unit = "lines"

    def row_in_file(self, row: int) -> int:
        # The part repeats the file's header as its line 1.
        return 1 if row <= 1 else self.first_row + row - 2


@dataclass(frozen=True)
class JsonPart(Part):
    unit = "recipients"

    def row_in_file(self, row: int) -> int:
        return self.first_row + row - 1


def split_csv(
    data: bytes, *, part_bytes: int = PART_BYTES, part_rows: int = PART_ROWS, from_line: int = 2
) -> list[CsvPart]:
    """The file cut at line ends into parts of at most `part_bytes` and `part_rows` data lines,
    each led by the file's header. A cut falls between records: never inside a quoted cell that
    spans lines, unless the record alone is over the limits. Lines before `from_line` are
    skipped (to go on after an interrupted upload)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    lines = _lines(data)
    header = next(lines, b"")
    if not header.endswith(b"\n"):
        header += b"\n"
    room = max(part_bytes - len(header), 1)
    parts: list[CsvPart] = []
    chunk: list[bytes] = []
    chunk_bytes = chunk_rows = 0
    chunk_first = 0
    cut_at: tuple[int, int, int] | None = None  # (lines, bytes, rows) of the last clean cut
    quotes = 0
    number = 1

    def close(count: int, size: int, rows: int) -> None:
        nonlocal chunk, chunk_bytes, chunk_rows, chunk_first, cut_at
        kept, chunk = chunk[:count], chunk[count:]
        parts.append(
            CsvPart(header + b"".join(kept), chunk_first, chunk_first + count - 1, rows, size)
        )
        chunk_first += count
        chunk_bytes -= size
        chunk_rows -= rows
        cut_at = None

    for line in lines:
        number += 1
        if number < from_line:
            continue
        if not chunk:
            chunk_first = number
        over = chunk and (chunk_bytes + len(line) > room or chunk_rows + 1 > part_rows)
        if over:
            if cut_at is not None:
                close(*cut_at)
            else:
                close(len(chunk), chunk_bytes, chunk_rows)  # one record over the limits
            if not chunk:
                chunk_first = number
        chunk.append(line)
        chunk_bytes += len(line)
        chunk_rows += 1 if line.strip() else 0
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            cut_at = (len(chunk), chunk_bytes, chunk_rows)
    if chunk:
        close(len(chunk), chunk_bytes, chunk_rows)
    return parts


def _lines(data: bytes) -> Iterator[bytes]:
    """Lines as the API counts them: ended by '\\n' (a '\\r' before it belongs to the line)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        yield data[start:end]
        start = end


def split_recipients(
    document: Any, *, part_bytes: int = PART_BYTES, part_recipients: int = JSON_PART_RECIPIENTS
) -> list[JsonPart]:
    """A JSON audience (`{"recipients": [...]}` or a bare list) as uploads of at most
    `part_recipients` recipients and about `part_bytes` bytes each."""
    recipients = document.get("recipients") if isinstance(document, dict) else document
    if not isinstance(recipients, list) or not recipients:
        raise ValueError('the file holds no recipients: give {"recipients": [...]} or a list')
    parts: list[JsonPart] = []
    batch: list[Any] = []
    size = 0
    first = 1

    def close() -> None:
        nonlocal batch, size, first
        body = json.dumps({"recipients": batch}, ensure_ascii=False).encode("utf-8")
        parts.append(JsonPart(body, first, first + len(batch) - 1, len(batch), len(body)))
        first += len(batch)
        batch, size = [], 0

    for recipient in recipients:
        encoded = len(json.dumps(recipient, ensure_ascii=False).encode("utf-8")) + 2
        if batch and (len(batch) >= part_recipients or size + encoded > part_bytes):
            close()
        batch.append(recipient)
        size += encoded
    close()
    return parts


class Progress:
    """What an upload reports as it goes; the default reports nothing."""

    def start(self, parts: int, total_bytes: int, total_rows: int) -> None: ...

    def sent(self, count: int) -> None:
        """`count` more bytes went out."""

    def part_done(self, index: int, part: Part, added: int, rejected: int) -> None: ...

    def finish(self) -> None: ...


class _Counting(io.RawIOBase):
    """A body that reports each block as the HTTP client reads it."""

    def __init__(self, data: bytes, report: Callable[[int], None]) -> None:
        self._data = memoryview(data)
        self._at = 0
        self._report = report

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), len(self._data) - self._at)
        buffer[:count] = self._data[self._at : self._at + count]
        self._at += count
        if count:
            self._report(count)
        return count


@dataclass
class UploadResult:
    """The audience's outcome over every part sent: rows numbered as in the whole file."""

    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0
    total_recipients: int = 0
    parts: int = 0
    parts_sent: int = 0
    bytes_sent: int = 0

    def document(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_count": self.rejected_count,
            "total_recipients": self.total_recipients,
            "parts": self.parts,
            "parts_sent": self.parts_sent,
        }


class UploadStopped(Exception):
    """A part was refused: the parts before it were kept (each part is all or nothing)."""

    def __init__(self, error: ApiError, result: UploadResult, resume_from: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.result = result
        self.resume_from = resume_from


def upload(
    api: Api,
    campaign_id: str,
    parts: list[CsvPart] | list[JsonPart],
    *,
    progress: Progress | None = None,
) -> UploadResult:
    """Sends the parts in order; raises UploadStopped at the first one the API refuses."""
    progress = progress or Progress()
    result = UploadResult(parts=len(parts))
    progress.start(
        len(parts), sum(part.source_bytes for part in parts), sum(part.rows for part in parts)
    )
    csv = bool(parts) and isinstance(parts[0], CsvPart)
    path = f"/campaigns/{campaign_id}/audience"
    try:
        for index, part in enumerate(parts, start=1):
            # The repeated header is not progress: count the file's own bytes only.
            stream = io.BufferedReader(_Counting(part.body, _reporter(progress, part)))
            try:
                answer = api.call(
                    "POST",
                    path,
                    body=stream,
                    length=len(part.body),
                    content_type="text/csv" if csv else "application/json",
                )
            except ApiError as error:
                raise UploadStopped(_renumbered(error, part), result, part.first_row) from None
            rejected = [
                {**row, "row": part.row_in_file(int(row.get("row", 0)))}
                for row in answer.get("rejected", [])
            ]
            if csv:
                for row in rejected:
                    row["reason"] = _renumbered_lines(str(row.get("reason", "")), part)
            result.accepted += int(answer.get("accepted", 0))
            result.rejected += rejected
            result.rejected_count += int(answer.get("rejected_count", len(rejected)))
            result.total_recipients = int(answer.get("total_recipients", 0))
            result.parts_sent = index
            result.bytes_sent += part.source_bytes
            progress.part_done(
                index, part, int(answer.get("accepted", 0)), int(answer.get("rejected_count", 0))
            )
    finally:
        progress.finish()
    return result


def _reporter(progress: Progress, part: Part) -> Callable[[int], None]:
    """Reports bytes of the file sent: the part's repeated header is not progress."""
    share = part.source_bytes / len(part.body) if part.body else 0.0

    def report(count: int) -> None:
        progress.sent(round(count * share))

    return report


def _renumbered_lines(reason: str, part: Part) -> str:
    """A reason that names a line of the part ("runs to line 7 inside quotes"), for the file."""

    def line(match: re.Match[str]) -> str:
        return f"line {part.row_in_file(int(match.group(1)))}"

    return _LINE.sub(line, reason)


def _renumbered(error: ApiError, part: Part) -> ApiError:
    """A refused JSON part names recipients by their position in the part: name the file's."""
    if not isinstance(part, JsonPart):
        return error

    def position(match: re.Match[str]) -> str:
        return f"recipients.{part.first_row - 1 + int(match.group(1))}"

    error.errors = [
        {**item, "field": _RECIPIENT_FIELD.sub(position, item.get("field", ""))}
        for item in error.errors
    ]
    return error
