"""Personal data found in a reply: email addresses, IBANs, payment card numbers, French NIRs."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class PersonalData(StrEnum):
    """A kind of personal data that makes a reply sensitive."""

    EMAIL = "email"
    IBAN = "iban"
    CARD_NUMBER = "card_number"
    NIR = "nir"


_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
# IBANs are printed in groups of four, the last one shorter, or in one piece.
_IBAN = re.compile(
    r"(?<![A-Z0-9])[A-Z]{2}[0-9]{2}((?:[ -]?[A-Z0-9]{4}){2,7})([ -]?[A-Z0-9]{1,4})?(?![A-Z0-9])"
)
_CARD = re.compile(r"(?<![0-9])[2-6][0-9](?:[ -]?[0-9]){11,17}(?![0-9])")
# Sex, year, month, département (2A/2B in Corsica), commune, order number, key.
_NIR = re.compile(
    r"(?<![0-9A-Z])([1-478])[ .]?([0-9]{2})[ .]?([0-9]{2})[ .]?([0-9]{2}|2[AB])"
    r"[ .]?([0-9]{3})[ .]?([0-9]{3})[ .]?([0-9]{2})(?![0-9])"
)
_IBAN_LENGTHS = range(15, 35)
_CARD_LENGTHS = range(13, 20)
# How cards print their numbers: 4-4-4-4 (Visa, Mastercard, CB) and 4-6-5 (American Express).
_CARD_LAYOUTS = ((4, 4, 4, 4), (4, 6, 5))


def find_personal_data(text: str) -> frozenset[PersonalData]:
    """The kinds of personal data `text` holds; numbers must pass their check digits."""
    text = unicodedata.normalize("NFKC", text)
    found: set[PersonalData] = set()
    if "@" in text and _EMAIL.search(text):
        found.add(PersonalData.EMAIL)
    upper = text.upper()
    if any(_has_valid_iban(match) for match in _IBAN.finditer(upper)):
        found.add(PersonalData.IBAN)
    if any(_has_valid_card(match.group()) for match in _CARD.finditer(text)):
        found.add(PersonalData.CARD_NUMBER)
    if any(is_valid_nir("".join(match.groups())) for match in _NIR.finditer(upper)):
        found.add(PersonalData.NIR)
    return frozenset(found)


def is_valid_iban(iban: str) -> bool:
    """ISO 13616 check: the rearranged IBAN, letters as 10-35, is 1 modulo 97."""
    compact = iban.replace(" ", "").replace("-", "").upper()
    if len(compact) not in _IBAN_LENGTHS or not compact.isalnum() or not compact.isascii():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def is_valid_card_number(number: str) -> bool:
    """Luhn check of a 13 to 19 digit card number."""
    digits = [int(char) for char in number if char.isdigit()]
    if len(digits) not in _CARD_LENGTHS:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_valid_nir(nir: str) -> bool:
    """French social security number: 13 characters and a key equal to 97 - (number mod 97).

    Corsica's 2A and 2B count as 19 and 18 in the key computation.
    """
    compact = nir.replace(" ", "").replace(".", "").upper()
    if len(compact) != 15 or not compact[13:].isdigit():
        return False
    body = compact[:13]
    body = body[:5] + {"2A": "19", "2B": "18"}.get(body[5:7], body[5:7]) + body[7:]
    if not body.isdigit():
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def _has_valid_iban(match: re.Match[str]) -> bool:
    # The short last group may be the start of the next word: try without it too.
    whole = match.group()
    without_tail = whole[: match.start(2) - match.start()] if match.group(2) else None
    return is_valid_iban(whole) or (without_tail is not None and is_valid_iban(without_tail))


def _has_valid_card(candidate: str) -> bool:
    digits = "".join(char for char in candidate if char.isdigit())
    if is_valid_card_number(digits):
        return True
    # A security code may follow a number written in its usual groups: check those alone.
    groups = tuple(len(group) for group in re.split(r"[ -]", candidate))
    for layout in _CARD_LAYOUTS:
        if groups[: len(layout)] == layout and is_valid_card_number(digits[: sum(layout)]):
            return True
    return False
