"""Which API the command line talks to, and as whom: the local stack (`.local/stack.json`), a
deployed stack by its CloudFormation outputs, or an explicit URL and token."""

from __future__ import annotations

import base64
import getpass
import json
import os
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloison_cli.client import Transport, Unreachable, urllib_transport

LOCAL_STATE = Path(".local/stack.json")
# The local stack's demo users all have this password (printed by `make run`); never a real one.
LOCAL_DEMO_PASSWORD = "Cloison-Demo-2026"  # noqa: S105
# moto accepts any credentials; these are its documented placeholders.
_MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class UsageError(Exception):
    """The command line does not say enough (or says contradictory things): exit status 2."""


class SignInError(Exception):
    """Signing in failed: wrong password, unknown client, unreachable identity provider."""


@dataclass(frozen=True)
class TargetOptions:
    """What the command line and the environment said about the API and the caller."""

    api: str | None = None
    token: str | None = None
    stack: str | None = None
    region: str | None = None
    local_state: Path | None = None
    user: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    auth_url: str | None = None

    @classmethod
    def with_environment(cls, environ: dict[str, str], **given: Any) -> TargetOptions:
        """Options given on the command line, else from CLOISON_* variables."""

        def pick(name: str, variable: str) -> Any:
            value = given.get(name)
            return value if value is not None else environ.get(variable) or None

        state = pick("local_state", "CLOISON_LOCAL_STATE")
        return cls(
            api=pick("api", "CLOISON_API"),
            token=pick("token", "CLOISON_TOKEN"),
            stack=pick("stack", "CLOISON_STACK"),
            region=given.get("region"),
            local_state=Path(state) if state else None,
            user=pick("user", "CLOISON_USER"),
            client_id=pick("client_id", "CLOISON_CLIENT_ID"),
            client_secret=pick("client_secret", "CLOISON_CLIENT_SECRET"),
            scope=given.get("scope"),
            auth_url=pick("auth_url", "CLOISON_AUTH_URL"),
        )


@dataclass
class Target:
    """An API base URL and a way to get the Authorization header (signing in on first use)."""

    api_url: str
    sign_in: Callable[[], str]
    description: str
    _header: str | None = None

    def authorization(self) -> str:
        if self._header is None:
            self._header = self.sign_in()
        return self._header


@dataclass(frozen=True)
class _Place:
    """Where the API and its identity provider are."""

    api_url: str
    kind: str  # local, stack, explicit
    auth_url: str | None = None
    cognito_endpoint: str | None = None
    region: str | None = None
    user_pool_client_id: str | None = None
    local_clients: dict[str, str] | None = None  # client id -> secret (local stack only)


def resolve(
    options: TargetOptions,
    *,
    transport: Transport = urllib_transport,
    password: Callable[[str], str] | None = None,
    environ: dict[str, str] | None = None,
) -> Target:
    """The target the options name; raises UsageError when they do not name one."""
    environ = dict(os.environ) if environ is None else environ
    given = [name for name, value in (("--api", options.api), ("--stack", options.stack)) if value]
    if len(given) > 1:
        raise UsageError("give --api or --stack, not both")
    place = _place(options)
    where = {"local": "the local stack", "stack": f"stack {options.stack}", "explicit": ""}[
        place.kind
    ] or place.api_url
    if options.token:
        token = options.token
        return Target(place.api_url, lambda: token, f"{where}, with the given token")
    if options.client_id:
        return Target(
            place.api_url,
            lambda: _client_credentials(place, options, transport),
            f"{where}, as application {options.client_id}",
        )
    if options.user:
        user = options.user
        ask = password or _ask_password
        return Target(
            place.api_url,
            lambda: _password_sign_in(place, user, _password_for(place, user, ask, environ)),
            f"{where}, as {user}",
        )
    raise UsageError(
        "say who you are: --user NAME (a person), --client-id ID --client-secret SECRET "
        "(a team's application) or --token TOKEN (CLOISON_USER, CLOISON_CLIENT_ID, CLOISON_TOKEN)"
    )


def _place(options: TargetOptions) -> _Place:
    if options.api:
        return _Place(options.api.rstrip("/"), "explicit", auth_url=options.auth_url)
    if options.stack:
        return _stack_place(options.stack, options.region)
    return _local_place(options.local_state or LOCAL_STATE)


def _local_place(path: Path) -> _Place:
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"no local stack ({path} is missing): start it with `make run`, or name an API "
            "with --api URL or --stack NAME"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"{path} cannot be read: {error}") from None
    outputs = state.get("outputs") or {}
    pool = str(outputs.get("UserPoolId", ""))
    teams = state.get("teams") or {}
    return _Place(
        api_url=str(state["api_url"]).rstrip("/"),
        kind="local",
        auth_url=state.get("auth_url") or None,
        cognito_endpoint=state.get("moto_url") or None,
        # A pool id starts with its region: eu-west-3_AbC...
        region=pool.split("_", 1)[0] if "_" in pool else "eu-west-3",
        user_pool_client_id=outputs.get("UserPoolClientId"),
        local_clients={
            str(team["client_id"]): str(team["client_secret"])
            for team in teams.values()
            if isinstance(team, dict) and "client_id" in team
        },
    )


def _stack_place(stack: str, region: str | None) -> _Place:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cloudformation = boto3.client("cloudformation", region_name=region)
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except (BotoCoreError, ClientError) as error:
        raise SignInError(f"stack {stack} cannot be read: {error}") from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
    if "ApiUrl" not in outputs:
        raise UsageError(f"stack {stack} has no ApiUrl output: is it Cloison's main stack?")
    region = cloudformation.meta.region_name
    domain = outputs.get("CognitoDomain")
    return _Place(
        api_url=outputs["ApiUrl"].rstrip("/"),
        kind="stack",
        auth_url=f"https://{domain}.auth.{region}.amazoncognito.com" if domain else None,
        region=region,
        user_pool_client_id=outputs.get("UserPoolClientId"),
    )


def _ask_password(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError("no password: set CLOISON_PASSWORD, or run in a terminal to be asked")
    return getpass.getpass(prompt)


def _password_for(
    place: _Place, user: str, ask: Callable[[str], str], environ: dict[str, str]
) -> str:
    if environ.get("CLOISON_PASSWORD"):
        return environ["CLOISON_PASSWORD"]
    if place.kind == "local":
        return LOCAL_DEMO_PASSWORD
    return ask(f"Password for {user}: ")


def _password_sign_in(place: _Place, user: str, password: str) -> str:
    """A person's access token, through the console app client (USER_PASSWORD_AUTH)."""
    if place.kind == "explicit" or not place.user_pool_client_id:
        raise UsageError("--user needs the local stack or --stack NAME (to know the user pool)")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    extra: dict[str, Any] = {}
    if place.cognito_endpoint:
        extra = {"endpoint_url": place.cognito_endpoint, **_MOTO_CREDENTIALS}
    try:
        cognito = boto3.client("cognito-idp", region_name=place.region, **extra)
        answer = cognito.initiate_auth(
            ClientId=place.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": password},
        )
    except ClientError as error:
        raise SignInError(f"{user} cannot sign in: {error.response['Error']['Message']}") from None
    except BotoCoreError as error:
        raise SignInError(f"{user} cannot sign in: {error}") from None
    if "AuthenticationResult" not in answer:
        challenge = answer.get("ChallengeName", "a challenge")
        raise SignInError(f"{user} must first answer {challenge} (sign in once in the console)")
    return str(answer["AuthenticationResult"]["AccessToken"])


def _client_credentials(place: _Place, options: TargetOptions, transport: Transport) -> str:
    """A team application's access token, from the user pool domain's token endpoint."""
    client_id = options.client_id or ""
    secret = options.client_secret or (place.local_clients or {}).get(client_id)
    if not secret:
        raise UsageError("--client-id needs --client-secret (or CLOISON_CLIENT_SECRET)")
    if not place.auth_url:
        raise UsageError("--client-id with --api needs --auth-url (the user pool domain's URL)")
    form = {"grant_type": "client_credentials"}
    if options.scope:
        form["scope"] = options.scope
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    try:
        answer = transport(
            "POST",
            place.auth_url.rstrip("/") + "/oauth2/token",
            {
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            urllib.parse.urlencode(form).encode("ascii"),
        )
    except Unreachable as error:
        raise SignInError(f"the token endpoint cannot be reached: {error}") from None
    document = answer.document()
    if answer.status != 200 or not isinstance(document, dict) or "access_token" not in document:
        reason = document.get("error") if isinstance(document, dict) else answer.status
        raise SignInError(f"application {client_id} cannot sign in: {reason}")
    return f"Bearer {document['access_token']}"
