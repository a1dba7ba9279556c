"""Phone numbers as people write them, turned into E.164 with their territory and time zones."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult
from phonenumbers import timezone as phone_time_zones

from .errors import InvalidPhoneNumber
from .masking import mask_phone
from .territories import zones_of_number

# One national plan for France and its overseas départements, overseas first (see _parse).
FRENCH_NATIONAL_NUMBERING = ("GP", "MQ", "GF", "RE", "YT", "FR")

# The usual forms of French-plan numbers, read without the general parser (a third of the cost).
_FRENCH_NATIONAL = re.compile(r"0([1-9][0-9]{8})")
_FRENCH_PLAN_INTERNATIONAL = re.compile(r"(?:\+|00)(33|262|590|594|596)([1-9][0-9]{8})")

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_MAX_INPUT = 40
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has no valid country code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}
_POSSIBILITY_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "has no valid country code",
    ValidationResult.TOO_SHORT: "is too short",
    ValidationResult.TOO_LONG: "is too long",
    ValidationResult.INVALID_LENGTH: "has a length no number of its country has",
}


@dataclass(frozen=True, slots=True)
class Phone:
    """A valid number: E.164 form, ISO region, IANA time zone and whether it is a mobile.

    `other_time_zones` holds the further zones the number may be in (French Polynesia spans
    three); sending windows are honoured in all of them.
    """

    e164: str
    region: str
    time_zone: str
    is_mobile: bool
    other_time_zones: tuple[str, ...] = ()

    @property
    def time_zones(self) -> tuple[str, ...]:
        """Every zone the recipient may be in, main zone first."""
        return (self.time_zone, *self.other_time_zones)

    @property
    def masked(self) -> str:
        """The number with all but its last two digits hidden."""
        return mask_phone(self.e164)

    def __repr__(self) -> str:
        # A Phone that ends up in a log line must not leak the full number.
        return (
            f"Phone(e164={self.masked!r}, region={self.region!r}, "
            f"time_zone={self.time_zone!r}, is_mobile={self.is_mobile!r})"
        )


def normalize_phone(raw: str, default_region: str = "FR") -> Phone:
    """Parse a number written in any usual way (spaces, dots, `+33 (0)6`, `0033`) into a Phone.

    A national number is read in `default_region`; for France and its overseas départements
    the other members of the French numbering plan are tried too, so `0692 ...` is Réunion.
    Raises InvalidPhoneNumber, whose message never holds more than the last two digits.
    """
    region = default_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidPhoneNumber("default_region", f"{default_region!r} is not a region code")
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("phone", "is empty")
    if len(text) > _MAX_INPUT:
        raise InvalidPhoneNumber("phone", f"{mask_phone(text)} is too long to be a phone number")
    number, number_type = _parse(text, region)
    if number.extension:
        raise InvalidPhoneNumber(
            "phone", f"{mask_phone(text)} has an extension, which SMS cannot reach"
        )
    number_region = phonenumbers.region_code_for_number(number)
    if number_region is None or number_region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        raise InvalidPhoneNumber("phone", f"{mask_phone(text)} belongs to no country")
    zones = zones_of_number(_library_zones(number, number_type), number_region)
    if not zones:
        raise InvalidPhoneNumber("phone", f"{mask_phone(text)} cannot be placed in a time zone")
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=number_region,
        time_zone=zones[0],
        is_mobile=number_type in _MOBILE_TYPES,
        other_time_zones=zones[1:],
    )


def quick_read(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """The number `phonenumbers.parse` would read, for the usual forms of the French plan.

    `0612345678` (with spaces, dots or dashes) in a French-plan region, `+33612345678` or
    `0033612345678`; None for anything else, which the general parser reads.
    """
    compact = text.replace(" ", "").replace(".", "").replace("-", "")
    in_french_plan = region in FRENCH_NATIONAL_NUMBERING
    national = _FRENCH_NATIONAL.fullmatch(compact) if in_french_plan else None
    if national:
        return phonenumbers.PhoneNumber(
            country_code=phonenumbers.country_code_for_region(region),
            national_number=int(national.group(1)),
        )
    international = _FRENCH_PLAN_INTERNATIONAL.fullmatch(compact)
    if international and (in_french_plan or compact.startswith("+")):
        return phonenumbers.PhoneNumber(
            country_code=int(international.group(1)), national_number=int(international.group(2))
        )
    return None


def _parse(text: str, region: str) -> tuple[phonenumbers.PhoneNumber, int]:
    number = quick_read(text, region)
    if number is None:
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException as exc:
            reason = _PARSE_REASONS.get(exc.error_type, "cannot be read")
            raise InvalidPhoneNumber("phone", f"{mask_phone(text)} {reason}") from None
    # number_type is UNKNOWN exactly when is_valid_number is False; calling it once is cheaper.
    number_type = phonenumbers.number_type(number)
    national = region in FRENCH_NATIONAL_NUMBERING and not text.startswith(("+", "00"))
    # libphonenumber's FR landlines wrongly cover 0263/0269 (Réunion, Mayotte): overseas wins.
    metropolitan_fixed = number_type == PhoneNumberType.FIXED_LINE and number.country_code == 33
    if national and (number_type == PhoneNumberType.UNKNOWN or metropolitan_fixed):
        # The same national digits, read in the other territories of the French plan.
        for other in FRENCH_NATIONAL_NUMBERING:
            if other == region or (metropolitan_fixed and other == "FR"):
                continue
            candidate = phonenumbers.PhoneNumber(
                country_code=phonenumbers.country_code_for_region(other),
                national_number=number.national_number,
            )
            # Checking one region's metadata is cheaper than number_type on a shared code.
            if phonenumbers.is_valid_number_for_region(candidate, other):
                return candidate, phonenumbers.number_type(candidate)
    if number_type != PhoneNumberType.UNKNOWN:
        return number, number_type
    compact = "".join(char for char in text if char.isdigit())
    if compact == text.replace(" ", "") and not compact.startswith("0"):
        # Spreadsheets drop the "+" of international numbers: "33612345678".
        try:
            international = phonenumbers.parse("+" + compact)
        except NumberParseException:
            pass
        else:
            international_type = phonenumbers.number_type(international)
            if international_type != PhoneNumberType.UNKNOWN:
                return international, international_type
    reason = _POSSIBILITY_REASONS.get(
        phonenumbers.is_possible_number_with_reason(number), "is not a valid number"
    )
    raise InvalidPhoneNumber("phone", f"{mask_phone(text)} {reason}")


# Zones of numbers that are not geographical depend on the country calling code alone.
_COUNTRY_LEVEL_ZONES: dict[int, tuple[str, ...]] = {}


def _library_zones(number: phonenumbers.PhoneNumber, number_type: int) -> tuple[str, ...]:
    # time_zones_for_number would compute the number type a second time.
    country_code = number.country_code or 0
    if phonenumbers.is_number_type_geographical(number_type, country_code):
        return tuple(phone_time_zones.time_zones_for_geographical_number(number))
    zones = _COUNTRY_LEVEL_ZONES.get(country_code)
    if zones is None:
        zones = _COUNTRY_LEVEL_ZONES[country_code] = tuple(
            phone_time_zones.time_zones_for_number(number)
        )
    return zones
