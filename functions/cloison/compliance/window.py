"""Sending windows: when, in the recipient's local time, a message may be sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Final, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from .errors import InvalidSendTime, NoSendWindow
from .phone import Phone
from .territories import (
    Calendar,
    calendar_of_departement,
    calendar_of_region,
    holiday_dates,
    normalize_departement,
    region_of_departement,
    zones_of_region,
)

# A policy with a few open days a year still finds one; beyond a year nothing will.
SEARCH_HORIZON: Final = timedelta(days=366)
_ONE_SECOND: Final = timedelta(seconds=1)
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Opening(BaseModel):
    """One opening in local wall-clock time, from `start` (included) to `end` (excluded).

    Written as an object or as text: `Opening(start=time(8), end=time(20))` or `"08:00-20:00"`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        if isinstance(value, str):
            start, dash, end = value.partition("-")
            if not dash:
                raise ValueError(f"{value!r} is not an opening; write it 'HH:MM-HH:MM'")
            return {"start": start.strip(), "end": end.strip()}
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        for bound in (self.start, self.end):
            if bound.tzinfo is not None:
                raise ValueError("opening hours are local wall-clock times, without a time zone")
            if bound.second or bound.microsecond:
                raise ValueError("opening hours are given to the minute")
        if self.start >= self.end:
            raise ValueError(f"{self} ends before it starts")
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DayOpenings = tuple[Opening, ...]
_WORKDAY: Final = (Opening(start=time(8), end=time(20)),)
_SATURDAY: Final = (Opening(start=time(10), end=time(18)),)


class SendWindowPolicy(BaseModel):
    """When sends are allowed, in the recipient's local time: openings per weekday, holidays.

    `SendWindowPolicy()` is the French default: Monday to Friday 08:00-20:00, Saturday
    10:00-18:00, never on Sundays or public holidays. `SendWindowPolicy.preset(name)` gives
    the other presets; any field can be set, e.g. `SendWindowPolicy(saturday=())`, and a day
    may have several openings, e.g. `("09:00-12:00", "14:00-19:00")`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    monday: DayOpenings = _WORKDAY
    tuesday: DayOpenings = _WORKDAY
    wednesday: DayOpenings = _WORKDAY
    thursday: DayOpenings = _WORKDAY
    friday: DayOpenings = _WORKDAY
    saturday: DayOpenings = _SATURDAY
    sunday: DayOpenings = ()
    holidays_closed: bool = True

    @field_validator(*WEEKDAYS)
    @classmethod
    def _disjoint(cls, openings: DayOpenings) -> DayOpenings:
        ordered = tuple(sorted(openings, key=lambda opening: opening.start))
        for before, after in pairwise(ordered):
            if after.start < before.end:
                raise ValueError(f"openings {before} and {after} overlap")
        return ordered

    @model_validator(mode="after")
    def _opens_sometime(self) -> Self:
        if not any(self.openings_on(weekday) for weekday in range(7)):
            raise ValueError("the policy has no opening on any day of the week")
        return self

    def openings_on(self, weekday: int) -> DayOpenings:
        """The openings of a weekday, Monday being 0 as in `date.weekday()`."""
        return (
            self.monday,
            self.tuesday,
            self.wednesday,
            self.thursday,
            self.friday,
            self.saturday,
            self.sunday,
        )[weekday]

    @classmethod
    def weekly(
        cls,
        weekdays: DayOpenings | str,
        *,
        saturday: DayOpenings | str = (),
        sunday: DayOpenings | str = (),
        holidays_closed: bool = True,
    ) -> SendWindowPolicy:
        """A policy with the same openings Monday to Friday; text like `"08:00-20:00"` works."""
        days = {name: _openings(weekdays) for name in WEEKDAYS[:5]}
        return cls.model_validate(
            {
                **days,
                "saturday": _openings(saturday),
                "sunday": _openings(sunday),
                "holidays_closed": holidays_closed,
            }
        )

    @classmethod
    def preset(cls, name: str) -> SendWindowPolicy:
        """A named preset: `default`, `extended` (Monday-Saturday 08:00-22:00) or `daily`.

        `daily` (every day 08:00-22:00, holidays included) suits transactional messages,
        which the rules on marketing hours do not cover.
        """
        if name == "default":
            return cls()
        if name == "extended":
            return cls.weekly("08:00-22:00", saturday="08:00-22:00")
        if name == "daily":
            return cls.weekly(
                "08:00-22:00", saturday="08:00-22:00", sunday="08:00-22:00", holidays_closed=False
            )
        raise ValueError(f"preset: {name!r} is unknown; choose one of {', '.join(PRESET_NAMES)}")


PRESET_NAMES: Final = ("default", "extended", "daily")


def _openings(value: DayOpenings | str) -> DayOpenings:
    if isinstance(value, str):
        return (Opening.model_validate(value),)
    return value


def next_send_time(
    now: datetime,
    phone: Phone,
    *,
    policy: SendWindowPolicy,
    departement: str | None = None,
) -> datetime:
    """`now` if a send is allowed at that instant, else the first allowed instant after it.

    Allowed means inside an opening of `policy`, and not on a public holiday if the policy
    closes on holidays, in local time wherever the recipient may be: each zone of `phone`
    with its territory's holidays, and, when `departement` is given, that département's zone
    and holidays (Alsace-Moselle's for 57, 67 and 68). A later instant is given in UTC: two
    datetimes of one zone compare by wall time, which is wrong across a daylight-saving change.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidSendTime("now", "must be timezone-aware; a naive datetime has no instant")
    places = _places(phone.region, phone.time_zones, departement)
    start = now.astimezone(UTC)
    instant, limit = start, start + SEARCH_HORIZON
    while True:
        latest = instant
        for zone, calendars in places:
            opening = _next_opening(instant, zone, calendars, policy)
            if opening is None or opening > limit:
                raise NoSendWindow(
                    "policy", f"no opening within a year in {', '.join(str(z) for z, _ in places)}"
                )
            latest = max(latest, opening)
        if latest == instant:
            return now if instant == start else instant
        # One place opens later: every place is checked again from there.
        instant = latest


def window_close(
    now: datetime,
    phone: Phone,
    *,
    policy: SendWindowPolicy,
    departement: str | None = None,
) -> datetime:
    """When the opening that `now` is in closes for the recipient (the earliest of its zones).

    `now` itself if a send is not allowed at `now`. Openings that touch (12:00-14:00 then
    14:00-19:00) close at the first one's end: `next_send_time` then answers that very instant.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidSendTime("now", "must be timezone-aware; a naive datetime has no instant")
    if next_send_time(now, phone, policy=policy, departement=departement) != now:
        return now
    instant = now.astimezone(UTC)
    closes = []
    for zone, _calendars in _places(phone.region, phone.time_zones, departement):
        local = instant.astimezone(zone)
        for opening in policy.openings_on(local.weekday()):
            end = _instant_of(local.date(), opening.end, zone)
            if _instant_of(local.date(), opening.start, zone) <= instant < end:
                closes.append(end)
    return min(closes, default=now)


Place = tuple[ZoneInfo, tuple[Calendar, ...]]


@lru_cache(maxsize=1024)
def _places(region: str, time_zones: tuple[str, ...], departement: str | None) -> tuple[Place, ...]:
    """Each zone the recipient may be in, with the holiday calendars that apply there."""
    calendars: dict[str, dict[Calendar, None]] = {}
    phone_calendar = calendar_of_region(region)
    for zone in time_zones:
        calendars[zone] = {phone_calendar: None} if phone_calendar else {}
    if departement is not None:
        code = normalize_departement(departement)
        for zone in zones_of_region(region_of_departement(code)):
            calendars.setdefault(zone, {})[calendar_of_departement(code)] = None
    return tuple((ZoneInfo(zone), tuple(found)) for zone, found in calendars.items())


def _next_opening(
    instant: datetime, zone: ZoneInfo, calendars: tuple[Calendar, ...], policy: SendWindowPolicy
) -> datetime | None:
    """The first allowed instant at or after `instant` in one zone, or None within the horizon."""
    first_day = instant.astimezone(zone).date()
    for offset in range(SEARCH_HORIZON.days + 1):
        day = first_day + timedelta(days=offset)
        openings = policy.openings_on(day.weekday())
        if not openings:
            continue
        if policy.holidays_closed and any(
            day in holiday_dates(calendar, day.year) for calendar in calendars
        ):
            continue
        for opening in openings:
            if _instant_of(day, opening.end, zone) <= instant:
                continue
            start = _instant_of(day, opening.start, zone)
            return instant if start <= instant else start
    return None


@lru_cache(maxsize=8192)
def _instant_of(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the local clock of `zone` on `day` shows `wall` or later.

    A wall time skipped by a daylight-saving change (02:30 on a spring-forward night in
    Paris) resolves to the change itself; a repeated one to its first occurrence.
    """
    local = datetime.combine(day, wall)
    instant = local.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    earlier = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    # The change lies between the two readings of the skipped time: bisect to the second.
    while instant - earlier > _ONE_SECOND:
        middle = earlier + (instant - earlier) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= local:
            instant = middle
        else:
            earlier = middle
    return instant
