"""One hierarchy of errors, which the HTTP layer maps once: an error the rules or the parsers
raise is already the application's error for it, with its field, never translated by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloison.compliance.errors import ComplianceError, InvalidMessage, InvalidPhoneNumber
from cloison.compliance.phone import normalize_phone
from cloison.errors import RuleViolation, TooLarge
from cloison.services.audience_csv import CsvTooLarge, CsvUnreadable, parse_audience_csv

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
# `raise RuleViolation(exc.field, exc.reason)`: a copy of an error into the same error.
TRANSLATION = re.compile(r"raise (RuleViolation|TooLarge)\((exc\.field, exc\.reason|str\(exc\))\)")


@pytest.mark.parametrize("error", [ComplianceError, InvalidPhoneNumber, InvalidMessage])
def test_a_compliance_error_is_a_rule_violation_and_a_value_error(error: type) -> None:
    # A rule violation for the HTTP layer (a 422 naming the field), a ValueError for pydantic.
    assert issubclass(error, RuleViolation)
    assert issubclass(error, ValueError)


def test_a_refused_number_names_its_field_as_the_api_answers_it() -> None:
    with pytest.raises(RuleViolation) as refused:
        normalize_phone("06 12")
    assert refused.value.field == "phone"


def test_an_unreadable_or_oversized_file_is_the_application_s_error_for_it() -> None:
    assert issubclass(CsvUnreadable, RuleViolation)
    assert issubclass(CsvTooLarge, TooLarge)
    with pytest.raises(RuleViolation) as unreadable:
        parse_audience_csv(b"first_name\nLea\n", required=())
    assert unreadable.value.field


def test_no_service_copies_an_error_into_the_same_error() -> None:
    copies = [
        f"{path.relative_to(FUNCTIONS)}:{number}"
        for path in FUNCTIONS.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if TRANSLATION.search(line)
    ]
    assert copies == []
