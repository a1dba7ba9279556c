"""What the security scan of the templates relies on: keys where the data is, reasons for skips."""

from __future__ import annotations

from typing import Any

import pytest
from sam_template import target_of, template

from cloison_local.expand import role_statements

TEMPLATES = ("template.yaml", "infra/team.yaml")


def _resources() -> dict[str, dict[str, Any]]:
    return dict(template()["Resources"])


def _topic_queues() -> set[str]:
    """The queues SNS subscriptions deliver to, and their dead-letter queues."""
    subscriptions = [
        resource["Properties"]
        for resource in _resources().values()
        if resource["Type"] == "AWS::SNS::Subscription"
    ]
    return {
        str(target_of(queue))
        for subscription in subscriptions
        for queue in (
            subscription["Endpoint"],
            subscription["RedrivePolicy"]["deadLetterTargetArn"],
        )
    }


def _skips() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, logical_id, skip)
        for name in TEMPLATES
        for logical_id, resource in template(name)["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


@pytest.mark.parametrize("queue", sorted(_topic_queues()))
def test_queues_fed_by_a_topic_are_encrypted_with_the_topics_key(queue: str) -> None:
    # Given a queue that receives what the topics carry (numbers in clear, reply bodies)
    properties = _resources()[queue]["Properties"]

    # When its encryption is read
    key = target_of(properties.get("KmsMasterKeyId"))

    # Then it is the stack's data key, the topics' own
    topic_keys = {
        target_of(resource["Properties"]["KmsMasterKeyId"])
        for resource in _resources().values()
        if resource["Type"] == "AWS::SNS::Topic"
    }
    assert topic_keys == {"DataKey"}
    assert key == "DataKey"


def test_functions_that_read_an_encrypted_queue_may_decrypt_with_its_key() -> None:
    # Given the functions fed by a queue under the data key
    encrypted = {
        logical_id
        for logical_id, resource in _resources().items()
        if resource["Type"] == "AWS::SQS::Queue" and "KmsMasterKeyId" in resource["Properties"]
    }
    readers = {
        logical_id
        for logical_id, resource in _resources().items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS" and target_of(event["Properties"]["Queue"]) in encrypted
    }

    # When their policies' KMS grants on the data key are collected
    def decrypts(function: str) -> bool:
        return any(
            "kms:Decrypt" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            and target_of(s["Resource"]) == "DataKey"
            for s in role_statements({"Resources": _resources()}, f"{function}Role")
        )

    # Then each may decrypt, or its event source could not read a message
    assert readers
    assert sorted(function for function in readers if not decrypts(function)) == []


def test_every_security_scan_skip_names_a_check_and_says_why() -> None:
    # Given every checkov skip in the templates
    skips = _skips()

    # When their ids and reasons are read
    unexplained = [
        f"{name}:{logical_id}"
        for name, logical_id, skip in skips
        if not str(skip.get("id", "")).startswith("CKV_")
        or len(str(skip.get("comment", "")).split()) < 5
    ]

    # Then each skips one named check, with a reason of a few words at least
    assert skips
    assert unexplained == []


def test_a_resource_skips_a_check_once() -> None:
    # Given the checkov skips of each resource
    per_resource = [(f"{name}:{logical_id}", skip["id"]) for name, logical_id, skip in _skips()]

    # When repeated ids are looked for
    repeated = sorted({entry for entry in per_resource if per_resource.count(entry) > 1})

    # Then there are none
    assert repeated == []
