"""CSV audiences: rows kept, bad lines reported by number and reason, limits, no number echoed."""

from __future__ import annotations

import codecs
import csv
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.compliance.phone import normalize_phone
from cloison.services.audience_csv import (
    CsvTooLarge,
    CsvUnreadable,
    parse_audience_csv,
)

# Made-up numbers in ranges libphonenumber accepts as French mobiles.
LEA = "+33612345678"
MARC = "06 12 34 56 79"
REUNION = "0692 12 34 56"


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


def errors_of(data: bytes, required: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    return [
        (error.line, error.field) for error in parse_audience_csv(data, required=required).errors
    ]


def test_good_rows_are_read_with_their_line_numbers_and_variables() -> None:
    # Given a header and two rows
    data = csv_bytes(f"phone,first_name,departement\n{LEA},Léa,75\n{MARC},Marc,2a\n")

    # When it is parsed
    audience = parse_audience_csv(data, required=("first_name",))

    # Then both rows are recipients, numbers normalized, département canonical
    assert audience.errors == []
    assert [
        (row.line, row.phone.e164, row.variables, row.departement) for row in audience.recipients
    ] == [
        (2, LEA, {"first_name": "Léa"}, "75"),
        (3, "+33612345679", {"first_name": "Marc"}, "2A"),
    ]


def test_every_bad_line_is_reported_with_its_number_field_and_reason() -> None:
    # Given a file with a good line and one bad line of each kind
    data = b"".join(
        [
            b"phone,first_name,departement\n",
            f"{LEA},L\u00e9a,75\n".encode(),  # 2: good
            b"06 12,Court,75\n",  # 3: bad number
            f"{MARC},,75\n".encode(),  # 4: missing variable
            f"{REUNION},Ana,99\n".encode(),  # 5: unknown departement
            f"{MARC},Marc\n".encode(),  # 6: wrong column count
            b"0612345680,Z\xe9\xe9,75\n",  # 7: broken UTF-8 (Latin-1)
            b"\n",  # 8: blank, skipped
            b"0612345681,Nina,\n",  # 9: good, no departement
        ]
    )

    # When it is parsed
    audience = parse_audience_csv(data, required=("first_name",))

    # Then each bad line is reported once, with the field at fault, and the good ones are kept
    assert [(error.line, error.field) for error in audience.errors] == [
        (3, "phone"),
        (4, "variables.first_name"),
        (5, "departement"),
        (6, "row"),
        (7, "row"),
    ]
    reasons = {error.line: error.reason for error in audience.errors}
    assert "too short" in reasons[3]
    assert "template needs it" in reasons[4]
    assert "not a département code" in reasons[5]
    assert reasons[6] == "has 2 fields where the header has 3"
    assert reasons[7] == "is not valid UTF-8"
    assert [row.line for row in audience.recipients] == [2, 9]


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8], ids=["no-bom", "bom"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_bom_separators_and_line_endings_of_spreadsheets_are_read(
    bom: bytes, delimiter: str, ending: str
) -> None:
    # Given the same file as Excel or LibreOffice may export it
    lines = [["Phone", "first_name"], [LEA, "Léa"], [MARC, "Marc, le grand"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=ending).writerows(lines)

    # When it is parsed
    audience = parse_audience_csv(bom + buffer.getvalue().encode(), required=("first_name",))

    # Then the header is recognised and the quoted separator stays in its cell
    assert audience.errors == []
    assert [row.variables["first_name"] for row in audience.recipients] == ["Léa", "Marc, le grand"]


def test_an_unclosed_quote_is_reported_where_it_starts() -> None:
    # Given a row whose quote never closes: the csv module reads the rest as one field
    data = csv_bytes(f'phone,first_name\n{LEA},"Léa\n{MARC},Marc\n')

    # When it is parsed
    audience = parse_audience_csv(data)

    # Then the line that opened it is reported, with where it ends
    assert [(error.line, error.field) for error in audience.errors] == [(2, "row")]
    assert "runs to line" in audience.errors[0].reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"first_name,code\nLea,1\n", "no `phone` column"),
        (b"phone,first name\n", "column 2 is not a variable name"),
        (b"phone,Phone\n", "column 2 repeats"),
        (b"ph\xf4ne,x\n", "not valid UTF-8"),
        (b"phone,code\n+33612345678,A\n", "{first_name}"),
        (
            ("phone," + ",".join(f"v{index}" for index in range(21)) + "\n").encode(),
            "more than 20",
        ),
    ],
    ids=[
        "empty",
        "no-phone",
        "bad-name",
        "repeated",
        "broken-header",
        "missing-template-column",
        "too-many-variables",
    ],
)
def test_a_file_whose_header_is_unusable_is_refused_whole(data: bytes, reason: str) -> None:
    # When a file with an unusable header is parsed
    with pytest.raises(CsvUnreadable) as refused:
        parse_audience_csv(data, required=("first_name",))

    # Then it is refused as a whole, saying why, without quoting any cell
    assert refused.value.field == "header"
    assert reason in refused.value.reason


def test_a_headerless_file_does_not_echo_its_first_number() -> None:
    # Given a file whose first line is a recipient, not a header
    data = csv_bytes(f"{LEA},Léa\n{MARC},Marc\n")

    # When it is parsed
    with pytest.raises(CsvUnreadable) as refused:
        parse_audience_csv(data)

    # Then the refusal does not quote the number
    assert "612345678" not in str(refused.value)


def test_more_rows_than_allowed_is_too_large() -> None:
    # Given one data row more than the limit (blank lines do not count)
    data = csv_bytes("phone\n" + f"{LEA}\n\n" * 4)

    # When it is parsed with a limit of three rows
    # Then it is too large
    with pytest.raises(CsvTooLarge, match="more than 3 rows"):
        parse_audience_csv(data, max_rows=3)
    assert len(parse_audience_csv(data, max_rows=4).recipients) == 4


def test_more_bytes_than_allowed_is_too_large() -> None:
    with pytest.raises(CsvTooLarge, match="over 1 MB"):
        parse_audience_csv(b"phone\n" + b"0612345678\n" * 100_000, max_bytes=1024 * 1024)


def test_a_variable_longer_than_allowed_is_a_row_error() -> None:
    data = csv_bytes(f"phone,note\n{LEA},{'x' * 201}\n{MARC},ok\n")
    assert errors_of(data) == [(2, "variables.note")]


def test_unnamed_trailing_columns_are_ignored() -> None:
    audience = parse_audience_csv(csv_bytes(f"phone,first_name,,\n{LEA},Léa,,\n"))
    assert audience.errors == []
    assert audience.recipients[0].variables == {"first_name": "Léa"}


# ---------------------------------------------------------------- properties

# Mobile ranges of the French plan: 06 0-2, 06 4-8 and 07 3-9, then seven digits.
FRENCH_MOBILE = st.builds(
    lambda prefix, rest: f"0{prefix}{rest:07d}",
    st.sampled_from(["60", "61", "62", "64", "65", "66", "67", "68", "73", "75", "78"]),
    st.integers(min_value=0, max_value=9_999_999),
)
WRITTEN = FRENCH_MOBILE.flatmap(
    lambda number: st.sampled_from(
        [
            number,
            "+33" + number[1:],
            " ".join(number[index : index + 2] for index in range(0, 10, 2)),
            ".".join(number[index : index + 2] for index in range(0, 10, 2)),
        ]
    )
)
VALUE = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
DEPARTEMENT = st.sampled_from(["", "01", "2A", "2B", "57", "67", "75", "971", "974", "988"])
ROW = st.tuples(WRITTEN, VALUE, VALUE, DEPARTEMENT)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(ROW, min_size=1, max_size=30),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    ending=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_any_file_the_csv_module_writes_from_valid_rows_round_trips(
    rows: list[tuple[str, str, str, str]], delimiter: str, quoting: int, ending: str, bom: bool
) -> None:
    # Given valid rows written by the csv module, in any of its dialects
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=ending)
    writer.writerow(["phone", "first_name", "code", "departement"])
    writer.writerows(rows)
    data = (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode()

    # When the file is parsed
    audience = parse_audience_csv(data, required=("first_name", "code"))

    # Then every row comes back, on its line, as written
    assert audience.errors == []
    assert [
        (row.line, row.phone.e164, row.variables, row.departement or "")
        for row in audience.recipients
    ] == [
        (
            line,
            normalize_phone(phone).e164,
            {"first_name": first_name, "code": code},
            departement,
        )
        for line, (phone, first_name, code, departement) in enumerate(rows, start=2)
    ]


CELL = st.one_of(
    WRITTEN,
    FRENCH_MOBILE.map(lambda number: number[:-3]),  # too short
    FRENCH_MOBILE.map(lambda number: number + "12"),  # too long
    st.text(alphabet="0123456789 +.-()", max_size=20),
    st.text(max_size=12),
)
ANY_ROW = st.lists(CELL, min_size=0, max_size=5)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(ANY_ROW, min_size=1, max_size=20))
def test_a_row_error_never_holds_a_full_number(rows: list[list[str]]) -> None:
    # Given rows of numbers (good, short, long, junk) in any column, some of the wrong width
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["phone", "first_name", "departement"])
    writer.writerows(rows)

    # When the file is parsed
    audience = parse_audience_csv(buffer.getvalue().encode(), required=("first_name",))

    # Then no error shows more than three digits in a row: a number is never echoed
    for error in audience.errors:
        assert not re.search(r"\d{4,}", error.field + " " + error.reason), error.field
