"""The operator console in a browser (the system's Chromium, headless) against the local stack:
sign in, create and launch a campaign, watch it to delivery, open a reply, and see nothing of
another team's."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from local_api import api, carrier, wait_until
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cloison.compliance import SendWindowPolicy, next_send_time, normalize_phone
from cloison_local.seed import DEMO_PASSWORD
from cloison_local.stack import DEFAULT_TEMPLATE, LocalStack
from cloison_local.template import load_template

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Fictional mobiles next to phonenumbers' French example, used by this module alone.
LEA = "+33612345611"
MARC = "+33612345612"
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
# `ê` is not in the GSM alphabet: the message goes as UCS-2, and the preview says why.
BODY = "Bonjour {first_name}, votre colis est prêt."
HOSTILE_REPLY = 'Merci <script>document.title="pwned"</script><img src=x onerror="window.pwned=1">'
AMBIGUOUS = "Arrêtez de m'écrire svp"
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: `make browser` installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def in_window(stack: LocalStack) -> None:
    """The functions' clock where the recipients may be messaged (the alerts profile: daily)."""
    policy = SendWindowPolicy.preset("daily")
    now = stack.now()
    if next_send_time(now, normalize_phone(LEA), policy=policy) != now:
        stack.set_clock(TUESDAY_MORNING)


def signed_in(browser: Browser, stack: LocalStack, username: str) -> Page:
    """A fresh browser context (nothing shared with another person's), signed in."""
    page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Locally the console is served by the API's gateway, where no route matches.
    assert stack.outputs["ConsoleUrl"] == f"{stack.api_url}/"
    page.goto(stack.outputs["ConsoleUrl"])
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert errors == [], "the console raised errors"
    return page


def test_a_member_runs_a_campaign_reads_its_reply_and_another_team_sees_none_of_it(
    stack: LocalStack, tokens: dict[str, str], browser: Browser, in_window: None
) -> None:
    name = f"Colis {uuid.uuid4().hex[:8]}"

    # Given alice, of team sales, signed in to the console
    page = signed_in(browser, stack, "alice")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    stored = page.evaluate("[Object.keys(localStorage), Object.keys(sessionStorage)]")
    assert not any("session" in key for key in stored[0]), "a token is kept in localStorage"
    assert stored[1] == ["cloison.session"]

    # When she creates a campaign from the form, with two good rows and a bad one
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Sender profile").fill("alerts")
    page.get_by_label("Kind").select_option("transactional")
    page.get_by_label("Message").fill(BODY)
    page.get_by_label("Recipients as CSV text").fill(
        f"phone,first_name\n{LEA},Léa\n{MARC},Marc\n06 12,Court\n"
    )
    page.get_by_role("button", name="Create the campaign").click()

    # Then its page reports the upload and previews the text, the UCS-2 character marked
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("2 kept, 1 rejected.")).to_be_visible()
    expect(page.locator(".sms-text mark")).to_have_text("ê")
    expect(page.locator("dd", has_text="UCS-2")).to_be_visible()
    campaign = page.url.rsplit("/", 1)[1]

    # When she launches it now
    page.get_by_role("button", name="Launch now").click()

    # Then the funnel follows it, without a reload, until both are delivered
    delivered = page.locator('svg.funnel g[data-status="delivered"] .funnel-count')
    expect(delivered).to_have_text("2", timeout=WAIT_MS)
    expect(page.locator(".facts .badge")).to_have_text("Completed", timeout=WAIT_MS)

    # When a recipient answers with markup, and she opens the reply from the campaign's inbox
    reply = carrier(stack).inject_reply(LEA, stack.outputs["OriginationIdentity"], HOSTILE_REPLY)
    assert wait_until(
        lambda: any(
            item["id"] == reply
            for item in api(
                stack, tokens["alice"], "GET", "/replies", params={"campaign": campaign}
            ).json()["items"]
        ),
        timeout=30,
    ), "the reply never reached the index"
    page.get_by_role("link", name="Replies to this campaign").click()
    row = page.locator(f'tr[data-reply="{reply}"]')
    expect(row).to_be_visible()
    assert "Merci" not in page.locator("main").inner_text(), "a list shows a reply's body"
    row.get_by_role("button", name="Open").click()
    expect(page.get_by_text("written to the audit log")).to_be_visible()
    page.get_by_role("button", name="Open and record it").click()

    # Then the body shows as text: the markup is inert
    body = page.locator("pre.reply-body")
    expect(body).to_have_text(HOSTILE_REPLY)
    assert body.locator("script, img").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.title() != "pwned"

    # And in French, the same page speaks French
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Réponses")).to_be_visible()
    page.get_by_label("Langue").select_option("en")

    # When bruno, of team support, signs in on another browser context
    other = signed_in(browser, stack, "bruno")

    # Then his campaigns and his inbox show nothing of team sales'
    expect(other.get_by_role("heading", name="Campaigns")).to_be_visible()
    expect(other.locator("main")).not_to_contain_text("Loading")
    assert name not in other.locator("main").inner_text()
    other.goto(f"{stack.api_url}/#/inbox")
    expect(other.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(other.locator("main")).not_to_contain_text("Loading")
    assert other.locator(f'tr[data-reply="{reply}"]').count() == 0
    assert name not in other.locator("main").inner_text()

    # And the campaign's own address is not found for him
    other.goto(f"{stack.api_url}/#/campaigns/{campaign}")
    expect(other.get_by_role("alert")).to_contain_text("Not found")
    assert name not in other.locator("main").inner_text()
    other.context.close()

    # When the other recipient answers ambiguously, and alice settles it in the review queue
    pending = carrier(stack).inject_reply(MARC, stack.outputs["OriginationIdentity"], AMBIGUOUS)
    assert wait_until(
        lambda: any(
            item["id"] == pending
            for item in api(
                stack, tokens["alice"], "GET", "/replies", params={"review": "pending"}
            ).json()["items"]
        ),
        timeout=30,
    ), "the ambiguous reply never reached the review queue"
    page.get_by_role("link", name="Opt-out review").click()
    page.locator(f'tr[data-reply="{pending}"]').get_by_role("button", name="Confirm").click()

    # Then the opt-out stands and the reply leaves the queue
    expect(page.get_by_role("status")).to_have_text("The opt-out is confirmed.")
    expect(page.locator(f'tr[data-reply="{pending}"]')).to_have_count(0)
    page.context.close()


def test_a_draft_is_scheduled_then_cancelled_from_its_page(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given a draft of team sales with one recipient
    created = api(
        stack,
        tokens["alice"],
        "POST",
        "/campaigns",
        json={
            "team": "sales",
            "name": f"Rappel {uuid.uuid4().hex[:8]}",
            "sender": "alerts",
            "kind": "transactional",
            "body": "Votre rendez-vous est confirmé.",
        },
    ).json()
    api(
        stack,
        tokens["alice"],
        "POST",
        f"/campaigns/{created['id']}/audience",
        json={"recipients": [{"phone": MARC}]},
    )
    page = signed_in(browser, stack, "alice")
    page.goto(f"{stack.api_url}/#/campaigns/{created['id']}")
    expect(page.get_by_role("heading", name=created["name"])).to_be_visible()

    # When she schedules it for a date far ahead
    page.get_by_label("Launch at").fill("2099-01-01T10:00")
    page.get_by_role("button", name="Schedule").click()

    # Then it is scheduled, and only cancelling is offered
    expect(page.locator(".facts .badge")).to_have_text("Scheduled")
    expect(page.get_by_role("button", name="Launch now")).to_have_count(0)

    # When she cancels it, confirming the question
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel the campaign").click()

    # Then it is cancelled, with nothing left to do
    expect(page.locator(".facts .badge")).to_have_text("Cancelled")
    expect(page.locator(".actions button")).to_have_count(0)
    page.context.close()


def test_a_privacy_officer_gets_an_access_export_with_a_masked_number(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given priya, privacy officer, on the privacy page
    page = signed_in(browser, stack, "priya")
    expect(page.get_by_role("heading", name="Privacy requests")).to_be_visible()
    expect(page.get_by_role("link", name="Campaigns")).to_have_count(0)

    # When she asks for everything held about a number
    page.get_by_label("Request").select_option("access")
    page.get_by_label("Number", exact=True).fill(MARC)
    page.get_by_label("Reason (e.g. the reference of the letter)").fill("lettre du 2 décembre")
    page.get_by_role("button", name="Submit the request").click()

    # Then the receipt shows, the number masked, with the export
    receipt = page.locator("[data-receipt]")
    expect(receipt.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(receipt.locator("pre.export")).to_be_visible()
    shown = receipt.locator("dl").inner_text()
    assert MARC[3:] not in shown, "the receipt shows the whole number"
    assert re.search(r"pr-[0-9a-f]+", shown)
    page.context.close()


def directives(policy: str) -> dict[str, str]:
    return {
        name: value.strip()
        for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))
    }


def test_the_console_is_served_with_its_config_and_the_template_s_security_headers(
    stack: LocalStack,
) -> None:
    # When the console's page and its config.json are asked for
    index = requests.get(stack.outputs["ConsoleUrl"], timeout=10)
    config = requests.get(stack.outputs["ConsoleUrl"] + "config.json", timeout=10).json()

    # Then the config points it at this stack's API and user pool client
    assert index.status_code == 200
    assert config["api_url"] == ""
    assert config["client_id"] == stack.outputs["UserPoolClientId"]

    # And its security headers are the template's, but for where sign-in goes (moto here)
    template = load_template(DEFAULT_TEMPLATE)
    policy = template["Resources"]["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    declared = directives(
        policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    )
    served = directives(index.headers["Content-Security-Policy"])
    assert {k: v for k, v in served.items() if k != "connect-src"} == {
        k: v for k, v in declared.items() if k != "connect-src"
    }
    assert served["connect-src"] == f"'self' {config['auth_url']}"
    assert "unsafe" not in index.headers["Content-Security-Policy"]
    assert index.headers["X-Frame-Options"] == "DENY"
    assert index.headers["X-Content-Type-Options"] == "nosniff"
