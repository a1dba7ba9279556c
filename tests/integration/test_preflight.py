"""`make preflight` against an account on this machine: moto for STS, API Gateway and SNS, the
carrier simulator for End User Messaging, each account state built by the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from cloison_local.carrier import CarrierSimulator
from cloison_local.preflight import Finding, preflight

REGION = "eu-west-3"
SHORT_CODE = "36111"


@pytest.fixture
def carrier(moto_url: str) -> Iterator[CarrierSimulator]:
    with CarrierSimulator(moto_url, REGION) as simulator:
        yield simulator


def _arn(number_id: str) -> str:
    return f"arn:aws:sms-voice:{REGION}:123456789012:phone-number/{number_id}"


def _run(moto_url: str, carrier: CarrierSimulator, **arguments: Any) -> dict[str, Finding]:
    def clients(service: str) -> Any:
        endpoint = carrier.endpoint_url if service == "pinpoint-sms-voice-v2" else moto_url
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)  # type: ignore[call-overload]

    settings: dict[str, Any] = {
        "region": REGION,
        "stage": "dev",
        "origination": None,
        "alarm_topic": None,
        "stack_name": "cloison-dev",
        "which": lambda name: f"/usr/bin/{name}",
        **arguments,
    }
    return {finding.check: finding for finding in preflight(clients, **settings)}


def test_a_ready_account_has_nothing_blocking(moto_url: str, carrier: CarrierSimulator) -> None:
    # Given an account out of the sandbox with a short code in no pool, and an alarm topic
    number_id = carrier.register_phone_number(SHORT_CODE)
    topic = boto3.client("sns", endpoint_url=moto_url, region_name=REGION).create_topic(
        Name="operators"
    )["TopicArn"]

    # When prod is checked with them
    findings = _run(moto_url, carrier, stage="prod", origination=_arn(number_id), alarm_topic=topic)

    # Then every check passes, the identity is named
    assert [f.line() for f in findings.values() if not f.ok] == []
    assert number_id in findings["origination identity"].detail


def test_what_would_fail_the_deploy_is_blocking_and_says_the_step(
    moto_url: str, carrier: CarrierSimulator
) -> None:
    # Given a short code already in another stack's pool, no alarm topic for prod, another
    # region and no Python 3.11
    number_id = carrier.register_phone_number(SHORT_CODE)
    carrier.register_pool("other-stack-pool", [SHORT_CODE], tags={"cloison:stack": "other"})

    # When prod is checked
    findings = _run(
        moto_url,
        carrier,
        region="us-east-1",
        stage="prod",
        origination=_arn(number_id),
        which=lambda name: None,
    )

    # Then each is blocking, with the step of docs/deploy.md that mends it
    for check in ("region", "build Python", "origination identity", "alarm topic"):
        assert findings[check].blocking, check
    assert "already belongs to pool-" in findings["origination identity"].detail
    assert "step 3" in findings["alarm topic"].detail
    assert "python3.11" in findings["build Python"].detail


def test_a_short_code_in_this_stacks_own_pool_is_a_new_deploy(
    moto_url: str, carrier: CarrierSimulator
) -> None:
    # Given the short code in the pool a first deploy of cloison-dev made
    number_id = carrier.register_phone_number(SHORT_CODE)
    carrier.register_pool(
        "cloison-dev-SmsPool", [SHORT_CODE], tags={"cloison:stack": "cloison-dev"}
    )

    # When cloison-dev is checked again
    finding = _run(moto_url, carrier, origination=_arn(number_id))["origination identity"]

    # Then the identity is fine where it is
    assert finding.ok
    assert "already in cloison-dev's pool" in finding.detail


def test_the_sandbox_and_an_unknown_identity_are_reported(
    moto_url: str, carrier: CarrierSimulator
) -> None:
    # Given an account still in the SMS sandbox with one verified number
    carrier.set_account(tier="SANDBOX", spend_limit=1, verified=["+33612345678"])

    # When an identity the account does not have is checked
    findings = _run(moto_url, carrier, origination=_arn("phone-unknown"))

    # Then the sandbox is a warning (a deploy works, sends reach verified numbers only) and the
    # unknown identity blocks
    sandbox = findings["SMS sandbox"]
    assert not sandbox.ok
    assert not sandbox.blocking
    assert "1 verified" in sandbox.detail
    assert findings["origination identity"].blocking


def test_a_sender_id_or_a_number_given_without_its_arn_blocks(
    moto_url: str, carrier: CarrierSimulator
) -> None:
    # Given a registered sender ID and a short code
    carrier.register_sender_id("CLOISON")
    number_id = carrier.register_phone_number(SHORT_CODE)

    # When the sender ID's ARN, then the short code's bare id, are checked
    sender_arn = f"arn:aws:sms-voice:{REGION}:123456789012:sender-id/CLOISON/FR"
    sender = _run(moto_url, carrier, origination=sender_arn)["origination identity"]
    bare = _run(moto_url, carrier, origination=number_id)["origination identity"]

    # Then both block: the pool is two-way (no sender ID) and takes ARNs, which is named
    assert sender.blocking
    assert "two-way" in sender.detail
    assert bare.blocking
    assert _arn(number_id) in bare.detail
