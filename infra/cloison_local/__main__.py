"""`cloison-local`: start the local stack (`run`), print a user's or a team application's token
(`token`), onboard a team on it (`team`) or put a team's sender profiles on a deployed stack
(`senders`), run the demo."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.exceptions import ClientError

from cloison_local.onboarding import (
    api_url_of,
    machine_client,
    provision_team,
    put_senders,
    read_senders,
)
from cloison_local.seed import (
    DEMO_IDENTITIES,
    DEMO_PASSWORD,
    OWN_KEYWORD,
    USERS,
    seed,
    seed_own_numbers,
    signup_page_url,
    user_token,
)
from cloison_local.stack import CREDENTIALS, REGION, LocalStack

STATE_FILE = Path(".local/stack.json")


def write_state(stack: LocalStack, path: Path) -> None:
    """The state file the `cloison` command and `make console` read: URLs, outputs, clients."""
    path.write_text(
        json.dumps(
            {
                "moto_url": stack.moto_url,
                "api_url": stack.api_url,
                "carrier_url": stack.carrier.endpoint_url if stack.carrier else "",
                # The user pool domain: https://<domain>.auth.<region>.amazoncognito.com in AWS.
                "auth_url": stack.token_endpoint.url if stack.token_endpoint else "",
                "outputs": stack.outputs,
                "stack_name": stack.stack_name,
                "exports": stack.stack.exports if stack.stack else {},
                # Each team's machine client; in AWS the secret is read from Cognito.
                "teams": {
                    team.team: {
                        "client_id": team.client_id,
                        "client_secret": team.client_secret,
                        "scopes": team.scopes,
                    }
                    for team in stack.team_stacks.values()
                },
            },
            indent=2,
        )
    )


def run(arguments: argparse.Namespace) -> int:
    stack = LocalStack(
        api_port=arguments.port,
        moto_port=arguments.moto_port,
        clock_start=arguments.clock,
        team_identities=DEMO_IDENTITIES,
    )
    print("Starting the local stack (moto server, template resources, functions)...", flush=True)
    stack.start()
    try:
        tokens = seed(stack.client("cognito-idp"), stack.outputs, stack.api_url)
        seed_own_numbers(
            stack.api_url,
            tokens["ada"],
            {team: stack.team_stacks[team].outputs["TeamPoolArn"] for team in DEMO_IDENTITIES},
        )
        STATE_FILE.parent.mkdir(exist_ok=True)
        write_state(stack, STATE_FILE)
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
    auth = stack.token_endpoint.url if stack.token_endpoint else ""
    clients = "\n".join(
        f"    {team.team:<8} {team.client_id}   ({team.scopes})"
        for team in stack.team_stacks.values()
    )
    console = stack.outputs.get("ConsoleUrl", stack.api_url + "/")
    return f"""
Cloison is running locally.

  console          {console}   (sign in as a user below)
  sign-up page     {signup_page_url(console, "sales")}   (team sales', no sign-in)
  own number       team support sends from {DEMO_IDENTITIES["support"]} (sender `own`; text {OWN_KEYWORD} to it to sign up)
  API              {stack.api_url}   (OpenAPI: {stack.api_url}/openapi.json)
  moto server      {stack.moto_url}
  carrier (SMS v2) {carrier}   (sent messages: {carrier}/_simulator/messages)
  token endpoint   {auth}/oauth2/token   (client credentials)
  function logs    {stack.log_dir}/<Function>.log

  Users (password {DEMO_PASSWORD}):
{users}

  Team applications (client id and secret in {STATE_FILE}):
{clients}

  Try it, in another terminal:
    TOKEN=$(.venv/bin/cloison-local token alice)
    curl -s -X POST {stack.api_url}/campaigns -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \\
      -d '{{"team": "sales", "name": "Soldes", "sender": "promo", "kind": "marketing", "body": "Bonjour {{first_name}}, -20% ce week-end."}}'

  Ctrl-C stops the stack.
"""


def token(arguments: argparse.Namespace) -> int:
    state = _local_state()
    if state is None:
        return 1
    if arguments.team:
        return team_token(state, arguments.team)
    if not arguments.username:
        print("Name a user, or a team with --team.", file=sys.stderr)
        return 1
    cognito = _cognito(state)
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


def _cognito(state: dict[str, Any]) -> Any:
    """The running stack's Cognito, with moto's placeholder credentials."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=state["moto_url"],
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _local_state() -> dict[str, Any] | None:
    if not STATE_FILE.exists():
        print("The local stack is not running: start it with `make run`.", file=sys.stderr)
        return None
    state: dict[str, Any] = json.loads(STATE_FILE.read_text())
    return state


def team(arguments: argparse.Namespace) -> int:
    """Onboards a team on the running local stack, as `make team` does in AWS."""
    state = _local_state()
    if state is None:
        return 1
    profiles = read_senders(arguments.senders) if arguments.senders else {}
    for name, value in CREDENTIALS.items():
        os.environ.setdefault(name, value)  # moto's placeholder credentials, as the stack uses
    client = machine_client(
        provision_team(
            state["moto_url"], REGION, state["stack_name"], arguments.name, state["exports"]
        )
    )
    cognito = _cognito(state)
    admin = user_token(
        cognito, state["outputs"]["UserPoolId"], state["outputs"]["UserPoolClientId"], "ada"
    )
    names = put_senders(state["api_url"], admin, arguments.name, profiles)
    state["teams"][arguments.name] = client
    STATE_FILE.write_text(json.dumps(state, indent=2))
    print(
        f"Team {arguments.name}: reader role, group team-{arguments.name}, machine client "
        f"{client['client_id']} ({client['scopes']}), sender profiles: {', '.join(names) or 'none'}."
    )
    return 0


def senders(arguments: argparse.Namespace) -> int:
    """Puts a team's sender profiles on a deployed stack, with an administrator's token."""
    token = os.environ.get("TOKEN")
    if not token:
        print("Set TOKEN to an administrator's access token.", file=sys.stderr)
        return 1
    api_url = arguments.api_url or api_url_of(arguments.stack, arguments.region)
    names = put_senders(api_url, token, arguments.name, read_senders(arguments.file))
    print(f"Team {arguments.name}: sender profiles {', '.join(names)} put on {api_url}.")
    return 0


def team_token(state: dict[str, object], team: str) -> int:
    """A team application's access token, from the token endpoint (client credentials)."""
    clients = state.get("teams")
    client = clients.get(team) if isinstance(clients, dict) else None
    if not isinstance(client, dict):
        print(f"No machine client for team {team} on the local stack.", file=sys.stderr)
        return 1
    answer = requests.post(
        f"{state['auth_url']}/oauth2/token",
        auth=(client["client_id"], client["client_secret"]),
        data={"grant_type": "client_credentials", "scope": client["scopes"]},
        timeout=10,
    )
    if answer.status_code != 200:
        print(f"No token for team {team}: {answer.text}", file=sys.stderr)
        return 1
    print(answer.json()["access_token"])
    return 0


def demo(arguments: argparse.Namespace) -> int:
    from cloison_local.demo import run_demo

    return run_demo()


def run_preflight(arguments: argparse.Namespace) -> int:
    import boto3

    from cloison_local.preflight import preflight

    session = boto3.session.Session(region_name=arguments.region)
    findings = preflight(
        lambda service: session.client(service),  # type: ignore[call-overload]
        region=arguments.region,
        stage=arguments.stage,
        origination=arguments.origination or None,
        alarm_topic=arguments.alarm_topic or None,
        stack_name=arguments.stack or f"cloison-{arguments.stage}",
    )
    for finding in findings:
        print(finding.line())
    blocking = [finding for finding in findings if finding.blocking]
    print(
        f"{len(blocking)} blocking finding(s): see docs/deploy.md"
        if blocking
        else "nothing blocks the deploy"
    )
    return 1 if blocking else 0


def grants(arguments: argparse.Namespace) -> int:
    from cloison_local.grants import read_usage, report

    if not arguments.usage.exists():
        print(f"{arguments.usage}: no usage recorded yet: run the integration tests first")
        return 2
    arguments.out.write_text(report(read_usage(arguments.usage)), encoding="utf-8")
    print(f"{arguments.out}: written")
    return 0


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
    token_parser = commands.add_parser(
        "token", help="print an access token of a demo user, or of a team's application"
    )
    token_parser.add_argument("username", nargs="?")
    token_parser.add_argument(
        "--team", help="the team's machine client, through the token endpoint (client credentials)"
    )
    token_parser.add_argument("--password", default=DEMO_PASSWORD)
    team_parser = commands.add_parser(
        "team", help="onboard a team on the running local stack (as `make team` in AWS)"
    )
    team_parser.add_argument("name", help="team slug, e.g. marketing")
    team_parser.add_argument(
        "--senders",
        type=Path,
        help="JSON file of sender profiles by name (infra/senders.example.json)",
    )
    senders_parser = commands.add_parser(
        "senders", help="put a team's sender profiles on a deployed stack (TOKEN: an admin's token)"
    )
    senders_parser.add_argument("name", help="team slug")
    senders_parser.add_argument("file", type=Path, help="JSON file of sender profiles by name")
    senders_parser.add_argument("--stack", default="cloison-dev", help="the main stack's name")
    senders_parser.add_argument(
        "--api-url", help="the API's base URL (default: the stack's ApiUrl)"
    )
    senders_parser.add_argument(
        "--region", help="the stack's region (default: the AWS configuration's)"
    )
    commands.add_parser("demo", help="run the end-to-end scenario on a fresh stack and report")
    preflight_parser = commands.add_parser(
        "preflight", help="check an AWS account and region before sam deploy (read-only)"
    )
    preflight_parser.add_argument("--region", default="eu-west-3")
    preflight_parser.add_argument("--stage", choices=["dev", "prod"], default="dev")
    preflight_parser.add_argument(
        "--origination", help="the OriginationIdentity: phone number id or ARN, or sender ID"
    )
    preflight_parser.add_argument("--alarm-topic", help="the AlarmTopicArn (required in prod)")
    preflight_parser.add_argument("--stack", help="the stack's name (default cloison-<stage>)")
    grants_parser = commands.add_parser(
        "grants", help="write the grant report (what each role grants, what the tests used)"
    )
    grants_parser.add_argument("--usage", type=Path, default=Path(".local/iam-usage.json"))
    grants_parser.add_argument("--out", type=Path, default=Path("docs/iam-grants.md"))
    arguments = parser.parse_args(argv)
    if arguments.command == "grants":
        return grants(arguments)
    if arguments.command == "preflight":
        return run_preflight(arguments)
    if arguments.command == "token":
        return token(arguments)
    if arguments.command == "team":
        return team(arguments)
    if arguments.command == "senders":
        return senders(arguments)
    if arguments.command == "demo":
        return demo(arguments)
    if arguments.command is None:
        arguments = run_parser.parse_args([])
    return run(arguments)


if __name__ == "__main__":
    sys.exit(main())
