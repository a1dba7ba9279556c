"""`cloison-local`: start the local stack (`run`), print a user's token (`token`), run the demo."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from cloison_local.seed import DEMO_PASSWORD, USERS, seed, user_token
from cloison_local.stack import REGION, LocalStack

STATE_FILE = Path(".local/stack.json")


def run(arguments: argparse.Namespace) -> int:
    stack = LocalStack(
        api_port=arguments.port, moto_port=arguments.moto_port, clock_start=arguments.clock
    )
    print("Starting the local stack (moto server, template resources, functions)...", flush=True)
    stack.start()
    try:
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        STATE_FILE.parent.mkdir(exist_ok=True)
        STATE_FILE.write_text(
            json.dumps(
                {
                    "moto_url": stack.moto_url,
                    "api_url": stack.api_url,
                    "carrier_url": stack.carrier.endpoint_url if stack.carrier else "",
                    "outputs": stack.outputs,
                },
                indent=2,
            )
        )
        print(banner(stack, tokens), flush=True)
        if arguments.clock:
            print(
                f"  The functions' clock was moved to {arguments.clock.isoformat()}.\n", flush=True
            )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    finally:
        print("Stopping...", flush=True)
        stack.stop()
        STATE_FILE.unlink(missing_ok=True)
    return 0


def banner(stack: LocalStack, tokens: dict[str, str]) -> str:
    users = "\n".join(f"    {user.username:<8} {user.description}" for user in USERS)
    carrier = stack.carrier.endpoint_url if stack.carrier else ""
    return f"""
Cloison is running locally.

  API              {stack.api_url}   (OpenAPI: {stack.api_url}/openapi.json)
  moto server      {stack.moto_url}
  carrier (SMS v2) {carrier}   (sent messages: {carrier}/_simulator/messages)
  function logs    {stack.log_dir}/<Function>.log

  Users (password {DEMO_PASSWORD}):
{users}

  Try it, in another terminal:
    TOKEN=$(.venv/bin/cloison-local token alice)
    curl -s -X POST {stack.api_url}/campaigns -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \\
      -d '{{"team": "sales", "name": "Soldes", "sender": "promo", "kind": "marketing", "body": "Bonjour {{first_name}}, -20% ce week-end."}}'

  Ctrl-C stops the stack.
"""


def token(arguments: argparse.Namespace) -> int:
    if not STATE_FILE.exists():
        print("The local stack is not running: start it with `make run`.", file=sys.stderr)
        return 1
    state = json.loads(STATE_FILE.read_text())
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=state["moto_url"],
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's placeholder credentials
    )
    try:
        access_token = user_token(
            cognito,
            state["outputs"]["UserPoolId"],
            state["outputs"]["UserPoolClientId"],
            arguments.username,
            arguments.password,
        )
    except ClientError as exc:
        print(
            f"No token for {arguments.username}: {exc.response['Error']['Message']}",
            file=sys.stderr,
        )
        return 1
    print(access_token)
    return 0


def demo(arguments: argparse.Namespace) -> int:
    from cloison_local.demo import run_demo

    return run_demo()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="cloison-local", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    run_parser = commands.add_parser("run", help="start the stack with demo data and wait")
    run_parser.add_argument("--port", type=int, default=3000, help="API port (default 3000)")
    run_parser.add_argument(
        "--moto-port", type=int, default=5000, help="moto server port (default 5000)"
    )
    run_parser.add_argument(
        "--clock",
        type=datetime.fromisoformat,
        default=None,
        help="start the functions' clock at this ISO instant, e.g. 2026-12-01T10:00:00+01:00",
    )
    token_parser = commands.add_parser("token", help="print an access token of a demo user")
    token_parser.add_argument("username")
    token_parser.add_argument("--password", default=DEMO_PASSWORD)
    commands.add_parser("demo", help="run the end-to-end scenario on a fresh stack and report")
    arguments = parser.parse_args(argv)
    if arguments.command == "token":
        return token(arguments)
    if arguments.command == "demo":
        return demo(arguments)
    if arguments.command is None:
        arguments = run_parser.parse_args([])
    return run(arguments)


if __name__ == "__main__":
    sys.exit(main())
