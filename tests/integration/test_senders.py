"""Sender profiles through the local stack: refused at PUT by the rules the send path applies,
rather than making every marketing message `invalid` at send time; listed per team."""

from __future__ import annotations

import pytest
import requests
from local_api import api, problem_of

from cloison_local.stack import LocalStack

PROFILE = {
    "sender_id": "36111",
    "stop_mention": "STOP au 36111",
    "window": "default",
    "company": "Boutique Exemple",
}


def names(stack: LocalStack, token: str, team: str) -> set[str]:
    answer = api(stack, token, "GET", f"/teams/{team}/senders")
    assert answer.status_code == 200, answer.text
    return {profile["name"] for profile in answer.json()["items"]}


def refused_fields(answer: requests.Response) -> list[str]:
    return [error["field"] for error in answer.json()["errors"]]


@pytest.mark.parametrize(
    ("name", "changes", "field"),
    [
        ("sansstop", {"stop_mention": "Désinscription au 36111"}, "stop_mention"),
        ("stoppez", {"stop_mention": "STOPPEZ au 36111"}, "stop_mention"),
        ("mobile", {"sender_id": "+33612345678"}, "sender_id"),
        ("fixe", {"sender_id": "+4930123456"}, "sender_id"),
        ("chiffres", {"sender_id": "33612345678"}, "sender_id"),
    ],
)
def test_a_profile_the_send_path_could_not_send_from_is_a_422_and_is_not_kept(
    stack: LocalStack, tokens: dict[str, str], name: str, changes: dict[str, str], field: str
) -> None:
    # Given a profile whose mention lacks STOP, or whose sender is a phone number
    # When an administrator puts it
    answer = api(
        stack, tokens["ada"], "PUT", f"/teams/sales/senders/{name}", json=PROFILE | changes
    )

    # Then it is a 422 problem naming the field, and the team has no such profile
    problem_of(answer, 422)
    assert refused_fields(answer) == [field]
    assert name not in names(stack, tokens["alice"], "sales")


def test_a_team_lists_its_sender_profiles_and_another_team_is_told_it_does_not_exist(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given team sales' profiles, one just put
    put = api(stack, tokens["ada"], "PUT", "/teams/sales/senders/liste", json=PROFILE)
    assert put.status_code == 200, put.text

    # When its member, an administrator and a member of team support list them
    listed = api(stack, tokens["alice"], "GET", "/teams/sales/senders")
    by_admin = names(stack, tokens["ada"], "sales")
    outsider = api(stack, tokens["bruno"], "GET", "/teams/sales/senders")
    ghost = api(stack, tokens["bruno"], "GET", "/teams/ghost-team/senders")

    # Then the member and the administrator see them, as put
    assert listed.status_code == 200, listed.text
    profiles = {profile["name"]: profile for profile in listed.json()["items"]}
    assert {"promo", "alerts", "liste"} <= set(profiles)
    assert set(profiles) == by_admin
    assert {profile["team"] for profile in profiles.values()} == {"sales"}
    assert profiles["liste"] | PROFILE == profiles["liste"]
    # And the outsider gets the 404 of a team that does not exist, word for word
    assert outsider.status_code == 404
    assert outsider.json() == ghost.json()
    assert "Boutique" not in outsider.text
