"""Sign-up by double opt-in: the two routes a team's public page calls, without signing in."""

from functools import lru_cache
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.compliance.signup import Refusal, allowed_regions
from cloison.http import wiring
from cloison.http.answers import answers
from cloison.http.resolver import app
from cloison.models.api.common import TEAM_PATTERN
from cloison.models.api.signup import SignupAccepted, SignupIn, SignupPage
from cloison.observability import metrics
from cloison.services.signup import SignupRequests, request_limits
from cloison.services.signup_page import signup_page

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@lru_cache(maxsize=1)
def service() -> SignupRequests:
    """The sign-up requests' service, built at the first call of this route."""
    config = wiring.settings()
    return SignupRequests(
        hasher=wiring.hasher(),
        notices=wiring.campaign_store(),
        consents=wiring.consent_store(),
        suppressions=wiring.suppression_store(),
        pending=PendingSignups.from_settings(config),
        limits=SignupLimits.from_settings(config),
        carrier=wiring.carrier(),
        origination=config.origination_identity,
        confirmation_hours=config.signup_confirmation_hours,
        regions=allowed_regions(config.signup_regions),
        request_limits=request_limits(config),
    )


def count(refusal: Refusal | None) -> None:
    """The metrics an alarm watches: confirmations sent, refusals, a team's budget reached."""
    if refusal is None:
        metrics.add_metric(name="SignupConfirmationsSent", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="SignupsRefused", unit=MetricUnit.Count, value=1)
    if refusal is Refusal.BUDGET:
        metrics.add_metric(name="SignupBudgetReached", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()  # the API's handler publishes no other metric


@router.get(
    "/signup/<team>",
    summary="Read a team's sign-up page: its notice (no sign-in)",
    description=(
        "For the team's public sign-up page: the latest version of the team's notice, in French "
        "and in English if it was put, the hash the page sends back with the number, and the "
        "word the confirmation SMS asks for. The notice is public: it is what the person reads "
        "before giving their number."
    ),
    responses=answers(
        200,
        SignupPage,
        "The latest version of the team's notice.",
        {404: "The team has no notice: it takes no sign-up."},
    ),
)
def read_signup_page(team: Annotated[str, Path(pattern=TEAM_PATTERN)]) -> SignupPage:
    config = wiring.settings()
    return signup_page(wiring.campaign_store(), team, config.signup_confirmation_hours)


@router.post(
    "/signup/<team>",
    summary="Ask for a number's sign-up to a team (no sign-in)",
    description=(
        "For the team's public sign-up page. The number is sent an SMS asking for a keyword "
        "reply (`OUI`, or `YES` in English; `OUI 2` when the number waits for another team's "
        "confirmation already); the consent exists only once that reply arrives, "
        "with its proof. `notice` is the hash of the latest version of the team's notice, the "
        "one the page showed. The answer is the same 202 whether an SMS left or not (an unknown "
        "team, a stale notice, a suppressed or already signed-up number, a limit reached): only "
        "input that is badly written (a number that is not a mobile of an allowed country, a "
        "field missing) is a 422."
    ),
    responses=answers(202, SignupAccepted, "The request is taken.", body=True),
)
def request_signup(
    team: Annotated[str, Path(pattern=TEAM_PATTERN)], signup: SignupIn
) -> Response[SignupAccepted]:
    source_address = app.current_event.request_context.identity.source_ip
    refusal = service().request(team, signup, source_address)
    count(refusal)
    return Response(status_code=202, content_type="application/json", body=SignupAccepted())
