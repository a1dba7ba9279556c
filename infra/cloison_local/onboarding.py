"""Onboarding a team: its stack from infra/team.yaml, then its sender profiles through the API.

In AWS, `make team TEAM=<name> SENDERS=<file>` deploys the team stack with `sam deploy` and runs
`cloison-local senders`, which puts the profiles with an administrator's token. On the local
stack, `cloison-local team <name> --senders <file>` does both against the running stack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3

from cloison_local.provision import Provisioner, Stack
from cloison_local.seed import call
from cloison_local.template import load_template

TEAM_TEMPLATE = Path(__file__).resolve().parents[1] / "team.yaml"


def team_stack_name(stack_name: str, team: str) -> str:
    """The stack of one team's resources, beside the main stack (`make team` names it so)."""
    return f"{stack_name}-team-{team}"


def read_senders(path: Path) -> dict[str, dict[str, Any]]:
    """Sender profiles by name, as `PUT /teams/{team}/senders/{name}` takes them."""
    profiles = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ValueError(f"{path}: expected an object of sender profiles by name")
    return profiles


def put_senders(
    api_url: str, token: str, team: str, profiles: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Creates or replaces each profile of `team` (an admin's token); returns their names."""
    for name, profile in profiles.items():
        call(api_url, token, "PUT", f"/teams/{team}/senders/{name}", dict(profile))
    return list(profiles)


def provision_team(
    moto_url: str,
    region: str,
    stack_name: str,
    team: str,
    exports: Mapping[str, str],
    origination: str = "",
) -> Stack:
    """Creates the team's stack in moto from infra/team.yaml, with the main stack's exports;
    `origination` is its own identity's ARN (empty: the shared pool)."""
    return Provisioner(
        load_template(TEAM_TEMPLATE),
        endpoint_url=moto_url,
        region=region,
        stack_name=team_stack_name(stack_name, team),
        parameter_overrides={
            "TeamName": team,
            "CloisonStack": stack_name,
            "OriginationIdentity": origination,
        },
        imports=dict(exports),
    ).provision()


def machine_client(stack: Stack) -> dict[str, str]:
    """The team stack's machine client: its id, secret and scopes."""
    client = stack.resources["MachineClient"]
    return {
        "client_id": str(client.ref),
        "client_secret": str(client.attributes["ClientSecret"]),
        "scopes": stack.outputs["MachineScopes"],
    }


def api_url_of(stack_name: str, region: str | None = None) -> str:
    """The deployed main stack's `ApiUrl` output."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["Outputs"]
    return next(str(o["OutputValue"]) for o in outputs if o["OutputKey"] == "ApiUrl")
