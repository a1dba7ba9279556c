"""What the command line prints: numbers masked as the API masks them, text from recipients
neutralised, tables and JSON."""

from __future__ import annotations

import json

import pytest

from cloison.compliance.masking import mask_phone as api_mask_phone
from cloison.services.audit import scrub as api_scrub
from cloison_cli.client import Answer, ApiError
from cloison_cli.render import problem, row_errors
from cloison_cli.text import free_text, mask_phone, printable, safe, scrub, table, to_json

TEXTS = [
    "+33612345678 is too short",
    "call 06 12 34 56 78 or 06.12.34.56.79",
    "(0690) 00-12-34 then +590 690 00 12 34",
    "order 12345, room 7",
    "06,12,34,56,78 or 06_12_34_56_79 or 06\u00b712\u00b734\u00b756\u00b777",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_numbers_are_masked_exactly_as_the_api_masks_them(text: str) -> None:
    assert scrub(text) == api_scrub(text)


@pytest.mark.parametrize("number", ["+33612345678", "06 12 34 56 78", "0612", "12"])
def test_a_number_keeps_its_last_two_digits_only(number: str) -> None:
    assert mask_phone(number) == api_mask_phone(number)


def test_free_text_masks_but_a_cell_keeps_ids_and_times_whole() -> None:
    assert free_text("no consent for +33612345678") == "no consent for ***78"
    assert safe("c-1234567890abcdef") == "c-1234567890abcdef"
    assert safe("2026-12-01T09:00:00Z") == "2026-12-01T09:00:00Z"


def test_control_format_and_bidirectional_characters_are_shown_as_escapes() -> None:
    text = "a\x1b[31mb\x07c\u202ed\u2066e\x9bf\tg"
    assert printable(text) == "a\\x1b[31mb\\x07c\\u202ed\\u2066e\\x9bf\\tg"
    assert printable("line 1\nline 2", newlines=True) == "line 1\nline 2"
    assert printable("line 1\nline 2") == "line 1\\nline 2"


def test_json_output_stays_readable_and_escapes_what_could_drive_a_terminal() -> None:
    document = {"body": "Léa \x1b[2J \u202e \x9b"}
    text = to_json(document)
    assert "Léa" in text
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\x9b" not in text
    assert json.loads(text) == document


def test_a_table_pads_columns_and_shows_none_as_a_dash() -> None:
    assert table(["id", "review"], [["r-1", None], ["r-22", "pending"]]).splitlines() == [
        "ID    REVIEW",
        "r-1   -",
        "r-22  pending",
    ]


def test_rejected_rows_are_summarised_by_reason_then_listed() -> None:
    rejected = [
        {"row": 4, "field": "phone", "reason": "is too short"},
        {"row": 9, "field": "phone", "reason": "is too short"},
        {"row": 12, "field": "departement", "reason": "is not a département code"},
    ]
    text = row_errors(rejected, 5, csv=True)
    assert "       2  phone: is too short" in text
    assert "       2  not listed by the API" in text
    assert "(the header is line 1)" in text
    assert text.splitlines()[-3].split()[:2] == ["4", "phone"]


def test_a_problem_from_the_api_is_read_whole() -> None:
    body = {
        "type": "https://cloison.dev/problems/too-large",
        "title": "Too large",
        "status": 413,
        "detail": "the file has more than 100,000 rows; nothing was kept.",
    }
    error = ApiError.from_answer(Answer(413, "application/problem+json", json.dumps(body).encode()))
    assert problem(error).splitlines() == [
        "error: 413 Too large",
        "  the file has more than 100,000 rows; nothing was kept.",
        "  (https://cloison.dev/problems/too-large)",
    ]


def test_an_answer_that_is_not_json_still_makes_an_error() -> None:
    error = ApiError.from_answer(Answer(502, "text/html", b"<html>Bad gateway</html>"))
    assert str(error) == "502 <html>Bad gateway</html>"
