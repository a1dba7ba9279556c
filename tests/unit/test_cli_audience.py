"""The command line's audience uploads: a CSV cut into parts within the API's limits, row
numbers of the whole file in every error, progress by bytes and rows, a refused part."""

from __future__ import annotations

import codecs
import io
import json
from typing import IO, Any

import pytest

from cloison_cli.audience import (
    Progress,
    UploadStopped,
    split_csv,
    split_recipients,
    upload,
)
from cloison_cli.client import Answer, Api
from cloison_cli.progress import BarProgress, LineProgress

HEADER = b"phone,first_name\n"


def csv_of(rows: int, start: int = 0) -> bytes:
    return HEADER + b"".join(f"+3361234{5000 + start + i:04d},Lea\n".encode() for i in range(rows))


class AudienceRoute:
    """POST /campaigns/{id}/audience as the API answers it: each line whose phone cell is
    `bad` rejected with its line number in the part; `refuse_part` answers a problem."""

    def __init__(self, refuse_part: int | None = None) -> None:
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []
        self.refuse_part = refuse_part
        self.total = 0

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | IO[bytes] | None
    ) -> Answer:
        data = body if isinstance(body, bytes) else body.read() if body else b""
        assert int(headers["Content-Length"]) == len(data)
        self.bodies.append(data)
        self.content_types.append(headers["Content-Type"])
        if self.refuse_part == len(self.bodies):
            problem = {
                "type": "x/unavailable",
                "title": "Temporarily unavailable",
                "status": 503,
                "detail": "Retry later.",
            }
            return Answer(503, "application/problem+json", json.dumps(problem).encode())
        rejected = []
        accepted = 0
        if headers["Content-Type"] == "text/csv":
            for number, line in enumerate(data.split(b"\n")[1:], start=2):
                if line.startswith(b"bad"):
                    rejected.append({"row": number, "field": "phone", "reason": "is too short"})
                elif line.strip():
                    accepted += 1
        else:
            for number, recipient in enumerate(json.loads(data)["recipients"], start=1):
                if recipient["phone"] == "bad":
                    rejected.append({"row": number, "field": "phone", "reason": "is too short"})
                else:
                    accepted += 1
        self.total += accepted
        answer = {
            "accepted": accepted,
            "rejected": rejected,
            "rejected_count": len(rejected),
            "total_recipients": self.total,
        }
        return Answer(200, "application/json", json.dumps(answer).encode())


def api_with(route: AudienceRoute) -> Api:
    return Api("http://api.test", lambda: "token", route)


def test_a_small_file_is_one_part_with_its_header() -> None:
    # Given a file of 3 data lines
    data = csv_of(3)

    # When it is cut with the default limits
    parts = split_csv(data)

    # Then it is one part: the whole file, lines 2 to 4
    assert len(parts) == 1
    assert parts[0].body == data
    assert (parts[0].first_row, parts[0].last_row, parts[0].rows) == (2, 4, 3)


def test_parts_stay_within_the_row_and_byte_limits_and_each_repeats_the_header() -> None:
    # Given a file of 250 lines
    data = csv_of(250)

    # When it is cut into parts of at most 100 lines, then of at most 1,000 bytes
    by_rows = split_csv(data, part_rows=100)
    by_bytes = split_csv(data, part_bytes=1000)

    # Then every part starts with the header, holds at most the limit, and no line is lost
    assert [part.rows for part in by_rows] == [100, 100, 50]
    assert all(len(part.body) <= 1000 for part in by_bytes)
    for parts in (by_rows, by_bytes):
        assert all(part.body.startswith(HEADER) for part in parts)
        assert b"".join(part.body[len(HEADER) :] for part in parts) == data[len(HEADER) :]
        assert [part.first_row for part in parts[1:]] == [part.last_row + 1 for part in parts[:-1]]


def test_a_cut_never_falls_inside_a_quoted_cell_that_spans_lines() -> None:
    # Given a file whose third record holds a line break inside quotes
    data = HEADER + b'+33612345000,A\n+33612345001,"B\nstill B"\n+33612345002,C\n'

    # When it is cut every 2 lines
    parts = split_csv(data, part_rows=2)

    # Then the quoted record stays whole in one part
    assert [part.body[len(HEADER) :] for part in parts] == [
        b"+33612345000,A\n",
        b'+33612345001,"B\nstill B"\n',
        b"+33612345002,C\n",
    ]


def test_a_bom_is_dropped_crlf_kept_and_blank_lines_not_counted_as_rows() -> None:
    # Given a spreadsheet export: BOM, CRLF line ends, a blank line
    data = codecs.BOM_UTF8 + b"phone;first_name\r\n+33612345000;A\r\n\r\n+33612345001;B\r\n"

    # When it is cut
    (part,) = split_csv(data)

    # Then the header starts the part without its BOM, and two rows are counted over 3 lines
    assert part.body.startswith(b"phone;first_name\r\n")
    assert (part.rows, part.first_row, part.last_row) == (2, 2, 4)


def test_from_line_skips_what_an_interrupted_upload_already_sent() -> None:
    # Given a file of 10 lines
    data = csv_of(10)

    # When it is cut from line 8
    (part,) = split_csv(data, from_line=8)

    # Then the part holds lines 8 to 11 only
    assert (part.first_row, part.last_row, part.rows) == (8, 11, 4)


def test_row_numbers_of_every_part_are_line_numbers_of_the_whole_file() -> None:
    # Given 250 lines where lines 2, 150 and 251 are bad, sent in parts of 100 lines
    lines = [f"+3361234{5000 + i:04d},Lea".encode() for i in range(250)]
    for line in (2, 150, 251):
        lines[line - 2] = b"bad,Lea"
    data = HEADER + b"\n".join(lines) + b"\n"
    route = AudienceRoute()

    # When it is uploaded
    result = upload(api_with(route), "c-1", split_csv(data, part_rows=100))

    # Then three uploads were made and the rejected rows carry the file's line numbers
    assert len(route.bodies) == 3
    assert set(route.content_types) == {"text/csv"}
    assert [row["row"] for row in result.rejected] == [2, 150, 251]
    assert (result.accepted, result.rejected_count, result.total_recipients) == (247, 3, 247)


def test_a_line_named_in_a_reason_is_renumbered_too() -> None:
    # Given the API names a line of the part inside a reason
    def answer(method: str, url: str, headers: dict[str, str], body: Any) -> Answer:
        rejected = [{"row": 2, "field": "row", "reason": "runs to line 3 inside quotes"}]
        document = {"accepted": 0, "rejected": rejected, "rejected_count": 1, "total_recipients": 0}
        return Answer(200, "application/json", json.dumps(document).encode())

    parts = split_csv(csv_of(5), part_rows=2)

    # When the second part comes back with that reason
    result = upload(Api("http://api.test", lambda: "t", answer), "c-1", parts[1:2])

    # Then both the row and the line in the reason are the file's
    assert result.rejected == [{"row": 4, "field": "row", "reason": "runs to line 5 inside quotes"}]


def test_a_refused_part_stops_the_upload_and_says_where_to_go_on() -> None:
    # Given 300 lines sent in parts of 100, the second of which the API refuses
    route = AudienceRoute(refuse_part=2)

    # When it is uploaded
    with pytest.raises(UploadStopped) as stopped:
        upload(api_with(route), "c-1", split_csv(csv_of(300), part_rows=100))

    # Then the first part was kept, nothing after the refusal was sent, and line 102 is next
    assert stopped.value.result.parts_sent == 1
    assert stopped.value.result.accepted == 100
    assert stopped.value.resume_from == 102
    assert stopped.value.error.status == 503
    assert len(route.bodies) == 2


def test_json_recipients_are_sent_in_parts_and_positions_mapped() -> None:
    # Given 12 recipients, the 7th bad, sent 5 at a time
    recipients: list[dict[str, Any]] = [{"phone": f"+3361234{5000 + i:04d}"} for i in range(12)]
    recipients[6]["phone"] = "bad"
    route = AudienceRoute()

    # When they are uploaded
    parts = split_recipients({"recipients": recipients}, part_recipients=5)
    result = upload(api_with(route), "c-1", parts)

    # Then three JSON uploads were made and the bad one is reported as the 7th
    assert [len(json.loads(body)["recipients"]) for body in route.bodies] == [5, 5, 2]
    assert set(route.content_types) == {"application/json"}
    assert result.rejected == [{"row": 7, "field": "phone", "reason": "is too short"}]


def test_a_refused_json_part_names_recipients_by_their_place_in_the_file() -> None:
    # Given the API refuses the second part's third recipient (0-based in the part)
    def refuse(method: str, url: str, headers: dict[str, str], body: Any) -> Answer:
        problem = {
            "title": "The request is invalid",
            "status": 422,
            "detail": "See `errors`.",
            "errors": [{"field": "recipients.2.bad", "reason": "Extra inputs are not permitted"}],
        }
        return Answer(422, "application/problem+json", json.dumps(problem).encode())

    parts = split_recipients([{"phone": "+33612345000"}] * 8, part_recipients=5)

    # When that part is sent
    with pytest.raises(UploadStopped) as stopped:
        upload(Api("http://api.test", lambda: "t", refuse), "c-1", parts[1:])

    # Then the field names the 8th recipient of the file (0-based: 7)
    assert stopped.value.error.errors[0]["field"] == "recipients.7.bad"


def test_a_json_file_without_recipients_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="no recipients"):
        split_recipients({"people": []})


class Recorded(Progress):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def start(self, parts: int, total_bytes: int, total_rows: int) -> None:
        self.events.append(("start", total_bytes))

    def sent(self, count: int) -> None:
        self.events.append(("sent", count))

    def part_done(self, index: int, part: Any, added: int, rejected: int) -> None:
        self.events.append(("part", part.rows))


def test_progress_counts_the_files_bytes_as_they_are_read_and_rows_per_part() -> None:
    # Given a file of 250 lines in parts of 100
    data = csv_of(250)
    parts = split_csv(data, part_rows=100)
    progress = Recorded()

    # When it is uploaded
    upload(api_with(AudienceRoute()), "c-1", parts, progress=progress)

    # Then the bytes reported add up to the file's lines (headers aside) and rows to 250
    sent = sum(count for event, count in progress.events if event == "sent")
    assert progress.events[0] == ("start", len(data) - len(HEADER))
    assert abs(sent - (len(data) - len(HEADER))) <= len(parts)
    assert [count for event, count in progress.events if event == "part"] == [100, 100, 50]


def test_the_bar_shows_bytes_rows_and_parts_and_the_line_report_the_files_lines() -> None:
    # Given both progress displays
    bar_stream, line_stream = io.StringIO(), io.StringIO()
    parts = split_csv(csv_of(250), part_rows=100)

    # When an upload reports to each
    upload(api_with(AudienceRoute()), "c-1", parts, progress=BarProgress(bar_stream))
    upload(api_with(AudienceRoute()), "c-2", parts, progress=LineProgress(line_stream))

    # Then the bar ends full, and the lines name each part's lines of the file
    assert (
        bar_stream.getvalue()
        .rstrip("\n")
        .split("\r\x1b[K")[-1]
        .startswith("Audience  [########################] 100%")
    )
    assert "250/250 rows  part 3/3" in bar_stream.getvalue()
    assert "part 2/3: lines 102-201" in line_stream.getvalue()
    assert "part 3/3: lines 202-251" in line_stream.getvalue()
