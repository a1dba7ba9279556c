"""One recipient, one decision: the rules every send and every preview apply, in their order."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cloison.adapters.tables import CapHolding
from cloison.compliance.errors import ComplianceError
from cloison.compliance.frequency import FrequencyCap
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
    # A marketing message to send now: the number's frequency cap as read, for the write that
    # counts the send (None when no cap applies).
    cap: CapHolding | None = None


class SuppressionReader(Protocol):
    def suppressed(self, number_keys: Sequence[str], team: str) -> set[str]:
        """Which of `number_keys` must not receive messages of `team` (a STOP, or the team's)."""
        ...


class CapReader(Protocol):
    @property
    def rule(self) -> FrequencyCap:
        """The cap: how many marketing messages to a number in what period."""
        ...

    def holdings(
        self, number_keys: Sequence[str], *, consistent: bool = False
    ) -> Mapping[str, CapHolding]:
        """The cap items of `number_keys` that exist, by number key."""
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
    caps: CapReader,
    policy: SendWindowPolicy,
    now: datetime,
) -> list[Planned]:
    """Each member decided for the campaign's team, as every send and every preview does: its
    suppressions, and for marketing its consents, are read for that team alone, in one batch;
    then, for marketing, the frequency caps of the numbers left, every team's together."""
    if not members:
        return []
    keys = [member.number_key for member in members]
    suppressed = suppressions.suppressed(keys, campaign.team)
    marketing = campaign.kind == CampaignKind.MARKETING
    consented = consents.consented(keys, campaign.team) if marketing else set()
    counted: Counted | None = None
    if marketing and caps.rule.enabled:
        left = [
            member.number_key
            for member in members
            if not member.erased
            and member.number_key in consented
            and member.number_key not in suppressed
        ]
        counted = Counted(caps.rule, caps.holdings(left))
    return [
        decide(campaign, sender, member, index, suppressed, consented, policy, now, counted)
        for member, index in zip(members, indexes, strict=True)
    ]


@dataclass(frozen=True)
class Counted:
    """The frequency cap, and the marketing messages already counted against it by number."""

    rule: FrequencyCap
    holdings: Mapping[str, CapHolding]

    def holding(self, number_key: str) -> CapHolding:
        return self.holdings.get(number_key, CapHolding())


def decide(
    campaign: CampaignRecord,
    sender: SenderRecord,
    member: AudienceMember,
    index: int,
    suppressed: set[str],
    consented: set[str],
    policy: SendWindowPolicy,
    now: datetime,
    counted: Counted | None = None,
) -> Planned:
    """STOP first, then consent, then a lawful text, then the recipient's sending window, then
    the frequency cap (`counted`: marketing only, when the deployment has a cap).

    `suppressed` and `consented` hold the number keys that stand so for the campaign's team.
    Only marketing needs a consent. An erased member counts as suppressed: its erasure left only
    its opt-out. The cap is checked at the instant the message would go, now or at its window's
    opening: a send counted now still counts then.
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
    holding = None
    if counted is not None:
        holding = counted.holding(member.number_key)
        if not counted.rule.allows(holding.times, opening):
            return Planned(index, MessageStatus.CAPPED)
    status = MessageStatus.DEFERRED if opening > now else MessageStatus.QUEUED
    return Planned(
        index,
        status,
        member.number_key,
        text=text,
        e164=phone.e164,
        release_at=opening if opening > now else None,
        phone=phone,
        # A deferred recipient is counted by the pass that sends it, decided again then.
        cap=holding if status == MessageStatus.QUEUED else None,
    )
