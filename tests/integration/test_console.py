"""The operator console in a browser (the system's Chromium, headless) against the local stack:
sign in (a first password, an authenticator's code) and stay signed in, create and launch a
campaign, watch it to delivery, open a reply, and see nothing of another team's; page through
campaigns, upload a CSV file, choose the sender among the team's profiles, pause and resume; lift
an opt-out, rectify and erase a number; sign up on a team's public page and confirm by reply, and
see the page's link, QR code and counts in the console."""

from __future__ import annotations

import io
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import zxingcpp
from local_api import (
    api,
    campaign_for,
    carrier,
    confirm_sign_up,
    signup_confirmations,
    team_consent,
    wait_until,
)
from PIL import Image
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect, sync_playwright

from cloison.compliance.phone import normalize_phone
from cloison.compliance.window import SendWindowPolicy, next_send_time
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
# Transactional campaigns from the `alerts` profile: no consent needed, the daily window.
ALERTS: dict[str, Any] = {"kind": "transactional", "sender": "alerts"}
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


@pytest.fixture(scope="module", autouse=True)
def demo_users(tokens: dict[str, str]) -> None:
    """The demo users exist (and have chosen their password) whichever test runs first."""


@pytest.fixture(scope="module")
def in_window(stack: LocalStack) -> None:
    """The functions' clock where the recipients may be messaged (the alerts profile: daily)."""
    policy = SendWindowPolicy.preset("daily")
    now = stack.now()
    if next_send_time(now, normalize_phone(LEA), policy=policy) != now:
        stack.set_clock(TUESDAY_MORNING)


def console_page(browser: Browser) -> tuple[Page, list[str]]:
    """A page in a fresh browser context (nothing shared with another person's), and the errors
    its scripts raise."""
    page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def sign_in(page: Page, stack: LocalStack, username: str, password: str = DEMO_PASSWORD) -> None:
    # Locally the console is served by the API's gateway, where no route matches.
    assert stack.outputs["ConsoleUrl"] == f"{stack.api_url}/"
    page.goto(stack.outputs["ConsoleUrl"])
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in(browser: Browser, stack: LocalStack, username: str) -> Page:
    """A fresh browser context, signed in."""
    page, errors = console_page(browser)
    sign_in(page, stack, username)
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
    page.get_by_label("Sender profile").select_option("alerts")
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
    # And says it goes from the shared number, whose replies reach the team
    expect(page.locator("dd", has_text="the shared number")).to_be_visible()
    expect(page.locator("dd", has_text="reach the team")).to_be_visible()
    campaign = page.url.rsplit("/", 1)[1]

    # When she launches it now
    page.get_by_role("button", name="Launch now").click()

    # Then the funnel follows it, without a reload, until both are delivered
    delivered = page.locator('svg.funnel g[data-status="delivered"] .funnel-count')
    expect(delivered).to_have_text("2", timeout=WAIT_MS)
    expect(page.locator(".facts .badge")).to_have_text("Completed", timeout=WAIT_MS)
    # (each recipient counted once: delivered ones are not counted again as sent)
    expect(page.get_by_text("2 of 2 recipients processed")).to_be_visible()

    # When a recipient answers with markup, and she opens the reply from the campaign's inbox
    reply = carrier(stack).inject_reply(LEA, stack.outputs["ShortCode"], HOSTILE_REPLY)
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
    pending = carrier(stack).inject_reply(MARC, stack.outputs["ShortCode"], AMBIGUOUS)
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
    campaign = campaign_for(stack, tokens["alice"], [MARC], **ALERTS)
    page = signed_in(browser, stack, "alice")
    page.goto(f"{stack.api_url}/#/campaigns/{campaign}")
    expect(page.get_by_role("heading", name="Relance")).to_be_visible()

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
    page.get_by_label("Why", exact=True).select_option("complaint")
    page.get_by_label("Details (e.g. the reference of the letter)").fill("lettre du 2 décembre")
    page.get_by_role("button", name="Submit the request").click()

    # Then the receipt shows, the number masked, with the export
    receipt = page.locator("[data-receipt]")
    expect(receipt.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(receipt.locator("pre.export")).to_be_visible()
    shown = receipt.locator("dl").inner_text()
    assert "A complaint" in shown  # the code the trail keeps, in words
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


# ---------------------------------------------------------------- signing in, and staying in


def storage_of(page: Page) -> str:
    """Everything this tab keeps in web storage, as one text."""
    return str(
        page.evaluate(
            "JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])"
        )
    )


def access_token_of(page: Page) -> str:
    return str(page.evaluate("JSON.parse(sessionStorage.getItem('cloison.session')).token"))


def test_the_console_renews_its_tokens_before_they_expire_and_keeps_the_refresh_token_in_memory(
    stack: LocalStack, browser: Browser
) -> None:
    # Given alice signed in, in a browser whose clock the test moves
    page, errors = console_page(browser)
    page.clock.install()
    with page.expect_response(lambda answer: answer.url.startswith(stack.moto_url)) as signing:
        sign_in(page, stack, "alice")
    refresh_token = signing.value.json()["AuthenticationResult"]["RefreshToken"]
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    first = access_token_of(page)

    # When 56 minutes pass, four before her access token expires
    page.clock.fast_forward("56:00")

    # Then the console has a new access token, without asking for her password
    page.wait_for_function(
        "first => JSON.parse(sessionStorage.getItem('cloison.session')).token !== first", arg=first
    )
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Loading")
    expect(page.get_by_role("alert")).to_have_count(0)
    # And the refresh token was never written to web storage, only the access token
    assert refresh_token not in storage_of(page)
    assert access_token_of(page) in storage_of(page)

    # When the page is reloaded (the refresh token goes with it) and two hours pass
    page.reload()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.clock.fast_forward("02:00:00")
    page.get_by_role("link", name="Campaigns").click()

    # Then the console asks her to sign in again, and keeps no token
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "cloison.session" not in storage_of(page)
    assert errors == []
    page.context.close()


def test_signing_out_forgets_the_tokens(stack: LocalStack, browser: Browser) -> None:
    # Given bruno signed in
    page = signed_in(browser, stack, "bruno")

    # When he signs out (which reloads the page: nothing of him stays in memory either)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    # Then the sign-in page shows and the tab keeps nothing of him
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "cloison.session" not in storage_of(page)
    page.context.close()


def new_user(stack: LocalStack, password: str) -> str:
    """A person created by an administrator, with a temporary password, in no group."""
    username = f"zoe-{uuid.uuid4().hex[:8]}"
    stack.client("cognito-idp").admin_create_user(
        UserPoolId=stack.outputs["UserPoolId"],
        Username=username,
        TemporaryPassword=password,
        MessageAction="SUPPRESS",
    )
    return username


def test_a_first_sign_in_replaces_the_temporary_password(
    stack: LocalStack, browser: Browser
) -> None:
    # Given a person an administrator has just created, with a temporary password
    temporary, chosen = "Provisoire-2026-a", "Cloison-Choisi-2026"
    username = new_user(stack, temporary)
    page, errors = console_page(browser)

    # When she signs in with it
    sign_in(page, stack, username, temporary)

    # Then the console asks her to choose her password, twice the same
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(chosen)
    page.get_by_label("New password, again").fill(chosen + "x")
    page.get_by_role("button", name="Set the password and sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The two passwords differ.")
    page.get_by_label("New password, again").fill(chosen)
    page.get_by_role("button", name="Set the password and sign in").click()

    # Then she is signed in (to a console with nothing for her yet)
    expect(page.get_by_role("heading", name="Nothing to show")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # And her new password is the one that signs her in from now on
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, stack, username, chosen)
    expect(page.get_by_role("heading", name="Nothing to show")).to_be_visible()
    assert errors == []
    page.context.close()


def test_a_person_with_an_authenticator_app_gives_its_code(
    stack: LocalStack, browser: Browser
) -> None:
    # Given a person who has set up an authenticator app (moto takes any code for it)
    cognito = stack.client("cognito-idp")
    password = "Cloison-Mfa-2026-ok"
    username = new_user(stack, password)
    cognito.admin_set_user_password(
        UserPoolId=stack.outputs["UserPoolId"], Username=username, Password=password, Permanent=True
    )
    token = cognito.initiate_auth(
        ClientId=stack.outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]["AccessToken"]
    cognito.associate_software_token(AccessToken=token)
    cognito.verify_software_token(AccessToken=token, UserCode="123456")
    cognito.set_user_mfa_preference(
        AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    page, errors = console_page(browser)

    # When she signs in with her password
    sign_in(page, stack, username, password)

    # Then the console asks for the code, and signs her in with it
    expect(page.get_by_role("heading", name="Security code")).to_be_visible()
    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Nothing to show")).to_be_visible()
    assert errors == []
    page.context.close()


# ---------------------------------------------------------------- campaigns: pages, files, pause

# Fictional mobiles of French Polynesia, New Caledonia, Réunion and Guadeloupe (phonenumbers'
# examples, changed): at any hour one of them is outside the daily window for a while.
FAR_AWAY = ("+68987123461", "+687751261", "+262692123461", "+590690001261")


def waiting_number(stack: LocalStack) -> str:
    """A recipient the `alerts` profile (daily window) may not message in the next half hour."""
    policy, now = SendWindowPolicy.preset("daily"), stack.now()
    for number in FAR_AWAY:
        if next_send_time(now, normalize_phone(number), policy=policy) > now + timedelta(
            minutes=30
        ):
            return number
    raise AssertionError("every far-away recipient may be messaged now")


def test_the_campaign_list_shows_more_campaigns_on_demand(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given team sales with more campaigns than two pages of two
    for _ in range(5):
        campaign_for(stack, tokens["alice"], [MARC], **ALERTS)
    newest = api(
        stack, tokens["alice"], "GET", "/campaigns", params={"team": "sales", "limit": 4}
    ).json()["items"]
    page = signed_in(browser, stack, "alice")

    # When she lists them two per page
    page.goto(f"{stack.api_url}/#/campaigns?team=sales&limit=2")
    rows = page.locator("tr[data-campaign]")
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Per page")).to_have_value("2")

    # And asks for more
    page.get_by_role("button", name="More campaigns").click()

    # Then the next two come below the first, newest first, and the first new one has the focus
    expect(rows).to_have_count(4)
    shown = [rows.nth(index).get_attribute("data-campaign") for index in range(4)]
    assert shown == [item["id"] for item in newest]
    expect(rows.nth(2).get_by_role("link")).to_be_focused()
    expect(page.get_by_role("button", name="More campaigns")).to_be_visible()
    page.context.close()


def test_a_team_with_every_campaign_listed_offers_no_more(
    stack: LocalStack, browser: Browser
) -> None:
    # Given a person of a new team, which has no campaign
    team = f"neuve-{uuid.uuid4().hex[:8]}"
    page = signed_in(browser, stack, member_of(stack, team))

    # When she opens the campaign list
    page.goto(f"{stack.api_url}/#/campaigns?team={team}")

    # Then it says so, and offers nothing more to load
    expect(page.get_by_text("No campaign yet")).to_be_visible()
    expect(page.get_by_role("button", name="More campaigns")).to_be_hidden()
    page.context.close()


def test_a_csv_file_creates_the_audience_and_its_bad_lines_are_listed(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given a CSV file as a French spreadsheet writes it: a BOM, semicolons, CRLF, national numbers
    csv = "\ufeffphone;first_name;departement\r\n06 12 34 56 21;Zoé;75\r\n0612345622;Yann;69\r\n"
    csv += "06 12;Court;75\r\n"
    page = signed_in(browser, stack, "alice")
    name = f"Fichier {uuid.uuid4().hex[:8]}"

    # When alice creates a campaign with the file as its recipients
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Sender profile").select_option("alerts")
    page.get_by_label("Kind").select_option("transactional")
    page.get_by_label("Message").fill("Bonjour {first_name}, votre rendez-vous est confirmé.")
    page.get_by_label("Or a CSV file").set_input_files(
        files=FilePayload(name="audience.csv", mimeType="text/csv", buffer=csv.encode())
    )
    page.get_by_role("button", name="Create the campaign").click()

    # Then the good lines are kept, and the bad one is listed with its line and field
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("2 kept, 1 rejected.")).to_be_visible()
    rejected = page.locator('section[aria-labelledby="upload-title"] tbody tr')
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td").nth(0)).to_have_text("4")
    expect(rejected.locator("td").nth(1)).to_have_text("phone")
    campaign = page.url.rsplit("/", 1)[1]
    assert api(stack, tokens["alice"], "GET", f"/campaigns/{campaign}").json()["recipients"] == 2
    page.context.close()


def test_a_sending_campaign_is_paused_and_resumed_from_its_page_with_the_keyboard(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given a draft to a recipient outside the sending window: launched, it keeps sending
    campaign = campaign_for(stack, tokens["alice"], [waiting_number(stack)], **ALERTS)
    page = signed_in(browser, stack, "alice")
    page.goto(f"{stack.api_url}/#/campaigns/{campaign}")
    badge = page.locator(".facts .badge")
    expect(badge).to_have_text("Draft")

    # When alice launches it, and pauses it once it is sending
    page.get_by_role("button", name="Launch now").click()
    expect(badge).to_have_text("Sending", timeout=WAIT_MS)
    page.get_by_role("button", name="Pause").click()

    # Then it is paused, and resuming is offered, with the focus on it
    expect(badge).to_have_text("Paused")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.get_by_role("button", name="Resume")).to_be_focused()

    # When she resumes it from the keyboard
    page.keyboard.press("Enter")

    # Then it is sending again, and the API says the same
    expect(badge).to_have_text("Sending")
    expect(page.get_by_role("button", name="Pause")).to_be_focused()
    path = f"/campaigns/{campaign}"
    assert api(stack, tokens["alice"], "GET", path).json()["status"] == "sending"
    assert api(stack, tokens["alice"], "POST", f"{path}/cancel").status_code == 200
    page.context.close()


# ---------------------------------------------------------------- campaigns: the sender profile


def member_of(stack: LocalStack, *teams: str) -> str:
    """A person of these teams (their groups created if need be), with the demo password."""
    cognito = stack.client("cognito-idp")
    pool = stack.outputs["UserPoolId"]
    username = new_user(stack, DEMO_PASSWORD)
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=username, Password=DEMO_PASSWORD, Permanent=True
    )
    existing = {group["GroupName"] for group in cognito.list_groups(UserPoolId=pool)["Groups"]}
    for team in teams:
        if f"team-{team}" not in existing:
            cognito.create_group(UserPoolId=pool, GroupName=f"team-{team}")
        cognito.admin_add_user_to_group(
            UserPoolId=pool, Username=username, GroupName=f"team-{team}"
        )
    return username


def test_the_sender_is_chosen_among_the_selected_team_s_profiles(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given a person of team sales and of a new team that has no sender profile yet
    empty = f"vide-{uuid.uuid4().hex[:8]}"
    page = signed_in(browser, stack, member_of(stack, "sales", empty))
    profiles = api(stack, tokens["alice"], "GET", "/teams/sales/senders").json()["items"]
    assert {"promo", "alerts"} <= {profile["name"] for profile in profiles}
    name = f"Expéditeur {uuid.uuid4().hex[:8]}"

    # When she opens the campaign form with team sales selected
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Team").select_option("sales")

    # Then the senders offered are team sales' profiles, each by name with its sender ID
    sender = page.get_by_label("Sender profile")
    options = sender.locator("option")
    expect(options).to_have_text(
        [f"{profile['name']} (sender ID {profile['sender_id']})" for profile in profiles]
    )
    assert options.evaluate_all("all => all.map(option => option.value)") == [
        profile["name"] for profile in profiles
    ]

    # When she selects the team without any
    page.get_by_label("Team").select_option(empty)

    # Then the form says so, offers no sender and cannot be submitted
    expect(page.get_by_role("status")).to_have_text(
        f"Team {empty} has no sender profile yet, so no campaign can be created for it: "
        "an administrator adds them."
    )
    expect(sender).to_be_disabled()
    expect(options).to_have_text(["No sender profile"])
    expect(page.get_by_role("button", name="Create the campaign")).to_be_disabled()
    # And in French too
    page.get_by_label("Language").select_option("fr")
    page.get_by_label("Équipe").select_option(empty)
    expect(page.get_by_role("status")).to_contain_text("n'a encore aucun profil d'expéditeur")
    expect(page.get_by_role("button", name="Créer la campagne")).to_be_disabled()
    page.get_by_label("Langue").select_option("en")

    # When she goes back to team sales and picks the promo profile from the keyboard
    page.get_by_label("Team").select_option("sales")
    expect(sender).to_be_enabled()
    expect(page.get_by_role("status")).to_be_hidden()
    page.get_by_label("Name").fill(name)
    page.keyboard.press("Tab")
    expect(sender).to_be_focused()
    page.keyboard.type("promo")
    expect(sender).to_have_value("promo")
    page.get_by_label("Message").fill("Bonjour {first_name}, -20% ce week-end.")
    page.get_by_role("button", name="Create the campaign").click()

    # Then the campaign is created from that profile
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    campaign = page.url.rsplit("/", 1)[1]
    created = api(stack, tokens["alice"], "GET", f"/campaigns/{campaign}").json()
    assert (created["team"], created["sender"], created["name"]) == ("sales", "promo", name)
    page.context.close()


def test_profiles_the_api_cannot_list_are_shown_as_its_other_errors(
    stack: LocalStack, browser: Browser
) -> None:
    # Given alice, and an API that fails to list her team's sender profiles
    page = signed_in(browser, stack, "alice")
    page.route(
        "**/teams/sales/senders",
        lambda route: route.fulfill(
            status=503,
            content_type="application/problem+json",
            json={"title": "Service Unavailable", "status": 503, "detail": "Try again later."},
        ),
    )

    # When she opens the campaign form
    page.get_by_role("link", name="New campaign").click()

    # Then the API's problem is shown, and the form cannot be submitted
    expect(page.get_by_role("alert")).to_have_text("Service Unavailable Try again later.")
    expect(page.get_by_label("Sender profile")).to_be_disabled()
    expect(page.get_by_role("button", name="Create the campaign")).to_be_disabled()
    page.context.close()


# ---------------------------------------------------------------- privacy officer

# Fictional mobiles next to phonenumbers' French example, one per request below.
LIFTED = "+33612345631"
CORRECTED = "+33612345632"


def test_a_privacy_officer_lifts_an_ambiguous_opt_out_with_its_number(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given an ambiguous reply, suppressed at once and waiting for review
    reply = carrier(stack).inject_reply(LIFTED, stack.outputs["ShortCode"], AMBIGUOUS)

    def pending() -> bool:
        queue = api(stack, tokens["priya"], "GET", "/replies", params={"review": "pending"})
        return any(item["id"] == reply for item in queue.json()["items"])

    assert wait_until(pending, timeout=30), "the ambiguous reply never reached the review queue"
    page = signed_in(browser, stack, "priya")

    # When priya lifts it from the review queue, giving the reply's number
    page.get_by_role("link", name="Opt-out review").click()
    row = page.locator(f'tr[data-reply="{reply}"]')
    row.get_by_label("Number of the reply").fill(LIFTED)
    row.get_by_role("button", name="Lift").click()

    # Then the opt-out is lifted and the reply leaves the queue
    expect(page.get_by_role("status")).to_have_text("The opt-out is lifted.")
    expect(row).to_have_count(0)
    lifted = api(stack, tokens["priya"], "GET", "/replies", params={"review": "lifted"}).json()
    assert reply in {item["id"] for item in lifted["items"]}
    page.context.close()


def submit_request(page: Page, kind: str, reason: str) -> None:
    page.get_by_label("Request").select_option(kind)
    page.get_by_label("Number", exact=True).fill(CORRECTED)
    page.get_by_label("Details (e.g. the reference of the letter)").fill(reason)


def test_a_privacy_officer_rectifies_then_erases_a_number_and_reads_the_receipt_again(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given a number in an audience of team sales
    campaign_for(stack, tokens["alice"], [CORRECTED], **ALERTS)
    page = signed_in(browser, stack, "priya")

    # When priya prepares an access request, the form asks for no changes
    submit_request(page, "access", "courrier du 2 décembre")
    expect(page.get_by_label("Changes")).to_be_hidden()

    # When priya corrects its first name
    submit_request(page, "rectification", "courrier du 3 décembre")
    page.get_by_label("Changes").fill("first_name=Léon")
    page.get_by_role("button", name="Submit the request").click()

    # Then the receipt names the attribute changed, never its value nor the whole number
    receipt = page.locator("[data-receipt]")
    expect(receipt.locator("dl")).to_contain_text("Rectification")
    expect(receipt.locator("dl")).to_contain_text("first_name")
    assert "Léon" not in receipt.inner_text()
    assert CORRECTED[3:] not in receipt.inner_text()
    # And an access request shows the corrected attribute in the audience
    submit_request(page, "access", "vérification")
    page.get_by_role("button", name="Submit the request").click()
    expect(receipt.locator("pre.export")).to_contain_text('"first_name": "Léon"')

    # When she asks for its erasure, first without saying she understands what it does
    submit_request(page, "erasure", "courrier du 4 décembre")
    page.get_by_role("button", name="Submit the request").click()
    assert page.get_by_label("I understand").evaluate("box => box.validity.valid") is False
    expect(receipt.locator("dl")).to_contain_text("Access (export)")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Submit the request").click()

    # Then the erasure's receipt says what was erased and that the opt-out stays
    expect(receipt.locator("dl")).to_contain_text("Erasure")
    expect(receipt.locator("dl")).to_contain_text("Opt-out")
    receipt_id = receipt.get_attribute("data-receipt")
    assert receipt_id

    # And the receipt reads the same later, by its id
    page.reload()
    page.get_by_label("Receipt id").fill(receipt_id)
    page.get_by_role("button", name="Read the receipt").click()
    expect(page.locator(f'[data-receipt="{receipt_id}"] dl')).to_contain_text("Erasure")
    page.context.close()


# ---------------------------------------------------------------- a team's sign-up page

# Fictional mobiles of this module's sign-ups.
SIGNER = "+33751008501"
# phonenumbers' example of a French landline: a number the page does not take.
LANDLINE = "01 23 45 67 89"


def signup_url(stack: LocalStack, team: str = "sales") -> str:
    """The team's public sign-up page, as the console links to it and its QR code opens it."""
    return f"{stack.outputs['ConsoleUrl']}signup.html?team={team}"


def public_page(browser: Browser, url: str, locale: str = "fr-FR") -> tuple[Page, list[str]]:
    """The page in a fresh browser context whose language is `locale` (a phone's, say), not
    signed in, and the errors its scripts raise."""
    page = browser.new_context(locale=locale, viewport={"width": 400, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def sign_up_on(page: Page, number: str, *, agree: bool = True) -> None:
    """Fills the page's form with the number, ticks the consent (unless told), and sends it;
    the labels in either language."""
    page.get_by_label(re.compile("Votre numéro de mobile|Your mobile number")).fill(number)
    if agree:
        page.get_by_label(re.compile("J'accepte|I agree")).check()
    page.get_by_role("button", name=re.compile("M'inscrire|Sign me up")).click()


def signup_counts(stack: LocalStack, token: str, team: str = "sales") -> tuple[int, int]:
    """The team's sign-ups waiting and the day's confirmations sent, as the API counts them."""
    status = api(stack, token, "GET", f"/teams/{team}/signup").json()
    return status["pending"], status["budget"]["used"]


def test_a_person_signs_up_on_the_team_s_page_and_confirms_by_replying_oui(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given team sales' page, opened as its QR code opens it on a phone set in French
    latest = api(stack, tokens["alice"], "GET", "/teams/sales/notice").json()
    before = signup_counts(stack, tokens["alice"])
    page, errors = public_page(browser, signup_url(stack))

    # Then it speaks French and shows the notice: who, why, how often, how long, rights, stop
    organisation = latest["fr"]["organisation"]
    expect(page.get_by_role("heading", name=f"Les SMS de {organisation}")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "fr"
    notice = page.locator(".notice-texts")
    for text in latest["fr"].values():
        expect(notice).to_contain_text(text)

    # When she gives her number without ticking the consent
    sign_up_on(page, SIGNER, agree=False)

    # Then nothing is sent: the consent is required
    consent = page.get_by_label("J'accepte")
    assert consent.evaluate("box => box.validity.valid") is False
    assert signup_confirmations(stack, [SIGNER]) == []

    # When she ticks it and sends the form
    consent.check()
    page.get_by_role("button", name="M'inscrire").click()

    # Then the page tells her to check her phone and reply OUI
    sent = page.get_by_role("status")
    expect(sent.get_by_role("heading", name="Regardez votre téléphone")).to_be_focused()
    expect(sent).to_contain_text("Répondez-y OUI sous 24 heures")
    # And one SMS asks her number for OUI, naming the organisation; her sign-up waits
    assert wait_until(lambda: len(signup_confirmations(stack, [SIGNER])) == 1)
    [sms] = signup_confirmations(stack, [SIGNER])
    assert organisation in sms.body
    assert "répondez OUI" in sms.body
    assert signup_counts(stack, tokens["alice"]) == (before[0] + 1, before[1] + 1)

    # When she replies OUI from her phone
    reply = confirm_sign_up(stack, SIGNER)

    # Then her consent to team sales exists, with the notice the page showed and the page
    given = team_consent(stack, tokens["priya"], SIGNER)
    assert given is not None, "the reply never made a consent"
    assert given["notice"]["hash"] == latest["hash"]
    # (the page's address as free text: the local host and port, digits, are masked as a number)
    assert given["signup"]["page"].endswith("/signup.html?team=sales")
    assert given["signup"]["confirmed_by"] == reply
    # And her sign-up waits no more
    assert signup_counts(stack, tokens["alice"]) == (before[0], before[1] + 1)
    assert errors == []
    page.context.close()


def test_the_page_speaks_english_refuses_a_landline_and_a_team_without_a_notice_has_none(
    stack: LocalStack, browser: Browser
) -> None:
    # Given team sales' page in a browser set in English
    page, errors = public_page(browser, signup_url(stack), locale="en-GB")
    expect(page.get_by_role("heading", name=re.compile("'s texts$"))).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"

    # When the visitor switches it to French and back
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name=re.compile("^Les SMS de"))).to_be_visible()
    assert page.url.endswith("&lang=fr")
    page.get_by_label("Langue").select_option("en")

    # And sends a landline
    sign_up_on(page, LANDLINE)

    # Then the page says the number is not taken, on the field, and sends nothing
    expect(page.get_by_role("alert")).to_have_text(
        "This is not a mobile number this page takes: check it and try again."
    )
    phone = page.get_by_label("Your mobile number")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_be_focused()
    assert signup_confirmations(stack, ["+33123456789"]) == []

    # When a team without a notice is asked for, Then its page says it takes no sign-up
    page.goto(signup_url(stack, "sans-notice"))
    expect(
        page.get_by_role("heading", name="This organisation takes no sign-up here.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Sign me up")).to_have_count(0)
    assert errors == []
    page.context.close()


def decoded_qr_code(element: Locator) -> str:
    """The text of the QR code the element shows, read from a screenshot of it."""
    image = Image.open(io.BytesIO(element.screenshot()))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"{len(found)} codes read"
    return str(found[0].text)


def test_a_member_sees_the_page_s_link_its_qr_code_and_counts_and_an_admin_puts_a_notice(
    stack: LocalStack, tokens: dict[str, str], browser: Browser
) -> None:
    # Given alice, of team sales, on the console's sign-up page
    page = signed_in(browser, stack, "alice")
    page.get_by_role("link", name="Sign-up page").click()
    expect(page.get_by_role("heading", name="Sign-up page")).to_be_visible()

    # Then the page's link is the console's own origin, and its QR code reads the same
    link = page.locator("a.signup-link")
    expect(link).to_have_text(signup_url(stack))
    assert link.get_attribute("href") == signup_url(stack)
    qr_code = page.get_by_role("img", name=re.compile("^QR code of the sign-up page"))
    assert decoded_qr_code(qr_code) == signup_url(stack)

    # And the sign-ups waiting and the day's budget are the API's counts, with the notice
    pending, used = signup_counts(stack, tokens["alice"])
    counts = page.locator("[data-signup-status='sales']")
    expect(counts.locator("[data-count='pending']")).to_have_text(str(pending))
    expect(counts.locator("[data-count='budget']")).to_have_text(f"{used} of 500")
    latest = api(stack, tokens["alice"], "GET", "/teams/sales/notice").json()
    expect(page.locator(f"[data-notice-version='{latest['version']}']")).to_be_visible()
    expect(page.locator("tr[data-version]").first).to_have_attribute(
        "data-version", str(latest["version"])
    )
    # And, not an administrator, she is offered no form to change it; in French too
    expect(page.get_by_role("button", name="Put this version")).to_have_count(0)
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Page d'inscription")).to_be_visible()
    expect(page.locator("dt", has_text="En attente de réponse")).to_be_visible()
    page.get_by_label("Langue").select_option("en")
    page.context.close()

    # When ada, an administrator, changes the French frequency of the notice
    admin = signed_in(browser, stack, "ada")
    admin.goto(f"{stack.api_url}/#/signup?team=sales")
    french = admin.get_by_role("group", name="In French (required)")
    expect(french.get_by_label("Frequency")).to_have_value(latest["fr"]["frequency"])
    frequency = f"Au plus {uuid.uuid4().int % 9 + 1} SMS par mois, jamais le dimanche."
    french.get_by_label("Frequency").fill(frequency)
    admin.get_by_role("button", name="Put this version").click()

    # Then it is the next version, and the public page shows it
    version = latest["version"] + 1
    expect(admin.get_by_role("status")).to_have_text(f"Version {version} is the notice now.")
    expect(admin.locator("tr[data-version]").first).to_have_attribute("data-version", str(version))
    visitor, errors = public_page(browser, signup_url(stack))
    expect(visitor.locator(".notice-texts")).to_contain_text(frequency)
    assert errors == []
    visitor.context.close()
    admin.context.close()


def test_the_sign_up_page_is_served_with_the_console_s_security_headers(
    stack: LocalStack,
) -> None:
    # When the page, its script and the QR code library are asked for
    index = requests.get(stack.outputs["ConsoleUrl"], timeout=10)
    files = {
        name: requests.get(stack.outputs["ConsoleUrl"] + name, timeout=10)
        for name in ("signup.html", "signup.js", "vendor/qrcode-generator/qrcode.esm.js")
    }

    # Then each comes with the console's headers, and the scripts as JavaScript
    for name, answer in files.items():
        assert answer.status_code == 200, name
        for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
            assert answer.headers[header] == index.headers[header], f"{name}: {header}"
    for name in ("signup.js", "vendor/qrcode-generator/qrcode.esm.js"):
        assert files[name].headers["Content-Type"].startswith("text/javascript"), name
