"""Every route of the API against every kind of caller: its own team, another team, no token, an
expired token, the wrong role, and team applications (client-credentials tokens of team sales and
of team support). Each cell has its expected status; no cell but the owner's shows team sales'
objects, and a refusal on a real object of team sales is the same answer, byte for byte, as on an
object that does not exist.

The routes are read from the running API's OpenAPI document: a route added without its row in
MATRIX fails the coverage test.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests
from local_api import carrier, wait_until

from cloison.compliance.phone import normalize_phone
from cloison.compliance.window import SendWindowPolicy, next_send_time
from cloison_local.stack import LocalStack
from cloison_local.token_endpoint import moto_signing_key

# Fictional mobiles of this test alone.
REPLIER = "+33751006001"
PENDING = ("+33751006002", "+33751006003", "+33751006004")
AUDIENCE = "+33751006010"
NEW_CONSENT = "+33751006020"
CONSENTED = "+33751006021"
WITHDRAWN = ("+33751006022", "+33751006023")
NEVER_CONSENTED = "+33751006024"
SUPPRESSED = "+33751006030"
SUBJECT = "+33751006040"
SIGNUP = "+33751005099"
NUMBERS = (
    REPLIER,
    *PENDING,
    AUDIENCE,
    NEW_CONSENT,
    CONSENTED,
    *WITHDRAWN,
    NEVER_CONSENTED,
    SUPPRESSED,
    SUBJECT,
)

CAMPAIGN_NAME = "Matrice des accès, hiver"
CAMPAIGN_BODY = "Votre commande matrice-accès est prête en boutique."
REPLY_BODY = "Merci, je passe samedi chercher la commande matrice"
AMBIGUOUS = "Arrêtez de m'écrire svp"
# Recurring, and never firing: pause and resume apply to it.
NEVER = "at(2099-01-01T10:00:00)"
SENDER_PROFILE = {
    "sender_id": "36111",
    "stop_mention": "STOP au 36111",
    "window": "daily",
    "mps": 5,
    "price_per_segment": 0.0458,
    "company": "Boutique Exemple",
    "contact": "sales.exemple.fr/aide",
}
NOTICE_PURPOSE = "Vous parler des ventes privées de la matrice"
NOTICE = {
    "fr": {
        "organisation": "Boutique Exemple SAS",
        "purpose": NOTICE_PURPOSE,
        "frequency": "Au plus 4 SMS par mois.",
        "retention": "3 ans.",
        "rights": "dpo@exemple.fr",
        "stop": "STOP au 36111",
    }
}
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))

CELLS = (
    "own",
    "other_team",
    "no_token",
    "expired_token",
    "wrong_role",
    "machine",
    "machine_other_team",
)
# Team sales' own people and application; whoever else calls, or is refused, learns nothing.
ENTITLED = frozenset({"own", "machine"})
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


# ------------------------------------------------------------------------------ requests
@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    params: Mapping[str, str] | None = None


def campaign_in(team: str = "sales") -> dict[str, str]:
    return {
        "team": team,
        "name": CAMPAIGN_NAME,
        "sender": "alerts",
        "kind": "transactional",
        "body": CAMPAIGN_BODY,
    }


def resigned(token: str, **changes: Any) -> str:
    """The token with some claims changed, signed again with the pool's own key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.encode(
        {**claims, **changes}, moto_signing_key(), algorithm="RS256", headers={"kid": kid}
    )


def expired(token: str) -> str:
    now = int(time.time())
    return resigned(token, exp=now - 300, iat=now - 3900, auth_time=now - 3900)


def machine_token(stack: LocalStack, team: str) -> str:
    client = stack.team_stacks[team]
    assert stack.token_endpoint is not None
    answer = requests.post(
        f"{stack.token_endpoint.url}/oauth2/token",
        data={"grant_type": "client_credentials", "scope": client.scopes},
        auth=(client.client_id, client.client_secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.json().get("error")
    return str(answer.json()["access_token"])


def described(response: requests.Response) -> str:
    """Status and problem type for an assertion message; digit runs masked, never a body."""
    try:
        document = response.json()
    except ValueError:
        return f"{response.status_code} (not JSON)"
    if not isinstance(document, dict):
        return f"{response.status_code}"
    summary = " ".join(
        str(document[key]) for key in ("type", "detail", "message") if key in document
    )
    return f"{response.status_code} {re.sub(r'[+]?[0-9][0-9 .]{3,}', '…', summary)}"


def visible(response: requests.Response) -> str:
    """The answer's text, with JSON's escaped characters as the caller reads them."""
    try:
        document = response.json()
    except ValueError:
        return response.text
    return response.text + json.dumps(document, ensure_ascii=False)


def normalized(response: requests.Response) -> tuple[int, str, bytes]:
    """The answer as the caller sees it, without the per-request ids a problem may carry."""
    body = response.content
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and {"instance", "requestId", "request_id"} & set(document):
        for key in ("instance", "requestId", "request_id"):
            document.pop(key, None)
        body = json.dumps(document, sort_keys=True).encode()
    return response.status_code, response.headers.get("Content-Type", ""), body


# ------------------------------------------------------------------------------ the objects
@dataclass
class World:
    """Team sales' objects, in every state a route needs, and the callers' tokens."""

    stack: LocalStack
    tokens: dict[str, str]
    objects: dict[str, str] = field(default_factory=dict)
    fresh_pending: list[str] = field(default_factory=list)
    fresh_withdrawn: list[str] = field(default_factory=list)
    campaign_ids: list[str] = field(default_factory=list)
    reply_ids: list[str] = field(default_factory=list)

    def call(self, caller: str | None, request: Request) -> requests.Response:
        headers = {"Authorization": self.token(caller)} if caller else {}
        return requests.request(
            request.method,
            self.stack.api_url + request.path,
            json=request.json,
            params=request.params,
            headers=headers,
            timeout=60,
        )

    def token(self, caller: str) -> str:
        if caller not in self.tokens:
            kind, _, whose = caller.partition(":")
            assert kind == "expired", caller
            self.tokens[caller] = expired(self.token(whose))
        return self.tokens[caller]

    def ok(self, caller: str, request: Request) -> Any:
        answer = self.call(caller, request)
        assert answer.status_code in (200, 201, 202), f"setup {request.path}: {described(answer)}"
        return answer.json()

    # -------------------------------------------------------------- building
    def build(self) -> None:
        """The objects every cell asks for: a sent campaign with a reply and replies awaiting
        review, a draft, a recurring campaign scheduled and one paused, a consent, a receipt."""
        policy = SendWindowPolicy.preset("daily")
        now = self.stack.now()
        if next_send_time(now, normalize_phone(REPLIER), policy=policy) != now:
            self.stack.set_clock(TUESDAY_MORNING)
        sent = self.new_draft([REPLIER, *PENDING])
        self.ok("alice", Request("POST", f"/campaigns/{sent}/launch", json={}))
        assert wait_until(
            lambda: (
                {REPLIER, *PENDING}
                <= {
                    message.destination
                    for message in carrier(self.stack).sent_messages()
                    if message.context.get("campaign") == sent
                }
            )
        ), "the campaign was never sent"
        # People reply once the message has reached them: its delivery events are recorded.
        assert self.stack.wait_idle(timeout=90), "the delivery events were never recorded"
        self.objects["sent"] = sent

        origination = self.stack.outputs["ShortCode"]
        self.objects["reply"] = self.inject(REPLIER, REPLY_BODY, origination)
        shared, *fresh = (self.inject(number, AMBIGUOUS, origination) for number in PENDING)
        self.objects["pending"] = shared
        self.fresh_pending = fresh
        listing = Request("GET", "/replies", params={"campaign": sent})
        assert wait_until(
            lambda: (
                set(self.reply_ids) <= {item["id"] for item in self.ok("alice", listing)["items"]}
            )
        ), "the replies never reached the index"
        self.stack.wait_idle(timeout=30)
        assert {shared, *fresh} <= self.pending_replies()

        self.objects["draft"] = self.new_draft([AUDIENCE])
        self.objects["scheduled"] = self.new_scheduled()
        self.objects["paused"] = self.new_paused()
        self.objects["consent"] = self.new_consent(CONSENTED)
        self.fresh_withdrawn = [self.new_consent(number) for number in WITHDRAWN]
        self.objects["team"] = "sales"
        self.ok("ada", Request("PUT", "/teams/sales/notice", json=NOTICE))
        receipt = self.ok(
            "priya",
            Request(
                "POST",
                "/privacy/requests",
                json={"kind": "access", "phone": SUBJECT, "reason": "lettre du 2 décembre"},
            ),
        )
        self.objects["receipt"] = receipt["id"]
        self.objects["note"] = self.new_note()

    def new_note(self) -> str:
        """The id of an audit entry whose note is still kept (a suppression's reason)."""
        # Letters only: six digits in a row would be masked as a number when the note is kept.
        text = "matrice " + uuid.uuid4().hex[:8].translate(
            str.maketrans("0123456789", "ghijklmnop")
        )
        self.ok(
            "alice",
            Request(
                "POST", "/suppressions", json={"team": "sales", "phone": SUPPRESSED, "reason": text}
            ),
        )
        return self.note_entry(text)["id"]

    def note_entry(self, text: str | None = None, entry: str | None = None) -> dict[str, Any]:
        """The suppression entry with that note or id, whatever page it is on."""
        found: list[dict[str, Any]] = []
        params = {"action": "suppression.add", "limit": "200"}
        while True:
            page = self.ok("aurele", Request("GET", "/audit", params=params))
            found += [
                item
                for item in page["items"]
                if (text is not None and item["note"] == text) or item["id"] == entry
            ]
            if found or not page.get("next_cursor"):
                break
            params = {**params, "cursor": page["next_cursor"]}
        (only,) = found
        return dict(only)

    def inject(self, number: str, body: str, origination: str) -> str:
        reply_id = carrier(self.stack).inject_reply(number, origination, body)
        self.reply_ids.append(reply_id)
        return reply_id

    def new_draft(self, numbers: list[str]) -> str:
        created = self.ok("alice", Request("POST", "/campaigns", json=campaign_in()))
        campaign = str(created["id"])
        self.campaign_ids.append(campaign)
        self.ok(
            "alice",
            Request(
                "POST",
                f"/campaigns/{campaign}/audience",
                json={"recipients": [{"phone": number} for number in numbers]},
            ),
        )
        return campaign

    def new_scheduled(self) -> str:
        campaign = self.new_draft([AUDIENCE])
        launched = self.ok(
            "alice", Request("POST", f"/campaigns/{campaign}/launch", json={"schedule": NEVER})
        )
        assert launched["status"] == "scheduled"
        return campaign

    def new_paused(self) -> str:
        campaign = self.new_scheduled()
        assert self.ok("alice", Request("POST", f"/campaigns/{campaign}/pause"))["status"] == (
            "paused"
        )
        return campaign

    def new_consent(self, number: str) -> str:
        self.ok(
            "alice",
            Request(
                "POST",
                "/consents",
                json={"team": "sales", "phone": number, "source": "matrice", "proof": "Oui"},
            ),
        )
        return number

    # -------------------------------------------------------------- objects for cells
    def target(self, kind: str, *, fresh: bool) -> str:
        """A real object of team sales; `fresh`, one that no other cell has touched."""
        if not fresh:
            return self.objects[kind]
        if kind == "draft":
            return self.new_draft([AUDIENCE])
        if kind == "scheduled":
            return self.new_scheduled()
        if kind == "paused":
            return self.new_paused()
        if kind == "pending":
            return self.fresh_pending.pop()
        if kind == "consent":
            return self.fresh_withdrawn.pop()
        if kind == "note":
            return self.new_note()
        raise AssertionError(f"no fresh {kind}")

    @staticmethod
    def ghost(kind: str) -> str:
        """An object of the same kind that does not exist."""
        return {
            "sent": "c-00000000deadbeef",
            "draft": "c-00000000deadbeef",
            "scheduled": "c-00000000deadbeef",
            "paused": "c-00000000deadbeef",
            "reply": str(uuid.UUID(int=0xDEADBEEF)),
            "pending": str(uuid.UUID(int=0xDEADBEEF)),
            "receipt": "pr-00000000deadbeef",
            "note": "au-00000000deadbeef",
            "consent": NEVER_CONSENTED,
            "team": "ghost-team",
        }[kind]

    def snapshot(self, kind: str, target: str) -> Any:
        """What a refused call must leave as it was, as the owner sees it."""
        if kind in ("draft", "scheduled", "paused"):
            campaign = self.ok("alice", Request("GET", f"/campaigns/{target}"))
            return campaign["status"], campaign["recipients"]
        if kind == "pending":
            return target in self.pending_replies()
        if kind == "note":
            return self.note_entry(entry=target)["note_state"]
        return None

    def pending_replies(self) -> set[str]:
        """The sent campaign's replies awaiting review, as the owner lists them."""
        listing = Request(
            "GET", "/replies", params={"campaign": self.objects["sent"], "review": "pending"}
        )
        return {item["id"] for item in self.ok("alice", listing)["items"]}

    def secrets(self) -> dict[str, str]:
        """Team sales' data, by a label that is safe to print."""
        found = {"campaign name": CAMPAIGN_NAME, "campaign body": CAMPAIGN_BODY}
        found["reply body"] = REPLY_BODY
        found["notice"] = NOTICE_PURPOSE
        found.update(
            {f"campaign id {index}": value for index, value in enumerate(self.campaign_ids)}
        )
        found.update({f"reply id {index}": value for index, value in enumerate(self.reply_ids)})
        found["receipt id"] = self.objects["receipt"]
        # The national significant number: in E.164 and in every usual French writing of it.
        found.update({f"number {index}": number[3:] for index, number in enumerate(NUMBERS)})
        return found


# ------------------------------------------------------------------------------ the matrix
@dataclass(frozen=True)
class Route:
    """One route: who owns it, what it acts on, and the status of each cell."""

    expect: Mapping[str, int]
    build: Callable[[str | None], Request]
    own: str = "alice"
    wrong: str = "aurele"
    # The kind of team sales' object it acts on (path, query or body), if any.
    target: str | None = None
    # The owner's call changes the object's state: each owner's cell gets an object of its own.
    fresh: bool = False
    # The owner's answer names the object (a read).
    echoes: bool = False
    # Team sales' data the route shows anyone, by design (labels of World.secrets).
    shows: frozenset[str] = frozenset()

    def caller(self, cell: str) -> str | None:
        return {
            "own": self.own,
            "other_team": "bruno",
            "no_token": None,
            "expired_token": f"expired:{self.own}",
            "wrong_role": self.wrong,
            "machine": "app:sales",
            "machine_other_team": "app:support",
        }[cell]


def statuses(
    own: int,
    other_team: int,
    wrong_role: int,
    machine: int,
    machine_other_team: int,
    *,
    no_token: int = 401,
    expired_token: int = 401,
) -> dict[str, int]:
    return {
        "own": own,
        "other_team": other_team,
        "no_token": no_token,
        "expired_token": expired_token,
        "wrong_role": wrong_role,
        "machine": machine,
        "machine_other_team": machine_other_team,
    }


PUBLIC = statuses(200, 200, 200, 200, 200, no_token=200, expired_token=200)
# A team's object: anyone outside the team is told it does not exist.
TEAM_OBJECT = statuses(200, 404, 404, 200, 404)
# Acting in a team named in the body: anyone outside it is refused.
TEAM_ACTION = statuses(201, 403, 403, 201, 403)
# A person's role: neither members nor applications have it.
ROLE = statuses(200, 403, 403, 403, 403)


def on_campaign(
    suffix: str, method: str = "GET", body: Any = None
) -> Callable[[str | None], Request]:
    return lambda campaign: Request(method, f"/campaigns/{campaign}{suffix}", json=body)


MATRIX: dict[tuple[str, str], Route] = {
    ("GET", "/health"): Route(PUBLIC, lambda _: Request("GET", "/health")),
    ("GET", "/openapi.json"): Route(PUBLIC, lambda _: Request("GET", "/openapi.json")),
    # A team's public sign-up: the same 202 for anyone (here a notice the team never had, so
    # that nothing is sent).
    # A team's public sign-up page: its notice is what anyone reads before signing up.
    ("GET", "/signup/{team}"): Route(
        PUBLIC, lambda _: Request("GET", "/signup/sales"), shows=frozenset({"notice"})
    ),
    ("POST", "/signup/{team}"): Route(
        statuses(202, 202, 202, 202, 202, no_token=202, expired_token=202),
        lambda _: Request(
            "POST",
            "/signup/sales",
            json={"phone": SIGNUP, "notice": "0" * 64, "page": "matrice"},
        ),
    ),
    ("POST", "/campaigns"): Route(
        TEAM_ACTION, lambda _: Request("POST", "/campaigns", json=campaign_in())
    ),
    # A team's list: outsiders naming team sales are told it does not exist, as for a ghost team.
    ("GET", "/campaigns"): Route(
        TEAM_OBJECT,
        lambda team: Request("GET", "/campaigns", params={"team": str(team)}),
        target="team",
        echoes=True,
    ),
    ("GET", "/campaigns/{campaign_id}"): Route(
        TEAM_OBJECT, on_campaign(""), target="sent", echoes=True
    ),
    ("POST", "/campaigns/{campaign_id}/audience"): Route(
        TEAM_OBJECT,
        on_campaign("/audience", "POST", {"recipients": [{"phone": AUDIENCE}]}),
        target="draft",
    ),
    ("GET", "/campaigns/{campaign_id}/preview"): Route(
        TEAM_OBJECT, on_campaign("/preview"), target="sent"
    ),
    ("POST", "/campaigns/{campaign_id}/launch"): Route(
        statuses(202, 404, 404, 202, 404),
        on_campaign("/launch", "POST", {}),
        target="draft",
        fresh=True,
    ),
    ("POST", "/campaigns/{campaign_id}/pause"): Route(
        TEAM_OBJECT, on_campaign("/pause", "POST"), target="scheduled", fresh=True
    ),
    ("POST", "/campaigns/{campaign_id}/resume"): Route(
        TEAM_OBJECT, on_campaign("/resume", "POST"), target="paused", fresh=True
    ),
    ("POST", "/campaigns/{campaign_id}/cancel"): Route(
        TEAM_OBJECT, on_campaign("/cancel", "POST"), target="draft", fresh=True
    ),
    ("GET", "/campaigns/{campaign_id}/stats"): Route(
        TEAM_OBJECT, on_campaign("/stats"), target="sent", echoes=True
    ),
    # A list: outsiders get their own (empty) list, the same for a real or unknown campaign.
    ("GET", "/replies"): Route(
        statuses(200, 200, 200, 200, 200),
        lambda campaign: Request("GET", "/replies", params={"campaign": str(campaign)}),
        target="sent",
        echoes=True,
    ),
    ("GET", "/replies/{reply_id}"): Route(
        TEAM_OBJECT,
        lambda reply: Request("GET", f"/replies/{reply}"),
        target="reply",
        echoes=True,
    ),
    ("POST", "/replies/{reply_id}/review"): Route(
        TEAM_OBJECT,
        lambda reply: Request("POST", f"/replies/{reply}/review", json={"decision": "confirm"}),
        target="pending",
        fresh=True,
    ),
    ("POST", "/consents"): Route(
        TEAM_ACTION,
        lambda _: Request(
            "POST",
            "/consents",
            json={"team": "sales", "phone": NEW_CONSENT, "source": "matrice", "proof": "Oui"},
        ),
    ),
    ("DELETE", "/consents"): Route(
        statuses(200, 403, 403, 200, 403),
        lambda number: Request(
            "DELETE",
            "/consents",
            json={"team": "sales", "phone": number, "reason": "demandé par téléphone"},
        ),
        target="consent",
        fresh=True,
    ),
    ("POST", "/suppressions"): Route(
        TEAM_ACTION,
        lambda _: Request(
            "POST",
            "/suppressions",
            json={"team": "sales", "phone": SUPPRESSED, "reason": "demandé au magasin"},
        ),
    ),
    ("POST", "/privacy/requests"): Route(
        statuses(201, 403, 403, 403, 403),
        lambda _: Request(
            "POST",
            "/privacy/requests",
            json={"kind": "access", "phone": SUBJECT, "reason": "lettre du 3 décembre"},
        ),
        own="priya",
        wrong="alice",
    ),
    ("GET", "/privacy/requests/{request_id}"): Route(
        ROLE,
        lambda receipt: Request("GET", f"/privacy/requests/{receipt}"),
        own="priya",
        wrong="alice",
        target="receipt",
        echoes=True,
    ),
    # Administrators put any team's sender profiles (onboarding a team is done with their token).
    ("PUT", "/teams/{team}/senders/{sender}"): Route(
        ROLE,
        lambda team: Request("PUT", f"/teams/{team}/senders/matrice", json=SENDER_PROFILE),
        own="ada",
        wrong="alice",
        target="team",
    ),
    # A team's sender profiles: outsiders naming team sales are told it does not exist.
    ("GET", "/teams/{team}/senders"): Route(
        TEAM_OBJECT,
        lambda team: Request("GET", f"/teams/{team}/senders"),
        target="team",
        echoes=True,
    ),
    # Administrators put any team's notice, as its sender profiles.
    ("PUT", "/teams/{team}/notice"): Route(
        ROLE,
        lambda team: Request("PUT", f"/teams/{team}/notice", json=NOTICE),
        own="ada",
        wrong="alice",
        target="team",
    ),
    # A team's notice and its versions: outsiders naming team sales are told it does not exist.
    ("GET", "/teams/{team}/notice"): Route(
        TEAM_OBJECT,
        lambda team: Request("GET", f"/teams/{team}/notice"),
        target="team",
        echoes=True,
    ),
    ("GET", "/teams/{team}/notice/versions"): Route(
        TEAM_OBJECT,
        lambda team: Request("GET", f"/teams/{team}/notice/versions"),
        target="team",
    ),
    # A team's sign-ups, as counts: outsiders naming team sales are told it does not exist.
    ("GET", "/teams/{team}/signup"): Route(
        TEAM_OBJECT,
        lambda team: Request("GET", f"/teams/{team}/signup"),
        target="team",
        echoes=True,
    ),
    ("GET", "/audit"): Route(
        ROLE,
        lambda _: Request("GET", "/audit", params={"team": "sales", "limit": "5"}),
        own="aurele",
        wrong="alice",
    ),
    ("GET", "/audit/verify"): Route(
        ROLE,
        lambda _: Request("GET", "/audit/verify", params={"limit": "50"}),
        own="aurele",
        wrong="alice",
    ),
    ("DELETE", "/audit/notes/{entry}"): Route(
        ROLE,
        lambda entry: Request(
            "DELETE",
            f"/audit/notes/{entry}",
            json={"reason": "demande de la personne", "reason_code": "person_asked"},
        ),
        own="priya",
        wrong="aurele",
        target="note",
        fresh=True,
    ),
}

# Cells whose answer is wrong today, with the reason: xfail(strict=True) until fixed.
KNOWN_WRONG: dict[tuple[str, str, str], str] = {}


def matrix_params() -> list[Any]:
    params = []
    for method, path in MATRIX:
        for cell in CELLS:
            marks = []
            reason = KNOWN_WRONG.get((method, path, cell))
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            params.append(
                pytest.param(method, path, cell, marks=marks, id=f"{method} {path} as {cell}")
            )
    return params


@pytest.fixture(scope="module")
def world(stack: LocalStack, tokens: dict[str, str]) -> World:
    callers = dict(tokens)
    callers["app:sales"] = machine_token(stack, "sales")
    callers["app:support"] = machine_token(stack, "support")
    built = World(stack, callers)
    built.build()
    return built


# ------------------------------------------------------------------------------ the tests
def test_the_matrix_covers_every_route_of_the_running_api(stack: LocalStack) -> None:
    # Given the routes the running API documents
    answer = requests.get(stack.api_url + "/openapi.json", timeout=30)
    assert answer.status_code == 200
    served = {
        (method.upper(), path)
        for path, operations in answer.json()["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }

    # Then each has its row in the matrix, and each row every cell
    assert served - set(MATRIX) == set(), "routes without a row in MATRIX"
    assert set(MATRIX) - served == set(), "rows of MATRIX for routes the API no longer has"
    assert all(set(route.expect) == set(CELLS) for route in MATRIX.values())


@pytest.mark.parametrize(("method", "path", "cell"), matrix_params())
def test_each_cell_gets_its_answer_and_learns_nothing_of_another_team(
    world: World, method: str, path: str, cell: str
) -> None:
    # Given a route, a caller in one cell, and the real object of team sales it acts on
    route = MATRIX[(method, path)]
    caller = route.caller(cell)
    expected = route.expect[cell]
    allowed = cell in ENTITLED and expected < 400
    kind = route.target
    target = world.target(kind, fresh=route.fresh and allowed) if kind else None
    before = world.snapshot(kind, target) if kind and target and not allowed else None

    # When the caller calls it
    answer = world.call(caller, route.build(target))

    # Then the answer is the cell's
    assert answer.status_code == expected, f"{cell}: {described(answer)}"
    if allowed:
        named = target is None or not route.echoes or target in visible(answer)
        assert named, f"{cell}: the owner's answer does not name the object"
        return

    # And nothing of team sales shows in it
    seen = visible(answer)
    leaked = [
        label
        for label, secret in world.secrets().items()
        if secret in seen and label not in route.shows
    ]
    assert leaked == [], f"{cell} sees team sales' data"
    if kind is None or target is None:
        return

    # And the object is as it was
    assert world.snapshot(kind, target) == before, f"{cell} changed the object"

    # And a real object is answered exactly as one that does not exist
    unknown = world.call(caller, route.build(world.ghost(kind)))
    same = normalized(answer) == normalized(unknown)
    assert same, f"{cell}: {described(answer)} differs from {described(unknown)} (no such object)"


def test_an_expired_token_is_refused_for_its_expiry_alone(world: World) -> None:
    # Given alice's and team sales' application's tokens, signed again by the pool's key: once
    # still valid, once expired five minutes ago
    campaign = Request("GET", f"/campaigns/{world.objects['sent']}")
    for caller in ("alice", "app:sales"):
        token = world.token(caller)
        now = int(time.time())
        still_valid = resigned(token, iat=now - 60, exp=now + 300)
        world.tokens[f"{caller}+valid"] = still_valid
        world.tokens[f"{caller}+expired"] = expired(token)

        # When each is presented
        accepted = world.call(f"{caller}+valid", campaign)
        refused = world.call(f"{caller}+expired", campaign)

        # Then the valid one passes and the expired one gets API Gateway's 401
        assert accepted.status_code == 200, f"{caller}: {described(accepted)}"
        assert refused.status_code == 401, f"{caller}: {described(refused)}"
        assert refused.json() == {"message": "Unauthorized"}
