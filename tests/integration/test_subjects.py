"""Data-subject requests through the local stack: a person who received a campaign, replied, gave
consent, asked for a sign-up to another team and said STOP is exported, rectified, then erased;
afterwards no table, bucket or log holds their number, only the suppression holds its keyed
hash, a new campaign skips them, and their late reply to the sign-up's SMS confirms nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from local_api import (
    add_recipients,
    api,
    carrier,
    consent_answer,
    new_campaign,
    ok,
    on_provider_list,
    sign_up,
    wait_until,
)

from cloison.adapters.envelope import EnvelopeSealer
from cloison.services.audience import open_chunk
from cloison_local.stack import LocalStack

# Fictional mobiles of this test alone.
PERSON = "+33751005101"
NEIGHBOUR = "+33751005102"
# How the number may be written: E.164, bare digits and national form contain the first.
FORMS = ("751005101", "07 51 00 51 01", "7 51 00 51 01", "07.51.00.51.01")
# Where the person's sign-up request came from, and the network an export shows of it.
SIGNUP_ADDRESS = "127.0.5.1"
SIGNUP_NETWORK = "127.0.5.0/24"
NOTICE_FR = {
    "organisation": "Exemple Services",
    "purpose": "Vous prévenir des interventions par SMS.",
    "frequency": "Au plus 2 SMS par mois.",
    "retention": "3 ans après notre dernier échange.",
    "rights": "Accès, rectification, effacement : dpo@exemple.fr.",
    "stop": "STOP au 36111",
}


def number_key(stack: LocalStack, e164: str) -> str:
    """The number's key in the tables: HMAC-SHA256 under the stack's pepper."""
    pepper = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.outputs["PepperSecretArn"]
    )["SecretString"]
    return hmac.new(pepper.encode(), e164.encode(), hashlib.sha256).hexdigest()


def campaign(stack: LocalStack, token: str, recipients: list[dict[str, Any]], *, kind: str) -> str:
    body = "Bonjour {first_name}, votre commande est prête."
    created = new_campaign(stack, token, name="Droits", kind=kind, body=body)
    ok(add_recipients(stack, token, created, recipients))
    return created


def reply(stack: LocalStack, number: str, body: str) -> str:
    reply_id = carrier(stack).inject_reply(number, stack.outputs["ShortCode"], body)
    assert stack.wait_idle(timeout=30)
    return reply_id


def request(stack: LocalStack, token: str, body: dict[str, Any]) -> requests.Response:
    return api(stack, token, "POST", "/privacy/requests", json={"phone": PERSON, **body})


def every_item(stack: LocalStack) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every item of every table the stack names, as (table, item)."""
    client = stack.client("dynamodb")
    for output, table in stack.outputs.items():
        if not output.endswith("TableName"):
            continue
        for page in client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                yield output, item


def every_object_version(stack: LocalStack) -> Iterator[tuple[str, str, bytes]]:
    """Every version of every object of every bucket, as (bucket, key, body)."""
    s3 = stack.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            for version in page.get("Versions", []):
                body = s3.get_object(
                    Bucket=name, Key=version["Key"], VersionId=version["VersionId"]
                )["Body"].read()
                yield name, version["Key"], body
            for marker in page.get("DeleteMarkers", []):
                yield name, marker["Key"], b""


def traces(text: str, key: str) -> list[str]:
    return [form for form in (*FORMS, key) if form in text]


def test_a_person_is_exported_rectified_and_erased_and_then_skipped(
    stack: LocalStack,
    tokens: dict[str, str],
    log_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, priya, aurele = tokens["alice"], tokens["priya"], tokens["aurele"]
    key = number_key(stack, PERSON)

    # Given a person who asked for a sign-up on team support's page, and was sent its SMS
    put = api(stack, tokens["ada"], "PUT", "/teams/support/notice", json={"fr": NOTICE_FR})
    notice = ok(put)["hash"]
    assert sign_up(stack, SIGNUP_ADDRESS, PERSON, notice, team="support")[0] == 202
    assert wait_until(
        lambda: any(
            message.destination == PERSON and message.context.get("signup") == "confirmation"
            for message in carrier(stack).sent_messages()
        )
    ), "no confirmation SMS"
    # And who consented to team sales, received a campaign and answered it
    ok(consent_answer(stack, alice, PERSON, proof="Oui aux SMS"))
    sent = campaign(
        stack, alice, [{"phone": PERSON, "variables": {"first_name": "Lea"}}], kind="marketing"
    )
    ok(api(stack, alice, "POST", f"/campaigns/{sent}/launch", json={}))
    messages = stack.client("dynamodb")
    assert wait_until(
        lambda: bool(
            messages.query(
                TableName=stack.outputs["MessagesTableName"],
                KeyConditionExpression="pk = :key",
                ExpressionAttributeValues={":key": {"S": f"recipient#{key}"}},
            )["Items"]
        )
    ), "the delivery events never recorded the message"
    answered = reply(stack, PERSON, "Super, je passe samedi avec ma fille")
    # And who then said STOP while End User Messaging's opt-out list was out of reach
    inbound = stack.runtimes["InboundFunction"]
    inbound.fault_rates = {"pinpoint-sms-voice-v2": 1.0}
    try:
        stopped = reply(stack, PERSON, "STOP")
    finally:
        inbound.fault_rates = {}
    # And who waits in a draft, beside someone else
    draft = campaign(
        stack,
        alice,
        [
            {"phone": NEIGHBOUR, "variables": {"first_name": "Marc"}},
            {"phone": "07 51 00 51 01", "variables": {"first_name": "Lea"}, "departement": "69"},
        ],
        kind="transactional",
    )

    # A member may not make a request nor read one; a number in the URL is refused
    assert request(stack, alice, {"kind": "access", "reason": "asked"}).status_code == 403
    in_url = api(
        stack,
        priya,
        "POST",
        "/privacy/requests",
        params={"phone": PERSON},
        json={"kind": "access", "phone": PERSON, "reason": "asked"},
    )
    assert in_url.status_code == 422, in_url.text
    assert api(stack, priya, "GET", f"/privacy/requests/{PERSON}").status_code == 404

    # When the privacy officer asks what is held
    access = request(stack, priya, {"kind": "access", "reason": "letter ref. A-12"})

    # Then everything comes back at once, replies decrypted
    assert access.status_code == 201, access.text
    export = access.json()["export"]
    assert export["phone"] == PERSON
    assert [consent["proof"] for consent in export["consents"]] == ["Oui aux SMS"]
    assert [(item["scope"], item["source"]) for item in export["suppressions"]] == [
        ("all", "sms-reply")
    ]
    assert [message["campaign_id"] for message in export["messages"]] == [sent]
    assert export["marketing_messages_counted"] == 1  # that campaign's, against the cap
    assert [note["text"] for note in export["notes"]] == ["letter ref. A-12"]
    assert {item["id"]: item["body"] for item in export["replies"]} == {
        answered: "Super, je passe samedi avec ma fille",
        stopped: "STOP",
    }
    assert sorted(
        (item["campaign_id"], item["variables"]["first_name"]) for item in export["audiences"]
    ) == sorted([(sent, "Lea"), (draft, "Lea")])
    # And the sign-up waiting for its reply, with the notice the page showed, the address it
    # came from down to its network, and the requests counted for the number
    [waiting] = export["signups"]
    assert (waiting["team"], waiting["notice"]["hash"]) == ("support", notice)
    assert waiting["notice"]["fr"] == NOTICE_FR
    assert waiting["source_address"] == SIGNUP_NETWORK
    assert SIGNUP_ADDRESS not in access.text
    assert waiting["requested_at"] < waiting["expires_at"]
    [counted] = export["signup_limits"]
    assert (counted["limit"], len(counted["requested_at"])) == ("number", 1)
    assert access.json()["counts"]["signups"] == 1
    assert NEIGHBOUR not in access.text
    assert traces(access.text, key) == [FORMS[0]]  # what the scans below look for is there
    assert access.json()["phone"] == "***01"

    # When their first name is corrected
    rectified = request(
        stack,
        priya,
        {
            "kind": "rectification",
            "reason": "asked",
            "changes": {"variables": {"first_name": "Léa"}},
        },
    )

    # Then every audience holding them has it, and the auditor sees the change by name only
    assert rectified.status_code == 201, rectified.text
    assert rectified.json()["counts"] == {"audience_chunks": 2}
    again = ok(request(stack, priya, {"kind": "access", "reason": "check"}))["export"]
    assert {item["variables"]["first_name"] for item in again["audiences"]} == {"Léa"}
    audited = ok(api(stack, aurele, "GET", "/audit", params={"action": "subject.rectify"}))
    (entry,) = [item for item in audited["items"] if item["target"] == rectified.json()["id"]]
    assert entry["details"] == {"attributes": "variables.first_name"}
    assert entry["actor_name"] == "priya"

    # And a reply of theirs and one of the neighbour's wait in the inbound dead-letter queue
    # (processing them failed), as SNS delivered them
    sqs = stack.client("sqs")
    dead_letters = stack.outputs["InboundDeadLetterQueueUrl"]
    for number in (PERSON, NEIGHBOUR):
        payload = {
            "originationNumber": number,
            "messageBody": "Rappelez-moi",
            "inboundMessageId": f"dl-{number[-2:]}",
        }
        envelope = {
            "Type": "Notification",
            "Message": json.dumps(payload),
            "Timestamp": "2026-12-01T09:00:00.000Z",
        }
        sqs.send_message(QueueUrl=dead_letters, MessageBody=json.dumps(envelope))

    # When they are erased
    erased = request(stack, priya, {"kind": "erasure", "reason": "letter ref. A-13"})

    # Then the receipt says what went, and is kept without the number
    assert erased.status_code == 201, erased.text
    receipt = erased.json()
    assert receipt["counts"] == {
        "audit_notes": 3,  # what priya wrote with the two accesses and the rectification
        "consents": 1,
        "messages": 1,
        "replies": 2,
        "reply_versions": 2,
        "dead_letters": 1,
        "audience_chunks": 2,
        "suppressions_scrubbed": 0,
        "signups": 1,
        "signup_limits": 1,
        "frequency_caps": 1,
    }
    assert receipt["suppression"] == "kept"
    # And the neighbour's dead letter is still there, and visible
    left = [
        message
        for message in sqs.receive_message(
            QueueUrl=dead_letters, MaxNumberOfMessages=10, VisibilityTimeout=5
        ).get("Messages", [])
        if PERSON in message["Body"] or NEIGHBOUR in message["Body"]
    ]
    assert [NEIGHBOUR in message["Body"] for message in left] == [True]
    sqs.delete_message(QueueUrl=dead_letters, ReceiptHandle=left[0]["ReceiptHandle"])
    kept = ok(api(stack, priya, "GET", f"/privacy/requests/{receipt['id']}"))
    assert kept["counts"] == receipt["counts"]
    assert kept["phone"] is None
    assert api(stack, alice, "GET", f"/privacy/requests/{receipt['id']}").status_code == 403
    for action, request_id, note in (
        ("subject.export", access.json()["id"], (None, "erased")),
        ("subject.erase", receipt["id"], ("letter ref. A-13", "kept")),
    ):
        listed = ok(api(stack, aurele, "GET", "/audit", params={"action": action}))["items"]
        (entry,) = [item for item in listed if item["target"] == request_id]
        # the notes about the person are gone, the erasure's own is its proof
        assert (entry["note"], entry["note_state"]) == note

    # And no table holds the number; only its suppression holds its keyed hash, but for the
    # tombstones that keep late delivery events from writing its records back (their key alone)
    holding = [
        (table, item)
        for table, item in every_item(stack)
        if traces(json.dumps(item, default=str), key)
    ]
    assert [
        (table, item["pk"]["S"]) for table, item in holding if table != "MessagesTableName"
    ] == [("SuppressionsTableName", f"number#{key}")]
    assert all(
        set(item) == {"pk", "sk", "status_rank", "expires_at"}
        for table, item in holding
        if table == "MessagesTableName"
    )
    (suppression,) = [
        item
        for table, item in every_item(stack)
        if table == "SuppressionsTableName" and item["pk"]["S"] == f"number#{key}"
    ]
    assert traces(json.dumps(suppression, default=str), key) == [key]
    assert "provider_number" not in suppression
    # And no object of any bucket, in any version, holds it or the replies
    for bucket, object_key, body in every_object_version(stack):
        text = object_key + body.decode("latin-1")
        assert not traces(text, key), (bucket, object_key)
        assert answered not in object_key
        assert stopped not in object_key
    # And no log either (of every function, and of moto itself)
    logs = sorted(log_dir.glob("*.log"))
    assert {"ApiFunction.log", "InboundFunction.log", "moto-server.log"} <= {
        log.name for log in logs
    }
    for log in logs:
        assert not traces(log.read_text(errors="replace"), key), log.name
    # And the audiences keep their places, the person's now empty, the neighbour's whole
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.moto_url)
    sealer = EnvelopeSealer(stack.outputs["DataKeyArn"])
    for campaign_id, expected in ((sent, [""]), (draft, [NEIGHBOUR, ""])):
        chunks = [
            item
            for table, item in every_item(stack)
            if table == "CampaignsTableName"
            and item["pk"]["S"] == f"campaign#{campaign_id}"
            and item["sk"]["S"].startswith("chunk#")
        ]
        (chunk,) = chunks
        members = open_chunk(sealer, chunk["sealed"]["B"], "sales", campaign_id)
        assert [member.e164 for member in members] == expected
    # And the opt-out the STOP set reached the provider's list as the erasure went
    assert on_provider_list(stack, PERSON)

    # When a new campaign includes the number again
    before = len(carrier(stack).sent_messages())
    later = campaign(
        stack,
        alice,
        [
            {"phone": PERSON, "variables": {"first_name": "Lea"}},
            {"phone": NEIGHBOUR, "variables": {"first_name": "Marc"}},
        ],
        kind="transactional",
    )
    ok(api(stack, alice, "POST", f"/campaigns/{later}/launch", json={}))
    assert wait_until(
        lambda: ok(api(stack, alice, "GET", f"/campaigns/{later}/stats"))["status"] == "completed"
    )

    # Then it records the person as suppressed and the carrier never sees them
    counts = ok(api(stack, alice, "GET", f"/campaigns/{later}/stats"))["counts"]
    assert counts["suppressed"] == 1
    assert counts["queued"] == 1
    destinations = [message.destination for message in carrier(stack).sent_messages()[before:]]
    assert PERSON not in destinations
    assert NEIGHBOUR in destinations

    # When the person now answers the sign-up's SMS
    reply(stack, PERSON, "OUI")

    # Then it confirms nothing: the erasure took the sign-up with it
    after = ok(request(stack, priya, {"kind": "access", "reason": "check"}))["export"]
    assert (after["consents"], after["signups"]) == ([], [])
