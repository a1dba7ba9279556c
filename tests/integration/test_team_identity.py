"""Each team its own voice, on a local stack of its own where team support has its own short
code (its team stack's pool) and team sales sends from the shared one: what support sends
leaves from its number, what people write to that number is support's alone (even when sales
messaged them too), HELP is answered from it, and its keyword starts a sign-up there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from local_api import (
    api,
    campaign_for,
    carrier,
    demo_tokens,
    ok,
    problem_of,
    stack_of_its_own,
    wait_until,
)

from cloison_local.stack import LocalStack

# Team support's own short code (fictional), and made-up mobiles of this test alone.
SUPPORT_CODE = "36112"
BOTH_TEAMS = "+33751006201"
KEYWORD_PERSON = "+33751006202"
PROFILE = {
    "sender_id": SUPPORT_CODE,
    "stop_mention": f"STOP au {SUPPORT_CODE}",
    "company": "Exemple Services",
    "contact": "services.exemple.fr",
}
NOTICE_FR = {
    "organisation": "Exemple Services",
    "purpose": "Vous prévenir de nos interventions par SMS.",
    "frequency": "Au plus 2 SMS par mois.",
    "retention": "3 ans après notre dernier échange.",
    "rights": "Accès, rectification, effacement : dpo@exemple.fr.",
    "stop": f"STOP au {SUPPORT_CODE}",
}


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    own = {"support": SUPPORT_CODE}
    with stack_of_its_own(tmp_path_factory, "identity", team_identities=own) as running:
        yield running


@pytest.fixture(scope="module")
def own_tokens(own_stack: LocalStack) -> dict[str, str]:
    return demo_tokens(own_stack)


@pytest.fixture(scope="module")
def support_pool(own_stack: LocalStack, own_tokens: dict[str, str]) -> str:
    """Team support's pool, named by its sender profile `own` (keyword ALERTES)."""
    pool = own_stack.team_stacks["support"].outputs["TeamPoolArn"]
    profile = PROFILE | {"origination": pool, "keyword": "alertes"}
    put = api(own_stack, own_tokens["ada"], "PUT", "/teams/support/senders/own", json=profile)
    answer = ok(put)
    assert answer["numbers"] == [SUPPORT_CODE]
    assert answer["receives_replies"] is True
    assert answer["keyword"] == "ALERTES"
    return pool


def launch(stack: LocalStack, token: str, campaign: str) -> None:
    assert api(stack, token, "POST", f"/campaigns/{campaign}/launch", json={}).status_code == 202


def sends_to(stack: LocalStack, number: str) -> list[Any]:
    return [m for m in carrier(stack).sent_messages() if m.destination == number]


def replies_of(stack: LocalStack, token: str) -> list[dict[str, Any]]:
    return list(api(stack, token, "GET", "/replies").json()["items"])


def test_a_pool_that_is_not_the_team_s_or_a_keyword_that_means_something_is_refused(
    own_stack: LocalStack, own_tokens: dict[str, str], support_pool: str
) -> None:
    ada = own_tokens["ada"]
    # When team sales names support's pool, Then a 422 names `origination`
    stolen = api(
        own_stack,
        ada,
        "PUT",
        "/teams/sales/senders/stolen",
        json=PROFILE | {"origination": support_pool},
    )
    [error] = problem_of(stolen, 422)["errors"]
    assert error["field"] == "origination"
    assert "team sales" in error["reason"]
    # When a pool the account does not have is named, Then the same field is named
    ghost = support_pool.rsplit("/", 1)[0] + "/pool-0000"
    missing = api(
        own_stack, ada, "PUT", "/teams/support/senders/ghost", json=PROFILE | {"origination": ghost}
    )
    assert [e["field"] for e in problem_of(missing, 422)["errors"]] == ["origination"]
    # When the keyword already means something in a reply, Then a 422 names `keyword`
    for word in ("STOP", "aide", "oui", "START"):
        refused = api(
            own_stack,
            ada,
            "PUT",
            "/teams/support/senders/own",
            json=PROFILE | {"origination": support_pool, "keyword": word},
        )
        assert [e["field"] for e in problem_of(refused, 422)["errors"]] == ["keyword"], word
    # When another profile of the team takes the same keyword on the same number, Then 409
    taken = api(
        own_stack,
        ada,
        "PUT",
        "/teams/support/senders/other",
        json=PROFILE | {"origination": support_pool, "keyword": "ALERTES"},
    )
    assert taken.status_code == 409, taken.text


def test_a_team_with_its_own_number_sends_from_it_and_receives_exactly_its_replies(
    own_stack: LocalStack, own_tokens: dict[str, str], support_pool: str
) -> None:
    alice, bruno, ada = own_tokens["alice"], own_tokens["bruno"], own_tokens["ada"]
    for team in ("support", "sales"):
        consent = {"team": team, "phone": BOTH_TEAMS, "source": "web form", "proof": "Oui"}
        assert api(own_stack, ada, "POST", "/consents", json=consent).status_code == 201
    # Given team sales sends to a number from the shared pool, then team support from its own
    sales = campaign_for(own_stack, alice, [BOTH_TEAMS])
    launch(own_stack, alice, sales)
    assert wait_until(lambda: len(sends_to(own_stack, BOTH_TEAMS)) == 1)
    support = campaign_for(own_stack, bruno, [BOTH_TEAMS], team="support", sender="own")
    launch(own_stack, bruno, support)
    assert wait_until(lambda: len(sends_to(own_stack, BOTH_TEAMS)) == 2)
    assert own_stack.wait_idle(timeout=90)

    # Then each message left from its team's number
    by_campaign = {m.context["campaign"]: m.origination for m in sends_to(own_stack, BOTH_TEAMS)}
    assert by_campaign == {sales: own_stack.outputs["ShortCode"], support: SUPPORT_CODE}

    # When the person writes to support's number
    reply_id = carrier(own_stack).inject_reply(BOTH_TEAMS, SUPPORT_CODE, "Merci pour l'info")

    # Then the reply is support's, matched to its campaign, though sales messaged them too
    assert wait_until(lambda: any(r["id"] == reply_id for r in replies_of(own_stack, bruno)))
    [entry] = [r for r in replies_of(own_stack, bruno) if r["id"] == reply_id]
    assert entry["campaign_id"] == support
    assert all(r["id"] != reply_id for r in replies_of(own_stack, alice))

    # When they ask for HELP at that number, Then the answer leaves from it, naming support
    carrier(own_stack).inject_reply(BOTH_TEAMS, SUPPORT_CODE, "AIDE")
    assert wait_until(lambda: len(sends_to(own_stack, BOTH_TEAMS)) == 3)
    answer = sends_to(own_stack, BOTH_TEAMS)[-1]
    assert answer.origination == SUPPORT_CODE
    assert "Exemple Services" in answer.body


def test_the_team_s_keyword_texted_to_its_number_starts_a_double_opt_in_there(
    own_stack: LocalStack, own_tokens: dict[str, str], support_pool: str
) -> None:
    ada = own_tokens["ada"]
    notice = ok(api(own_stack, ada, "PUT", "/teams/support/notice", json={"fr": NOTICE_FR}))
    # When a person texts the keyword to support's number
    carrier(own_stack).inject_reply(KEYWORD_PERSON, SUPPORT_CODE, "Alertes !")

    # Then a confirmation leaves from that number, asking for OUI and naming the organisation
    assert wait_until(lambda: len(sends_to(own_stack, KEYWORD_PERSON)) == 1)
    [confirmation] = sends_to(own_stack, KEYWORD_PERSON)
    assert confirmation.origination == SUPPORT_CODE
    assert "Exemple Services" in confirmation.body
    assert "OUI" in confirmation.body

    # When they reply OUI to it, Then team support holds their consent, with its proof
    reply_id = carrier(own_stack).inject_reply(KEYWORD_PERSON, SUPPORT_CODE, "oui")

    def consents() -> list[dict[str, Any]]:
        request = {"kind": "access", "phone": KEYWORD_PERSON, "reason": "vérification"}
        answer = api(own_stack, own_tokens["priya"], "POST", "/privacy/requests", json=request)
        return list(ok(answer)["export"]["consents"])

    assert wait_until(lambda: bool(consents()))
    [consent] = consents()
    assert consent["team"] == "support"
    assert consent["notice"]["hash"] == notice["hash"]
    assert consent["signup"]["page"] == "SMS ALERTES"
    assert consent["signup"]["confirmed_by"] == reply_id
