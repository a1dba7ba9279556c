"""Sign-up by double opt-in: the request's rules and limits, the confirmation by reply."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv6Address, ip_network
from typing import Any, cast

import pytest
from fakes import FakeSealer, notice_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from in_process_aws import create_tables, in_process_aws
from sam_template import template
from test_inbound import KEY, NOW, World

from cloison.adapters.tables import CampaignStore, ConsentStore, SuppressionStore
from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.compliance.masking import mask_address
from cloison.compliance.signup import (
    DEFAULT_LIMITS,
    DEFAULT_REGIONS,
    Refusal,
    RequestLimits,
    RollingLimit,
    allowed_regions,
    confirmation_code,
    confirmation_text,
    free_code,
    is_confirmation,
    number_prefix,
)
from cloison.config import ApiSettings
from cloison.errors import DependencyError, NotFound, RuleViolation
from cloison.models.api.signup import SignupIn
from cloison.models.records import (
    ConsentRecord,
    NoticeRecord,
    PendingSignupRecord,
    SuppressionRecord,
)
from cloison.services.access import Caller
from cloison.services.notices import notice_hash, wordings
from cloison.services.signup import SignupRequests
from cloison.services.signup_confirmation import SignupConfirmations
from cloison.services.signup_page import SignupTally, signup_page
from cloison_local.expand import function_properties

TEAM = "sales"
OTHER_TEAM = "support"
POOL = "arn:aws:sms-voice:eu-west-3:123456789012:pool/pool-0123456789abcdef"
# Fictional mobiles next to phonenumbers' French example, and one of Réunion.
NUMBER = "+33612345678"
OTHER = "+33698765432"
REUNION = "+262692123456"
PAGE = "https://exemple.fr/inscription"
ADDRESS = "203.0.113.7"
TEXTS = wordings(notice_in(english=True))
HASH = notice_hash(TEXTS)


class Hasher:
    def key(self, e164: str) -> str:
        return f"h:{e164}"


@dataclass
class Carrier:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, **message: Any) -> str:
        self.sent.append(message)
        return f"m-{len(self.sent)}"


@dataclass
class Desk:
    """The sign-up service over the template's tables in moto, with a recording carrier."""

    service: SignupRequests
    carrier: Carrier
    consents: ConsentStore
    suppressions: SuppressionStore
    pending: PendingSignups

    def ask(
        self,
        phone: str = NUMBER,
        address: str = ADDRESS,
        at: datetime = NOW,
        team: str = TEAM,
        **body: str,
    ) -> Refusal | None:
        request = SignupIn.model_validate({"phone": phone, "notice": HASH, "page": PAGE} | body)
        return self.service.request(team, request, address, at)


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with in_process_aws(monkeypatch):
        create_tables(
            {
                "campaigns": "CampaignsTable",
                "contacts": "ContactsTable",
                "suppressions": "SuppressionsTable",
            }
        )
        yield _desk(budget=500)


def _desk(budget: int, limits: RequestLimits = DEFAULT_LIMITS) -> Desk:
    campaigns = CampaignStore("campaigns")
    for team in (TEAM, OTHER_TEAM):
        campaigns.add_notice(
            NoticeRecord(
                team=team, version=1, hash=HASH, texts=TEXTS, created_at=NOW, created_by="ada"
            )
        )
    consents = ConsentStore("contacts", 1095)
    suppressions = SuppressionStore("suppressions", FakeSealer())
    pending = PendingSignups("contacts")
    carrier = Carrier()
    service = SignupRequests(
        hasher=Hasher(),
        notices=campaigns,
        consents=consents,
        suppressions=suppressions,
        pending=pending,
        limits=SignupLimits("contacts", budget),
        carrier=cast(Any, carrier),
        origination=POOL,
        confirmation_hours=24,
        regions=frozenset(DEFAULT_REGIONS),
        request_limits=limits,
    )
    return Desk(service, carrier, consents, suppressions, pending)


# ---------------------------------------------------------------- the rules, pure


@pytest.mark.parametrize("text", ["OUI", "oui", "Oui !", " oui. ", "YES", "yes!"])
def test_the_keyword_confirms_however_it_is_written(text: str) -> None:
    assert is_confirmation(text)


@pytest.mark.parametrize("text", ["oui merci", "non", "STOP", "ouiii", "", "inscription"])
def test_nothing_else_confirms(text: str) -> None:
    assert not is_confirmation(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("OUI", 1),
        ("Oui !", 1),
        ("oui 1", 1),
        ("OUI 2", 2),
        ("oui2", 2),
        ("Oui-3 !", 3),
        ("yes 12.", 12),
        ("oui merci", None),
        ("oui 0", None),
        ("oui 2 3", None),
        ("2", None),
        ("oui 123", None),
    ],
)
def test_a_confirmation_may_carry_the_code_its_sms_asked_for(text: str, code: int | None) -> None:
    assert confirmation_code(text) == code


def test_a_new_sign_up_asks_for_the_first_code_no_other_waiting_one_asks_for() -> None:
    assert free_code([]) == 1
    assert free_code([1]) == 2
    assert free_code([2, 1]) == 3
    assert free_code([2]) == 1
    assert free_code([1, 3]) == 2
    assert "répondez OUI 2." in confirmation_text("fr", "Boutique", "STOP au 36111", 24, 2)
    assert "reply YES 3." in confirmation_text("en", "Shop", "Reply STOP to 36111", 24, 3)


def test_the_confirmation_names_the_organisation_the_keyword_the_delay_and_how_to_stop() -> None:
    text = confirmation_text("fr", "Boutique Exemple", "STOP au 36111", 24)
    assert text.startswith("Boutique Exemple : ")
    assert "répondez OUI" in text
    assert "24 h" in text
    assert text.endswith("STOP au 36111")
    assert "reply YES" in confirmation_text("en", "Shop", "Reply STOP to 36111", 24)


def test_a_prefix_is_the_block_of_a_number_not_the_number() -> None:
    assert number_prefix("+33751005001") == "+337510"
    assert allowed_regions(" fr, GP ,,re") == {"FR", "GP", "RE"}


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("::ffff:203.0.113.7", "203.0.113.0/24"),
        (" 198.51.100.200 ", "198.51.100.0/24"),
        ("not an address", "***"),
        ("", "***"),
    ],
)
def test_an_address_is_masked_down_to_its_network(address: str, network: str) -> None:
    assert mask_address(address) == network


@settings(max_examples=200, deadline=None)
@given(address=st.ip_addresses())
def test_a_masked_address_keeps_its_network_and_nothing_of_its_host(
    address: IPv4Address | IPv6Address,
) -> None:
    # A network with no host bits set (strict), that holds the address
    masked = ip_network(mask_address(str(address)), strict=True)
    host = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    assert (host or address) in masked
    assert masked.prefixlen == (24 if masked.version == 4 else 48)


def test_a_limit_needs_a_request_and_a_window() -> None:
    with pytest.raises(ValueError, match="at least one request"):
        RollingLimit(0, timedelta(hours=1))
    with pytest.raises(ValueError, match="positive window"):
        RollingLimit(1, timedelta(0))


@settings(max_examples=300, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=8),
    window_minutes=st.integers(min_value=1, max_value=180),
    gaps=st.lists(st.integers(min_value=0, max_value=90), max_size=40),
)
def test_a_rolling_limit_admits_exactly_what_fits_in_any_window(
    limit: int, window_minutes: int, gaps: list[int]
) -> None:
    # Given any sequence of requests, minutes apart, against a limit kept as its item keeps it
    rule = RollingLimit(limit, timedelta(minutes=window_minutes))
    kept: list[datetime] = []
    admitted: list[datetime] = []
    moment = NOW
    for gap in gaps:
        moment += timedelta(minutes=gap)
        # When each request comes
        answer = rule.admit(kept, moment)
        # Then it is admitted exactly when fewer than `limit` were admitted in the window
        earlier = [t for t in admitted if moment - rule.window < t <= moment]
        assert (answer is not None) == (len(earlier) < limit)
        if answer is not None:
            admitted.append(moment)
            kept = answer
        # And the item never holds more than the limit allows
        assert len(kept) <= limit


# ---------------------------------------------------------------- the request


def test_a_request_sends_one_confirmation_and_records_no_consent(desk: Desk) -> None:
    # When a person asks for a sign-up in English
    refusal = desk.ask(language="en")

    # Then one SMS goes out through the pool, naming the organisation and asking for YES
    assert refusal is None
    [sms] = desk.carrier.sent
    assert sms["destination"] == NUMBER
    assert sms["origination"] == POOL
    assert sms["message_type"] == "TRANSACTIONAL"
    assert sms["context"] == {"team": TEAM, "signup": "confirmation"}
    assert TEXTS["en"].organisation in sms["body"]
    assert "reply YES" in sms["body"]
    # And the sign-up waits, by the number's hash only, with its proof; no consent exists
    [waiting] = desk.pending.waiting(Hasher().key(NUMBER), NOW)
    assert (waiting.team, waiting.notice, waiting.page) == (TEAM, HASH, PAGE)
    assert (waiting.source_address, waiting.language) == (ADDRESS, "en")
    assert waiting.expires_at == NOW + timedelta(hours=24)
    assert desk.consents.for_number(Hasher().key(NUMBER)) == []


def test_a_number_waiting_for_another_team_is_asked_for_a_reply_of_its_own(desk: Desk) -> None:
    # Given a number whose sign-up to team sales waits for OUI
    assert desk.ask() is None
    # When it is signed up to team support too, from another page
    assert desk.ask(team=OTHER_TEAM, address="198.51.100.1") is None

    # Then support's SMS asks for OUI 2: both come from the pool, the reply must tell them apart
    first, second = desk.carrier.sent
    assert "répondez OUI." in first["body"]
    assert "répondez OUI 2." in second["body"]
    waiting = desk.pending.waiting(Hasher().key(NUMBER), NOW)
    assert {(signup.team, signup.code) for signup in waiting} == {(TEAM, 1), (OTHER_TEAM, 2)}

    # And a new request to team sales replaces its own sign-up and still asks for OUI
    assert desk.ask(address="198.51.100.2", at=NOW + timedelta(minutes=5)) is None
    assert "répondez OUI." in desk.carrier.sent[-1]["body"]
    waiting = desk.pending.waiting(Hasher().key(NUMBER), NOW + timedelta(minutes=5))
    assert {(signup.team, signup.code) for signup in waiting} == {(TEAM, 1), (OTHER_TEAM, 2)}


def test_a_waiting_sign_up_past_its_expiry_is_not_found(desk: Desk) -> None:
    desk.ask()
    assert desk.pending.waiting(Hasher().key(NUMBER), NOW + timedelta(hours=25)) == []


def test_an_overseas_mobile_is_taken_and_french_is_the_default(desk: Desk) -> None:
    assert desk.ask(phone="0692 12 34 56") is None
    assert desk.carrier.sent[0]["destination"] == REUNION
    assert "répondez OUI" in desk.carrier.sent[0]["body"]


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("06 12", "is too short"),
        ("+44 7400 123456", "not taken here"),
        ("01 23 45 67 89", "not a mobile"),
    ],
)
def test_a_number_badly_written_or_not_served_is_a_422_naming_phone(
    desk: Desk, phone: str, reason: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        desk.ask(phone=phone)
    assert refused.value.field == "phone"
    assert reason in refused.value.reason
    assert desk.carrier.sent == []


def test_an_unknown_team_or_a_stale_notice_sends_nothing(desk: Desk) -> None:
    request = SignupIn.model_validate({"phone": NUMBER, "notice": HASH, "page": PAGE})
    assert desk.service.request("ghost", request, ADDRESS, NOW) is Refusal.UNKNOWN_TEAM
    assert desk.ask(notice="0" * 64) is Refusal.STALE_NOTICE
    assert desk.carrier.sent == []


def test_a_suppressed_or_already_confirmed_number_is_sent_nothing(desk: Desk) -> None:
    # Given a number that said STOP and another that consented to the team
    desk.suppressions.put(
        SuppressionRecord(
            number_key=Hasher().key(NUMBER),
            scope="all",
            reason="OPT_OUT",
            source="sms-reply",
            evidence="inbound in-1",
            created_at=NOW,
        )
    )
    desk.consents.put(
        ConsentRecord(
            number_key=Hasher().key(OTHER),
            team=TEAM,
            purpose="marketing",
            source="magasin",
            proof="Oui",
            given_at=NOW,
            recorded_by="alice",
        )
    )
    # When both are signed up again, Then neither is sent anything
    assert desk.ask(phone=NUMBER) is Refusal.SUPPRESSED
    assert desk.ask(phone=OTHER) is Refusal.CONFIRMED
    assert desk.carrier.sent == []


def test_one_address_is_limited_and_its_flood_leaves_other_addresses_their_own(
    desk: Desk,
) -> None:
    # When one address asks for more numbers than it may within the hour
    answers = [
        desk.ask(phone=f"+336120000{n:02d}", at=NOW + timedelta(minutes=n)) for n in range(8)
    ]

    # Then only the first ones are sent, and another address still gets through
    assert answers.count(None) == DEFAULT_LIMITS.address.limit == 5
    assert set(answers[DEFAULT_LIMITS.address.limit :]) == {Refusal.ADDRESS_LIMIT}
    assert desk.ask(phone=OTHER, address="198.51.100.1", at=NOW + timedelta(minutes=9)) is None
    # And an hour after its first requests the address may ask again
    assert desk.ask(phone="+33612000099", at=NOW + timedelta(minutes=61)) is None


def test_one_number_is_asked_for_three_times_a_day_at_most(desk: Desk) -> None:
    answers = [desk.ask(address=f"198.51.100.{n}", at=NOW + timedelta(hours=n)) for n in range(5)]
    assert answers.count(None) == DEFAULT_LIMITS.number.limit == 3
    assert answers[-1] is Refusal.NUMBER_LIMIT
    assert len(desk.carrier.sent) == DEFAULT_LIMITS.number.limit


def test_one_block_of_numbers_is_limited_whatever_the_addresses(desk: Desk) -> None:
    answers = [
        desk.ask(phone=f"+336123400{n:02d}", address=f"198.51.100.{n}", at=NOW) for n in range(15)
    ]
    assert answers.count(None) == DEFAULT_LIMITS.prefix.limit == 10
    assert set(answers[DEFAULT_LIMITS.prefix.limit :]) == {Refusal.PREFIX_LIMIT}


def test_the_limits_are_the_deployment_s(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment that allows 2 requests an hour per address, 1 a day per number and
    # 3 an hour per block
    with in_process_aws(monkeypatch):
        create_tables(
            {
                "campaigns": "CampaignsTable",
                "contacts": "ContactsTable",
                "suppressions": "SuppressionsTable",
            }
        )
        desk = _desk(500, RequestLimits.allowing(address=2, number=1, prefix=3))
        # When one address asks for three numbers, Then the third is refused
        by_address = [desk.ask(phone=f"+3375100950{n + 1}") for n in range(3)]
        assert by_address == [None, None, Refusal.ADDRESS_LIMIT]
        # When a number is asked for again from elsewhere, Then it is refused
        assert desk.ask(phone="+33751009501", address="198.51.100.1") is Refusal.NUMBER_LIMIT
        # When the block is asked for a third and a fourth number, Then the fourth is refused
        assert desk.ask(phone="+33751009505", address="198.51.100.2") is None
        assert desk.ask(phone="+33751009506", address="198.51.100.3") is Refusal.PREFIX_LIMIT
        assert len(desk.carrier.sent) == 3


@pytest.mark.parametrize(
    ("parameter", "variable", "default"),
    [
        ("SignupAddressLimit", "SIGNUP_ADDRESS_LIMIT", DEFAULT_LIMITS.address.limit),
        ("SignupNumberLimit", "SIGNUP_NUMBER_LIMIT", DEFAULT_LIMITS.number.limit),
        ("SignupPrefixLimit", "SIGNUP_PREFIX_LIMIT", DEFAULT_LIMITS.prefix.limit),
    ],
)
def test_each_limit_is_a_stack_parameter_with_the_settings_bounds(
    parameter: str, variable: str, default: int
) -> None:
    # Given the template's parameter and the API's setting it becomes
    declared = template()["Parameters"][parameter]
    [setting] = [f for f in ApiSettings.model_fields.values() if f.alias == variable]
    bounds = {type(item).__name__: item for item in setting.metadata}

    # Then its default is the code's, its bounds the setting's, and the API is given it
    assert (declared["Type"], declared["Default"]) == ("Number", default)
    assert declared["MinValue"] == bounds["Ge"].ge == 1
    assert declared["MaxValue"] == bounds["Le"].le
    environment = function_properties("ApiFunction")["Environment"]["Variables"]
    assert environment[variable] == {"Ref": parameter}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(budget=st.integers(min_value=1, max_value=6), requests=st.integers(min_value=0, max_value=9))
def test_a_team_s_budget_holds_for_the_day_and_renews_the_next(
    monkeypatch: pytest.MonkeyPatch, budget: int, requests: int
) -> None:
    with in_process_aws(monkeypatch):
        create_tables(
            {
                "campaigns": "CampaignsTable",
                "contacts": "ContactsTable",
                "suppressions": "SuppressionsTable",
            }
        )
        desk = _desk(budget)
        # When requests for distinct numbers, from distinct addresses and blocks, come in a day
        answers = [
            desk.ask(phone=f"+336{n}{n}000001", address=f"198.51.100.{n}", at=NOW)
            for n in range(requests)
        ]
        # Then the budget's worth are sent, and the others refused for the budget
        assert answers.count(None) == min(budget, requests) == len(desk.carrier.sent)
        assert set(answers[budget:]) <= {Refusal.BUDGET}
        # And the next UTC day the team may send again
        assert desk.ask(phone="+33699000001", at=NOW + timedelta(days=1)) is None


# ---------------------------------------------------------------- the page and the counts


def test_the_page_shows_the_latest_notice_and_a_team_without_one_has_no_page(desk: Desk) -> None:
    # When the team's page, and a team's without a notice, are read
    page = signup_page(CampaignStore("campaigns"), TEAM, 24)

    # Then the page holds the notice's texts, its hash and the keyword the SMS asks for
    assert (page.team, page.version, page.hash) == (TEAM, 1, HASH)
    assert page.fr.organisation == TEXTS["fr"].organisation
    assert page.en is not None
    assert page.en.stop == TEXTS["en"].stop
    assert page.keywords == {"fr": "OUI", "en": "YES"}
    assert page.confirmation_hours == 24
    assert "created_by" not in page.model_dump()
    with pytest.raises(NotFound, match="no sign-up page"):
        signup_page(CampaignStore("campaigns"), "ghost", 24)


def person(*teams: str, roles: tuple[str, ...] = ("member",)) -> Caller:
    return Caller("sub-1", "someone", frozenset(teams), frozenset(roles))


def test_the_team_s_people_see_how_many_wait_and_the_day_s_budget_never_a_number(
    desk: Desk,
) -> None:
    # Given three sign-ups asked for: one confirmed since, one asked two days ago and expired
    desk.ask(phone=NUMBER)
    desk.ask(phone=OTHER, address="198.51.100.1")
    desk.ask(phone=REUNION, address="198.51.100.2", at=NOW - timedelta(days=2))
    desk.pending.delete(Hasher().key(OTHER), TEAM)
    tally = SignupTally(desk.pending, SignupLimits("contacts", 500))

    # When a member of the team reads its sign-ups
    status = tally.status(person(TEAM), TEAM, NOW)

    # Then one waits, and the day's budget shows the two confirmations sent today
    assert status.pending == 1
    assert (status.budget.used, status.budget.total) == (2, 500)
    assert status.budget.day.isoformat() == "2026-12-01"
    assert NUMBER[3:] not in status.model_dump_json()
    # And the next day nothing is counted for it
    later = tally.status(person(TEAM), TEAM, NOW + timedelta(days=1, hours=1))
    assert (later.pending, later.budget.used) == (0, 0)
    # And an administrator reads any team's, another team's member none
    assert tally.status(person(roles=("admin",)), TEAM, NOW).pending == 1
    with pytest.raises(NotFound):
        tally.status(person("support"), TEAM, NOW)


# ---------------------------------------------------------------- the confirmation


@dataclass
class Pending:
    records: list[PendingSignupRecord] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)

    def waiting(self, number_key: str, now: datetime) -> list[PendingSignupRecord]:
        live = [r for r in self.records if r.number_key == number_key and r.expires_at > now]
        return sorted(live, key=lambda record: record.requested_at, reverse=True)

    def delete(self, number_key: str, team: str) -> None:
        self.deleted.append((number_key, team))
        self.records = [r for r in self.records if (r.number_key, r.team) != (number_key, team)]


@dataclass
class Consents:
    """Consents recorded while their sign-up waits, as ConsentStore.put_confirmed does."""

    pending: Pending
    recorded: list[ConsentRecord] = field(default_factory=list)

    def put_confirmed(self, record: ConsentRecord) -> bool:
        if not any(
            (r.number_key, r.team) == (record.number_key, record.team) for r in self.pending.records
        ):
            return False
        self.recorded.append(record)
        return True


def waiting_signup(team: str = TEAM, *, hours_ago: int = 1, code: int = 1) -> PendingSignupRecord:
    """A sign-up asked for `hours_ago` (the receiver reads the clock), its SMS asking for the
    keyword with `code`."""
    requested_at = datetime.now(UTC) - timedelta(hours=hours_ago)
    return PendingSignupRecord(
        number_key=KEY,
        team=team,
        notice=HASH,
        page=PAGE,
        language="fr",
        source_address=ADDRESS,
        requested_at=requested_at,
        expires_at=requested_at + timedelta(hours=24),
        code=code,
    )


def signed_up(
    world: World, *, hours_ago: int = 1, others: tuple[PendingSignupRecord, ...] = ()
) -> tuple[Pending, Consents]:
    """A sign-up to team sales waiting for the reply, and `others` of the number's."""
    pending = Pending([waiting_signup(hours_ago=hours_ago), *others])
    consents = Consents(pending)
    world.receiver.signups = SignupConfirmations(cast(Any, pending), cast(Any, consents))
    return pending, consents


def test_the_keyword_confirms_the_sign_up_with_its_proof() -> None:
    # Given a number with a sign-up waiting
    world = World()
    pending, consents = signed_up(world)
    # When it replies OUI
    record = world.reply("Oui !", reply_id="in-7")
    # Then the consent is recorded with the proof of both halves, and the sign-up waits no more
    [consent] = consents.recorded
    assert (consent.team, consent.purpose, consent.notice) == (TEAM, "marketing", HASH)
    assert (consent.page, consent.source_address) == (PAGE, ADDRESS)
    assert consent.requested_at is not None
    assert consent.confirmed_at is not None
    assert consent.requested_at < consent.confirmed_at - timedelta(minutes=59)
    assert consent.confirmed_at == consent.given_at
    assert consent.confirmed_by == "in-7"
    assert consent.recorded_by == "sms-double-opt-in"
    assert pending.records == []
    # And the reply is the team's, under no campaign, never quarantined
    assert (record.team, record.campaign_id, record.quarantined) == (TEAM, None, None)


def test_another_reply_or_an_expired_sign_up_confirms_nothing() -> None:
    world = World()
    pending, consents = signed_up(world)
    world.reply("oui merci", reply_id="in-1")
    assert consents.recorded == []
    assert len(pending.records) == 1

    late = World()
    _, late_consents = signed_up(late, hours_ago=25)
    late.reply("OUI", reply_id="in-2")
    assert late_consents.recorded == []


def test_a_redelivered_confirmation_after_a_crash_confirms_the_same() -> None:
    # Given a confirmation whose first delivery failed after the consent was written
    world = World()
    pending, consents = signed_up(world)
    world.vault.failing = True
    with pytest.raises(DependencyError):
        world.reply("OUI", reply_id="in-3")
    assert len(pending.records) == 1
    # When it is delivered again
    world.vault.failing = False
    record = world.reply("OUI", reply_id="in-3")
    # Then it is stored in the team's compartment and the sign-up is closed
    assert record.team == TEAM
    assert pending.records == []
    assert {consent.confirmed_by for consent in consents.recorded} == {"in-3"}


def test_a_sign_up_erased_once_its_reply_was_read_confirms_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a sign-up that an erasure deletes just after the reply found it
    world = World()
    pending, consents = signed_up(world)
    found = pending.waiting

    def found_then_erased(number_key: str, now: datetime) -> list[PendingSignupRecord]:
        waiting = found(number_key, now)
        pending.records = []
        return waiting

    monkeypatch.setattr(pending, "waiting", found_then_erased)

    # When the reply OUI is taken in
    record = world.reply("OUI", reply_id="in-9")

    # Then no consent is recorded, and the reply is an ordinary one: matched to the campaign
    # that messaged the number, as any reply
    assert consents.recorded == []
    assert record.campaign_id == "c-1"
    assert pending.deleted == []


def test_each_team_s_sign_up_is_confirmed_by_the_reply_its_sms_asked_for() -> None:
    # Given a number waiting for team sales (OUI), then for team support (OUI 2)
    world = World()
    later = waiting_signup(OTHER_TEAM, hours_ago=0, code=2)
    pending, consents = signed_up(world, others=(later,))

    # When it replies OUI, Then team sales' sign-up is confirmed, not the latest one
    assert world.reply("Oui", reply_id="in-1").team == TEAM
    assert [consent.team for consent in consents.recorded] == [TEAM]
    assert [signup.team for signup in pending.records] == [OTHER_TEAM]
    # When it replies OUI again, Then nothing more is confirmed: support's asked for OUI 2
    world.reply("OUI", reply_id="in-2")
    assert [consent.team for consent in consents.recorded] == [TEAM]
    # When it replies OUI 2, Then team support's is
    assert world.reply("oui 2", reply_id="in-3").team == OTHER_TEAM
    assert [consent.team for consent in consents.recorded] == [TEAM, OTHER_TEAM]
    assert pending.records == []


def test_two_sign_ups_that_asked_for_the_same_reply_are_confirmed_by_neither() -> None:
    # Given two requests of one instant that both asked for OUI (neither saw the other)
    world = World()
    pending, consents = signed_up(world, others=(waiting_signup(OTHER_TEAM),))

    # When the number replies OUI, Then it is ambiguous: no consent, both still wait
    world.reply("OUI", reply_id="in-4")
    assert consents.recorded == []
    assert len(pending.records) == 2
