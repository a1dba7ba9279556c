"""`make demo`: the whole thin path on a fresh local stack, checked step by step, with a report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cloison.compliance.phone import normalize_phone
from cloison.compliance.window import SendWindowPolicy, next_send_time
from cloison_local.seed import call, seed
from cloison_local.stack import LocalStack

# Fictional numbers that pass validation; the first three have consented to team sales' offers.
LEA, MARC, GUADELOUPE, NO_CONSENT = "+33612345678", "+33612345679", "0690 00 12 34", "+33612345681"


@dataclass
class Report:
    checks: list[tuple[str, bool]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def check(self, label: str, passed: bool) -> bool:
        self.checks.append((label, passed))
        return passed

    @property
    def passed(self) -> bool:
        return all(passed for _, passed in self.checks)

    def render(self) -> str:
        lines = [f"  {'ok ' if passed else 'FAIL'} {label}" for label, passed in self.checks]
        lines.append("")
        lines += [f"  {name:<24} {value}" for name, value in self.figures.items()]
        return "\n".join(lines)


def demo_clock(now: datetime) -> datetime | None:
    """An instant inside the default sending window for every demo recipient, or None if now is.

    Recipients are in Paris and in Guadeloupe (UTC-4): the demo moves the functions' clock to
    a moment when both may be messaged, with half an hour to spare.
    """
    policy = SendWindowPolicy()
    phones = [normalize_phone(number) for number in (LEA, GUADELOUPE)]
    candidate = now
    for _ in range(50):
        opening = max(next_send_time(candidate, phone, policy=policy) for phone in phones)
        later = opening + timedelta(minutes=30)
        if all(next_send_time(later, phone, policy=policy) == later for phone in phones):
            return None if opening == now else opening + timedelta(minutes=1)
        candidate = opening + timedelta(minutes=31)
    raise RuntimeError("no common sending window found in the coming days")


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def run_scenario(stack: LocalStack, tokens: dict[str, str]) -> Report:
    """Create, launch, deliver, reply, STOP, and a second campaign that skips the opted-out number."""
    report = Report()
    api, alice, bruno = stack.api_url, tokens["alice"], tokens["bruno"]
    assert stack.carrier is not None
    short_code = stack.outputs["ShortCode"]

    campaign = call(
        api,
        alice,
        "POST",
        "/campaigns",
        {
            "team": "sales",
            "name": "Soldes d'hiver",
            "sender": "promo",
            "kind": "marketing",
            "body": "Bonjour {first_name}, -20% sur tout le magasin ce week-end.",
        },
    )
    audience = call(
        api,
        alice,
        "POST",
        f"/campaigns/{campaign['id']}/audience",
        {
            "recipients": [
                {"phone": "06 12 34 56 78", "variables": {"first_name": "Léa"}},
                {"phone": MARC, "variables": {"first_name": "Marc"}},
                {"phone": GUADELOUPE, "variables": {"first_name": "Maéva"}},
                {"phone": NO_CONSENT, "variables": {"first_name": "Noé"}},
                {"phone": "06 12", "variables": {"first_name": "Erreur"}},
            ]
        },
    )
    report.check(
        "audience: 4 valid rows kept, the malformed number reported by row",
        audience["accepted"] == 4 and [error["row"] for error in audience["rejected"]] == [5],
    )
    preview = call(api, alice, "GET", f"/campaigns/{campaign['id']}/preview")
    report.check(
        "preview: STOP mention appended, GSM-7, 1 segment",
        preview["text"].endswith(f"STOP au {short_code}")
        and preview["encoding"] == "GSM-7"
        and preview["segments"] == 1,
    )

    call(api, alice, "POST", f"/campaigns/{campaign['id']}/launch", {})
    stats_path = f"/campaigns/{campaign['id']}/stats"
    delivered = wait_for(lambda: call(api, alice, "GET", stats_path)["counts"]["delivered"] >= 3)
    stats = call(api, alice, "GET", stats_path)
    report.check(
        "launch: 3 consented recipients sent and delivered, 1 without consent skipped",
        delivered
        and stats["counts"]["queued"] == 3
        and stats["counts"]["no_consent"] == 1
        and stats["status"] == "completed",
    )

    stack.carrier.inject_reply(LEA, short_code, "Super, je passe samedi !")
    stack.carrier.inject_reply(MARC, short_code, "Stop.")
    of_campaign = f"/replies?campaign={campaign['id']}"
    replies_arrived = wait_for(lambda: len(call(api, alice, "GET", of_campaign)["items"]) >= 2)
    replies = call(api, alice, "GET", of_campaign)["items"]
    report.check(
        "replies: both matched to the campaign of team sales",
        replies_arrived and {reply["campaign_id"] for reply in replies} == {campaign["id"]},
    )
    answer = next((reply for reply in replies if reply["reply_class"] == "REPLY"), None)
    if report.check(
        "replies: the STOP is classified as an opt-out, the other as a reply",
        answer is not None and any(reply["reply_class"] == "OPT_OUT" for reply in replies),
    ):
        assert answer is not None
        opened = call(api, alice, "GET", f"/replies/{answer['id']}")
        report.check(
            "replies: team sales opens its reply", opened["body"] == "Super, je passe samedi !"
        )
        call(api, bruno, "GET", f"/replies/{answer['id']}", expect=(404,))
        report.check("replies: team support gets 404 on team sales' reply", True)
        report.check(
            "vault: the S3 object is under the team's prefix and holds no plaintext",
            _sealed_in_team_prefix(stack, campaign["id"], "Super, je passe"),
        )

    second = call(
        api,
        alice,
        "POST",
        "/campaigns",
        {
            "team": "sales",
            "name": "Dernier jour",
            "sender": "promo",
            "kind": "marketing",
            "body": "{first_name}, dernier jour des soldes !",
        },
    )
    call(
        api,
        alice,
        "POST",
        f"/campaigns/{second['id']}/audience",
        {
            "recipients": [
                {"phone": LEA, "variables": {"first_name": "Léa"}},
                {"phone": MARC, "variables": {"first_name": "Marc"}},
            ]
        },
    )
    call(api, alice, "POST", f"/campaigns/{second['id']}/launch", {})
    wait_for(lambda: call(api, alice, "GET", f"/campaigns/{second['id']}")["status"] == "completed")
    second_stats = call(api, alice, "GET", f"/campaigns/{second['id']}/stats")
    report.check(
        "STOP: the second campaign skips the opted-out number",
        second_stats["counts"]["suppressed"] == 1 and second_stats["counts"]["queued"] == 1,
    )
    stack.wait_idle(timeout=30)
    # This scenario's messages only: the stack may have run other campaigns before it.
    ours = {campaign["id"], second["id"]}
    sent = [
        message
        for message in stack.carrier.sent_messages()
        if message.context.get("campaign") in ours
    ]
    report.check(
        "carrier: nothing was sent to the opted-out number after its STOP",
        sum(1 for message in sent if message.destination == MARC) == 1,
    )
    final = [
        call(api, alice, "GET", f"/campaigns/{item['id']}/stats") for item in (campaign, second)
    ]
    report.figures = {
        "messages sent": len(sent),
        "delivered": sum(stat["counts"]["delivered"] for stat in final),
        "replies stored": len(call(api, alice, "GET", of_campaign)["items"]),
        "suppressions": sum(stat["counts"]["suppressed"] for stat in final),
        "skipped without consent": sum(stat["counts"]["no_consent"] for stat in final),
    }
    return report


def _sealed_in_team_prefix(stack: LocalStack, campaign_id: str, plaintext: str) -> bool:
    s3 = stack.client("s3")
    bucket = stack.outputs["ReplyBucketName"]
    prefix = f"replies/team=sales/campaign={campaign_id}/"
    keys = [
        item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ]
    bodies = [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys]
    return len(bodies) == 2 and not any(plaintext.encode() in body for body in bodies)


def run_demo() -> int:
    clock_start = demo_clock(datetime.now(UTC))
    started = time.monotonic()
    print("Starting a fresh local stack...", flush=True)
    with LocalStack(api_port=0, clock_start=clock_start, retry_after_seconds=2) as stack:
        if clock_start is not None:
            print(
                f"Outside the sending window now: the functions' clock is set to {clock_start:%Y-%m-%d %H:%M} UTC."
            )
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        try:
            report = run_scenario(stack, tokens)
        except Exception as exc:
            print(f"The demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(f"\nCloison demo ({time.monotonic() - started:.0f} s from a cold start)\n")
    print(report.render())
    print("\nAll steps passed." if report.passed else "\nSome steps FAILED.")
    return 0 if report.passed else 1
