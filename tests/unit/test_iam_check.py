"""Calls held against a role: the authorizations each call needs, and the decisions."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cloison_local.iam_check import (
    Authorization,
    NamedPolicy,
    RolePolicies,
    UnmappedCall,
    authorizations,
    denial_message,
)
from cloison_local.model import FunctionSpec
from cloison_local.runtime import RoleCheck

REGION = "eu-west-3"
ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/cloison-dev-MessagesTable"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _needs(service: str, operation: str, **params: Any) -> list[Authorization]:
    return authorizations(service, operation, params, region=REGION, account=ACCOUNT)


def test_a_query_on_an_index_is_authorized_on_the_index() -> None:
    # Given a query of a table's index
    # When its authorizations are listed
    [needed] = _needs("dynamodb", "Query", TableName="cloison-dev-MessagesTable", IndexName="open")

    # Then it is dynamodb:Query on the index's ARN
    assert needed == Authorization("dynamodb:Query", f"{TABLE}/index/open")


def test_a_transaction_is_authorized_item_by_item() -> None:
    # Given a transaction that puts in one table and checks a condition in another
    items = [
        {"Put": {"TableName": "cloison-dev-MessagesTable", "Item": {}}},
        {"ConditionCheck": {"TableName": "cloison-dev-CampaignsTable", "Key": {}}},
    ]

    # When its authorizations are listed
    needed = _needs("dynamodb", "TransactWriteItems", TransactItems=items)

    # Then each item needs its own action on its own table
    assert [(item.action, item.resource.rsplit("/", 1)[1]) for item in needed] == [
        ("dynamodb:PutItem", "cloison-dev-MessagesTable"),
        ("dynamodb:ConditionCheckItem", "cloison-dev-CampaignsTable"),
    ]


def test_s3_listings_and_versions_use_their_own_actions() -> None:
    # Given a listing of object versions and a read of one version
    listing = _needs("s3", "ListObjectVersions", Bucket="vault", Prefix="replies/")
    version = _needs("s3", "GetObject", Bucket="vault", Key="replies/a", VersionId="v1")

    # Then they are authorized as the Service Authorization Reference says
    assert listing == [Authorization("s3:ListBucketVersions", "arn:aws:s3:::vault")]
    assert version == [Authorization("s3:GetObjectVersion", "arn:aws:s3:::vault/replies/a")]


def test_creating_a_schedule_passes_its_role() -> None:
    # Given a schedule whose target is sent with a role
    needed = _needs(
        "scheduler",
        "CreateSchedule",
        Name="launch-c-1",
        GroupName="launches",
        Target={"Arn": "arn:aws:sqs:x", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler"},
    )

    # Then the role is passed: iam:PassRole is needed beside the schedule itself
    assert [item.action for item in needed] == ["scheduler:CreateSchedule", "iam:PassRole"]
    assert needed[0].resource.endswith(":schedule/launches/launch-c-1")


def test_a_kms_call_carries_its_encryption_context_as_condition_keys() -> None:
    # Given a data key asked for with an encryption context
    [needed] = _needs("kms", "GenerateDataKey", KeyId=KEY, EncryptionContext={"team": "sales"})

    # Then the context is there for conditions to be checked against
    assert needed.context == (("kms:EncryptionContext:team", "sales"),)


def test_a_call_no_mapping_knows_is_refused() -> None:
    # When a call without mapping is checked
    # Then it fails naming the call
    with pytest.raises(UnmappedCall, match="dynamodb DescribeTable"):
        _needs("dynamodb", "DescribeTable", TableName="t")


def _role(*statements: dict[str, Any]) -> RolePolicies:
    return RolePolicies(
        [NamedPolicy("policy", {"Version": "2012-10-17", "Statement": list(statements)})]
    )


def _decrypt_role(condition: dict[str, str]) -> RolePolicies:
    """A role that may decrypt with KEY where every key of `condition` equals its value."""
    return _role(
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": KEY,
            "Condition": {"StringEquals": condition},
        }
    )


def test_an_allowed_call_names_the_grant_it_used() -> None:
    # Given a role that may read the table and its indexes
    role = _role(
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"},
        {"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": [TABLE, f"{TABLE}/index/*"]},
    )

    # When a query of an index is decided
    decision = role.decide(Authorization("dynamodb:Query", f"{TABLE}/index/open"))

    # Then it is allowed by the second statement
    assert decision.allowed
    assert decision.grants == (("policy", 1),)


def test_a_call_outside_every_grant_is_denied() -> None:
    # Given a role that may put items in one table only
    role = _role({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE})

    # When a put in another table, and a delete in the same one, are decided
    other = role.decide(Authorization("dynamodb:PutItem", TABLE.replace("Messages", "Audit")))
    delete = role.decide(Authorization("dynamodb:DeleteItem", TABLE))

    # Then neither is allowed
    assert not other.allowed
    assert not delete.allowed


def test_an_explicit_deny_wins() -> None:
    # Given a role that may do anything on S3 but read replies
    role = _role(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::vault/replies/*"},
    )

    # When a read of a reply is decided
    decision = role.decide(Authorization("s3:GetObject", "arn:aws:s3:::vault/replies/a"))

    # Then it is denied
    assert not decision.allowed


def test_a_condition_is_checked_when_the_call_gives_its_key() -> None:
    # Given a role that may decrypt only in its team's encryption context
    role = _decrypt_role({"kms:EncryptionContext:team": "sales"})

    # When its team's and another team's decryptions are decided
    own = role.decide(Authorization("kms:Decrypt", KEY, (("kms:EncryptionContext:team", "sales"),)))
    other = role.decide(
        Authorization("kms:Decrypt", KEY, (("kms:EncryptionContext:team", "support"),))
    )

    # Then only its own is allowed
    assert own.allowed
    assert not other.allowed


def test_a_condition_the_call_cannot_be_checked_against_is_listed() -> None:
    # Given a role whose grant depends on the service the call comes through
    role = _decrypt_role({"kms:ViaService": "s3.eu-west-3.amazonaws.com"})

    # When a decryption is decided
    decision = role.decide(Authorization("kms:Decrypt", KEY))

    # Then the grant does not apply (in AWS a missing key fails the condition), and the
    # unchecked condition is named
    assert not decision.allowed
    assert len(decision.unevaluated) == 1
    assert "kms:ViaService" in decision.unevaluated[0]


def test_a_denial_reads_as_awss() -> None:
    # Given a refused authorization
    message = denial_message(
        f"arn:aws:iam::{ACCOUNT}:role/cloison-dev-InboundFunctionRole",
        "cloison-dev-InboundFunction",
        Authorization("s3:PutLifecycleConfiguration", "arn:aws:s3:::vault"),
    )

    # Then it names the role session, the action and the resource
    assert message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/")
    assert "s3:PutLifecycleConfiguration on resource: arn:aws:s3:::vault" in message


def test_a_function_call_its_role_refuses_fails_as_in_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a worker's role check for a function whose role may only read one table, and a
    # client signing with the function's own credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    spec = FunctionSpec(
        logical_id="InboundFunction",
        name="cloison-dev-InboundFunction",
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:cloison-dev-InboundFunction",
        handler="cloison.handlers.inbound.lambda_handler",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/cloison-dev-InboundFunctionRole",
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE}],
    }
    check = RoleCheck(spec, [NamedPolicy("read", policy)])
    client = boto3.client("dynamodb", region_name=REGION)
    key = {"pk": {"S": "x"}}

    # When it reads, then deletes
    check.check(client, "dynamodb", "GetItem", {"TableName": TABLE.rsplit("/", 1)[1], "Key": key})
    with pytest.raises(ClientError) as raised:
        check.check(
            client, "dynamodb", "DeleteItem", {"TableName": TABLE.rsplit("/", 1)[1], "Key": key}
        )

    # Then the read used the grant, and the delete fails as AWS's AccessDenied, reported with
    # the function, the action and the resource
    denied, grants, _ = check.take()
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert grants == (("read", 0, "dynamodb:GetItem"),)
    [message] = denied
    assert "cloison-dev-InboundFunctionRole/cloison-dev-InboundFunction" in message
    assert f"dynamodb:DeleteItem on resource: {TABLE}" in message
