"""Campaign previews: counts decided as the send path decides, samples, and the sending timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from fakes import FakeCaps, campaign_record, sender_record

from cloison.compliance.phone import normalize_phone
from cloison.compliance.window import SendWindowPolicy, window_close
from cloison.models.kinds import CampaignKind
from cloison.models.records import AudienceMember, CampaignRecord, UploadRecord
from cloison.services.preview import (
    CampaignPreviewer,
    ZoneGroup,
    estimate_sending,
    sample_evenly,
)

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
POLICY = SendWindowPolicy()
LEA = normalize_phone("+33612345678")
NOUMEA = normalize_phone("+687751234")


def paris(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=PARIS)


# ---------------------------------------------------------------- sampling


@pytest.mark.parametrize(("size", "count"), [(0, 20), (5, 20), (20, 20), (21, 20), (1000, 20)])
def test_a_sample_spreads_evenly_and_starts_with_the_first(size: int, count: int) -> None:
    items = list(range(size))
    picked = sample_evenly(items, count)
    assert len(picked) == min(size, count)
    assert picked == sorted(set(picked))
    if size:
        assert picked[0] == 0
        assert picked[-1] == size - 1


# ---------------------------------------------------------------- windows and timeline


def test_a_window_closes_at_the_end_of_the_opening_now_is_in() -> None:
    assert window_close(TUESDAY_10H, LEA, policy=POLICY) == paris(1, 20)
    assert window_close(paris(1, 21), LEA, policy=POLICY) == paris(1, 21)
    # Saturday closes at 18:00
    assert window_close(paris(5, 11), LEA, policy=POLICY) == paris(5, 18)


def test_a_send_inside_one_window_takes_recipients_over_mps() -> None:
    plan = estimate_sending([ZoneGroup(LEA, None, 1000)], mps=10, policy=POLICY, now=TUESDAY_10H)
    assert plan.sending_seconds == 100
    assert plan.windows == 1
    assert plan.starts_at == TUESDAY_10H
    assert plan.ends_at == paris(1, 10, 1, 40)


def test_a_million_at_ten_per_second_spreads_over_three_days_of_windows() -> None:
    # Given 1,000,000 Paris recipients at 10 MPS from Tuesday 08:00 (100,000 s of sending)
    plan = estimate_sending(
        [ZoneGroup(LEA, None, 1_000_000)], mps=10, policy=POLICY, now=paris(1, 8)
    )

    # Then Tuesday and Wednesday 08:00-20:00 hold 86,400 s, Thursday the remaining 13,600 s
    assert plan.windows == 3
    assert plan.sending_seconds == 100_000
    assert plan.ends_at == paris(3, 11, 46, 40)


def test_a_send_asked_outside_the_window_starts_at_its_opening() -> None:
    plan = estimate_sending([ZoneGroup(LEA, None, 600)], mps=10, policy=POLICY, now=paris(1, 21))
    assert plan.starts_at == paris(2, 8)
    assert plan.ends_at == paris(2, 8, 1)
    assert plan.windows == 1


def test_recipients_in_another_zone_are_sent_in_their_own_window() -> None:
    # Given Paris recipients (open at 10:00) and Nouméa ones (20:00 there, closed until 08:00)
    plan = estimate_sending(
        [ZoneGroup(LEA, None, 100), ZoneGroup(NOUMEA, None, 100)],
        mps=10,
        policy=POLICY,
        now=TUESDAY_10H,
    )

    # Then Paris goes first, Nouméa at its opening (22:00 in Paris): two windows
    assert plan.windows == 2
    assert plan.ends_at == paris(1, 22, 0, 10)


def test_nothing_to_send_is_no_window() -> None:
    plan = estimate_sending([], mps=10, policy=POLICY, now=TUESDAY_10H)
    assert (plan.sending_seconds, plan.windows, plan.starts_at, plan.ends_at) == (0, 0, None, None)


# ---------------------------------------------------------------- counts


@dataclass
class FakeAudiences:
    chunks: dict[tuple[str, int], list[AudienceMember]]
    reads: list[tuple[str, int]] = field(default_factory=list)

    def read_chunk(
        self, campaign: CampaignRecord, upload_id: str, chunk: int
    ) -> list[AudienceMember]:
        self.reads.append((upload_id, chunk))
        return self.chunks[(upload_id, chunk)]


@dataclass
class FakeSuppressions:
    keys: set[str]
    calls: int = 0

    def suppressed(self, number_keys: Sequence[str], team: str) -> set[str]:
        self.calls += 1
        return self.keys & set(number_keys)


@dataclass
class FakeConsents:
    keys: set[str]

    def consented(
        self, number_keys: Sequence[str], team: str, purpose: str = "marketing"
    ) -> set[str]:
        return self.keys & set(number_keys)


def member(number: str, name: str = "Léa", departement: str | None = None) -> AudienceMember:
    return AudienceMember(
        e164=normalize_phone(number).e164,
        number_key=f"key-{number}",
        variables={"first_name": name},
        departement=departement,
    )


def campaign(
    uploads: list[UploadRecord], kind: CampaignKind = CampaignKind.MARKETING
) -> CampaignRecord:
    return campaign_record(
        kind=kind, body="Bonjour {first_name}", created_at=TUESDAY_10H, uploads=uploads
    )


SENDER = sender_record(sender_id="36111", price_per_segment=0.05, company="Boutique")


def previewer(
    chunks: dict[tuple[str, int], list[AudienceMember]],
    suppressed: set[str],
    consented: set[str],
    counted: Mapping[str, tuple[int, ...]] | None = None,
) -> tuple[CampaignPreviewer, FakeAudiences]:
    audiences = FakeAudiences(chunks)
    return (
        CampaignPreviewer(
            audiences=cast(Any, audiences),
            suppressions=cast(Any, FakeSuppressions(suppressed)),
            consents=cast(Any, FakeConsents(consented)),
            caps=cast(Any, FakeCaps(counted=dict(counted or {}))),
        ),
        audiences,
    )


def test_each_recipient_is_counted_once_as_the_send_path_would_decide() -> None:
    # Given six recipients: sendable, suppressed (and consented), without consent, in Nouméa,
    # one whose variable holds a line break, and one that had four marketing messages in the past
    # week (of any team); the upload also refused two rows
    members = [
        member("+33612345601"),
        member("+33612345602"),
        member("+33612345603"),
        member("+687751234"),
        member("+33612345605", name="a\nb"),
        member("+33612345606"),
    ]
    keys = {one.number_key for one in members}
    this_week = int(TUESDAY_10H.timestamp()) - 86_400
    service, _ = previewer(
        {("u-1", 0): members},
        suppressed={"key-+33612345602"},
        consented=keys - {"key-+33612345603"},
        counted={"key-+33612345606": (this_week,) * 4},
    )
    record = campaign([UploadRecord(upload_id="u-1", chunks=1, recipients=6, rejected=2)])

    # When it is previewed on a Tuesday at 10:00 in Paris
    preview = service.preview(record, SENDER, TUESDAY_10H, first_text="Bonjour Léa\nSTOP au 36111")

    # Then each lands in one count, exactly
    assert preview.estimated is False
    assert preview.counts.model_dump() == {
        "valid": 1,
        "deferred": 1,
        "suppressed": 1,
        "no_consent": 1,
        "capped": 1,
        "invalid": 3,
    }
    assert preview.sending.recipients == 2
    assert preview.sending.windows == 2
    assert preview.estimated_cost == round(2 * 1 * 0.05, 4)
    assert preview.warnings[0].code == "missing-stop"


def test_above_twenty_chunks_twenty_are_read_and_the_counts_extrapolated() -> None:
    # Given 40 chunks of 2 recipients, the second of each suppressed
    chunks = {
        ("u-1", number): [member(f"+336123{number:03d}01"), member(f"+336123{number:03d}02")]
        for number in range(40)
    }
    suppressed = {one.number_key for pair in chunks.values() for one in pair[1:]}
    consented = {one.number_key for pair in chunks.values() for one in pair}
    service, audiences = previewer(chunks, suppressed, consented)
    record = campaign([UploadRecord(upload_id="u-1", chunks=40, recipients=80)])

    # When it is previewed
    preview = service.preview(record, SENDER, TUESDAY_10H, first_text="Bonjour Léa")

    # Then 20 chunks spread over the audience were read, and the counts are scaled to 80
    assert len(audiences.reads) == 20
    assert audiences.reads[0] == ("u-1", 0)
    assert audiences.reads[-1] == ("u-1", 39)
    assert preview.estimated is True
    assert preview.counts.suppressed == 40
    assert preview.counts.valid == 40


def test_a_transactional_campaign_needs_no_consent() -> None:
    service, _ = previewer(
        {("u-1", 0): [member("+33612345601")]}, suppressed=set(), consented=set()
    )
    record = campaign(
        [UploadRecord(upload_id="u-1", chunks=1, recipients=1)], kind=CampaignKind.TRANSACTIONAL
    )
    preview = service.preview(record, SENDER, TUESDAY_10H, first_text="Bonjour Léa")
    assert preview.counts.valid == 1
    assert preview.counts.no_consent == 0


def test_an_empty_campaign_previews_its_template() -> None:
    service, audiences = previewer({}, set(), set())
    preview = service.preview(campaign([]), SENDER, TUESDAY_10H, first_text="Bonjour {first_name}")
    assert audiences.reads == []
    assert preview.recipients == 0
    assert preview.sending.windows == 0
    assert preview.estimated_cost == 0


def test_the_timeline_is_relative_to_now() -> None:
    later = TUESDAY_10H + timedelta(hours=11)  # 21:00, closed
    plan = estimate_sending([ZoneGroup(LEA, None, 10)], mps=10, policy=POLICY, now=later)
    assert plan.starts_at == paris(2, 8)
