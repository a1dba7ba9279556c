"""The audit trail through the local stack: actions leave entries, auditors read and verify them,
and an entry altered or deleted in DynamoDB is named by `/audit/verify`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from local_api import (
    add_recipients,
    api,
    audit_entries,
    consent_answer,
    new_campaign,
    ok,
    wait_until,
)

from cloison_local.stack import LocalStack

# Fictional mobiles of this test alone.
CONSENTED = "+33751003001"
SUPPRESSED = "+33751003002"
UNKNOWN = "+33751003009"
AUDIENCE = "+33751003003"


@pytest.fixture(scope="module")
def actions(stack: LocalStack, tokens: dict[str, str]) -> dict[str, str]:
    """One of each audited action, by alice, ada and priya; what each acted on."""
    alice, ada, priya = tokens["alice"], tokens["ada"], tokens["priya"]
    campaign = new_campaign(
        stack, alice, name="Audit", kind="transactional", body="Votre commande est prête."
    )
    ok(add_recipients(stack, alice, campaign, [{"phone": AUDIENCE}]))
    later = (stack.now() + timedelta(days=30)).isoformat()
    ok(api(stack, alice, "POST", f"/campaigns/{campaign}/launch", json={"at": later}))
    ok(api(stack, alice, "POST", f"/campaigns/{campaign}/cancel"))
    ok(consent_answer(stack, alice, CONSENTED, proof="Oui"))
    ok(
        api(
            stack,
            alice,
            "DELETE",
            "/consents",
            json={
                "team": "sales",
                "phone": CONSENTED,
                "reason": "called from 07 51 00 30 01",
                "reason_code": "person_asked",
            },
        )
    )
    ok(
        api(
            stack,
            alice,
            "POST",
            "/suppressions",
            json={"team": "sales", "phone": SUPPRESSED, "reason": "asked by letter"},
        )
    )
    ok(
        api(
            stack,
            ada,
            "PUT",
            "/teams/sales/senders/audit",
            json={"sender_id": "BOUTIQUE", "company": "Boutique Exemple"},
        )
    )
    # A reply from a number no campaign messaged: quarantined, opened by the privacy officer.
    assert stack.carrier is not None
    reply = stack.carrier.inject_reply(UNKNOWN, stack.outputs["ShortCode"], "Bonjour")
    assert wait_until(
        lambda: any(
            item["id"] == reply for item in ok(api(stack, priya, "GET", "/replies"))["items"]
        )
    )
    opened = api(stack, priya, "GET", f"/replies/{reply}")
    assert opened.status_code == 200, opened.text
    return {"campaign": campaign, "reply": reply}


def test_each_action_leaves_an_entry_with_who_what_which_team_and_which_object(
    stack: LocalStack, tokens: dict[str, str], actions: dict[str, str]
) -> None:
    # Given one of each audited action (the fixture)
    # When the auditor lists the trail
    listed = audit_entries(stack, tokens["aurele"])

    # Then each action is there with its actor, team and object, newest first
    campaign = f"campaign/{actions['campaign']}"
    found = {(item["action"], item["actor_name"], item["team"], item["target"]) for item in listed}
    assert {
        ("campaign.schedule", "alice", "sales", campaign),
        ("campaign.cancel", "alice", "sales", campaign),
        ("consent.record", "alice", "sales", "consent/***01"),
        ("consent.withdraw", "alice", "sales", "consent/***01"),
        ("suppression.add", "alice", "sales", "suppression/***02"),
        ("sender.put", "ada", "sales", "sender/sales/audit"),
        ("reply.open", "priya", "quarantine", f"reply/{actions['reply']}"),
    } <= found
    stamps = [item["at"] for item in listed]
    assert stamps == sorted(stamps, reverse=True)
    withdrawal = next(item for item in listed if item["action"] == "consent.withdraw")
    # and why: a code in the locked chain, what alice wrote in its sealed note, number masked
    assert (withdrawal["reason"], withdrawal["note"], withdrawal["note_state"]) == (
        "person_asked",
        "called from ***01",
        "kept",
    )

    # And no entry holds a phone number, beyond its last two digits
    text = json.dumps(listed)
    for number in (CONSENTED, SUPPRESSED, UNKNOWN, AUDIENCE):
        assert number[3:] not in text


def test_the_listing_filters_by_team_action_and_time(
    stack: LocalStack, tokens: dict[str, str], actions: dict[str, str]
) -> None:
    token = tokens["aurele"]
    assert {item["team"] for item in audit_entries(stack, token, team="quarantine")} == {
        "quarantine"
    }
    cancels = audit_entries(stack, token, action="campaign.cancel")
    assert cancels
    assert {item["action"] for item in cancels} == {"campaign.cancel"}
    # (other tests move the functions' clock: the newest entry says where "later" starts)
    newest = datetime.fromisoformat(audit_entries(stack, token)[0]["at"])
    assert audit_entries(stack, token, since=(newest + timedelta(seconds=1)).isoformat()) == []
    bounded = audit_entries(stack, token, until=newest.isoformat())
    assert datetime.fromisoformat(bounded[0]["at"]) == newest
    bad = api(stack, token, "GET", "/audit", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad.status_code == 422, bad.text


@pytest.mark.parametrize("path", ["/audit", "/audit/verify"])
@pytest.mark.parametrize("user", ["alice", "priya", "ada"])
def test_only_the_auditor_reads_the_trail(
    stack: LocalStack, tokens: dict[str, str], path: str, user: str
) -> None:
    answer = api(stack, tokens[user], "GET", path)
    assert answer.status_code == 403, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_every_entry_has_its_locked_copy_and_the_chain_verifies(
    stack: LocalStack, tokens: dict[str, str], actions: dict[str, str]
) -> None:
    # Given the trail
    listed = audit_entries(stack, tokens["aurele"])

    # When the chain is verified and the copies read
    verified = ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))
    s3 = stack.client("s3")
    bucket = stack.outputs["AuditBucketName"]
    copies = {
        item["sequence"]: json.loads(
            s3.get_object(Bucket=bucket, Key=f"audit/{item['sequence']:012d}.{item['hash']}.json")[
                "Body"
            ].read()
        )
        for item in listed
    }

    # Then it holds, and each entry's copy is the same entry, under Object Lock
    assert verified["ok"] is True, verified
    assert verified["checked"] == verified["head"] == max(copies)
    assert all(copies[item["sequence"]]["hash"] == item["hash"] for item in listed)
    last = copies[max(copies)]
    lock = s3.head_object(Bucket=bucket, Key=f"audit/{max(copies):012d}.{last['hash']}.json")
    assert lock["ObjectLockMode"] == "GOVERNANCE"  # the dev stage's mode


@pytest.fixture
def table(stack: LocalStack, actions: dict[str, str]) -> tuple[Any, str]:
    """The audit table (its client and its name), once the actions have left their entries."""
    return stack.client("dynamodb"), stack.outputs["AuditTableName"]


def _key(sequence: int) -> dict[str, Any]:
    return {"pk": {"S": "chain"}, "sequence": {"N": str(sequence)}}


def _victim(stack: LocalStack, tokens: dict[str, str], action: str) -> dict[str, Any]:
    return audit_entries(stack, tokens["aurele"], action=action)[0]


@contextmanager
def put_back(
    stack: LocalStack, tokens: dict[str, str], table: tuple[Any, str], action: str
) -> Iterator[dict[str, Any]]:
    """The latest entry of `action`, whose item is put back as it was once the block is done."""
    dynamodb, name = table
    victim = _victim(stack, tokens, action)
    original = dynamodb.get_item(TableName=name, Key=_key(victim["sequence"]))["Item"]
    try:
        yield victim
    finally:
        dynamodb.put_item(TableName=name, Item=original)


def test_an_entry_altered_in_dynamodb_makes_verify_fail_and_name_it(
    stack: LocalStack, tokens: dict[str, str], table: tuple[Any, str]
) -> None:
    # Given the chain, and the entry of the reply opening rewritten to blame someone else
    dynamodb, name = table
    with put_back(stack, tokens, table, "reply.open") as victim:
        dynamodb.update_item(
            TableName=name,
            Key=_key(victim["sequence"]),
            UpdateExpression="SET actor_name = :someone",
            ExpressionAttributeValues={":someone": {"S": "alice"}},
        )
        # When the auditor verifies the chain
        verified = ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))

    # Then it fails and names that entry
    assert verified["ok"] is False
    assert verified["broken"]["sequence"] == victim["sequence"]
    assert verified["broken"]["id"] == victim["id"]
    assert verified["broken"]["reason"] == "altered"
    assert verified["checked"] == victim["sequence"] - 1
    assert ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))["ok"] is True


def test_an_entry_deleted_from_dynamodb_makes_verify_fail_and_name_it(
    stack: LocalStack, tokens: dict[str, str], table: tuple[Any, str]
) -> None:
    # Given the chain, and the entry of the consent withdrawal deleted
    dynamodb, name = table
    with put_back(stack, tokens, table, "consent.withdraw") as victim:
        dynamodb.delete_item(TableName=name, Key=_key(victim["sequence"]))
        # When the auditor verifies the chain
        verified = ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))

    # Then it fails and names that entry
    assert verified["ok"] is False
    assert verified["broken"] == {
        "sequence": victim["sequence"],
        "id": victim["id"],
        "reason": "missing",
        "detail": verified["broken"]["detail"],
    }


def test_a_verification_can_go_page_by_page(
    stack: LocalStack, tokens: dict[str, str], actions: dict[str, str]
) -> None:
    # Given the chain, walked two entries at a time
    token = tokens["aurele"]
    walks = []
    start: int | None = 1
    while start is not None:
        walk = ok(api(stack, token, "GET", "/audit/verify", params={"from": start, "limit": 2}))
        assert walk["ok"] is True, walk
        walks.append(walk)
        start = walk["next"]

    # Then the walks cover the chain once
    assert sum(walk["checked"] for walk in walks) == walks[-1]["head"]


def test_concurrent_actions_take_consecutive_numbers_and_the_chain_holds(
    stack: LocalStack, tokens: dict[str, str], actions: dict[str, str]
) -> None:
    # Given the API's warm workers (separate processes), each appending to the one chain
    token = tokens["alice"]
    before = ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))["head"]

    def suppress(number: int) -> int:
        body = {
            "team": "sales",
            "phone": f"+337510031{number:02d}",
            "reason": "concurrency",
            "reason_code": "team_policy",
        }
        return api(stack, token, "POST", "/suppressions", json=body).status_code

    # When twelve suppressions are added at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(suppress, range(12)))

    # Then each was audited with a number of its own, and the chain still holds
    assert statuses == [201] * 12
    verified = ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))
    assert verified["ok"] is True, verified
    assert verified["head"] == before + 12
    reasons = [
        item for item in audit_entries(stack, tokens["aurele"]) if item["note"] == "concurrency"
    ]
    assert len({item["sequence"] for item in reasons}) == 12


def _entry_hash(item: dict[str, Any]) -> str:
    """An entry's hash as Cloison computes it, from its table item (what a forger recomputes)."""
    from cloison.models.records import AuditEntry
    from cloison.services.audit_chain import entry_hash

    return entry_hash(AuditEntry.model_validate(item))


def test_a_rewrite_with_the_chain_recomputed_and_an_entry_added_is_named(
    stack: LocalStack, tokens: dict[str, str], table: tuple[Any, str]
) -> None:
    # Given someone who writes the audit table (not the audit key): they rewrite the actor of
    # the reply opening, recompute every hash after it so the chain links, move the head, and
    # append an entry of their own without its locked copy
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    dynamodb, name = table
    plain, typed = TypeDeserializer(), TypeSerializer()
    victim = _victim(stack, tokens, "reply.open")
    head_key = {"pk": {"S": "head"}, "sequence": {"N": "0"}}
    saved_head = dynamodb.get_item(TableName=name, Key=head_key)["Item"]
    last = int(plain.deserialize(saved_head["last"]))
    saved = {
        number: dynamodb.get_item(TableName=name, Key=_key(number))["Item"]
        for number in range(victim["sequence"], last + 1)
    }
    previous_hash: str | None = None
    previous_id: str | None = None
    forged: dict[str, Any] = {}
    try:
        for number in [*range(victim["sequence"], last + 1), last + 1]:
            source = saved.get(number, saved[last])
            item = {key: plain.deserialize(value) for key, value in source.items()}
            item = {key: int(value) if key == "sequence" else value for key, value in item.items()}
            item["sequence"] = number
            if number == victim["sequence"]:
                item["actor_name"] = "alice"
            if number == last + 1:
                item["entry_id"] = "au-appended"
            if previous_hash is not None:
                item["prev_hash"], item["prev_id"] = previous_hash, previous_id
            item["hash"] = _entry_hash({k: v for k, v in item.items() if k != "pk"})
            previous_hash, previous_id = item["hash"], item["entry_id"]
            forged = item
            dynamodb.put_item(
                TableName=name, Item={key: typed.serialize(value) for key, value in item.items()}
            )
        entry = {key: value for key, value in forged.items() if key != "pk"}
        dynamodb.put_item(
            TableName=name,
            Item={
                **head_key,
                "last": {"N": str(last + 1)},
                "entry": typed.serialize(entry),
            },
        )
        # When the auditor verifies the chain
        verified = ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))
    finally:
        dynamodb.delete_item(TableName=name, Key=_key(last + 1))
        for item in saved.values():
            dynamodb.put_item(TableName=name, Item=item)
        dynamodb.put_item(TableName=name, Item=saved_head)

    # Then the rewritten entry is named: it differs from its locked copy
    assert verified["ok"] is False
    assert (verified["broken"]["sequence"], verified["broken"]["id"]) == (
        victim["sequence"],
        victim["id"],
    )
    assert verified["broken"]["reason"] == "altered"
    assert ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))["ok"] is True


def test_the_head_is_anchored_in_the_locked_bucket_by_its_own_function(
    stack: LocalStack, tokens: dict[str, str], actions: dict[str, str]
) -> None:
    # Given the chain
    head = ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))["head"]

    # When the anchoring function runs, as its schedule runs it
    answer = stack.invoke("AnchorAuditFunction", {})

    # Then the head is anchored, locked, and verification still holds
    assert answer["anchored"] >= head
    s3 = stack.client("s3")
    bucket = stack.outputs["AuditBucketName"]
    (first,) = s3.list_objects_v2(Bucket=bucket, Prefix="anchor/", MaxKeys=1)["Contents"]
    anchor = json.loads(s3.get_object(Bucket=bucket, Key=first["Key"])["Body"].read())
    assert anchor["sequence"] == answer["anchored"]
    assert s3.head_object(Bucket=bucket, Key=first["Key"])["ObjectLockMode"] == "GOVERNANCE"
    assert ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))["ok"] is True


def test_a_privacy_officer_erases_a_note_and_the_chain_still_verifies(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a suppression whose reason names someone
    body = {
        "team": "sales",
        "phone": "+33751003201",
        "reason": "M. Besnard a appelé",
        "reason_code": "person_asked",
    }
    assert api(stack, tokens["alice"], "POST", "/suppressions", json=body).status_code == 201
    (entry,) = [
        item
        for item in audit_entries(stack, tokens["aurele"], action="suppression.add")
        if item["note"] == "M. Besnard a appelé"
    ]
    erasure = {"reason": "demande de M. Besnard", "reason_code": "person_asked"}
    path = f"/audit/notes/{entry['id']}"

    # When a member, an auditor, then the privacy officer ask for the note to be erased
    refused = [
        api(stack, tokens[user], "DELETE", path, json=erasure).status_code
        for user in ("alice", "aurele")
    ]
    erased = api(stack, tokens["priya"], "DELETE", path, json=erasure)

    # Then only the privacy officer may, and the erasure is itself an entry
    assert refused == [403, 403]
    assert erased.status_code == 200, erased.text
    assert erased.json()["entry"] == entry["id"]
    listed = {item["id"]: item for item in audit_entries(stack, tokens["aurele"])}
    assert (listed[entry["id"]]["note"], listed[entry["id"]]["note_state"]) == (None, "erased")
    audited = listed[erased.json()["audited_as"]]
    assert (audited["action"], audited["target"], audited["reason"]) == (
        "note.erase",
        f"audit/{entry['id']}",
        "person_asked",
    )
    # And the chain, whose entry still commits to the note, holds
    assert ok(api(stack, tokens["aurele"], "GET", "/audit/verify"))["ok"] is True
    # And a second erasure, or an id that is no entry's, finds nothing
    assert api(stack, tokens["priya"], "DELETE", path, json=erasure).status_code == 404
    malformed = api(stack, tokens["priya"], "DELETE", "/audit/notes/x", json=erasure)
    assert malformed.status_code == 422
