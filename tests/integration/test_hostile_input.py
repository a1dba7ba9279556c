"""Hand-written hostile input: oversized bodies and files, wrong types, broken JSON and UTF-8,
injection strings in templates and variables, Unicode tricks in numbers and texts. Each gets an
answer (a 4xx problem document naming the field, or the input kept as plain data), never a 5xx
nor a half-written record. Numbers are phonenumbers' example numbers; no assertion message
carries a number or a response body."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
import pytest
import requests
from local_api import api, problem_of, upload

from cloison.services.audience_csv import MAX_ROWS
from cloison_local.stack import LocalStack

JSON = "application/json"

_EXAMPLE = phonenumbers.example_number_for_type("FR", phonenumbers.PhoneNumberType.MOBILE)
E164 = phonenumbers.format_number(_EXAMPLE, phonenumbers.PhoneNumberFormat.E164)
NATIONAL = phonenumbers.format_number(_EXAMPLE, phonenumbers.PhoneNumberFormat.NATIONAL)
NATIONAL_DIGITS = NATIONAL.replace(" ", "")


# The largest bodies take a while to be refused.
PATIENCE = 120


def call(stack: LocalStack, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return api(stack, token, method, path, timeout=PATIENCE, **kwargs)


def send_json(
    stack: LocalStack, token: str, method: str, path: str, document: Any
) -> requests.Response:
    """`document` as JSON text, escapes kept as written: `\\ud800` arrives as a lone surrogate."""
    raw = document if isinstance(document, str) else json.dumps(document)
    return send_bytes(stack, token, method, path, raw.encode("utf-8"))


def send_bytes(
    stack: LocalStack, token: str, method: str, path: str, raw: bytes
) -> requests.Response:
    """`raw` sent byte for byte, labelled as JSON."""
    return call(stack, token, method, path, data=raw, headers={"Content-Type": JSON})


def send_recipients(
    stack: LocalStack, token: str, campaign_id: str, recipients: list[dict[str, Any]]
) -> requests.Response:
    """`recipients` sent as the campaign's audience, as `send_json` sends it."""
    path = f"/campaigns/{campaign_id}/audience"
    return send_json(stack, token, "POST", path, {"recipients": recipients})


def fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors") or []]


def campaign(body: str = "Bonjour {first_name}", **changes: Any) -> dict[str, Any]:
    return {
        "team": "sales",
        "name": "Essai",
        "sender": "promo",
        "kind": "transactional",
        "body": body,
        **changes,
    }


def new_campaign(stack: LocalStack, token: str, body: str = "Bonjour {first_name}") -> str:
    response = send_json(stack, token, "POST", "/campaigns", campaign(body))
    assert response.status_code == 201
    return str(response.json()["id"])


def recipients(stack: LocalStack, token: str, campaign_id: str) -> int:
    return int(call(stack, token, "GET", f"/campaigns/{campaign_id}").json()["recipients"])


# ---------------------------------------------------------------- sizes
def test_an_oversized_template_is_refused_naming_body(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    response = send_json(stack, tokens["alice"], "POST", "/campaigns", campaign("x" * 1601))
    assert fields(problem_of(response, 422)) == ["body"]


def test_a_megabyte_of_json_is_refused_without_being_kept(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    response = send_json(stack, tokens["alice"], "POST", "/campaigns", campaign("x" * 2**20))
    assert fields(problem_of(response, 422)) == ["body"]


def test_too_many_json_recipients_are_refused_whole(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"])
    rows = [{"phone": E164, "variables": {"first_name": "Léa"}}] * 5001
    response = send_recipients(stack, tokens["alice"], campaign_id, rows)
    assert fields(problem_of(response, 422)) == ["recipients"]
    assert recipients(stack, tokens["alice"], campaign_id) == 0


def test_a_csv_over_the_row_limit_is_a_413_and_nothing_is_kept(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"], body="Bonjour")
    data = b"phone\n" + (NATIONAL_DIGITS.encode() + b"\n") * (MAX_ROWS + 1)
    response = upload(stack, tokens["alice"], campaign_id, data, timeout=PATIENCE)
    assert problem_of(response, 413)["type"].endswith("/too-large")
    assert recipients(stack, tokens["alice"], campaign_id) == 0


def test_a_csv_line_of_a_megabyte_is_a_row_error(stack: LocalStack, tokens: dict[str, str]) -> None:
    campaign_id = new_campaign(stack, tokens["alice"])
    data = f"phone,first_name\n{NATIONAL},{'x' * 2**20}\n{NATIONAL},Léa\n".encode()
    response = upload(stack, tokens["alice"], campaign_id, data, timeout=PATIENCE)
    assert response.status_code == 200
    result = response.json()
    assert (result["accepted"], [error["row"] for error in result["rejected"]]) == (1, [2])


# ---------------------------------------------------------------- types and encodings
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "text/csv",
    ],
)
def test_a_json_route_refuses_other_types_with_a_415(
    stack: LocalStack, tokens: dict[str, str], content_type: str
) -> None:
    response = call(
        stack,
        tokens["alice"],
        "POST",
        "/campaigns",
        data=json.dumps(campaign()).encode(),
        headers={"Content-Type": content_type},
    )
    problem = problem_of(response, 415)
    assert problem["accepted"] == [JSON]


def test_an_empty_form_cannot_launch_a_campaign(stack: LocalStack, tokens: dict[str, str]) -> None:
    # The resolver alone would read an empty form body as a valid, empty launch request.
    campaign_id = new_campaign(stack, tokens["alice"])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = call(
        stack, tokens["alice"], "POST", f"/campaigns/{campaign_id}/launch", headers=form
    )
    problem_of(response, 415)


def test_the_audience_route_refuses_other_types_naming_both(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"])
    response = upload(
        stack, tokens["alice"], campaign_id, b"<recipients/>", "application/xml", timeout=PATIENCE
    )
    assert problem_of(response, 415)["accepted"] == [JSON, "text/csv"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"team": "sales",',
        b'{"team": "sales",}',
        b"{'team': 'sales'}",
        b'{"team": NaN}',
        b"\x00",
        b"\xef\xbb\xbf{}",
        b"[" * 10_000,
    ],
    ids=["truncated", "trailing-comma", "single-quotes", "nan", "nul", "bom", "deep-nesting"],
)
def test_broken_json_is_a_400_or_a_422_never_a_500(
    stack: LocalStack, tokens: dict[str, str], raw: bytes
) -> None:
    response = send_bytes(stack, tokens["alice"], "POST", "/campaigns", raw)
    assert response.status_code in (400, 422), f"answered {response.status_code}"
    problem_of(response, response.status_code)


@pytest.mark.parametrize(
    "path", ["/campaigns", "/consents", "/campaigns/{campaign}/audience", "/privacy/requests"]
)
def test_json_that_is_not_utf8_is_a_400(
    stack: LocalStack, tokens: dict[str, str], path: str
) -> None:
    user = "priya" if path.startswith("/privacy") else "alice"
    path = path.format(campaign=new_campaign(stack, tokens["alice"]))
    response = send_bytes(
        stack, tokens[user], "POST", path, b'{"team": "sales", "name": "\xff\xfe\xc3"}'
    )
    assert problem_of(response, 400)["type"].endswith("/malformed-json")


def test_bytes_with_nuls_that_are_not_utf8_are_a_400(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Found by the stateful run: with NULs among them, the standard library's JSON parser takes
    # bytes for UTF-16 and reports no decoding error of its own
    campaign = new_campaign(stack, tokens["alice"])
    launch = f"/campaigns/{campaign}/launch"
    response = send_bytes(stack, tokens["alice"], "POST", launch, b"\xa5\x00}{=\x08\xe1B<\x07{\xfe")
    assert problem_of(response, 400)["type"].endswith("/malformed-json")


def test_csv_lines_that_are_not_utf8_are_row_errors(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"])
    # The first line is Latin-1, the second UTF-8.
    data = (
        b"phone,first_name\n"
        + f"{NATIONAL},L\u00e9a\n".encode("latin-1")
        + f"{NATIONAL},L\u00e9a\n".encode()
    )
    response = upload(stack, tokens["alice"], campaign_id, data, timeout=PATIENCE)
    assert response.status_code == 200
    result = response.json()
    assert result["accepted"] == 1
    assert [(error["row"], error["reason"]) for error in result["rejected"]] == [
        (2, "is not valid UTF-8")
    ]


# ---------------------------------------------------------------- injection
INJECTIONS = [
    "{{first_name}}",
    "${first_name}",
    "#{first_name}",
    "{0.__class__}",
    "{first_name.__class__.__mro__}",
    "{first_name!r}",
    "{first_name:>100000}",
    "%s%s%s%n",
    "'; DROP TABLE campaigns; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}} ${7*7} <%= 7*7 %>",
]


@pytest.mark.parametrize("template", INJECTIONS)
def test_a_template_is_data_not_code(
    stack: LocalStack, tokens: dict[str, str], template: str
) -> None:
    # When a template carries an injection attempt
    response = send_json(
        stack, tokens["alice"], "POST", "/campaigns", campaign(f"Bonjour {template}")
    )
    # Then it is kept as written, or refused naming `body`
    if response.status_code != 201:
        assert fields(problem_of(response, 422)) == ["body"]
        return
    created = response.json()
    assert created["body"] == f"Bonjour {template}"
    # And an audience and a preview treat it as text: no attribute, format spec or code runs
    campaign_id = created["id"]
    added = send_recipients(
        stack, tokens["alice"], campaign_id, [{"phone": E164, "variables": {"first_name": "Léa"}}]
    )
    assert added.status_code == 200
    preview = call(stack, tokens["alice"], "GET", f"/campaigns/{campaign_id}/preview")
    assert preview.status_code == 200
    text = preview.json()["text"]
    assert "<class" not in text
    assert "49" not in text
    assert len(text) < 2000


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_variable_value_is_data_not_code(
    stack: LocalStack, tokens: dict[str, str], value: str
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"])
    added = send_recipients(
        stack, tokens["alice"], campaign_id, [{"phone": E164, "variables": {"first_name": value}}]
    )
    assert added.status_code == 200
    assert added.json()["accepted"] == 1
    preview = call(stack, tokens["alice"], "GET", f"/campaigns/{campaign_id}/preview")
    assert preview.status_code == 200
    assert preview.json()["text"].startswith(f"Bonjour {value}")


@pytest.mark.parametrize("name", ["__class__", "0", "first_name}", "a" * 41, "é", "x-y"])
def test_a_variable_name_outside_the_pattern_is_a_422(
    stack: LocalStack, tokens: dict[str, str], name: str
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"], body="Bonjour")
    response = send_recipients(
        stack, tokens["alice"], campaign_id, [{"phone": E164, "variables": {name: "x"}}]
    )
    if name == "__class__":  # a valid name: kept as data
        assert response.status_code == 200
        return
    problem_of(response, 422)
    assert recipients(stack, tokens["alice"], campaign_id) == 0


# ---------------------------------------------------------------- Unicode in numbers
FULL_WIDTH = str.maketrans({**{str(d): chr(0xFF10 + d) for d in range(10)}, "+": "\uff0b"})
ARABIC_INDIC = str.maketrans({str(d): chr(0x0660 + d) for d in range(10)})
NUMBERS = {
    "full-width digits": NATIONAL_DIGITS.translate(FULL_WIDTH),
    "full-width plus": E164.translate(FULL_WIDTH),
    "arabic-indic digits": NATIONAL_DIGITS.translate(ARABIC_INDIC),
    "rtl mark": "\u200f" + E164,
    "ltr override": "\u202d" + E164 + "\u202c",
    "zero-width space": E164[:4] + "\u200b" + E164[4:],
    "zero-width joiner": E164[:4] + "\u200d" + E164[4:],
    "combining acute": E164[:4] + "\u0301" + E164[4:],
    "nul": E164[:4] + "\x00" + E164[4:],
    "superscript digits": "⁰⁶" + NATIONAL_DIGITS[2:],
    "escaped lone surrogate": E164[:4] + "\\ud800" + E164[4:],
}


@pytest.mark.parametrize("written", list(NUMBERS.values()), ids=list(NUMBERS))
def test_a_number_with_unicode_tricks_is_understood_or_refused_by_row(
    stack: LocalStack, tokens: dict[str, str], written: str
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"], body="Bonjour")
    body = '{"recipients": [{"phone": "' + written.replace("\x00", "\\u0000") + '"}]}'
    response = send_json(stack, tokens["alice"], "POST", f"/campaigns/{campaign_id}/audience", body)
    if response.status_code == 422:  # not a string at all (a lone surrogate)
        assert fields(problem_of(response, 422)) == ["recipients.0.phone"]
        return
    assert response.status_code == 200
    result = response.json()
    assert result["accepted"] + result["rejected_count"] == 1
    if result["rejected_count"]:
        assert result["rejected"][0]["field"].split(" ")[0] == "phone"
    assert E164 not in response.text
    assert NATIONAL_DIGITS not in response.text


@pytest.mark.parametrize("written", list(NUMBERS.values()), ids=list(NUMBERS))
def test_a_consent_for_a_number_with_unicode_tricks_names_phone_or_masks_it(
    stack: LocalStack, tokens: dict[str, str], written: str
) -> None:
    phone = written.replace("\x00", "\\u0000")
    body = '{"team": "sales", "phone": "' + phone + '", "source": "web", "proof": "oui"}'
    response = send_json(stack, tokens["alice"], "POST", "/consents", body)
    if response.status_code == 201:
        assert E164 not in response.text, "the receipt shows the number unmasked"
        return
    assert fields(problem_of(response, 422)) == ["phone"]
    assert E164 not in response.text
    assert NATIONAL_DIGITS not in response.text


def test_unicode_digits_in_a_departement_are_refused(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign_id = new_campaign(stack, tokens["alice"], body="Bonjour")
    response = send_recipients(
        stack, tokens["alice"], campaign_id, [{"phone": E164, "departement": "\u0667\u0665"}]
    )
    assert fields(problem_of(response, 422)) == ["recipients.0.departement"]


@pytest.mark.parametrize("limit", ["\uff11", "\u0665", "1\u200b", "5\u0301", "0x10", "1e2", "-0"])
def test_unicode_digits_in_a_query_number_are_refused(
    stack: LocalStack, tokens: dict[str, str], limit: str
) -> None:
    response = call(stack, tokens["aurele"], "GET", "/audit", params={"limit": limit})
    assert fields(problem_of(response, 422)) == ["limit"]


@pytest.mark.parametrize(
    "instant",
    [
        "1700000000",
        "0.5",
        "\uff12\uff10\uff12\uff16-01-01T00:00:00Z",
        "2026-01-01",
        # without its offset: read in the function's own zone, it would mean another instant
        "2026-01-01T10:00:00",
    ],
)
def test_an_instant_must_be_written_as_a_date_and_time(
    stack: LocalStack, tokens: dict[str, str], instant: str
) -> None:
    response = call(stack, tokens["aurele"], "GET", "/audit", params={"since": instant})
    assert fields(problem_of(response, 422)) == ["since"]


# ---------------------------------------------------------------- Unicode in texts
TEXTS = {
    "emoji": "Soldes 🎉👍🏽👨‍👩‍👧",
    "nul": "Sol\\u0000des",
    "lone combining mark": "\u0301",
    "escaped lone high surrogate": "Sol\\ud800des",
    "escaped lone low surrogate": "\\udc00",
    "escaped surrogate pair": "\\ud83c\\udf89",
    "bidi override": "\u202eSoldes",
    "only spaces": "   ",
    "only zero-width": "\u200b\u200b",
}


@pytest.mark.parametrize("field", ["name", "body"])
@pytest.mark.parametrize("text", list(TEXTS.values()), ids=list(TEXTS))
def test_a_text_with_unicode_tricks_is_kept_or_refused_naming_it(
    stack: LocalStack, tokens: dict[str, str], field: str, text: str
) -> None:
    document = json.dumps(campaign()).replace('"Bonjour {first_name}"', '"BODY"')
    document = document.replace('"Essai"', '"NAME"')
    placeholder = "NAME" if field == "name" else "BODY"
    other = "BODY" if field == "name" else "NAME"
    document = document.replace(placeholder, text).replace(other, "Essai")
    response = send_json(stack, tokens["alice"], "POST", "/campaigns", document)
    if response.status_code == 201:
        created = response.json()
        assert created[field] == json.loads(f'"{text}"').strip()
        preview = call(stack, tokens["alice"], "GET", f"/campaigns/{created['id']}/preview")
        assert preview.status_code in (200, 422), f"preview answered {preview.status_code}"
        if preview.status_code == 422:
            problem_of(preview, 422)
        return
    assert fields(problem_of(response, 422)) == [field]
