"""The reply receiver's decisions: STOP first, START only with consent, one answer to HELP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fakes import campaign_record, consent_record, sender_record
from hypothesis import given
from hypothesis import strategies as st

from cloison.compliance.encoding import analyze_text
from cloison.compliance.replies import ReplyClass
from cloison.errors import DependencyError, OutcomeUnknown, RuleViolation, Throttled
from cloison.models.events import InboundSms
from cloison.models.kinds import CampaignStatus
from cloison.models.records import (
    CampaignRecord,
    ConsentRecord,
    KeywordRecord,
    MessageRecord,
    MessageStatus,
    ReplyRecord,
    RouteRecord,
    SenderRecord,
    SuppressionRecord,
)
from cloison.services.inbound import (
    MATCH_ATTEMPTS,
    MessageNotYetKnown,
    ReplyReceiver,
    automatic_answer,
)

PERSON = "+33612345678"  # phonenumbers' French example mobile
OUR_NUMBER = "36111"
# The stack's sending pool, which holds OUR_NUMBER: every answer goes out through it.
POOL = "arn:aws:sms-voice:eu-west-3:123456789012:pool/pool-0123456789abcdef"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SENDER = sender_record(contact="exemple.fr/aide")


class Hasher:
    def key(self, e164: str) -> str:
        return f"h({e164[-2:]})"


KEY = Hasher().key(PERSON)


@dataclass
class Journal:
    """Every side effect, in order, across the fakes."""

    calls: list[str] = field(default_factory=list)


@dataclass
class Suppressions:
    journal: Journal
    items: dict[str, SuppressionRecord] = field(default_factory=dict)

    def put(self, record: SuppressionRecord) -> bool:
        self.journal.calls.append(f"suppress {record.reason}")
        self.items[record.scope] = record
        return True

    def note_opt_in(self, number_key: str, scope: str, **_: Any) -> bool:
        return scope not in self.items

    def get(self, number_key: str) -> dict[str, SuppressionRecord]:
        return dict(self.items)

    def lift(
        self,
        number_key: str,
        scope: str,
        *,
        recorded_with: str,
        evidence: str,
        at: datetime,
        said_at: datetime | None = None,
    ) -> bool:
        standing = self.items.get(scope)
        if standing is None or standing.evidence != recorded_with:
            return False
        self.journal.calls.append("lift")
        del self.items[scope]
        return True


@dataclass
class Messages:
    known: bool = True
    # Messages to the number besides the one replied to: (team, campaign, sent at).
    others: Sequence[tuple[str, str, datetime]] = ()

    def to_number(self, number_key: str) -> list[MessageRecord]:
        sent = [("sales", "c-1", NOW - timedelta(hours=1), "m-1")] if self.known else []
        sent += [(team, campaign, at, f"m-{campaign}") for team, campaign, at in self.others]
        return sorted(
            (
                MessageRecord(
                    campaign_id=campaign,
                    team=team,
                    number_key=number_key,
                    status=MessageStatus.DELIVERED,
                    carrier_message_id=message_id,
                    sent_at=at,
                    updated_at=at,
                )
                for team, campaign, at, message_id in sent
            ),
            key=lambda record: cast(datetime, record.sent_at),
            reverse=True,
        )


@dataclass
class Index:
    journal: Journal
    entries: dict[str, ReplyRecord] = field(default_factory=dict)

    def claim(self, record: ReplyRecord) -> ReplyRecord:
        self.journal.calls.append("claim")
        return self.entries.setdefault(record.reply_id, record)

    def claimed(self, reply_id: str) -> ReplyRecord | None:
        return self.entries.get(reply_id)

    def mark_stored(self, team: str, reply_id: str, *, answered: bool = False) -> None:
        self.journal.calls.append("stored")
        self.entries[reply_id] = self.entries[reply_id].model_copy(
            update={"stored": True, "answered": answered}
        )


@dataclass
class Vault:
    journal: Journal
    objects: dict[str, str] = field(default_factory=dict)
    contexts: dict[str, dict[str, str]] = field(default_factory=dict)
    failing: bool = False

    def put(self, key: str, body: str, context: dict[str, str]) -> None:
        if self.failing:
            raise DependencyError("S3 InternalError")
        self.journal.calls.append("vault")
        self.objects[key] = body
        self.contexts[key] = context


@dataclass
class Carrier:
    journal: Journal
    fail_with: Exception | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)

    def opt_out(self, e164: str) -> None:
        self.journal.calls.append("provider opt-out")

    def opt_in(self, e164: str) -> None:
        self.journal.calls.append("provider opt-in")

    def send(self, **message: Any) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.journal.calls.append("answer")
        self.answers.append(message)
        return "m-answer"


@dataclass
class Consents:
    teams: Sequence[str] = ()
    touched: list[tuple[str, datetime]] = field(default_factory=list)

    def touch(self, number_key: str, at: datetime) -> int:
        self.touched.append((number_key, at))
        return len(self.teams)

    def for_number(self, number_key: str) -> list[ConsentRecord]:
        return [consent_record(number_key, team, given_at=NOW) for team in self.teams]


@dataclass
class Campaigns:
    # A team's own numbers, and the sign-up keywords on our numbers.
    routes: dict[str, RouteRecord] = field(default_factory=dict)
    keywords: dict[tuple[str, str], KeywordRecord] = field(default_factory=dict)

    def get_campaign(self, campaign_id: str) -> CampaignRecord:
        return campaign_record(campaign_id, status=CampaignStatus.COMPLETED, created_at=NOW)

    def get_sender(self, team: str, name: str) -> SenderRecord:
        return SENDER

    def route_of(self, number: str) -> RouteRecord | None:
        return self.routes.get(number)

    def keyword_of(self, number: str, word: str) -> KeywordRecord | None:
        return self.keywords.get((number, word))


@dataclass
class Allowance:
    """A fixed window per number and hour, as the DynamoDB item counts it."""

    per_hour: int = 1000
    admitted: dict[tuple[str, datetime], set[str]] = field(default_factory=dict)
    refused: dict[tuple[str, datetime], int] = field(default_factory=dict)

    def admit(self, number_key: str, reply_id: str, now: datetime) -> bool:
        ids = self.admitted.setdefault((number_key, _hour(now)), set())
        if reply_id in ids or len(ids) < self.per_hour:
            ids.add(reply_id)
            return True
        return False

    def count_refusal(self, number_key: str, now: datetime) -> None:
        window = (number_key, _hour(now))
        self.refused[window] = self.refused.get(window, 0) + 1


def _hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


@dataclass
class World:
    journal: Journal = field(default_factory=Journal)
    consents: Consents = field(default_factory=Consents)
    messages: Messages = field(default_factory=Messages)
    allowance: Allowance = field(default_factory=Allowance)
    campaigns: Campaigns = field(default_factory=Campaigns)
    signup_requests: Any = None

    def __post_init__(self) -> None:
        self.suppressions = Suppressions(self.journal)
        self.index = Index(self.journal)
        self.vault = Vault(self.journal)
        self.carrier = Carrier(self.journal)
        self.receiver = ReplyReceiver(
            hasher=Hasher(),
            suppressions=cast(Any, self.suppressions),
            messages=cast(Any, self.messages),
            index=cast(Any, self.index),
            vault=cast(Any, self.vault),
            carrier=cast(Any, self.carrier),
            consents=cast(Any, self.consents),
            campaigns=cast(Any, self.campaigns),
            allowance=cast(Any, self.allowance),
            answer_from=POOL,
            signup_requests=self.signup_requests,
        )

    def reply(
        self,
        body: str,
        reply_id: str = "in-1",
        attempt: int = MATCH_ATTEMPTS,
        destination: str = OUR_NUMBER,
    ) -> ReplyRecord:
        record = self.maybe_reply(body, reply_id, attempt, destination)
        assert record is not None
        return record

    def maybe_reply(
        self,
        body: str,
        reply_id: str = "in-1",
        attempt: int = MATCH_ATTEMPTS,
        destination: str = OUR_NUMBER,
    ) -> ReplyRecord | None:
        sms = InboundSms.model_validate(
            {
                "originationNumber": PERSON,
                "destinationNumber": destination,
                "messageBody": body,
                "inboundMessageId": reply_id,
                "previousPublishedMessageId": "m-1",
            }
        ).model_copy(update={"said_at": NOW})
        return self.receiver.receive(sms, attempt)


def test_a_stop_is_written_before_anything_else_and_reaches_the_provider() -> None:
    world = World()
    world.reply("Stop svp")
    assert world.journal.calls[:2] == ["suppress OPT_OUT", "provider opt-out"]
    assert world.journal.calls[2:] == ["claim", "vault", "stored"]
    assert world.suppressions.items["all"].evidence == "inbound in-1"


def test_an_ambiguous_opt_out_is_suppressed_and_queued_for_review() -> None:
    world = World()
    record = world.reply("Arrêtez de m'écrire")
    assert record.review == "pending"
    assert world.suppressions.items["all"].review is True


def test_a_reply_to_an_unknown_message_waits_for_its_record_then_goes_to_quarantine() -> None:
    world = World(messages=Messages(known=False))
    for attempt in range(1, MATCH_ATTEMPTS):
        with pytest.raises(MessageNotYetKnown):
            world.reply("STOP", attempt=attempt)
    # The STOP is honoured at the very first delivery, before the wait
    assert world.journal.calls[0] == "suppress OPT_OUT"
    record = world.reply("STOP", attempt=MATCH_ATTEMPTS)
    assert record.team == "quarantine"
    assert record.object_key.startswith("quarantine/")
    # With why: no team messaged the number in the week before
    assert record.quarantined == "no_message"


def test_a_reply_to_a_message_never_recorded_goes_to_the_team_the_window_names() -> None:
    # Given team sales' campaign message yesterday, then Cloison's automatic answer to the
    # person's HELP, which gets no message record but which End User Messaging names as the
    # message replied to
    world = World(
        messages=Messages(known=False, others=[("sales", "c-1", NOW - timedelta(days=1))])
    )
    # When the person replies again, and the message has waited its deliveries
    record = world.reply("Qui êtes-vous ?", attempt=MATCH_ATTEMPTS)
    # Then it is sales', the only team that messaged the number in the week before
    assert (record.team, record.campaign_id, record.quarantined) == ("sales", "c-1", None)


def test_a_team_that_messaged_the_number_after_another_team_s_campaign_captures_no_reply() -> None:
    # Given team sales' campaign message (an hour ago), then team support's transactional
    # message to the same number ten minutes later: End User Messaging names the latest as the
    # message replied to, whichever team sent it
    world = World(messages=Messages(others=[("support", "c-2", NOW - timedelta(minutes=50))]))
    # When the person replies
    record = world.reply("Oui, je suis intéressée par l'offre")
    # Then the reply belongs to neither team: quarantine, for the privacy officer, with why
    assert record.team == "quarantine"
    assert record.quarantined == "several_teams"
    assert record.campaign_id is None
    assert next(iter(world.vault.objects)).startswith("quarantine/")


def test_a_reply_belongs_to_the_only_team_that_messaged_the_number_in_the_window() -> None:
    # Given team sales' message an hour ago, and team support's eight days ago
    world = World(messages=Messages(others=[("support", "c-2", NOW - timedelta(days=8))]))
    # When the person replies to sales' message
    record = world.reply("Oui merci")
    # Then it is sales', on the campaign replied to
    assert (record.team, record.campaign_id, record.quarantined) == ("sales", "c-1", None)


def test_a_reply_to_an_old_message_after_another_team_s_recent_one_is_quarantined() -> None:
    # Given team support's message an hour ago and the message replied to, team sales', 8 days ago
    world = World(
        messages=Messages(known=False, others=[("support", "c-2", NOW - timedelta(hours=1))])
    )
    world.messages.others = [*world.messages.others, ("sales", "1", NOW - timedelta(days=8))]
    sms = InboundSms.model_validate(
        {
            "originationNumber": PERSON,
            "destinationNumber": OUR_NUMBER,
            "messageBody": "C'est pour quoi ?",
            "inboundMessageId": "in-old",
            "previousPublishedMessageId": "m-1",
        }
    ).model_copy(update={"said_at": NOW})
    record = world.receiver.receive(sms, MATCH_ATTEMPTS)
    # Then two teams may claim it: quarantine
    assert record is not None
    assert (record.team, record.quarantined) == ("quarantine", "several_teams")


def test_a_reply_no_team_messaged_for_a_week_is_quarantined_and_its_stop_still_counts() -> None:
    # Given no message to the number in the week before its reply
    world = World(
        messages=Messages(known=False, others=[("sales", "c-9", NOW - timedelta(days=9))])
    )
    # When the person says STOP, to no message End User Messaging knows of
    sms = InboundSms.model_validate(
        {
            "originationNumber": PERSON,
            "destinationNumber": OUR_NUMBER,
            "messageBody": "STOP",
            "inboundMessageId": "in-9",
        }
    ).model_copy(update={"said_at": NOW})
    record = world.receiver.receive(sms, MATCH_ATTEMPTS)
    assert record is not None
    # Then the STOP suppresses the number for every team, and the reply waits in quarantine
    assert world.suppressions.items["all"].reason == "OPT_OUT"
    assert (record.team, record.quarantined) == ("quarantine", "no_message")


@pytest.mark.parametrize(
    ("consenting_teams", "source", "expected", "still_suppressed"),
    [
        (("sales",), "sms-reply", "lifted", False),
        (("support",), "sms-reply", "no_consent", True),
        ((), "sms-reply", "no_consent", True),
        (("sales",), "provider-opt-out-list", "lifted", False),
        (("sales",), "api", "operator_suppression", True),
        (("sales",), "data-subject-erasure", "lifted", False),
        ((), "data-subject-erasure", "no_consent", True),
    ],
)
def test_start_lifts_only_the_persons_own_opt_out_and_only_with_a_consent(
    consenting_teams: tuple[str, ...], source: str, expected: str, still_suppressed: bool
) -> None:
    world = World(consents=Consents(consenting_teams))
    world.suppressions.items["all"] = SuppressionRecord(
        number_key=KEY,
        scope="all",
        reason="OPT_OUT",
        source=source,
        evidence="inbound in-0",
        created_at=NOW,
    )
    record = world.reply("START")
    assert record.resubscription == expected
    assert ("all" in world.suppressions.items) is still_suppressed
    assert ("provider opt-in" in world.journal.calls) is (not still_suppressed)


def test_a_reply_keeps_the_persons_consents_from_its_time_once() -> None:
    # Given a person who consented to team sales
    world = World(consents=Consents(("sales",)))
    # When they reply, and the same reply is delivered again
    record = world.reply("Merci, à samedi")
    world.reply("Merci, à samedi")
    # Then their consents are kept from the reply on (the last contact), touched once
    assert world.consents.touched == [(KEY, record.received_at)]


def test_start_without_an_opt_out_changes_nothing() -> None:
    world = World(consents=Consents(("sales",)))
    assert world.reply("Start").resubscription == "not_suppressed"
    assert "lift" not in world.journal.calls


def test_help_is_answered_through_the_sending_pool_and_once_only() -> None:
    world = World()
    world.reply("AIDE")
    world.reply("AIDE")  # the same message delivered again
    assert len(world.carrier.answers) == 1
    answer = world.carrier.answers[0]
    assert answer["origination"] == POOL
    assert answer["destination"] == PERSON
    assert answer["message_type"] == "TRANSACTIONAL"
    assert "Boutique Exemple" in answer["body"]
    assert world.index.entries["in-1"].answered is True


def test_an_answer_refused_by_the_carrier_keeps_the_reply() -> None:
    world = World()
    world.carrier.fail_with = RuleViolation("destination", "refused")
    record = world.reply("CONTACT")
    assert world.index.entries[record.reply_id].stored is True
    assert world.index.entries[record.reply_id].answered is False


def test_a_throttled_answer_retries_the_whole_reply_and_an_unknown_outcome_does_not() -> None:
    world = World()
    world.carrier.fail_with = Throttled("slow down")
    with pytest.raises(Throttled):
        world.reply("HELP")
    assert world.index.entries["in-1"].stored is False
    world.carrier.fail_with = OutcomeUnknown("no answer")
    world.reply("HELP")
    assert world.index.entries["in-1"].stored is True
    assert world.index.entries["in-1"].answered is True


def test_plain_replies_get_no_automatic_answer() -> None:
    world = World()
    world.reply("Super, je passe samedi !")
    assert world.carrier.answers == []


gsm_safe = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="`[]{}\\^|~"),
    min_size=1,
    max_size=80,
)


@given(
    company=gsm_safe,
    contact=st.none() | gsm_safe.filter(lambda text: len(text) >= 3).map(lambda text: text[:60]),
    reply_class=st.sampled_from([ReplyClass.HELP, ReplyClass.CONTACT]),
)
def test_answers_name_the_sender_and_fit_two_gsm_segments(
    company: str, contact: str | None, reply_class: ReplyClass
) -> None:
    sender = SENDER.model_copy(update={"company": company, "contact": contact})
    text = automatic_answer(reply_class, sender)
    analysis = analyze_text(text)
    assert analysis.encoding == "GSM-7"
    assert analysis.segments <= 2
    assert company in text
    assert sender.stop_mention in text
    if contact:
        assert contact in text


def test_curly_quotes_in_a_company_name_do_not_force_ucs2() -> None:
    sender = SENDER.model_copy(update={"company": "L\u2019Atelier"})
    assert analyze_text(automatic_answer(ReplyClass.HELP, sender)).encoding == "GSM-7"


def test_a_retry_seals_the_body_where_the_first_claim_filed_it() -> None:
    # Given a first delivery filed in quarantine (no record yet at its last try) whose S3 write failed
    world = World(messages=Messages(known=False))
    world.vault.failing = True
    with pytest.raises(DependencyError):
        world.reply("Merci", attempt=MATCH_ATTEMPTS)
    # When a later copy comes once the campaign's record exists
    world.messages.known = True
    world.vault.failing = False
    record = world.reply("Merci", attempt=1)
    # Then the body is sealed under the entry's own compartment and context, once
    assert record.team == "quarantine"
    assert list(world.vault.objects) == [record.object_key]
    assert world.vault.contexts[record.object_key] == {"team": "quarantine", "campaign": "none"}


# ---------------------------------------------------------------- a team's own number

SUPPORT_CODE = "36112"
SUPPORT_POOL = "arn:aws:sms-voice:eu-west-3:123456789012:pool/pool-support"
SUPPORT_ROUTE = RouteRecord(
    number=SUPPORT_CODE, team="support", sender="own", origination=SUPPORT_POOL
)


def test_a_reply_to_a_team_s_own_number_is_that_team_s_though_another_team_messaged_too() -> None:
    # Given team sales' message an hour ago (the one End User Messaging names as replied to)
    # and team support's ten minutes later, from support's own short code
    world = World(
        messages=Messages(others=[("support", "c-2", NOW - timedelta(minutes=10))]),
        campaigns=Campaigns(routes={SUPPORT_CODE: SUPPORT_ROUTE}),
    )
    # When the person writes to support's number
    record = world.reply("Merci, à demain", destination=SUPPORT_CODE)
    # Then the reply is support's, on support's campaign: no quarantine
    assert (record.team, record.campaign_id, record.quarantined) == ("support", "c-2", None)
    # And the same words to the shared number are still two teams' and quarantined
    shared = world.reply("Merci, à demain", reply_id="in-2")
    assert shared.quarantined == "several_teams"


def test_help_to_a_team_s_own_number_is_answered_from_its_pool_even_without_a_campaign() -> None:
    # Given a number support never messaged
    world = World(
        messages=Messages(known=False),
        campaigns=Campaigns(routes={SUPPORT_CODE: SUPPORT_ROUTE}),
    )
    world.messages.others = []
    # When the person asks support's number for help
    record = world.reply("AIDE", destination=SUPPORT_CODE)
    # Then the reply is support's, and the answer leaves from support's pool
    assert (record.team, record.campaign_id) == ("support", None)
    [answer] = world.carrier.answers
    assert answer["origination"] == SUPPORT_POOL


@dataclass
class SignupRequests:
    asked: list[tuple[str, str, str, str]] = field(default_factory=list)

    def request_by_keyword(
        self, team: str, e164: str, word: str, origination: str, now: datetime
    ) -> None:
        self.asked.append((team, e164, word, origination))


@pytest.mark.parametrize(
    ("destination", "claimed_on", "origination"),
    [(SUPPORT_CODE, SUPPORT_CODE, SUPPORT_POOL), (OUR_NUMBER, "shared", POOL)],
    ids=["own-number", "shared-number"],
)
def test_a_team_s_keyword_asks_for_a_sign_up_from_the_number_it_reached_once(
    destination: str, claimed_on: str, origination: str
) -> None:
    # Given support's keyword ALERTES on a number
    keyword = KeywordRecord(number=claimed_on, word="ALERTES", team="support", sender="own")
    requests = SignupRequests()
    world = World(
        campaigns=Campaigns(
            routes={SUPPORT_CODE: SUPPORT_ROUTE}, keywords={(claimed_on, "ALERTES"): keyword}
        ),
        signup_requests=requests,
    )
    # When a person texts it there, twice delivered by SNS
    first = world.reply(" alertes ! ", destination=destination)
    world.reply(" alertes ! ", destination=destination)
    # Then one sign-up is asked for team support, from the pool of the number they wrote to
    assert requests.asked == [("support", PERSON, "ALERTES", origination)]
    assert (first.team, first.campaign_id) == ("support", None)
    # And a longer message is a reply like any other, asking for nothing
    world.reply("alertes pour demain ?", reply_id="in-3", destination=destination)
    assert len(requests.asked) == 1
