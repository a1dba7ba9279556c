"""Consents, manual suppressions and sender profiles recorded over the API (teams' notices,
which consents name: `notices`)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import CampaignStore, ConsentStore, SuppressionStore
from cloison.compliance.errors import ComplianceError
from cloison.compliance.masking import mask_phone
from cloison.compliance.message import validate_sender, validate_stop_mention
from cloison.compliance.phone import normalize_phone
from cloison.errors import NotFound, RuleViolation
from cloison.models.api.registry import (
    Consent,
    ConsentIn,
    ConsentWithdrawal,
    ConsentWithdrawalIn,
    SenderProfile,
    SenderProfileIn,
    Suppression,
    SuppressionIn,
)
from cloison.models.records import ConsentRecord, SenderRecord, SuppressionRecord
from cloison.observability import logger
from cloison.services.access import Caller
from cloison.services.audit import Auditor, scrub
from cloison.services.windows import window_policy


def phone_e164(raw: str) -> str:
    """The number in E.164, or a 422 that names the `phone` field."""
    try:
        return normalize_phone(raw).e164
    except ComplianceError as exc:
        raise RuleViolation("phone", exc.reason) from exc


@dataclass
class Registry:
    hasher: NumberHasher
    consents: ConsentStore
    suppressions: SuppressionStore
    campaigns: CampaignStore
    auditor: Auditor

    def record_consent(self, caller: Caller, request: ConsentIn) -> Consent:
        caller.require_team(request.team)
        e164 = phone_e164(request.phone)
        now = datetime.now(UTC)
        given_at = request.given_at or now
        if given_at.tzinfo is None:
            raise RuleViolation("given_at", "must carry a time zone")
        if given_at > now:
            raise RuleViolation("given_at", "is in the future")
        details = {"purpose": scrub(request.purpose)}
        if request.notice is not None:
            # Versions are never deleted: a hash the team's notice never had is a mistake.
            if not self.campaigns.notices_of(request.team, notice_hash=request.notice):
                raise RuleViolation("notice", f"is not a version of team {request.team}'s notice")
            details["notice"] = request.notice
        self.auditor.record(
            caller,
            "consent.record",
            team=request.team,
            target=f"consent/{mask_phone(e164)}",
            details=details,
        )
        self.consents.put(
            ConsentRecord(
                number_key=self.hasher.key(e164),
                team=request.team,
                purpose=request.purpose,
                source=request.source,
                proof=request.proof,
                given_at=given_at,
                recorded_by=caller.username,
                notice=request.notice,
            )
        )
        return Consent(
            team=request.team,
            phone=mask_phone(e164),
            purpose=request.purpose,
            given_at=given_at,
            recorded_by=caller.username,
            notice=request.notice,
        )

    def withdraw_consent(self, caller: Caller, request: ConsentWithdrawalIn) -> ConsentWithdrawal:
        """Deletes a consent; later marketing sends to the number record `no_consent`."""
        caller.require_team(request.team)
        e164 = phone_e164(request.phone)
        number_key = self.hasher.key(e164)
        # Checked first: a withdrawal of nothing is a 404, not an audited action.
        if not any(
            consent.team == request.team and consent.purpose == request.purpose
            for consent in self.consents.for_number(number_key)
        ):
            raise NotFound("no consent recorded for this number, team and purpose")
        self.auditor.record(
            caller,
            "consent.withdraw",
            team=request.team,
            target=f"consent/{mask_phone(e164)}",
            reason=request.reason_code.value,
            note=request.reason,
            subject=number_key,
            details={"purpose": scrub(request.purpose)},
        )
        withdrawn = self.consents.delete(number_key, request.team, request.purpose)
        if withdrawn is None:
            raise NotFound("no consent recorded for this number, team and purpose")
        now = datetime.now(UTC)
        logger.info(
            "consent withdrawn",
            extra={"team": request.team, "purpose": request.purpose, "phone": mask_phone(e164)},
        )
        return ConsentWithdrawal(
            team=request.team,
            phone=mask_phone(e164),
            purpose=request.purpose,
            reason=request.reason,
            withdrawn_at=now,
            withdrawn_by=caller.username,
        )

    def suppress(self, caller: Caller, request: SuppressionIn) -> Suppression:
        team = request.team
        caller.require_team(team)
        e164 = phone_e164(request.phone)
        number_key = self.hasher.key(e164)
        now = datetime.now(UTC)
        self.auditor.record(
            caller,
            "suppression.add",
            team=team,
            target=f"suppression/{mask_phone(e164)}",
            reason=request.reason_code.value,
            note=request.reason,
            subject=number_key,
            details={"scope": f"team#{team}"},
        )
        self.suppressions.put(
            SuppressionRecord(
                number_key=number_key,
                scope=f"team#{team}",
                reason=request.reason,
                source="api",
                evidence=f"recorded by {caller.username}",
                created_at=now,
            )
        )
        return Suppression(phone=mask_phone(e164), reason=request.reason, created_at=now)

    def put_sender(
        self, caller: Caller, team: str, name: str, request: SenderProfileIn
    ) -> SenderProfile:
        caller.require_role("admin")
        # Refused now, with the field named, by the rules the send path applies, rather than
        # as every recipient `invalid` at send time.
        window_policy(request.window)
        try:
            validate_sender(request.sender_id)
        except ComplianceError as exc:
            raise RuleViolation("sender_id", exc.reason) from exc
        try:
            validate_stop_mention(request.stop_mention)
        except ComplianceError as exc:
            raise RuleViolation("stop_mention", exc.reason) from exc
        self.auditor.record(
            caller,
            "sender.put",
            team=team,
            target=f"sender/{team}/{name}",
            details={
                "sender_id": request.sender_id,
                "window": request.window,
                "mps": str(request.mps),
            },
        )
        self.campaigns.put_sender(SenderRecord(team=team, name=name, **request.model_dump()))
        return SenderProfile(team=team, name=name, **request.model_dump())

    def senders(self, caller: Caller, team: str) -> list[SenderProfile]:
        """The team's sender profiles, by name: for its members, and for administrators, who
        put them. Anyone else is told the team does not exist, as for its campaigns."""
        if "admin" not in caller.roles:
            caller.can_see(team)
        return [
            SenderProfile(
                team=record.team,
                name=record.name,
                **record.model_dump(exclude={"team", "name"}),
            )
            for record in self.campaigns.senders_of(team)
        ]
