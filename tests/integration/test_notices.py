"""Teams' notices through the local stack: put by administrators, a new version for each change
and none for the same texts, read by the team and refused to others as a team that does not
exist; a consent naming the version the person saw, refused for one the team never had; and an
access export that shows it."""

from __future__ import annotations

from typing import Any

import pytest
from local_api import api, audit_entries, consent_answer, ok, problem_of

from cloison_local.stack import LocalStack

# Fictional mobiles of this test alone.
PERSON = "+33751004006"
MISTYPED = "+33751004007"
OTHER_TEAMS = "+33751004008"

NOTICE_FR = {
    "organisation": "Boutique Exemple SAS, service client, Lyon",
    "purpose": "Vous informer des ventes privées de la boutique par SMS.",
    "frequency": "Au plus 4 SMS par mois.",
    "retention": "3 ans après notre dernier échange.",
    "rights": "Accès, rectification, effacement : dpo@exemple.fr ou par courrier.",
    "stop": "Répondez STOP au 36111.",
}
NOTICE_EN = {
    "organisation": "Boutique Exemple SAS, customer service, Lyon",
    "purpose": "Telling you about the shop's private sales by SMS.",
    "frequency": "At most 4 texts a month.",
    "retention": "3 years after our last exchange.",
    "rights": "Access, rectification, erasure: dpo@exemple.fr or by post.",
    "stop": "Reply STOP to 36111.",
}


def put_notice(stack: LocalStack, token: str, team: str, **texts: Any) -> Any:
    return api(stack, token, "PUT", f"/teams/{team}/notice", json=texts)


def versions(stack: LocalStack, token: str, team: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(api(stack, token, "GET", f"/teams/{team}/notice/versions"))[
        "items"
    ]
    return items


@pytest.fixture(scope="module")
def seen(stack: LocalStack, tokens: dict[str, str]) -> dict[str, Any]:
    """The version of team sales' notice a person reads, in French and English; another
    version has been put since."""
    first: dict[str, Any] = ok(
        put_notice(stack, tokens["ada"], "sales", fr=NOTICE_FR, en=NOTICE_EN)
    )
    changed = NOTICE_FR | {"frequency": "Au plus 2 SMS par mois."}
    ok(put_notice(stack, tokens["ada"], "sales", fr=changed, en=NOTICE_EN))
    return first


def test_each_change_is_a_new_version_and_the_same_texts_are_none(
    stack: LocalStack, tokens: dict[str, str], seen: dict[str, Any]
) -> None:
    # Given team sales' notice, changed once since the version the person saw
    before = versions(stack, tokens["alice"], "sales")
    latest = ok(api(stack, tokens["alice"], "GET", "/teams/sales/notice"))

    # When an administrator puts the latest texts again
    again = put_notice(stack, tokens["ada"], "sales", fr=latest["fr"], en=latest["en"])

    # Then the answer is the latest version, and no version was added
    assert ok(again) == latest
    assert versions(stack, tokens["alice"], "sales") == before
    # And the versions are listed newest first, each with its hash, the seen one among them
    assert [item["version"] for item in before] == sorted(
        (item["version"] for item in before), reverse=True
    )
    assert before[0]["hash"] == latest["hash"]
    assert {"version": seen["version"], "hash": seen["hash"]}.items() <= next(
        item for item in before if item["version"] == seen["version"]
    ).items()
    assert latest["version"] == seen["version"] + 1
    assert latest["fr"]["frequency"] == "Au plus 2 SMS par mois."
    assert len(seen["hash"]) == 64
    # And each new version was audited
    puts = audit_entries(stack, tokens["aurele"], action="notice.put", team="sales")
    targets = {entry["target"] for entry in puts}
    assert {f"notice/sales/{seen['version']}", f"notice/sales/{latest['version']}"} <= targets


def test_only_administrators_put_and_another_team_is_told_it_does_not_exist(
    stack: LocalStack, tokens: dict[str, str], seen: dict[str, Any]
) -> None:
    # Given the versions of team sales' notice (other tests of the session may have put some)
    before = versions(stack, tokens["alice"], "sales")
    assert seen["hash"] in {item["hash"] for item in before}

    # When a member of team sales puts her team's notice
    by_member = put_notice(stack, tokens["alice"], "sales", fr=NOTICE_FR)
    # And a member of team support reads team sales', and a team's that does not exist
    outsider = api(stack, tokens["bruno"], "GET", "/teams/sales/notice")
    ghost = api(stack, tokens["bruno"], "GET", "/teams/ghost-team/notice")
    outsider_versions = api(stack, tokens["bruno"], "GET", "/teams/sales/notice/versions")
    ghost_versions = api(stack, tokens["bruno"], "GET", "/teams/ghost-team/notice/versions")

    # Then the member is refused, and the outsider gets the 404 of a team that does not exist
    problem_of(by_member, 403)
    assert problem_of(outsider, 404) == problem_of(ghost, 404)
    assert problem_of(outsider_versions, 404) == problem_of(ghost_versions, 404)
    assert "Boutique" not in outsider.text + outsider_versions.text
    # And the notice is as it was
    assert versions(stack, tokens["alice"], "sales") == before


def test_a_notice_without_french_or_with_an_unknown_field_is_refused(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given team support's notice versions
    before = versions(stack, tokens["bruno"], "support")

    # When an administrator puts one in English only, and one with a field notices do not have
    english_only = put_notice(stack, tokens["ada"], "support", en=NOTICE_EN)
    unknown = put_notice(stack, tokens["ada"], "support", fr=NOTICE_FR | {"colour": "bleu"})

    # Then both are 422 problems, and no version was added
    assert "fr" in {error["field"] for error in problem_of(english_only, 422)["errors"]}
    problem_of(unknown, 422)
    assert versions(stack, tokens["bruno"], "support") == before


def test_a_consent_names_the_version_seen_and_the_access_export_shows_its_words(
    stack: LocalStack, tokens: dict[str, str], seen: dict[str, Any]
) -> None:
    # Given a person who consented after reading the first version of team sales' notice
    given = consent_answer(stack, tokens["alice"], PERSON, notice=seen["hash"])
    assert given.status_code == 201, given.text
    assert given.json()["notice"] == seen["hash"]

    # When a privacy officer exports everything held about the number
    receipt = ok(
        api(
            stack,
            tokens["priya"],
            "POST",
            "/privacy/requests",
            json={"kind": "access", "phone": PERSON, "reason": "lettre du 4 décembre"},
        )
    )

    # Then the consent shows the version the person saw, in its words, not the latest
    (consent,) = receipt["export"]["consents"]
    notice = consent["notice"]
    assert (notice["version"], notice["hash"]) == (seen["version"], seen["hash"])
    assert notice["fr"] == NOTICE_FR
    assert notice["en"] == NOTICE_EN


@pytest.mark.parametrize("whose", ["no-such", "other-team"])
def test_a_consent_naming_a_notice_its_team_never_had_is_a_422_naming_notice(
    stack: LocalStack, tokens: dict[str, str], seen: dict[str, Any], whose: str
) -> None:
    # Given a hash no notice has, or team sales' notice named in a consent to team support
    number, team, token = (
        (MISTYPED, "sales", tokens["alice"])
        if whose == "no-such"
        else (OTHER_TEAMS, "support", tokens["bruno"])
    )
    notice = "0" * 64 if whose == "no-such" else seen["hash"]

    # When the consent is recorded
    answer = consent_answer(stack, token, number, team=team, notice=notice)

    # Then it is a 422 naming `notice`, and no consent is recorded
    problem = problem_of(answer, 422)
    assert [error["field"] for error in problem["errors"]] == ["notice"]
    assert number[3:] not in answer.text
    export = ok(
        api(
            stack,
            tokens["priya"],
            "POST",
            "/privacy/requests",
            json={"kind": "access", "phone": number, "reason": "vérification"},
        )
    )["export"]
    assert export["consents"] == []
