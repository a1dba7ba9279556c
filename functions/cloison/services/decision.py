"""One recipient, one decision: the rules every send and every preview apply, in their order."""

from dataclasses import dataclass
from datetime import datetime

from cloison.compliance import (
    Phone,
    SendWindowPolicy,
    compose_message,
    next_send_time,
    normalize_phone,
)
from cloison.compliance.errors import ComplianceError
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

    An erased member counts as suppressed: its erasure left only its opt-out.
    """
    if member.erased or member.number_key in suppressed:
        return Planned(index, MessageStatus.SUPPRESSED)
    if member.number_key not in consented:
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
