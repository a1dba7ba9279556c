"""What AWS refuses at deploy (or at the first call) and cfn-lint does not catch, held against
the template as `sam deploy` expands it (AWS's own SAM translator), for each stage.

Each rule names the AWS document it comes from.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from cloison_local.expand import (
    EXAMPLE_PARAMETERS,
    aws_managed_policies,
    expand,
    placeholder_resources,
    role_statements,
)
from cloison_local.template import NO_VALUE, Resolver, load_template, parameter_values

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-3"
ACCOUNT = "123456789012"
STAGES = ("dev", "prod")
KEY_ARN = "DataKey.Arn"
ALARM_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:operators"


def _stack_names() -> dict[str, str]:
    """The stack name of each deploy profile of samconfig.toml, by stage."""
    with (ROOT / "samconfig.toml").open("rb") as stream:
        config = tomllib.load(stream)
    return {stage: config[stage]["deploy"]["parameters"]["stack_name"] for stage in STAGES}


@cache
def _stack(stage: str, **overrides: str) -> dict[str, dict[str, Any]]:
    """The expanded template's resources for `stage`, intrinsics resolved with placeholders
    (`Ref X` is `X`, `GetAtt X.Y` is `X.Y`), resources whose condition is false left out."""
    source = load_template(ROOT / "template.yaml")
    parameters = parameter_values(
        source,
        {**EXAMPLE_PARAMETERS, "Stage": stage, "AlarmTopicArn": ALARM_TOPIC, **overrides},
    )
    return placeholder_resources(
        expand(source, parameters, REGION), parameters, stack_name=_stack_names()[stage]
    )


def _of_type(stage: str, kind: str, **overrides: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in _stack(stage, **overrides).items()
        if resource["Type"] == kind
    }


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_documents(stage: str, role: str) -> Iterator[dict[str, Any]]:
    """Every policy document a role of the stack has: inline and AWS managed."""
    properties = _stack(stage)[role]["Properties"]
    for policy in properties.get("Policies", []):
        yield {"Version": "2012-10-17", **policy["PolicyDocument"]}
    for arn in properties.get("ManagedPolicyArns", []):
        yield aws_managed_policies()[arn]


def _allows(stage: str, role: str, action: str, resource: str) -> bool:
    results = [
        IAMPolicy({"policy_document": json.dumps(document)}).is_action_permitted(action, resource)
        for document in _role_documents(stage, role)
    ]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


def _role_of(stage: str, function: str) -> str:
    role = _stack(stage)[function]["Properties"]["Role"]
    assert role.endswith(".Arn"), role
    return str(role.removesuffix(".Arn"))


# ---------------------------------------------------------------- Cognito


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("tier", ["ESSENTIALS", "PLUS"])
def test_threat_protection_is_asked_for_only_on_the_plus_tier(stage: str, tier: str) -> None:
    # Source: CloudFormation reference, AWS::Cognito::UserPool UserPoolAddOns: "To activate
    # this setting, your user pool must be on the Plus tier" (a new pool is Essentials).
    # Given the user pool of the stage with the tier chosen
    [pool] = _of_type(stage, "AWS::Cognito::UserPool", UserPoolTier=tier).values()

    # When its threat protection is read
    mode = pool.get("UserPoolAddOns", {}).get("AdvancedSecurityMode", "OFF")

    # Then it is on only where the tier is Plus, and the tier is said, never left to default
    assert pool["UserPoolTier"] == tier
    assert (mode != "OFF") == (tier == "PLUS")


@pytest.mark.parametrize("stage", STAGES)
def test_the_user_pool_outlives_the_stack_and_is_protected_in_prod(stage: str) -> None:
    # Given the stage's user pool (its users, groups and MFA secrets cannot be recreated)
    resources = _stack(stage)
    [logical_id] = _of_type(stage, "AWS::Cognito::UserPool")
    pool = resources[logical_id]

    # Then it is kept when the stack goes, and cannot be deleted by hand in prod
    assert pool.get("DeletionPolicy") == "Retain"
    assert pool.get("UpdateReplacePolicy") == "Retain"
    expected = "ACTIVE" if stage == "prod" else "INACTIVE"
    assert pool["Properties"]["DeletionProtection"] == expected


# ---------------------------------------------------------------- API Gateway


def _depends_on(resources: dict[str, dict[str, Any]], start: str) -> set[str]:
    """Every resource `start` waits for: DependsOn and references, transitively."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        resource = resources[pending.pop()]
        needs = set(_listed(resource.get("DependsOn", [])))
        needs |= {name for name in resources if re.search(rf"\b{name}\b", json.dumps(resource))}
        for name in needs - seen:
            if name in resources:
                seen.add(name)
                pending.append(name)
    return seen


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_stage_logs_through_the_accounts_cloudwatch_role(stage: str) -> None:
    # Source: API Gateway developer guide, "Set up CloudWatch logging for REST APIs": access
    # logging needs the account's CloudWatch Logs role (AWS::ApiGateway::Account), set once
    # per account and region; without it the stage fails to deploy.
    # Given the API's stages that log
    resources = _stack(stage)
    logging_stages = [
        logical_id
        for logical_id, properties in _of_type(stage, "AWS::ApiGateway::Stage").items()
        if "AccessLogSetting" in properties
    ]
    assert logging_stages

    # When the account's setting is looked for
    accounts = _of_type(stage, "AWS::ApiGateway::Account")

    # Then the stack sets it with a role API Gateway can assume and push logs with, retained
    # (other APIs of the account log through it), and each logging stage waits for it
    [(account_id, account)] = accounts.items()
    role = str(account["CloudWatchRoleArn"]).removesuffix(".Arn")
    trust = resources[role]["Properties"]["AssumeRolePolicyDocument"]
    assert any(
        "apigateway.amazonaws.com" in _listed(statement["Principal"].get("Service", []))
        for statement in _statements(trust)
    )
    assert _allows(stage, role, "logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:x")
    for logical_id in (account_id, role):
        assert resources[logical_id].get("DeletionPolicy") == "Retain", logical_id
    for logical_id in logging_stages:
        assert account_id in _depends_on(resources, logical_id), logical_id


# ---------------------------------------------------------------- names


_LIMITS: dict[tuple[str, str], tuple[int, str]] = {
    # (type, property): (most characters, characters allowed), from each type's
    # CloudFormation reference.
    ("AWS::IAM::Role", "RoleName"): (64, r"[\w+=,.@-]+"),
    ("AWS::Lambda::Function", "FunctionName"): (64, r"[a-zA-Z0-9_-]+"),
    ("AWS::Cognito::UserPool", "UserPoolName"): (128, r"[\w\s+=,.@-]+"),
    ("AWS::Cognito::UserPoolDomain", "Domain"): (63, r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"),
    ("AWS::KMS::Alias", "AliasName"): (256, r"alias/[a-zA-Z0-9/_-]+"),
    ("AWS::CloudFront::Function", "Name"): (64, r"[a-zA-Z0-9_-]+"),
    ("AWS::Scheduler::Schedule", "Name"): (64, r"[0-9a-zA-Z._-]+"),
    ("AWS::Logs::LogGroup", "LogGroupName"): (512, r"[.\-_/#A-Za-z0-9]+"),
}


@pytest.mark.parametrize("stage", STAGES)
def test_every_name_the_template_sets_fits_its_limit(stage: str) -> None:
    # Given each name the template sets, for the stack name of the stage's deploy profile
    names = [
        (logical_id, kind, field, str(resource["Properties"][field]))
        for logical_id, resource in _stack(stage).items()
        for (kind, field) in _LIMITS
        if resource["Type"] == kind and field in resource["Properties"]
    ]
    assert names

    # Then each fits its type's length and characters
    for logical_id, kind, field, name in names:
        most, allowed = _LIMITS[(kind, field)]
        assert len(name) <= most, f"{logical_id}.{field} = {name!r}: over {most}"
        assert re.fullmatch(allowed, name), f"{logical_id}.{field} = {name!r}"


def test_a_teams_reader_role_name_fits_for_the_longest_team_name() -> None:
    # Source: IAM quotas, role names of 64 characters at most. infra/team.yaml names a team's
    # role `<main stack>-reader-<team>`; its TeamName parameter bounds the team's name.
    team = load_template(ROOT / "infra" / "team.yaml")
    longest = int(team["Parameters"]["TeamName"]["MaxLength"])

    # Then the longest team name gives a role name within the limit for every profile's stack
    for stack in _stack_names().values():
        assert len(f"{stack}-reader-{'x' * longest}") <= 64, stack


# ---------------------------------------------------------------- the data key


def _key_policy_allows(stage: str, service: str, actions: set[str]) -> bool:
    key = _of_type(stage, "AWS::KMS::Key")["DataKey"]
    granted = {
        action
        for statement in _statements(key["KeyPolicy"])
        if statement["Effect"] == "Allow"
        and service in _listed(statement.get("Principal", {}).get("Service", []))
        for action in _listed(statement["Action"])
    }
    return all(
        any(re.fullmatch(grant.replace("*", ".*"), action) for grant in granted)
        for action in actions
    )


@pytest.mark.parametrize("stage", STAGES)
def test_services_that_write_to_encrypted_topics_and_queues_may_use_the_key(stage: str) -> None:
    # Source: SNS developer guide, "Configure KMS permissions for AWS services" and SQS
    # developer guide, "Enable compatibility between event sources from AWS services and
    # encrypted queues": a service publishing to an encrypted topic or queue needs
    # kms:GenerateDataKey* and kms:Decrypt in the key's policy, or its messages are dropped.
    encrypted_topics = {
        logical_id
        for logical_id, topic in _of_type(stage, "AWS::SNS::Topic").items()
        if topic.get("KmsMasterKeyId") == "DataKey"
    }
    encrypted_queues = {
        f"{logical_id}.Arn"
        for logical_id, queue in _of_type(stage, "AWS::SQS::Queue").items()
        if queue.get("KmsMasterKeyId") == "DataKey"
    }
    needed = {"kms:GenerateDataKey", "kms:Decrypt"}

    # When the publishers of each are read: topic policies' services, and SNS for the queues
    # (and dead-letter queues) its subscriptions deliver to
    publishers = {
        service
        for policy in _of_type(stage, "AWS::SNS::TopicPolicy").values()
        if encrypted_topics & set(_listed(policy["Topics"]))
        for statement in _statements(policy["PolicyDocument"])
        for service in _listed(statement.get("Principal", {}).get("Service", []))
    }
    for subscription in _of_type(stage, "AWS::SNS::Subscription").values():
        targets = {
            subscription["Endpoint"],
            subscription.get("RedrivePolicy", {}).get("deadLetterTargetArn"),
        }
        if targets & encrypted_queues:
            publishers.add("sns.amazonaws.com")
    assert publishers

    # Then the key policy lets each of them use the key
    for service in publishers:
        assert _key_policy_allows(stage, service, needed), service


@pytest.mark.parametrize("stage", STAGES)
def test_a_function_reading_an_encrypted_queue_may_decrypt_with_its_key(stage: str) -> None:
    # Source: Lambda developer guide, "Using Lambda with Amazon SQS": the execution role needs
    # kms:Decrypt on the queue's key, or the event source mapping cannot receive.
    queues = _of_type(stage, "AWS::SQS::Queue")
    for mapping in _of_type(stage, "AWS::Lambda::EventSourceMapping").values():
        source = str(mapping["EventSourceArn"]).removesuffix(".Arn")
        if queues.get(source, {}).get("KmsMasterKeyId") != "DataKey":
            continue
        function = mapping["FunctionName"]
        assert _allows(stage, _role_of(stage, function), "kms:Decrypt", KEY_ARN), function


# ---------------------------------------------------------------- event sources


def _timeout(stage: str, function: str) -> int:
    return int(_stack(stage)[function]["Properties"].get("Timeout", 3))


@pytest.mark.parametrize("stage", STAGES)
def test_each_queue_hides_a_message_six_times_its_functions_timeout(stage: str) -> None:
    # Source: Lambda developer guide, "Configuring an Amazon SQS queue to use with Lambda":
    # CreateEventSourceMapping refuses a queue whose visibility timeout is below the function's
    # timeout; AWS recommends at least six times it.
    queues = _of_type(stage, "AWS::SQS::Queue")
    mappings = [
        mapping
        for mapping in _of_type(stage, "AWS::Lambda::EventSourceMapping").values()
        if str(mapping["EventSourceArn"]).removesuffix(".Arn") in queues
    ]
    assert mappings
    for mapping in mappings:
        queue = str(mapping["EventSourceArn"]).removesuffix(".Arn")
        visibility = int(queues[queue].get("VisibilityTimeout", 30))
        assert visibility >= 6 * _timeout(stage, mapping["FunctionName"]), queue


@pytest.mark.parametrize("stage", STAGES)
def test_a_failure_destination_is_one_the_function_may_send_to(stage: str) -> None:
    # Source: Lambda developer guide, "Retaining records of asynchronous invocations" and
    # "Retaining discarded batches for a DynamoDB event source": the execution role sends to
    # the OnFailure queue (sqs:SendMessage), or the record is lost.
    destinations = [
        (properties["FunctionName"], properties["DestinationConfig"]["OnFailure"]["Destination"])
        for kind in ("AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig")
        for properties in _of_type(stage, kind).values()
        if "OnFailure" in properties.get("DestinationConfig", {})
    ]
    assert len(destinations) >= 2
    for function, destination in destinations:
        assert _allows(stage, _role_of(stage, function), "sqs:SendMessage", destination), function


# ---------------------------------------------------------------- what outlives the stack


_KEPT = (
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::DynamoDB::Table",
    "AWS::Cognito::UserPool",
)


@pytest.mark.parametrize("stage", STAGES)
def test_data_and_the_keys_to_it_outlive_the_stack(stage: str) -> None:
    # Given the resources whose loss loses data: the data key (every sealed number and reply),
    # the pepper (every opt-out's keyed hash), the tables and the user pool; and every bucket
    # kept already (the audit copies)
    resources = _stack(stage)
    kept = [logical_id for logical_id, resource in resources.items() if resource["Type"] in _KEPT]

    # Then each is retained when the stack is deleted or the resource replaced
    for logical_id in kept:
        assert resources[logical_id].get("DeletionPolicy") == "Retain", logical_id
        assert resources[logical_id].get("UpdateReplacePolicy") == "Retain", logical_id
    # And every versioned bucket is kept: CloudFormation cannot delete a bucket that still
    # holds objects (S3 user guide, "Deleting a bucket"), and a versioned one keeps them all
    for logical_id, resource in resources.items():
        if (
            resource["Type"] == "AWS::S3::Bucket"
            and "VersioningConfiguration" in resource["Properties"]
        ):
            assert resource.get("DeletionPolicy") == "Retain", logical_id
    # And a retained bucket is never encrypted under a key that would go before it
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::S3::Bucket" or resource.get("DeletionPolicy") != "Retain":
            continue
        for rule in resource["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]:
            key = rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")
            if key == KEY_ARN:
                assert resources["DataKey"].get("DeletionPolicy") == "Retain", logical_id


# ---------------------------------------------------------------- alarms


def _alarms(stage: str, **overrides: str) -> list[dict[str, Any]]:
    return list(_of_type(stage, "AWS::CloudWatch::Alarm", **overrides).values())


def _watched(alarms: list[dict[str, Any]], namespace: str, metric: str) -> set[str]:
    return {
        str(dimension["Value"])
        for alarm in alarms
        if alarm.get("Namespace") == namespace and alarm.get("MetricName") == metric
        for dimension in alarm.get("Dimensions", [])
    }


@pytest.mark.parametrize("stage", STAGES)
def test_failures_someone_must_hear_of_raise_an_alarm_to_the_operators_topic(stage: str) -> None:
    # Given the stack's functions, API, stream mappings and dead-letter queues
    alarms = _alarms(stage)
    functions = set(_of_type(stage, "AWS::Lambda::Function"))
    streams = {
        properties["FunctionName"]
        for properties in _of_type(stage, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in properties
    }

    # Then every function's errors, the API's 5XX answers, each stream's lag and each
    # dead-letter queue's depth have an alarm, and every alarm notifies the operators' topic
    assert functions <= _watched(alarms, "AWS/Lambda", "Errors")
    assert streams
    assert streams <= _watched(alarms, "AWS/Lambda", "IteratorAge")
    assert _watched(alarms, "AWS/ApiGateway", "5XXError")
    dead_letter = {
        f"{logical_id}.QueueName"
        for logical_id in _of_type(stage, "AWS::SQS::Queue")
        if "DeadLetter" in logical_id
    }
    assert dead_letter <= _watched(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    for alarm in alarms:
        assert alarm.get("AlarmActions") == [ALARM_TOPIC], alarm.get("AlarmDescription")


def test_prod_cannot_be_deployed_without_an_alarm_topic() -> None:
    # Given the template's rules (CloudFormation checks them before creating anything)
    template = load_template(ROOT / "template.yaml")
    rules = template.get("Rules", {})

    # When they are evaluated for prod without a topic, and with one
    def failures(**parameters: str) -> list[str]:
        values = parameter_values(template, {**EXAMPLE_PARAMETERS, "Stage": "prod", **parameters})
        resolver = Resolver(
            template=template,
            parameters=values,
            pseudo={},
            ref=lambda name: NO_VALUE,
            get_att=lambda *_: NO_VALUE,
        )
        return [
            assertion["AssertDescription"]
            for rule in rules.values()
            if resolver.resolve(rule.get("RuleCondition", True))
            for assertion in rule["Assertions"]
            if not resolver.resolve(assertion["Assert"])
        ]

    # Then only the topic-less deploy is refused, with a reason that names the parameter
    [reason] = failures()
    assert "AlarmTopicArn" in reason
    assert failures(AlarmTopicArn=ALARM_TOPIC) == []


# ---------------------------------------------------------------- compartments


_ARN_TESTS = {"ArnLike": True, "ArnEquals": True, "ArnNotLike": False, "ArnNotEquals": False}


def _bucket_denies(policy: dict[str, Any], principal: str, tags: dict[str, str], key: str) -> bool:
    """Whether the bucket policy denies `principal` (with its tags) reading object `key`.

    IAM's rules for what the policy uses (moto evaluates none of them): `*` and `?` in
    resources and ArnLike patterns match any characters, case-sensitively; ArnEquals matches
    the same way; `${aws:PrincipalTag/k}` is the principal's tag, and a resource naming a tag
    the principal lacks matches nothing.
    """
    resource = f"ReplyBucket.Arn/{key}"

    def matches(pattern: str) -> bool:
        variable = re.search(r"\$\{aws:PrincipalTag/([^}]+)\}", pattern)
        if variable:
            if variable.group(1) not in tags:
                return False
            pattern = pattern.replace(variable.group(0), tags[variable.group(1)])
        return fnmatch.fnmatchcase(resource, pattern)

    for statement in _statements(policy):
        if statement["Effect"] != "Deny" or "s3:GetObject" not in _listed(statement["Action"]):
            continue
        if "Resource" in statement:
            applies = any(matches(pattern) for pattern in _listed(statement["Resource"]))
        else:
            applies = not any(matches(pattern) for pattern in _listed(statement["NotResource"]))
        for test, values in statement.get("Condition", {}).items():
            if test == "Bool":
                applies = False  # aws:SecureTransport: every read here is over TLS
                continue
            patterns = _listed(values["aws:PrincipalArn"])
            hit = any(fnmatch.fnmatchcase(principal, pattern) for pattern in patterns)
            applies = applies and hit == _ARN_TESTS[test]
        if applies:
            return True
    return False


@pytest.mark.parametrize("stage", STAGES)
def test_each_reader_role_reads_its_own_compartment_and_nobody_else_reads_any(stage: str) -> None:
    # Given the reply bucket's policy, and principals of the account: the reader roles of two
    # teams and of quarantine (named and tagged as infra/team.yaml and the template make them),
    # the API function's role, an administrator, a look-alike role
    [policy] = [
        properties["PolicyDocument"]
        for properties in _of_type(stage, "AWS::S3::BucketPolicy").values()
        if properties["Bucket"] == "ReplyBucket"
    ]
    stack = _stack_names()[stage]

    def role(name: str) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"

    readers = {team: role(f"{stack}-reader-{team}") for team in ("sales", "support", "quarantine")}
    keys = {
        "sales": "replies/team=sales/campaign=c-1/r-1",
        "support": "replies/team=support/campaign=c-2/r-2",
        "quarantine": "quarantine/r-3",
    }
    others = [
        (role(f"{stack}-ApiFunctionRole"), {}),
        (role("Admin"), {"cloison-team": "sales"}),
        (role(f"{stack}-other-reader-sales"), {"cloison-team": "sales"}),
    ]

    # When each reads each compartment
    readable = {
        team: {
            compartment
            for compartment, key in keys.items()
            if not _bucket_denies(policy, arn, {"cloison-team": team}, key)
        }
        for team, arn in readers.items()
    }

    # Then each reader role reads its own compartment only, and no other principal reads any
    assert readable == {team: {team} for team in readers}
    for principal, tags in others:
        for key in keys.values():
            assert _bucket_denies(policy, principal, tags, key), (principal, key)
    # And a reader role whose tag was taken off reads nothing
    assert all(_bucket_denies(policy, readers["sales"], {}, key) for key in keys.values())


def test_every_reader_role_carries_the_tag_the_bucket_policy_reads() -> None:
    # Given the team stack's reader role and the quarantine reader role
    team_role = load_template(ROOT / "infra" / "team.yaml")["Resources"]["ReaderRole"]
    quarantine = load_template(ROOT / "template.yaml")["Resources"]["QuarantineReaderRole"]

    # Then each names its compartment in the `cloison-team` tag
    assert team_role["Properties"]["Tags"] == [
        {"Key": "cloison-team", "Value": {"Ref": "TeamName"}}
    ]
    assert quarantine["Properties"]["Tags"] == [{"Key": "cloison-team", "Value": "quarantine"}]


# ---------------------------------------------------------------- End User Messaging


@pytest.mark.parametrize("stage", STAGES)
def test_every_send_stop_and_reconciliation_meet_on_one_opt_out_list(stage: str) -> None:
    # Source: End User Messaging SMS user guide, "Opt-out lists": a send is refused when the
    # number is on the list associated with the identity or pool used (Default otherwise), and
    # opt-outs are recorded there. Given the stack's pool and its functions' settings
    [(pool_id, pool)] = _of_type(stage, "AWS::SMSVOICE::Pool").items()
    [opt_out_list] = _of_type(stage, "AWS::SMSVOICE::OptOutList")
    functions = _of_type(stage, "AWS::Lambda::Function")

    # Then the pool holds the identity and the stack's list, delivers replies to the inbound
    # topic, and leaves STOP and HELP to Cloison (which answers with each team's identity)
    assert pool["OriginationIdentities"] == [EXAMPLE_PARAMETERS["OriginationIdentity"]]
    assert pool["OptOutListName"] == opt_out_list
    assert pool["TwoWay"] == {"Enabled": True, "ChannelArn": "InboundTopic"}
    assert pool["SelfManagedOptOutsEnabled"] is True
    # And every function that sends does so through the pool, and every one that writes or
    # reads opt-outs uses that same list (a function is given only the settings it reads)
    senders = {"SendWorkerFunction", "InboundFunction"}
    list_users = senders | {"ApiFunction", "ReconcileOptOutsFunction"}
    for function, properties in functions.items():
        variables = properties["Environment"]["Variables"]
        if function in senders or "ORIGINATION_IDENTITY" in variables:
            assert variables["ORIGINATION_IDENTITY"] == f"{pool_id}.Arn", function
        if function in list_users or "OPT_OUT_LIST" in variables:
            assert variables["OPT_OUT_LIST"] == opt_out_list, function
    # And only through the pool may a function send
    for function in ("SendWorkerFunction", "InboundFunction"):
        role = _role_of(stage, function)
        assert _allows(stage, role, "sms-voice:SendTextMessage", f"{pool_id}.Arn"), function
        assert not _allows(stage, role, "sms-voice:SendTextMessage", "phone-number/other")


# ---------------------------------------------------------------- least privilege


ERASED_DEAD_LETTERS = {"InboundDeadLetterQueue.Arn", "DeliveryDeadLetterQueue.Arn"}


@pytest.mark.parametrize("stage", STAGES)
def test_each_function_polls_only_its_own_source_and_attaches_no_managed_policy(stage: str) -> None:
    # Given each function's role and its event source mappings (SAM's managed policies for
    # SQS and stream events grant polling on every queue and stream of the account)
    mappings = _of_type(stage, "AWS::Lambda::EventSourceMapping").values()
    sources = {mapping["FunctionName"]: mapping["EventSourceArn"] for mapping in mappings}
    for function in _of_type(stage, "AWS::Lambda::Function"):
        role = _role_of(stage, function)
        properties = _stack(stage)[role]["Properties"]

        # Then the role is the template's own, with no managed policy
        assert not properties.get("ManagedPolicyArns"), function
        # And it may poll its own source and no other (but the API, whose erasures take a
        # number's messages out of the dead-letter queues of the carrier's payloads)
        polls = [
            resource
            for statement in role_statements({"Resources": _stack(stage)}, role)
            if {"sqs:ReceiveMessage", "dynamodb:GetRecords"} & set(_listed(statement["Action"]))
            for resource in _listed(statement["Resource"])
            if not (function.startswith("ApiFunction") and str(resource) in ERASED_DEAD_LETTERS)
        ]
        assert polls == ([sources[function]] if function in sources else []), function
