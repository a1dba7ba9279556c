"""The campaign service's lifecycle calls: side effects in the right order, undone on failure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fakes import FakeQueue, FakeSchedules, RecordingAuditor, campaign_record

from cloison.errors import Conflict, DependencyError
from cloison.models.api.campaigns import LaunchIn
from cloison.models.events import LaunchRequest
from cloison.models.kinds import CampaignStatus
from cloison.models.records import CampaignRecord, UploadRecord
from cloison.services.access import Caller
from cloison.services.campaigns import CampaignService
from cloison.services.lifecycle import InvalidTransition

ALICE = Caller(subject="s", username="alice", teams=frozenset({"sales"}), roles=frozenset())


@dataclass
class FakeStore:
    campaign: CampaignRecord
    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get_campaign(self, campaign_id: str) -> CampaignRecord:
        return self.campaign

    def set_status(
        self,
        campaign_id: str,
        status: str,
        *,
        allowed_from: Iterable[str],
        launch_at: datetime | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        if self.campaign.status not in set(allowed_from):
            raise Conflict("status changed meanwhile")
        self.writes.append((status, dict(fields or {})))
        self.campaign = self.campaign.model_copy(
            update={"status": CampaignStatus(status), **(fields or {})}
        )

    def occurrences(self, campaign_id: str, limit: int = 20) -> list[CampaignRecord]:
        return []


def service(
    status: CampaignStatus,
    *,
    schedule: str | None = None,
    queue_fails: bool = False,
    auditor: RecordingAuditor | None = None,
) -> tuple[CampaignService, FakeStore, FakeQueue, FakeSchedules]:
    record = campaign_record(
        body="Bonjour",
        status=status,
        uploads=[UploadRecord(upload_id="u-1", chunks=1, recipients=3)],
        schedule=schedule,
    )
    store, queue, schedules = FakeStore(record), FakeQueue(fail=queue_fails), FakeSchedules()
    campaigns = CampaignService(
        store=cast(Any, store),
        audiences=cast(Any, None),
        hasher=cast(Any, None),
        launch_queue=cast(Any, queue),
        schedules=cast(Any, schedules),
        previewer=cast(Any, None),
        auditor=cast(Any, auditor or RecordingAuditor()),
    )
    return campaigns, store, queue, schedules


def test_resume_sets_sending_then_asks_for_every_parked_chunk() -> None:
    campaigns, _store, queue, _ = service(CampaignStatus.PAUSED)
    assert campaigns.resume(ALICE, "c-1").status == CampaignStatus.SENDING
    assert queue.sent == [
        LaunchRequest(campaign_id="c-1", team="sales", action="release", release_at=None)
    ]


def test_a_resume_whose_release_cannot_be_queued_leaves_the_campaign_paused() -> None:
    campaigns, store, _, _ = service(CampaignStatus.PAUSED, queue_fails=True)
    with pytest.raises(DependencyError):
        campaigns.resume(ALICE, "c-1")
    assert store.campaign.status == CampaignStatus.PAUSED


def test_a_launch_that_cannot_be_queued_leaves_a_draft_to_launch_again() -> None:
    campaigns, store, _, _ = service(CampaignStatus.DRAFT, queue_fails=True)
    with pytest.raises(DependencyError):
        campaigns.launch(ALICE, "c-1", LaunchIn())
    assert store.campaign.status == CampaignStatus.DRAFT


def test_a_recurring_launch_schedules_first_and_records_the_expression() -> None:
    campaigns, _store, queue, schedules = service(CampaignStatus.DRAFT)
    launched = campaigns.launch(
        ALICE, "c-1", LaunchIn(schedule="cron(0 10 ? * MON *)", timezone="Europe/Paris")
    )
    assert launched.status == CampaignStatus.SCHEDULED
    assert launched.schedule == "cron(0 10 ? * MON *)"
    assert schedules.calls == [("recurring", "cron(0 10 ? * MON *) Europe/Paris")]
    assert queue.sent == []


def test_a_launch_at_a_past_instant_is_a_launch_now() -> None:
    campaigns, _store, queue, schedules = service(CampaignStatus.DRAFT)
    launched = campaigns.launch(ALICE, "c-1", LaunchIn(at=datetime.now(UTC) - timedelta(minutes=1)))
    assert launched.status == CampaignStatus.LAUNCHING
    assert schedules.calls == []
    assert len(queue.sent) == 1


@pytest.mark.parametrize(
    ("status", "schedule", "deleted"),
    [
        (CampaignStatus.DRAFT, None, False),
        (CampaignStatus.SCHEDULED, None, True),
        (CampaignStatus.SENDING, "rate(1 day)", True),
        (CampaignStatus.PAUSED, None, False),
    ],
)
def test_cancel_deletes_the_launch_schedules_of_a_scheduled_or_recurring_campaign(
    status: CampaignStatus, schedule: str | None, deleted: bool
) -> None:
    campaigns, _store, _, schedules = service(status, schedule=schedule)
    assert campaigns.cancel(ALICE, "c-1").status == CampaignStatus.CANCELLED
    assert (("cancel", "c-1") in schedules.calls) is deleted


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (CampaignStatus.CANCELLED, "launch"),
        (CampaignStatus.SENDING, "launch"),
        (CampaignStatus.SENDING, "resume"),
        (CampaignStatus.DRAFT, "pause"),
        (CampaignStatus.COMPLETED, "cancel"),
    ],
)
def test_nonsense_is_refused_before_anything_is_written(status: CampaignStatus, call: str) -> None:
    campaigns, store, queue, schedules = service(status)
    act = {
        "launch": lambda: campaigns.launch(ALICE, "c-1", LaunchIn()),
        "resume": lambda: campaigns.resume(ALICE, "c-1"),
        "pause": lambda: campaigns.pause(ALICE, "c-1"),
        "cancel": lambda: campaigns.cancel(ALICE, "c-1"),
    }[call]
    with pytest.raises(InvalidTransition):
        act()
    assert (store.writes, queue.sent, schedules.calls) == ([], [], [])


@pytest.mark.parametrize(
    ("status", "call", "action"),
    [
        (CampaignStatus.DRAFT, "launch", "campaign.launch"),
        (CampaignStatus.DRAFT, "schedule", "campaign.schedule"),
        (CampaignStatus.SENDING, "pause", "campaign.pause"),
        (CampaignStatus.PAUSED, "resume", "campaign.resume"),
        (CampaignStatus.SENDING, "cancel", "campaign.cancel"),
    ],
)
def test_each_lifecycle_action_is_audited_and_nothing_moves_if_the_audit_fails(
    status: CampaignStatus, call: str, action: str
) -> None:
    def act(campaigns: CampaignService) -> object:
        return {
            "launch": lambda: campaigns.launch(ALICE, "c-1", LaunchIn()),
            "schedule": lambda: campaigns.launch(
                ALICE, "c-1", LaunchIn(schedule="rate(1 day)", timezone="Europe/Paris")
            ),
            "pause": lambda: campaigns.pause(ALICE, "c-1"),
            "resume": lambda: campaigns.resume(ALICE, "c-1"),
            "cancel": lambda: campaigns.cancel(ALICE, "c-1"),
        }[call]()

    # Given a campaign the action applies to
    auditor = RecordingAuditor()
    campaigns, _, _, _ = service(status, auditor=auditor)

    # When the action is taken, then it is audited with the campaign as its object
    act(campaigns)
    assert [(entry["action"], entry["target"]) for entry in auditor.entries] == [
        (action, "campaign/c-1")
    ]

    # And when the audit log cannot be written, nothing is written, queued or scheduled
    campaigns, store, queue, schedules = service(status, auditor=RecordingAuditor(fail=True))
    with pytest.raises(DependencyError):
        act(campaigns)
    assert (store.writes, queue.sent, schedules.calls) == ([], [], [])
    assert store.campaign.status == status
