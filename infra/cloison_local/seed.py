"""Demo data: two teams with a user each, a privacy officer, an admin, sender profiles, each
team's notice (so that its sign-up page works), consents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

DEMO_PASSWORD = "Cloison-Demo-2026"  # noqa: S105 - local demo users only, printed on start
TEAMS = ("sales", "support")
# Team support's own short code (fictional), which `make run` gives it through its team stack:
# its sender profile `own` sends from it, and people text OWN_KEYWORD to it to sign up.
DEMO_IDENTITIES = {"support": "36112"}
OWN_KEYWORD = "ALERTES"


@dataclass(frozen=True)
class DemoUser:
    username: str
    groups: tuple[str, ...]
    description: str


USERS = (
    DemoUser("alice", ("member", "team-sales"), "member of team sales"),
    DemoUser("bruno", ("member", "team-support"), "member of team support"),
    DemoUser("priya", ("privacy_officer",), "privacy officer"),
    DemoUser("aurele", ("auditor",), "auditor"),
    DemoUser("ada", ("admin", "team-sales", "team-support"), "administrator"),
)

# Fictional numbers: phonenumbers' example mobiles and neighbours of them (they pass validation).
CONSENTED_CONTACTS = {
    "sales": ("+33612345678", "+33612345679", "+590690001234"),
    "support": ("+33612345680",),
}


def demo_notice(company: str, team: str, short_code: str) -> dict[str, Any]:
    """A team's notice in French and English: what its sign-up page shows."""
    return {
        "fr": {
            "organisation": company,
            "purpose": f"Vous informer par SMS des offres et des ventes privées de {company}.",
            "frequency": "Au plus 4 SMS par mois.",
            "retention": "Votre numéro est gardé 3 ans après notre dernier échange.",
            "rights": (
                "Accès, rectification, effacement, opposition : écrivez à "
                f"dpo@{team}.exemple.fr. Vous pouvez aussi saisir la CNIL."
            ),
            "stop": f"Répondez STOP au {short_code}, à tout moment.",
        },
        "en": {
            "organisation": company,
            "purpose": f"Telling you by SMS about {company}'s offers and private sales.",
            "frequency": "At most 4 texts a month.",
            "retention": "Your number is kept 3 years after our last exchange.",
            "rights": (
                "Access, rectification, erasure, objection: write to "
                f"dpo@{team}.exemple.fr. You may also complain to the CNIL."
            ),
            "stop": f"Reply STOP to {short_code}, at any time.",
        },
    }


def signup_page_url(console_url: str, team: str) -> str:
    """Where a team's public sign-up page is, beside the console."""
    return f"{console_url.rstrip('/')}/signup.html?team={team}"


def user_token(
    cognito: Any, user_pool_id: str, client_id: str, username: str, password: str = DEMO_PASSWORD
) -> str:
    """An access token for a user, as the console gets it (USER_PASSWORD_AUTH)."""
    answer = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return str(answer["AuthenticationResult"]["AccessToken"])


def seed(cognito: Any, outputs: dict[str, str], api_url: str) -> dict[str, str]:
    """Creates the demo users and data; returns each user's access token."""
    pool = outputs["UserPoolId"]
    existing = {group["GroupName"] for group in cognito.list_groups(UserPoolId=pool)["Groups"]}
    for team in TEAMS:
        if f"team-{team}" not in existing:
            cognito.create_group(
                UserPoolId=pool, GroupName=f"team-{team}", Description=f"Members of team {team}"
            )
    tokens: dict[str, str] = {}
    for user in USERS:
        cognito.admin_create_user(UserPoolId=pool, Username=user.username, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username=user.username, Password=DEMO_PASSWORD, Permanent=True
        )
        for group in user.groups:
            cognito.admin_add_user_to_group(
                UserPoolId=pool, Username=user.username, GroupName=group
            )
        tokens[user.username] = user_token(
            cognito, pool, outputs["UserPoolClientId"], user.username
        )
    short_code = outputs["ShortCode"]
    for team, company in (("sales", "Boutique Exemple"), ("support", "Exemple Services")):
        for name, window in (("promo", "default"), ("alerts", "daily")):
            call(
                api_url,
                tokens["ada"],
                "PUT",
                f"/teams/{team}/senders/{name}",
                {
                    "sender_id": short_code,
                    "stop_mention": f"STOP au {short_code}",
                    "window": window,
                    "mps": 20,
                    "price_per_segment": 0.0458,
                    "company": company,
                    "contact": f"{team}.exemple.fr/aide",
                },
            )
        call(
            api_url,
            tokens["ada"],
            "PUT",
            f"/teams/{team}/notice",
            demo_notice(company, team, short_code),
        )
    member = {"sales": "alice", "support": "bruno"}
    for team, numbers in CONSENTED_CONTACTS.items():
        for number in numbers:
            call(
                api_url,
                tokens[member[team]],
                "POST",
                "/consents",
                {
                    "team": team,
                    "phone": number,
                    "source": "web form /newsletter",
                    "proof": "J'accepte de recevoir les offres par SMS. Désinscription : STOP.",
                    "purpose": "marketing",
                },
            )
    return tokens


def seed_own_numbers(api_url: str, admin_token: str, pools: dict[str, str]) -> None:
    """Each team given its own number gets a sender profile `own` that sends from its pool
    (`pools`: the team stacks' TeamPoolArn by team), with the sign-up keyword OWN_KEYWORD."""
    for team, pool in pools.items():
        code = DEMO_IDENTITIES[team]
        call(
            api_url,
            admin_token,
            "PUT",
            f"/teams/{team}/senders/own",
            {
                "sender_id": code,
                "stop_mention": f"STOP au {code}",
                "company": "Exemple Services",
                "contact": f"{team}.exemple.fr/aide",
                "origination": pool,
                "keyword": OWN_KEYWORD,
            },
        )


def call(
    api_url: str,
    token: str | None,
    method: str,
    path: str,
    body: Any = None,
    expect: tuple[int, ...] = (200, 201, 202),
) -> Any:
    """One API request; an unexpected status raises with the problem document."""
    headers = {"Authorization": token} if token else {}
    response = requests.request(method, api_url + path, json=body, headers=headers, timeout=30)
    if response.status_code not in expect:
        raise RuntimeError(
            f"{method} {path} answered {response.status_code}: {response.text[:500]}"
        )
    return response.json() if response.content else None
