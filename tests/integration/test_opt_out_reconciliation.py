"""The opt-out list reconciliation on the local stack, fired by the template's own schedule."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from local_api import (
    api,
    campaign_for,
    carrier,
    consent_answer,
    on_provider_list,
    sms_client,
    wait_until,
)

from cloison_local.pollers import Scheduler
from cloison_local.stack import LocalStack

FUNCTION = "ReconcileOptOutsFunction"
# Fictional mobiles next to phonenumbers' French example; each test has its own.
ONLY_AT_PROVIDER = "+33751004001"
STILL_SENDABLE = "+33751004002"
STOPPED_WHILE_DOWN = "+33751004003"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def pending_items(stack: LocalStack) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = stack.client("dynamodb").query(
        TableName=stack.outputs["SuppressionsTableName"],
        IndexName="by-provider-sync",
        KeyConditionExpression="provider_sync = :pending",
        ExpressionAttributeValues={":pending": {"S": "pending"}},
    )["Items"]
    return items


class OurScheduleOnly:
    """The stack's Scheduler API narrowed to the reconciliation's schedule."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def list_schedules(self, **arguments: Any) -> Any:
        return self.client.list_schedules(NamePrefix=FUNCTION, **arguments)

    def get_schedule(self, **arguments: Any) -> Any:
        return self.client.get_schedule(**arguments)


def fire_when_due(stack: LocalStack) -> int:
    """Runs the local EventBridge Scheduler over the reconciliation's schedule, on a clock of its
    own: seen now, then 16 minutes later. The stack's clock, which other tests move, is left be.
    """
    assert stack.stack is not None
    queues = {
        str(physical.attributes["Arn"]): physical.ref
        for physical in stack.stack.resources.values()
        if str(physical.attributes.get("Arn", "")).startswith("arn:aws:sqs:")
    }
    moment = [stack.now()]
    scheduler = Scheduler(
        OurScheduleOnly(stack.client("scheduler")),
        stack.client("sqs"),
        stack.invoke_arn,
        queues.get,
        lambda: moment[0],
    )
    assert scheduler.tick() == 0  # first sight of a rate schedule: due in 15 minutes
    moment[0] += timedelta(minutes=16)
    return scheduler.tick()


def dynamodb_writes(stack: LocalStack) -> int:
    calls = stack.runtimes[FUNCTION].call_counts()
    return sum(
        count
        for (service, operation), count in calls.items()
        if service == "dynamodb" and operation in WRITES
    )


def test_the_schedule_is_the_templates_with_its_dead_letter_queue_and_retries(
    stack: LocalStack,
) -> None:
    # Given the stack started from template.yaml
    assert stack.stack is not None
    # When the schedule SAM makes of the function's ScheduleV2 event (`<function><event>`) is
    # read from the Scheduler
    schedule = stack.client("scheduler").get_schedule(
        Name=stack.stack.resources[f"{FUNCTION}Reconcile"].ref
    )
    # Then it fires the function every 15 minutes, with the role SAM wrote for it, retries and
    # the reconciliation's DLQ
    dead_letters = stack.stack.resources["ReconcileDeadLetterQueue"].attributes["Arn"]
    assert schedule["ScheduleExpression"] == "rate(15 minutes)"
    assert schedule["Target"]["Arn"] == stack.stack.functions[FUNCTION].arn
    role = stack.stack.resources[f"{FUNCTION}ReconcileRole"].attributes["Arn"]
    assert schedule["Target"]["RoleArn"] == role
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": dead_letters}
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_a_number_opted_out_only_at_the_provider_is_suppressed_once_and_skipped(
    stack: LocalStack, tokens: dict[str, str]
) -> None:
    alice = tokens["alice"]
    runtime = stack.runtimes[FUNCTION]
    # Given two consenting people, one of whom End User Messaging alone opted out
    for number in (ONLY_AT_PROVIDER, STILL_SENDABLE):
        consent = consent_answer(stack, alice, number, proof="Oui")
        assert consent.status_code == 201, consent.text
    sms_client(stack).put_opted_out_number(
        OptOutListName=stack.outputs["OptOutListName"], OptedOutNumber=ONLY_AT_PROVIDER
    )

    # When the schedule comes due and fires the reconciliation
    invocations, errors = runtime.invocations, runtime.errors
    assert fire_when_due(stack) == 1
    assert (runtime.invocations, runtime.errors) == (invocations + 1, errors)

    # Then a campaign sent afterwards skips that number, and the carrier never sees it
    campaign = campaign_for(stack, alice, [ONLY_AT_PROVIDER, STILL_SENDABLE])
    launched = api(stack, alice, "POST", f"/campaigns/{campaign}/launch", json={})
    assert launched.status_code == 202, launched.text

    def counts() -> dict[str, int]:
        stats = api(stack, alice, "GET", f"/campaigns/{campaign}/stats").json()
        return dict(stats["counts"])

    assert wait_until(lambda: counts().get("queued") == 1), counts()
    assert counts()["suppressed"] == 1
    sent = [message.destination for message in carrier(stack).sent_messages()]
    assert STILL_SENDABLE in sent
    assert ONLY_AT_PROVIDER not in sent

    # And a second run reads the list and the suppressions once each and writes nothing
    runtime.reset_call_counts()
    report = stack.invoke(FUNCTION, {})
    calls = runtime.call_counts()
    assert report["imported"] == 0
    assert report["complete"] is True
    assert dynamodb_writes(stack) == 0
    pages = report["pages"]
    assert calls[("pinpoint-sms-voice-v2", "DescribeOptedOutNumbers")] == pages
    assert calls[("dynamodb", "BatchGetItem")] == pages
    # the pending opt-outs (Query), the saved place (GetItem), the pepper at most once
    assert sum(calls.values()) <= 2 * pages + 3, calls


def test_a_stop_the_provider_did_not_take_is_pushed_to_its_list_by_the_next_run(
    stack: LocalStack,
) -> None:
    inbound = stack.runtimes["InboundFunction"]
    # Given a STOP received while every call to End User Messaging fails
    inbound.fault_rates = {"pinpoint-sms-voice-v2": 1.0}
    try:
        carrier(stack).inject_reply(STOPPED_WHILE_DOWN, stack.outputs["ShortCode"], "STOP")
        assert wait_until(lambda: bool(pending_items(stack))), "the STOP was never recorded"
        assert stack.wait_idle(timeout=30)
    finally:
        inbound.fault_rates = {}
    assert not on_provider_list(stack, STOPPED_WHILE_DOWN)
    # the number waits sealed, never in clear
    table = stack.outputs["SuppressionsTableName"]
    stored = json.dumps(stack.client("dynamodb").scan(TableName=table)["Items"], default=str)
    assert STOPPED_WHILE_DOWN[1:] not in stored

    # When the reconciliation runs
    report = stack.invoke(FUNCTION, {})

    # Then the provider's list holds the number, nothing waits any more, nothing came back
    assert report["pushed"] >= 1
    assert on_provider_list(stack, STOPPED_WHILE_DOWN)
    assert pending_items(stack) == []
    assert stack.invoke(FUNCTION, {})["imported"] == 0


def test_the_reconciliation_logs_never_show_a_full_number(stack: LocalStack) -> None:
    # Given the runs above
    assert stack.log_dir is not None
    log = (stack.log_dir / f"{FUNCTION}.log").read_text()
    # When its log is read
    # Then none of the numbers it handled appears whole
    assert "opt-out list reconciled" in log
    for number in (ONLY_AT_PROVIDER, STILL_SENDABLE, STOPPED_WHILE_DOWN):
        assert number[1:] not in log
