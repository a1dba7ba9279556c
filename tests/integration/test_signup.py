"""Sign-up by double opt-in through a local stack of its own (a small daily budget, limits of its
own, a clock it moves): the confirmation SMS, the reply that makes the consent, its proof in an
access export; then a flood from one address, on one block of numbers and beyond the team's
budget, while a real sign-up from another address still goes through; and a number waiting for
two teams, each confirmed by the reply its SMS asked for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from local_api import (
    access_export,
    api,
    campaign_for,
    carrier,
    demo_tokens,
    ok,
    problem_of,
    sent,
    signup_confirmations,
    stack_of_its_own,
    wait_until,
)
from local_api import sign_up as sign_up_on

from cloison_local.stack import LocalStack

BUDGET = 15
# Requests per address an hour, confirmations per number a day, requests per block an hour:
# stack parameters, set apart from their defaults to see them reach the function.
ADDRESS_LIMIT = 4
NUMBER_LIMIT = 2
PREFIX_LIMIT = 10
# Fictional mobiles of this test alone, all in one block (`+337510`).
PERSON = "+33751005001"
ADDRESS_FLOOD = [f"+337510050{n:02d}" for n in range(2, 22)]
PREFIX_FLOOD = [f"+337510050{n:02d}" for n in range(22, 42)]
BUDGET_FLOOD = [f"+337510050{n:02d}" for n in range(42, 62)]
ONE_NUMBER = "+33751005062"
LATE = "+33751005063"
# Of another block than the others: asked for, never confirmed.
UNCONFIRMED = "+33612300064"
TWO_TEAMS = "+33751009501"
NOTICE_FR = {
    "organisation": "Boutique Exemple",
    "purpose": "Vous informer des ventes privées par SMS.",
    "frequency": "Au plus 4 SMS par mois.",
    "retention": "3 ans après notre dernier échange.",
    "rights": "Accès, rectification, effacement : dpo@exemple.fr.",
    "stop": "STOP au 36111",
}
PAGE = "https://exemple.fr/inscription"
SUPPORT_NOTICE_FR = NOTICE_FR | {
    "organisation": "Exemple Services",
    "purpose": "Vous prévenir des interventions par SMS.",
}


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose team budget a test can exhaust, and whose clock it can move."""
    with stack_of_its_own(
        tmp_path_factory,
        "signup",
        parameters={
            "SignupDailyBudget": str(BUDGET),
            "SignupAddressLimit": str(ADDRESS_LIMIT),
            "SignupNumberLimit": str(NUMBER_LIMIT),
            "SignupPrefixLimit": str(PREFIX_LIMIT),
        },
    ) as running:
        yield running


@pytest.fixture(scope="module")
def own_tokens(own_stack: LocalStack) -> dict[str, str]:
    return demo_tokens(own_stack)


@pytest.fixture(scope="module")
def notice(own_stack: LocalStack, own_tokens: dict[str, str]) -> str:
    put = api(own_stack, own_tokens["ada"], "PUT", "/teams/sales/notice", json={"fr": NOTICE_FR})
    return str(ok(put)["hash"])


def sign_up(
    stack: LocalStack, address: str, phone: str, notice: str, team: str = "sales"
) -> tuple[int, Any]:
    """POST /signup/{team} from `address`, from this test's page."""
    return sign_up_on(stack, address, phone, notice, team=team, page=PAGE)


def test_a_person_signs_up_confirms_by_reply_and_the_consent_holds_its_proof(
    own_stack: LocalStack, own_tokens: dict[str, str], notice: str
) -> None:
    # When a person asks for a sign-up on team sales' page
    status, body = sign_up(own_stack, "127.0.0.2", PERSON, notice)

    # Then the answer is a 202, and one SMS asks them for OUI, naming the organisation
    assert status == 202
    assert body["status"] == "pending"
    assert wait_until(lambda: len(signup_confirmations(own_stack, [PERSON])) == 1)
    [sms] = signup_confirmations(own_stack, [PERSON])
    assert "Boutique Exemple" in sms.body
    assert "répondez OUI" in sms.body
    assert "STOP au 36111" in sms.body
    # And no consent exists yet
    assert access_export(own_stack, own_tokens["priya"], PERSON)["consents"] == []

    # When they reply OUI
    reply_id = carrier(own_stack).inject_reply(PERSON, own_stack.outputs["ShortCode"], "Oui")
    assert wait_until(
        lambda: bool(access_export(own_stack, own_tokens["priya"], PERSON)["consents"])
    )

    # Then the consent holds the notice, the page, the address, both times and the reply's id
    [consent] = access_export(own_stack, own_tokens["priya"], PERSON)["consents"]
    assert (consent["team"], consent["purpose"]) == ("sales", "marketing")
    assert consent["notice"]["hash"] == notice
    assert consent["notice"]["fr"] == NOTICE_FR
    proof = consent["signup"]
    assert proof["page"] == PAGE
    assert proof["source_address"] == "127.0.0.2"
    assert proof["confirmed_by"] == reply_id
    assert proof["requested_at"] < proof["confirmed_at"]

    # And a second request for the number sends nothing, with the same answer
    assert sign_up(own_stack, "127.0.0.2", PERSON, notice) == (status, body)
    own_stack.wait_idle(timeout=30)
    assert len(signup_confirmations(own_stack, [PERSON])) == 1


def test_answers_are_the_same_whatever_the_number_or_team_and_bad_input_is_a_422(
    own_stack: LocalStack, notice: str
) -> None:
    accepted = sign_up(own_stack, "127.0.0.3", LATE, "0" * 64)
    assert accepted[0] == 202
    assert sign_up(own_stack, "127.0.0.3", LATE, notice, team="ghost") == accepted
    assert signup_confirmations(own_stack, [LATE]) == []
    refused = problem_of(
        api(own_stack, None, "POST", "/signup/sales", json={"phone": "+447400123456"}), 422
    )
    fields = {error["field"].rsplit(".", 1)[-1] for error in refused["errors"]}
    assert {"notice", "page"} <= fields
    foreign = api(
        own_stack,
        None,
        "POST",
        "/signup/sales",
        json={"phone": "+447400123456", "notice": notice, "page": PAGE},
    )
    assert [error["field"] for error in problem_of(foreign, 422)["errors"]] == ["phone"]
    own_stack.wait_idle(timeout=30)
    assert signup_confirmations(own_stack, [LATE]) == []


def test_a_flood_is_held_by_each_limit_and_the_budget_while_real_sign_ups_go_through(
    own_stack: LocalStack, notice: str
) -> None:
    # When one address asks for 20 numbers
    for number in ADDRESS_FLOOD:
        assert sign_up(own_stack, "127.0.0.10", number, notice)[0] == 202
    # Then it is sent its limit's worth of confirmations
    address_sent = len(signup_confirmations(own_stack, ADDRESS_FLOOD))
    assert address_sent == ADDRESS_LIMIT

    # When one number is asked for from 6 addresses, Then it gets its limit's worth at most
    for index in range(6):
        assert sign_up(own_stack, f"127.0.1.{index + 1}", ONE_NUMBER, notice)[0] == 202
    assert len(signup_confirmations(own_stack, [ONE_NUMBER])) == NUMBER_LIMIT

    # When 20 addresses ask for 20 numbers of the same block within the hour
    for index, number in enumerate(PREFIX_FLOOD):
        assert sign_up(own_stack, f"127.0.2.{index + 1}", number, notice)[0] == 202
    # Then the block got its limit's worth in the hour (the first test's person's among them),
    # some of them to this flood
    assert len(signup_confirmations(own_stack)) == PREFIX_LIMIT
    assert signup_confirmations(own_stack, PREFIX_FLOOD)

    # When an hour later a real person signs up from an address of their own
    own_stack.set_clock(datetime.now(UTC) + own_stack.clock_offset + timedelta(minutes=61))
    assert sign_up(own_stack, "127.0.3.1", LATE, notice)[0] == 202
    # Then they are sent their confirmation
    assert len(signup_confirmations(own_stack, [LATE])) == 1

    # When 20 more addresses ask for 20 more numbers the same day
    for index, number in enumerate(BUDGET_FLOOD):
        assert sign_up(own_stack, f"127.0.4.{index + 1}", number, notice)[0] == 202
    own_stack.wait_idle(timeout=30)
    # Then the team's budget holds: the day's confirmations are exactly its budget
    total = len(signup_confirmations(own_stack))
    assert total == BUDGET, f"{total} confirmations sent, budget {BUDGET}"


def test_the_page_reads_the_notice_without_a_token_and_the_team_reads_its_counts(
    own_stack: LocalStack, own_tokens: dict[str, str], notice: str
) -> None:
    # When the team's page, and the page of a team without a notice, are read without a token
    page = ok(api(own_stack, None, "GET", "/signup/sales"))
    absent = api(own_stack, None, "GET", "/signup/ghost")

    # Then the page has the latest notice, its hash and the keywords; the other is a 404
    assert (page["team"], page["hash"], page["fr"], page["en"]) == (
        "sales",
        notice,
        NOTICE_FR,
        None,
    )
    assert page["keywords"] == {"fr": "OUI", "en": "YES"}
    assert page["confirmation_hours"] == 24
    assert "created_by" not in page
    problem_of(absent, 404)

    # When a member of team sales reads its sign-ups, after the floods above
    own_stack.wait_idle(timeout=30)
    status = ok(api(own_stack, own_tokens["alice"], "GET", "/teams/sales/signup"))

    # Then every number sent a confirmation waits but the one that confirmed, and the day's
    # budget is spent; a member of another team is told the team does not exist
    waiting = {message.destination for message in signup_confirmations(own_stack)} - {PERSON}
    assert status["pending"] == len(waiting)
    assert (status["budget"]["used"], status["budget"]["total"]) == (BUDGET, BUDGET)
    problem_of(api(own_stack, own_tokens["bruno"], "GET", "/teams/sales/signup"), 404)


def test_a_number_waiting_for_two_teams_confirms_each_by_the_reply_its_sms_asked_for(
    own_stack: LocalStack, own_tokens: dict[str, str], notice: str
) -> None:
    # Given two days later (the flood's limits and budget behind), team support's notice
    own_stack.set_clock(own_stack.now() + timedelta(days=2))
    put = api(
        own_stack,
        own_tokens["ada"],
        "PUT",
        "/teams/support/notice",
        json={"fr": SUPPORT_NOTICE_FR},
    )
    support_notice = str(ok(put)["hash"])

    # When a number is signed up to team sales, then to team support
    assert sign_up(own_stack, "127.0.6.1", TWO_TEAMS, notice)[0] == 202
    assert sign_up(own_stack, "127.0.6.2", TWO_TEAMS, support_notice, team="support")[0] == 202

    # Then sales' SMS asks for OUI, and support's, both from the pool, for OUI 2
    assert wait_until(lambda: len(signup_confirmations(own_stack, [TWO_TEAMS])) == 2)
    first, second = signup_confirmations(own_stack, [TWO_TEAMS])
    assert "Boutique Exemple" in first.body
    assert "répondez OUI." in first.body
    assert "Exemple Services" in second.body
    assert "répondez OUI 2." in second.body
    waiting = access_export(own_stack, own_tokens["priya"], TWO_TEAMS)["signups"]
    assert [(item["team"], item["keyword"]) for item in waiting] == [
        ("support", "OUI 2"),
        ("sales", "OUI"),
    ]

    # When the person replies OUI 2
    carrier(own_stack).inject_reply(TWO_TEAMS, own_stack.outputs["ShortCode"], "Oui 2")
    assert wait_until(
        lambda: bool(access_export(own_stack, own_tokens["priya"], TWO_TEAMS)["consents"])
    )

    # Then team support has its consent, and team sales' sign-up still waits for its OUI
    export = access_export(own_stack, own_tokens["priya"], TWO_TEAMS)
    assert [consent["team"] for consent in export["consents"]] == ["support"]
    assert [item["team"] for item in export["signups"]] == ["sales"]


def test_the_signed_up_person_is_sent_the_team_s_next_campaign_and_an_unconfirmed_one_is_not(
    own_stack: LocalStack, own_tokens: dict[str, str], notice: str
) -> None:
    # Given the first person, confirmed, and a number asked for but never confirmed
    assert sign_up(own_stack, "127.0.0.4", UNCONFIRMED, notice)[0] == 202
    assert wait_until(lambda: len(signup_confirmations(own_stack, [UNCONFIRMED])) == 1)

    # When team sales sends its next marketing campaign to both
    campaign = campaign_for(own_stack, own_tokens["alice"], [PERSON, UNCONFIRMED])
    launch = api(own_stack, own_tokens["alice"], "POST", f"/campaigns/{campaign}/launch", json={})
    assert launch.status_code == 202

    # Then the confirmed person is sent it, and the other is recorded without consent
    assert wait_until(lambda: PERSON in sent(own_stack, campaign))
    assert own_stack.wait_idle(timeout=90)
    assert sent(own_stack, campaign) == [PERSON]
    stats = ok(api(own_stack, own_tokens["alice"], "GET", f"/campaigns/{campaign}/stats"))
    assert stats["counts"]["no_consent"] == 1
    # And the proof of the consent the send relied on is in the person's access export
    [consent] = access_export(own_stack, own_tokens["priya"], PERSON)["consents"]
    assert consent["signup"]["page"] == PAGE
    assert consent["notice"]["hash"] == notice
