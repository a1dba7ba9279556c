"""What the API refuses before anything is audited or written: a sender profile that the send
path could not send from (its sender ID, its STOP mention), a consent given in the future or
without a time zone. Each is refused naming its field, by the rule the send path applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from test_audited_actions import ADA, ALICE, PERSON, registry

from cloison.compliance.errors import ComplianceError
from cloison.compliance.message import compose_message
from cloison.errors import RuleViolation
from cloison.models.api.registry import ConsentIn, SenderProfileIn

PROFILE = {"sender_id": "36111", "stop_mention": "STOP au 36111", "company": "Boutique Exemple"}


def refusal(**changes: str) -> str | None:
    """The field a PUT of the profile with `changes` is refused for, or None if it is accepted.

    A refusal by the model (its shape) or by the service (a rule) both name the field."""
    service, journal, auditor = registry()
    try:
        profile = SenderProfileIn(**(PROFILE | changes))
    except ValidationError as exc:
        (field,) = {".".join(str(part) for part in error["loc"]) for error in exc.errors()}
        return field
    try:
        service.put_sender(ADA, "sales", "promo", profile)
    except RuleViolation as exc:
        # Refused before it was audited or written.
        assert journal.calls == []
        return exc.field
    assert auditor.entries[0]["action"] == "sender.put"
    assert "campaigns.put_sender" in journal.calls
    return None


def admitted(**changes: str) -> bool:
    """Whether the profile's shape (lengths, not blank) admits `changes`."""
    try:
        SenderProfileIn(**(PROFILE | changes))
    except ValidationError:
        return False
    return True


def composes(**arguments: Any) -> bool:
    """Whether the send path can compose a message with these sender settings."""
    try:
        compose_message("Soldes d'hiver", **arguments)
    except ComplianceError:
        return False
    return True


# ---------------------------------------------------------------- sender profiles


@pytest.mark.parametrize(
    "mention",
    ["Désinscription au 36111", "STOPPEZ au 36111", "Répondez NON au 36111"],
    ids=["no-keyword", "keyword-inside-a-word", "another-word"],
)
def test_a_stop_mention_without_the_keyword_stop_is_refused(mention: str) -> None:
    # Given a profile whose mention would make every marketing message invalid at send time
    # When it is put
    # Then it is refused, naming `stop_mention`, and nothing is audited or written
    assert refusal(stop_mention=mention) == "stop_mention"


@pytest.mark.parametrize("mention", ["STOP au 36111", "stop au 36111", "Stop SMS : 36111"])
def test_a_stop_mention_with_the_keyword_is_kept(mention: str) -> None:
    assert refusal(stop_mention=mention) is None


@pytest.mark.parametrize(
    "sender_id",
    ["+33612345678", "+590690001234", "+4930123456", "33612345678", "0612345678"],
    ids=["e164-french-mobile", "e164-guadeloupe", "e164-short", "without-plus", "national"],
)
def test_a_phone_number_is_no_sender_id(sender_id: str) -> None:
    # Given a long number, written in E.164 or otherwise
    # When it is put as a profile's sender
    # Then it is refused, naming `sender_id`: French operators keep long numbers for
    # person-to-person messages; automated ones come from a sender ID or a short code
    assert refusal(sender_id=sender_id) == "sender_id"


@pytest.mark.parametrize("sender_id", ["36111", "38123", "BOUTIQUE", "Shop24", "ABC"])
def test_a_short_code_or_an_alphanumeric_sender_id_is_kept(sender_id: str) -> None:
    assert refusal(sender_id=sender_id) is None


MENTIONS = st.one_of(
    st.text(max_size=45),
    st.builds(
        lambda before, keyword, after: before + keyword + after,
        st.text(max_size=20),
        st.sampled_from(["STOP", "stop", "Stop", "STOPPEZ", "ARRET"]),
        st.text(max_size=20),
    ),
)


@settings(max_examples=300, deadline=None)
@given(mention=MENTIONS)
def test_a_stop_mention_is_kept_exactly_when_marketing_messages_can_carry_it(
    mention: str,
) -> None:
    # Given any mention a profile may hold
    # When it is put, and a marketing message is composed with it
    refused = refusal(stop_mention=mention)
    lawful = composes(kind="marketing", sender="36111", stop_mention=mention)

    # Then a kept mention always makes lawful messages; of the mentions the profile's shape
    # admits (its length), exactly those that make lawful messages are kept
    assert refused in (None, "stop_mention")
    if refused is None:
        assert lawful
    if admitted(stop_mention=mention):
        assert (refused is None) == lawful


SENDER_IDS = st.one_of(
    st.text(alphabet="ABCXYZabcxyz0123456789+-é", max_size=14),
    st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(sender_id=SENDER_IDS)
def test_a_sender_id_is_kept_exactly_when_messages_can_be_sent_from_it(sender_id: str) -> None:
    # Given any sender a profile may name
    # When it is put, and a message is composed from it
    refused = refusal(sender_id=sender_id)
    lawful = composes(kind="transactional", sender=sender_id, stop_mention=None)

    # Then it is kept if and only if the send path can send from it
    assert refused in (None, "sender_id")
    assert (refused is None) == lawful


@settings(max_examples=200, deadline=None)
@given(number=st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_no_number_in_e164_is_ever_a_sender_id(number: str) -> None:
    assert refusal(sender_id=number) == "sender_id"


# ---------------------------------------------------------------- consents


def consent_in(given_at: object) -> ConsentIn:
    return ConsentIn.model_validate(
        {
            "team": "sales",
            "phone": PERSON,
            "source": "web form",
            "proof": "Oui aux offres SMS",
            "given_at": given_at,
        }
    )


def test_a_consent_given_in_the_future_is_refused_naming_given_at() -> None:
    # Given a consent dated tomorrow
    service, journal, _ = registry()
    request = consent_in((datetime.now(UTC) + timedelta(days=1)).isoformat())

    # When it is recorded
    with pytest.raises(RuleViolation) as raised:
        service.record_consent(ALICE, request)

    # Then it is refused, naming `given_at`, and nothing is audited or written
    assert raised.value.field == "given_at"
    assert journal.calls == []


def test_a_consent_without_a_time_zone_is_refused_naming_given_at() -> None:
    # Given a consent whose time has no offset: in which zone was it given?
    # When it is read
    with pytest.raises(ValidationError) as raised:
        consent_in("2026-11-01T10:00:00")

    # Then it is refused, naming `given_at`
    assert [error["loc"] for error in raised.value.errors()] == [("given_at",)]


OFFSETS = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-720, 840))


@settings(max_examples=200, deadline=None)
@given(
    shift=st.timedeltas(min_value=timedelta(days=-3 * 365), max_value=timedelta(days=3 * 365)),
    zone=OFFSETS,
)
def test_a_consent_is_recorded_exactly_when_it_was_given_in_the_past(
    shift: timedelta, zone: timezone
) -> None:
    # Given a consent given at any instant from three years ago to three years ahead, written
    # in any offset (a minute's margin either side of now: the clock moves during the test)
    assume(abs(shift) >= timedelta(minutes=1))
    given_at = (datetime.now(UTC) + shift).astimezone(zone)
    service, journal, _ = registry()

    # When it is recorded
    try:
        recorded = service.record_consent(ALICE, consent_in(given_at.isoformat()))
    except RuleViolation as exc:
        refused: str | None = exc.field
    else:
        refused = None
        assert recorded.given_at == given_at

    # Then only a consent of the past is kept; one of the future is refused before anything
    if shift < timedelta(0):
        assert refused is None
        assert "consents.put" in journal.calls
    else:
        assert refused == "given_at"
        assert journal.calls == []


@settings(max_examples=100, deadline=None)
@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_no_consent_without_a_time_zone_is_ever_read(moment: datetime) -> None:
    with pytest.raises(ValidationError) as raised:
        consent_in(moment.isoformat())
    assert [error["loc"] for error in raised.value.errors()] == [("given_at",)]
