"""Free text people type is scrubbed of phone numbers as the API takes it in."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.models.api.notices import NoticeText
from cloison.models.api.privacy import PrivacyRequestIn
from cloison.models.api.registry import ConsentIn, ConsentWithdrawalIn, SuppressionIn

# phonenumbers' example numbers (a French mobile, a Belgian one, a Réunion one) as people
# write them: international, national, with dots, dashes, middle dots, underscores, commas.
EXAMPLES = [phonenumbers.example_number_for_type(region, 1) for region in ("FR", "BE", "RE")]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]
SEPARATORS = [" ", ".", "-", "\u2013", "\u00b7", "_", ",", "\u202f", "/"]


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    number = draw(st.sampled_from(EXAMPLES))
    text = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    return text.replace(" ", draw(st.sampled_from(SEPARATORS)))


def _fields(written: str) -> dict[str, str]:
    """Each free-text field of each request, holding the number."""
    return {
        "consent source": ConsentIn(
            team="sales", phone="0612345678", source=f"salon, rappel {written}", proof="Oui"
        ).source,
        "consent proof": ConsentIn(
            team="sales", phone="0612345678", source="web", proof=f"J'accepte ({written})"
        ).proof,
        "withdrawal reason": ConsentWithdrawalIn(
            team="sales", phone="0612345678", reason=f"appel du {written}"
        ).reason,
        "suppression reason": SuppressionIn(
            team="sales", phone="0612345678", reason=f"demande au {written}"
        ).reason,
        "privacy reason": PrivacyRequestIn(
            kind="access", phone="0612345678", reason=f"courrier, tel {written}"
        ).reason,
    } | {
        f"notice {name}": getattr(
            NoticeText(
                **({text: "Boutique" for text in NoticeText.model_fields} | {name: written})
            ),
            name,
        )
        for name in NoticeText.model_fields
    }


@settings(max_examples=200, deadline=None)
@given(written=written_numbers())
def test_a_number_in_any_free_text_field_is_masked_as_it_is_taken_in(written: str) -> None:
    # Given a number written as people write it, in each free-text field of the API
    for field, kept in _fields(written).items():
        # Then what is kept holds its last two digits at most
        digits = "".join(char for char in written if char.isdigit())
        assert digits[-6:] not in "".join(char for char in kept if char.isdigit()), field
        assert "***" in kept, field


@pytest.mark.parametrize(
    "text",
    [
        "commande 12345",
        "100,000 SMS",
        "le 12/05",
        "ref A-42",
        "Accepté le 2024-03-01 sur le site",  # a date is proof of when, not a number
        "courrier du 15/01/2024",
        "signé le 1.3.2025",
    ],
)
def test_text_without_a_number_is_kept_as_written(text: str) -> None:
    assert SuppressionIn(team="sales", phone="0612345678", reason=text).reason == text
