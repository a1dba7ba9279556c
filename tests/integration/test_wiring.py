"""The local stack runs exactly the wiring the template declares, with real event shapes."""

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from local_api import campaign_for, wait_until

from cloison_local.pollers import SqsPoller
from cloison_local.runtime import FunctionError
from cloison_local.seed import call
from cloison_local.stack import DEFAULT_TEMPLATE, LocalStack
from cloison_local.template import load_template


def template_async_events() -> set[tuple[str, str, str]]:
    """(function, queue or table logical id, handler) of every SQS and DynamoDB stream event,
    read straight from the YAML."""
    template = load_template(DEFAULT_TEMPLATE)
    found = set()
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            source = {"SQS": "Queue", "DynamoDB": "Stream"}.get(event["Type"])
            if source is not None:
                owner = event["Properties"][source]["Fn::GetAtt"][0]
                found.add((logical_id, owner, resource["Properties"]["Handler"]))
    return found


def test_every_queue_and_stream_event_of_the_template_is_polled_into_its_handler(
    stack: LocalStack,
) -> None:
    # Given the stack started from template.yaml
    assert stack.stack is not None
    arns = {
        arn: logical_id
        for logical_id, physical in stack.stack.resources.items()
        for arn in (physical.attributes.get("Arn"), physical.attributes.get("StreamArn"))
        if arn
    }
    # When we list what its pollers run
    running = {
        (
            poller.source.function,
            arns[
                poller.source.queue_arn
                if isinstance(poller, SqsPoller)
                else poller.source.stream_arn
            ],
            stack.runtimes[poller.source.function].spec.handler,
        )
        for poller in stack.pollers
    }
    # Then it is exactly what the template declares
    declared = template_async_events()
    assert running == declared
    assert len(declared) == 5


def test_a_batch_with_a_poison_message_keeps_the_good_ones(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a valid reply and a malformed payload on the inbound queue, in one batch
    sqs = stack.client("sqs")
    queue = stack.outputs["InboundQueueUrl"]
    dead_letters = stack.outputs["InboundDeadLetterQueueUrl"]
    good = {
        "originationNumber": "+33612345670",
        "destinationNumber": stack.outputs["ShortCode"],
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "Bonjour",
        "inboundMessageId": "wiring-good-1",
        "previousPublishedMessageId": "",
    }
    sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "good", "MessageBody": json.dumps(good)},
            {"Id": "poison", "MessageBody": "{not json"},
        ],
    )
    # When the inbound function has had its tries
    deadline = time.monotonic() + 60
    moved: list[str] = []
    while time.monotonic() < deadline and not moved:
        answer = sqs.receive_message(
            QueueUrl=dead_letters, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        moved = [message["Body"] for message in answer.get("Messages", [])]
    # Then only the poison message ended in the dead-letter queue, and the good reply was stored
    assert moved == ["{not json"]
    privacy = stack.client("dynamodb").get_item(
        TableName=stack.outputs["RepliesTableName"],
        Key={"pk": {"S": "team#quarantine"}, "sk": {"S": "reply#wiring-good-1"}},
    )
    assert privacy.get("Item", {}).get("stored", {}).get("BOOL") is True


def test_a_launch_at_a_time_is_fired_by_the_scheduler(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a draft campaign with one consented recipient
    api, alice = stack.api_url, tokens["alice"]
    campaign = campaign_for(stack, alice, ["+33612345678"])
    # When it is launched for three seconds from now (on the functions' clock)
    at = stack.now() + timedelta(seconds=3)
    scheduled = call(api, alice, "POST", f"/campaigns/{campaign}/launch", {"at": at.isoformat()})
    assert scheduled["status"] == "scheduled"
    # Then the EventBridge schedule fires into the launch queue and the campaign completes
    assert wait_until(
        lambda: call(api, alice, "GET", f"/campaigns/{campaign}")["status"] == "completed",
        every=0.5,
    )
    schedules = stack.client("scheduler").list_schedules()["Schedules"]
    assert not [item for item in schedules if item["Name"] == f"launch-{campaign}"]


def test_a_handler_renamed_in_the_template_breaks_the_stack(tmp_path: Path) -> None:
    # Given a copy of the template whose inbound handler names a function that does not exist
    text = DEFAULT_TEMPLATE.read_text().replace(
        "cloison.handlers.inbound.lambda_handler", "cloison.handlers.inbound.renamed"
    )
    copy = tmp_path / "template.yaml"
    copy.write_text(text)
    # When the local stack runs that template and the function is invoked
    with (
        LocalStack(copy, api_port=0, log_dir=tmp_path) as renamed,
        pytest.raises(FunctionError) as failure,
    ):
        renamed.invoke("InboundFunction", {"Records": []})
    # Then it fails as Lambda would, on the import of the handler
    assert failure.value.error_type == "Runtime.ImportModuleError"


def test_the_privacy_officer_reads_the_quarantine_and_members_do_not(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given a reply from a number no campaign ever messaged
    stack.carrier.inject_reply("+33612345671", stack.outputs["ShortCode"], "Qui êtes-vous ?")  # type: ignore[union-attr]
    stack.wait_idle(timeout=30)
    # When the privacy officer and a member list replies
    officer = call(stack.api_url, tokens["priya"], "GET", "/replies")["items"]
    member = call(stack.api_url, tokens["alice"], "GET", "/replies")["items"]
    # Then only the privacy officer sees it, in the quarantine compartment
    assert any(item["team"] == "quarantine" for item in officer)
    assert not any(item["team"] == "quarantine" for item in member)


def test_a_recipient_outside_the_window_is_deferred_never_sent_early(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given the clock at 09:00 in Paris on a Tuesday: 04:00 in Guadeloupe, before its opening
    previous = stack.clock_offset
    stack.set_clock(datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    try:
        api, alice = stack.api_url, tokens["alice"]
        campaign = campaign_for(stack, alice, ["0690 00 12 34", "+33612345678"])
        before = len(stack.carrier.sent_messages())  # type: ignore[union-attr]
        # When it is launched
        call(api, alice, "POST", f"/campaigns/{campaign}/launch", {})
        stack.wait_idle(timeout=30)
        # Then Paris is sent, Guadeloupe is deferred, and the campaign is not over
        stats = call(api, alice, "GET", f"/campaigns/{campaign}/stats")
        sent = stack.carrier.sent_messages()[before:]  # type: ignore[union-attr]
        assert (stats["counts"]["queued"], stats["counts"]["deferred"]) == (1, 1)
        assert [message.destination for message in sent] == ["+33612345678"]
        assert stats["status"] == "sending"
    finally:
        stack.clock_offset = previous


def test_messages_without_a_final_event_expire_after_their_time_to_live(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    # Given two messages the carrier accepts but never settles: one stops at the carrier's
    # acceptance (an event the stack's configuration set, publishing final events only, does
    # not pass on), one produces no event at all
    assert stack.carrier is not None
    stuck, silent = "+33612345682", "+33612345683"
    stack.carrier.set_outcome(("TEXT_SUCCESSFUL",), destination=stuck)
    stack.carrier.set_outcome(("TEXT_PENDING",), destination=silent)
    api, alice = stack.api_url, tokens["alice"]
    campaign = campaign_for(stack, alice, [stuck, silent], kind="transactional", sender="alerts")
    previous = stack.clock_offset
    try:
        call(api, alice, "POST", f"/campaigns/{campaign}/launch", {})
        stats_path = f"/campaigns/{campaign}/stats"
        wait_until(lambda: call(api, alice, "GET", stats_path)["status"] == "completed", every=0.5)
        stack.wait_idle(timeout=30)
        # When their 72-hour time to live is over
        stack.set_clock(stack.now() + timedelta(hours=74))
        wait_until(lambda: call(api, alice, "GET", stats_path)["counts"]["expired"] >= 2, every=0.5)
        # Then both end as expired, and nothing else moved
        counts = call(api, alice, "GET", stats_path)["counts"]
        assert (counts["queued"], counts["sent"], counts["expired"], counts["delivered"]) == (
            2,
            0,
            2,
            0,
        )
    finally:
        stack.clock_offset = previous
        stack.carrier.set_outcome(("TEXT_SUCCESSFUL", "TEXT_DELIVERED"))
