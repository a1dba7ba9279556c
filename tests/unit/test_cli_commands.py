"""The `cloison` command: arguments, targets, each command against a fake API, exit codes."""

from __future__ import annotations

import base64
import io
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cloison_cli.__main__ import main
from cloison_cli.client import Answer, Unreachable
from cloison_cli.commands import Console
from cloison_cli.target import LOCAL_DEMO_PASSWORD

PROBLEM = "application/problem+json"


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Route = Answer | Callable[[Sent], Answer]


@dataclass
class FakeApi:
    """Routes keyed by (method, path); each answer is fixed or computed from the request."""

    routes: dict[tuple[str, str], Route | list[Route]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | IO[bytes] | None
    ) -> Answer:
        parts = urlsplit(url)
        data = body if isinstance(body, bytes) else body.read() if body is not None else b""
        request = Sent(method, parts.path, parse_qs(parts.query), dict(headers), data)
        self.sent.append(request)
        route = self.routes.get((method, parts.path))
        if isinstance(route, list):
            route = route.pop(0) if len(route) > 1 else route[0]
        if route is None:
            return problem(404, "no-route", "No such route")
        return route(request) if callable(route) else route


def ok(document: Any, status: int = 200) -> Answer:
    return Answer(status, "application/json", json.dumps(document).encode())


def problem(status: int, slug: str, title: str, detail: str = "", **extra: Any) -> Answer:
    document = {
        "type": f"https://cloison.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Answer(status, PROBLEM, json.dumps(document).encode())


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def console(*, terminal: bool = False) -> tuple[Console, io.StringIO, io.StringIO]:
    out: io.StringIO = Terminal() if terminal else io.StringIO()
    err: io.StringIO = Terminal() if terminal else io.StringIO()
    return Console(out=out, err=err, sleep=lambda seconds: None), out, err


def campaign(
    campaign_id: str = "c-0123456789abcdef", status: str = "draft", **extra: Any
) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "team": "sales",
        "name": "Soldes",
        "sender": "promo",
        "kind": "marketing",
        "body": "Bonjour {first_name}",
        "status": status,
        "recipients": 0,
        "created_at": "2026-12-01T09:00:00Z",
        "created_by": "alice",
        **extra,
    }


def stats(status: str, **counts: int) -> dict[str, Any]:
    listed = {"queued": 0, "sent": 0, "delivered": 0, "failed": 0, "deferred": 0} | counts
    delivered, failed = listed["delivered"], listed["failed"]
    return {
        "campaign_id": "c-0123456789abcdef",
        "status": status,
        "recipients": 3,
        "counts": listed,
        "deliverability": delivered / (delivered + failed) if delivered + failed else None,
        "segments": listed["queued"],
        "cost": round(0.0458 * listed["queued"], 4),
    }


# ------------------------------------------------------------------------------ the tests

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = "c-0123456789abcdef"


def create_args(*, name: str = "n", kind: str = "marketing", body: str = "b") -> list[str]:
    """`campaign create` for team sales with the promo sender, before its audience options."""
    team_and_sender = ["--team", "sales", "--sender", "promo"]
    return ["campaign", "create", *team_and_sender, "--name", name, "--kind", kind, "--body", body]


API = "http://api.test"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "CLOISON_API",
        "CLOISON_TOKEN",
        "CLOISON_USER",
        "CLOISON_CLIENT_ID",
        "CLOISON_CLIENT_SECRET",
        "CLOISON_STACK",
        "CLOISON_PASSWORD",
        "CLOISON_LOCAL_STATE",
        "CLOISON_AUTH_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .local/stack.json here


def run(fake: FakeApi, *argv: str, terminal: bool = False) -> tuple[int, str, str]:
    shell, out, err = console(terminal=terminal)
    code = main(["--api", API, "--token", "tok", *argv], shell, fake)
    return code, out.getvalue(), err.getvalue()


def test_the_package_installs_a_cloison_command() -> None:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        scripts = tomllib.load(stream)["project"]["scripts"]
    assert scripts["cloison"] == "cloison_cli.__main__:main"


def test_target_options_are_taken_before_and_after_the_command() -> None:
    # Given the same request written both ways
    fake = FakeApi({("GET", f"/campaigns/{CAMPAIGN}"): ok(campaign())})
    shell, _, _ = console()

    # When each is run
    before = main(["--api", API, "--token", "tok", "campaign", "show", CAMPAIGN], shell, fake)
    after = main(["campaign", "show", CAMPAIGN, "--api", API, "--token", "tok"], shell, fake)

    # Then both reach the API with the token
    assert before == after == 0
    assert [sent.headers["Authorization"] for sent in fake.sent] == ["tok", "tok"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["campaign"],
        ["campaign", "create", "--name", "x"],
        [
            *create_args(name="x", kind="promotional", body="hi"),
        ],
        [
            "campaign",
            "launch",
            CAMPAIGN,
            "--at",
            "2026-12-01T10:00:00+01:00",
            "--every",
            "0 10 ? * MON *",
        ],
        ["replies", "list", "--review", "someday"],
        ["campaign", "list", "--all", "--cursor", "Mg=="],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    shell, _, _ = console()
    try:
        code = main(["--api", API, "--token", "t", *argv], shell, FakeApi())
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    assert code == 2


def test_a_time_zone_without_a_schedule_is_a_usage_error() -> None:
    code, _, err = run(FakeApi(), "campaign", "launch", CAMPAIGN, "--timezone", "Europe/Paris")
    assert code == 2
    assert "--timezone goes with --every" in err


@pytest.mark.parametrize("at", ["2026-12-01T10:00:00", "tomorrow"])
def test_an_instant_needs_its_offset(at: str) -> None:
    fake = FakeApi()
    code, _, err = run(fake, "campaign", "launch", CAMPAIGN, "--at", at)
    assert code == 2
    assert "--at" in err
    assert fake.sent == []


def test_without_a_local_stack_or_a_target_it_says_how_to_get_one() -> None:
    shell, _, err = console()
    code = main(["campaign", "show", CAMPAIGN, "--user", "alice"], shell, FakeApi())
    assert code == 2
    assert "make run" in err.getvalue()


def test_without_a_caller_it_asks_who_you_are() -> None:
    shell, _, err = console()
    code = main(["--api", API, "campaign", "show", CAMPAIGN], shell, FakeApi())
    assert code == 2
    assert "--user NAME" in err.getvalue()


def test_create_uploads_the_csv_in_parts_and_prints_the_rejected_rows_masked(
    tmp_path: Path,
) -> None:
    # Given a CSV of 5 lines, the 4th bad, and an API that (wrongly) quotes a number in a reason
    audience = tmp_path / "audience.csv"
    audience.write_text(
        "phone,first_name\n+33612345000,A\n+33612345001,B\n0612,C\n+33612345003,D\n+33612345004,E\n"
    )
    uploads: list[bytes] = []

    def add(sent: Sent) -> Answer:
        uploads.append(sent.body)
        rejected = (
            [{"row": 2, "field": "phone", "reason": "+33612345678 is too short"}]
            if b"0612" in sent.body
            else []
        )
        return ok(
            {
                "accepted": 2 - len(rejected),
                "rejected": rejected,
                "rejected_count": len(rejected),
                "total_recipients": 3 * len(uploads),
            }
        )

    fake = FakeApi(
        {
            ("POST", "/campaigns"): ok(campaign(), 201),
            ("POST", f"/campaigns/{CAMPAIGN}/audience"): add,
        }
    )

    # When a campaign is created with it, two lines per upload
    code, out, err = run(
        fake,
        *create_args(name="Soldes", body="Bonjour {first_name}"),
        "--csv",
        str(audience),
        "--part-rows",
        "2",
    )

    # Then three uploads went out, the campaign's id is printed, and the bad row is line 4
    assert code == 0, err
    assert len(uploads) == 3
    assert json.loads(fake.sent[0].body) == {
        "team": "sales",
        "name": "Soldes",
        "sender": "promo",
        "kind": "marketing",
        "body": "Bonjour {first_name}",
    }
    assert CAMPAIGN in out
    assert "5 added, 1 rejected" in out
    assert any(line.split()[:2] == ["4", "phone"] for line in out.splitlines())
    # And no number is printed whole
    assert "612345678" not in out + err
    assert "***78 is too short" in out
    # And progress went to standard error, one line per part
    assert "part 3/3: lines 6-6" in err


def test_create_as_json_prints_one_document_with_the_audience() -> None:
    recipients = Path("r.json")
    recipients.write_text(json.dumps([{"phone": "+33612345678"}, {"phone": "+33612345679"}]))
    fake = FakeApi(
        {
            ("POST", "/campaigns"): ok(campaign(), 201),
            ("POST", f"/campaigns/{CAMPAIGN}/audience"): ok(
                {"accepted": 2, "rejected": [], "rejected_count": 0, "total_recipients": 2}
            ),
        }
    )
    code, out, _ = run(
        fake,
        "--json",
        *create_args(kind="transactional"),
        "--recipients-json",
        "r.json",
        "--no-progress",
    )
    assert code == 0
    document = json.loads(out)
    assert document["campaign"]["id"] == CAMPAIGN
    assert document["campaign"]["recipients"] == 2
    assert document["audience"]["accepted"] == 2
    assert fake.sent[1].headers["Content-Type"] == "application/json"


def test_a_missing_file_creates_nothing() -> None:
    fake = FakeApi()
    code, _, err = run(
        fake,
        *create_args(),
        "--csv",
        "missing.csv",
    )
    assert code == 2
    assert "missing.csv" in err
    assert fake.sent == []


def test_a_refused_upload_leaves_a_draft_and_says_how_to_go_on(tmp_path: Path) -> None:
    audience = tmp_path / "a.csv"
    audience.write_text("phone\n+33612345000\n+33612345001\n+33612345002\n")
    fake = FakeApi(
        {
            ("POST", "/campaigns"): ok(campaign(), 201),
            ("POST", f"/campaigns/{CAMPAIGN}/audience"): [
                ok({"accepted": 2, "rejected": [], "rejected_count": 0, "total_recipients": 2}),
                problem(503, "unavailable", "Temporarily unavailable", "Retry later."),
            ],
        }
    )
    code, _, err = run(
        fake,
        *create_args(),
        "--csv",
        str(audience),
        "--part-rows",
        "2",
    )
    assert code == 1
    assert "error: 503 Temporarily unavailable" in err
    assert f"cloison campaign audience {CAMPAIGN} --csv {audience} --from-line 4" in err
    assert f"cloison campaign cancel {CAMPAIGN}" in err


def test_a_conflict_shows_the_problem_its_status_and_what_it_needs() -> None:
    fake = FakeApi(
        {
            ("POST", f"/campaigns/{CAMPAIGN}/pause"): problem(
                409,
                "conflict",
                "Conflict with the current state",
                "cannot pause a campaign that is draft",
                campaign_status="draft",
                allowed_from=["sending", "scheduled"],
            ),
        }
    )
    code, out, err = run(fake, "campaign", "pause", CAMPAIGN)
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "error: 409 Conflict with the current state",
        "  cannot pause a campaign that is draft",
        "  campaign status: draft",
        "  allowed from: sending, scheduled",
        "  (https://cloison.dev/problems/conflict)",
    ]


def test_field_errors_are_listed_and_json_errors_are_a_document() -> None:
    fake = FakeApi(
        {
            ("POST", "/campaigns"): problem(
                422,
                "invalid-request",
                "The request is invalid",
                "See `errors` for each field.",
                errors=[{"field": "sender", "reason": "String should match pattern"}],
            ),
        }
    )
    argv = [
        "campaign",
        "create",
        "--team",
        "sales",
        "--name",
        "n",
        "--sender",
        "bad sender",
        "--kind",
        "marketing",
        "--body",
        "b",
    ]
    code, _, err = run(fake, *argv)
    assert code == 1
    assert "  - sender: String should match pattern" in err
    code, out, err = run(fake, "--json", *argv)
    assert code == 1
    assert out == ""
    assert json.loads(err)["errors"] == [
        {"field": "sender", "reason": "String should match pattern"}
    ]


def test_an_answer_of_api_gateway_is_shown_too() -> None:
    fake = FakeApi(
        {
            ("GET", f"/campaigns/{CAMPAIGN}"): Answer(
                401, "application/json", b'{"message": "Unauthorized"}'
            ),
        }
    )
    code, _, err = run(fake, "campaign", "show", CAMPAIGN)
    assert code == 1
    assert "error: 401 Unauthorized" in err
    assert "sign in again" in err


def test_list_says_when_the_api_has_no_campaign_list() -> None:
    fake = FakeApi(
        {
            ("GET", "/campaigns"): Answer(
                403, "application/json", b'{"message": "Missing Authentication Token"}'
            ),
        }
    )
    code, _, err = run(fake, "campaign", "list")
    assert code == 1
    assert "lists no campaigns" in err


def test_list_prints_a_table_of_campaigns() -> None:
    fake = FakeApi({("GET", "/campaigns"): ok({"items": [campaign(status="sending")]})})
    code, out, _ = run(fake, "campaign", "list", "--team", "sales")
    assert code == 0
    assert fake.sent[0].query == {"team": ["sales"]}
    assert out.splitlines()[0].split() == [
        "ID",
        "TEAM",
        "NAME",
        "KIND",
        "STATUS",
        "RECIPIENTS",
        "CREATED",
    ]
    assert CAMPAIGN in out


def test_list_says_how_to_read_the_next_page() -> None:
    # Given an API with more campaigns than one page
    fake = FakeApi(
        {("GET", "/campaigns"): ok({"items": [campaign()], "next_cursor": "eyJwYWdlIjogMn0="})}
    )

    # When a page of one is listed from a cursor
    code, out, _ = run(fake, "campaign", "list", "--limit", "1", "--cursor", "eyJwYWdlIjogMX0=")

    # Then the request carries both, and the output ends with the way to the next page
    assert code == 0
    assert fake.sent[0].query == {"limit": ["1"], "cursor": ["eyJwYWdlIjogMX0="]}
    assert out.rstrip().endswith("add --cursor eyJwYWdlIjogMn0= (or --all for every page).")


def test_list_all_follows_the_cursors_to_the_last_page() -> None:
    # Given three pages of campaigns
    pages = [
        ok({"items": [campaign("c-0000000000000003")], "next_cursor": "Mg=="}),
        ok({"items": [campaign("c-0000000000000002")], "next_cursor": "MQ=="}),
        ok({"items": [campaign("c-0000000000000001")], "next_cursor": None}),
    ]
    fake = FakeApi({("GET", "/campaigns"): pages})

    # When every page is asked for, as JSON
    code, out, _ = run(fake, "--json", "campaign", "list", "--all", "--status", "draft")

    # Then each page was read with the filter and the previous page's cursor, and one document
    # holds them all, with nothing left to read
    assert code == 0
    assert [sent.query.get("cursor") for sent in fake.sent] == [None, ["Mg=="], ["MQ=="]]
    assert all(sent.query["status"] == ["draft"] for sent in fake.sent)
    document = json.loads(out)
    assert [item["id"] for item in document["items"]] == [
        "c-0000000000000003",
        "c-0000000000000002",
        "c-0000000000000001",
    ]
    assert document["next_cursor"] is None


@pytest.mark.parametrize(
    "argv",
    [
        ["campaign", "list", "--limit", "0"],
        ["campaign", "list", "--limit", "201"],
    ],
)
def test_list_refuses_a_page_size_out_of_range(argv: list[str]) -> None:
    fake = FakeApi()
    code, _, err = run(fake, *argv)
    assert code == 2
    assert fake.sent == []
    assert "--limit is between 1 and 200" in err


@pytest.mark.parametrize(
    ("options", "body"),
    [
        ([], {}),
        (["--at", "2026-12-01T10:00:00+01:00"], {"at": "2026-12-01T10:00:00+01:00"}),
        (
            ["--every", "0 10 ? * MON *", "--timezone", "Europe/Paris"],
            {"schedule": "cron(0 10 ? * MON *)", "timezone": "Europe/Paris"},
        ),
        (["--every", "rate(1 day)"], {"schedule": "rate(1 day)"}),
    ],
)
def test_launch_sends_now_at_an_instant_or_on_a_schedule(
    options: list[str], body: dict[str, str]
) -> None:
    fake = FakeApi(
        {("POST", f"/campaigns/{CAMPAIGN}/launch"): ok(campaign(status="launching"), 202)}
    )
    code, out, _ = run(fake, "campaign", "launch", CAMPAIGN, *options)
    assert code == 0
    assert json.loads(fake.sent[0].body) == body
    assert f"Campaign {CAMPAIGN} is launching" in out


def test_preview_shows_text_encoding_counts_and_cost() -> None:
    preview = {
        "text": "Bonjour Léa, -20% ce week-end. STOP au 36111",
        "encoding": "UCS-2",
        "segments": 1,
        "non_gsm": ["ê"],
        "recipients": 3,
        "estimated": False,
        "counts": {"valid": 2, "deferred": 0, "suppressed": 1, "no_consent": 0, "invalid": 0},
        "estimated_cost": 0.0916,
        "sending": {
            "recipients": 2,
            "mps": 20,
            "sending_seconds": 0.1,
            "windows": 1,
            "starts_at": "2026-12-01T09:00:00Z",
            "ends_at": "2026-12-01T09:00:01Z",
        },
        "warnings": [{"code": "link-shortener", "detail": "bit.ly links are often filtered"}],
    }
    fake = FakeApi({("GET", f"/campaigns/{CAMPAIGN}/preview"): ok(preview)})
    code, out, _ = run(fake, "campaign", "preview", CAMPAIGN)
    assert code == 0
    assert "STOP au 36111" in out
    assert "forced UCS-2 by  'ê'" in out
    assert "  suppressed     1" in out
    assert "link-shortener: bit.ly links are often filtered" in out


def test_watch_prints_a_line_per_change_and_ends_when_completed() -> None:
    # Given counts that move, stay still once, then complete
    fake = FakeApi(
        {
            ("GET", f"/campaigns/{CAMPAIGN}/stats"): [
                ok(stats("sending")),
                ok(stats("sending", queued=2, sent=1, delivered=1)),
                ok(stats("sending", queued=2, sent=1, delivered=1)),
                ok(stats("completed", queued=3, sent=3, delivered=2, failed=1)),
            ]
        }
    )

    # When it is watched off a terminal
    code, out, _ = run(fake, "campaign", "watch", CAMPAIGN, "--interval", "0")

    # Then each change is one line, the unchanged read printed nothing, and it ended
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert len(fake.sent) == 4
    assert "sending  3 recipients  queued 2  sent 1  delivered 1  deliverability 100.0%" in lines[1]
    assert "completed" in lines[2]
    assert "failed 1" in lines[2]
    assert "deliverability 66.7%" in lines[2]


def test_watch_waits_past_completion_for_the_delivery_reports() -> None:
    # Given a campaign completed (every send made) whose delivery reports come a moment later
    fake = FakeApi(
        {
            ("GET", f"/campaigns/{CAMPAIGN}/stats"): [
                ok(stats("completed", queued=2)),
                ok(stats("completed", queued=2, sent=2, delivered=2)),
            ]
        }
    )

    # When it is watched
    code, out, _ = run(fake, "campaign", "watch", CAMPAIGN, "--interval", "0")

    # Then it ends once the reports are in, its last line with them
    assert code == 0
    assert len(fake.sent) == 2
    assert "delivered 2" in out.splitlines()[-1]


def test_watch_ends_after_settling_and_says_what_still_awaits_its_report() -> None:
    # Given a completed campaign whose reports do not come
    fake = FakeApi({("GET", f"/campaigns/{CAMPAIGN}/stats"): ok(stats("completed", queued=2))})
    shell, _, err = console()
    ticks = iter(range(100))
    shell.clock = lambda: float(next(ticks))

    # When it is watched with a settling time of 3 s
    code = main(
        ["--api", API, "--token", "t", "campaign", "watch", CAMPAIGN, "--settle", "3"],
        shell,
        fake,
    )

    # Then it ends, done, saying how many messages still await their report
    assert code == 0
    assert "2 message(s) still await their delivery report" in err.getvalue()


def test_watch_redraws_in_place_on_a_terminal() -> None:
    fake = FakeApi(
        {
            ("GET", f"/campaigns/{CAMPAIGN}/stats"): [
                ok(stats("sending")),
                ok(stats("completed", queued=3, sent=3, delivered=3)),
            ]
        }
    )
    code, out, _ = run(fake, "campaign", "watch", CAMPAIGN, terminal=True)
    assert code == 0
    # the block is 4 lines: the campaign, counts (5, four a line), deliverability
    first, second = out.split("\x1b[4F")
    assert "sending" in first
    assert "completed" in second
    assert all(line.startswith("\x1b[K") for line in second.splitlines())


def test_watch_as_json_prints_one_document_per_change() -> None:
    fake = FakeApi(
        {
            ("GET", f"/campaigns/{CAMPAIGN}/stats"): [
                ok(stats("sending")),
                ok(stats("cancelled")),
            ]
        }
    )
    code, out, _ = run(fake, "--json", "campaign", "watch", CAMPAIGN, terminal=True)
    assert code == 0
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["sending", "cancelled"]


def test_ctrl_c_stops_watching_cleanly() -> None:
    fake = FakeApi({("GET", f"/campaigns/{CAMPAIGN}/stats"): ok(stats("sending"))})
    shell, _, err = console()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    shell.sleep = interrupted
    code = main(["--api", API, "--token", "t", "campaign", "watch", CAMPAIGN], shell, fake)
    assert code == 130
    assert "interrupted" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_watch_gives_up_after_its_timeout() -> None:
    fake = FakeApi({("GET", f"/campaigns/{CAMPAIGN}/stats"): ok(stats("sending"))})
    shell, _, err = console()
    ticks = iter(range(100))
    shell.clock = lambda: float(next(ticks))
    code = main(
        ["--api", API, "--token", "t", "campaign", "watch", CAMPAIGN, "--timeout", "3"], shell, fake
    )
    assert code == 1
    assert "Still sending after 3 s" in err.getvalue()


# A reply as the API lists it: its body only comes when it is opened (and audited).
REPLY = {
    "id": "r-1",
    "team": "sales",
    "campaign_id": CAMPAIGN,
    "received_at": "2026-12-01T09:05:00Z",
    "reply_class": "REPLY",
    "sensitive": False,
    "review": None,
    "answered": False,
}


def test_replies_list_filters_and_never_shows_a_body() -> None:
    fake = FakeApi({("GET", "/replies"): ok({"items": [REPLY]})})
    code, out, _ = run(
        fake, "replies", "list", "--campaign", CAMPAIGN, "--class", "REPLY", "--review", "pending"
    )
    assert code == 0
    assert fake.sent[0].query == {"campaign": [CAMPAIGN], "class": ["REPLY"], "review": ["pending"]}
    assert "BODY" not in out
    assert "r-1" in out
    assert "opens one (audited)" in out


def test_replies_show_says_it_is_audited_and_neutralises_what_the_sender_wrote() -> None:
    reply = {**REPLY, "body": "Merci\x1b[2J\u202eeciffo\nà samedi"}
    fake = FakeApi({("GET", "/replies/r-1"): ok(reply)})
    code, out, err = run(fake, "replies", "show", "r-1")
    assert code == 0
    assert "audit log" in err
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "  Merci\\x1b[2J\\u202eeciffo\n  à samedi" in out
    code, out, _ = run(fake, "--json", "replies", "show", "r-1")
    assert "\u202e" not in out
    assert json.loads(out)["body"] == reply["body"]


def test_ids_are_escaped_in_paths() -> None:
    fake = FakeApi()
    run(fake, "campaign", "show", "../replies")
    assert fake.sent[0].path == "/campaigns/..%2Freplies"


def test_an_unreachable_api_is_an_error_not_a_traceback() -> None:
    def down(method: str, url: str, headers: dict[str, str], body: Any) -> Answer:
        raise Unreachable("api.test: Connection refused")

    shell, _, err = console()
    code = main(["--api", API, "--token", "t", "campaign", "show", CAMPAIGN], shell, down)
    assert code == 1
    assert "cannot be reached" in err.getvalue()


def local_state(tmp_path: Path) -> Path:
    state = tmp_path / "stack.json"
    state.write_text(
        json.dumps(
            {
                "moto_url": "http://127.0.0.1:5000",
                "api_url": "http://127.0.0.1:3000",
                "auth_url": "http://127.0.0.1:5001",
                "outputs": {"UserPoolId": "eu-west-3_Pool", "UserPoolClientId": "console-client"},
                "teams": {
                    "sales": {
                        "client_id": "sales-app",
                        "client_secret": "s3cret",
                        "scopes": "cloison/api cloison-team-sales/member",
                    }
                },
            }
        )
    )
    return state


def show_campaign(fake: FakeApi, *sign_in: str) -> tuple[int, str]:
    """`campaign show` with the sign-in options `sign_in` and no API address nor token: its exit
    code and what it wrote on stderr."""
    shell, _, err = console()
    code = main([*sign_in, "campaign", "show", CAMPAIGN], shell, fake)
    return code, err.getvalue()


def test_a_team_application_signs_in_with_client_credentials(tmp_path: Path) -> None:
    # Given the local stack's state, whose sales application has a secret
    state = local_state(tmp_path)
    fake = FakeApi(
        {
            ("POST", "/oauth2/token"): ok(
                {"access_token": "app-token", "expires_in": 3600, "token_type": "Bearer"}
            ),
            ("GET", f"/campaigns/{CAMPAIGN}"): ok(campaign()),
        }
    )
    scope = "cloison/api cloison-team-sales/member"

    # When a command runs as that application, its secret not given
    code, _ = show_campaign(
        fake, "--local-state", str(state), "--client-id", "sales-app", "--scope", scope
    )

    # Then the token endpoint got the client's credentials and the API its token
    assert code == 0
    token_request, api_request = fake.sent
    assert (
        token_request.headers["Authorization"]
        == "Basic " + base64.b64encode(b"sales-app:s3cret").decode()
    )
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": [scope],
    }
    assert api_request.headers["Authorization"] == "Bearer app-token"


def test_a_refused_client_is_a_sign_in_error(tmp_path: Path) -> None:
    fake = FakeApi(
        {("POST", "/oauth2/token"): Answer(400, "application/json", b'{"error": "invalid_client"}')}
    )
    state = str(local_state(tmp_path))
    code, err = show_campaign(
        fake, "--local-state", state, "--client-id", "other", "--client-secret", "x"
    )
    assert code == 1
    assert "invalid_client" in err


class FakeCognito:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def initiate_auth(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(arguments)
        return {"AuthenticationResult": {"AccessToken": "alice-token"}}


def test_a_person_signs_in_on_the_local_stack_with_the_demo_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the local stack's state and its Cognito (moto)
    cognito = FakeCognito()
    made: list[dict[str, Any]] = []

    def client(service: str, **arguments: Any) -> FakeCognito:
        made.append({"service": service, **arguments})
        return cognito

    monkeypatch.setattr("boto3.client", client)
    fake = FakeApi({("GET", f"/campaigns/{CAMPAIGN}"): ok(campaign())})

    # When alice runs a command
    code, _ = show_campaign(fake, "--local-state", str(local_state(tmp_path)), "--user", "alice")

    # Then she signed in through the console client on moto, and the API got her token
    assert code == 0
    assert made[0]["endpoint_url"] == "http://127.0.0.1:5000"
    assert made[0]["region_name"] == "eu-west-3"
    assert cognito.calls == [
        {
            "ClientId": "console-client",
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "alice", "PASSWORD": LOCAL_DEMO_PASSWORD},
        }
    ]
    assert fake.sent[0].headers["Authorization"] == "alice-token"
    assert fake.sent[0].path == f"/campaigns/{CAMPAIGN}"


def test_a_deployed_stack_is_found_by_its_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployed stack's outputs
    class FakeCloudFormation:
        meta = type("Meta", (), {"region_name": "eu-west-3"})()

        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            assert StackName == "cloison-dev"
            outputs = {
                "ApiUrl": "https://abc.execute-api.eu-west-3.amazonaws.com/dev",
                "UserPoolClientId": "console",
                "CognitoDomain": "cloison-dev-123",
            }
            return {
                "Stacks": [
                    {"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}
                ]
            }

    monkeypatch.setattr("boto3.client", lambda service, **arguments: FakeCloudFormation())
    fake = FakeApi(
        {
            ("POST", "/oauth2/token"): ok({"access_token": "app"}),
            ("GET", f"/dev/campaigns/{CAMPAIGN}"): ok(campaign()),
        }
    )
    stack = ("--stack", "cloison-dev", "--region", "eu-west-3")

    # When an application names the stack
    code, _ = show_campaign(fake, *stack, "--client-id", "app-id", "--client-secret", "s")

    # Then the token came from the user pool domain and the call went to the stack's API
    assert code == 0
    assert [sent.path for sent in fake.sent] == ["/oauth2/token", f"/dev/campaigns/{CAMPAIGN}"]


def test_the_local_demo_password_is_the_seeded_one() -> None:
    from cloison_local.seed import DEMO_PASSWORD

    assert LOCAL_DEMO_PASSWORD == DEMO_PASSWORD
