"""Sign-up by double opt-in: the confirmation asked for, the keyword that answers it, and the
limits that keep a public form from being used to run up SMS costs (SMS pumping)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Self

from .replies import normalize_reply

# The keyword a confirmation asks for, by the language of the request.
CONFIRMATION_KEYWORDS: Final = {"fr": "OUI", "en": "YES"}
# A confirmation as `normalize_reply` leaves it: the keyword of either language, and the code
# that tells apart the sign-ups of one number waiting for several teams (`oui 2`).
_CONFIRMATION = re.compile(r"(?:oui|yes) ?([1-9][0-9]?)?")
# Metropolitan France and the overseas departments, as phonenumbers names their regions.
DEFAULT_REGIONS: Final = ("FR", "GP", "MQ", "GF", "RE", "YT")
# The start of a number that pumping floods walk through: `+` and its first six digits.
PREFIX_DIGITS: Final = 6


class Refusal(StrEnum):
    """Why a sign-up request sent nothing: logged, never answered (the answer is the same)."""

    UNKNOWN_TEAM = "unknown_team"  # the team has no notice
    STALE_NOTICE = "stale_notice"  # the hash is not the latest version of the team's notice
    SUPPRESSED = "suppressed"  # the number opted out, for every team or this one
    CONFIRMED = "confirmed"  # the number already consented to the team
    ADDRESS_LIMIT = "address_limit"
    NUMBER_LIMIT = "number_limit"
    PREFIX_LIMIT = "prefix_limit"
    BUDGET = "budget"  # the team's confirmations for the day are spent
    CARRIER_REFUSED = "carrier_refused"  # on End User Messaging's opt-out list


class LimitKind(StrEnum):
    """What a rolling limit counts the requests of: its item is keyed by it."""

    ADDRESS = "address"  # the source address's keyed hash
    NUMBER = "number"  # the number's keyed hash: the only one that is about a person's number
    PREFIX = "prefix"  # a block of numbers


@dataclass(frozen=True)
class RollingLimit:
    """At most `limit` requests in any `window` ending now."""

    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= timedelta(0):
            raise ValueError("a limit allows at least one request in a positive window")

    def admit(self, times: Iterable[datetime], now: datetime) -> list[datetime] | None:
        """The request times to keep with the one made `now`, or None if it is one too many.

        Only the times inside the window count (and are kept): the list never holds more than
        `limit` times, however long the flood.
        """
        since = now - self.window
        recent = sorted(moment for moment in times if since < moment <= now)
        if len(recent) >= self.limit:
            return None
        return [*recent, now]


# The windows the limits count in. How many requests each allows is the deployment's
# (`SignupAddressLimit`, `SignupNumberLimit`, `SignupPrefixLimit`); decision 057 says why.
ADDRESS_WINDOW: Final = timedelta(hours=1)
NUMBER_WINDOW: Final = timedelta(hours=24)
PREFIX_WINDOW: Final = timedelta(hours=1)


@dataclass(frozen=True)
class RequestLimits:
    """The rolling limits on sign-up requests: per source address, per number, per block."""

    address: RollingLimit
    number: RollingLimit
    prefix: RollingLimit

    @classmethod
    def allowing(cls, address: int, number: int, prefix: int) -> Self:
        """So many requests per address an hour, per number a day, per block an hour."""
        return cls(
            RollingLimit(address, ADDRESS_WINDOW),
            RollingLimit(number, NUMBER_WINDOW),
            RollingLimit(prefix, PREFIX_WINDOW),
        )


# The template's defaults: 5 an hour per address, 3 a day per number, 10 an hour per block.
DEFAULT_LIMITS: Final = RequestLimits.allowing(address=5, number=3, prefix=10)


def number_prefix(e164: str) -> str:
    """The block a number belongs to: `+33751005001` -> `+337510`. Not a number: a key."""
    return e164[: 1 + PREFIX_DIGITS]


def allowed_regions(setting: str) -> frozenset[str]:
    """The regions of a comma-separated setting (`FR,GP,MQ`), upper-cased, blanks ignored."""
    return frozenset(part.strip().upper() for part in setting.split(",") if part.strip())


def confirmation_code(text: str) -> int | None:
    """The code a confirmation reply carries, in any case, with or without accents and
    punctuation: 1 for the keyword alone (`oui`, `Oui !`, `YES.`, `OUI 1`), n for the keyword
    followed by n (`OUI 2`, `oui2`); None for anything else, even `oui merci`."""
    match = _CONFIRMATION.fullmatch(normalize_reply(text))
    return int(match.group(1) or 1) if match is not None else None


def is_confirmation(text: str) -> bool:
    """The reply is a confirmation keyword, with or without its code."""
    return confirmation_code(text) is not None


def free_code(taken: Iterable[int]) -> int:
    """The code a new sign-up asks for: the smallest that no other sign-up waiting for the
    number asks for; 1, the keyword alone, when none does. All confirmations come from the
    stack's one pool, so that the reply itself cannot tell which organisation it answers."""
    used = set(taken)
    code = 1
    while code in used:
        code += 1
    return code


def confirmation_keyword(language: str, code: int) -> str:
    """What the person is asked to reply: `OUI`, or `OUI 2` when another sign-up of the
    number waits with `OUI`."""
    keyword = CONFIRMATION_KEYWORDS[language]
    return keyword if code == 1 else f"{keyword} {code}"


def confirmation_text(
    language: str, organisation: str, stop: str, hours: int, code: int = 1
) -> str:
    """The SMS asking the person to confirm: who asks, the keyword, the delay, how to stop."""
    keyword = confirmation_keyword(language, code)
    if language == "en":
        return (
            f"{organisation}: to confirm your sign-up to our SMS, reply {keyword}."
            f" Without a reply within {hours} h nothing is kept. {stop}"
        )
    return (
        f"{organisation} : pour confirmer votre inscription à nos SMS, répondez {keyword}."
        f" Sans réponse sous {hours} h, rien n'est conservé. {stop}"
    )


def day_of(now: datetime) -> str:
    """The UTC day a budget counts in."""
    return now.strftime("%Y-%m-%d")
