"""Parked recipients are released once, whatever fails or moves around their parking; a
campaign is completed whatever fails after its last pass.

Found by the soak test: a pass parked its Antilles recipients, failed before its checkpoint, and
was taken up again once their window had opened; it then sent them itself, and the release sent
them a second time. And recipients parked while their release came and went (the window opened,
or the campaign was resumed, during the parking; or the release schedule failed after the
parking) were never released.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fakes import NO_CAP, FakeCaps, FakeQueue, FakeSealer, campaign_record, sender_record

from cloison.adapters.tables import CampaignStore
from cloison.models.events import ChunkRef
from cloison.models.kinds import CampaignStatus
from cloison.models.records import AudienceMember, UploadRecord
from cloison.services.audience import seal_chunk
from cloison.services.send_worker import ChunkSender

PARIS = "+33612345678"  # phonenumbers' French example mobile
GUADELOUPE = "+590690001234"  # phonenumbers' Guadeloupe example mobile
# Tuesday 1 December 2026: 08:30 in Paris (open), 03:30 in Guadeloupe (opens at 08:00, 12:00 UTC)
MORNING = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
AFTERNOON = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
CAMPAIGN = "c-0123456789abcdef"


class WorkerKilled(Exception):
    """Stands for the worker dying in the middle of its pass."""


@dataclass
class Carrier:
    dies_on_first_send: bool = False
    sent: list[str] = field(default_factory=list)

    def send(
        self,
        *,
        destination: str,
        body: str,
        origination: str,
        message_type: str,
        context: Mapping[str, str],
    ) -> str:
        if self.dies_on_first_send:
            self.dies_on_first_send = False
            raise WorkerKilled
        self.sent.append(destination)
        return f"m-{len(self.sent)}"


class Everyone:
    """Nobody suppressed, everybody consented."""

    def suppressed(self, number_keys: list[str], team: str) -> set[str]:
        return set()

    def consented(self, number_keys: list[str], team: str) -> set[str]:
        return set(number_keys)


class SchedulerDown(Exception):
    """Stands for EventBridge Scheduler failing."""


@dataclass
class Schedules:
    releases: list[datetime] = field(default_factory=list)
    expiries: list[datetime] = field(default_factory=list)
    fail_next: bool = False

    def release(self, campaign_id: str, team: str, when: datetime) -> str:
        self.fail_if_asked()
        self.releases.append(when)
        return "release"

    def expire(self, campaign_id: str, team: str, when: datetime) -> str:
        self.fail_if_asked()
        self.expiries.append(when)
        return "expire"

    def fail_if_asked(self) -> None:
        if self.fail_next:
            self.fail_next = False
            raise SchedulerDown


def sending_campaign(campaign_store: CampaignStore) -> None:
    campaign_store.put_campaign(
        campaign_record(
            CAMPAIGN,
            body="Soldes d'hiver : -20% sur tout le magasin.",
            status=CampaignStatus.SENDING,
            created_at=MORNING,
            uploads=[UploadRecord(upload_id="u-1", chunks=1, recipients=2)],
        )
    )
    campaign_store.put_sender(
        sender_record(mps=100, price_per_segment=0.075, company="Boutique SARL")
    )
    members = [
        AudienceMember(e164=PARIS, number_key="a" * 64),
        AudienceMember(e164=GUADELOUPE, number_key="b" * 64),
    ]
    sealed = seal_chunk(FakeSealer(), members, "sales", CAMPAIGN)
    campaign_store.stage_chunks(
        CAMPAIGN,
        "u-1",
        [(sealed, len(members))],
        int(AFTERNOON.timestamp()) + 86_400,
        team="sales",
        members=[[member.number_key for member in members]],
    )


def sender(
    campaign_store: CampaignStore,
    carrier: Carrier,
    worker: str,
    queue: FakeQueue | None = None,
    schedules: Schedules | None = None,
) -> ChunkSender:
    return ChunkSender(
        campaigns=campaign_store,
        suppressions=Everyone(),  # type: ignore[arg-type]
        consents=Everyone(),  # type: ignore[arg-type]
        caps=FakeCaps(NO_CAP),  # type: ignore[arg-type]
        sealer=FakeSealer(),
        carrier=carrier,  # type: ignore[arg-type]
        send_queue=queue or FakeQueue(),  # type: ignore[arg-type]
        releases=schedules or Schedules(),  # type: ignore[arg-type]
        origination="36111",
        worker_id=worker,
    )


def test_a_pass_taken_up_after_the_window_opened_leaves_its_parked_recipients_to_the_release(
    campaign_store: CampaignStore,
) -> None:
    # Given a chunk of a Paris recipient (window open) and a Guadeloupe one (not yet)
    sending_campaign(campaign_store)
    carrier = Carrier(dies_on_first_send=True)
    first_pass = ChunkRef(campaign_id=CAMPAIGN, team="sales", upload="u-1", chunk=0)
    # When the first worker parks the Guadeloupe recipient, then dies sending to Paris
    with time_machine.travel(MORNING, tick=False), pytest.raises(WorkerKilled):
        sender(campaign_store, carrier, "worker-1").send(first_pass, lambda: 600_000)
    parked = campaign_store.parked_until(CAMPAIGN, None)
    assert [item["indexes"] for item in parked] == [[1]]
    # And the pass is taken up by another worker once the lease is over and Guadeloupe is open
    queue = FakeQueue()
    with time_machine.travel(AFTERNOON, tick=False):
        sender(campaign_store, carrier, "worker-2", queue).send(first_pass, lambda: 600_000)
    # Then that worker sends nobody: Paris is in doubt, Guadeloupe waits for its release, which
    # it enqueues itself since the window is open (counts compared: a failure prints no number)
    assert len(carrier.sent) == 0
    (release,) = queue.sent
    assert (release.pass_no, release.indexes) == (1, [1])
    assert campaign_store.parked_until(CAMPAIGN, None) == []
    # And the release sends Guadeloupe once
    with time_machine.travel(AFTERNOON, tick=False):
        sender(campaign_store, carrier, "worker-3").send(release, lambda: 600_000)
    assert (len(carrier.sent), carrier.sent.count(GUADELOUPE)) == (1, 1)
    counts = campaign_store.get_counts(CAMPAIGN)
    assert (counts.get("queued"), counts.get("in_doubt"), counts.get("deferred")) == (1, 1, 0)


def test_a_pass_that_failed_before_parking_decides_its_recipients_afresh(
    campaign_store: CampaignStore,
) -> None:
    # Given the same chunk, and a first attempt that dies before it parks anybody
    sending_campaign(campaign_store)
    first_pass = ChunkRef(campaign_id=CAMPAIGN, team="sales", upload="u-1", chunk=0)
    with time_machine.travel(MORNING, tick=False):
        campaign_store.lease(CAMPAIGN, first_pass.key, "worker-1", MORNING, MORNING)
    # When another worker takes it up once Guadeloupe is open
    carrier = Carrier()
    with time_machine.travel(AFTERNOON, tick=False):
        sender(campaign_store, carrier, "worker-2").send(first_pass, lambda: 600_000)
    # Then both are sent, once each, and nothing is parked
    assert (len(carrier.sent), carrier.sent.count(PARIS), carrier.sent.count(GUADELOUPE)) == (
        2,
        1,
        1,
    )
    assert campaign_store.parked_until(CAMPAIGN, None) == []


FIRST_PASS = ChunkRef(campaign_id=CAMPAIGN, team="sales", upload="u-1", chunk=0)
# Guadeloupe's window opens at 08:00 there, 12:00 UTC.
GUADELOUPE_OPENS = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_release_schedule_that_failed_is_made_by_the_retry_of_the_pass(
    campaign_store: CampaignStore,
) -> None:
    # Given a first attempt that parks Guadeloupe, then fails to schedule its release
    sending_campaign(campaign_store)
    schedules = Schedules(fail_next=True)
    with time_machine.travel(MORNING, tick=False), pytest.raises(SchedulerDown):
        sender(campaign_store, Carrier(), "worker-1", schedules=schedules).send(
            FIRST_PASS, lambda: 600_000
        )
    assert len(campaign_store.parked_until(CAMPAIGN, None)) == 1
    # When the pass is tried again by another worker (the parking is not repeated)
    campaign_store.lease(CAMPAIGN, FIRST_PASS.key, "worker-1", MORNING, MORNING)  # its lease ends
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        sender(campaign_store, Carrier(), "worker-2", schedules=schedules).send(
            FIRST_PASS, lambda: 600_000
        )
    # Then the release is scheduled for the opening of Guadeloupe's window
    assert schedules.releases == [GUADELOUPE_OPENS]


def test_recipients_parked_as_their_window_opens_are_released_at_once(
    campaign_store: CampaignStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pass planned before Guadeloupe opens, whose parking ends after it opened (the
    # release at 12:00 UTC may have read the parked passes before this one was written)
    sending_campaign(campaign_store)
    queue, schedules = FakeQueue(), Schedules()
    park = campaign_store.park
    with time_machine.travel(MORNING, tick=False) as clock:

        def slow_park(*args: object, **kwargs: object) -> bool:
            parked = park(*args, **kwargs)  # type: ignore[arg-type]
            clock.move_to(AFTERNOON)
            return parked

        monkeypatch.setattr(campaign_store, "park", slow_park)
        sender(campaign_store, Carrier(), "worker-1", queue, schedules).send(
            FIRST_PASS, lambda: 600_000
        )
    # Then the parked pass goes straight back on the send queue and is no longer parked
    assert [(ref.pass_no, ref.indexes) for ref in queue.sent] == [(1, [1])]
    assert campaign_store.parked_until(CAMPAIGN, None) == []
    assert schedules.releases == []


def test_recipients_parked_while_the_campaign_is_resumed_are_released_at_once(
    campaign_store: CampaignStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a paused campaign whose pass parks everybody, and a resume that happens while it
    # parks (the resume's release may have read the parked passes before this one was written)
    sending_campaign(campaign_store)
    campaign_store.set_status(
        CAMPAIGN, CampaignStatus.PAUSED, allowed_from=(CampaignStatus.SENDING,)
    )
    queue, carrier = FakeQueue(), Carrier()
    park = campaign_store.park

    def resumed_while_parking(*args: object, **kwargs: object) -> bool:
        parked = park(*args, **kwargs)  # type: ignore[arg-type]
        campaign_store.set_status(
            CAMPAIGN, CampaignStatus.SENDING, allowed_from=(CampaignStatus.PAUSED,)
        )
        return parked

    monkeypatch.setattr(campaign_store, "park", resumed_while_parking)
    with time_machine.travel(MORNING, tick=False):
        sender(campaign_store, carrier, "worker-1", queue).send(FIRST_PASS, lambda: 600_000)
    # Then nobody is sent by the paused pass, and its recipients are back on the send queue
    assert carrier.sent == []
    assert [(ref.pass_no, sorted(ref.indexes or [])) for ref in queue.sent] == [(1, [0, 1])]
    assert campaign_store.parked_until(CAMPAIGN, None) == []


def test_recipients_parked_while_the_campaign_stays_paused_wait_for_the_resume(
    campaign_store: CampaignStore,
) -> None:
    sending_campaign(campaign_store)
    campaign_store.set_status(
        CAMPAIGN, CampaignStatus.PAUSED, allowed_from=(CampaignStatus.SENDING,)
    )
    queue = FakeQueue()
    with time_machine.travel(MORNING, tick=False):
        sender(campaign_store, Carrier(), "worker-1", queue).send(FIRST_PASS, lambda: 600_000)
    assert queue.sent == []
    assert [sorted(item["indexes"]) for item in campaign_store.parked_until(CAMPAIGN, None)] == [
        [0, 1]
    ]


def test_a_campaign_whose_completion_failed_is_completed_by_the_next_delivery_of_its_pass(
    campaign_store: CampaignStore,
) -> None:
    # Given a chunk whose pass sends everybody (both windows open), then fails to schedule the
    # campaign's expiry
    sending_campaign(campaign_store)
    schedules, carrier = Schedules(fail_next=True), Carrier()
    with time_machine.travel(AFTERNOON, tick=False), pytest.raises(SchedulerDown):
        sender(campaign_store, carrier, "worker-1", schedules=schedules).send(
            FIRST_PASS, lambda: 600_000
        )
    campaign = campaign_store.get_campaign(CAMPAIGN)
    assert campaign is not None
    assert campaign.status == CampaignStatus.SENDING
    # When the chunk reference comes back (SQS redelivers it), its pass already done
    with time_machine.travel(AFTERNOON, tick=False):
        sender(campaign_store, carrier, "worker-2", schedules=schedules).send(
            FIRST_PASS, lambda: 600_000
        )
    # Then nobody is sent again, and the campaign is completed with its expiry scheduled
    assert len(carrier.sent) == 2
    campaign = campaign_store.get_campaign(CAMPAIGN)
    assert campaign is not None
    assert campaign.status == CampaignStatus.COMPLETED
    assert len(schedules.expiries) == 1
