"""No one messaged too often: at most N marketing messages to one number in any rolling period,
every team's together, counted when a slice is written down and checked at the instant a
message would go; transactional messages are never counted nor capped.

The rule alone first (hypothesis); then the send path over the template's tables in moto's
in-process DynamoDB: campaigns of two teams over a week, and campaigns racing for a number's
last message of the period.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fakes import (
    NO_CAP,
    WEEKLY_CAP,
    FakeCaps,
    FakeQueue,
    FakeSealer,
    campaign_record,
    consent_record,
    sender_record,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from in_process_aws import create_tables, in_process_aws

from cloison.adapters.tables import (
    CampaignStore,
    CapHolding,
    ConsentStore,
    FrequencyCaps,
)
from cloison.compliance.frequency import FrequencyCap
from cloison.compliance.window import SendWindowPolicy
from cloison.errors import CapRaced, Conflict
from cloison.models.events import ChunkRef
from cloison.models.kinds import CampaignKind, CampaignStatus
from cloison.models.records import AudienceMember, MessageStatus, UploadRecord
from cloison.services.audience import seal_chunk
from cloison.services.decision import Planned, decide_members
from cloison.services.send_worker import ChunkSender
from cloison.services.slices import COUNTED_PER_SLICE, SLICE_SIZE, slices

PARIS = ZoneInfo("Europe/Paris")
# Monday 7 December 2026, 10:00 in Paris: the default window is open, and for the days after.
MONDAY = datetime(2026, 12, 7, 10, tzinfo=PARIS)
LEA, MARC, NOE = "+33751007051", "+33751007052", "+33751007053"  # made-up mobiles


def key_of(e164: str) -> str:
    return hashlib.sha256(e164.encode()).hexdigest()


# ---------------------------------------------------------------- the rule


@settings(max_examples=300, deadline=None)
@given(
    messages=st.integers(min_value=1, max_value=6),
    days=st.integers(min_value=1, max_value=10),
    gaps=st.lists(st.integers(min_value=0, max_value=4 * 86_400), max_size=40),
)
def test_no_rolling_period_ever_holds_more_than_the_cap(
    messages: int, days: int, gaps: list[int]
) -> None:
    # Given a cap of any size and period, and marketing sends tried at any later instants
    cap = FrequencyCap(messages, timedelta(days=days))
    kept: list[int] = []
    sent: list[int] = []
    instant = MONDAY

    # When each is counted only if the cap admits it, with what the item kept
    for gap in gaps:
        instant += timedelta(seconds=gap)
        admitted = cap.admit(kept, instant)
        if admitted is not None:
            kept = admitted
            sent.append(int(instant.timestamp()))

    # Then no period ending at any send holds more than the cap's messages, and the item never
    # keeps more times than that
    period = days * 86_400
    for end in sent:
        assert sum(1 for moment in sent if end - period < moment <= end) <= messages
    assert len(kept) <= messages


@settings(max_examples=200, deadline=None)
@given(gap=st.integers(min_value=0, max_value=30 * 86_400))
def test_a_number_is_sent_again_once_its_oldest_counted_send_is_a_period_old(gap: int) -> None:
    # Given four sends counted on Monday, a minute apart
    counted = [int((MONDAY + timedelta(minutes=n)).timestamp()) for n in range(4)]

    # When a fifth is asked for `gap` seconds after the first
    allowed = WEEKLY_CAP.allows(counted, MONDAY + timedelta(seconds=gap))

    # Then it goes only once the first is more than a week old
    assert allowed == (gap > 7 * 86_400)


def test_no_cap_allows_everything() -> None:
    assert NO_CAP.allows([int(MONDAY.timestamp())] * 50, MONDAY)


@settings(max_examples=150, deadline=None)
@given(
    counted=st.lists(st.integers(min_value=0, max_value=30 * 86_400), max_size=8),
    consented=st.booleans(),
)
def test_a_transactional_message_is_never_capped_and_never_reads_a_cap(
    counted: list[int], consented: bool
) -> None:
    # Given a number with any marketing sends counted against its cap, consented or not
    key = key_of(LEA)
    start = int((MONDAY - timedelta(days=30)).timestamp())
    caps = ReadCounting(FakeCaps(WEEKLY_CAP, {key: tuple(start + t for t in counted)}))

    # When a transactional campaign decides for it
    (planned,) = decide_members(
        campaign_record(kind=CampaignKind.TRANSACTIONAL, body="Votre colis arrive"),
        sender_record("alerts", window="daily"),
        [AudienceMember(e164=LEA, number_key=key)],
        [0],
        suppressions=Nobody(),
        consents=Nobody(consented={key} if consented else set()),
        caps=caps,
        policy=SendWindowPolicy(),
        now=MONDAY,
    )

    # Then it is sent, no cap was read, and nothing will be counted
    assert (planned.status, planned.cap) == (MessageStatus.QUEUED, None)
    assert caps.reads == 0


def test_a_deferred_recipient_is_capped_by_the_sends_that_will_still_count_at_its_opening() -> None:
    # Given a Guadeloupe number (its window opens at 08:00 there, 13:00 in Paris) with four
    # marketing messages counted this morning, and another with four counted eight days ago
    now = MONDAY.replace(hour=9)
    islands = ["+590690001234", "+590690001235"]
    this_morning = int((now - timedelta(hours=1)).timestamp())
    last_week = int((now - timedelta(days=8)).timestamp())
    caps = FakeCaps(
        WEEKLY_CAP,
        {key_of(islands[0]): (this_morning,) * 4, key_of(islands[1]): (last_week,) * 4},
    )

    # When a marketing campaign decides for both before their window opens
    planned = decide_members(
        campaign_record(body="Soldes"),
        sender_record(),
        [AudienceMember(e164=number, number_key=key_of(number)) for number in islands],
        [0, 1],
        suppressions=Nobody(),
        consents=Nobody(consented={key_of(number) for number in islands}),
        caps=caps,
        policy=SendWindowPolicy(),
        now=now,
    )

    # Then the first is capped (this morning's still count at 13:00), the second waits for its
    # opening, uncounted until the pass that sends it
    assert [one.status for one in planned] == [MessageStatus.CAPPED, MessageStatus.DEFERRED]
    assert planned[1].cap is None


# ---------------------------------------------------------------- slices


def queued(count: int, *, counted: bool) -> list[Planned]:
    return [
        Planned(index, MessageStatus.QUEUED, f"k{index}", cap=CapHolding() if counted else None)
        for index in range(count)
    ]


def test_a_slice_counts_at_most_99_sends_so_that_its_transaction_holds_100_items() -> None:
    # A chunk of 500 marketing recipients all to be sent: slices of 99, the last of 5
    assert [len(bound) for bound in slices(queued(500, counted=True))] == [99] * 5 + [5]
    # Transactional recipients count against nothing: slices of 100
    assert [len(bound) for bound in slices(queued(500, counted=False))] == [SLICE_SIZE] * 5
    # Recipients not sent (no consent, say) take a place in a slice but no write
    mixed = queued(100, counted=True)
    mixed[50] = Planned(50, MessageStatus.NO_CONSENT)
    assert [len(bound) for bound in slices(mixed)] == [100]
    assert sum(one.cap is not None for one in mixed) == COUNTED_PER_SLICE
    # An empty plan still has its one (empty) slice: the pass's last checkpoint
    assert slices([]) == [range(0, 0)]


# ---------------------------------------------------------------- the send path


@dataclass
class Carrier:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(
        self,
        *,
        destination: str,
        body: str,
        origination: str,
        message_type: str,
        context: Mapping[str, str],
    ) -> str:
        self.sent.append((destination, context["campaign"]))
        return f"m-{len(self.sent)}"


class Schedules:
    def release(self, campaign_id: str, team: str, when: datetime) -> str:
        return "release"

    def expire(self, campaign_id: str, team: str, when: datetime) -> str:
        return "expire"


class Nobody:
    """Nobody suppressed; consented: those given."""

    def __init__(self, consented: set[str] | None = None) -> None:
        self.consented_keys = consented or set()

    def suppressed(self, number_keys: Sequence[str], team: str) -> set[str]:
        return set()

    def consented(
        self, number_keys: Sequence[str], team: str, purpose: str = "marketing"
    ) -> set[str]:
        return self.consented_keys & set(number_keys)


class ReadCounting:
    """Caps that count their reads."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads = 0

    @property
    def rule(self) -> FrequencyCap:
        return self.inner.rule  # type: ignore[no-any-return]

    def holdings(
        self, number_keys: Sequence[str], *, consistent: bool = False
    ) -> Mapping[str, CapHolding]:
        self.reads += 1
        return self.inner.holdings(number_keys, consistent=consistent)  # type: ignore[no-any-return]


class RacingCaps(FrequencyCaps):
    """Caps whose first read is followed, before anything else, by `meanwhile`: another
    campaign sending between this one's read and its write."""

    meanwhile: Callable[[], None] | None = None

    def holdings(
        self, number_keys: Sequence[str], *, consistent: bool = False
    ) -> dict[str, CapHolding]:
        read = super().holdings(number_keys, consistent=consistent)
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return read


@dataclass
class World:
    """Two teams' campaigns over the template's campaigns, contacts and suppressions tables."""

    campaigns: CampaignStore = field(default_factory=lambda: CampaignStore("campaigns"))
    consents: ConsentStore = field(default_factory=lambda: ConsentStore("contacts", 1095))
    caps: FrequencyCaps = field(default_factory=lambda: FrequencyCaps("contacts", WEEKLY_CAP))
    carrier: Carrier = field(default_factory=Carrier)
    launched: int = 0

    def __post_init__(self) -> None:
        for team in ("sales", "support"):
            self.campaigns.put_sender(sender_record(team=team, mps=100))
            self.campaigns.put_sender(sender_record("alerts", team=team, mps=100))
            for number in (LEA, MARC, NOE):
                self.consents.put(consent_record(key_of(number), team))

    def prepare(
        self, team: str, numbers: Sequence[str], kind: CampaignKind = CampaignKind.MARKETING
    ) -> str:
        """A campaign of `team` sending now to `numbers`, in one chunk."""
        self.launched += 1
        campaign_id = f"c-{self.launched:016x}"
        self.campaigns.put_campaign(
            campaign_record(
                campaign_id,
                team=team,
                sender="promo" if kind == CampaignKind.MARKETING else "alerts",
                kind=kind,
                body="Soldes d'hiver : -20% ce week-end.",
                status=CampaignStatus.SENDING,
                uploads=[UploadRecord(upload_id="u-1", chunks=1, recipients=len(numbers))],
            )
        )
        members = [AudienceMember(e164=number, number_key=key_of(number)) for number in numbers]
        self.campaigns.stage_chunks(
            campaign_id,
            "u-1",
            [(seal_chunk(FakeSealer(), members, team, campaign_id), len(members))],
            int(MONDAY.timestamp()) + 90 * 86_400,
            team=team,
            members=[[member.number_key for member in members]],
        )
        return campaign_id

    def send(self, campaign_id: str, team: str, caps: FrequencyCaps | None = None) -> None:
        sender = ChunkSender(
            campaigns=self.campaigns,
            suppressions=Nobody(),  # type: ignore[arg-type]
            consents=self.consents,
            caps=caps or self.caps,
            sealer=FakeSealer(),
            carrier=self.carrier,  # type: ignore[arg-type]
            send_queue=FakeQueue(),  # type: ignore[arg-type]
            releases=Schedules(),  # type: ignore[arg-type]
            origination="36111",
            worker_id=f"worker-{campaign_id}",
        )
        sender.send(
            ChunkRef(campaign_id=campaign_id, team=team, upload="u-1", chunk=0), lambda: 600_000
        )

    def campaign(
        self,
        team: str,
        numbers: Sequence[str],
        at: datetime,
        kind: CampaignKind = CampaignKind.MARKETING,
    ) -> str:
        """Sends a campaign of `team` to `numbers` at `at`; its id."""
        with time_machine.travel(at, tick=False):
            campaign_id = self.prepare(team, numbers, kind)
            self.send(campaign_id, team)
        return campaign_id

    def counts(self, campaign_id: str) -> dict[str, float]:
        return self.campaigns.get_counts(campaign_id)

    def held(self, number: str) -> CapHolding:
        """The number's cap item (an empty holding when it has none)."""
        return self.caps.get(key_of(number)) or CapHolding()

    def sent_by(self, campaign_id: str) -> list[str]:
        return [number for number, campaign in self.carrier.sent if campaign == campaign_id]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with in_process_aws(monkeypatch):
        create_tables(
            {
                "campaigns": "CampaignsTable",
                "contacts": "ContactsTable",
                "suppressions": "SuppressionsTable",
            }
        )
        yield World()


def test_four_campaigns_in_a_week_pass_and_the_fifth_is_capped_for_that_number_alone(
    world: World,
) -> None:
    # Given Léa sent four marketing campaigns from Monday to Thursday, of two teams
    for day, team in enumerate(("sales", "support", "sales", "support")):
        earlier = world.campaign(team, [LEA], MONDAY + timedelta(days=day))
        assert world.sent_by(earlier) == [LEA]

    # When on Friday team sales sends marketing to Léa and Marc, and a transactional message
    friday = world.campaign("sales", [LEA, MARC], MONDAY + timedelta(days=4))
    told = world.campaign(
        "support", [LEA], MONDAY + timedelta(days=4), kind=CampaignKind.TRANSACTIONAL
    )

    # Then Marc gets the marketing message, Léa does not (capped, counted so), and the
    # transactional message reaches her, counting against nothing
    assert world.sent_by(friday) == [MARC]
    assert (world.counts(friday)["queued"], world.counts(friday)["capped"]) == (1, 1)
    assert world.sent_by(told) == [LEA]
    assert len(world.held(LEA).times) == 4
    # And the capped campaign is completed: `capped` settles a recipient
    record = world.campaigns.get_campaign(friday)
    assert record is not None
    assert record.status == CampaignStatus.COMPLETED

    # When a week after Monday's message has gone by
    later = MONDAY + timedelta(days=7, minutes=1)
    next_monday = world.campaign("support", [LEA], later)

    # Then Léa is sent marketing again, and the item holds the past week's four
    assert world.sent_by(next_monday) == [LEA]
    assert len(world.held(LEA).times) == 4
    # And the item expires when its last send stops counting
    item = world.caps._table.get_item(Key={"pk": f"contact#{key_of(LEA)}", "sk": "frequency"})
    assert int(item["Item"]["expires_at"]) == int(later.timestamp()) + 7 * 86_400


def test_two_campaigns_racing_for_the_last_message_of_the_week_send_it_once(
    world: World,
) -> None:
    # Given Léa had three marketing messages this week: one is left
    for day in range(3):
        world.campaign("sales", [LEA], MONDAY + timedelta(days=day))
    at = MONDAY + timedelta(days=3)
    with time_machine.travel(at, tick=False):
        first = world.prepare("sales", [LEA, NOE])
        second = world.prepare("support", [LEA])
        # When team support's campaign sends to her between the read of sales' campaign and the
        # write that would count its send
        racing = RacingCaps("contacts", WEEKLY_CAP)
        racing.meanwhile = lambda: world.send(second, "support")
        world.send(first, "sales", racing)

    # Then exactly one of them sends to her: the one that counted it first; the other reads her
    # cap again and counts her capped, its other recipient sent all the same
    assert world.sent_by(second) == [LEA]
    assert world.sent_by(first) == [NOE]
    counts = world.campaigns.get_counts(first)
    assert (counts["queued"], counts["capped"]) == (1, 1)
    assert len(world.held(LEA).times) == 4


def test_a_race_the_cap_still_allows_sends_both(world: World) -> None:
    # Given Marc, who had no marketing message yet (no item: both read none)
    with time_machine.travel(MONDAY, tick=False):
        first = world.prepare("sales", [MARC])
        second = world.prepare("support", [MARC])
        racing = RacingCaps("contacts", WEEKLY_CAP)
        racing.meanwhile = lambda: world.send(second, "support")

        # When both send to him at once, the second counting first
        world.send(first, "sales", racing)

    # Then the first reads him again, finds one of four counted, and sends too: both count
    assert world.sent_by(first) == world.sent_by(second) == [MARC]
    held = world.held(MARC)
    assert (len(held.times), held.version) == (2, 2)


def test_a_write_down_names_the_numbers_whose_cap_changed_and_a_lost_lease_stays_a_conflict(
    world: World,
) -> None:
    # Given a pass leased by worker-1, and a cap item of Léa's read before another send
    with time_machine.travel(MONDAY, tick=False):
        world.campaign("support", [LEA], MONDAY)
        campaign_id = world.prepare("sales", [LEA])
        pass_key = ChunkRef(campaign_id=campaign_id, team="sales", upload="u-1", chunk=0).key
        world.campaigns.lease(
            campaign_id, pass_key, "worker-1", MONDAY, MONDAY + timedelta(hours=1)
        )
        stale = CapHolding()
        write = world.caps.reservation(key_of(LEA), stale, MONDAY)

        # When worker-1 writes the slice down with it
        # Then the transaction names Léa's number, and nothing was written
        with pytest.raises(CapRaced) as raced:
            world.campaigns.checkpoint(
                campaign_id,
                pass_key,
                "worker-1",
                next_index=0,
                in_flight=[0],
                reservations={key_of(LEA): write},
            )
        assert raced.value.number_keys == [key_of(LEA)]

        # And when another worker, which lost the lease, tries the same: a plain conflict
        with pytest.raises(Conflict) as lost:
            world.campaigns.checkpoint(
                campaign_id,
                pass_key,
                "worker-2",
                next_index=0,
                in_flight=[0],
                reservations={key_of(LEA): write},
            )
        assert not isinstance(lost.value, CapRaced)
