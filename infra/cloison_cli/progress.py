"""Progress of an audience upload: a bar redrawn in place on a terminal, a line per part
otherwise (logs and pipes keep a readable record)."""

from __future__ import annotations

import time
from typing import TextIO

from cloison_cli.audience import Part, Progress
from cloison_cli.text import size

BAR_WIDTH = 24
_REDRAW_SECONDS = 0.1


class BarProgress(Progress):
    """`Audience  [#########-------]  40%  1.6 MB/4.0 MB  8,000/20,000 rows  part 1/3`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.parts = self.total_bytes = self.total_rows = 0
        self.sent_bytes = self.done_rows = self.part = 0
        self._drawn_at = 0.0

    def start(self, parts: int, total_bytes: int, total_rows: int) -> None:
        self.parts, self.total_bytes, self.total_rows = parts, total_bytes, total_rows
        self.part = 1
        self._draw(force=True)

    def sent(self, count: int) -> None:
        self.sent_bytes = min(self.sent_bytes + count, self.total_bytes)
        self._draw()

    def part_done(self, index: int, part: Part, added: int, rejected: int) -> None:
        self.done_rows += part.rows
        self.part = min(index + 1, self.parts)
        self._draw(force=True)

    def finish(self) -> None:
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def line(self) -> str:
        share = self.sent_bytes / self.total_bytes if self.total_bytes else 1.0
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return (
            f"Audience  [{bar}] {share:4.0%}  {size(self.sent_bytes)}/{size(self.total_bytes)}"
            f"  {self.done_rows:,}/{self.total_rows:,} rows  part {self.part}/{self.parts}"
        )

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn_at < _REDRAW_SECONDS:
            return
        self._drawn_at = now
        self.stream.write("\r\x1b[K" + self.line())
        self.stream.flush()


class LineProgress(Progress):
    """One line per part, for logs: `part 2/3: lines 20002-40001 (1.3 MB), 19,998 added, 2 rejected`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.parts = 0

    def start(self, parts: int, total_bytes: int, total_rows: int) -> None:
        self.parts = parts
        self.stream.write(
            f"Audience: {total_rows:,} rows, {size(total_bytes)}, in {parts} part(s)\n"
        )
        self.stream.flush()

    def part_done(self, index: int, part: Part, added: int, rejected: int) -> None:
        self.stream.write(
            f"  part {index}/{self.parts}: {part.unit} {part.first_row}-{part.last_row} "
            f"({size(part.source_bytes)}), {added:,} added, {rejected:,} rejected\n"
        )
        self.stream.flush()
