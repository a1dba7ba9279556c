"""The reader roles in the templates: each team's role (infra/team.yaml) reads its own prefix and
opens its own encryption context only; the API function's own role reads no reply at all."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from cloison_local.expand import expanded_template, function_properties, role_statements
from cloison_local.template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
STACK = "cloison-dev"
REGION = "eu-west-3"
ACCOUNT = "123456789012"
BUCKET_ARN = "arn:aws:s3:::cloison-dev-replybucket"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f0f0f0f-0000-4000-8000-000000000000"
API_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{STACK}-ApiFunctionRole-ABC123"
POOL_ID = f"{REGION}_pool"
EXPORTS = {
    f"{STACK}-ReplyBucketArn": BUCKET_ARN,
    f"{STACK}-DataKeyArn": KEY_ARN,
    f"{STACK}-ApiFunctionRoleArn": API_ROLE_ARN,
    f"{STACK}-UserPoolId": POOL_ID,
}
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
TEAMS = ("sales", "support", "after-sales")
S3_VIA = f"s3.{REGION}.amazonaws.com"


@lru_cache(maxsize=1)
def _team_template() -> dict[str, Any]:
    return load_template(ROOT / "infra" / "team.yaml")


@lru_cache(maxsize=1)
def _main_template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def _unresolvable(name: str, *_: str) -> Any:
    raise AssertionError(f"{name} is not expected in a reader role")


def _team_resolver(team: str) -> Resolver:
    return Resolver(
        template=_team_template(),
        parameters={"TeamName": team, "CloisonStack": STACK},
        pseudo={**PSEUDO, "AWS::StackName": f"{STACK}-team-{team}"},
        ref=_unresolvable,
        get_att=_unresolvable,
        imports=EXPORTS,
    )


def _main_resolver() -> Resolver:
    attributes = {
        ("ReplyBucket", "Arn"): BUCKET_ARN,
        ("DataKey", "Arn"): KEY_ARN,
        ("ApiFunctionRole", "Arn"): API_ROLE_ARN,
    }
    return Resolver(
        template=_main_template(),
        parameters={},
        pseudo={**PSEUDO, "AWS::StackName": STACK},
        ref=lambda name: f"{name}-physical",
        get_att=lambda name, attribute: attributes[(name, attribute)],
    )


def _imports(value: Any) -> list[Any]:
    """Every `Fn::ImportValue` argument in a piece of the template."""
    if isinstance(value, list):
        return [found for item in value for found in _imports(item)]
    if isinstance(value, dict):
        if "Fn::ImportValue" in value:
            return [value["Fn::ImportValue"]]
        return [found for item in value.values() for found in _imports(item)]
    return []


def _team_roles() -> list[str]:
    return sorted(
        logical_id
        for logical_id, resource in _team_template()["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    )


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _team_role(team: str, logical_id: str) -> dict[str, Any]:
    role = _team_template()["Resources"][logical_id]["Properties"]
    resolved: dict[str, Any] = _team_resolver(team).resolve(role)
    return resolved


def _assert_reads_only(statements: list[dict[str, Any]], prefix: str, team: str) -> None:
    """Allow-only statements: s3:GetObject under `prefix`, kms:Decrypt in `team`'s context (or
    the bucket's own SSE-KMS layer, through S3), nothing else."""
    assert statements
    team_contexts = 0
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = _actions(statement)
        if actions == ["s3:GetObject"]:
            resources = statement["Resource"]
            assert (resources if isinstance(resources, list) else [resources]) == [
                f"{BUCKET_ARN}/{prefix}*"
            ]
            assert "Condition" not in statement
            continue
        assert actions == ["kms:Decrypt"], f"unexpected actions {actions}"
        assert statement["Resource"] == KEY_ARN
        equals = statement["Condition"]["StringEquals"]
        assert set(statement["Condition"]) == {"StringEquals"}
        if "kms:EncryptionContext:team" in equals:
            assert equals == {"kms:EncryptionContext:team": team}
            team_contexts += 1
        else:
            assert equals == {
                "kms:ViaService": S3_VIA,
                "kms:EncryptionContext:aws:s3:arn": BUCKET_ARN,
            }
    assert team_contexts == 1
    assert any(_actions(statement) == ["s3:GetObject"] for statement in statements)


# ---------------------------------------------------------------- team stacks


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("role", _team_roles())
def test_every_team_reader_policy_reads_its_prefix_and_opens_its_context_only(
    role: str, team: str
) -> None:
    # Given a team's stack made from infra/team.yaml
    properties = _team_role(team, role)

    # When its reader role's policies are read, for that team
    statements = _statements(properties)

    # Then they get objects under the team's prefix only, and decrypt only in its context
    _assert_reads_only(statements, f"replies/team={team}/", team)


@pytest.mark.parametrize("role", _team_roles())
def test_team_reader_policy_documents_carry_the_encryption_context_condition(role: str) -> None:
    # Given the reader role as written in the template (before any parameter is given)
    statements = _statements(_team_template()["Resources"][role]["Properties"])

    # When its KMS statements are read
    conditions = [
        statement["Condition"]["StringEquals"]
        for statement in statements
        if "kms:Decrypt" in _actions(statement)
    ]

    # Then the team's statement pins kms:EncryptionContext:team to the TeamName parameter
    assert {"kms:EncryptionContext:team": {"Ref": "TeamName"}} in conditions


@pytest.mark.parametrize("role", _team_roles())
def test_the_team_reader_role_trusts_the_api_function_role_only(role: str) -> None:
    # Given a team's reader role
    properties = _team_role("sales", role)

    # When its trust policy is read
    statements = properties["AssumeRolePolicyDocument"]["Statement"]

    # Then only the main stack's API function role may assume it
    assert statements == [
        {"Effect": "Allow", "Principal": {"AWS": API_ROLE_ARN}, "Action": "sts:AssumeRole"}
    ]


def test_the_team_stack_names_its_role_as_the_api_function_expects() -> None:
    # Given the prefix the API function builds reader role ARNs from, and its AssumeRole grant
    resolver = _main_resolver()
    api = function_properties("ApiFunction")
    prefix = resolver.resolve(api["Environment"]["Variables"]["READER_ROLE_ARN_PREFIX"])
    grants = [
        resolver.resolve(statement["Resource"])
        for statement in role_statements(expanded_template(), "ApiFunctionRole")
        if "sts:AssumeRole" in _actions(statement)
    ]

    # When a team's role is named
    name = _team_role("sales", "ReaderRole")["RoleName"]

    # Then the prefix and the team give its ARN, and the grant covers reader roles alone
    assert f"arn:aws:iam::{ACCOUNT}:role/{name}" == f"{prefix}sales"
    assert grants == [f"{prefix}*"]
    assert prefix.endswith(f":role/{STACK}-reader-")


def test_the_team_stack_group_scope_and_client_follow_the_naming_the_api_reads() -> None:
    # Given a team's stack
    resolver = _team_resolver("sales")
    resources = {
        name: resolver.resolve(_team_template()["Resources"][name])
        for name in ("TeamGroup", "TeamScopes", "MachineClient")
    }

    # When its Cognito resources are read
    group = resources["TeamGroup"]["Properties"]
    scopes = resources["TeamScopes"]["Properties"]
    client = resources["MachineClient"]["Properties"]

    # Then people join team-sales and applications get the cloison-team-sales/member scope
    assert group["GroupName"] == "team-sales"
    assert scopes["Identifier"] == "cloison-team-sales"
    assert [scope["ScopeName"] for scope in scopes["Scopes"]] == ["member"]
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["AllowedOAuthScopes"] == ["cloison/api", "cloison-team-sales/member"]
    assert client["GenerateSecret"] is True
    assert group["UserPoolId"] == scopes["UserPoolId"] == client["UserPoolId"] == POOL_ID


def test_every_value_the_team_stack_imports_is_exported_by_the_main_stack() -> None:
    # Given the exports of the main stack
    resolver = _main_resolver()
    exported = {
        resolver.resolve(output["Export"]["Name"])
        for output in _main_template()["Outputs"].values()
        if "Export" in output
    }

    # When the team template's imports are resolved for a team
    resolver = _team_resolver("sales")
    imported = {resolver.resolve(name) for name in _imports(_team_template()["Resources"])}

    # Then each is one of them
    assert imported
    assert imported <= exported


def test_quarantine_is_not_a_team_name() -> None:
    # Given the team name parameter's pattern
    pattern = _team_template()["Parameters"]["TeamName"]["AllowedPattern"]

    # When quarantine and real team names are checked against it
    # Then quarantine is refused (it is the compartment of unmatched replies), the others pass
    assert re.fullmatch(pattern, "quarantine") is None
    assert all(re.fullmatch(pattern, team) for team in TEAMS)


# ---------------------------------------------------------------- the main stack


def test_the_quarantine_reader_reads_quarantine_only() -> None:
    # Given the main stack's quarantine reader role
    properties = _main_resolver().resolve(
        _main_template()["Resources"]["QuarantineReaderRole"]["Properties"]
    )

    # When its policies and name are read
    statements = _statements(properties)

    # Then it reads quarantine/ and opens the quarantine context only, under the reader naming
    _assert_reads_only(statements, "quarantine/", "quarantine")
    assert properties["RoleName"] == f"{STACK}-reader-quarantine"
    assert properties["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": API_ROLE_ARN
    }


def test_the_api_functions_own_role_reads_no_reply_object() -> None:
    # Given the API function's role as SAM writes it (policy templates expanded)
    statements = role_statements(expanded_template(), "ApiFunctionRole")

    # When grants on the reply bucket are looked for
    actions = [
        action
        for statement in statements
        if "ReplyBucket" in str(statement["Resource"])
        for action in _actions(statement)
    ]

    # Then none reads an object: replies are read under a reader role only
    assert not [action for action in actions if re.fullmatch(r"s3:(\*|Get.*)", action)]


def test_a_teams_machine_client_signs_in_no_user() -> None:
    # Given a team's machine client
    client = _team_resolver("sales").resolve(_team_template()["Resources"]["MachineClient"])[
        "Properties"
    ]

    # Then it has client credentials only: no password, SRP or custom sign-in (Cognito allows
    # SRP and custom authentication when ExplicitAuthFlows is left unset), and its errors never
    # tell whether a user exists
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["GenerateSecret"] is True
