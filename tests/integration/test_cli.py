"""The `cloison` command against the local stack: a CSV audience sent in parts with its bad rows
reported, a launch watched until completed, a reply listed and opened, another team kept out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from local_api import api, carrier, wait_until

from cloison_local.__main__ import write_state
from cloison_local.stack import LocalStack

# Fictional mobiles next to phonenumbers' French example (+33612345678), for this test only.
NUMBERS = [f"+336123{46000 + index}" for index in range(240)]
BAD_LINES = {5: "06 12 34", 120: "+3361234", 230: "+33 6 12"}  # line number -> a too short number
# Not inside a word: a campaign id such as c-1ff979544981813a may hold a run of digits.
FULL_NUMBER = re.compile(r"(?<!\w)\+?\d(?:[\s.\-]?\d){8,}(?!\w)")


def state_of(stack: LocalStack, path: Path) -> Path:
    """The state file `cloison-local run` writes, for this test's stack."""
    write_state(stack, path)
    return path


def cloison(state: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The command, as a separate process (standard output and error are not terminals)."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("CLOISON_")
    }
    return subprocess.run(
        [sys.executable, "-m", "cloison_cli", "--local-state", str(state), *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )


def audience_csv(path: Path) -> Path:
    lines = ["phone,first_name"]
    for line, number in enumerate(NUMBERS, start=2):
        lines.append(f"{BAD_LINES.get(line, number)},Client {line}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_operator_sends_a_campaign_and_reads_its_reply_from_the_command_line(
    stack: LocalStack, tokens: dict[str, str], tmp_path: Path
) -> None:
    state = state_of(stack, tmp_path / "stack.json")
    csv = audience_csv(tmp_path / "audience.csv")

    # Given a campaign created by alice (signing in with the demo password) from a CSV of 240
    # lines, 3 bad, sent 100 lines per upload
    created = cloison(
        state, "campaign", "create", "--user", "alice", "--team", "sales", "--name", "Rappel",
        "--sender", "alerts", "--kind", "transactional",
        "--body", "Bonjour {first_name}, votre commande est prête.",
        "--csv", str(csv), "--part-rows", "100",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    campaign = re.search(r"Campaign (c-[0-9a-f]+) created", created.stdout)
    assert campaign, created.stdout
    campaign_id = campaign.group(1)
    # Then it went in 3 uploads, each led by the header, with progress reported per part
    assert "Audience: 240 rows" in created.stderr
    assert "part 3/3: lines 202-241" in created.stderr
    assert "237 added, 3 rejected" in created.stdout
    # And each bad line is reported by its line number in the file, with no number whole
    reported = {
        int(match.group(1))
        for match in re.finditer(r"^(\d+)\s+phone\s+", created.stdout, re.MULTILINE)
    }
    assert reported == set(BAD_LINES)
    assert not FULL_NUMBER.search(created.stdout + created.stderr)

    # When it is previewed, launched and watched (with her token: signing in once is enough)
    alice = ("--token", tokens["alice"])
    preview = cloison(state, "campaign", "preview", campaign_id, *alice)
    assert preview.returncode == 0, preview.stderr
    assert "valid" in preview.stdout
    launched = cloison(state, "campaign", "launch", campaign_id, *alice)
    assert launched.returncode == 0, launched.stderr
    watched = cloison(
        state, "campaign", "watch", campaign_id, *alice,
        "--interval", "0.5", "--timeout", "45",
    )  # fmt: skip

    # Then the watch printed a line per change and ended when the campaign completed
    assert watched.returncode == 0, watched.stdout + watched.stderr
    lines = watched.stdout.splitlines()
    assert len(lines) >= 2
    # (completed: every recipient is settled on the send side; delivery reports may follow)
    assert " completed  237 recipients  queued 237 " in lines[-1]

    # When one recipient replies
    number = NUMBERS[10]
    reply_id = carrier(stack).inject_reply(number, stack.outputs["ShortCode"], "Merci !")
    assert wait_until(
        lambda: any(
            item["id"] == reply_id
            for item in api(
                stack, tokens["alice"], "GET", f"/replies?campaign={campaign_id}"
            ).json()["items"]
        ),
        timeout=30,
    )

    # Then alice lists it, without its body, and opens it, told that the opening is audited
    listed = cloison(state, "replies", "list", *alice, "--campaign", campaign_id)
    assert listed.returncode == 0, listed.stderr
    assert reply_id in listed.stdout
    assert "Merci" not in listed.stdout
    opened = cloison(state, "replies", "show", reply_id, *alice)
    assert opened.returncode == 0, opened.stderr
    assert "  Merci !" in opened.stdout
    assert "audit log" in opened.stderr
    # And the team's application sees it too, as JSON
    sales = stack.team_stacks["sales"]
    as_app = cloison(
        state, "--json", "replies", "list", "--client-id", sales.client_id,
        "--campaign", campaign_id,
    )  # fmt: skip
    assert as_app.returncode == 0, as_app.stderr
    assert [item["id"] for item in json.loads(as_app.stdout)["items"]] == [reply_id]

    # But bruno, of team support, neither lists nor opens it
    bruno = ("--token", tokens["bruno"])
    other_list = cloison(state, "replies", "list", *bruno, "--campaign", campaign_id)
    assert other_list.returncode == 0, other_list.stderr
    assert reply_id not in other_list.stdout
    other_open = cloison(state, "replies", "show", reply_id, *bruno)
    assert other_open.returncode == 1
    assert "error: 404 Not found" in other_open.stderr
    assert "Merci" not in other_open.stdout + other_open.stderr
    # Nor reads the campaign
    other_show = cloison(state, "campaign", "show", campaign_id, *bruno)
    assert other_show.returncode == 1
    assert "404" in other_show.stderr


def test_the_campaign_list_goes_from_page_to_page(
    stack: LocalStack, tokens: dict[str, str], tmp_path: Path
) -> None:
    state = state_of(stack, tmp_path / "stack.json")
    alice = ("--token", tokens["alice"], "--team", "sales", "--status", "draft")
    # Given team sales with at least two drafts
    for name in ("Brouillon 1", "Brouillon 2"):
        created = cloison(
            state, "campaign", "create", "--team", "sales", "--name", name, "--sender", "alerts",
            "--kind", "transactional", "--body", "Votre commande est prête.",
            "--token", tokens["alice"],
        )  # fmt: skip
        assert created.returncode == 0, created.stderr

    # When its drafts are listed one per page
    first = cloison(state, "campaign", "list", *alice, "--limit", "1")

    # Then the page ends with the way to the next one, which lists another draft
    assert first.returncode == 0, first.stderr
    cursor = re.search(r"add --cursor (\S+) \(or --all", first.stdout)
    assert cursor, first.stdout
    second = cloison(state, "campaign", "list", *alice, "--limit", "1", "--cursor", cursor[1])
    assert second.returncode == 0, second.stderr
    ids = [re.findall(r"^(c-[0-9a-f]+) ", page.stdout, re.MULTILINE) for page in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1
    assert ids[0] != ids[1]

    # And --all lists every draft once, newest first, in one document
    every = cloison(state, "--json", "campaign", "list", *alice, "--all", "--limit", "50")
    assert every.returncode == 0, every.stderr
    listed = [item["id"] for item in json.loads(every.stdout)["items"]]
    assert listed[:2] == ids[0] + ids[1]
    assert len(listed) == len(set(listed))
