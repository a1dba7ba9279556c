"""Consents, suppressions, sender profiles, teams' notices and the state of their sign-ups."""

from functools import lru_cache
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from cloison.adapters.originations import OriginationDirectory
from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.http import wiring
from cloison.http.answers import answers
from cloison.http.resolver import caller
from cloison.models.api.common import IDENTIFIER_PATTERN, TEAM_PATTERN
from cloison.models.api.notices import Notice, NoticeIn, NoticeVersionList
from cloison.models.api.registry import (
    Consent,
    ConsentIn,
    ConsentWithdrawal,
    ConsentWithdrawalIn,
    SenderProfile,
    SenderProfileIn,
    SenderProfileList,
    Suppression,
    SuppressionIn,
)
from cloison.models.api.signup import SignupStatus
from cloison.services.notices import Notices
from cloison.services.registry import Registry
from cloison.services.signup_page import SignupTally

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@lru_cache(maxsize=1)
def service() -> Registry:
    """The consents', suppressions' and sender profiles' service, built at the first call of
    these routes."""
    config = wiring.settings()
    return Registry(
        hasher=wiring.hasher(),
        consents=wiring.consent_store(),
        suppressions=wiring.suppression_store(),
        campaigns=wiring.campaign_store(),
        auditor=wiring.auditor(),
        originations=OriginationDirectory.from_settings(config),
        opt_out_list=config.opt_out_list,
        inbound_topic=config.inbound_topic_arn,
    )


@lru_cache(maxsize=1)
def notices() -> Notices:
    """The teams' notices, built at the first call of these routes."""
    return Notices(store=wiring.campaign_store(), auditor=wiring.auditor())


@lru_cache(maxsize=1)
def signups() -> SignupTally:
    """The counts of the teams' sign-ups, built at the first call of their route."""
    config = wiring.settings()
    return SignupTally(
        pending=PendingSignups.from_settings(config), limits=SignupLimits.from_settings(config)
    )


@router.post(
    "/consents",
    summary="Record a consent",
    description=(
        "`notice` names the version of the team's notice the person saw, by its hash; a hash "
        "the team's notice never had is a 422 naming `notice`."
    ),
    responses=answers(201, Consent, "The consent, the number masked.", {403: None}, body=True),
)
def record_consent(consent: ConsentIn) -> Response[Consent]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=service().record_consent(caller(), consent),
    )


@router.delete(
    "/consents",
    summary="Withdraw a consent",
    description="The number travels in the body, never in the URL. Later marketing sends skip it.",
    responses=answers(
        200,
        ConsentWithdrawal,
        "The receipt of the withdrawal.",
        {403: None, 404: "No consent recorded for this number, team and purpose."},
        body=True,
    ),
)
def withdraw_consent(withdrawal: ConsentWithdrawalIn) -> ConsentWithdrawal:
    return service().withdraw_consent(caller(), withdrawal)


@router.post(
    "/suppressions",
    summary="Suppress a number for a team",
    responses=answers(201, Suppression, "The suppression.", {403: None}, body=True),
)
def add_suppression(suppression: SuppressionIn) -> Response[Suppression]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=service().suppress(caller(), suppression),
    )


@router.put(
    "/teams/<team>/senders/<sender>",
    summary="Create or replace a team's sender profile (administrators)",
    responses=answers(
        200, SenderProfile, "The sender profile.", {403: "Requires the admin role."}, body=True
    ),
)
def put_sender(
    team: Annotated[str, Path(pattern=TEAM_PATTERN)],
    sender: Annotated[str, Path(pattern=IDENTIFIER_PATTERN)],
    profile: SenderProfileIn,
) -> SenderProfile:
    return service().put_sender(caller(), team, sender, profile)


@router.get(
    "/teams/<team>/senders",
    summary="List a team's sender profiles",
    description=(
        "For the team's members, and for administrators, who put them. Another team is a 404, "
        "as for its campaigns."
    ),
    responses=answers(
        200,
        SenderProfileList,
        "The team's sender profiles, by name.",
        {404: "No such team among your teams.", 422: "The team is not a team slug."},
    ),
)
def list_senders(team: Annotated[str, Path(pattern=TEAM_PATTERN)]) -> SenderProfileList:
    return SenderProfileList(items=service().senders(caller(), team))


@router.put(
    "/teams/<team>/notice",
    summary="Put a team's notice (administrators)",
    description=(
        "What a person is told before they consent: the organisation, the purpose, the "
        "expected frequency, the retention, their rights and how to exercise them, how to stop; "
        "in French, and in English if given. Texts that differ from the latest version's become "
        "the next version (every version is kept); the same texts answer the latest version."
    ),
    responses=answers(
        200,
        Notice,
        "The notice's version holding these texts.",
        {
            403: "Requires the admin role.",
            409: "Another version was written at the same time; read the notice and put again.",
        },
        body=True,
    ),
)
def put_notice(team: Annotated[str, Path(pattern=TEAM_PATTERN)], notice: NoticeIn) -> Notice:
    return notices().put(caller(), team, notice)


@router.get(
    "/teams/<team>/notice",
    summary="Read a team's notice, its latest version",
    description="For the team's members, and for administrators. Another team is a 404.",
    responses=answers(
        200,
        Notice,
        "The latest version of the notice.",
        {404: "No such team among your teams, or the team has no notice yet."},
    ),
)
def get_notice(team: Annotated[str, Path(pattern=TEAM_PATTERN)]) -> Notice:
    return notices().latest(caller(), team)


@router.get(
    "/teams/<team>/notice/versions",
    summary="List the versions of a team's notice",
    description="For the team's members, and for administrators. Another team is a 404.",
    responses=answers(
        200,
        NoticeVersionList,
        "Every version, newest first: its number, hash and date.",
        {404: "No such team among your teams.", 422: "The team is not a team slug."},
    ),
)
def list_notice_versions(team: Annotated[str, Path(pattern=TEAM_PATTERN)]) -> NoticeVersionList:
    return NoticeVersionList(items=notices().versions(caller(), team))


@router.get(
    "/teams/<team>/signup",
    summary="Read the state of a team's sign-ups",
    description=(
        "For the team's members, and for administrators: how many sign-ups wait for the "
        "person's reply, and how many of the day's confirmation SMS (UTC) the team has sent, "
        "of its budget. Counts only, never a number: not audited. Another team is a 404."
    ),
    responses=answers(
        200,
        SignupStatus,
        "The sign-ups waiting, and the day's budget.",
        {404: "No such team among your teams.", 422: "The team is not a team slug."},
    ),
)
def get_signup_status(team: Annotated[str, Path(pattern=TEAM_PATTERN)]) -> SignupStatus:
    return signups().status(caller(), team)
