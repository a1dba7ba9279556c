"""What an access export shows of the records held about a number, each as the person reads it;
a consent with the version of the team's notice it names, in the words the person saw."""

from __future__ import annotations

from collections.abc import Sequence

from cloison.adapters.tables import AudienceHolding, SuppressionHolding
from cloison.models.api.privacy import (
    ExportedAudience,
    ExportedConsent,
    ExportedLift,
    ExportedMessage,
    ExportedNotice,
    ExportedSignup,
    ExportedSuppression,
)
from cloison.models.records import (
    AudienceMember,
    ConsentRecord,
    MessageRecord,
    NoticeRecord,
    SuppressionRecord,
)
from cloison.services.notices import NoticeVersions


def standing(holding: SuppressionHolding | None) -> dict[str, SuppressionRecord]:
    return dict(holding.standing) if holding is not None else {}


def exported_notice(notice_hash: str, record: NoticeRecord | None) -> ExportedNotice:
    if record is None:
        return ExportedNotice(hash=notice_hash, version=None, created_at=None, fr=None, en=None)
    return ExportedNotice.model_validate(record)


def exported_consents(
    consents: Sequence[ConsentRecord], notices: NoticeVersions
) -> list[ExportedConsent]:
    """The consents, each with the notice it names: one query per team that has such a one."""
    versions: dict[str, dict[str, NoticeRecord]] = {}
    for team in sorted({consent.team for consent in consents if consent.notice is not None}):
        versions[team] = {record.hash: record for record in notices.notices_of(team)}
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
