"""The commands: each reads its arguments, calls the API and prints for people or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from cloison_cli import render
from cloison_cli.audience import (
    MAX_PART_ROWS,
    CsvPart,
    JsonPart,
    Progress,
    UploadResult,
    UploadStopped,
    split_csv,
    split_recipients,
    upload,
)
from cloison_cli.client import Api, ApiError
from cloison_cli.progress import BarProgress, LineProgress
from cloison_cli.target import UsageError
from cloison_cli.text import size, to_json

FINISHED = frozenset({"completed", "cancelled"})
# GET /campaigns lists this many at most per page.
MAX_LISTED_CAMPAIGNS = 200
_SCHEDULE_FUNCTIONS = ("cron(", "rate(", "at(")


@dataclass
class Console:
    """Where output goes: results on `out`, progress and notices on `err`."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    json: bool = False
    progress: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def notice(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    def document(self, document: Any) -> None:
        self.print(to_json(document))

    def show(self, document: Any, human: Callable[[Any], str]) -> None:
        """The API's document as JSON with --json, else as `human` renders it."""
        self.print(to_json(document) if self.json else human(document))

    def out_is_terminal(self) -> bool:
        return self.out.isatty()

    def upload_progress(self) -> Progress:
        if not self.progress:
            return Progress()
        return BarProgress(self.err) if self.err.isatty() else LineProgress(self.err)


def _id(value: str) -> str:
    return quote(value, safe="")


# ------------------------------------------------------------------------------ campaigns
def campaign_create(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    parts = _audience_parts(
        arguments
    )  # read before anything is created: a bad file creates nothing
    created = api.post(
        "/campaigns",
        {
            "team": arguments.team,
            "name": arguments.name,
            "sender": arguments.sender,
            "kind": arguments.kind,
            "body": arguments.body,
        },
    )
    campaign_id = str(created["id"])
    if not console.json:
        console.print(
            f"Campaign {campaign_id} created: {created.get('name')!r} (team {created.get('team')}, "
            f"sender {created.get('sender')}, {created.get('kind')}), {created.get('status')}."
        )
    result: UploadResult | None = None
    if parts is not None:
        outcome = _send_audience(api, campaign_id, parts, arguments, console, created=True)
        if outcome is None:
            return 1
        result = outcome
    if console.json:
        document = {"campaign": created, "audience": result.document() if result else None}
        if result is not None:
            document["campaign"]["recipients"] = result.total_recipients
        console.document(document)
    else:
        console.print(
            f"Next: cloison campaign preview {campaign_id}, then cloison campaign launch {campaign_id}"
        )
    return 0


def campaign_audience(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    parts = _audience_parts(arguments)
    if parts is None:
        raise UsageError("give the audience: --csv FILE or --recipients-json FILE")
    result = _send_audience(api, arguments.id, parts, arguments, console, created=False)
    if result is None:
        return 1
    if console.json:
        console.document(result.document())
    return 0


def _audience_parts(arguments: argparse.Namespace) -> list[CsvPart] | list[JsonPart] | None:
    if arguments.csv is not None:
        data = _read(arguments.csv)
        if arguments.part_rows > MAX_PART_ROWS or arguments.part_rows < 1:
            raise UsageError(f"--part-rows is 1 to {MAX_PART_ROWS} (the API's limit per upload)")
        parts = split_csv(
            data,
            part_bytes=arguments.part_bytes,
            part_rows=arguments.part_rows,
            from_line=arguments.from_line,
        )
        if not parts:
            raise UsageError(f"{arguments.csv}: no data lines to upload after the header")
        return parts
    if arguments.recipients_json is not None:
        try:
            document = json.loads(_read(arguments.recipients_json))
            return split_recipients(document, part_bytes=arguments.part_bytes)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise UsageError(f"{arguments.recipients_json}: not JSON ({error})") from None
        except ValueError as error:
            raise UsageError(f"{arguments.recipients_json}: {error}") from None
    return None


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as error:
        raise UsageError(f"{name}: {error.strerror or error}") from None


def _send_audience(
    api: Api,
    campaign_id: str,
    parts: list[CsvPart] | list[JsonPart],
    arguments: argparse.Namespace,
    console: Console,
    *,
    created: bool,
) -> UploadResult | None:
    csv = isinstance(parts[0], CsvPart)
    try:
        result = upload(api, campaign_id, parts, progress=console.upload_progress())
    except UploadStopped as stopped:
        _report_stopped(campaign_id, stopped, arguments, console, created=created, csv=csv)
        return None
    if not console.json:
        console.print(
            f"Audience: {result.accepted:,} added, {result.rejected_count:,} rejected; "
            f"{result.total_recipients:,} recipients in all "
            f"({result.parts} upload{'s' if result.parts > 1 else ''}, {size(result.bytes_sent)})."
        )
        if result.rejected_count:
            console.print(render.row_errors(result.rejected, result.rejected_count, csv=csv))
    return result


def _report_stopped(
    campaign_id: str,
    stopped: UploadStopped,
    arguments: argparse.Namespace,
    console: Console,
    *,
    created: bool,
    csv: bool,
) -> None:
    result = stopped.result
    if console.json:
        console.notice(
            to_json(
                {
                    "campaign_id": campaign_id,
                    "problem": stopped.error.document(),
                    "audience": result.document(),
                    "resume_from": stopped.resume_from,
                }
            )
        )
        return
    console.notice(render.problem(stopped.error))
    what = "line" if csv else "recipient"
    if result.parts_sent:
        console.notice(
            f"Upload {result.parts_sent + 1} of {result.parts} was refused; the {result.parts_sent} "
            f"before it were kept ({result.accepted:,} recipients added, "
            f"{result.rejected_count:,} rows rejected)."
        )
    else:
        console.notice("Nothing of the audience was kept.")
    source = f"--csv {arguments.csv}" if csv else f"--recipients-json {arguments.recipients_json}"
    resume = f" --from-line {stopped.resume_from}" if csv and result.parts_sent else ""
    if created:
        console.notice(f"Campaign {campaign_id} was created and is a draft.")
    console.notice(
        f"Go on from {what} {stopped.resume_from} with: "
        f"cloison campaign audience {campaign_id} {source}{resume}"
        + (f"\nor drop it: cloison campaign cancel {campaign_id}" if created else "")
    )


def campaign_preview(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    document = api.get(f"/campaigns/{_id(arguments.id)}/preview")
    console.show(document, render.preview)
    return 0


def campaign_launch(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    body: dict[str, str] = {}
    if arguments.at:
        body["at"] = _instant(arguments.at)
    if arguments.every:
        every = arguments.every.strip()
        body["schedule"] = every if every.startswith(_SCHEDULE_FUNCTIONS) else f"cron({every})"
        if arguments.timezone:
            body["timezone"] = arguments.timezone
    elif arguments.timezone:
        raise UsageError("--timezone goes with --every")
    document = api.post(f"/campaigns/{_id(arguments.id)}/launch", body)
    if console.json:
        console.document(document)
    else:
        when = (
            f" at {document.get('launch_at')}"
            if document.get("launch_at") and not document.get("schedule")
            else f" on {document.get('schedule')} ({document.get('schedule_timezone') or 'UTC'})"
            if document.get("schedule")
            else ""
        )
        console.print(f"Campaign {document.get('id')} is {document.get('status')}{when}.")
        console.print(f"Follow it: cloison campaign watch {document.get('id')}")
    return 0


def _instant(text: str) -> str:
    """An ISO instant with its offset: a bare local time would be read in no one's zone."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text}: not an ISO 8601 date and time") from None
    if instant.tzinfo is None:
        raise UsageError(f"--at {text}: give the offset, e.g. {text}+01:00 or {text}Z")
    return text


def _lifecycle(action: str) -> Callable[[Api, argparse.Namespace, Console], int]:
    def command(api: Api, arguments: argparse.Namespace, console: Console) -> int:
        document = api.post(f"/campaigns/{_id(arguments.id)}/{action}")
        if console.json:
            console.document(document)
        else:
            console.print(f"Campaign {document.get('id')} is {document.get('status')}.")
        return 0

    return command


campaign_pause = _lifecycle("pause")
campaign_resume = _lifecycle("resume")
campaign_cancel = _lifecycle("cancel")


def campaign_show(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    document = api.get(f"/campaigns/{_id(arguments.id)}")
    console.show(document, render.campaign)
    return 0


def campaign_stats(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    document = api.get(f"/campaigns/{_id(arguments.id)}/stats")
    console.show(document, lambda shown: "\n".join(render.stats_block(shown)))
    return 0


def campaign_list(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    """A page of campaigns, newest first (`--limit`, from `--cursor`), or every page (`--all`)."""
    if arguments.limit is not None and not 1 <= arguments.limit <= MAX_LISTED_CAMPAIGNS:
        raise UsageError(f"--limit is between 1 and {MAX_LISTED_CAMPAIGNS}")
    try:
        document = _campaign_page(api, arguments, arguments.cursor)
    except ApiError as error:
        if error.no_route:
            raise ApiError(
                status=error.status,
                title="This API lists no campaigns",
                detail="It has no GET /campaigns route: name a campaign by its id (show, stats).",
            ) from None
        raise
    if arguments.all:
        items = list(document["items"])
        while document["next_cursor"]:
            document = _campaign_page(api, arguments, document["next_cursor"])
            items += document["items"]
        document = {"items": items, "next_cursor": None}
    console.show(document, _campaigns_for_people)
    return 0


def _campaign_page(api: Api, arguments: argparse.Namespace, cursor: str | None) -> dict[str, Any]:
    document = api.get(
        "/campaigns",
        team=arguments.team,
        status=arguments.status,
        limit=None if arguments.limit is None else str(arguments.limit),
        cursor=cursor,
    )
    if not isinstance(document, dict):  # an API of before pages: a list of campaigns
        return {"items": document, "next_cursor": None}
    return {"items": document.get("items", []), "next_cursor": document.get("next_cursor")}


def _campaigns_for_people(document: dict[str, Any]) -> str:
    text = render.campaigns(document["items"])
    if document["next_cursor"]:
        text += (
            f"\n\nMore campaigns: add --cursor {document['next_cursor']} (or --all for every page)."
        )
    return text


def campaign_watch(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    """Counts until the campaign is cancelled, or completed with its delivery reports in (or
    `--settle` seconds after completion): redrawn in place on a terminal, one line (or one JSON
    document) per change otherwise."""
    path = f"/campaigns/{_id(arguments.id)}/stats"
    in_place = console.out_is_terminal() and not console.json
    drawn = 0
    last: Any = None
    started = console.clock()
    settled_by: float | None = None
    while True:
        document = api.get(path)
        if in_place:
            lines = render.stats_block(document)
            lines[0] += f"  ({console.clock() - started:.0f} s)"
            console.out.write(
                (f"\x1b[{drawn}F" if drawn else "") + "".join(f"\x1b[K{line}\n" for line in lines)
            )
            console.out.flush()
            drawn = len(lines)
        elif document != last:
            if console.json:
                console.out.write(json.dumps(document, ensure_ascii=True) + "\n")
                console.out.flush()
            else:
                console.print(f"{time.strftime('%H:%M:%S')}  {render.stats_line(document)}")
        last = document
        status = document.get("status")
        if status in FINISHED:
            awaiting = _awaiting_reports(document)
            if status == "cancelled" or not awaiting:
                return 0
            # Every send is made; the carriers' delivery reports follow (seconds, or up to
            # 72 hours): wait a little for them rather than stop at counts still moving.
            settled_by = (
                settled_by if settled_by is not None else console.clock() + arguments.settle
            )
            if console.clock() >= settled_by:
                console.notice(
                    f"Completed: {awaiting} message(s) still await their delivery report "
                    f"(carriers report up to 72 h after a send); `cloison campaign stats "
                    f"{arguments.id}` shows them as they come."
                )
                return 0
        if arguments.timeout and console.clock() - started >= arguments.timeout:
            console.notice(f"Still {document.get('status')} after {arguments.timeout:g} s.")
            return 1
        console.sleep(arguments.interval)


def _awaiting_reports(document: dict[str, Any]) -> int:
    """Messages handed to the carrier whose delivery report has not come yet."""
    counts = document.get("counts") or {}
    final = sum(int(counts.get(status, 0)) for status in ("delivered", "failed", "expired"))
    return max(0, int(counts.get("queued", 0)) + int(counts.get("in_doubt", 0)) - final)


# ------------------------------------------------------------------------------ replies
def replies_list(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    document = api.get(
        "/replies",
        campaign=arguments.campaign,
        **{"class": arguments.reply_class},
        review=arguments.review,
    )
    items = document.get("items", [])
    if console.json:
        console.document(document)
    else:
        console.print(render.replies(items))
        if items:
            console.print("\nBodies are not listed: `cloison replies show ID` opens one (audited).")
    return 0


def replies_show(api: Api, arguments: argparse.Namespace, console: Console) -> int:
    console.notice(
        f"Opening reply {arguments.id}: each opening is written to the audit log, with your name."
    )
    document = api.get(f"/replies/{_id(arguments.id)}")
    console.show(document, render.reply)
    return 0
