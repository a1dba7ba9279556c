"""`cloison`: create, preview, launch and watch campaigns, and read replies, over the HTTP API.

Against the local stack by default (`make run`), a deployed stack with --stack NAME, or any
API with --api URL --token TOKEN. Exit status: 0 done, 1 the API (or signing in) refused,
2 the command line is wrong, 130 interrupted."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from cloison_cli import commands
from cloison_cli.audience import PART_BYTES, PART_ROWS
from cloison_cli.client import Api, ApiError, Transport, Unreachable, urllib_transport
from cloison_cli.render import problem
from cloison_cli.target import SignInError, TargetOptions, UsageError, resolve
from cloison_cli.text import free_text, to_json

EXAMPLES = """examples (after `make run`):
  cloison campaign create --user alice --team sales --name Soldes --sender promo \\
      --kind marketing --body 'Bonjour {first_name}, -20% ce week-end.' --csv audience.csv
  cloison campaign preview c-0123456789abcdef --user alice
  cloison campaign launch c-0123456789abcdef --user alice
  cloison campaign watch c-0123456789abcdef --user alice
  cloison replies list --user alice --campaign c-0123456789abcdef
"""

Handler = Callable[[Api, argparse.Namespace, commands.Console], int]


def _target_options(parser: argparse.ArgumentParser, *, leaf: bool) -> None:
    """Options that say where the API is and who calls it. Accepted before the command and
    after it; a leaf's defaults are suppressed so that they do not hide the top level's."""
    default: Any = argparse.SUPPRESS if leaf else None
    group = parser.add_argument_group("target (default: the local stack of `make run`)")
    group.add_argument(
        "--api", default=default, metavar="URL", help="the API's base URL (CLOISON_API)"
    )
    group.add_argument("--token", default=default, help="an access token (CLOISON_TOKEN)")
    group.add_argument(
        "--stack",
        default=default,
        metavar="NAME",
        help="a deployed stack: its ApiUrl and Cognito outputs",
    )
    group.add_argument(
        "--region", default=default, help="the stack's region (default: the AWS configuration's)"
    )
    group.add_argument(
        "--local-state",
        default=default,
        metavar="FILE",
        help="the local stack's state (default .local/stack.json)",
    )
    group.add_argument(
        "--user",
        default=default,
        help="sign in as this person (password: CLOISON_PASSWORD, the demo password locally, or asked)",
    )
    group.add_argument(
        "--client-id", default=default, help="sign in as a team's application (client credentials)"
    )
    group.add_argument(
        "--client-secret",
        default=default,
        help="its secret (CLOISON_CLIENT_SECRET; read from the local stack if omitted)",
    )
    group.add_argument(
        "--scope", default=default, help="scopes to ask for (default: all the client may have)"
    )
    group.add_argument(
        "--auth-url",
        default=default,
        metavar="URL",
        help="the user pool domain, with --api and --client-id",
    )
    group.add_argument(
        "--json", action="store_true", default=default, help="print JSON documents, for scripts"
    )


def _leaf(
    commands_: Any, name: str, handler: Handler, help_: str, **kwargs: Any
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands_.add_parser(
        name, help=help_, description=help_, **kwargs
    )
    parser.set_defaults(handler=handler)
    return parser


def _audience_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--csv", metavar="FILE", help="a CSV audience ('-': standard input), sent in parts"
    )
    source.add_argument(
        "--recipients-json",
        metavar="FILE",
        help='recipients as JSON: {"recipients": [...]} or a list',
    )
    parser.add_argument(
        "--part-rows",
        type=int,
        default=PART_ROWS,
        help=f"CSV lines per upload (default {PART_ROWS:,})",
    )
    parser.add_argument(
        "--part-bytes",
        type=int,
        default=PART_BYTES,
        help=f"bytes per upload at most (default {PART_BYTES:,})",
    )
    parser.add_argument(
        "--from-line",
        type=int,
        default=2,
        help="start at this line of the CSV (after an interrupted upload)",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress on standard error"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloison",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _target_options(parser, leaf=False)
    groups = parser.add_subparsers(dest="group", metavar="{campaign,replies}")

    campaign = groups.add_parser("campaign", help="create, preview, launch, watch campaigns")
    actions = campaign.add_subparsers(dest="action", metavar="ACTION")
    create = _leaf(
        actions, "create", commands.campaign_create, "create a campaign and upload its audience"
    )
    create.add_argument("--team", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--sender", required=True, help="one of the team's sender profiles")
    create.add_argument("--kind", required=True, choices=("marketing", "transactional"))
    create.add_argument(
        "--body", required=True, help="the text, with {variables} from the audience"
    )
    _audience_options(create)
    audience = _leaf(
        actions, "audience", commands.campaign_audience, "add recipients to a draft campaign"
    )
    audience.add_argument("id")
    _audience_options(audience)
    for name, handler, help_ in (
        ("preview", commands.campaign_preview, "dry run: text, encoding, segments, counts, cost"),
        ("pause", commands.campaign_pause, "pause a sending or recurring campaign"),
        ("resume", commands.campaign_resume, "resume a paused campaign"),
        ("cancel", commands.campaign_cancel, "cancel a campaign for good"),
        ("show", commands.campaign_show, "a campaign (a recurring one with its occurrences)"),
        ("stats", commands.campaign_stats, "counts by status, deliverability, cost"),
    ):
        _leaf(actions, name, handler, help_).add_argument("id")
    launch = _leaf(
        actions, "launch", commands.campaign_launch, "launch now, at an instant, or on a schedule"
    )
    launch.add_argument("id")
    when = launch.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="ISO", help="e.g. 2026-12-01T10:00:00+01:00")
    when.add_argument("--every", metavar="CRON", help="e.g. '0 10 ? * MON *' or 'rate(1 day)'")
    launch.add_argument(
        "--timezone", metavar="TZ", help="of --every, e.g. Europe/Paris (default UTC)"
    )
    listing = _leaf(actions, "list", commands.campaign_list, "your teams' campaigns, newest first")
    listing.add_argument("--team")
    listing.add_argument("--status")
    listing.add_argument(
        "--limit", type=int, help="campaigns per page, 1 to 200 (the API's default: 100)"
    )
    pages = listing.add_mutually_exclusive_group()
    pages.add_argument("--cursor", help="the page after the one that gave this cursor")
    pages.add_argument("--all", action="store_true", help="every page, one after the other")
    watch = _leaf(
        actions,
        "watch",
        commands.campaign_watch,
        "live counts until cancelled, or completed with its delivery reports",
    )
    watch.add_argument("id")
    watch.add_argument(
        "--interval", type=float, default=2.0, help="seconds between reads (default 2)"
    )
    watch.add_argument(
        "--timeout", type=float, default=0.0, help="give up after so many seconds (exit 1)"
    )
    watch.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="once completed, seconds to wait for delivery reports still to come (default 60)",
    )

    replies = groups.add_parser("replies", help="list replies (metadata) and open one (audited)")
    reply_actions = replies.add_subparsers(dest="action", metavar="ACTION")
    listed = _leaf(
        reply_actions, "list", commands.replies_list, "replies, newest first, without their bodies"
    )
    listed.add_argument("--campaign", metavar="ID")
    listed.add_argument(
        "--class", dest="reply_class", metavar="CLASS", help="e.g. REPLY, STOP, HELP"
    )
    listed.add_argument("--review", choices=("pending", "confirmed", "lifted"))
    shown = _leaf(reply_actions, "show", commands.replies_show, "open a reply: its body (audited)")
    shown.add_argument("id")

    for subparsers in (actions, reply_actions):
        for leaf in subparsers.choices.values():
            _target_options(leaf, leaf=True)
    return parser


def main(
    argv: Sequence[str] | None = None,
    console: commands.Console | None = None,
    transport: Transport = urllib_transport,
) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    handler: Handler | None = getattr(arguments, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        return 2
    console = console or commands.Console()
    console.json = bool(arguments.json)
    console.progress = getattr(arguments, "progress", True)
    options = TargetOptions.with_environment(
        dict(os.environ),
        **{option.name: getattr(arguments, option.name) for option in fields(TargetOptions)},
    )
    try:
        target = resolve(options, transport=transport)
        return handler(Api(target.api_url, target.authorization, transport), arguments, console)
    except UsageError as error:
        console.notice(f"cloison: {error}")
        return 2
    except SignInError as error:
        console.notice(f"cloison: {free_text(error)}")
        return 1
    except Unreachable as error:
        console.notice(f"cloison: the API cannot be reached ({error}); is the stack running?")
        return 1
    except ApiError as error:
        console.notice(to_json(error.document()) if console.json else problem(error))
        return 1
    except KeyboardInterrupt:
        console.notice("\ncloison: interrupted (the campaign itself goes on).")
        return 130


if __name__ == "__main__":
    sys.exit(main())
