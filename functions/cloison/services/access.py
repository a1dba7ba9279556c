"""Who is calling: the teams and roles that Cognito groups give a caller."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloison.errors import Forbidden, NotFound

TEAM_GROUP_PREFIX = "team-"
ROLES = frozenset({"member", "privacy_officer", "auditor", "admin"})


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


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    groups = parse_groups(claims.get("cognito:groups"))
    return Caller(
        subject=str(claims.get("sub", "")),
        username=str(
            claims.get("username") or claims.get("cognito:username") or claims.get("client_id", "")
        ),
        teams=frozenset(
            group.removeprefix(TEAM_GROUP_PREFIX)
            for group in groups
            if group.startswith(TEAM_GROUP_PREFIX)
        ),
        roles=frozenset(group for group in groups if group in ROLES),
    )
