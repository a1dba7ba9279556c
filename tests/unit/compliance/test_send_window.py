"""Sending windows on real 2026-2028 French calendars, overseas time zones and DST weekends."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pydantic
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from cloison.compliance.errors import InvalidDepartement, InvalidSendTime, NoSendWindow
from cloison.compliance.phone import Phone, normalize_phone
from cloison.compliance.window import Opening, SendWindowPolicy, next_send_time

PARIS = ZoneInfo("Europe/Paris")
DEFAULT = SendWindowPolicy()

# libphonenumber's example numbers, one per territory.
PHONES = {
    "FR": normalize_phone("06 12 34 56 78"),
    "GP": normalize_phone("0690 00 12 34"),
    "MQ": normalize_phone("0696 20 12 34"),
    "GF": normalize_phone("0694 20 12 34"),
    "RE": normalize_phone("0692 12 34 56"),
    "YT": normalize_phone("0639 01 23 45"),
    "PM": normalize_phone("+508 55 12 34"),
    "PF": normalize_phone("+689 87 12 34 56"),
    "NC": normalize_phone("+687 75 12 34"),
    "US": normalize_phone("+1 212 555 0123"),
}


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_policy_default_is_the_french_one() -> None:
    # Given the policy built without arguments
    # Then it is Monday-Friday 08:00-20:00, Saturday 10:00-18:00, closed Sundays and holidays
    assert [str(o) for o in DEFAULT.monday] == ["08:00-20:00"]
    assert [str(o) for o in DEFAULT.friday] == ["08:00-20:00"]
    assert [str(o) for o in DEFAULT.saturday] == ["10:00-18:00"]
    assert DEFAULT.sunday == ()
    assert DEFAULT.holidays_closed
    assert SendWindowPolicy.preset("default") == DEFAULT


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (paris(2026, 6, 9, 10), paris(2026, 6, 9, 10)),
        (paris(2026, 6, 9, 7, 59), paris(2026, 6, 9, 8)),
        (paris(2026, 6, 12, 19, 59), paris(2026, 6, 12, 19, 59)),
        (paris(2026, 6, 12, 20), paris(2026, 6, 13, 10)),
        (paris(2026, 6, 13, 17, 59), paris(2026, 6, 13, 17, 59)),
        (paris(2026, 6, 13, 18), paris(2026, 6, 15, 8)),
        (paris(2026, 6, 14, 12), paris(2026, 6, 15, 8)),
    ],
    ids=[
        "tuesday-open",
        "before-opening",
        "friday-last-minute",
        "friday-close",
        "saturday-last-minute",
        "saturday-close",
        "sunday",
    ],
)
def test_metropolitan_week(now: datetime, expected: datetime) -> None:
    # Given a metropolitan mobile and the default policy
    # When the next send time is asked at a given instant
    # Then it is that instant inside the window, else the next opening
    assert next_send_time(now, PHONES["FR"], policy=DEFAULT) == expected


def test_returns_now_itself_when_allowed() -> None:
    now = paris(2026, 6, 9, 10)
    assert next_send_time(now, PHONES["FR"], policy=DEFAULT) is now


def test_result_is_in_the_time_zone_of_now() -> None:
    # Given a UTC instant on a Sunday
    result = next_send_time(utc(2026, 6, 14, 12), PHONES["FR"], policy=DEFAULT)
    # Then Monday 08:00 Paris is returned as 06:00 UTC
    assert result == utc(2026, 6, 15, 6)
    assert result.tzinfo is UTC


NATIONAL_HOLIDAYS = [
    # holiday at noon, first opening after it
    ((2026, 1, 1), (2026, 1, 2, 8)),
    ((2026, 4, 6), (2026, 4, 7, 8)),
    ((2026, 5, 1), (2026, 5, 2, 10)),
    ((2026, 5, 8), (2026, 5, 9, 10)),
    ((2026, 5, 14), (2026, 5, 15, 8)),
    ((2026, 5, 25), (2026, 5, 26, 8)),
    ((2026, 7, 14), (2026, 7, 15, 8)),
    ((2026, 8, 15), (2026, 8, 17, 8)),
    ((2026, 11, 11), (2026, 11, 12, 8)),
    ((2026, 12, 25), (2026, 12, 26, 10)),
    ((2027, 3, 29), (2027, 3, 30, 8)),
    ((2027, 5, 6), (2027, 5, 7, 8)),
    ((2027, 5, 17), (2027, 5, 18, 8)),
    ((2027, 11, 1), (2027, 11, 2, 8)),
    ((2028, 4, 17), (2028, 4, 18, 8)),
    ((2028, 5, 25), (2028, 5, 26, 8)),
    ((2028, 6, 5), (2028, 6, 6, 8)),
    ((2028, 7, 14), (2028, 7, 15, 10)),
    ((2028, 11, 1), (2028, 11, 2, 8)),
    ((2028, 12, 25), (2028, 12, 26, 8)),
]


@pytest.mark.parametrize(
    ("holiday", "opening"),
    NATIONAL_HOLIDAYS,
    ids=[f"{y}-{m:02d}-{d:02d}" for (y, m, d), _ in NATIONAL_HOLIDAYS],
)
def test_national_holidays_2026_2028(
    holiday: tuple[int, int, int], opening: tuple[int, int, int, int]
) -> None:
    # Given a metropolitan mobile at noon on a French public holiday
    # When the next send time is asked
    result = next_send_time(paris(*holiday, 12), PHONES["FR"], policy=DEFAULT)
    # Then the message waits for the next opening
    assert result == paris(*opening)


ALSACE_MOSELLE = [
    # département, day at noon, first opening for its contacts
    ("57", (2026, 4, 3), (2026, 4, 4, 10)),
    ("67", (2027, 3, 26), (2027, 3, 27, 10)),
    ("68", (2028, 4, 14), (2028, 4, 15, 10)),
    ("57", (2026, 12, 26), (2026, 12, 28, 8)),
    ("67", (2028, 12, 26), (2028, 12, 27, 8)),
]


@pytest.mark.parametrize(
    ("departement", "day", "opening"),
    ALSACE_MOSELLE,
    ids=["good-friday-57", "good-friday-67", "good-friday-68", "st-stephen-57", "st-stephen-67"],
)
def test_alsace_moselle_extra_days(
    departement: str, day: tuple[int, int, int], opening: tuple[int, int, int, int]
) -> None:
    # Given noon on Good Friday or St Stephen's day, open in the rest of France
    now = paris(*day, 12)
    assert next_send_time(now, PHONES["FR"], policy=DEFAULT) == now
    assert next_send_time(now, PHONES["FR"], policy=DEFAULT, departement="75") == now
    # When the contact lives in Moselle, Bas-Rhin or Haut-Rhin
    result = next_send_time(now, PHONES["FR"], policy=DEFAULT, departement=departement)
    # Then the message waits for the next opening there
    assert result == paris(*opening)


OVERSEAS_HOLIDAYS = [
    # territory, day (local 09:00), first opening (local), IANA zone
    ("GP", (2027, 5, 27), (2027, 5, 28, 8), "America/Guadeloupe"),
    ("GP", (2026, 7, 21), (2026, 7, 22, 8), "America/Guadeloupe"),
    ("MQ", (2026, 5, 22), (2026, 5, 23, 10), "America/Martinique"),
    ("GF", (2026, 6, 10), (2026, 6, 11, 8), "America/Cayenne"),
    ("RE", (2027, 12, 20), (2027, 12, 21, 8), "Indian/Reunion"),
    ("YT", (2027, 4, 27), (2027, 4, 28, 8), "Indian/Mayotte"),
    ("NC", (2026, 9, 24), (2026, 9, 25, 8), "Pacific/Noumea"),
    ("PF", (2026, 3, 5), (2026, 3, 6, 8), "Pacific/Tahiti"),
]


@pytest.mark.parametrize(
    ("territory", "day", "opening", "zone"),
    OVERSEAS_HOLIDAYS,
    ids=[
        "guadeloupe-abolition",
        "guadeloupe-schoelcher",
        "martinique-abolition",
        "guyane-abolition",
        "reunion-abolition",
        "mayotte-abolition",
        "new-caledonia-citizenship",
        "polynesia-gospel",
    ],
)
def test_overseas_holidays_follow_the_recipient(
    territory: str, day: tuple[int, int, int], opening: tuple[int, int, int, int], zone: str
) -> None:
    # Given 09:00 local time on a territory's own public holiday
    now = local(zone, *day, 9)
    # When the next send time is asked for a mobile of that territory
    result = next_send_time(now, PHONES[territory], policy=DEFAULT)
    # Then it waits for the next local opening
    assert result == local(zone, *opening)


def test_the_guadeloupe_holiday_does_not_hold_a_metropolitan_send() -> None:
    # Given 27 May 2027, 09:00 in Guadeloupe (15:00 in Paris)
    now = local("America/Guadeloupe", 2027, 5, 27, 9)
    # Then a metropolitan mobile is open while a Guadeloupe one waits
    assert next_send_time(now, PHONES["FR"], policy=DEFAULT) == now
    assert next_send_time(now, PHONES["GP"], policy=DEFAULT) > now


@pytest.mark.parametrize(
    ("territory", "expected"),
    [
        ("FR", utc(2026, 6, 10, 6)),
        ("GP", utc(2026, 6, 9, 19)),
        ("MQ", utc(2026, 6, 9, 19)),
        ("GF", utc(2026, 6, 9, 19)),
        ("RE", utc(2026, 6, 10, 4)),
        ("YT", utc(2026, 6, 10, 5)),
        ("PF", utc(2026, 6, 9, 19)),
        ("NC", utc(2026, 6, 9, 21)),
        ("PM", utc(2026, 6, 9, 19)),
        ("US", utc(2026, 6, 9, 19)),
    ],
)
def test_each_recipient_has_his_own_clock(territory: str, expected: datetime) -> None:
    # Given Tuesday 9 June 2026 at 19:00 UTC (21:00 in Paris, 15:00 in Guadeloupe)
    now = utc(2026, 6, 9, 19)
    # When the next send time is asked for a mobile of each territory
    # Then each is held or sent according to its own local time, not one zone per country
    assert next_send_time(now, PHONES[territory], policy=DEFAULT) == expected


def test_polynesia_is_open_only_when_all_its_zones_are() -> None:
    # Given a Polynesian mobile (Tahiti, Marquesas and Gambier share +689)
    phone = PHONES["PF"]
    assert len(phone.time_zones) == 3
    # When it is 07:30 in Tahiti (08:00 in the Marquesas, 08:30 in the Gambier)
    now = local("Pacific/Tahiti", 2026, 6, 9, 7, 30)
    # Then the send waits for 08:00 in Tahiti, the last of the three to open
    assert next_send_time(now, phone, policy=DEFAULT) == local("Pacific/Tahiti", 2026, 6, 9, 8)


def test_metropolitan_mobile_of_a_reunion_resident_waits_for_both_clocks() -> None:
    # Given a +33 mobile whose contact lives in Réunion (974), at 18:30 Paris / 20:30 Réunion
    now = utc(2026, 6, 9, 16, 30)
    # When the next send time is asked with the département
    result = next_send_time(now, PHONES["FR"], policy=DEFAULT, departement="974")
    # Then it is Wednesday 08:00 Paris (10:00 Réunion), when both are open
    assert result == utc(2026, 6, 10, 6)
    assert next_send_time(now, PHONES["FR"], policy=DEFAULT) == now


DST_CASES = [
    # now, expected
    (paris(2026, 3, 28, 17, 59), paris(2026, 3, 28, 17, 59)),
    (paris(2026, 3, 28, 18), utc(2026, 3, 30, 6)),
    (paris(2026, 10, 24, 19), utc(2026, 10, 26, 7)),
    (paris(2027, 3, 27, 18), utc(2027, 3, 30, 6)),
    (paris(2027, 10, 30, 18), utc(2027, 11, 2, 7)),
    (paris(2028, 3, 25, 18), utc(2028, 3, 27, 6)),
]


@pytest.mark.parametrize(
    ("now", "expected"),
    DST_CASES,
    ids=[
        "2026-spring-saturday-open",
        "2026-spring-forward-weekend",
        "2026-fall-back-weekend",
        "2027-spring-forward-easter",
        "2027-fall-back-all-saints",
        "2028-spring-forward-weekend",
    ],
)
def test_dst_weekends(now: datetime, expected: datetime) -> None:
    # Given a metropolitan mobile over a daylight-saving weekend
    # When the next send time is asked on Saturday evening
    # Then Monday 08:00 local is found in the new offset (Easter Monday 2027 and
    # All Saints' Day 2027 push it to Tuesday)
    assert next_send_time(now, PHONES["FR"], policy=DEFAULT) == expected


NIGHT_SHIFT = SendWindowPolicy.weekly(
    "02:30-05:00", saturday="02:30-05:00", sunday="02:30-05:00", holidays_closed=False
)


def test_opening_at_a_skipped_time_opens_at_the_change() -> None:
    # Given an opening at 02:30, a time that does not exist on 29 March 2026 in Paris
    # When the next send time is asked at 01:30 CET
    result = next_send_time(utc(2026, 3, 29, 0, 30), PHONES["FR"], policy=NIGHT_SHIFT)
    # Then the window opens at the change itself, 03:00 CEST
    assert result == utc(2026, 3, 29, 1)
    assert result.astimezone(PARIS).hour == 3


def test_opening_at_a_repeated_time_opens_at_its_first_occurrence() -> None:
    # Given an opening at 02:30, which happens twice on 25 October 2026 in Paris
    result = next_send_time(utc(2026, 10, 25, 0), PHONES["FR"], policy=NIGHT_SHIFT)
    # Then the first 02:30 (CEST) opens it
    assert result == utc(2026, 10, 25, 0, 30)


def test_closing_at_a_skipped_time_closes_at_the_change() -> None:
    # Given a window 01:00-02:30 on the spring-forward night
    policy = SendWindowPolicy.weekly(
        "01:00-02:30", saturday="01:00-02:30", sunday="01:00-02:30", holidays_closed=False
    )
    # When it is 01:59 CET, then 03:00 CEST
    before, after = utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 1)
    # Then it is open just before the change and closed from it on
    assert next_send_time(before, PHONES["FR"], policy=policy) == before
    assert next_send_time(after, PHONES["FR"], policy=policy) == utc(2026, 3, 29, 23)


def test_saint_pierre_follows_north_american_dst() -> None:
    # Given a Saint-Pierre-et-Miquelon mobile on the weekend DST starts there (8 March 2026)
    result = next_send_time(utc(2026, 3, 7, 22), PHONES["PM"], policy=DEFAULT)
    # Then Monday 08:00 local is 10:00 UTC (UTC-2), three weeks before Paris changes
    assert result == utc(2026, 3, 9, 10)


def test_presets() -> None:
    # Given Saturday 21:00 and Sunday noon in Paris
    saturday_evening, sunday = paris(2026, 6, 13, 21), paris(2026, 6, 14, 12)
    extended = SendWindowPolicy.preset("extended")
    daily = SendWindowPolicy.preset("daily")
    # Then the extended preset sends on Saturday evening but not on Sunday
    assert next_send_time(saturday_evening, PHONES["FR"], policy=extended) == saturday_evening
    assert next_send_time(sunday, PHONES["FR"], policy=extended) == paris(2026, 6, 15, 8)
    # And the daily preset sends on Sundays and on Bastille Day
    assert next_send_time(sunday, PHONES["FR"], policy=daily) == sunday
    bastille_day = paris(2026, 7, 14, 12)
    assert next_send_time(bastille_day, PHONES["FR"], policy=daily) == bastille_day
    with pytest.raises(ValueError, match="preset"):
        SendWindowPolicy.preset("night")


def test_custom_policy_with_a_lunch_break() -> None:
    # Given a policy closed for lunch on weekdays, and open on holidays
    policy = SendWindowPolicy.weekly(("09:00-12:00", "14:00-19:00"), holidays_closed=False)  # type: ignore[arg-type]
    # Then 12:30 waits for 14:00, and Bastille Day is a working day
    assert next_send_time(paris(2026, 6, 9, 12, 30), PHONES["FR"], policy=policy) == paris(
        2026, 6, 9, 14
    )
    bastille_day = paris(2026, 7, 14, 10)
    assert next_send_time(bastille_day, PHONES["FR"], policy=policy) == bastille_day
    assert policy.saturday == ()


def test_policy_round_trips_through_json() -> None:
    # Given a custom policy stored as a team setting
    policy = SendWindowPolicy(saturday=(), sunday=(Opening(start=time(11), end=time(12)),))
    # When it is written and read back
    # Then it is the same policy
    assert SendWindowPolicy.model_validate_json(policy.model_dump_json()) == policy
    assert SendWindowPolicy.model_validate({"monday": ["09:00-18:00"]}).monday[0].end == time(18)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"monday": ("10:00-09:00",)}, "ends before it starts"),
        ({"monday": ("08:00-12:00", "11:00-14:00")}, "overlap"),
        ({"monday": ("08:00:30-12:00",)}, "to the minute"),
        ({"monday": ("8h-12h",)}, "monday"),
        ({"monday": ("08:00 12:00",)}, "HH:MM-HH:MM"),
        ({"mardi": ()}, "mardi"),
        (
            {
                day: ()
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
            },
            "no opening",
        ),
    ],
    ids=["reversed", "overlap", "seconds", "french-notation", "no-dash", "unknown-field", "closed"],
)
def test_invalid_policies_are_refused(fields: dict[str, object], reason: str) -> None:
    # Given policy settings that make no sense
    # When a policy is built from them
    with pytest.raises(pydantic.ValidationError) as raised:
        SendWindowPolicy.model_validate(fields)
    # Then a ValueError names the field and the reason
    assert isinstance(raised.value, ValueError)
    assert reason in str(raised.value)


def test_policy_is_immutable() -> None:
    with pytest.raises(pydantic.ValidationError):
        DEFAULT.holidays_closed = False  # type: ignore[misc]


def test_naive_now_is_refused() -> None:
    # Given a datetime without time zone
    # When the next send time is asked
    with pytest.raises(InvalidSendTime) as raised:
        next_send_time(datetime(2026, 6, 9, 10), PHONES["FR"], policy=DEFAULT)
    # Then the error is a ValueError naming `now`
    assert isinstance(raised.value, ValueError)
    assert raised.value.field == "now"


@pytest.mark.parametrize("departement", ["99", "20", "975x", "", "1000"])
def test_unknown_departement_is_refused(departement: str) -> None:
    with pytest.raises(InvalidDepartement, match="departement"):
        next_send_time(paris(2026, 6, 9, 10), PHONES["FR"], policy=DEFAULT, departement=departement)


@pytest.mark.parametrize("departement", ["2A", "2B", "06", "6", "75", "971", "988"])
def test_known_departements_are_accepted(departement: str) -> None:
    result = next_send_time(
        paris(2026, 6, 9, 10), PHONES["FR"], policy=DEFAULT, departement=departement
    )
    assert result >= paris(2026, 6, 9, 10)


def test_no_common_window_is_an_error_not_a_hang() -> None:
    # Given a Polynesian mobile whose contact says he lives in Paris, and a one-hour window
    policy = SendWindowPolicy.weekly("08:00-09:00")
    # When the next send time is asked
    # Then no instant is open in both places, and the error says so
    with pytest.raises(NoSendWindow, match="no opening within a year"):
        next_send_time(paris(2026, 6, 9, 10), PHONES["PF"], policy=policy, departement="75")


def test_holidays_package_has_no_guyane_alias() -> None:
    # Given holidays' subdivisions of France: GP, MQ, RE and YT are aliases, GF is not
    with pytest.raises(NotImplementedError):
        holidays.country_holidays("FR", subdiv="GF")
    # Then Guyane's own day (10 June) is still found through its INSEE code 973
    now = local("America/Cayenne", 2026, 6, 10, 9)
    assert next_send_time(now, PHONES["GF"], policy=DEFAULT) > now


# Property tests: an independent oracle built on the holidays package and wall-clock times.
REGION_SUBDIVISION: dict[str, tuple[str, str | None]] = {
    "FR": ("FR", None),
    "GP": ("FR", "971"),
    "MQ": ("FR", "972"),
    "GF": ("FR", "973"),
    "RE": ("FR", "974"),
    "YT": ("FR", "976"),
    "PM": ("FR", "PM"),
    "PF": ("FR", "PF"),
    "NC": ("FR", "NC"),
    "US": ("US", None),
}
DEPARTEMENTS: dict[str, tuple[str | None, str]] = {
    "57": ("57", "Europe/Paris"),
    "67": ("6AE", "Europe/Paris"),
    "68": ("6AE", "Europe/Paris"),
    "75": (None, "Europe/Paris"),
    "2A": (None, "Europe/Paris"),
    "971": ("971", "America/Guadeloupe"),
    "974": ("974", "Indian/Reunion"),
}


@cache
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[object]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _places(phone: Phone, departement: str | None) -> list[tuple[ZoneInfo, tuple[str, str | None]]]:
    places = [(ZoneInfo(zone), REGION_SUBDIVISION[phone.region]) for zone in phone.time_zones]
    if departement is not None:
        subdivision, zone = DEPARTEMENTS[departement]
        places.append((ZoneInfo(zone), ("FR", subdivision)))
    return places


def _allowed(
    instant: datetime, phone: Phone, departement: str | None, policy: SendWindowPolicy
) -> bool:
    for zone, (country, subdivision) in _places(phone, departement):
        wall = instant.astimezone(zone)
        if policy.holidays_closed and wall.date() in _holidays(country, subdivision, wall.year):
            return False
        openings = policy.openings_on(wall.weekday())
        if not any(o.start <= wall.time().replace(tzinfo=None) < o.end for o in openings):
            return False
    return True


@st.composite
def policies(draw: st.DrawFn) -> SendWindowPolicy:
    """Random weekly policies with openings between 04:00 and midnight, clear of DST changes."""
    days: dict[str, tuple[Opening, ...]] = {}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        bounds = sorted(draw(st.sets(st.integers(4 * 60, 24 * 60 - 1), max_size=4)))
        days[day] = tuple(
            Opening(start=time(*divmod(start, 60)), end=time(*divmod(end, 60)))
            for start, end in zip(bounds[::2], bounds[1::2], strict=False)
        )
    if not any(days.values()):
        days["wednesday"] = (Opening(start=time(9), end=time(17)),)
    return SendWindowPolicy(**days, holidays_closed=draw(st.booleans()))


NOW = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([UTC, PARIS, ZoneInfo("America/Guadeloupe")]),
)
POLICIES = st.one_of(
    st.sampled_from(
        [DEFAULT, SendWindowPolicy.preset("extended"), SendWindowPolicy.preset("daily")]
    ),
    policies(),
)
TERRITORIES = st.sampled_from(sorted(PHONES))
RESIDENCE = st.one_of(st.none(), st.sampled_from(sorted(DEPARTEMENTS)))


@settings(max_examples=250, deadline=None)
@given(now=NOW, territory=TERRITORIES, departement=RESIDENCE, policy=POLICIES)
def test_next_send_time_properties(
    now: datetime, territory: str, departement: str | None, policy: SendWindowPolicy
) -> None:
    # Given any instant, recipient, residence and policy
    phone = PHONES[territory]
    # When the next send time is asked
    try:
        result = next_send_time(now, phone, policy=policy, departement=departement)
    except NoSendWindow:
        reject()  # places whose windows never overlap, e.g. Nouméa and Guadeloupe
    # Then it is never earlier than now
    assert result >= now
    # And it is inside the window and off holidays, in local time everywhere the recipient may be
    assert _allowed(result, phone, departement, policy)
    # And it is the first such instant: the second before was not allowed (or was before now)
    if result != now:
        assert not _allowed(now, phone, departement, policy)
        assert not _allowed(max(now, result - timedelta(seconds=1)), phone, departement, policy)
    # And asking again from the result gives the result
    assert next_send_time(result, phone, policy=policy, departement=departement) == result


def test_a_wall_time_skipped_by_the_spring_change_is_never_answered_with_an_earlier_instant() -> (
    None
):
    # Given 02:00 on the night Paris skips from 02:00 to 03:00 (a wall time that never happens),
    # read with fold=1 as the instant 00:00 UTC, and a Sunday opening at 01:01 (00:01 UTC)
    now = datetime(2026, 3, 29, 2, 0, fold=1, tzinfo=PARIS)
    policy = SendWindowPolicy.weekly("08:00-20:00", sunday="01:01-23:59", holidays_closed=False)
    # When the next send time is asked
    result = next_send_time(now, PHONES["FR"], policy=policy)
    # Then it is the opening, and compares as later than now the way any caller compares it
    assert result.astimezone(UTC) == datetime(2026, 3, 29, 0, 1, tzinfo=UTC)
    assert result >= now
