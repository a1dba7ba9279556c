"""Sign-up by double opt-in: the request a public page sends, and the one answer it gets."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloison.models.api.common import Input, PhoneText, Scrubbed
from cloison.models.api.notices import NoticeHash


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
        Scrubbed,
    ]
    language: Literal["fr", "en"] = Field(
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
