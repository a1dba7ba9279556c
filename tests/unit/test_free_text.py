"""Free text people type is scrubbed of phone numbers as the API takes it in, after its length
is measured on what was sent."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable

import annotated_types
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, ValidationError

import cloison.models.api
from cloison.compliance.masking import scrub_numbers, scrub_page
from cloison.models.api.audit import NoteErasureIn
from cloison.models.api.notices import NoticeText
from cloison.models.api.privacy import PrivacyRequestIn
from cloison.models.api.registry import ConsentIn, ConsentWithdrawalIn, SuppressionIn
from cloison.models.api.signup import SignupIn

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


# ---------------------------------------------------------------- length first

PHONE = "+33751009501"
NOTICE = "0" * 64
# Each free-text field: the request built around a text in it, and the field's name there.
FREE_TEXT: dict[str, tuple[Callable[[str], BaseModel], str]] = {
    "consent source": (
        lambda text: ConsentIn(team="sales", phone=PHONE, source=text, proof="Oui"),
        "source",
    ),
    "consent proof": (
        lambda text: ConsentIn(team="sales", phone=PHONE, source="web", proof=text),
        "proof",
    ),
    "withdrawal reason": (
        lambda text: ConsentWithdrawalIn(team="sales", phone=PHONE, reason=text),
        "reason",
    ),
    "suppression reason": (
        lambda text: SuppressionIn(team="sales", phone=PHONE, reason=text),
        "reason",
    ),
    "privacy reason": (
        lambda text: PrivacyRequestIn(kind="access", phone=PHONE, reason=text),
        "reason",
    ),
    "note erasure reason": (lambda text: NoteErasureIn(reason=text), "reason"),
    "sign-up page": (
        lambda text: SignupIn(phone=PHONE, notice=NOTICE, page=text),
        "page",
    ),
} | {
    f"notice {name}": (
        lambda text, name=name: NoticeText(
            **({other: "Boutique" for other in NoticeText.model_fields} | {name: text})
        ),
        name,
    )
    for name in NoticeText.model_fields
}


def _max_length(model: type[BaseModel], name: str) -> int:
    [limit] = [
        item.max_length
        for item in model.model_fields[name].metadata
        if isinstance(item, annotated_types.MaxLen)
    ]
    return limit


@pytest.mark.parametrize("field", sorted(FREE_TEXT))
def test_a_text_too_long_is_refused_for_its_length_before_its_numbers_are_masked(
    field: str,
) -> None:
    build, name = FREE_TEXT[field]
    limit = _max_length(type(build("texte")), name)
    # Given a text of digits one longer than the field takes: masked, it would be `***11`
    # When it is sent, Then it is refused for its length
    with pytest.raises(ValidationError) as refused:
        build("1" * (limit + 1))
    assert [error["type"] for error in refused.value.errors()] == ["string_too_long"]
    # And one of the field's length is taken, and kept masked
    assert getattr(build("1" * limit), name) == "***11"


def _api_models() -> list[type[BaseModel]]:
    """Every model the API's modules define."""
    package = cloison.models.api
    models: list[type[BaseModel]] = []
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        models += [
            member
            for _, member in inspect.getmembers(module, inspect.isclass)
            if issubclass(member, BaseModel) and member.__module__ == module.__name__
        ]
    return models


def test_every_masked_field_of_the_api_measures_its_length_before_it_masks() -> None:
    # Given every field of the API's models that masks the numbers in what it takes
    masked = {
        f"{model.__name__}.{name}": info.metadata
        for model in _api_models()
        for name, info in model.model_fields.items()
        if any(
            isinstance(item, AfterValidator) and item.func in (scrub_numbers, scrub_page)
            for item in info.metadata
        )
    }
    # Then each has a length limit, applied before the numbers are masked
    assert set(masked) >= {"ConsentIn.source", "ConsentIn.proof", "SuppressionIn.reason"}
    for field, metadata in masked.items():
        limits = [i for i, item in enumerate(metadata) if isinstance(item, annotated_types.MaxLen)]
        masks = [i for i, item in enumerate(metadata) if isinstance(item, AfterValidator)]
        assert limits, f"{field} has no length limit"
        assert max(limits) < min(masks), f"{field} masks before it measures"
    # And every free-text field the tests above fill is one of them
    filled = {f"{type(build('texte')).__name__}.{name}" for build, name in FREE_TEXT.values()}
    assert filled == set(masked)


@pytest.mark.parametrize(
    ("page", "kept"),
    [
        (
            "http://127.0.0.1:3000/signup.html?team=sales",
            "http://127.0.0.1:3000/signup.html?team=sales",
        ),
        ("https://exemple.fr/inscription", "https://exemple.fr/inscription"),
        ("https://exemple.fr/l?phone=0612345678", "https://exemple.fr/l?phone=***78"),
        ("https://exemple.fr/0612345678/ok", "https://exemple.fr/***78/ok"),
        ("https://exemple.fr?n=0612345678", "https://exemple.fr?n=***78"),
        ("salon 0612345678", "salon ***78"),
        ("SMS ALERTES", "SMS ALERTES"),
    ],
    ids=["host-and-port", "plain", "query", "path", "query-on-host", "free-text", "keyword"],
)
def test_a_page_keeps_its_host_and_masks_a_number_anywhere_else(page: str, kept: str) -> None:
    assert SignupIn(phone="+33612345678", notice="0" * 64, page=page).page == kept
