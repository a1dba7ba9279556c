"""EventBridge Scheduler: launches (one-time or recurring) whose target is the launch queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.config import Launches
from cloison.errors import DependencyError
from cloison.models.events import LaunchRequest

if TYPE_CHECKING:
    from mypy_boto3_scheduler.type_defs import TargetTypeDef

# EventBridge Scheduler's context attribute: the time a firing was scheduled for.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class LaunchSchedules:
    """Schedules a launch request onto the launch queue at a given instant, with a DLQ."""

    @classmethod
    def from_settings(cls, config: Launches) -> LaunchSchedules:
        return cls(
            config.schedule_group,
            config.scheduler_role_arn,
            config.launch_queue_arn,
            config.launch_dlq_arn,
        )

    def __init__(self, group: str, role_arn: str, queue_arn: str, dead_letter_arn: str) -> None:
        self.group = group
        self.role_arn = role_arn
        self.queue_arn = queue_arn
        self.dead_letter_arn = dead_letter_arn

    def at(self, request: LaunchRequest, when: datetime) -> str:
        """Launches the campaign at `when`."""
        return self._once(f"launch-{request.campaign_id}", request, when)

    def recurring(self, campaign_id: str, team: str, expression: str, timezone: str) -> str:
        """Puts an occurrence request on the launch queue at each firing of `expression`.

        The request carries the firing's scheduled time, which EventBridge Scheduler writes in
        place of its context attribute: the same time for every retry of one firing.
        """
        name = f"recurring-{campaign_id}"
        try:
            aws.scheduler().create_schedule(
                Name=name,
                GroupName=self.group,
                ScheduleExpression=expression,
                ScheduleExpressionTimezone=timezone,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target=self._target_input(occurrence_input(campaign_id, team)),
            )
        except ClientError as exc:
            raise DependencyError(f"Scheduler {exc.response['Error']['Code']}") from exc
        return name

    def cancel(self, campaign_id: str) -> None:
        """Deletes the campaign's launch schedules; one that already fired or never was is fine."""
        for name in (f"launch-{campaign_id}", f"recurring-{campaign_id}"):
            try:
                aws.scheduler().delete_schedule(Name=name, GroupName=self.group)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise DependencyError(f"Scheduler {exc.response['Error']['Code']}") from exc

    def release(self, campaign_id: str, team: str, when: datetime) -> str:
        """Releases the campaign's chunks parked until `when`; one schedule per campaign and instant."""
        request = LaunchRequest(
            campaign_id=campaign_id, team=team, action="release", release_at=when
        )
        return self._once(
            f"release-{campaign_id}-{int(when.timestamp())}", request, when, exists_ok=True
        )

    def expire(self, campaign_id: str, team: str, when: datetime) -> str:
        """Settles, at `when`, the campaign's messages still without a final event."""
        request = LaunchRequest(campaign_id=campaign_id, team=team, action="expire")
        return self._once(f"expire-{campaign_id}", request, when, exists_ok=True)

    def _once(
        self, name: str, request: LaunchRequest, when: datetime, *, exists_ok: bool = False
    ) -> str:
        try:
            aws.scheduler().create_schedule(
                Name=name,
                GroupName=self.group,
                ScheduleExpression=f"at({when.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=self._target(request),
            )
        except ClientError as exc:
            if exists_ok and exc.response["Error"]["Code"] == "ConflictException":
                return name
            raise DependencyError(f"Scheduler {exc.response['Error']['Code']}") from exc
        return name

    def _target(self, request: LaunchRequest) -> TargetTypeDef:
        return self._target_input(request.model_dump_json())

    def _target_input(self, text: str) -> TargetTypeDef:
        return {
            "Arn": self.queue_arn,
            "RoleArn": self.role_arn,
            "Input": text,
            "DeadLetterConfig": {"Arn": self.dead_letter_arn},
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 86400},
        }


def occurrence_input(campaign_id: str, team: str) -> str:
    """A recurring schedule's target input: an occurrence request timed by EventBridge Scheduler.

    Not a LaunchRequest dumped as is: `scheduled_at` holds the context attribute until the
    scheduler replaces it, at each firing, with that firing's time (e.g. 2026-12-07T09:00:00Z).
    """
    return json.dumps(
        {
            "campaign_id": campaign_id,
            "team": team,
            "action": "occurrence",
            "scheduled_at": SCHEDULED_TIME,
        }
    )
