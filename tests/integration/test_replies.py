"""Replies through the local stack: automatic answers, START with consent, the review queue."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jwt
from local_api import (
    api,
    audit_entries,
    campaign_for,
    carrier,
    consent,
    on_provider_list,
    reply,
    send_to,
    sent,
    wait_until,
)

from cloison_local.stack import LocalStack

# Fictional mobiles next to phonenumbers' French example; each test has its own.
HELPED = "+33751002001"
RESUBSCRIBED = "+33751002002"
NEVER_CONSENTED = "+33751002003"
CONFIRMED = "+33751002004"
LIFTED = "+33751002005"
IN_PARIS = "+33751002006"
IN_GUADELOUPE = "+590690002006"


def suppressed_count(stack: LocalStack, token: str, numbers: list[str]) -> int:
    """How many of `numbers` the send path would skip as suppressed now (a preview decides it)."""
    campaign = campaign_for(stack, token, numbers, kind="transactional")
    preview = api(stack, token, "GET", f"/campaigns/{campaign}/preview")
    assert preview.status_code == 200, preview.text
    return int(preview.json()["counts"]["suppressed"])


def subject(token: str) -> str:
    """The Cognito subject a token names: who the audit trail says acted."""
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def test_help_and_contact_are_answered_once_with_the_senders_identity(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a campaign message received by a consenting person
    consent(stack, tokens["alice"], HELPED)
    send_to(stack, tokens["alice"], [HELPED])
    # When they answer HELP (delivered twice by SNS) and then ask who is writing
    help_reply = reply(stack, tokens["alice"], HELPED, "AIDE", copies=2)
    contact_reply = reply(stack, tokens["alice"], HELPED, "Qui êtes-vous ?")
    # Then each gets one answer, through the pool from the number they wrote to, naming the sender
    answers = {
        message.context.get("answer_to"): message
        for message in carrier(stack).sent_messages()
        if message.destination == HELPED and message.context.get("answer_to")
    }
    assert set(answers) == {help_reply["id"], contact_reply["id"]}
    assert (
        sum(
            1
            for message in carrier(stack).sent_messages()
            if message.context.get("answer_to") == help_reply["id"]
        )
        == 1
    )
    for answer in answers.values():
        assert answer.origination == stack.outputs["ShortCode"]
        assert "Boutique Exemple" in answer.body
        assert "sales.exemple.fr/aide" in answer.body
        assert f"STOP au {stack.outputs['ShortCode']}" in answer.body
    assert help_reply["reply_class"] == "HELP"
    assert help_reply["answered"] is True
    assert contact_reply["reply_class"] == "CONTACT"
    assert contact_reply["answered"] is True


def test_start_lifts_a_stop_only_when_a_recorded_consent_allows_it(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    # Given two people who both said STOP: one had consented, the other never did
    consent(stack, alice, RESUBSCRIBED)
    send_to(stack, alice, [RESUBSCRIBED, NEVER_CONSENTED], kind="transactional")
    reply(stack, alice, RESUBSCRIBED, "STOP")
    reply(stack, alice, NEVER_CONSENTED, "Stop")
    assert suppressed_count(stack, alice, [RESUBSCRIBED, NEVER_CONSENTED]) == 2
    assert on_provider_list(stack, RESUBSCRIBED)
    # When both answer START
    lifted = reply(stack, alice, RESUBSCRIBED, "START")
    kept = reply(stack, alice, NEVER_CONSENTED, "start")
    # Then only the consenting person is sendable again, here and at the provider
    assert lifted["resubscription"] == "lifted"
    assert kept["resubscription"] == "no_consent"
    assert suppressed_count(stack, alice, [RESUBSCRIBED]) == 0
    assert suppressed_count(stack, alice, [NEVER_CONSENTED]) == 1
    assert not on_provider_list(stack, RESUBSCRIBED)
    assert on_provider_list(stack, NEVER_CONSENTED)
    # And a START with nothing to lift says so
    again = reply(stack, alice, RESUBSCRIBED, "START")
    assert again["resubscription"] == "not_suppressed"


def test_ambiguous_opt_outs_wait_in_the_review_queue_for_a_person(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice, priya, bruno = tokens["alice"], tokens["priya"], tokens["bruno"]
    send_to(stack, alice, [CONFIRMED, LIFTED], kind="transactional")
    # Given two replies that may be opt-outs
    confirmed = reply(stack, alice, CONFIRMED, "Arrêtez de m'écrire svp")
    lifted = reply(stack, alice, LIFTED, "Pourquoi vous arrêtez les promos ? Envoyez plus")
    # Then both are suppressed at once and wait for review, seen by the team and privacy officer
    for item in (confirmed, lifted):
        assert item["reply_class"] == "OPT_OUT_REVIEW"
        assert item["review"] == "pending"
    assert suppressed_count(stack, alice, [CONFIRMED, LIFTED]) == 2
    for token in (alice, priya):
        queue = api(stack, token, "GET", "/replies", params={"review": "pending"}).json()
        assert {confirmed["id"], lifted["id"]} <= {item["id"] for item in queue["items"]}
    # Another team neither lists nor reviews them
    queue = api(stack, bruno, "GET", "/replies", params={"review": "pending"}).json()
    assert not {confirmed["id"], lifted["id"]} & {item["id"] for item in queue["items"]}
    path = f"/replies/{confirmed['id']}/review"
    assert api(stack, bruno, "POST", path, json={"decision": "confirm"}).status_code == 404

    # When a member confirms the first one
    done = api(stack, alice, "POST", path, json={"decision": "confirm"})
    # Then it leaves the queue, stays suppressed, and cannot be decided twice
    assert done.status_code == 200, done.text
    assert done.json()["review"] == "confirmed"
    assert api(stack, alice, "POST", path, json={"decision": "lift"}).status_code == 409

    # A member may not lift an opt-out; the privacy officer may, with the reply's own number
    path = f"/replies/{lifted['id']}/review"
    refused = api(stack, alice, "POST", path, json={"decision": "lift", "phone": LIFTED})
    assert refused.status_code == 403
    wrong = api(stack, priya, "POST", path, json={"decision": "lift", "phone": CONFIRMED})
    assert wrong.status_code == 422
    assert "phone" in wrong.text
    missing = api(stack, priya, "POST", path, json={"decision": "lift"})
    assert missing.status_code == 422
    done = api(stack, priya, "POST", path, json={"decision": "lift", "phone": LIFTED})
    assert done.status_code == 200, done.text
    assert done.json()["review"] == "lifted"
    assert suppressed_count(stack, alice, [LIFTED]) == 0
    assert suppressed_count(stack, alice, [CONFIRMED]) == 1
    assert not on_provider_list(stack, LIFTED)
    queue = api(stack, priya, "GET", "/replies", params={"review": "pending"}).json()
    assert not {confirmed["id"], lifted["id"]} & {item["id"] for item in queue["items"]}

    # And the auditor finds each decision once, with who made it, in which team, on what and
    # why; the refused attempts (a member lifting, a wrong or missing number, a second
    # decision) left no entry
    auditor = tokens["aurele"]
    all_reviews = audit_entries(stack, auditor, action="reply.review", team="sales")
    all_lifts = audit_entries(stack, auditor, action="suppression.lift", team="sales")
    reviews = [entry for entry in all_reviews if entry["target"] == f"reply/{confirmed['id']}"]
    assert [
        (entry["actor"], entry["actor_name"], entry["team"], entry["reason"], entry["details"])
        for entry in reviews
    ] == [
        (
            subject(alice),
            "alice",
            "sales",
            None,
            {"decision": "confirm", "reply_class": "OPT_OUT_REVIEW"},
        )
    ]
    lifts = [entry for entry in all_lifts if entry["details"].get("reply") == lifted["id"]]
    assert [
        (entry["actor"], entry["actor_name"], entry["team"], entry["target"], entry["reason"])
        for entry in lifts
    ] == [
        (
            subject(priya),
            "priya",
            "sales",
            f"suppression/***{LIFTED[-2:]}",
            "not_an_opt_out",
        )
    ]
    assert lifts[0]["details"] == {"reply": lifted["id"], "scope": "all"}
    assert not [entry for entry in all_reviews if entry["target"] == f"reply/{lifted['id']}"]
    assert not [entry for entry in all_lifts if entry["details"].get("reply") == confirmed["id"]]


def test_a_stop_during_a_campaign_stops_its_later_sends_even_those_already_queued(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    # Given a campaign launched at 09:00 in Paris, 04:00 in Guadeloupe: Paris is sent at once,
    # Guadeloupe is queued for its 08:00 opening
    previous = stack.clock_offset
    stack.set_clock(datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    try:
        campaign = campaign_for(stack, alice, [IN_PARIS, IN_GUADELOUPE], kind="transactional")
        assert (
            api(stack, alice, "POST", f"/campaigns/{campaign}/launch", json={}).status_code == 202
        )
        stats_path = f"/campaigns/{campaign}/stats"
        assert wait_until(lambda: sent(stack, campaign) == [IN_PARIS])
        stack.wait_idle(timeout=30)
        assert api(stack, alice, "GET", stats_path).json()["counts"]["deferred"] == 1
        # When the Guadeloupe number says STOP meanwhile (to an earlier message, or none)
        carrier(stack).inject_reply(IN_GUADELOUPE, stack.outputs["ShortCode"], "STOP")
        stack.wait_idle(timeout=30)
        # And the clock reaches its opening
        stack.set_clock(datetime(2026, 12, 1, 8, 5, tzinfo=ZoneInfo("America/Guadeloupe")))
        done = wait_until(
            lambda: api(stack, alice, "GET", stats_path).json()["status"] == "completed", 60
        )
        # Then the queued send never happens: it is recorded as suppressed
        assert done
        counts = api(stack, alice, "GET", stats_path).json()["counts"]
        assert counts["suppressed"] == 1
        assert counts["deferred"] == 0
        assert sent(stack, campaign) == [IN_PARIS]
    finally:
        stack.clock_offset = previous
