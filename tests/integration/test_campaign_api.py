"""Campaign API through the local stack: CSV audiences, lifecycle, preview, consent withdrawal."""

from __future__ import annotations

import codecs
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from local_api import (
    PROBLEM,
    add_recipients,
    api,
    consent,
    new_campaign,
    problem_of,
    upload,
    wait_until,
)

from cloison_local.stack import LocalStack

CSV = "text/csv; charset=utf-8"


def status_of(stack: LocalStack, token: str, campaign: str) -> str:
    return str(api(stack, token, "GET", f"/campaigns/{campaign}").json()["status"])


def sent_to(stack: LocalStack, campaign: str) -> Counter[str]:
    assert stack.carrier is not None
    return Counter(
        message.destination
        for message in stack.carrier.sent_messages()
        if message.context.get("campaign") == campaign
    )


# ---------------------------------------------------------------- CSV audiences


def test_a_csv_audience_keeps_the_good_rows_and_reports_each_bad_line(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a CSV of 3,000 rows (BOM, CRLF) with bad lines of each kind at known line numbers
    campaign = new_campaign(stack, tokens["alice"])
    lines = [b"phone,first_name,departement"]
    expected: list[tuple[int, str]] = []
    for index in range(3000):
        line = index + 2
        number = f"+3375{index:07d}"
        if index % 500 == 7:
            lines.append(b"07 5,Court,75")
            expected.append((line, "phone"))
        elif index % 500 == 250:
            lines.append(f"{number},,75".encode())
            expected.append((line, "variables.first_name"))
        elif index % 1000 == 999:
            lines.append(f"{number},Zo\u00e9".encode())
            expected.append((line, "row"))
        elif index == 1234:
            lines.append(f"{number},Ana,99".encode())
            expected.append((line, "departement"))
        elif index == 2345:
            lines.append(number.encode() + b",L\xe9a,75")  # Latin-1, not UTF-8
            expected.append((line, "row"))
        else:
            lines.append(f"{number},Client {index},75".encode())
    data = codecs.BOM_UTF8 + b"\r\n".join(lines) + b"\r\n"

    # When it is uploaded as text/csv
    response = upload(stack, tokens["alice"], campaign, data, CSV)

    # Then the good rows are one upload, and each bad line comes back with its number and field
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert [(error["row"], error["field"]) for error in body["rejected"]] == expected
    assert body["rejected_count"] == len(expected)
    assert body["accepted"] == 3000 - len(expected)
    assert body["total_recipients"] == 3000 - len(expected)
    assert "+3375" not in response.text
    campaign_now = api(stack, tokens["alice"], "GET", f"/campaigns/{campaign}").json()
    assert campaign_now["recipients"] == 3000 - len(expected)


def test_a_csv_of_more_than_100000_rows_is_a_413_and_nothing_is_kept(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a CSV of 100,001 rows
    campaign = new_campaign(stack, tokens["alice"], body="Bonjour")
    data = b"phone\n" + b"+33751000001\n" * 100_001

    # When it is uploaded
    response = upload(stack, tokens["alice"], campaign, data, CSV)

    # Then it is refused whole, as a problem document, and the campaign has no recipient
    assert problem_of(response, 413)["type"].endswith("/too-large")
    assert api(stack, tokens["alice"], "GET", f"/campaigns/{campaign}").json()["recipients"] == 0


def test_a_body_over_10_mb_is_refused_by_the_gateway(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign = new_campaign(stack, tokens["alice"], body="Bonjour")
    data = b"phone\n" + b"0" * (10 * 1024 * 1024)
    response = upload(stack, tokens["alice"], campaign, data, CSV)
    assert response.status_code == 413
    assert api(stack, tokens["alice"], "GET", f"/campaigns/{campaign}").json()["recipients"] == 0


def test_a_csv_without_a_phone_column_is_a_422_naming_the_header(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign = new_campaign(stack, tokens["alice"])
    response = upload(stack, tokens["alice"], campaign, "+33751000001,Léa\n".encode(), CSV)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["header"]
    assert "751000001" not in response.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/campaigns/{id}/audience", "text/plain"), ("/campaigns", "application/xml")],
    ids=["audience", "create"],
)
def test_another_content_type_is_a_415_problem(
    stack: LocalStack, tokens: dict[str, str], path: str, content_type: str
) -> None:
    campaign = new_campaign(stack, tokens["alice"])
    response = api(
        stack,
        tokens["alice"],
        "POST",
        path.format(id=campaign),
        data=b"phone\n+33751000001\n",
        headers={"Content-Type": content_type},
    )
    assert problem_of(response, 415)["type"].endswith("/unsupported-media-type")


def test_the_json_audience_still_works_and_refuses_more_than_5000(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    campaign = new_campaign(stack, tokens["alice"])
    path = f"/campaigns/{campaign}/audience"
    ok = api(
        stack,
        tokens["alice"],
        "POST",
        path,
        json={"recipients": [{"phone": "+33751000002", "variables": {"first_name": "Léa"}}]},
    )
    too_many = api(
        stack,
        tokens["alice"],
        "POST",
        path,
        json={"recipients": [{"phone": "+33751000002"}] * 5001},
    )
    broken = api(
        stack,
        tokens["alice"],
        "POST",
        path,
        data=b'{"recipients": [',
        headers={"Content-Type": "application/json"},
    )
    assert ok.status_code == 200
    assert ok.json()["accepted"] == 1
    assert too_many.status_code == 422
    assert [error["field"] for error in too_many.json()["errors"]] == ["recipients"]
    assert broken.status_code == 400


# ---------------------------------------------------------------- lifecycle


def test_a_draft_can_only_be_edited_launched_or_cancelled(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    campaign = new_campaign(stack, alice)
    path = f"/campaigns/{campaign}"

    # A draft is neither paused nor resumed
    assert api(stack, alice, "POST", f"{path}/pause").status_code == 409
    resumed = problem_of(api(stack, alice, "POST", f"{path}/resume"), 409)
    assert resumed["campaign_status"] == "draft"
    assert resumed["allowed_from"] == ["paused"]

    # It is cancelled; then it cannot be launched, edited, cancelled again or resumed
    cancelled = api(stack, alice, "POST", f"{path}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    answers = [
        api(stack, alice, "POST", f"{path}/launch", json={}).status_code,
        add_recipients(
            stack, alice, campaign, [{"phone": "+33751000003", "variables": {"first_name": "A"}}]
        ).status_code,
        api(stack, alice, "POST", f"{path}/cancel").status_code,
        api(stack, alice, "POST", f"{path}/resume").status_code,
    ]
    assert answers == [409, 409, 409, 409]
    # Another team does not see it at all
    assert api(stack, tokens["bruno"], "POST", f"{path}/cancel").status_code == 404


def launch_schedule(stack: LocalStack, name: str) -> dict[str, Any] | None:
    """The schedule `name` in the stack's group of launch schedules, None if there is none."""
    group = stack.outputs["LaunchScheduleGroupName"]
    try:
        return dict(stack.client("scheduler").get_schedule(Name=name, GroupName=group))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return None


def _with_one_recipient(stack: LocalStack, token: str) -> tuple[str, str]:
    """A draft with one recipient: its id, and its path in the API."""
    campaign = new_campaign(stack, token)
    recipient = {"phone": "+33751000004", "variables": {"first_name": "Léa"}}
    assert add_recipients(stack, token, campaign, [recipient]).json()["accepted"] == 1
    return campaign, f"/campaigns/{campaign}"


def test_a_scheduled_campaign_is_frozen_and_its_schedule_goes_with_a_cancel(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    at = (stack.now() + timedelta(days=2)).isoformat()
    campaign, path = _with_one_recipient(stack, alice)

    # Given a campaign scheduled in two days
    scheduled = api(stack, alice, "POST", f"{path}/launch", json={"at": at})
    assert scheduled.status_code == 202
    assert scheduled.json()["status"] == "scheduled"
    assert launch_schedule(stack, f"launch-{campaign}")

    # Then it cannot be edited, launched again, paused or resumed
    answers = [
        add_recipients(
            stack, alice, campaign, [{"phone": "+33751000005", "variables": {"first_name": "A"}}]
        ).status_code,
        api(stack, alice, "POST", f"{path}/launch", json={}).status_code,
        api(stack, alice, "POST", f"{path}/pause").status_code,
        api(stack, alice, "POST", f"{path}/resume").status_code,
    ]
    assert answers == [409, 409, 409, 409]

    # When it is cancelled, its one-time schedule is deleted
    assert api(stack, alice, "POST", f"{path}/cancel").json()["status"] == "cancelled"
    assert launch_schedule(stack, f"launch-{campaign}") is None


def test_a_recurring_launch_creates_a_schedule_in_its_time_zone(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    campaign, path = _with_one_recipient(stack, alice)

    # Malformed expressions and zones are refused, naming the field
    bad = [
        api(stack, alice, "POST", f"{path}/launch", json={"schedule": "cron(0 10 * * MON)"}),
        api(
            stack,
            alice,
            "POST",
            f"{path}/launch",
            json={"schedule": "rate(1 day)", "timezone": "Europe/Pariss"},
        ),
    ]
    assert [response.status_code for response in bad] == [422, 422]
    assert [response.json()["errors"][0]["field"] for response in bad] == ["schedule", "timezone"]

    # A weekly schedule in Paris time
    launched = api(
        stack,
        alice,
        "POST",
        f"{path}/launch",
        json={"schedule": "cron(0 10 ? * MON *)", "timezone": "Europe/Paris"},
    )
    assert launched.status_code == 202
    assert launched.json()["status"] == "scheduled"
    assert launched.json()["schedule"] == "cron(0 10 ? * MON *)"
    schedule = launch_schedule(stack, f"recurring-{campaign}")
    assert schedule is not None
    assert schedule["ScheduleExpression"] == "cron(0 10 ? * MON *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert campaign in schedule["Target"]["Input"]

    # Cancelling deletes it
    assert api(stack, alice, "POST", f"{path}/cancel").status_code == 200
    assert launch_schedule(stack, f"recurring-{campaign}") is None


def test_a_campaign_paused_while_sending_resumes_and_completes_once_per_recipient(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    short_code = stack.outputs["ShortCode"]
    # Given a sender at 6 MPS (each of the two send workers sends three messages a second)
    sender = api(
        stack,
        tokens["ada"],
        "PUT",
        "/teams/sales/senders/slow",
        json={
            "sender_id": short_code,
            "stop_mention": f"STOP au {short_code}",
            "mps": 6,
            "company": "Boutique Exemple",
        },
    )
    assert sender.status_code == 200
    # And 1,500 recipients in three chunks of 500, the first three of each chunk consenting:
    # two workers take two chunks, so the third is still queued when the pause lands
    numbers = [f"+3375300{index:04d}" for index in range(1500)]
    consenting = [number for start in (0, 500, 1000) for number in numbers[start : start + 3]]
    for number in consenting:
        consent(stack, alice, number)
    campaign = new_campaign(stack, alice, body="Bonjour {first_name}. STOP au 36111", sender="slow")
    path = f"/campaigns/{campaign}"
    uploaded = api(
        stack,
        alice,
        "POST",
        f"{path}/audience",
        json={"recipients": [{"phone": n, "variables": {"first_name": "A"}} for n in numbers]},
    )
    assert uploaded.json()["accepted"] == 1500

    # When it is launched, then paused as soon as it is sending
    assert api(stack, alice, "POST", f"{path}/launch", json={}).status_code == 202
    assert wait_until(lambda: status_of(stack, alice, campaign) == "sending", timeout=20)
    paused = api(stack, alice, "POST", f"{path}/pause")

    # Then it is paused; the chunk not yet started waits, and nonsense is refused
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert api(stack, alice, "POST", f"{path}/pause").status_code == 409
    assert api(stack, alice, "POST", f"{path}/launch", json={}).status_code == 409
    assert stack.wait_idle(timeout=30)
    assert sum(sent_to(stack, campaign).values()) <= 6  # the two chunks already started
    assert status_of(stack, alice, campaign) == "paused"

    # When it is resumed
    resumed = api(stack, alice, "POST", f"{path}/resume")
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "sending"
    assert api(stack, alice, "POST", f"{path}/resume").status_code == 409

    # Then it completes: every consenting recipient sent exactly once, the others skipped
    assert wait_until(lambda: status_of(stack, alice, campaign) == "completed", timeout=30)
    assert sent_to(stack, campaign) == Counter(dict.fromkeys(consenting, 1))
    stats = api(stack, alice, "GET", f"{path}/stats").json()
    assert (stats["counts"]["queued"], stats["counts"]["no_consent"]) == (9, 1491)
    assert api(stack, alice, "POST", f"{path}/cancel").status_code == 409
    assert api(stack, alice, "POST", f"{path}/pause").status_code == 409


# ---------------------------------------------------------------- preview


def test_the_preview_counts_a_known_audience_and_warns_about_its_content(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    # Given four recipients: one sendable now, one suppressed, one without consent, one in
    # Nouméa (closed whenever Paris and Guadeloupe are open), and two bad rows
    sendable, suppressed, unconsented, noumea = (
        "+33751000021",
        "+33751000022",
        "+33751000023",
        "+687791234",
    )
    for number in (sendable, suppressed, noumea):
        consent(stack, alice, number)
    assert (
        api(
            stack,
            alice,
            "POST",
            "/suppressions",
            json={"team": "sales", "phone": suppressed, "reason": "asked by phone"},
        ).status_code
        == 201
    )
    campaign = new_campaign(
        stack, alice, body="Bonjour {first_name}, ça vous dit ? 🎉 -20% sur https://bit.ly/soldes"
    )
    data = "\n".join(
        [
            "phone,first_name,departement",
            f"{sendable},Léa,75",
            f"{suppressed},Marc,",
            f"{unconsented},Nina,13",
            f"{noumea},Kanak,988",
            "06 12,Court,75",
            f"{sendable[:-1]}9,Ana,99",
        ]
    ).encode()
    uploaded = api(
        stack,
        alice,
        "POST",
        f"/campaigns/{campaign}/audience",
        data=data,
        headers={"Content-Type": CSV},
    )
    assert uploaded.json()["accepted"] == 4

    # When it is previewed
    response = api(stack, alice, "GET", f"/campaigns/{campaign}/preview")

    # Then each recipient is in one count, the UCS-2 characters and the shortener are named
    assert response.status_code == 200
    preview = response.json()
    assert preview["counts"] == {
        "valid": 1,
        "deferred": 1,
        "suppressed": 1,
        "no_consent": 1,
        "capped": 0,
        "invalid": 2,
    }
    assert preview["estimated"] is False
    assert preview["text"].startswith("Bonjour Léa, ça vous dit ?")
    assert preview["encoding"] == "UCS-2"
    assert preview["non_gsm"] == ["ç", "🎉"]
    assert preview["sending"]["recipients"] == 2
    assert preview["sending"]["windows"] == 2
    codes = [warning["code"] for warning in preview["warnings"]]
    assert "link-shortener" in codes
    assert "missing-stop" in codes
    assert preview["estimated_cost"] > 0


# ---------------------------------------------------------------- consents and stats


def test_a_withdrawn_consent_makes_the_next_marketing_send_skip_the_number(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    withdrawn, kept = "+33751000031", "+33751000032"
    consent(stack, alice, withdrawn)
    consent(stack, alice, kept)
    withdrawal = {
        "team": "sales",
        "phone": "07 51 00 00 31",
        "purpose": "marketing",
        "reason": "asked by email",
    }

    # When the consent is withdrawn (the number in the body, never the URL)
    receipt = api(stack, alice, "DELETE", "/consents", json=withdrawal)

    # Then a receipt with the masked number; a second withdrawal finds nothing; another team
    # may not withdraw it
    assert receipt.status_code == 200
    assert receipt.json()["phone"] == "***31"
    assert receipt.json()["withdrawn_by"] == "alice"
    assert datetime.fromisoformat(receipt.json()["withdrawn_at"]).tzinfo is not None
    assert "751000031" not in receipt.text
    again = api(stack, alice, "DELETE", "/consents", json=withdrawal)
    problem_of(again, 404)
    assert api(stack, tokens["bruno"], "DELETE", "/consents", json=withdrawal).status_code == 403

    # When a marketing campaign goes to both numbers
    campaign = new_campaign(stack, alice, body="Bonjour {first_name}. STOP au 36111")
    uploaded = api(
        stack,
        alice,
        "POST",
        f"/campaigns/{campaign}/audience",
        json={
            "recipients": [
                {"phone": withdrawn, "variables": {"first_name": "Léa"}},
                {"phone": kept, "variables": {"first_name": "Marc"}},
            ]
        },
    )
    assert uploaded.json()["accepted"] == 2
    before = api(stack, alice, "GET", f"/campaigns/{campaign}/stats").json()
    assert before["deliverability"] is None
    assert api(stack, alice, "POST", f"/campaigns/{campaign}/launch", json={}).status_code == 202

    # Then only the number that still consents is sent, the other is counted no_consent
    def delivered() -> bool:
        stats = api(stack, alice, "GET", f"/campaigns/{campaign}/stats").json()
        return bool(stats["counts"]["delivered"] == 1)

    assert wait_until(delivered, timeout=30), api(
        stack, alice, "GET", f"/campaigns/{campaign}/stats"
    ).text
    stats = api(stack, alice, "GET", f"/campaigns/{campaign}/stats").json()
    assert stats["counts"]["no_consent"] == 1
    assert stats["counts"]["queued"] == 1
    assert stats["deliverability"] == 1.0
    assert sent_to(stack, campaign) == Counter({kept: 1})


def test_the_openapi_document_describes_csv_uploads_and_the_new_routes(stack: LocalStack) -> None:
    document = api(stack, None, "GET", "/openapi.json").json()
    audience = document["paths"]["/campaigns/{campaign_id}/audience"]["post"]
    assert set(audience["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert {"413", "415"} <= set(audience["responses"])
    for action in ("pause", "resume", "cancel"):
        assert (
            "409" in document["paths"][f"/campaigns/{{campaign_id}}/{action}"]["post"]["responses"]
        )
    assert "delete" in document["paths"]["/consents"]


# ---------------------------------------------------------------- the campaign list


def test_the_campaign_list_pages_with_a_cursor_that_fits_its_own_listing_only(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice, bruno = tokens["alice"], tokens["bruno"]
    drafts = {"team": "sales", "status": "draft", "limit": 2}
    # Given three new drafts of team sales, the newest of its drafts
    created = [new_campaign(stack, alice) for _ in range(3)]

    # When its drafts are listed two at a time
    first = api(stack, alice, "GET", "/campaigns", params=drafts)
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    second = api(stack, alice, "GET", "/campaigns", params={**drafts, "cursor": cursor})

    # Then the first page holds the two newest, and the next one goes on from the third
    assert [item["id"] for item in first.json()["items"]] == created[:0:-1]
    assert second.status_code == 200, second.text
    assert second.json()["items"][0]["id"] == created[0]
    assert not {item["id"] for item in second.json()["items"]} & set(created[1:])

    # And the cursor is refused, naming it, by a listing with other filters or by its own shape
    for params in (
        {**drafts, "status": "completed", "cursor": cursor},
        {"cursor": cursor},
        {**drafts, "cursor": cursor[:-8]},
        {**drafts, "cursor": "bm90IGEgY3Vyc29y"},
    ):
        refused = api(stack, alice, "GET", "/campaigns", params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.headers["Content-Type"] == PROBLEM
        assert [error["field"] for error in refused.json()["errors"]] == ["cursor"]

    # And it shows another team's member nothing of team sales
    assert api(stack, bruno, "GET", "/campaigns", params={"cursor": cursor}).status_code == 422
    assert (
        api(stack, bruno, "GET", "/campaigns", params=drafts | {"cursor": cursor}).status_code
        == 404
    )
