"""Replies in: STOP honoured first, then matched to a campaign and sealed in the team's compartment.

What the inbox reads (`cloison.services.inbox`) is kept apart: the inbound function imports
none of the API's models.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cloison.adapters.allowance import ReplyAllowance
from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import (
    GLOBAL_SCOPE,
    CampaignStore,
    ConsentStore,
    MessageStore,
    ReplyIndex,
    SuppressionStore,
)
from cloison.adapters.tables.keys import SHARED_NUMBERS
from cloison.adapters.vault import ReplyVault, encryption_context, reply_object_key
from cloison.compliance.encoding import analyze_text
from cloison.compliance.errors import InvalidPhoneNumber
from cloison.compliance.keywords import keyword_of
from cloison.compliance.phone import normalize_phone
from cloison.compliance.replies import ReplyClass, classify_reply
from cloison.errors import (
    DependencyError,
    OutcomeUnknown,
    RuleViolation,
)
from cloison.models.events import InboundSms
from cloison.models.records import (
    PendingSignupRecord,
    ReplyRecord,
    RouteRecord,
    SenderRecord,
    SuppressionRecord,
)
from cloison.observability import logger
from cloison.services.access import QUARANTINE_TEAM
from cloison.services.reply_routes import RouteCache
from cloison.services.signup import SignupRequests
from cloison.services.signup_confirmation import SignupConfirmations

# The opt-out a data-subject erasure leaves (services/subjects.py).
ERASURE_SOURCE = "data-subject-erasure"
# Suppressions the person set themselves (a STOP, the provider's list, their own erasure
# request), which their own START may lift; an operator's may not.
SELF_SERVICE_SOURCES = frozenset({"sms-reply", "provider-opt-out-list", ERASURE_SOURCE})
ANSWERED_CLASSES = (ReplyClass.HELP, ReplyClass.CONTACT)
# Deliveries a reply to an unknown message id waits before quarantine (the queue allows 5).
MATCH_ATTEMPTS = 3
# A reply belongs to a team only if that team alone messaged the number in the week before it:
# teams share the stack's pool, and End User Messaging names as "replied to" the last message
# sent to the person, whichever team sent it. Otherwise the reply goes to quarantine.
REPLY_WINDOW = timedelta(days=7)


class Quarantined(StrEnum):
    """Why a reply went to quarantine, for the privacy officer who reads it there."""

    SEVERAL_TEAMS = "several_teams"  # more than one team messaged the number in the window
    NO_MESSAGE = "no_message"  # no team messaged the number in the window


@dataclass(frozen=True)
class Match:
    team: str | None
    campaign_id: str | None
    quarantined: Quarantined | None = None


class MessageNotYetKnown(DependencyError):
    """The reply answers a message whose record the delivery events have not written yet."""


def automatic_answer(reply_class: ReplyClass, sender: SenderRecord) -> str:
    """The answer to HELP or CONTACT: who writes, how to reach them, how to stop.

    Look-alikes of GSM characters (curly quotes in a company name) are replaced, so that the
    answer stays GSM-7 whenever it can.
    """
    contact = f" Contact : {sender.contact}." if sender.contact else ""
    if reply_class is ReplyClass.CONTACT:
        text = (
            f"Vous échangez avec {sender.company} ({sender.sender_id}).{contact}"
            f" Désinscription : {sender.stop_mention}"
        )
    else:
        text = (
            f"{sender.company} : SMS envoyés par {sender.sender_id}.{contact}"
            f" Désinscription : {sender.stop_mention}"
        )
    return analyze_text(text, smart=True).text


@dataclass
class ReplyReceiver:
    hasher: NumberHasher
    suppressions: SuppressionStore
    messages: MessageStore
    index: ReplyIndex
    vault: ReplyVault
    carrier: SmsCarrier
    consents: ConsentStore
    campaigns: CampaignStore
    allowance: ReplyAllowance
    # What answers go out through: the stack's pool, whose opt-out list every send honours.
    answer_from: str
    # Sign-ups waiting for the person's confirmation by reply (double opt-in).
    signups: SignupConfirmations | None = None
    # Sign-ups asked by texting a team's keyword.
    signup_requests: SignupRequests | None = None

    def __post_init__(self) -> None:
        self.routes = RouteCache(self.campaigns)

    def receive(self, sms: InboundSms, attempt: int = MATCH_ATTEMPTS) -> ReplyRecord | None:
        """Handles one reply exactly once, whatever the number of times it is delivered.

        `attempt` is the delivery's receive count: a reply to a message whose delivery events
        have not been recorded yet (a backlog) waits for them a few deliveries before it is
        quarantined; its STOP is honoured at the first. A reply beyond its number's hourly
        allowance is counted and dropped (None): only its opt-out, if it is one, takes effect.
        """
        try:
            e164 = normalize_phone(sms.origination_number, default_region="FR").e164
        except InvalidPhoneNumber:
            e164 = sms.origination_number  # an unusual sender is still a person who may say STOP
        number_key = self.hasher.key(e164)
        reply_class = classify_reply(sms.message_body)
        now = datetime.now(UTC)
        if reply_class.opts_out:
            # Before anything else: the next send to this number, even one already queued, is refused.
            stands = self.suppressions.put(
                SuppressionRecord(
                    number_key=number_key,
                    scope=GLOBAL_SCOPE,
                    reason=reply_class.value,
                    source="sms-reply",
                    evidence=f"inbound {sms.inbound_message_id}",
                    created_at=now,
                    review=reply_class.needs_review,
                    said_at=sms.said_at,
                )
            )
            if stands:
                self._push_opt_out(e164, number_key, sms.inbound_message_id, now)
            else:
                logger.info(
                    "opt-out said before a START that lifted it",
                    extra={"reply": sms.inbound_message_id},
                )
        if not self._within_allowance(number_key, sms.inbound_message_id, now):
            return None
        # The number the person wrote to: a team's own, or the stack's shared pool's.
        route = self.routes.of(sms.destination_number)
        signups = self.signups
        signup = self._confirmed_signup(number_key, sms, now)
        keyword_team = None
        if reply_class is ReplyClass.REPLY and signup is None:
            keyword_team = self._keyword(sms, e164, route, now)
        if signup is not None:
            # The reply to a sign-up's confirmation is the team's, and no campaign's.
            match = Match(signup.team, None)
        elif keyword_team is not None:
            match = Match(keyword_team, None)
        else:
            match = self._match(sms, number_key, attempt, now, route)
        team, campaign_id = match.team, match.campaign_id
        resubscription = None
        if reply_class is ReplyClass.OPT_IN:
            resubscription = self._resubscribe(e164, number_key, team, sms, now)
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
                review="pending" if reply_class.needs_review else None,
                resubscription=resubscription,
                quarantined=match.quarantined,
            )
        )
        if not record.stored:
            # Same key and context on every retry (the entry's, not this attempt's match): the
            # object is written once, and opens where the index says it belongs.
            self.vault.put(
                record.object_key,
                sms.message_body,
                encryption_context(record.team, record.campaign_id),
            )
            # Answered before the entry is marked stored: a crash in between answers twice
            # rather than never (carriers require an answer to HELP).
            answered = record.answered or self._answer(reply_class, e164, record, route)
            # A reply is the person's contact: their consents are kept from it (3 years).
            self.consents.touch(number_key, now)
            self.index.mark_stored(record.team, record.reply_id, answered=answered)
        if signups is not None and signup is not None:
            # Last: a redelivery after a crash finds the sign-up again and confirms it the same.
            signups.close(signup)
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

    def _keyword(
        self, sms: InboundSms, e164: str, route: RouteRecord | None, now: datetime
    ) -> str | None:
        """The team whose sign-up keyword the whole message is, on the number it reached; its
        confirmation is sent (once: not again when SNS delivers the reply a second time)."""
        word = keyword_of(sms.message_body)
        if word is None or self.signup_requests is None:
            return None
        claim = self.campaigns.keyword_of(route.number if route else SHARED_NUMBERS, word)
        if claim is None:
            return None
        if self.index.claimed(sms.inbound_message_id) is None:
            try:
                origination = route.origination if route else self.answer_from
                self.signup_requests.request_by_keyword(claim.team, e164, word, origination, now)
            except RuleViolation:
                # Not a number a sign-up takes (a region not served, a landline): a reply.
                logger.info("sign-up keyword from a number not taken", extra={"team": claim.team})
        return claim.team

    def _confirmed_signup(
        self, number_key: str, sms: InboundSms, now: datetime
    ) -> PendingSignupRecord | None:
        """The sign-up the reply confirms, its consent recorded at this function's clock (the
        one that timed the request); None if it confirms none: not the keyword, no sign-up
        waiting, or one erased meanwhile. The reply is then an ordinary one."""
        if self.signups is None:
            return None
        signup = self.signups.answered(number_key, sms.message_body, now)
        if signup is None or not self.signups.confirm(signup, sms.inbound_message_id, now):
            return None
        return signup

    def _within_allowance(self, number_key: str, reply_id: str, now: datetime) -> bool:
        """A flood from one number is counted, not stored, matched or answered.

        A reply claimed by an earlier delivery goes on whatever the window says now: a retry
        that crosses into the next hour must not leave a claimed reply unstored.
        """
        if self.allowance.admit(number_key, reply_id, now):
            return True
        if self.index.claimed(reply_id) is not None:
            return True
        self.allowance.count_refusal(number_key, now)
        # Logged after it is counted, with the reply's id only: never the number or the body.
        logger.warning("reply beyond its number's allowance", extra={"reply": reply_id})
        return False

    def _push_opt_out(self, e164: str, number_key: str, reply_id: str, now: datetime) -> None:
        try:
            self.carrier.opt_out(e164)
        except DependencyError:
            # The suppression stands; the scheduled reconciliation pushes it to the list.
            self.suppressions.mark_provider_pending(number_key, e164, now)
            logger.warning("opt-out not on the carrier's list yet", extra={"reply": reply_id})

    def _resubscribe(
        self, e164: str, number_key: str, team: str | None, sms: InboundSms, now: datetime
    ) -> str:
        """START lifts the person's own opt-out, and only when a recorded consent allows it,
        and only an opt-out said before it (by the SNS timestamps, not the processing order)."""
        reply_id = sms.inbound_message_id
        standing = self.suppressions.get(number_key).get(GLOBAL_SCOPE)
        if standing is not None and standing.source not in SELF_SERVICE_SOURCES:
            return "operator_suppression"
        consents = self.consents.for_number(number_key)
        if not any(team is None or consent.team == team for consent in consents):
            return "not_suppressed" if standing is None else "no_consent"
        if standing is None:
            if sms.said_at is not None:
                # A STOP said before this START, still on its way, must not stand when it lands.
                self.suppressions.note_opt_in(
                    number_key,
                    GLOBAL_SCOPE,
                    evidence=f"inbound {reply_id}",
                    said_at=sms.said_at,
                    at=now,
                )
            return "not_suppressed"
        if standing.said_at is not None and (sms.said_at is None or sms.said_at < standing.said_at):
            return "after_a_later_stop"
        lifted = self.suppressions.lift(
            number_key,
            GLOBAL_SCOPE,
            recorded_with=standing.evidence,
            evidence=f"inbound {reply_id}",
            at=now,
            said_at=sms.said_at,
        )
        if not lifted:
            # Another opt-out replaced it meanwhile: it stands, and the provider's list keeps it.
            return "after_a_later_stop"
        self.carrier.opt_in(e164)
        logger.info("opt-out lifted by the person's START", extra={"reply": reply_id})
        return "lifted"

    def _answer(
        self, reply_class: ReplyClass, e164: str, record: ReplyRecord, route: RouteRecord | None
    ) -> bool:
        """Answers HELP and CONTACT with the identity of the sender the person replied to, from
        the number they wrote to: the team's own pool, or the stack's (which holds the shared
        number)."""
        if reply_class not in ANSWERED_CLASSES:
            return False
        sender: SenderRecord | None = None
        if record.campaign_id is not None:
            campaign = self.campaigns.get_campaign(record.campaign_id)
            if campaign is not None:
                sender = self.campaigns.get_sender(campaign.team, campaign.sender)
        elif route is not None:
            sender = self.campaigns.get_sender(route.team, route.sender)
        else:
            return False
        if not sender:
            logger.warning("no sender profile to answer with", extra={"reply": record.reply_id})
            return False
        try:
            self.carrier.send(
                destination=e164,
                body=automatic_answer(reply_class, sender),
                origination=route.origination if route else self.answer_from,
                message_type="TRANSACTIONAL",
                context={"team": record.team, "answer_to": record.reply_id},
            )
        except RuleViolation:
            # The carrier refused it (an opted-out number, for one): the reply is kept all the same.
            logger.warning("automatic answer refused", extra={"reply": record.reply_id})
            return False
        except OutcomeUnknown:
            return True  # perhaps sent: better one answer missing than the same answer twice
        # NotSent, Throttled and other dependency errors propagate: the reply is retried.
        return True

    def _match(
        self,
        sms: InboundSms,
        number_key: str,
        attempt: int,
        now: datetime,
        route: RouteRecord | None = None,
    ) -> Match:
        """The team, and campaign, a reply unambiguously belongs to, or why it has none.

        A reply to a team's own number is that team's: its campaign is the one replied to if it
        is the team's, else the team's latest to the number in the window, else none. On the
        shared number, one team only may have messaged the number in the window before the reply
        (the message replied to included, however old): its campaign is the one replied to,
        else its latest. The id replied to must be known: while its record may still be on its
        way, the reply waits for it rather than be decided without it.
        """
        sent = self.messages.to_number(number_key)
        replied_to = None
        if sms.previous_published_message_id:
            replied_to = next(
                (m for m in sent if m.carrier_message_id == sms.previous_published_message_id),
                None,
            )
            if replied_to is None and attempt < MATCH_ATTEMPTS:
                raise MessageNotYetKnown("the message replied to has no record yet")
            # Still unknown: a message that gets no record (an automatic HELP answer, which
            # End User Messaging then names as the one replied to), or one whose events were
            # lost. The window decides, as for a reply that names no message.
        since = (sms.said_at or now) - REPLY_WINDOW
        recent = [m for m in sent if (m.sent_at or m.updated_at) >= since]
        if route is not None:
            if replied_to is not None and replied_to.team == route.team:
                return Match(route.team, replied_to.campaign_id)
            ours = [m for m in recent if m.team == route.team]
            return Match(route.team, ours[0].campaign_id if ours else None)
        teams = {m.team for m in recent} | ({replied_to.team} if replied_to else set())
        if len(teams) > 1:
            return Match(None, None, Quarantined.SEVERAL_TEAMS)
        if not teams:
            return Match(None, None, Quarantined.NO_MESSAGE)
        team = teams.pop()
        campaign = replied_to.campaign_id if replied_to else recent[0].campaign_id
        return Match(team, campaign)
