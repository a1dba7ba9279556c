"""Who is calling: the teams and roles that Cognito groups give a person, and team scopes an
application (a client-credentials token)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloison.errors import Forbidden, NotFound

TEAM_GROUP_PREFIX = "team-"
PRIVACY_OFFICER = "privacy_officer"
ROLES = frozenset({"member", PRIVACY_OFFICER, "auditor", "admin"})
# The compartment of replies that matched no team: read by privacy officers, never a team of
# its own, whatever a group or a scope says.
QUARANTINE_TEAM = "quarantine"
# A team's slug, as infra/team.yaml's TeamName allows it.
TEAM_NAME = rf"(?!{QUARANTINE_TEAM}(?![a-z0-9-]))[a-z][a-z0-9-]{{1,30}}"
TEAM_GROUP = re.compile(rf"^{TEAM_GROUP_PREFIX}(?P<team>{TEAM_NAME})$")
# The scope each team's machine client is allowed (infra/team.yaml): `cloison-team-sales/member`.
TEAM_SCOPE = re.compile(rf"^cloison-team-(?P<team>{TEAM_NAME})/member$")
MACHINE_ROLE = "member"


@dataclass(frozen=True)
class Caller:
    subject: str
    username: str
    teams: frozenset[str]
    roles: frozenset[str]

    def require_team(self, team: str) -> None:
        """Acting in a team is allowed only to its members."""
        if team not in self.teams:
            raise Forbidden(f"not a member of team {team}")

    def can_see(self, team: str) -> None:
        """Reading another team's object is a 404: its existence is not revealed."""
        if team not in self.teams:
            raise NotFound("no such object")

    def require_role(self, role: str) -> None:
        if role not in self.roles:
            raise Forbidden(f"requires the {role} role")


def parse_groups(value: Any) -> list[str]:
    """`cognito:groups` as API Gateway renders it: a list, `[a b]`, or `a,b`."""
    if isinstance(value, list):
        return [str(item) for item in value]
    text = str(value or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part for part in text.replace(",", " ").split() if part]


def is_machine(claims: Mapping[str, Any]) -> bool:
    """A client-credentials access token: issued to an app client, for no user."""
    client_id = claims.get("client_id")
    return (
        claims.get("token_use") == "access"
        and bool(client_id)
        and claims.get("sub") == client_id
        and "username" not in claims
        and "cognito:username" not in claims
    )


def team_scopes(value: Any) -> frozenset[str]:
    """The teams named by `cloison-team-<team>/member` scopes in a space-separated `scope`."""
    return frozenset(
        match["team"] for scope in str(value or "").split() if (match := TEAM_SCOPE.match(scope))
    )


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """People get teams and roles from their groups; applications get the teams of their scopes,
    as members, and never a group's role (a person's token carries no team scope that counts)."""
    if is_machine(claims):
        client_id = str(claims["client_id"])
        teams = team_scopes(claims.get("scope"))
        return Caller(
            subject=client_id,
            username=client_id,
            teams=teams,
            roles=frozenset({MACHINE_ROLE}) if teams else frozenset(),
        )
    groups = parse_groups(claims.get("cognito:groups"))
    return Caller(
        subject=str(claims.get("sub", "")),
        username=str(
            claims.get("username") or claims.get("cognito:username") or claims.get("client_id", "")
        ),
        teams=frozenset(match["team"] for group in groups if (match := TEAM_GROUP.match(group))),
        roles=frozenset(group for group in groups if group in ROLES),
    )
