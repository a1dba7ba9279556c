"""The reader roles under moto's IAM enforcement, on a local stack of its own: a bug that reaches
for another team's reply with team sales' role, or with the API function's own role, is refused
by IAM, not by the code.

moto enforces AssumeRole, its temporary credentials and S3 object ARNs; it checks KMS against
`Resource: "*"` only and ignores conditions, so the encryption-context half of the reader
policies is checked on the templates (tests/unit/test_reader_roles_template.py). Under
enforcement every function of the stack is refused too (their credentials are no IAM identity,
and moto checks DynamoDB against `"*"` while the template names its tables), so `GET
/replies/{id}` cannot run then: the vault adapter is called directly, with the credentials the API
function has in Lambda, and the full read (S3 and KMS under the team's role) is shown once
enforcement is off. `GET /replies/{id}` itself goes through the reader roles in the thin path
(test_thin_path.py), without enforcement.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.reader_roles import ReaderRoles
from cloison.adapters.vault import ReplyVault, encryption_context, reply_object_key
from cloison.errors import ReadDenied
from cloison_local.stack import REGION, LocalStack

RECEIVED = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
BODIES = {"sales": "Je passe samedi", "support": "Mon colis est arrivé", "quarantine": "Qui ?"}


@dataclass(frozen=True)
class Vault:
    """The stack's reply vault, one stored reply per compartment, and the API function's role."""

    stack: LocalStack
    bucket: str
    key_arn: str
    role_prefix: str
    keys: dict[str, str]
    function_credentials: dict[str, str]

    def context(self, compartment: str) -> dict[str, str]:
        team = None if compartment == "quarantine" else compartment
        return encryption_context(team, "c-1" if team else None)


def enforce(stack: LocalStack, on: bool) -> None:
    """moto's IAM enforcement, for every request from now on (or none)."""
    answer = requests.post(
        f"{stack.moto_url}/moto-api/reset-auth", data=b"0" if on else b"inf", timeout=10
    )
    answer.raise_for_status()


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    """A stack of its own with a sales, a support and a quarantined reply, enforcement on."""
    with (
        LocalStack(api_port=0, log_dir=tmp_path_factory.mktemp("role-logs")) as stack,
        pytest.MonkeyPatch.context() as env,
    ):
        assert stack.stack is not None
        env.setenv("AWS_ENDPOINT_URL", stack.moto_url)
        env.setenv("AWS_DEFAULT_REGION", REGION)
        aws.s3.cache_clear()
        aws.sts.cache_clear()
        bucket = stack.outputs["ReplyBucketName"]
        key_arn = stack.outputs["DataKeyArn"]
        # Written as the inbound function writes them: sealed, with its own role.
        writer = ReplyVault(bucket, EnvelopeSealer(key_arn))
        keys: dict[str, str] = {}
        for compartment, body in BODIES.items():
            team = None if compartment == "quarantine" else compartment
            keys[compartment] = reply_object_key(
                team, "c-1" if team else None, RECEIVED, f"in-{uuid.uuid4().hex[:8]}"
            )
            writer.put(keys[compartment], body, encryption_context(team, "c-1" if team else None))

        # The credentials Lambda gives the API function: a session of its role, named after it.
        api_function = stack.stack.functions["ApiFunction"]
        api_role = stack.stack.resources["ApiFunctionRole"].attributes["Arn"]
        session = stack.client("sts").assume_role(
            RoleArn=api_role, RoleSessionName=api_function.name
        )["Credentials"]
        session_arn = (
            f"arn:aws:sts::123456789012:assumed-role/{api_role.split('/')[-1]}/{api_function.name}"
        )
        # AWS matches a role's sessions to a trust policy naming the role; moto compares ARNs
        # literally, so the session is named beside the role, as AWS would match it.
        iam = stack.client("iam")
        for role in iam.list_roles()["Roles"]:
            statements = role["AssumeRolePolicyDocument"]["Statement"]
            if any(s.get("Principal", {}).get("AWS") == api_role for s in statements):
                for statement in statements:
                    statement["Principal"]["AWS"] = [api_role, session_arn]
                iam.update_assume_role_policy(
                    RoleName=role["RoleName"],
                    PolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]),
                )
        prefix = api_function.environment["READER_ROLE_ARN_PREFIX"]

        enforce(stack, on=True)
        try:
            yield Vault(
                stack=stack,
                bucket=bucket,
                key_arn=key_arn,
                role_prefix=prefix,
                keys=keys,
                function_credentials={
                    "AWS_ACCESS_KEY_ID": session["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": session["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": session["SessionToken"],
                },
            )
        finally:
            enforce(stack, on=False)
            aws.s3.cache_clear()
            aws.sts.cache_clear()


@pytest.fixture
def as_api_function(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process runs with the API function's credentials, as its handler does in Lambda."""
    for name, value in vault.function_credentials.items():
        monkeypatch.setenv(name, value)
    # boto3's default session keeps the credentials it found first: a new one reads these.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    aws.s3.cache_clear()
    aws.sts.cache_clear()
    yield
    aws.s3.cache_clear()
    aws.sts.cache_clear()


def _denied(call: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"])


def test_the_sales_reader_role_reads_sales_replies_and_is_denied_support_ones(
    vault: Vault, as_api_function: None
) -> None:
    # Given the API function's reader roles, under IAM enforcement
    roles = ReaderRoles(vault.role_prefix, vault.key_arn)

    # When it reads as team sales, for alice, a sales reply and a support reply
    sales = roles.session("sales", "sub-alice")
    read = sales.s3.get_object(Bucket=vault.bucket, Key=vault.keys["sales"])["Body"].read()
    code = _denied(lambda: sales.s3.get_object(Bucket=vault.bucket, Key=vault.keys["support"]))

    # Then the sales object comes back and the support one is AccessDenied
    assert read
    assert code == "AccessDenied"


def test_the_vault_asked_for_another_teams_reply_with_sales_credentials_is_denied(
    vault: Vault, as_api_function: None
) -> None:
    # Given the vault the API function reads with
    reader = ReplyVault(
        vault.bucket, EnvelopeSealer(vault.key_arn), ReaderRoles(vault.role_prefix, vault.key_arn)
    )

    # When a bug asks it for team support's reply while serving team sales
    # Then IAM refuses the read: the code gets a ReadDenied (a 404 for the caller), not the body
    with pytest.raises(ReadDenied):
        reader.get(
            vault.keys["support"], vault.context("support"), team="sales", caller="sub-alice"
        )
    # And asking as team support, for quarantine, gets nothing either
    with pytest.raises(ReadDenied):
        reader.get(
            vault.keys["quarantine"], vault.context("quarantine"), team="support", caller="sub-b"
        )


def test_the_quarantine_reader_reads_quarantine_only(vault: Vault, as_api_function: None) -> None:
    # Given the quarantine reader role, for a privacy officer
    quarantine = ReaderRoles(vault.role_prefix, vault.key_arn).session("quarantine", "sub-priya")

    # When it reads the quarantined reply and a team's reply
    read = quarantine.s3.get_object(Bucket=vault.bucket, Key=vault.keys["quarantine"])
    code = _denied(lambda: quarantine.s3.get_object(Bucket=vault.bucket, Key=vault.keys["sales"]))

    # Then only the quarantined one comes back
    assert read["Body"].read()
    assert code == "AccessDenied"


def test_the_api_functions_own_role_reads_no_reply(vault: Vault, as_api_function: None) -> None:
    # Given the API function's own credentials
    s3 = boto3.client("s3")

    # When it reads any reply object itself, instead of through a reader role
    codes = {
        compartment: _denied(lambda key=key: s3.get_object(Bucket=vault.bucket, Key=key))
        for compartment, key in vault.keys.items()
    }

    # Then every one is refused
    assert codes == dict.fromkeys(vault.keys, "AccessDenied")


def test_the_api_function_assumes_reader_roles_and_no_other(
    vault: Vault, as_api_function: None
) -> None:
    # Given the API function's credentials and another role of the stack
    sts = boto3.client("sts")
    scheduler_role = vault.role_prefix.replace("reader-", "SchedulerRole")

    # When it assumes that role
    code = _denied(lambda: sts.assume_role(RoleArn=scheduler_role, RoleSessionName="x1"))

    # Then it is refused: its policy names the reader roles only
    assert code in ("AccessDenied", "403")


def test_with_enforcement_off_the_api_opens_a_reply_under_the_team_role(
    vault: Vault, as_api_function: None
) -> None:
    # Given the same vault and reader roles, once moto no longer enforces IAM (KMS is
    # checked against "*" only there, which no key-bound policy matches)
    enforce(vault.stack, on=False)
    try:
        reader = ReplyVault(
            vault.bucket,
            EnvelopeSealer(vault.key_arn),
            ReaderRoles(vault.role_prefix, vault.key_arn),
        )

        # When the sales reply is read and opened as team sales
        body = reader.get(
            vault.keys["sales"], vault.context("sales"), team="sales", caller="sub-alice"
        )

        # Then its body comes back, read and decrypted with the sales role's credentials
        assert body == BODIES["sales"]
    finally:
        enforce(vault.stack, on=True)
