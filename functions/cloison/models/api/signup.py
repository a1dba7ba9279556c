"""Sign-up by double opt-in: what a team's public page reads and sends, the one answer it gets,
and what the team's people see of their sign-ups."""

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cloison.compliance.masking import scrub_page
from cloison.models.api.common import Input, PhoneText
from cloison.models.api.notices import NoticeHash, NoticeText

SignupLanguage = Literal["fr", "en"]


class SignupPage(BaseModel):
    """What a team's public sign-up page shows before it takes a number: the latest version of
    the team's notice, and what the confirmation SMS will ask for."""

    model_config = ConfigDict(defer_build=True)
    team: str
    version: int = Field(description="The notice's version.")
    hash: str = Field(description="The version's hash: what the page sends back as `notice`.")
    fr: NoticeText = Field(description="The notice in French.")
    en: NoticeText | None = Field(default=None, description="The notice in English, if put.")
    keywords: dict[SignupLanguage, str] = Field(
        description="The word the confirmation SMS asks for, by the language of the request."
    )
    confirmation_hours: int = Field(
        description="How long the sign-up waits for that reply before it is forgotten."
    )


class SignupIn(Input):
    phone: PhoneText
    notice: NoticeHash = Field(
        description="The hash of the version of the team's notice the page showed: the latest."
    )
    page: Annotated[
        str,
        Field(
            min_length=1,
            max_length=300,
            description="The page that took the number: its address or an identifier.",
        ),
        # A number in the address is masked, never its host (decision 059).
        AfterValidator(scrub_page),
    ]
    language: SignupLanguage = Field(
        default="fr", description="The language of the confirmation SMS: `fr` or `en`."
    )


class SignupAccepted(BaseModel):
    """The same answer whatever the number's state: nothing here tells whether an SMS left."""

    model_config = ConfigDict(defer_build=True)
    status: Literal["pending"] = "pending"
    detail: str = Field(
        default=(
            "If this number can be signed up, it receives an SMS asking for a reply; the "
            "sign-up exists only once that reply arrives."
        )
    )


class SignupBudget(BaseModel):
    model_config = ConfigDict(defer_build=True)
    day: date = Field(description="The UTC day the budget counts.")
    used: int = Field(description="Confirmation SMS sent that day.")
    total: int = Field(description="The most a team may send in a day (SignupDailyBudget).")


class SignupStatus(BaseModel):
    """A team's sign-ups, as counts: no number, nor anything that points at one."""

    model_config = ConfigDict(defer_build=True)
    team: str
    pending: int = Field(description="Sign-ups waiting for the person's reply, not expired.")
    budget: SignupBudget
