"""Recurring campaigns: each firing of the schedule sends an occurrence of its own, once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from fakes import FakeQueue, FakeSchedules, FakeSealer, RecordingAuditor, campaign_record

from cloison.adapters.schedules import occurrence_input
from cloison.adapters.tables import CampaignStore
from cloison.errors import Conflict
from cloison.models.events import ChunkRef, LaunchRequest, MalformedPayload, parse_payload
from cloison.models.kinds import CampaignKind, CampaignStatus
from cloison.models.records import AudienceMember, CampaignRecord, UploadRecord
from cloison.services.access import Caller
from cloison.services.audience import AudienceWriter, audience_context
from cloison.services.campaigns import CampaignService
from cloison.services.launch_campaign import Launcher, occurrence_id, occurrence_of
from cloison.services.lifecycle import InvalidTransition
from cloison_local.pollers import Scheduler, render_input

PARIS = ZoneInfo("Europe/Paris")
MONDAY_TEN = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
ALICE = Caller(subject="s", username="alice", teams=frozenset({"sales"}), roles=frozenset())
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def recurring_campaign(
    status: CampaignStatus = CampaignStatus.SCHEDULED, campaign_id: str = "c-0123456789abcdef"
) -> CampaignRecord:
    return campaign_record(
        campaign_id,
        name="Hebdo",
        body="Bonjour {first_name}",
        status=status,
        uploads=[
            UploadRecord(upload_id="u-1", chunks=2, recipients=1000, rejected=4),
            UploadRecord(upload_id="u-2", chunks=1, recipients=200),
        ],
        schedule="cron(0 10 ? * MON *)",
        schedule_timezone="Europe/Paris",
    )


# ---------------------------------------------------------------- the occurrence's id


def test_one_firing_names_one_occurrence_whatever_the_time_zone_it_is_written_in() -> None:
    # Given the same firing written in Paris time and in UTC
    in_paris, in_utc = MONDAY_TEN, MONDAY_TEN.astimezone(UTC)

    # When its occurrence id is derived
    # Then it is the same, readable, and fit for schedule names and URLs
    assert occurrence_id("c-1", in_paris) == occurrence_id("c-1", in_utc) == "c-1-20261207T090000Z"


def test_other_firings_and_other_campaigns_name_other_occurrences() -> None:
    ids = {
        occurrence_id("c-1", MONDAY_TEN),
        occurrence_id("c-1", MONDAY_TEN + timedelta(days=7)),
        occurrence_id("c-1", MONDAY_TEN + timedelta(seconds=1)),
        occurrence_id("c-2", MONDAY_TEN),
    }
    assert len(ids) == 4


def test_an_occurrence_copies_the_campaign_and_reads_its_audience_by_reference() -> None:
    # Given a recurring campaign with two uploads
    recurring = recurring_campaign()

    # When the occurrence of a firing is made
    now = MONDAY_TEN + timedelta(seconds=3)
    occurrence = occurrence_of(recurring, MONDAY_TEN, now)

    # Then it has the campaign's content, is ready to launch, and points at its chunks
    assert occurrence.campaign_id == "c-0123456789abcdef-20261207T090000Z"
    assert (occurrence.team, occurrence.sender, occurrence.kind, occurrence.body) == (
        "sales",
        "promo",
        CampaignKind.MARKETING,
        "Bonjour {first_name}",
    )
    assert occurrence.name == "Hebdo (2026-12-07 10:00)"
    assert occurrence.status == CampaignStatus.LAUNCHING
    assert occurrence.occurrence_of == recurring.campaign_id
    assert occurrence.launch_at == MONDAY_TEN
    assert occurrence.schedule is None
    assert (occurrence.recipient_count, occurrence.chunk_count) == (1200, 3)
    assert [upload.audience_of for upload in occurrence.uploads] == [recurring.campaign_id] * 2
    assert occurrence.audience_owner("u-2") == recurring.campaign_id
    assert recurring.audience_owner("u-2") == recurring.campaign_id


def test_an_occurrence_opens_its_chunks_in_the_context_they_were_sealed_in() -> None:
    # Given a chunk of the recurring campaign, sealed under its own id
    recurring = recurring_campaign()
    sealer = FakeSealer()
    member = AudienceMember(e164="+33612345678", number_key="k1", variables={"first_name": "Léa"})
    sealed = sealer.seal(
        json.dumps([member.model_dump()]).encode(),
        audience_context("sales", recurring.campaign_id),
    )
    chunks = ChunkShelf({(recurring.campaign_id, "u-1", 0): sealed})
    reader = AudienceWriter(cast(Any, chunks), sealer, retention_days=30)

    # When an occurrence reads it
    members = reader.read_chunk(occurrence_of(recurring, MONDAY_TEN, MONDAY_TEN), "u-1", 0)

    # Then it reads the recurring campaign's item, in the recurring campaign's context
    assert members == [member]
    assert chunks.reads == [(recurring.campaign_id, "u-1", 0)]


# ---------------------------------------------------------------- firings in the launcher


@dataclass
class FakeCampaigns:
    """Campaigns with DynamoDB's conditional writes: an occurrence is put once, while scheduled."""

    campaigns: dict[str, CampaignRecord] = field(default_factory=dict)
    puts: int = 0

    def get_campaign(self, campaign_id: str) -> CampaignRecord | None:
        return self.campaigns.get(campaign_id)

    def add_occurrence(self, occurrence: CampaignRecord) -> bool:
        recurring = self.campaigns[occurrence.occurrence_of or ""]
        if occurrence.campaign_id in self.campaigns or recurring.status != "scheduled":
            return False
        self.campaigns[occurrence.campaign_id] = occurrence
        self.puts += 1
        return True

    def set_status(self, campaign_id: str, status: str, *, allowed_from: Iterable[str]) -> None:
        campaign = self.campaigns[campaign_id]
        if campaign.status not in set(allowed_from):
            raise Conflict("status changed")
        self.campaigns[campaign_id] = campaign.model_copy(update={"status": CampaignStatus(status)})

    def occurrences(self, campaign_id: str, limit: int = 20) -> list[CampaignRecord]:
        found = [c for c in self.campaigns.values() if c.occurrence_of == campaign_id]
        return sorted(found, key=lambda c: c.launch_at or c.created_at, reverse=True)[:limit]


def launcher(*campaigns: CampaignRecord) -> tuple[Launcher, FakeCampaigns, FakeQueue]:
    store, queue = FakeCampaigns({c.campaign_id: c for c in campaigns}), FakeQueue()
    return Launcher(cast(Any, store), cast(Any, queue), cast(Any, None)), store, queue


def firing(campaign: CampaignRecord, at: datetime) -> LaunchRequest:
    return LaunchRequest(
        campaign_id=campaign.campaign_id, team="sales", action="occurrence", scheduled_at=at
    )


def test_a_firing_creates_its_occurrence_and_launches_it() -> None:
    # Given a recurring campaign of three chunks
    recurring = recurring_campaign()
    launch, store, queue = launcher(recurring)

    # When its schedule fires
    enqueued = launch.handle(firing(recurring, MONDAY_TEN))

    # Then one occurrence is sending, its three chunks are enqueued under its own id, and the
    # recurring campaign itself stays scheduled
    occurrence = store.campaigns[occurrence_id(recurring.campaign_id, MONDAY_TEN)]
    assert enqueued == 3
    assert occurrence.status == CampaignStatus.SENDING
    assert {cast(ChunkRef, ref).campaign_id for ref in queue.sent} == {occurrence.campaign_id}
    assert [(cast(ChunkRef, r).upload, cast(ChunkRef, r).chunk) for r in queue.sent] == [
        ("u-1", 0),
        ("u-1", 1),
        ("u-2", 0),
    ]
    assert store.campaigns[recurring.campaign_id].status == CampaignStatus.SCHEDULED


def test_a_firing_delivered_twice_creates_one_occurrence() -> None:
    # Given a firing that was handled once
    recurring = recurring_campaign()
    launch, store, queue = launcher(recurring)
    launch.handle(firing(recurring, MONDAY_TEN))

    # When the same firing is delivered again (the queue, or the scheduler, retried it)
    launch.handle(firing(recurring, MONDAY_TEN.astimezone(UTC)))

    # Then there is still one occurrence; its chunks went out again under the same id, where
    # each pass's lease finds them done
    assert store.puts == 1
    assert [c.campaign_id for c in store.occurrences(recurring.campaign_id)] == [
        occurrence_id(recurring.campaign_id, MONDAY_TEN)
    ]
    assert {cast(ChunkRef, ref).key for ref in queue.sent[:3]} == {
        cast(ChunkRef, ref).key for ref in queue.sent[3:]
    }


def test_each_firing_creates_an_occurrence_of_its_own() -> None:
    recurring = recurring_campaign()
    launch, store, _ = launcher(recurring)
    launch.handle(firing(recurring, MONDAY_TEN))
    launch.handle(firing(recurring, MONDAY_TEN + timedelta(days=7)))
    assert [c.launch_at for c in store.occurrences(recurring.campaign_id)] == [
        MONDAY_TEN + timedelta(days=7),
        MONDAY_TEN,
    ]


@pytest.mark.parametrize("status", [CampaignStatus.PAUSED, CampaignStatus.CANCELLED])
def test_a_firing_while_the_campaign_is_paused_or_cancelled_sends_nothing(
    status: CampaignStatus,
) -> None:
    # Given a recurring campaign paused (or cancelled) before its schedule fires
    recurring = recurring_campaign(status)
    launch, store, queue = launcher(recurring)

    # When it fires
    enqueued = launch.handle(firing(recurring, MONDAY_TEN))

    # Then no occurrence is created and nothing is enqueued
    assert enqueued == 0
    assert store.occurrences(recurring.campaign_id) == []
    assert queue.sent == []


def test_an_occurrence_created_before_a_pause_is_still_launched_by_a_redelivery() -> None:
    # Given a firing whose occurrence was created, then its launcher died before enqueueing,
    # and the recurring campaign was paused meanwhile
    recurring = recurring_campaign()
    created = occurrence_of(recurring, MONDAY_TEN, MONDAY_TEN)
    launch, store, _ = launcher(
        recurring.model_copy(update={"status": CampaignStatus.PAUSED}), created
    )

    # When the firing is delivered again
    enqueued = launch.handle(firing(recurring, MONDAY_TEN))

    # Then the occurrence, fired while the campaign was scheduled, is sent
    assert enqueued == 3
    assert store.campaigns[created.campaign_id].status == CampaignStatus.SENDING


def test_a_bare_launch_request_does_not_send_a_recurring_campaign_itself() -> None:
    recurring = recurring_campaign()
    launch, store, queue = launcher(recurring)
    assert launch.handle(LaunchRequest(campaign_id=recurring.campaign_id, team="sales")) == 0
    assert store.campaigns[recurring.campaign_id].status == CampaignStatus.SCHEDULED
    assert queue.sent == []


def test_a_firing_of_another_teams_campaign_sends_nothing() -> None:
    recurring = recurring_campaign()
    launch, store, queue = launcher(recurring)
    request = firing(recurring, MONDAY_TEN).model_copy(update={"team": "support"})
    assert launch.handle(request) == 0
    assert (store.puts, queue.sent) == (0, [])


def test_an_occurrence_request_without_its_time_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="scheduled_at"):
        parse_payload(
            LaunchRequest, '{"campaign_id": "c-1", "team": "sales", "action": "occurrence"}'
        )


def test_the_sample_firing_is_an_occurrence_request() -> None:
    sample = json.loads((TEMPLATE.parent / "events" / "sqs" / "launch_occurrence.json").read_text())
    (record,) = sample["Records"]
    request = parse_payload(LaunchRequest, record["body"])
    assert request.action == "occurrence"
    assert request.scheduled_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the schedule's input


def test_the_recurring_schedule_input_becomes_an_occurrence_request_once_rendered() -> None:
    # Given the Input of a recurring schedule, as stored with EventBridge Scheduler
    stored = occurrence_input("c-1", "sales")
    assert "<aws.scheduler.scheduled-time>" in stored

    # When the scheduler renders it for the firing of Monday 10:00 in Paris
    rendered = render_input(
        stored,
        schedule_arn="arn:aws:scheduler:eu-west-3:123456789012:schedule/launches/recurring-c-1",
        scheduled_time=MONDAY_TEN,
        execution_id="d32c5kddcf5bb8c3",
    )

    # Then the launcher reads an occurrence of that instant
    request = parse_payload(LaunchRequest, rendered)
    assert request.action == "occurrence"
    assert request.scheduled_at == MONDAY_TEN
    assert json.loads(rendered)["scheduled_at"] == "2026-12-07T09:00:00Z"


def test_every_context_attribute_is_replaced_as_aws_does() -> None:
    text = (
        '{"arn": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", '
        '"execution": "<aws.scheduler.execution-id>", "attempt": "<aws.scheduler.attempt-number>"}'
    )
    rendered = render_input(
        text, schedule_arn="arn:x", scheduled_time=MONDAY_TEN, execution_id="e-1", attempt=2
    )
    assert json.loads(rendered) == {
        "arn": "arn:x",
        "at": "2026-12-07T09:00:00Z",
        "execution": "e-1",
        "attempt": "2",
    }


@dataclass
class StoredSchedules:
    """EventBridge Scheduler's read side, holding one schedule."""

    schedule: dict[str, Any]

    def list_schedules(self, **_: Any) -> dict[str, Any]:
        return {"Schedules": [{"Name": self.schedule["Name"], "GroupName": "launches"}]}

    def get_schedule(self, **_: Any) -> dict[str, Any]:
        return self.schedule


@dataclass
class SentMessages:
    bodies: list[str] = field(default_factory=list)

    def send_message(self, QueueUrl: str, MessageBody: str, **_: Any) -> None:
        self.bodies.append(MessageBody)


def test_the_local_scheduler_fires_with_the_scheduled_time_not_the_time_it_noticed() -> None:
    # Given a weekly schedule whose input asks for the scheduled time and an execution id, seen
    # by the scheduler on Sunday
    schedule = {
        "Name": "recurring-c-1",
        "GroupName": "launches",
        "Arn": "arn:aws:scheduler:eu-west-3:123456789012:schedule/launches/recurring-c-1",
        "State": "ENABLED",
        "ScheduleExpression": "cron(0 10 ? * MON *)",
        "ScheduleExpressionTimezone": "Europe/Paris",
        "Target": {
            "Arn": "arn:aws:sqs:eu-west-3:123456789012:launches",
            "Input": '{"at": "<aws.scheduler.scheduled-time>", "id": "<aws.scheduler.execution-id>"}',
        },
    }
    clock = [MONDAY_TEN - timedelta(days=1)]
    sqs = SentMessages()
    scheduler = Scheduler(
        StoredSchedules(schedule), sqs, lambda arn, event: None, lambda arn: "url", lambda: clock[0]
    )
    assert scheduler.tick() == 0

    # When it ticks 40 seconds after Monday 10:00, then again a little later
    clock[0] = MONDAY_TEN + timedelta(seconds=40)
    fired = scheduler.tick()
    clock[0] += timedelta(seconds=30)
    again = scheduler.tick()

    # Then it fired once, with the firing's own time and a fresh execution id
    assert (fired, again) == (1, 0)
    (body,) = sqs.bodies
    assert json.loads(body)["at"] == "2026-12-07T09:00:00Z"
    assert len(json.loads(body)["id"]) == 16
    assert "<aws.scheduler" not in body


# ---------------------------------------------------------------- pause, resume and reading


def service(store: FakeCampaigns, queue: FakeQueue) -> CampaignService:
    return CampaignService(
        store=cast(Any, store),
        audiences=cast(Any, None),
        hasher=cast(Any, None),
        launch_queue=cast(Any, queue),
        schedules=cast(Any, FakeSchedules()),
        previewer=cast(Any, None),
        auditor=cast(Any, RecordingAuditor()),
    )


def test_a_recurring_campaign_pauses_and_resumes_between_firings() -> None:
    # Given a recurring campaign between two firings
    recurring = recurring_campaign()
    _, store, queue = launcher(recurring)
    campaigns = service(store, queue)

    # When it is paused, then resumed
    paused = campaigns.pause(ALICE, recurring.campaign_id)
    resumed = campaigns.resume(ALICE, recurring.campaign_id)

    # Then it was paused, then scheduled again, with no release request (it parks nothing)
    assert paused.status == CampaignStatus.PAUSED
    assert resumed.status == CampaignStatus.SCHEDULED
    assert queue.sent == []
    with pytest.raises(InvalidTransition) as refused:
        campaigns.resume(ALICE, recurring.campaign_id)
    assert refused.value.allowed_from == (CampaignStatus.PAUSED,)


def test_a_one_time_scheduled_campaign_still_cannot_be_paused() -> None:
    one_time = recurring_campaign().model_copy(update={"schedule": None})
    _, store, queue = launcher(one_time)
    with pytest.raises(InvalidTransition):
        service(store, queue).pause(ALICE, one_time.campaign_id)


def test_a_recurring_campaign_lists_its_latest_occurrences() -> None:
    # Given a recurring campaign that fired twice
    recurring = recurring_campaign()
    launch, store, queue = launcher(recurring)
    for week in range(2):
        launch.handle(firing(recurring, MONDAY_TEN + timedelta(days=7 * week)))

    # When it is read
    shown = service(store, queue).describe(ALICE, recurring.campaign_id)
    one = service(store, queue).describe(ALICE, shown.occurrences[0].id)  # type: ignore[index]

    # Then its occurrences are listed newest first, and each is a campaign of its own
    assert shown.occurrences is not None
    assert [(o.scheduled_at, o.status) for o in shown.occurrences] == [
        (MONDAY_TEN + timedelta(days=7), CampaignStatus.SENDING),
        (MONDAY_TEN, CampaignStatus.SENDING),
    ]
    assert one.occurrence_of == recurring.campaign_id
    assert one.occurrences is None


# ---------------------------------------------------------------- the conditional writes


def put_recurring(store: CampaignStore, status: CampaignStatus) -> CampaignRecord:
    recurring = recurring_campaign(status)
    store.put_campaign(recurring)
    return recurring


def test_the_occurrence_is_written_once_however_often_its_firing_comes(
    campaign_store: CampaignStore,
) -> None:
    # Given a recurring campaign
    recurring = put_recurring(campaign_store, CampaignStatus.SCHEDULED)
    occurrence = occurrence_of(recurring, MONDAY_TEN, MONDAY_TEN)

    # When its occurrence is added twice
    first = campaign_store.add_occurrence(occurrence)
    second = campaign_store.add_occurrence(occurrence)

    # Then the second write does nothing, and the occurrence reads back with its references
    assert (first, second) == (True, False)
    listed = campaign_store.occurrences(recurring.campaign_id)
    assert [o.campaign_id for o in listed] == [occurrence.campaign_id]
    stored = campaign_store.get_campaign(occurrence.campaign_id)
    assert stored is not None
    assert stored.audience_owner("u-1") == recurring.campaign_id
    assert stored.launch_at == MONDAY_TEN


def test_no_occurrence_is_written_once_the_campaign_is_paused(
    campaign_store: CampaignStore,
) -> None:
    recurring = put_recurring(campaign_store, CampaignStatus.PAUSED)
    assert not campaign_store.add_occurrence(occurrence_of(recurring, MONDAY_TEN, MONDAY_TEN))
    assert campaign_store.occurrences(recurring.campaign_id) == []
    assert campaign_store.get_campaign(occurrence_id(recurring.campaign_id, MONDAY_TEN)) is None


def test_occurrences_are_listed_newest_first_up_to_the_limit(
    campaign_store: CampaignStore,
) -> None:
    recurring = put_recurring(campaign_store, CampaignStatus.SCHEDULED)
    for week in range(3):
        campaign_store.add_occurrence(
            occurrence_of(recurring, MONDAY_TEN + timedelta(days=7 * week), MONDAY_TEN)
        )
    listed = campaign_store.occurrences(recurring.campaign_id, limit=2)
    assert [o.launch_at for o in listed] == [
        MONDAY_TEN + timedelta(days=14),
        MONDAY_TEN + timedelta(days=7),
    ]


# ---------------------------------------------------------------- helpers


@dataclass
class ChunkShelf:
    chunks: dict[tuple[str, str, int], bytes]
    reads: list[tuple[str, str, int]] = field(default_factory=list)

    def get_chunk(self, campaign_id: str, upload_id: str, chunk: int) -> bytes | None:
        self.reads.append((campaign_id, upload_id, chunk))
        return self.chunks.get((campaign_id, upload_id, chunk))
