"""Dry run of a campaign: what its committed audience would get now, decided as the send path does.

The sealed chunks are opened and checked against suppressions, consents and frequency caps with
the same batched reads as the send path. Above `SAMPLE_CHUNKS` chunks, chunks spread evenly over the
audience are read and the counts extrapolated (the preview then says `estimated`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from cloison.adapters.tables import ConsentStore, FrequencyCaps, SuppressionStore
from cloison.compliance.content import content_warnings
from cloison.compliance.encoding import analyze_text
from cloison.compliance.errors import ComplianceError
from cloison.compliance.phone import Phone
from cloison.compliance.window import SendWindowPolicy, next_send_time, window_close
from cloison.models.api.campaigns import (
    ContentWarningOut,
    Preview,
    PreviewCounts,
    PreviewOrigination,
    SendingEstimate,
)
from cloison.models.records import AudienceMember, CampaignRecord, MessageStatus, SenderRecord
from cloison.services.audience import AudienceWriter
from cloison.services.decision import decide_members
from cloison.services.windows import window_policy

SAMPLE_CHUNKS = 20
# A campaign of 10 million at 1 MPS spans a few hundred windows; this bounds a pathological one.
MAX_PLAN_STEPS = 20_000

Item = TypeVar("Item")


def sample_evenly(items: Sequence[Item], count: int) -> list[Item]:
    """`count` items spread evenly over `items`, the first and last included; all if fewer."""
    if len(items) <= count:
        return list(items)
    if count <= 1:
        return list(items[:count])
    return [items[index * (len(items) - 1) // (count - 1)] for index in range(count)]


@dataclass(frozen=True)
class ZoneGroup:
    """Recipients who share a sending window: same zones, same holidays."""

    phone: Phone
    departement: str | None
    recipients: float


@dataclass(frozen=True)
class SendingPlan:
    sending_seconds: float
    windows: int
    starts_at: datetime | None
    ends_at: datetime | None


def estimate_sending(
    groups: Sequence[ZoneGroup], *, mps: float, policy: SendWindowPolicy, now: datetime
) -> SendingPlan:
    """How a send at `mps` spreads over the groups' sending windows, starting at `now`.

    The sender's rate is shared by the groups whose window is open; a window is a stretch of
    time during which some group with recipients left is open.
    """
    remaining = {index: group.recipients for index, group in enumerate(groups) if group.recipients}
    total = sum(remaining.values())
    if not remaining or mps <= 0:
        return SendingPlan(0.0, 0, None, None)
    instant = now
    windows = 0
    starts_at: datetime | None = None
    last_end: datetime | None = None
    for _ in range(MAX_PLAN_STEPS):
        if not remaining:
            break
        openings = {}
        for index in list(remaining):
            group = groups[index]
            try:
                openings[index] = next_send_time(
                    instant, group.phone, policy=policy, departement=group.departement
                )
            except ComplianceError:
                del remaining[index]  # never sendable: the send path records them invalid
        open_now = [index for index, opening in openings.items() if opening <= instant]
        if not open_now:
            if not openings:
                break
            instant = min(openings.values())
            continue
        if last_end != instant:
            windows += 1
        starts_at = starts_at or instant
        close = min(
            window_close(
                instant, groups[index].phone, policy=policy, departement=groups[index].departement
            )
            for index in open_now
        )
        horizon = min([close, *(opening for opening in openings.values() if opening > instant)])
        capacity = (horizon - instant).total_seconds() * mps
        need = sum(remaining[index] for index in open_now)
        if need <= capacity:
            instant += timedelta(seconds=need / mps)
            for index in open_now:
                del remaining[index]
        else:
            for index in open_now:
                remaining[index] -= remaining[index] * capacity / need
            instant = horizon
        last_end = instant
    return SendingPlan(total / mps, windows, starts_at, instant if starts_at else None)


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    groups: dict[tuple[str, tuple[str, ...], str | None], tuple[Phone, str | None, int]] = field(
        default_factory=dict
    )
    segments: int = 0
    sampled: int = 0


@dataclass
class CampaignPreviewer:
    audiences: AudienceWriter
    suppressions: SuppressionStore
    consents: ConsentStore
    caps: FrequencyCaps

    def preview(
        self, campaign: CampaignRecord, sender: SenderRecord, now: datetime, *, first_text: str
    ) -> Preview:
        """The preview of `campaign`; `first_text` is the first recipient's final text."""
        chunks = [
            (upload.upload_id, number)
            for upload in campaign.uploads
            for number in range(upload.chunks)
        ]
        picked = sample_evenly(chunks, SAMPLE_CHUNKS)
        policy = window_policy(sender.window)
        tally = _Tally()
        for upload_id, number in picked:
            members = self.audiences.read_chunk(campaign, upload_id, number)
            self._count(campaign, sender, members, policy, now, tally)
        scale = campaign.recipient_count / tally.sampled if tally.sampled else 0.0
        scaled = {name: round(value * scale) for name, value in tally.counts.items()}
        deferred = scaled.get("deferred", 0)
        blocked = sum(
            scaled.get(name, 0) for name in ("suppressed", "no_consent", "capped", "invalid")
        )
        valid = max(0, campaign.recipient_count - blocked - deferred)
        sendable = tally.counts["valid"] + tally.counts["deferred"]
        mean_segments = tally.segments / sendable if sendable else 0.0
        plan = estimate_sending(
            [
                ZoneGroup(phone, departement, count * scale)
                for phone, departement, count in tally.groups.values()
            ],
            mps=sender.mps,
            policy=policy,
            now=now,
        )
        analysis = analyze_text(first_text)
        return Preview(
            text=first_text,
            encoding=analysis.encoding,
            segments=analysis.segments,
            non_gsm=list(analysis.non_gsm),
            recipients=campaign.recipient_count,
            estimated=len(picked) < len(chunks),
            counts=PreviewCounts(
                valid=valid,
                deferred=deferred,
                suppressed=scaled.get("suppressed", 0),
                no_consent=scaled.get("no_consent", 0),
                capped=scaled.get("capped", 0),
                invalid=scaled.get("invalid", 0)
                + sum(upload.rejected for upload in campaign.uploads),
            ),
            estimated_cost=round((valid + deferred) * mean_segments * sender.price_per_segment, 4),
            sending=SendingEstimate(
                recipients=valid + deferred,
                mps=sender.mps,
                sending_seconds=round((valid + deferred) / sender.mps, 1),
                windows=plan.windows,
                starts_at=plan.starts_at,
                ends_at=plan.ends_at,
            ),
            origination=PreviewOrigination(
                identity=sender.origination or "shared",
                numbers=sender.numbers,
                receives_replies=sender.receives_replies,
            ),
            warnings=[
                *origination_warnings(sender),
                *(
                    ContentWarningOut(code=warning.code, detail=warning.detail)
                    for warning in content_warnings(
                        first_text, template=campaign.body, kind=campaign.kind.value
                    )
                ),
            ],
        )

    def _count(
        self,
        campaign: CampaignRecord,
        sender: SenderRecord,
        members: Sequence[AudienceMember],
        policy: SendWindowPolicy,
        now: datetime,
        tally: _Tally,
    ) -> None:
        """Decides each member as the send path would, in its order: STOP, consent, text, window,
        frequency cap."""
        plan = decide_members(
            campaign,
            sender,
            members,
            range(len(members)),
            suppressions=self.suppressions,
            consents=self.consents,
            caps=self.caps,
            policy=policy,
            now=now,
        )
        tally.sampled += len(members)
        for member, planned in zip(members, plan, strict=True):
            if planned.phone is None:
                tally.counts[planned.status.value] += 1
                continue
            phone = planned.phone
            tally.counts["deferred" if planned.status == MessageStatus.DEFERRED else "valid"] += 1
            tally.segments += analyze_text(planned.text).segments
            zone = (phone.region, phone.time_zones, member.departement)
            _, _, count = tally.groups.get(zone, (phone, member.departement, 0))
            tally.groups[zone] = (phone, member.departement, count + 1)


def origination_warnings(sender: SenderRecord) -> list[ContentWarningOut]:
    """What the preview says of the identity itself: nobody can answer a sender ID."""
    if sender.receives_replies:
        return []
    return [
        ContentWarningOut(
            code="no-replies",
            detail=(
                "This sender's pool holds sender IDs only: nobody can reply to it, so a STOP "
                "must reach a number the stop mention names."
            ),
        )
    ]
