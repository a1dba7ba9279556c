"""The campaign lifecycle: every action from every status, allowed or a conflict."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloison.errors import Conflict
from cloison.models.api.campaigns import LaunchIn, schedule_expression_problem
from cloison.models.kinds import CampaignStatus
from cloison.services.lifecycle import TRANSITIONS, Action, InvalidTransition, transition

S = CampaignStatus
ALLOWED = {
    (Action.EDIT, S.DRAFT): S.DRAFT,
    (Action.LAUNCH, S.DRAFT): S.LAUNCHING,
    (Action.SCHEDULE, S.DRAFT): S.SCHEDULED,
    (Action.START, S.SCHEDULED): S.SENDING,
    (Action.START, S.LAUNCHING): S.SENDING,
    (Action.PAUSE, S.SENDING): S.PAUSED,
    (Action.RESUME, S.PAUSED): S.SENDING,
    (Action.CANCEL, S.DRAFT): S.CANCELLED,
    (Action.CANCEL, S.SCHEDULED): S.CANCELLED,
    (Action.CANCEL, S.LAUNCHING): S.CANCELLED,
    (Action.CANCEL, S.SENDING): S.CANCELLED,
    (Action.CANCEL, S.PAUSED): S.CANCELLED,
    (Action.COMPLETE, S.SENDING): S.COMPLETED,
}


@pytest.mark.parametrize(
    ("action", "status"),
    [(action, status) for action in Action for status in CampaignStatus],
    ids=[f"{action.value}-from-{status.value}" for action in Action for status in CampaignStatus],
)
def test_each_action_from_each_status_is_allowed_only_where_the_machine_says(
    action: Action, status: CampaignStatus
) -> None:
    # When the action is asked of a campaign in that status
    expected = ALLOWED.get((action, status))
    if expected is None:
        # Then it is a conflict that names both
        with pytest.raises(InvalidTransition) as refused:
            transition(action, status)
        assert isinstance(refused.value, Conflict)
        assert action.value in str(refused.value)
        assert status.value in str(refused.value)
    else:
        # Then it leads where the diagram says
        assert transition(action, status).target == expected


def test_finished_campaigns_go_nowhere() -> None:
    for action in Action:
        sources = TRANSITIONS[action].sources
        assert S.CANCELLED not in sources
        assert S.COMPLETED not in sources


# ---------------------------------------------------------------- launch requests


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 10 ? * MON *)",
        "cron(0/15 8-19 ? * MON-FRI *)",
        "cron(0 9 1 * ? *)",
        "cron(30 7 ? * 2#1 2027)",
        "rate(1 day)",
        "rate(12 hours)",
        "at(2027-01-05T10:00:00)",
    ],
)
def test_scheduler_expressions_of_the_three_kinds_are_accepted(expression: str) -> None:
    assert schedule_expression_problem(expression) is None
    assert LaunchIn(schedule=expression, timezone="Europe/Paris").schedule == expression


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 10 * * MON)", "six fields"),
        ("cron(0 10 * * MON *)", "exactly one"),
        ("cron(0 10 ? * ? *)", "exactly one"),
        ("cron(0 10 ? * MON; *)", "characters"),
        ("rate(1 days)", "singular"),
        ("rate(2 hour)", "singular"),
        ("rate(0 hours)", "write at"),
        ("rate(5 weeks)", "write at"),
        ("at(2027-02-30T10:00:00)", "no valid date"),
        ("every monday", "write at"),
        ("0 10 * * 1", "write at"),
    ],
)
def test_malformed_expressions_are_refused_with_a_reason(expression: str, reason: str) -> None:
    problem = schedule_expression_problem(expression)
    assert problem is not None
    assert reason in problem
    with pytest.raises(ValidationError):
        LaunchIn(schedule=expression)


@pytest.mark.parametrize("zone", ["Paris", "Europe/Pariss", "../etc/passwd", "UTC+1", ""])
def test_a_time_zone_must_be_an_iana_name(zone: str) -> None:
    with pytest.raises(ValidationError, match="IANA"):
        LaunchIn(schedule="rate(1 day)", timezone=zone)


def test_at_and_schedule_exclude_each_other_and_a_zone_needs_a_schedule() -> None:
    with pytest.raises(ValidationError, match="not both"):
        LaunchIn.model_validate({"at": "2027-01-05T10:00:00Z", "schedule": "rate(1 day)"})
    with pytest.raises(ValidationError, match="goes with"):
        LaunchIn(timezone="Europe/Paris")
