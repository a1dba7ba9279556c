"""What an access export shows of the records held about a number, each as the person reads it;
a consent or a waiting sign-up with the version of the team's notice it names, in the words the
person saw."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from cloison.adapters.tables import AudienceHolding, SuppressionHolding
from cloison.compliance.masking import mask_address
from cloison.compliance.signup import NUMBER_WINDOW, confirmation_keyword
from cloison.models.api.privacy import (
    ExportedAudience,
    ExportedConsent,
    ExportedLift,
    ExportedMessage,
    ExportedNotice,
    ExportedSignup,
    ExportedSignupLimit,
    ExportedSuppression,
    ExportedWaitingSignup,
)
from cloison.models.records import (
    AudienceMember,
    ConsentRecord,
    MessageRecord,
    NoticeRecord,
    PendingSignupRecord,
    SuppressionRecord,
)
from cloison.services.notices import NoticeVersions


def standing(holding: SuppressionHolding | None) -> dict[str, SuppressionRecord]:
    return dict(holding.standing) if holding is not None else {}


def exported_notice(notice_hash: str, record: NoticeRecord | None) -> ExportedNotice:
    if record is None:
        return ExportedNotice(hash=notice_hash, version=None, created_at=None, fr=None, en=None)
    return ExportedNotice.model_validate(record)


# The versions of each team's notice, by hash.
NoticeBook = Mapping[str, Mapping[str, NoticeRecord]]


def notice_book(teams: Iterable[str], notices: NoticeVersions) -> NoticeBook:
    """The versions of the notices of `teams`, by team and hash: one query per team."""
    return {
        team: {record.hash: record for record in notices.notices_of(team)}
        for team in sorted(set(teams))
    }


def exported_consents(
    consents: Sequence[ConsentRecord], versions: NoticeBook
) -> list[ExportedConsent]:
    """The consents, each with the notice it names (`versions` holds their teams')."""
    return [
        ExportedConsent(
            team=consent.team,
            purpose=consent.purpose,
            source=consent.source,
            proof=consent.proof,
            given_at=consent.given_at,
            recorded_by=consent.recorded_by,
            notice=(
                exported_notice(consent.notice, versions[consent.team].get(consent.notice))
                if consent.notice is not None
                else None
            ),
            signup=exported_signup(consent),
        )
        for consent in consents
    ]


def exported_waiting_signups(
    signups: Sequence[PendingSignupRecord], versions: NoticeBook
) -> list[ExportedWaitingSignup]:
    """The sign-ups waiting for a reply, each with the notice its page showed. The address the
    request came from is shown as its network only: until the reply, nothing says the person
    made the request, and the address may be that of someone who typed their number (a copy
    must not harm others' rights, GDPR art. 15(4))."""
    return [
        ExportedWaitingSignup(
            team=signup.team,
            notice=exported_notice(signup.notice, versions[signup.team].get(signup.notice)),
            page=signup.page,
            language=signup.language,
            keyword=confirmation_keyword(signup.language, signup.code),
            source_address=mask_address(signup.source_address),
            requested_at=signup.requested_at,
            expires_at=signup.expires_at,
        )
        for signup in signups
    ]


def exported_signup_limits(number_requests: list[datetime] | None) -> list[ExportedSignupLimit]:
    """The count the limit per number keeps of the requests for it, if it keeps one. The other
    limits count by source address and by block of numbers: nothing that is the person's."""
    if number_requests is None:
        return []
    return [
        ExportedSignupLimit(
            limit="number",
            window_hours=int(NUMBER_WINDOW.total_seconds() // 3600),
            requested_at=sorted(number_requests),
        )
    ]


def exported_signup(consent: ConsentRecord) -> ExportedSignup | None:
    if consent.page is None:
        return None
    return ExportedSignup(
        page=consent.page,
        source_address=consent.source_address,
        requested_at=consent.requested_at,
        confirmed_at=consent.confirmed_at,
        confirmed_by=consent.confirmed_by,
    )


def exported_suppressions(holding: SuppressionHolding | None) -> list[ExportedSuppression]:
    return [
        ExportedSuppression(
            scope=scope,
            reason=record.reason,
            source=record.source,
            evidence=record.evidence,
            created_at=record.created_at,
            review=record.review,
        )
        for scope, record in sorted(standing(holding).items())
    ]


def exported_lifts(holding: SuppressionHolding | None) -> list[ExportedLift]:
    return [
        ExportedLift(scope=scope, lifted_at=lift.at, evidence=lift.evidence)
        for scope, lift in sorted((holding.lifted if holding else {}).items())
    ]


def exported_messages(messages: Sequence[MessageRecord]) -> list[ExportedMessage]:
    return [
        ExportedMessage(
            campaign_id=message.campaign_id,
            team=message.team,
            status=message.status.value,
            sent_at=message.sent_at,
            updated_at=message.updated_at,
        )
        for message in messages
    ]


def exported_audiences(
    audiences: Sequence[tuple[AudienceHolding, AudienceMember]],
) -> list[ExportedAudience]:
    return [
        ExportedAudience(
            campaign_id=place.campaign_id,
            team=place.team,
            upload_id=place.upload_id,
            variables=member.variables,
            departement=member.departement,
        )
        for place, member in audiences
    ]
