"""Consents, manual suppressions and sender profiles recorded over the API (teams' notices,
which consents name: `notices`)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.identity import NumberHasher
from cloison.adapters.originations import OriginationDirectory, PoolFacts
from cloison.adapters.tables import CampaignStore, ConsentStore, SuppressionStore
from cloison.adapters.tables.keys import SHARED_NUMBERS
from cloison.compliance.errors import ComplianceError
from cloison.compliance.keywords import keyword_refusal
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
from cloison.models.records import (
    ConsentRecord,
    KeywordRecord,
    RouteRecord,
    SenderRecord,
    SuppressionRecord,
)
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
    # What a team's own pool must keep to: the stack's opt-out list and inbound topic.
    originations: OriginationDirectory
    opt_out_list: str
    inbound_topic: str

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
        pool = self._own_pool(team, request.origination) if request.origination else None
        # The shared pool's number takes replies (the stack's two-way channel); a team's own
        # pool only if it holds a number whose replies come to the stack's inbound topic.
        receives_replies = pool is None or (
            bool(pool.numbers) and pool.two_way_channel == self.inbound_topic
        )
        keyword = request.keyword.upper() if request.keyword else None
        if keyword is not None:
            refusal = keyword_refusal(keyword)
            if refusal is not None:
                raise RuleViolation("keyword", refusal)
            if not receives_replies:
                raise RuleViolation("keyword", "nobody can text it: the pool takes no replies")
        record = SenderRecord(
            team=team,
            name=name,
            **request.model_dump(exclude={"keyword", "origination"}),
            origination=pool.arn if pool else None,
            numbers=list(pool.numbers) if pool else [],
            receives_replies=receives_replies,
            keyword=keyword,
        )
        self.auditor.record(
            caller,
            "sender.put",
            team=team,
            target=f"sender/{team}/{name}",
            details={
                "sender_id": request.sender_id,
                "window": request.window,
                "mps": str(request.mps),
                "origination": record.origination or "shared",
                "keyword": keyword or "",
            },
        )
        previous = self.campaigns.get_sender(team, name)
        # The numbers first, then the keywords on them: another team's number or keyword is a
        # 409 before the profile changes.
        if pool is not None:
            for number in pool.numbers:
                self.campaigns.claim_route(
                    RouteRecord(number=number, team=team, sender=name, origination=pool.arn)
                )
        wanted = keyword_records(record)
        for claim in wanted:
            self.campaigns.claim_keyword(claim)
        self.campaigns.put_sender(record)
        for old in keyword_records(previous) if previous else []:
            if old not in wanted:
                self.campaigns.release_keyword(old)
        return sender_profile(record)

    def _own_pool(self, team: str, origination: str) -> PoolFacts:
        """The team's own pool, or a 422 naming `origination` and what would go wrong with it.

        What End User Messaging does with it decides each check ("Opt-out lists", "Pools" and
        "Two-way SMS messaging" in its user guide): a send is refused for the numbers on the
        list of the pool it goes through, unless opt-outs are self-managed the service itself
        answers and records keywords, and replies go to the pool's two-way channel.
        """
        # The pool must be where the stack's inbound topic is: the stack's roles may describe
        # and send through pools of their own account and region only.
        if arn_place(origination) != arn_place(self.inbound_topic):
            raise RuleViolation("origination", "is not a pool of this account and region")
        pool = self.originations.pool(origination)
        if pool is None:
            raise RuleViolation("origination", "is not a pool of this account")
        if pool.tags.get("cloison:team") != team:
            raise RuleViolation(
                "origination", f"is not team {team}'s pool (its team stack tags it cloison:team)"
            )
        if pool.opt_out_list != self.opt_out_list:
            raise RuleViolation(
                "origination",
                f"keeps its opt-outs on {pool.opt_out_list}, not on the stack's list "
                f"{self.opt_out_list}: a STOP said to it would not stop the other pools' sends",
            )
        if not pool.self_managed_opt_outs:
            raise RuleViolation(
                "origination",
                "lets End User Messaging answer STOP and HELP itself: Cloison must take them",
            )
        if pool.numbers and pool.two_way_channel != self.inbound_topic:
            raise RuleViolation(
                "origination",
                "publishes its replies elsewhere than the stack's inbound topic: they would be "
                "lost, STOPs included",
            )
        return pool

    def senders(self, caller: Caller, team: str) -> list[SenderProfile]:
        """The team's sender profiles, by name: for its members, and for administrators, who
        put them. Anyone else is told the team does not exist, as for its campaigns."""
        if "admin" not in caller.roles:
            caller.can_see(team)
        return [sender_profile(record) for record in self.campaigns.senders_of(team)]


def arn_place(arn: str) -> tuple[str, ...]:
    """An ARN's partition, region and account (`arn:<partition>:<service>:<region>:<account>:`)."""
    parts = arn.split(":")
    return (parts[1], parts[3], parts[4]) if len(parts) > 5 else ()


def sender_profile(record: SenderRecord) -> SenderProfile:
    return SenderProfile.model_validate(record.model_dump())


def keyword_records(record: SenderRecord) -> list[KeywordRecord]:
    """The keyword claims a profile holds: on each of its own numbers, or on the shared pool's."""
    if record.keyword is None:
        return []
    return [
        KeywordRecord(number=number, word=record.keyword, team=record.team, sender=record.name)
        for number in record.numbers or [SHARED_NUMBERS]
    ]
