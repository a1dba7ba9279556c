"""Where a recipient lives: French territories, their holiday calendars and their time zones.

`holidays` is imported by the calendar functions, not with the module: normalizing a number
(all the inbound path and the reconciliation need) never loads it.
"""

from __future__ import annotations

import importlib.resources
import re
import zoneinfo
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import phonenumbers
from phonenumbers import timezone as phone_time_zones

from .errors import InvalidDepartement

# INSEE codes of the overseas départements and collectivities, with their ISO 3166 codes.
OVERSEAS_BY_DEPARTEMENT: dict[str, str] = {
    "971": "GP",
    "972": "MQ",
    "973": "GF",
    "974": "RE",
    "975": "PM",
    "976": "YT",
    "977": "BL",
    "978": "MF",
    "986": "WF",
    "987": "PF",
    "988": "NC",
}
DEPARTEMENT_BY_OVERSEAS: dict[str, str] = {
    iso: code for code, iso in OVERSEAS_BY_DEPARTEMENT.items()
}

# Départements with the local law of Alsace-Moselle, mapped to the `holidays` subdivision.
ALSACE_MOSELLE: dict[str, str] = {"57": "57", "67": "6AE", "68": "6AE"}

_METROPOLITAN = re.compile(r"(?:0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5])")
_UNKNOWN_ZONE = "Etc/Unknown"


class Calendar(NamedTuple):
    """A holiday calendar of the `holidays` package: a country and an optional subdivision."""

    country: str
    subdivision: str | None = None


FRENCH_NATIONAL = Calendar("FR")


def normalize_departement(departement: str) -> str:
    """Return the canonical code of a département (`"06"`, `"2A"`, `"971"`) or raise."""
    code = departement.strip().upper()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    if _METROPOLITAN.fullmatch(code) or code in OVERSEAS_BY_DEPARTEMENT:
        return code
    raise InvalidDepartement(
        "departement",
        f"{departement!r} is not a département code (01-95, 2A, 2B, 971-978, 986-988)",
    )


def region_of_departement(code: str) -> str:
    """ISO 3166 code of the territory a (canonical) département belongs to."""
    return OVERSEAS_BY_DEPARTEMENT.get(code, "FR")


def calendar_of_departement(code: str) -> Calendar:
    """Holiday calendar for a contact living in a (canonical) département."""
    if code in ALSACE_MOSELLE:
        return Calendar("FR", ALSACE_MOSELLE[code])
    if code in OVERSEAS_BY_DEPARTEMENT:
        return _french_overseas_calendar(OVERSEAS_BY_DEPARTEMENT[code])
    return FRENCH_NATIONAL


@lru_cache(maxsize=512)
def calendar_of_region(region: str) -> Calendar | None:
    """Holiday calendar for a phone number's region, or None if `holidays` has none."""
    if region == "FR":
        return FRENCH_NATIONAL
    if region in DEPARTEMENT_BY_OVERSEAS:
        return _french_overseas_calendar(region)
    import holidays  # here, not at the top: see the docstring

    try:
        holidays.country_holidays(region)
    except NotImplementedError:
        return None
    return Calendar(region)


def _french_overseas_calendar(region: str) -> Calendar:
    # holidays knows GP, MQ, RE, YT as aliases but not GF (only "GY"): use the INSEE code.
    code = DEPARTEMENT_BY_OVERSEAS[region]
    return Calendar("FR", code if code in _french_subdivisions() else region)


@lru_cache(maxsize=1)
def _french_subdivisions() -> frozenset[str]:
    import holidays  # here, not at the top: see the docstring

    return frozenset(holidays.country_holidays("FR").subdivisions)


@lru_cache(maxsize=1024)
def holiday_dates(calendar: Calendar, year: int) -> frozenset[date]:
    """The public holidays of one calendar in one year."""
    import holidays  # here, not at the top: see the docstring

    return frozenset(
        holidays.country_holidays(calendar.country, subdiv=calendar.subdivision, years=year)
    )


@lru_cache(maxsize=1)
def _zone_table() -> dict[str, tuple[str, ...]]:
    """IANA `zone.tab`: the zones of each country, main zone first (empty if not installed)."""
    text = None
    for base in zoneinfo.TZPATH:
        path = Path(base) / "zone.tab"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            break
    if text is None:
        try:
            text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
        except (ModuleNotFoundError, FileNotFoundError):
            return {}
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            table.setdefault(fields[0], []).append(fields[2])
    return {country: tuple(zones) for country, zones in table.items()}


@lru_cache(maxsize=512)
def zones_of_region(region: str) -> tuple[str, ...]:
    """Every time zone of a territory, main zone first; () if unknown."""
    zones = _zone_table().get(region)
    if zones:
        return zones
    # Without tzdata's zone.tab, the zones of the region's example numbers are a safe superset.
    found: dict[str, None] = {}
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            found.update(dict.fromkeys(phone_time_zones.time_zones_for_number(example)))
    found.pop(_UNKNOWN_ZONE, None)
    return tuple(found)


@lru_cache(maxsize=4096)
def zones_of_number(candidates: tuple[str, ...], region: str) -> tuple[str, ...]:
    """Narrow the zones phonenumbers gives a number to those of its territory, main zone first."""
    known = tuple(zone for zone in candidates if zone != _UNKNOWN_ZONE)
    territory = zones_of_region(region)
    # phonenumbers gives +262 mobiles both Réunion's and Mayotte's zones; the region decides.
    narrowed = tuple(zone for zone in territory if zone in known)
    return narrowed or known or territory
