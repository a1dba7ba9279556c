"""Human output of the API's documents: campaigns, previews, counts, replies and problems."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cloison_cli.client import ApiError
from cloison_cli.text import fields, free_text, printable, safe, table

LISTED_ROW_ERRORS = 20
_PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def problem(error: ApiError) -> str:
    """A problem document for people: status and title, detail, each field at fault, extras."""
    lines = [f"error: {error.status} {free_text(error.title)}"]
    if error.detail:
        lines.append(f"  {free_text(error.detail)}")
    for item in error.errors:
        lines.append(f"  - {safe(item.get('field', 'body'))}: {free_text(item.get('reason', ''))}")
    for key, value in error.extra.items():
        if key in _PROBLEM_KEYS or key == "instance":
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"  {key.replace('_', ' ')}: {free_text(shown)}")
    if error.status == 401:
        lines.append("  The token was refused: sign in again (it may have expired).")
    if error.type:
        lines.append(f"  ({safe(error.type)})")
    return "\n".join(lines)


def campaign(document: dict[str, Any]) -> str:
    pairs: list[tuple[str, Any]] = [
        ("id", document.get("id")),
        ("name", document.get("name")),
        ("team", document.get("team")),
        ("sender", document.get("sender")),
        ("kind", document.get("kind")),
        ("status", document.get("status")),
        ("recipients", document.get("recipients")),
        ("created", f"{document.get('created_at')} by {document.get('created_by')}"),
    ]
    if document.get("launch_at"):
        pairs.append(("launch at", document["launch_at"]))
    if document.get("schedule"):
        pairs.append(
            ("schedule", f"{document['schedule']} ({document.get('schedule_timezone') or 'UTC'})")
        )
    if document.get("occurrence_of"):
        pairs.append(("occurrence of", document["occurrence_of"]))
    text = fields(pairs) + "\n\n" + printable(str(document.get("body", "")), newlines=True)
    occurrences = document.get("occurrences") or []
    if occurrences:
        rows = [
            [item.get("id"), item.get("scheduled_at"), item.get("status")] for item in occurrences
        ]
        text += "\n\nLatest occurrences:\n" + table(["id", "scheduled at", "status"], rows)
    return text


def campaigns(items: list[dict[str, Any]]) -> str:
    if not items:
        return "No campaigns."
    rows = [
        [
            c.get("id"),
            c.get("team"),
            c.get("name"),
            c.get("kind"),
            c.get("status"),
            c.get("recipients"),
            c.get("created_at"),
        ]
        for c in items
    ]
    return table(["id", "team", "name", "kind", "status", "recipients", "created"], rows)


def row_errors(rejected: list[dict[str, Any]], rejected_count: int, *, csv: bool) -> str:
    """Rejected rows: counted by field and reason, then the first ones with their row."""
    if not rejected_count:
        return "No row was rejected."
    unit = "line" if csv else "row"
    by_reason = Counter((str(row.get("field")), str(row.get("reason"))) for row in rejected)
    lines = ["Rejected rows by reason:"]
    lines += [
        f"  {count:>6,}  {safe(field)}: {free_text(reason)}"
        for (field, reason), count in by_reason.most_common()
    ]
    if rejected_count > len(rejected):
        lines.append(f"  {rejected_count - len(rejected):>6,}  not listed by the API")
    shown = rejected[:LISTED_ROW_ERRORS]
    note = " (the header is line 1)" if csv else " (1 is the first recipient)"
    lines.append(f"\nFirst rejected rows{note}:")
    lines.append(
        table(
            [unit, "field", "reason"],
            [[row.get("row"), row.get("field"), free_text(row.get("reason", ""))] for row in shown],
        )
    )
    if len(rejected) > len(shown):
        lines.append(f"... and {len(rejected) - len(shown):,} more (--json lists them all)")
    return "\n".join(lines)


def preview(document: dict[str, Any]) -> str:
    counts = document.get("counts") or {}
    sending = document.get("sending") or {}
    non_gsm = document.get("non_gsm") or []
    pairs: list[tuple[str, Any]] = [
        ("encoding", document.get("encoding")),
        ("segments", f"{document.get('segments')} per message"),
    ]
    if non_gsm:
        pairs.append(("forced UCS-2 by", " ".join(repr(char) for char in non_gsm)))
    estimated = " (estimated from a sample)" if document.get("estimated") else ""
    pairs += [
        ("recipients", f"{document.get('recipients')}{estimated}"),
        *((f"  {key.replace('_', ' ')}", value) for key, value in counts.items()),
        ("estimated cost", document.get("estimated_cost")),
        (
            "sending",
            f"{sending.get('recipients')} recipients at {sending.get('mps')} msg/s, "
            f"{sending.get('sending_seconds')} s over {sending.get('windows')} window(s)",
        ),
        ("starts", sending.get("starts_at")),
        ("ends", sending.get("ends_at")),
    ]
    text = "Text as sent:\n\n" + printable(str(document.get("text", "")), newlines=True) + "\n\n"
    text += fields(pairs)
    warnings = document.get("warnings") or []
    if warnings:
        text += "\n\nWarnings:\n" + "\n".join(
            f"  {safe(item.get('code'))}: {free_text(item.get('detail', ''))}" for item in warnings
        )
    return text


def stats_line(document: dict[str, Any]) -> str:
    """Counts on one line, for logs; zero counts left out:
    `sending  295 recipients  sent 8  delivered 8  deliverability 100.0%  segments 0  cost 0.0`."""
    counts = document.get("counts") or {}
    parts = [str(document.get("status")), f"{document.get('recipients')} recipients"]
    parts += [f"{key} {value}" for key, value in counts.items() if value]
    parts.append(f"deliverability {_percent(document.get('deliverability'))}")
    parts.append(f"segments {document.get('segments')}")
    parts.append(f"cost {document.get('cost')}")
    return "  ".join(safe(part) for part in parts)


def stats_block(document: dict[str, Any]) -> list[str]:
    """Every count, in aligned columns, redrawn in place while watching."""
    cells = [f"{safe(key)} {value}" for key, value in (document.get("counts") or {}).items()]
    width = max((len(cell) for cell in cells), default=0) + 2
    lines = [
        f"{safe(document.get('campaign_id'))}  {safe(document.get('status'))}  "
        f"{document.get('recipients')} recipients"
    ]
    for start in range(0, len(cells), 4):
        lines.append(
            ("  " + "".join(cell.ljust(width) for cell in cells[start : start + 4])).rstrip()
        )
    lines.append(
        f"  deliverability {_percent(document.get('deliverability'))}  "
        f"segments {document.get('segments')}  cost {document.get('cost')}"
    )
    return lines


def _percent(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1%}"


def replies(items: list[dict[str, Any]]) -> str:
    if not items:
        return "No replies."
    rows = [
        [
            r.get("id"),
            r.get("received_at"),
            r.get("team"),
            r.get("campaign_id"),
            r.get("reply_class"),
            r.get("sensitive"),
            r.get("review"),
            r.get("answered"),
        ]
        for r in items
    ]
    return table(
        ["id", "received", "team", "campaign", "class", "sensitive", "review", "answered"], rows
    )


def reply(document: dict[str, Any]) -> str:
    pairs: list[tuple[str, Any]] = [
        ("id", document.get("id")),
        ("received", document.get("received_at")),
        ("team", document.get("team")),
        ("campaign", document.get("campaign_id")),
        ("class", document.get("reply_class")),
        ("sensitive", document.get("sensitive")),
        ("review", document.get("review")),
    ]
    if document.get("resubscription"):
        pairs.append(("resubscription", document["resubscription"]))
    body = printable(str(document.get("body", "")), newlines=True)
    return fields(pairs) + "\n\n" + "\n".join("  " + line for line in body.split("\n"))
