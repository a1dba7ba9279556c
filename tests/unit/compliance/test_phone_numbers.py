"""Phone numbers as French contact lists write them, for metropolitan France and overseas."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as phone_time_zones

from cloison.compliance.errors import InvalidPhoneNumber
from cloison.compliance.masking import mask_phone
from cloison.compliance.phone import Phone, normalize_phone, quick_read

# libphonenumber's example numbers: valid by construction, assigned to nobody.
METROPOLITAN_MOBILE = "+33612345678"
METROPOLITAN_FIXED = "+33123456789"


@pytest.mark.parametrize(
    "written",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "0033612345678",
        " 06 12 34 56 78 ",
        "33612345678",
    ],
    ids=[
        "spaces",
        "bare",
        "dots",
        "dashes",
        "international",
        "international-with-trunk-zero",
        "e164",
        "idd-spaced",
        "idd",
        "padded",
        "spreadsheet-lost-plus",
    ],
)
def test_metropolitan_mobile_written_any_usual_way(written: str) -> None:
    # Given a metropolitan mobile written as people write it
    # When it is normalized
    phone = normalize_phone(written)
    # Then it is the same E.164 number, in France, in Paris time, a mobile
    assert phone.e164 == METROPOLITAN_MOBILE
    assert phone.region == "FR"
    assert phone.time_zone == "Europe/Paris"
    assert phone.is_mobile


def test_metropolitan_fixed_line_is_not_a_mobile() -> None:
    # Given a metropolitan landline
    # When it is normalized
    phone = normalize_phone("01 23 45 67 89")
    # Then it is valid but flagged as not a mobile
    assert phone.e164 == METROPOLITAN_FIXED
    assert not phone.is_mobile


OVERSEAS_MOBILES = [
    # national form as written in France, E.164, region, IANA zone
    ("0690 00 12 34", "+590690001234", "GP", "America/Guadeloupe"),
    ("0694 20 12 34", "+594694201234", "GF", "America/Cayenne"),
    ("0696 20 12 34", "+596696201234", "MQ", "America/Martinique"),
    ("0692 12 34 56", "+262692123456", "RE", "Indian/Reunion"),
    ("0639 01 23 45", "+262639012345", "YT", "Indian/Mayotte"),
]
each_overseas_mobile = pytest.mark.parametrize(
    ("national", "e164", "region", "zone"),
    OVERSEAS_MOBILES,
    ids=[row[2] for row in OVERSEAS_MOBILES],
)


@each_overseas_mobile
def test_overseas_mobile_in_national_form_resolves_to_its_territory(
    national: str, e164: str, region: str, zone: str
) -> None:
    # Given an overseas mobile written in national form in a French contact list
    # When it is normalized with the default region FR
    phone = normalize_phone(national)
    # Then it belongs to its territory and time zone, not to an invalid +33 number
    assert (phone.e164, phone.region, phone.time_zone, phone.is_mobile) == (
        e164,
        region,
        zone,
        True,
    )


@each_overseas_mobile
def test_overseas_mobile_in_international_form(
    national: str, e164: str, region: str, zone: str
) -> None:
    # Given the same mobiles written with their own country code, spaced
    written = f"+{e164[1:4]} {e164[4:7]} {e164[7:9]} {e164[9:11]} {e164[11:]}"
    # When they are normalized
    phone = normalize_phone(written)
    # Then the result is the same
    assert (phone.e164, phone.region, phone.time_zone) == (e164, region, zone)


@pytest.mark.parametrize(
    ("written", "region", "zones"),
    [
        ("+508 55 12 34", "PM", ("America/Miquelon",)),
        ("+689 87 12 34 56", "PF", ("Pacific/Tahiti", "Pacific/Marquesas", "Pacific/Gambier")),
        ("+687 75 12 34", "NC", ("Pacific/Noumea",)),
        ("+681 82 12 34", "WF", ("Pacific/Wallis",)),
        ("+590 590 20 12 34", "GP", ("America/Guadeloupe",)),
        ("+262 262 16 12 34", "RE", ("Indian/Reunion",)),
    ],
    ids=[
        "saint-pierre",
        "polynesia",
        "new-caledonia",
        "wallis",
        "guadeloupe-fixed",
        "reunion-fixed",
    ],
)
def test_overseas_collectivities_and_fixed_lines(
    written: str, region: str, zones: tuple[str, ...]
) -> None:
    # Given numbers of the other French territories
    # When they are normalized
    phone = normalize_phone(written)
    # Then each has its region and every zone it may be in, main zone first
    assert phone.region == region
    assert phone.time_zones == zones


def test_metropolitan_mobile_written_in_an_overseas_contact_list() -> None:
    # Given a list kept in Guadeloupe, holding a metropolitan mobile in national form
    # When it is normalized with the default region GP
    phone = normalize_phone("06 12 34 56 78", default_region="GP")
    # Then it is the metropolitan number
    assert (phone.e164, phone.region) == (METROPOLITAN_MOBILE, "FR")


def test_phonenumbers_reads_mayotte_fixed_lines_as_metropolitan() -> None:
    # Given Mayotte's example landline in national form (ARCEP gives 0269 to Mayotte)
    national = "0269 60 12 34"
    # When phonenumbers alone reads it in France, it wrongly accepts a +33 number
    assert phonenumbers.is_valid_number(phonenumbers.parse(national, "FR"))
    # Then normalize_phone corrects it to Mayotte
    phone = normalize_phone(national)
    assert (phone.e164, phone.region, phone.time_zone) == ("+262269601234", "YT", "Indian/Mayotte")


def test_phonenumbers_gives_reunion_mobiles_mayotte_time_too() -> None:
    # Given a Réunion mobile, to which phonenumbers gives both Indian Ocean zones
    number = phonenumbers.parse("+262692123456")
    assert set(phone_time_zones.time_zones_for_number(number)) == {
        "Indian/Reunion",
        "Indian/Mayotte",
    }
    # When normalize_phone reads it
    phone = normalize_phone("+262692123456")
    # Then the zone is Réunion's alone (its region decides)
    assert phone.time_zones == ("Indian/Reunion",)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("0612", "too short"),
        ("06 12 34 56 78 90 12", "too long"),
        ("04 00 12 34 56", "not a valid number"),
        ("bonjour", "is not a phone number"),
        ("+999 12 34 56 78", "no valid country code"),
        ("06 12 34 56 78 ext. 12", "extension"),
        ("+800 1234 5678", "belongs to no country"),
        ("0" * 41, "too long"),
    ],
    ids=[
        "empty",
        "blank",
        "too-short",
        "too-long-for-france",
        "unassigned-range",
        "words",
        "unknown-country",
        "extension",
        "non-geographic",
        "absurd",
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(written: str, reason: str) -> None:
    # Given something that is not a number an SMS can reach
    # When it is normalized
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalize_phone(written)
    # Then the error is a ValueError naming the field and the reason
    assert isinstance(raised.value, ValueError)
    assert raised.value.field == "phone"
    assert reason in str(raised.value)


def test_unknown_default_region_is_refused() -> None:
    # Given a default region that does not exist
    # When a number is normalized with it
    with pytest.raises(InvalidPhoneNumber, match="default_region"):
        normalize_phone("06 12 34 56 78", default_region="XX")


def test_errors_and_repr_never_show_the_full_number() -> None:
    # Given a valid-looking French number, too long by one digit
    written = "06 12 34 56 78 9"
    # When it is refused
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalize_phone(written)
    # Then only its last two digits appear in the message
    assert "12345678" not in str(raised.value).replace(" ", "")
    assert "***89" in str(raised.value)
    # And a Phone printed in a log line is masked too
    assert "12345678" not in repr(normalize_phone("06 12 34 56 78"))
    assert normalize_phone("06 12 34 56 78").masked == "***78"


def test_phone_is_an_immutable_value() -> None:
    # Given a normalized phone
    phone = normalize_phone("0692 12 34 56")
    # When it is compared with the same number written otherwise
    # Then they are equal and hashable, and cannot be changed
    assert phone == normalize_phone("+262 692 12 34 56")
    assert len({phone, normalize_phone("+262692123456")}) == 1
    with pytest.raises(AttributeError):
        phone.region = "YT"  # type: ignore[misc]


def test_mask_keeps_only_two_digits() -> None:
    # Given numbers of any length
    # When they are masked
    # Then at most their last two digits remain
    assert mask_phone("+33612345678") == "***78"
    assert mask_phone("123") == "***"


NATIONAL_DIGITS = st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True)
SEPARATORS = st.sampled_from(["", " ", ".", "-"])


@settings(max_examples=300, deadline=None)
@given(digits=NATIONAL_DIGITS, separator=SEPARATORS, region=st.sampled_from(["FR", "GP", "RE"]))
def test_quick_read_agrees_with_phonenumbers(digits: str, separator: str, region: str) -> None:
    # Given a French-plan number written in pairs with a separator
    written = separator.join(digits[i : i + 2] for i in range(0, 10, 2))
    international = f"+33{separator}{digits[1:]}"
    # When the quick reader reads it
    # Then it reads exactly what phonenumbers' full parser reads
    assert quick_read(written, region) == phonenumbers.parse(written, region)
    assert quick_read(international, region) == phonenumbers.parse(international, region)


@settings(max_examples=300, deadline=None)
@given(digits=NATIONAL_DIGITS)
def test_normalize_is_idempotent_and_errors_stay_masked(digits: str) -> None:
    # Given any ten-digit national number
    # When it is normalized, or refused
    try:
        phone = normalize_phone(digits)
    except InvalidPhoneNumber as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        # Then a refusal never shows more than the last two digits
        assert digits[-4:] not in refusal
        return
    # Then normalizing its E.164 form gives the same phone
    assert normalize_phone(phone.e164) == phone
    assert isinstance(phone, Phone)
