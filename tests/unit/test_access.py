"""Who is calling: Cognito groups turned into teams and roles, and what they let a caller see."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloison.errors import Forbidden, NotFound
from cloison.services.access import Caller, caller_from_claims, parse_groups


def _team() -> str:
    return f"team{uuid.uuid4().hex[:8]}"


def _claims(groups: Any) -> dict[str, Any]:
    return {
        "sub": str(uuid.uuid4()),
        "cognito:username": f"user-{uuid.uuid4().hex[:8]}",
        "cognito:groups": groups,
    }


# ---------------------------------------------------------------- parse_groups


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["team-sales", "member"], ["team-sales", "member"]),
        ("team-sales,member", ["team-sales", "member"]),
        ("team-sales, member", ["team-sales", "member"]),
        ("[team-sales member]", ["team-sales", "member"]),
        ("member", ["member"]),
        ("[]", []),
        ("", []),
        (None, []),
        ([], []),
    ],
    ids=[
        "list",
        "comma",
        "comma-space",
        "brackets",
        "single",
        "empty-brackets",
        "empty",
        "none",
        "empty-list",
    ],
)
def test_parse_groups_reads_every_rendering(value: Any, expected: list[str]) -> None:
    # Given cognito:groups as API Gateway may render it
    # When it is parsed
    groups = parse_groups(value)

    # Then the group names come out in order
    assert groups == expected


GROUP_NAMES = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=20),
    max_size=6,
)


@given(names=GROUP_NAMES)
def test_parse_groups_reads_the_same_groups_in_every_rendering(names: list[str]) -> None:
    # Given the same groups rendered as a list, comma-separated and bracketed
    renderings = [names, ",".join(names), f"[{' '.join(names)}]"]

    # When each is parsed
    parsed = [parse_groups(rendering) for rendering in renderings]

    # Then each gives the groups back
    assert parsed == [names, names, names]


# ---------------------------------------------------------------- caller_from_claims


def test_team_groups_become_teams_and_known_groups_become_roles() -> None:
    # Given a user in two teams, with a known role and groups Cloison does not know
    sales, support = _team(), _team()
    claims = _claims([f"team-{sales}", f"team-{support}", "member", "superuser", "teams-x"])

    # When the caller is built from the claims
    caller = caller_from_claims(claims)

    # Then the team prefix is removed and only known roles are kept
    assert caller.teams == frozenset({sales, support})
    assert caller.roles == frozenset({"member"})
    assert caller.subject == claims["sub"]
    assert caller.username == claims["cognito:username"]


def test_team_sales_is_the_sales_team() -> None:
    # Given the group team-sales rendered as API Gateway does
    claims = _claims("[team-sales member]")

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then it belongs to team sales
    assert caller.teams == frozenset({"sales"})
    assert caller.roles == frozenset({"member"})


@pytest.mark.parametrize("role", ["member", "privacy_officer", "auditor", "admin"])
def test_every_known_role_is_kept(role: str) -> None:
    # Given a caller in one known role
    claims = _claims(f"{role},team-{_team()}")

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then the role is kept
    assert caller.roles == frozenset({role})


def test_a_caller_without_groups_has_no_team_and_no_role() -> None:
    # Given claims without any group (a machine client, say)
    claims = {"sub": str(uuid.uuid4()), "client_id": f"client-{uuid.uuid4().hex[:8]}"}

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then it may act in no team
    assert caller.teams == frozenset()
    assert caller.roles == frozenset()
    assert caller.username == claims["client_id"]


@given(
    teams=st.sets(st.from_regex(r"[a-z][a-z0-9-]{1,30}", fullmatch=True), max_size=5),
    others=st.sets(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12),
        max_size=3,
    ),
)
def test_the_teams_are_exactly_the_team_groups_that_name_a_team_slug(
    teams: set[str], others: set[str]
) -> None:
    # Given a caller in some teams (slugs as infra/team.yaml allows them), in groups shaped as
    # teams' that name no slug, and in roles
    groups = [f"team-{team}" for team in sorted(teams | others)] + ["member", "auditor"]

    # When the caller is built
    caller = caller_from_claims(_claims(groups))

    # Then it is in exactly the teams whose name is a slug other than quarantine, and no role
    # counts as a team
    slug = re.compile(r"[a-z][a-z0-9-]{1,30}")
    expected = {team for team in teams | others if slug.fullmatch(team) and team != "quarantine"}
    assert caller.teams == frozenset(expected)


# ---------------------------------------------------------------- team checks


def _caller_in(*teams: str) -> Caller:
    return Caller(
        subject=str(uuid.uuid4()),
        username=f"user-{uuid.uuid4().hex[:8]}",
        teams=frozenset(teams),
        roles=frozenset({"member"}),
    )


def test_can_see_allows_the_callers_own_team() -> None:
    # Given a caller of one team
    team = _team()
    caller = _caller_in(team)

    # When it reads an object of its team
    # Then nothing is raised
    caller.can_see(team)


def test_can_see_hides_another_teams_object_as_not_found() -> None:
    # Given a caller of one team and an object of another
    caller = _caller_in(_team())

    # When it reads the other team's object
    # Then the object does not exist for it
    with pytest.raises(NotFound):
        caller.can_see(_team())


def test_require_team_forbids_acting_in_another_team() -> None:
    # Given a caller of one team
    caller = _caller_in(_team())

    # When it acts in another team
    # Then it is forbidden
    with pytest.raises(Forbidden):
        caller.require_team(_team())


def test_require_team_allows_the_callers_own_team() -> None:
    # Given a caller of two teams
    first, second = _team(), _team()
    caller = _caller_in(first, second)

    # When it acts in either
    # Then nothing is raised
    caller.require_team(first)
    caller.require_team(second)


def test_require_role_forbids_a_missing_role() -> None:
    # Given a member
    caller = _caller_in(_team())

    # When it does what only an auditor may
    # Then it is forbidden
    with pytest.raises(Forbidden):
        caller.require_role("auditor")


# ---------------------------------------------------------------- applications (client credentials)


def _machine_claims(scope: str) -> dict[str, Any]:
    client_id = uuid.uuid4().hex[:26]
    return {
        "sub": client_id,
        "client_id": client_id,
        "token_use": "access",
        "scope": scope,
        "version": "2",
    }


def test_an_application_is_a_member_of_the_teams_its_scopes_name() -> None:
    # Given a client-credentials token of a client allowed team sales' and team after-sales' scopes
    claims = _machine_claims(
        "cloison/api cloison-team-sales/member cloison-team-after-sales/member"
    )

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then it is a member of both teams, named by its client id
    assert caller.teams == frozenset({"sales", "after-sales"})
    assert caller.roles == frozenset({"member"})
    assert caller.subject == caller.username == claims["client_id"]


@pytest.mark.parametrize(
    "scope",
    [
        "cloison/api",
        "cloison/api cloison-team-sales/admin",
        "cloison/api team-sales/member",
        "cloison/api cloison-team-Sales/member",
        "cloison/api cloison-team-/member",
        "cloison/api xcloison-team-sales/member",
    ],
    ids=["api-only", "other-scope-name", "no-prefix", "capitals", "no-team", "longer-prefix"],
)
def test_an_application_without_a_team_scope_acts_in_no_team(scope: str) -> None:
    # Given a client-credentials token without a well-formed team scope
    claims = _machine_claims(scope)

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then it has no team and no role
    assert caller.teams == frozenset()
    assert caller.roles == frozenset()


def test_an_application_never_gets_a_groups_role() -> None:
    # Given a client-credentials token that somehow carries groups
    claims = {
        **_machine_claims("cloison/api cloison-team-sales/member"),
        "cognito:groups": ["admin", "privacy_officer", "team-support"],
    }

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then only its scopes count
    assert caller.teams == frozenset({"sales"})
    assert caller.roles == frozenset({"member"})


def test_a_persons_team_scope_does_not_make_them_a_member() -> None:
    # Given a person's access token carrying a team scope and no team group
    claims = {
        "sub": str(uuid.uuid4()),
        "client_id": f"console-{uuid.uuid4().hex[:8]}",
        "username": "alice",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin cloison-team-support/member",
        "cognito:groups": ["member", "team-sales"],
    }

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then the groups decide, not the scope
    assert caller.teams == frozenset({"sales"})
    assert caller.username == "alice"


@pytest.mark.parametrize("group", ["team-quarantine", "team-Sales", "team-x", "team-sales/x"])
def test_a_group_that_names_no_team_slug_gives_no_team(group: str) -> None:
    # Given a person in a group shaped as a team's but naming quarantine (the compartment of
    # replies that matched no team, privacy officers' alone) or no valid slug
    claims = _claims([group, "member"])

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then it gives no team: quarantined replies stay out of reach
    assert caller.teams == frozenset()


def test_a_machine_scope_naming_quarantine_gives_no_team() -> None:
    # Given an application token whose scopes name quarantine beside a real team
    client = f"client-{uuid.uuid4().hex[:8]}"
    claims = {
        "sub": client,
        "client_id": client,
        "token_use": "access",
        "scope": "cloison/api cloison-team-quarantine/member cloison-team-sales/member",
    }

    # When the caller is built
    caller = caller_from_claims(claims)

    # Then only the real team counts
    assert caller.teams == frozenset({"sales"})
