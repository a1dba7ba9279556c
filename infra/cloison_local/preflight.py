"""Before `sam deploy`: a read-only look at the target account and region (`make preflight`).

Each finding says what was seen and, where something is missing, the step of docs/deploy.md
that brings it. A blocking finding is one that would make the deploy fail, or every send: the
command then exits non-zero. Nothing is created or changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# The regions the template is linted for (Makefile's REGIONS) and docs/deploy.md supports.
SUPPORTED_REGIONS = ("eu-west-3",)
RUNTIME_PYTHON = "python3.11"
# The tag template.yaml puts on its pool, naming the stack.
STACK_TAG = "cloison:stack"

Clients = Callable[[str], Any]


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    blocking: bool = False

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.blocking else "warn")
        return f"[{mark}] {self.check}: {self.detail}"


def preflight(
    clients: Clients,
    *,
    region: str,
    stage: str,
    origination: str | None,
    alarm_topic: str | None,
    stack_name: str,
    which: Callable[[str], str | None] = shutil.which,
) -> list[Finding]:
    """Every finding, in the order of docs/deploy.md."""
    findings = [
        Finding(
            "region",
            region in SUPPORTED_REGIONS,
            f"{region}"
            + (
                ""
                if region in SUPPORTED_REGIONS
                else f": supported are {', '.join(SUPPORTED_REGIONS)}"
            ),
            blocking=region not in SUPPORTED_REGIONS,
        ),
        Finding(
            "build Python",
            which(RUNTIME_PYTHON) is not None,
            f"{RUNTIME_PYTHON} on PATH"
            if which(RUNTIME_PYTHON)
            else f"no {RUNTIME_PYTHON} on PATH: sam build needs the functions' runtime (step 1)",
            blocking=which(RUNTIME_PYTHON) is None,
        ),
    ]
    try:
        account = clients("sts").get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as exc:
        return [*findings, Finding("credentials", False, f"no AWS identity: {exc}", blocking=True)]
    findings.append(Finding("credentials", True, f"account {account}"))
    sms = clients("pinpoint-sms-voice-v2")
    findings += _messaging_account(sms)
    findings.append(_identity(sms, origination, stack_name))
    findings.append(_api_gateway_logging(clients("apigateway")))
    findings.append(_alarm_topic(clients("sns"), stage, alarm_topic))
    return findings


def _messaging_account(sms: Any) -> list[Finding]:
    try:
        attributes = {
            item["Name"]: item["Value"]
            for item in sms.describe_account_attributes()["AccountAttributes"]
        }
        limits = {item["Name"]: item for item in sms.describe_spend_limits()["SpendLimits"]}
    except (ClientError, BotoCoreError) as exc:
        return [Finding("End User Messaging", False, f"cannot be read: {exc}", blocking=True)]
    tier = attributes.get("ACCOUNT_TIER", "unknown")
    found = []
    if tier == "PRODUCTION":
        found.append(Finding("SMS sandbox", True, "left (ACCOUNT_TIER PRODUCTION)"))
    else:
        try:
            verified = _all(
                sms, "describe_verified_destination_numbers", "VerifiedDestinationNumbers"
            )
        except (ClientError, BotoCoreError):
            verified = []
        usable = [item for item in verified if item.get("Status") == "VERIFIED"]
        found.append(
            Finding(
                "SMS sandbox",
                False,
                f"ACCOUNT_TIER {tier}: sends reach verified numbers only ({len(usable)} "
                "verified); ask for production access (step 2.1)",
            )
        )
    text = limits.get("TEXT_MESSAGE_MONTHLY_SPEND_LIMIT")
    if text is None:
        found.append(Finding("SMS spend limit", False, "not reported", blocking=False))
    else:
        found.append(
            Finding(
                "SMS spend limit",
                int(text["EnforcedLimit"]) > 0,
                f"{text['EnforcedLimit']} USD a month (at most {text['MaxLimit']} without a "
                "request, step 2.1)",
                blocking=int(text["EnforcedLimit"]) <= 0,
            )
        )
    return found


def _identity(sms: Any, origination: str | None, stack_name: str) -> Finding:
    if not origination:
        return Finding(
            "origination identity",
            False,
            "none given (ORIGINATION=...): the stack's OriginationIdentity has no default (step 2)",
            blocking=True,
        )
    try:
        numbers = _all(sms, "describe_phone_numbers", "PhoneNumbers")
        senders = _all(sms, "describe_sender_ids", "SenderIds")
    except (ClientError, BotoCoreError) as exc:
        return Finding("origination identity", False, f"cannot be read: {exc}", blocking=True)
    if not origination.startswith("arn:"):
        known = next(
            (
                item["PhoneNumberArn"]
                for item in numbers
                if origination in (item["PhoneNumberId"], item["PhoneNumber"])
            ),
            None,
        )
        return Finding(
            "origination identity",
            False,
            f"{origination} is not an ARN: the stack's pool takes the identity's ARN"
            + (f" ({known})" if known else "")
            + " (step 2.3)",
            blocking=True,
        )
    number = next(
        (
            item
            for item in numbers
            if origination in (item["PhoneNumberId"], item["PhoneNumberArn"], item["PhoneNumber"])
        ),
        None,
    )
    if number is not None:
        if number.get("Status") != "ACTIVE":
            return Finding(
                "origination identity",
                False,
                f"{number['PhoneNumberId']} is {number.get('Status')}, not ACTIVE (step 2.2)",
                blocking=True,
            )
        pool = number.get("PoolId")
        if pool and _pool_of_stack(sms, pool) == stack_name:
            return Finding(
                "origination identity",
                True,
                f"{number['PhoneNumberId']}, already in {stack_name}'s pool ({pool}): a new deploy",
            )
        if pool:
            return Finding(
                "origination identity",
                False,
                f"{number['PhoneNumberId']} already belongs to {pool}: a phone number joins one "
                f"pool only, and {stack_name}'s SmsPool could not take it (step 4)",
                blocking=True,
            )
        return Finding(
            "origination identity",
            True,
            f"{number['PhoneNumberId']} ({number.get('NumberType', 'number')}, "
            f"{number.get('IsoCountryCode')}), in no pool yet",
        )
    sender = next(
        (item for item in senders if origination in (item["SenderId"], item["SenderIdArn"])), None
    )
    if sender is not None:
        return Finding(
            "origination identity",
            False,
            f"sender ID {sender['SenderId']}: one-way, and the stack's pool is two-way (replies, "
            "STOP): it takes a short code or phone number (step 2.2)",
            blocking=True,
        )
    return Finding(
        "origination identity",
        False,
        f"{origination} is no phone number or sender ID of this account and region (step 2.3)",
        blocking=True,
    )


def _pool_of_stack(sms: Any, pool_id: str) -> str | None:
    """The stack a pool belongs to: the template tags its pool `cloison:stack`."""
    try:
        pools = sms.describe_pools(PoolIds=[pool_id])["Pools"]
        if not pools:
            return None
        tags = sms.list_tags_for_resource(ResourceArn=pools[0]["PoolArn"])["Tags"]
    except (ClientError, BotoCoreError):
        return None
    return next((tag["Value"] for tag in tags if tag["Key"] == STACK_TAG), None)


def _all(client: Any, operation: str, key: str) -> list[Any]:
    """Every item of a Describe operation, page after page."""
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate():
        items.extend(page.get(key, []))
    return items


def _api_gateway_logging(apigateway: Any) -> Finding:
    try:
        role = apigateway.get_account().get("cloudwatchRoleArn")
    except (ClientError, BotoCoreError) as exc:
        return Finding("API Gateway logging role", False, f"cannot be read: {exc}")
    if role:
        return Finding(
            "API Gateway logging role",
            True,
            f"set ({role}); the stack's ApiGatewayAccount replaces it with an equivalent role",
        )
    return Finding(
        "API Gateway logging role", True, "none yet: the stack's ApiGatewayAccount sets it"
    )


def _alarm_topic(sns: Any, stage: str, topic: str | None) -> Finding:
    if not topic:
        return Finding(
            "alarm topic",
            stage != "prod",
            "none given (ALARM_TOPIC=...): "
            + (
                "a prod stack is refused without one (step 3)"
                if stage == "prod"
                else "the alarms will only show in CloudWatch"
            ),
            blocking=stage == "prod",
        )
    try:
        sns.get_topic_attributes(TopicArn=topic)
    except (ClientError, BotoCoreError) as exc:
        return Finding("alarm topic", False, f"{topic} cannot be read: {exc}", blocking=True)
    return Finding("alarm topic", True, topic)
