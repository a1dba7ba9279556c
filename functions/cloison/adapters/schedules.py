"""EventBridge Scheduler: one-time launches whose target is the launch queue."""

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.errors import DependencyError
from cloison.models.events import LaunchRequest


class LaunchSchedules:
    """Schedules a launch request onto the launch queue at a given instant, with a DLQ."""

    def __init__(self, group: str, role_arn: str, queue_arn: str, dead_letter_arn: str) -> None:
        self.group = group
        self.role_arn = role_arn
        self.queue_arn = queue_arn
        self.dead_letter_arn = dead_letter_arn

    def at(self, request: LaunchRequest, when: datetime) -> str:
        """Launches the campaign at `when`."""
        return self._once(f"launch-{request.campaign_id}", request, when)

    def release(self, campaign_id: str, team: str, when: datetime) -> str:
        """Releases the campaign's chunks parked until `when`; one schedule per campaign and instant."""
        request = LaunchRequest(
            campaign_id=campaign_id, team=team, action="release", release_at=when
        )
        return self._once(
            f"release-{campaign_id}-{int(when.timestamp())}", request, when, exists_ok=True
        )

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
                Target={
                    "Arn": self.queue_arn,
                    "RoleArn": self.role_arn,
                    "Input": request.model_dump_json(),
                    "DeadLetterConfig": {"Arn": self.dead_letter_arn},
                    "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 86400},
                },
            )
        except ClientError as exc:
            if exists_ok and exc.response["Error"]["Code"] == "ConflictException":
                return name
            raise DependencyError(f"Scheduler {exc.response['Error']['Code']}") from exc
        return name
