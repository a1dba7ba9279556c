"""The creators of what runs the stack over time and watches it: EventBridge Scheduler groups and
schedules (fired by the local scheduler), CloudWatch log groups and alarms."""

from __future__ import annotations

from cloison_local.model import JsonDict
from cloison_local.provision.base import Creators, Physical


class OperationsCreators(Creators):
    """Schedule groups, schedules, log groups and alarms."""

    def _schedule_group(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("Name", self._name(logical_id))
        arn = self.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        return Physical(name, {"Arn": arn})

    def _log_group(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("LogGroupName", f"/local/{self._name(logical_id)}")
        logs = self.client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in properties:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(properties["RetentionInDays"])
            )
        return Physical(name, {"Arn": self._arn("logs", f"log-group:{name}")})

    def _alarm(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("AlarmName", self._name(logical_id, 255))
        arguments = {key: value for key, value in properties.items() if key != "AlarmName"}
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **arguments)
        return Physical(name, {"Arn": self._arn("cloudwatch", f"alarm:{name}")})

    def _schedule(self, logical_id: str, properties: JsonDict) -> Physical:
        """An EventBridge Scheduler schedule, stored in moto and fired by the local scheduler."""
        name = properties.get("Name", self._name(logical_id))
        optional = (
            "GroupName",
            "Description",
            "ScheduleExpressionTimezone",
            "StartDate",
            "EndDate",
            "State",
            "KmsKeyArn",
            "ActionAfterCompletion",
        )
        arn = self.client("scheduler").create_schedule(
            Name=name,
            ScheduleExpression=properties["ScheduleExpression"],
            FlexibleTimeWindow=properties["FlexibleTimeWindow"],
            Target=properties["Target"],
            **{key: properties[key] for key in optional if key in properties},
        )["ScheduleArn"]
        return Physical(name, {"Arn": arn})
