"""Least privilege, proven: each AWS call a function makes, held against its own role.

Each call is turned into the authorizations AWS makes for it (action and resource ARN, from
AWS's Service Authorization Reference, "Actions, resources, and condition keys for <service>"),
then decided against the role's policies, as SAM expanded them (inline statements, policy
templates and AWS managed policies), with moto's policy matcher. A call no mapping knows is
refused too: the mapping grows with the calls the code makes.

Conditions are evaluated where the call gives their context key; where it does not (a
`kms:ViaService`, a source ARN), the statement does not apply, as in AWS where a missing key
fails its condition, and the condition is listed in the grant report, never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from moto.iam.access_control import IAMPolicyStatement, PermissionResult

JsonDict = dict[str, Any]
_MAX_DECISIONS_KEPT = 10_000


class UnmappedCall(Exception):
    """A call whose authorization the mapping does not know: add it below."""


@dataclass(frozen=True)
class Authorization:
    """One authorization AWS makes for a call: an action on a resource, with the condition
    context keys the call itself gives."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Statements that applied although a condition of theirs could not be evaluated.
    unevaluated: tuple[str, ...] = ()
    # The (policy name, statement index) of each statement that allowed it.
    grants: tuple[tuple[str, int], ...] = ()


@dataclass
class _Arns:
    region: str
    account: str

    def dynamodb(self, table: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{self.region}:{self.account}:table/{table}"
        return f"{arn}/index/{index}" if index else arn

    def s3(self, bucket: str, key: str | None = None) -> str:
        return f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"

    def sqs(self, queue_url: str) -> str:
        # https://sqs.<region>.amazonaws.com/<account>/<name>, or the local endpoint's shape.
        account, name = urlparse(queue_url).path.strip("/").split("/")[-2:]
        return f"arn:aws:sqs:{self.region}:{account}:{name}"

    def kms(self, key: str) -> str:
        if key.startswith("arn:"):
            return key
        kind = "alias" if key.startswith("alias/") else "key"
        return f"arn:aws:kms:{self.region}:{self.account}:{kind}/{key.removeprefix('alias/')}"

    def secret(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        # A name: the ARN ends with a random six-character suffix.
        return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{secret_id}-??????"

    def schedule(self, group: str | None, name: str) -> str:
        return (
            f"arn:aws:scheduler:{self.region}:{self.account}:schedule/{group or 'default'}/{name}"
        )

    def sms(self, kind: str, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:sms-voice:{self.region}:{self.account}:{kind}/{name}"

    def origination(self, identity: str) -> str:
        """A phone number, sender ID or pool, by ARN or id (End User Messaging's id prefixes)."""
        if identity.startswith("arn:"):
            return identity
        if identity.startswith("pool-"):
            return self.sms("pool", identity)
        if identity.startswith("senderid-") or not identity.lstrip("+").isdigit():
            return self.sms("sender-id", identity)
        return self.sms("phone-number", identity)


Mapper = Callable[[_Arns, Mapping[str, Any]], list[Authorization]]


def _one(action: str, resource: Callable[[_Arns, Mapping[str, Any]], str]) -> Mapper:
    return lambda arns, params: [Authorization(action, resource(arns, params))]


def _table(arns: _Arns, params: Mapping[str, Any]) -> str:
    return arns.dynamodb(params["TableName"], params.get("IndexName"))


def _batch_tables(action: str) -> Mapper:
    return lambda arns, params: [
        Authorization(action, arns.dynamodb(table)) for table in params["RequestItems"]
    ]


_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def _transact(arns: _Arns, params: Mapping[str, Any]) -> list[Authorization]:
    return [
        Authorization(_TRANSACT_ACTIONS[kind], arns.dynamodb(detail["TableName"]))
        for item in params["TransactItems"]
        for kind, detail in item.items()
    ]


def _s3_object(action: str, versioned_action: str) -> Mapper:
    return lambda arns, params: [
        Authorization(
            versioned_action if params.get("VersionId") else action,
            arns.s3(params["Bucket"], params["Key"]),
        )
    ]


def _s3_delete_objects(arns: _Arns, params: Mapping[str, Any]) -> list[Authorization]:
    # DeleteObjects is authorized object by object, as DeleteObject(Version).
    return [
        Authorization(
            "s3:DeleteObjectVersion" if entry.get("VersionId") else "s3:DeleteObject",
            arns.s3(params["Bucket"], entry["Key"]),
        )
        for entry in params["Delete"]["Objects"]
    ]


def _kms(action: str) -> Mapper:
    def mapper(arns: _Arns, params: Mapping[str, Any]) -> list[Authorization]:
        # Decrypt may leave the key to the ciphertext: the resource is then unknown here.
        key = params.get("KeyId")
        context = tuple(
            (f"kms:EncryptionContext:{name}", str(value))
            for name, value in sorted(params.get("EncryptionContext", {}).items())
        )
        resource = arns.kms(key) if key else f"arn:aws:kms:{arns.region}:{arns.account}:key/*"
        return [Authorization(action, resource, context)]

    return mapper


def _create_schedule(arns: _Arns, params: Mapping[str, Any]) -> list[Authorization]:
    # Creating a schedule passes its target's role to EventBridge Scheduler: iam:PassRole.
    return [
        Authorization(
            "scheduler:CreateSchedule", arns.schedule(params.get("GroupName"), params["Name"])
        ),
        Authorization("iam:PassRole", params["Target"]["RoleArn"]),
    ]


def _send_text(arns: _Arns, params: Mapping[str, Any]) -> list[Authorization]:
    found = [
        Authorization(
            "sms-voice:SendTextMessage", arns.origination(params.get("OriginationIdentity", "*"))
        )
    ]
    if "ConfigurationSetName" in params:
        found.append(
            Authorization(
                "sms-voice:SendTextMessage",
                arns.sms("configuration-set", params["ConfigurationSetName"]),
            )
        )
    return found


def _opt_out_list(action: str) -> Mapper:
    return _one(action, lambda arns, params: arns.sms("opt-out-list", params["OptOutListName"]))


_MAPPERS: dict[tuple[str, str], Mapper] = {
    **{
        ("dynamodb", operation): _one(f"dynamodb:{operation}", _table)
        for operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan")
    },
    ("dynamodb", "BatchGetItem"): _batch_tables("dynamodb:BatchGetItem"),
    ("dynamodb", "BatchWriteItem"): _batch_tables("dynamodb:BatchWriteItem"),
    ("dynamodb", "TransactWriteItems"): _transact,
    ("dynamodb", "TransactGetItems"): _transact,
    ("s3", "PutObject"): _s3_object("s3:PutObject", "s3:PutObject"),
    ("s3", "GetObject"): _s3_object("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "HeadObject"): _s3_object("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "DeleteObject"): _s3_object("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "DeleteObjects"): _s3_delete_objects,
    ("s3", "ListObjectsV2"): _one("s3:ListBucket", lambda arns, p: arns.s3(p["Bucket"])),
    ("s3", "ListObjectVersions"): _one(
        "s3:ListBucketVersions", lambda arns, p: arns.s3(p["Bucket"])
    ),
    ("sqs", "SendMessage"): _one("sqs:SendMessage", lambda arns, p: arns.sqs(p["QueueUrl"])),
    ("sqs", "SendMessageBatch"): _one("sqs:SendMessage", lambda arns, p: arns.sqs(p["QueueUrl"])),
    **{
        ("sqs", operation): _one(f"sqs:{action}", lambda arns, p: arns.sqs(p["QueueUrl"]))
        for operation, action in (
            ("ReceiveMessage", "ReceiveMessage"),
            ("DeleteMessage", "DeleteMessage"),
            ("ChangeMessageVisibilityBatch", "ChangeMessageVisibility"),
        )
    },
    ("kms", "Decrypt"): _kms("kms:Decrypt"),
    ("kms", "GenerateDataKey"): _kms("kms:GenerateDataKey"),
    ("kms", "Encrypt"): _kms("kms:Encrypt"),
    # HMAC keys: the key named by KeyId, no encryption context.
    ("kms", "GenerateMac"): _kms("kms:GenerateMac"),
    ("kms", "VerifyMac"): _kms("kms:VerifyMac"),
    ("secretsmanager", "GetSecretValue"): _one(
        "secretsmanager:GetSecretValue", lambda arns, p: arns.secret(p["SecretId"])
    ),
    ("sts", "AssumeRole"): _one("sts:AssumeRole", lambda arns, p: str(p["RoleArn"])),
    ("scheduler", "CreateSchedule"): _create_schedule,
    **{
        ("scheduler", operation): _one(
            f"scheduler:{operation}", lambda arns, p: arns.schedule(p.get("GroupName"), p["Name"])
        )
        for operation in ("DeleteSchedule", "GetSchedule")
    },
    ("pinpoint-sms-voice-v2", "SendTextMessage"): _send_text,
    ("pinpoint-sms-voice-v2", "PutOptedOutNumber"): _opt_out_list("sms-voice:PutOptedOutNumber"),
    ("pinpoint-sms-voice-v2", "DeleteOptedOutNumber"): _opt_out_list(
        "sms-voice:DeleteOptedOutNumber"
    ),
    ("pinpoint-sms-voice-v2", "DescribeOptedOutNumbers"): _opt_out_list(
        "sms-voice:DescribeOptedOutNumbers"
    ),
    # A pool named by id or ARN; DescribePools is asked for one pool at a time here.
    ("pinpoint-sms-voice-v2", "DescribePools"): _one(
        "sms-voice:DescribePools", lambda arns, p: arns.sms("pool", p["PoolIds"][0])
    ),
    ("pinpoint-sms-voice-v2", "ListPoolOriginationIdentities"): _one(
        "sms-voice:ListPoolOriginationIdentities", lambda arns, p: arns.sms("pool", p["PoolId"])
    ),
    ("pinpoint-sms-voice-v2", "ListTagsForResource"): _one(
        "sms-voice:ListTagsForResource", lambda arns, p: str(p["ResourceArn"])
    ),
}


def authorizations(
    service: str, operation: str, params: Mapping[str, Any], *, region: str, account: str
) -> list[Authorization]:
    """The authorizations AWS makes for one call (a service name as botocore spells it)."""
    mapper = _MAPPERS.get((service, operation))
    if mapper is None:
        raise UnmappedCall(
            f"{service} {operation}: no IAM mapping in cloison_local.iam_check (add one from "
            "the Service Authorization Reference)"
        )
    return mapper(_Arns(region, account), params)


@dataclass(frozen=True)
class NamedPolicy:
    """One policy document of a role: an inline policy's name or a managed policy's ARN."""

    name: str
    document: JsonDict


@dataclass
class RolePolicies:
    """A role's policies, and the decisions made with them."""

    policies: Sequence[NamedPolicy]
    _statements: list[tuple[str, int, JsonDict]] = field(init=False)
    # Decisions already made: most calls repeat the same action on the same table or queue.
    _decided: dict[Authorization, Decision] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._statements = [
            (policy.name, index, statement)
            for policy in self.policies
            for index, statement in enumerate(_listed(policy.document["Statement"]))
        ]

    def decide(self, authorization: Authorization) -> Decision:
        decision = self._decided.get(authorization)
        if decision is None:
            if len(self._decided) >= _MAX_DECISIONS_KEPT:
                self._decided.clear()
            decision = self._decided[authorization] = self._decide(authorization)
        return decision

    def _decide(self, authorization: Authorization) -> Decision:
        context = dict(authorization.context)
        grants: list[tuple[str, int]] = []
        unevaluated: list[str] = []
        for name, index, statement in self._statements:
            bare = {key: value for key, value in statement.items() if key != "Condition"}
            concerned = IAMPolicyStatement(bare).is_action_permitted(
                authorization.action, authorization.resource
            )
            if concerned == PermissionResult.NEUTRAL:
                continue
            condition = statement.get("Condition")
            if condition:
                keys = {key for test in condition.values() for key in test}
                if not keys <= set(context):
                    unevaluated.append(f"{name}[{index}]: {json.dumps(condition, sort_keys=True)}")
                    continue
                if not IAMPolicyStatement(statement)._check_conditions(context):
                    continue
            if concerned == PermissionResult.DENIED:
                return Decision(False, tuple(unevaluated))
            grants.append((name, index))
        return Decision(bool(grants), tuple(unevaluated), tuple(grants))

    def statements(self) -> list[tuple[str, int, JsonDict]]:
        return list(self._statements)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def denial_message(role_arn: str, function: str, authorization: Authorization) -> str:
    """AWS's AccessDenied wording for an identity-based policy that allows nothing."""
    role = role_arn.rsplit("/", 1)[-1]
    account = role_arn.split(":")[4]
    return (
        f"User: arn:aws:sts::{account}:assumed-role/{role}/{function} is not authorized to "
        f"perform: {authorization.action} on resource: {authorization.resource} because no "
        "identity-based policy allows the action"
    )


def documents_by_name(
    inline: Iterable[tuple[str, JsonDict]], managed: Iterable[tuple[str, JsonDict]]
) -> list[NamedPolicy]:
    return [NamedPolicy(name, document) for name, document in [*inline, *managed]]
