"""What template.yaml promises for the opt-out list reconciliation: schedule, failures, rights."""

from __future__ import annotations

from typing import Any

from sam_template import properties_of, target_of, template

from cloison.adapters.tables import PROVIDER_SYNC_INDEX
from cloison.config import ReconcileSettings
from cloison_local.expand import function_properties, role_statements

FUNCTION = "ReconcileOptOutsFunction"
FOURTEEN_DAYS = 14 * 24 * 3600


def _schedule() -> dict[str, Any]:
    events = properties_of(FUNCTION)["Events"]
    schedules = [event for event in events.values() if event["Type"] == "ScheduleV2"]
    assert len(schedules) == 1
    return dict(schedules[0]["Properties"])


def _statements() -> list[dict[str, Any]]:
    """Every statement of the function's execution role (`<Function>Role`, in the template)."""
    return role_statements(template(), f"{FUNCTION}Role")


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_the_reconciliation_runs_on_a_schedule_set_by_a_parameter() -> None:
    # Given the function's ScheduleV2 event
    schedule = _schedule()

    # When its expression is read
    parameter = target_of(schedule["ScheduleExpression"])

    # Then it is a parameter whose default runs it every 15 minutes
    assert parameter is not None
    assert template()["Parameters"][parameter]["Default"] == "rate(15 minutes)"
    assert (
        properties_of(FUNCTION)["Handler"] == "cloison.handlers.reconcile_opt_outs.lambda_handler"
    )


def test_a_failed_run_is_retried_briefly_then_kept_in_a_dead_letter_queue() -> None:
    # Given the schedule's target settings and the function's asynchronous invoke settings
    schedule = _schedule()
    invoke = properties_of(FUNCTION)["EventInvokeConfig"]

    # When their retry policies and failure destinations are read
    schedule_queue = target_of(schedule["DeadLetterConfig"]["Arn"])
    function_queue = target_of(invoke["DestinationConfig"]["OnFailure"]["Destination"])

    # Then both retry a little, never past the next run, and keep failures 14 days in one queue
    assert 1 <= schedule["RetryPolicy"]["MaximumRetryAttempts"] <= 3
    assert schedule["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 900
    assert invoke["MaximumEventAgeInSeconds"] <= 900
    assert invoke["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert schedule_queue == function_queue
    assert schedule_queue is not None
    queue = template()["Resources"][schedule_queue]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["MessageRetentionPeriod"] == FOURTEEN_DAYS
    assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_the_function_reads_and_changes_only_the_opt_out_list_of_the_stack() -> None:
    # Given the function's sms-voice statements
    statements = [s for s in _statements() if any(a.startswith("sms-voice:") for a in _actions(s))]

    # When their actions and resources are read
    actions = set().union(*(_actions(statement) for statement in statements))
    resources = {target_of(statement["Resource"]) for statement in statements}

    # Then they describe, add and delete numbers of the stack's opt-out list, and nothing else
    assert actions == {
        "sms-voice:DescribeOptedOutNumbers",
        "sms-voice:PutOptedOutNumber",
        "sms-voice:DeleteOptedOutNumber",
    }
    assert resources == {"SmsOptOutList"}


def test_the_function_touches_only_the_suppressions_and_only_as_much_as_it_needs() -> None:
    # Given the function's DynamoDB statements and managed policies
    statements = [s for s in _statements() if any(a.startswith("dynamodb:") for a in _actions(s))]
    managed = properties_of(f"{FUNCTION}Role").get("ManagedPolicyArns", [])

    # When their actions and resources are read
    actions = set().union(*(_actions(statement) for statement in statements))
    resources = [resource for statement in statements for resource in statement["Resource"]]

    # Then no broad policy is used, nothing is deleted or scanned, and only that table is named
    assert managed == []
    assert actions == {
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    }
    assert {target_of(resource) for resource in resources if target_of(resource)} == {
        "SuppressionsTable"
    }
    assert {"Fn::Sub": f"${{SuppressionsTable.Arn}}/index/{PROVIDER_SYNC_INDEX}"} in resources


def test_the_function_reads_the_pepper_and_opens_sealed_numbers_only() -> None:
    # Given the function's other rights
    kms = [s for s in _statements() if any(a.startswith("kms:") for a in _actions(s))]

    # When they are read
    secrets = [s for s in _statements() if "secretsmanager:GetSecretValue" in _actions(s)]

    # Then it reads the pepper secret, and decrypts (never encrypts) with the data key
    assert [target_of(statement["Resource"]) for statement in secrets] == ["PepperSecret"]
    assert [(_actions(s), target_of(s["Resource"])) for s in kms] == [({"kms:Decrypt"}, "DataKey")]


def test_the_pending_opt_outs_index_is_sparse_and_projects_what_the_store_reads() -> None:
    # Given the suppressions table
    table = properties_of("SuppressionsTable")

    # When the index of pending opt-outs is looked up
    index = next(
        i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == PROVIDER_SYNC_INDEX
    )

    # Then it is keyed on an attribute only pending opt-outs carry, with the sealed number
    assert index["KeySchema"] == [{"AttributeName": "provider_sync", "KeyType": "HASH"}]
    assert set(index["Projection"]["NonKeyAttributes"]) == {"provider_number", "scopes"}
    assert {"AttributeName": "provider_sync", "AttributeType": "S"} in table["AttributeDefinitions"]


def test_every_setting_the_reconciliation_reads_is_in_its_environment() -> None:
    # Given the variables its settings model reads
    needed = {field.alias for field in ReconcileSettings.model_fields.values()}

    # When the function's environment is merged with Globals
    environment = function_properties(FUNCTION)["Environment"]["Variables"]

    # Then every one of them is defined
    assert needed - set(environment) == set()
