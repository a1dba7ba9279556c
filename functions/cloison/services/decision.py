"""One recipient, one decision: the rules every send and every preview apply, in their order."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cloison.compliance.errors import ComplianceError
from cloison.compliance.message import compose_message
from cloison.compliance.phone import Phone, normalize_phone
from cloison.compliance.window import SendWindowPolicy, next_send_time
from cloison.models.kinds import CampaignKind
from cloison.models.records import AudienceMember, CampaignRecord, MessageStatus, SenderRecord
from cloison.observability import logger


@dataclass(frozen=True)
class Planned:
    """What the rules decided for one recipient of a pass."""

    index: int
    status: MessageStatus
    number_key: str = ""
    text: str = ""
    e164: str = ""
    release_at: datetime | None = None
    phone: Phone | None = None


class SuppressionReader(Protocol):
    def suppressed(self, number_keys: Sequence[str], team: str) -> set[str]:
        """Which of `number_keys` must not receive messages of `team` (a STOP, or the team's)."""
        ...


class ConsentReader(Protocol):
    def consented(
        self, number_keys: Sequence[str], team: str, purpose: str = "marketing"
    ) -> set[str]:
        """Which of `number_keys` gave `team` their consent for `purpose`."""
        ...


def decide_members(
    campaign: CampaignRecord,
    sender: SenderRecord,
    members: Sequence[AudienceMember],
    indexes: Sequence[int],
    *,
    suppressions: SuppressionReader,
    consents: ConsentReader,
    policy: SendWindowPolicy,
    now: datetime,
) -> list[Planned]:
    """Each member decided for the campaign's team, as every send and every preview does: its
    suppressions, and for marketing its consents, are read for that team alone, in one batch."""
    if not members:
        return []
    keys = [member.number_key for member in members]
    suppressed = suppressions.suppressed(keys, campaign.team)
    consented = (
        consents.consented(keys, campaign.team)
        if campaign.kind == CampaignKind.MARKETING
        else set()
    )
    return [
        decide(campaign, sender, member, index, suppressed, consented, policy, now)
        for member, index in zip(members, indexes, strict=True)
    ]


def decide(
    campaign: CampaignRecord,
    sender: SenderRecord,
    member: AudienceMember,
    index: int,
    suppressed: set[str],
    consented: set[str],
    policy: SendWindowPolicy,
    now: datetime,
) -> Planned:
    """STOP first, then consent, then a lawful text, then the recipient's sending window.

    `suppressed` and `consented` hold the number keys that stand so for the campaign's team.
    Only marketing needs a consent. An erased member counts as suppressed: its erasure left only
    its opt-out.
    """
    if member.erased or member.number_key in suppressed:
        return Planned(index, MessageStatus.SUPPRESSED)
    if campaign.kind == CampaignKind.MARKETING and member.number_key not in consented:
        return Planned(index, MessageStatus.NO_CONSENT)
    try:
        phone = normalize_phone(member.e164)
        text = compose_message(
            campaign.body,
            kind=campaign.kind.value,
            sender=sender.sender_id,
            stop_mention=sender.stop_mention,
            variables=member.variables,
        )
        opening = next_send_time(now, phone, policy=policy, departement=member.departement)
    except ComplianceError as exc:
        logger.warning("recipient invalid at send time", extra={"field": exc.field})
        return Planned(index, MessageStatus.INVALID)
    status = MessageStatus.DEFERRED if opening > now else MessageStatus.QUEUED
    return Planned(
        index,
        status,
        member.number_key,
        text=text,
        e164=phone.e164,
        release_at=opening if opening > now else None,
        phone=phone,
    )
