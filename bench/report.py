"""`make bench`: runs every benchmark and writes bench/report.md, with the machine and the date.

The campaign's size comes from `BENCH_RECIPIENTS` (default 10,000), the number of replies from
`BENCH_REPLIES` (default 2,000). The cost per million messages is worked out from those two runs.

A campaign of 100,000 recipients takes over half an hour on the local stack, so it runs on its
own: `make bench-large` (`python bench/report.py --large`) runs it alone and writes
bench/campaign-large.md with its own machine, date and load; `make bench` then includes the
latest such report, as it was written, under its own heading.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import campaign
import compliance
import cost
import imports
import replies

REPORT = Path(__file__).resolve().parent / "report.md"
LARGE_REPORT = Path(__file__).resolve().parent / "campaign-large.md"
LARGE_RECIPIENTS = 100_000


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}),"
        f" Python {platform.python_version()}, {platform.platform()}"
    )


def _load(averages: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.1f}" for value in averages)


def _load_note(*readings: tuple[float, float, float]) -> str:
    """Whether the load (the bench's own included) went above the CPUs this process may use."""
    cpus = len(os.sched_getaffinity(0))
    peak = max(value for reading in readings for value in reading)
    if peak > cpus:
        return f"above the {cpus} CPUs at times: other work shared the machine."
    return f"within the {cpus} CPUs (the bench's own work included)."


def _heading(started: float, load_before: tuple[float, float, float], command: str) -> list[str]:
    load_after = os.getloadavg()
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Load average (1, 5, 15 min) at the start {_load(load_before)}, at the end"
        f" {_load(load_after)}: {_load_note(load_before, load_after)}",
        f"- Took {time.monotonic() - started:.0f} s ({command}).",
    ]


def large() -> str:
    """The campaign of `LARGE_RECIPIENTS` alone, with its machine, date and load."""
    started = time.monotonic()
    load_before = os.getloadavg()
    figures = campaign.main(LARGE_RECIPIENTS)
    return "\n".join(
        [
            *_heading(started, load_before, "`make bench-large`, the campaign alone"),
            "",
            campaign.render(figures),
        ]
    )


def _large_section() -> list[str]:
    """The latest `make bench-large` report, as written, or a line saying there is none."""
    heading = f"## Campaign of {LARGE_RECIPIENTS:,} recipients (`make bench-large`)"
    if not LARGE_REPORT.is_file():
        return [heading, "", "Not run on this checkout (`make bench-large`).", ""]
    return [
        heading,
        "",
        f"Run on its own, not with the rest of this report (`{LARGE_REPORT.name}`):",
        "",
        LARGE_REPORT.read_text(encoding="utf-8").rstrip(),
        "",
    ]


def main() -> str:
    recipients = int(os.environ.get("BENCH_RECIPIENTS", campaign.DEFAULT_RECIPIENTS))
    reply_count = int(os.environ.get("BENCH_REPLIES", replies.DEFAULT_REPLIES))
    started = time.monotonic()
    load_before = os.getloadavg()
    # First, while no local stack loads the machine.
    import_figures = imports.main()
    compliance_figures = compliance.main()
    campaign_figures = campaign.main(recipients)
    reply_figures = replies.main(reply_count)
    cost_figures = cost.estimate(
        campaign_figures,
        reply_figures,
        campaign_logs=campaign.LOG_DIR,
        reply_logs=replies.LOG_DIR / "cache",
    )
    return "\n".join(
        [
            "# Cloison benchmarks",
            "",
            *_heading(
                started,
                load_before,
                "`make bench`; `BENCH_RECIPIENTS` sets the campaign's size, `BENCH_REPLIES`"
                " the number of replies",
            ),
            "",
            "Wall times through the local stack are mostly moto's and vary from run to run;",
            "call counts do not. CPU seconds are given apart: our functions' own, the moto",
            "server's (a process of its own) and the local stack's (gateway, pollers, carrier).",
            "",
            "## Campaign through the local stack (`bench/campaign.py`)",
            "",
            campaign.render(campaign_figures),
            *_large_section(),
            "## Replies through the local stack (`bench/replies.py`)",
            "",
            replies.render(reply_figures),
            "## Cost per million messages (`bench/cost.py`)",
            "",
            cost.render(cost_figures),
            "## Cold imports of the handlers (`bench/imports.py`)",
            "",
            imports.render(import_figures),
            "## Compliance rules (`bench/compliance.py`)",
            "",
            "```",
            compliance._report(compliance_figures).rstrip(),
            "```",
            "",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--large",
        action="store_true",
        help=f"run the campaign of {LARGE_RECIPIENTS:,} recipients alone, into {LARGE_REPORT.name}",
    )
    if parser.parse_args().large:
        destination, text = LARGE_REPORT, large()
    else:
        destination, text = REPORT, main()
    destination.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    sys.stdout.write(f"\nwritten to {destination}\n")
