"""Replies in: STOP honoured first, then matched to a campaign and sealed in the team's compartment."""

from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import GLOBAL_SCOPE, MessageStore, ReplyIndex, SuppressionStore
from cloison.adapters.vault import ReplyVault, encryption_context, reply_object_key
from cloison.compliance import ReplyClass, classify_reply, normalize_phone
from cloison.compliance.errors import InvalidPhoneNumber
from cloison.errors import NotFound
from cloison.models.api import ReplyDetail, ReplySummary
from cloison.models.events import InboundSms
from cloison.models.records import ReplyRecord, SuppressionRecord
from cloison.observability import logger
from cloison.services.access import Caller

QUARANTINE_TEAM = "quarantine"


@dataclass
class ReplyReceiver:
    hasher: NumberHasher
    suppressions: SuppressionStore
    messages: MessageStore
    index: ReplyIndex
    vault: ReplyVault
    carrier: SmsCarrier

    def receive(self, sms: InboundSms) -> ReplyRecord:
        """Handles one reply exactly once, whatever the number of times it is delivered."""
        try:
            e164 = normalize_phone(sms.origination_number, default_region="FR").e164
        except InvalidPhoneNumber:
            e164 = sms.origination_number  # an unusual sender is still a person who may say STOP
        number_key = self.hasher.key(e164)
        reply_class = classify_reply(sms.message_body)
        now = datetime.now(UTC)
        if reply_class.opts_out:
            # Before anything else: the next send to this number, even one already queued, is refused.
            self.suppressions.put(
                SuppressionRecord(
                    number_key=number_key,
                    scope=GLOBAL_SCOPE,
                    reason=reply_class.value,
                    source="sms-reply",
                    evidence=f"inbound {sms.inbound_message_id}",
                    created_at=now,
                    review=reply_class.needs_review,
                )
            )
            self.carrier.opt_out(e164)
        team, campaign_id = self._match(sms, number_key)
        record = self.index.claim(
            ReplyRecord(
                reply_id=sms.inbound_message_id,
                team=team or QUARANTINE_TEAM,
                campaign_id=campaign_id,
                number_key=number_key,
                received_at=now,
                reply_class=reply_class.value,
                sensitive=reply_class == ReplyClass.SENSITIVE,
                object_key=reply_object_key(team, campaign_id, now, sms.inbound_message_id),
            )
        )
        if not record.stored:
            # Same key on every retry, so a second delivery overwrites rather than duplicates.
            self.vault.put(
                record.object_key, sms.message_body, encryption_context(team, campaign_id)
            )
            self.index.mark_stored(record.team, record.reply_id)
        logger.info(
            "reply stored",
            extra={
                "reply": record.reply_id,
                "team": record.team,
                "campaign": record.campaign_id,
                "reply_class": record.reply_class,
            },
        )
        return record

    def _match(self, sms: InboundSms, number_key: str) -> tuple[str | None, str | None]:
        """The campaign answered: by the message id replied to, else the last message to that number."""
        message = None
        if sms.previous_published_message_id:
            message = self.messages.by_carrier_message(sms.previous_published_message_id)
        if message is None:
            message = self.messages.latest_to(number_key)
        if message is None:
            return None, None
        return message.team, message.campaign_id


@dataclass
class ReplyReader:
    index: ReplyIndex
    vault: ReplyVault

    def list(
        self, caller: Caller, *, campaign_id: str | None, reply_class: str | None
    ) -> list[ReplySummary]:
        items: list[ReplySummary] = []
        for team in compartments(caller):
            items += [
                _summary(record)
                for record in self.index.list(
                    team, campaign_id=campaign_id, reply_class=reply_class
                )
            ]
        return sorted(items, key=lambda item: item.received_at, reverse=True)

    def open(self, caller: Caller, reply_id: str) -> ReplyDetail:
        for team in compartments(caller):
            record = self.index.get(team, reply_id)
            if record is not None and record.stored:
                body = self.vault.get(
                    record.object_key, encryption_context(record.team, record.campaign_id)
                )
                logger.info(
                    "reply opened", extra={"reply": reply_id, "team": team, "by": caller.subject}
                )
                return ReplyDetail(**_summary(record).model_dump(), body=body)
        raise NotFound("no such reply")


def compartments(caller: Caller) -> list[str]:
    """The reply compartments a caller reads: their teams', and quarantine for privacy officers."""
    teams = set(caller.teams)
    if "privacy_officer" in caller.roles:
        teams.add(QUARANTINE_TEAM)
    return sorted(teams)


def _summary(record: ReplyRecord) -> ReplySummary:
    return ReplySummary(
        id=record.reply_id,
        team=record.team,
        campaign_id=record.campaign_id,
        received_at=record.received_at,
        reply_class=record.reply_class,
        sensitive=record.sensitive,
    )
