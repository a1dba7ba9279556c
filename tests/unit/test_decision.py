"""Who may be sent what: a consent counts for the team it was given to, a STOP for every team and
every kind, a team's own suppression for that team alone, and only marketing needs a consent.

Decided as the send path and the preview decide, with the stores they read (the template's
tables in moto, in this process).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fakes import WEEKLY_CAP, FakeSealer, campaign_record, consent_record, sender_record
from hypothesis import given, settings
from hypothesis import strategies as st
from in_process_aws import create_tables, in_process_aws

from cloison.adapters.tables import GLOBAL_SCOPE, ConsentStore, FrequencyCaps, SuppressionStore
from cloison.compliance.phone import normalize_phone
from cloison.compliance.window import SendWindowPolicy, next_send_time
from cloison.models.kinds import CampaignKind, CampaignStatus
from cloison.models.records import (
    AudienceMember,
    MessageStatus,
    SuppressionRecord,
)
from cloison.services.decision import Planned, decide_members

TEAMS = ("sales", "support", "marketing")
PURPOSES = ("marketing", "surveys")
SCOPES = (GLOBAL_SCOPE, *(f"team#{team}" for team in TEAMS))
POLICY = SendWindowPolicy()
# Tuesday 1 December 2026, 10:00 in Paris: the default window is open in metropolitan France.
TUESDAY_10H = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))
PARIS = "+33612345678"  # phonenumbers' French example mobile
# (number, département): metropolitan, Alsace-Moselle, and overseas zones with their own holidays
RECIPIENTS = (
    (PARIS, None),
    (PARIS, "57"),
    ("+590690001234", None),  # Guadeloupe
    ("+262692123456", None),  # La Réunion
)
ELIGIBLE = frozenset({MessageStatus.QUEUED, MessageStatus.DEFERRED})


@dataclass(frozen=True)
class Stores:
    consents: ConsentStore
    suppressions: SuppressionStore
    caps: FrequencyCaps


@pytest.fixture(scope="module")
def stores() -> Iterator[Stores]:
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_aws(monkeypatch):
        create_tables({"contacts": "ContactsTable", "suppressions": "SuppressionsTable"})
        yield Stores(
            ConsentStore("contacts", retention_days=1095),
            SuppressionStore("suppressions", FakeSealer()),
            FrequencyCaps("contacts", WEEKLY_CAP),
        )


def new_key() -> str:
    """A number key of its own for each case, so that cases never see each other's records."""
    return uuid.uuid4().hex * 2


def consent(stores: Stores, key: str, team: str, purpose: str = "marketing") -> None:
    stores.consents.put(consent_record(key, team, purpose=purpose, proof="Oui aux offres SMS"))


def suppress(stores: Stores, key: str, scope: str) -> None:
    stores.suppressions.put(
        SuppressionRecord(
            number_key=key,
            scope=scope,
            reason="STOP" if scope == GLOBAL_SCOPE else "asked by phone",
            source="inbound" if scope == GLOBAL_SCOPE else "api",
            evidence="test",
            created_at=datetime(2026, 11, 2, tzinfo=UTC),
        )
    )


def decided(
    stores: Stores,
    key: str,
    team: str,
    kind: CampaignKind,
    *,
    number: str = PARIS,
    departement: str | None = None,
    now: datetime = TUESDAY_10H,
) -> Planned:
    """The decision for one recipient of a campaign of `team`, as the send path makes it."""
    campaign = campaign_record(
        f"c-{uuid.uuid4().hex[:16]}",
        team=team,
        kind=kind,
        body="Bonjour {first_name}, -20 % ce week-end.",
        status=CampaignStatus.SENDING,
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
    )
    sender = sender_record(team=team, sender_id="36111")
    member = AudienceMember(
        e164=number, number_key=key, variables={"first_name": "Léa"}, departement=departement
    )
    (planned,) = decide_members(
        campaign,
        sender,
        [member],
        [0],
        suppressions=stores.suppressions,
        consents=stores.consents,
        caps=stores.caps,
        policy=POLICY,
        now=now,
    )
    return planned


# ---------------------------------------------------------------- examples


def test_a_consent_given_to_one_team_opens_marketing_for_that_team_alone(stores: Stores) -> None:
    # Given a number that consented to team sales' marketing, and to nobody else's
    key = new_key()
    consent(stores, key, "sales")

    # When each team's marketing campaign, and support's transactional one, decide for it
    statuses = {team: decided(stores, key, team, CampaignKind.MARKETING).status for team in TEAMS}
    transactional = decided(stores, key, "support", CampaignKind.TRANSACTIONAL)

    # Then only sales may send it marketing; support's transactional message needs no consent
    assert statuses == {
        "sales": MessageStatus.QUEUED,
        "support": MessageStatus.NO_CONSENT,
        "marketing": MessageStatus.NO_CONSENT,
    }
    assert transactional.status == MessageStatus.QUEUED
    assert transactional.e164 == PARIS


def test_a_consent_for_another_purpose_is_no_consent_to_marketing(stores: Stores) -> None:
    # Given a number that consented to team sales' surveys only
    key = new_key()
    consent(stores, key, "sales", purpose="surveys")

    # When team sales' marketing decides for it
    planned = decided(stores, key, "sales", CampaignKind.MARKETING)

    # Then it is not sent
    assert planned.status == MessageStatus.NO_CONSENT
    assert planned.text == ""


def test_a_stop_holds_for_every_team_and_every_kind(stores: Stores) -> None:
    # Given a number that consented to every team, then answered STOP
    key = new_key()
    for team in TEAMS:
        consent(stores, key, team)
    suppress(stores, key, GLOBAL_SCOPE)

    # When any team's campaign of any kind decides for it
    statuses = {
        (team, kind): decided(stores, key, team, kind).status
        for team in TEAMS
        for kind in CampaignKind
    }

    # Then none sends it
    assert set(statuses.values()) == {MessageStatus.SUPPRESSED}


def test_a_teams_own_suppression_holds_for_that_team_alone(stores: Stores) -> None:
    # Given a number that consented to sales and support, then was suppressed by team sales
    key = new_key()
    for team in ("sales", "support"):
        consent(stores, key, team)
    suppress(stores, key, "team#sales")

    # When both teams decide for it
    # Then sales sends it nothing, of either kind, and support sends it both
    for kind in CampaignKind:
        assert decided(stores, key, "sales", kind).status == MessageStatus.SUPPRESSED
        assert decided(stores, key, "support", kind).status == MessageStatus.QUEUED


def test_a_consented_recipient_outside_the_window_waits_for_its_opening(stores: Stores) -> None:
    # Given a Guadeloupe number that consented to team sales, at 10:00 in Paris (05:00 there)
    key = new_key()
    consent(stores, key, "sales")

    # When team sales' marketing decides for it
    planned = decided(stores, key, "sales", CampaignKind.MARKETING, number="+590690001234")

    # Then it is held until 08:00 in Guadeloupe, neither dropped nor sent early
    assert planned.status == MessageStatus.DEFERRED
    assert planned.release_at == datetime(2026, 12, 1, 8, tzinfo=ZoneInfo("America/Guadeloupe"))


# ---------------------------------------------------------------- properties

INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(
    owner=st.sampled_from(TEAMS),
    other=st.sampled_from(TEAMS),
    purposes=st.sets(st.sampled_from(PURPOSES), min_size=1),
    recipient=st.sampled_from(RECIPIENTS),
    now=INSTANTS,
)
def test_a_consent_recorded_for_one_team_never_makes_a_number_eligible_for_anothers_marketing(
    stores: Stores,
    owner: str,
    other: str,
    purposes: set[str],
    recipient: tuple[str, str | None],
    now: datetime,
) -> None:
    # Given a number with consents recorded for one team only, for any purposes, and no opt-out
    key = new_key()
    for purpose in purposes:
        consent(stores, key, owner, purpose)
    number, departement = recipient

    # When another team's marketing campaign decides for it, at any instant
    planned = decided(
        stores, key, other, CampaignKind.MARKETING, number=number, departement=departement, now=now
    )

    # Then it is never sent nor held for sending, unless that team is the one it consented to
    if other != owner or "marketing" not in purposes:
        assert planned.status == MessageStatus.NO_CONSENT
        assert (planned.text, planned.e164, planned.release_at) == ("", "", None)
    else:
        assert planned.status in ELIGIBLE


@settings(max_examples=200, deadline=None)
@given(
    team=st.sampled_from(TEAMS),
    kind=st.sampled_from(CampaignKind),
    consents=st.sets(st.tuples(st.sampled_from(TEAMS), st.sampled_from(PURPOSES)), max_size=4),
    scopes=st.sets(st.sampled_from(SCOPES), max_size=3),
    recipient=st.sampled_from(RECIPIENTS),
    now=INSTANTS,
)
def test_every_decision_follows_stop_then_consent_then_the_window(
    stores: Stores,
    team: str,
    kind: CampaignKind,
    consents: set[tuple[str, str]],
    scopes: set[str],
    recipient: tuple[str, str | None],
    now: datetime,
) -> None:
    # Given any consents and suppressions of any teams on one number
    key = new_key()
    for consented_team, purpose in consents:
        consent(stores, key, consented_team, purpose)
    for scope in scopes:
        suppress(stores, key, scope)
    number, departement = recipient

    # When a campaign of any team and kind decides for it, at any instant
    planned = decided(stores, key, team, kind, number=number, departement=departement, now=now)

    # Then a STOP or the team's own suppression comes first, then the team's marketing consent,
    # then the recipient's window: sent now when it is open, else held until it opens
    if GLOBAL_SCOPE in scopes or f"team#{team}" in scopes:
        assert planned.status == MessageStatus.SUPPRESSED
    elif kind == CampaignKind.MARKETING and (team, "marketing") not in consents:
        assert planned.status == MessageStatus.NO_CONSENT
    else:
        opening = next_send_time(
            now, normalize_phone(number), policy=POLICY, departement=departement
        )
        if opening == now:
            assert (planned.status, planned.release_at) == (MessageStatus.QUEUED, None)
        else:
            assert (planned.status, planned.release_at) == (MessageStatus.DEFERRED, opening)
        assert planned.e164 == number
        assert planned.text.endswith("\nSTOP au 36111") == (kind == CampaignKind.MARKETING)
