"""The inbox: replies read and reviewed by their team's members and the privacy officer, each
opening audited, each body read under the reading team's role."""

from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import GLOBAL_SCOPE, ReplyIndex, SuppressionStore
from cloison.adapters.vault import ReplyVault, encryption_context
from cloison.compliance.masking import mask_phone
from cloison.compliance.replies import ReplyClass
from cloison.errors import Conflict, Forbidden, NotFound, ReadDenied, RuleViolation
from cloison.models.api.replies import ReplyDetail, ReplyReviewIn, ReplySummary
from cloison.models.records import ReplyRecord
from cloison.observability import logger
from cloison.services.access import PRIVACY_OFFICER, QUARANTINE_TEAM, Caller
from cloison.services.audit import NOT_AN_OPT_OUT, Auditor
from cloison.services.registry import phone_e164


@dataclass
class ReplyReader:
    index: ReplyIndex
    vault: ReplyVault
    suppressions: SuppressionStore
    carrier: SmsCarrier
    hasher: NumberHasher
    auditor: Auditor

    def list(
        self,
        caller: Caller,
        *,
        campaign_id: str | None,
        reply_class: str | None,
        review: str | None = None,
    ) -> list[ReplySummary]:
        found: dict[str, ReplyRecord] = {}
        for team in compartments(caller):
            for record in self.index.list(
                team, campaign_id=campaign_id, reply_class=reply_class, review=review
            ):
                found[record.reply_id] = record
        if review == "pending" and PRIVACY_OFFICER in caller.roles:
            # The review queue of every team: objections are the privacy officer's to settle.
            for record in self.index.awaiting_review():
                if record.stored and _matches(record, campaign_id, reply_class):
                    found[record.reply_id] = record
        items = [_summary(record) for record in found.values()]
        return sorted(items, key=lambda item: item.received_at, reverse=True)

    def open(self, caller: Caller, reply_id: str) -> ReplyDetail:
        record = self._find(caller, reply_id)
        # Recorded before the body is read: no body leaves without its audit entry.
        self.auditor.record(
            caller,
            "reply.open",
            team=record.team,
            target=f"reply/{reply_id}",
            details={"campaign": record.campaign_id or "none", "reply_class": record.reply_class},
        )
        try:
            body = self.vault.get(
                record.object_key,
                encryption_context(record.team, record.campaign_id),
                team=reading_team(caller, record),
                caller=caller.subject,
            )
        except ReadDenied:
            # IAM or KMS refused what the code asked for: a bug, or a team not onboarded.
            logger.error(
                "reply read denied by the reader role",
                extra={"reply": reply_id, "team": record.team, "by": caller.subject},
            )
            raise
        logger.info(
            "reply opened", extra={"reply": reply_id, "team": record.team, "by": caller.subject}
        )
        return ReplyDetail(**_summary(record).model_dump(), body=body)

    def review(self, caller: Caller, reply_id: str, decision: ReplyReviewIn) -> ReplySummary:
        """Settles a reply awaiting review: `confirm` keeps things as they are; `lift` (privacy
        officers, ambiguous opt-outs only) says it was no opt-out and lifts the suppression."""
        record = self._find(caller, reply_id)
        if record.review != "pending":
            raise Conflict("this reply is not awaiting review")
        now = datetime.now(UTC)
        if decision.decision == "lift":
            self._lift(caller, record, decision, now)
        else:
            # Recorded before the decision is written (a failed record settles nothing).
            self.auditor.record(
                caller,
                "reply.review",
                team=record.team,
                target=f"reply/{reply_id}",
                details={"decision": decision.decision, "reply_class": record.reply_class},
            )
        self.index.review(record.team, reply_id, _DECISIONS[decision.decision], caller.subject, now)
        logger.info(
            "reply reviewed",
            extra={"reply": reply_id, "decision": decision.decision, "by": caller.subject},
        )
        reviewed = record.model_copy(
            update={
                "review": _DECISIONS[decision.decision],
                "reviewed_by": caller.subject,
                "reviewed_at": now,
            }
        )
        return _summary(reviewed)

    def _lift(
        self, caller: Caller, record: ReplyRecord, decision: ReplyReviewIn, now: datetime
    ) -> None:
        if PRIVACY_OFFICER not in caller.roles:
            raise Forbidden("lifting an opt-out requires the privacy_officer role")
        if record.reply_class != ReplyClass.OPT_OUT_REVIEW.value:
            raise Conflict("only an ambiguous opt-out can be lifted")
        if decision.phone is None:
            raise RuleViolation("phone", "required to lift the opt-out at the provider too")
        e164 = phone_e164(decision.phone)
        if self.hasher.key(e164) != record.number_key:
            raise RuleViolation("phone", "is not the number this reply came from")
        self.auditor.record(
            caller,
            "suppression.lift",
            team=record.team,
            target=f"suppression/{mask_phone(e164)}",
            reason=NOT_AN_OPT_OUT,
            details={"reply": record.reply_id, "scope": GLOBAL_SCOPE},
        )
        if not self.suppressions.lift(
            record.number_key,
            GLOBAL_SCOPE,
            recorded_with=f"inbound {record.reply_id}",
            evidence=f"review by {caller.subject}",
            at=now,
        ):
            raise Conflict("a later opt-out from this number stands")
        self.carrier.opt_in(e164)

    def _find(self, caller: Caller, reply_id: str) -> ReplyRecord:
        """The stored reply in one of the caller's compartments; anyone else's is a 404."""
        for team in compartments(caller):
            record = self.index.get(team, reply_id)
            if record is not None and record.stored:
                return record
        if PRIVACY_OFFICER in caller.roles:
            for record in self.index.awaiting_review(reply_id=reply_id):
                if record.stored:
                    return record
        raise NotFound("no such reply")


_DECISIONS = {"confirm": "confirmed", "lift": "lifted"}


def _matches(record: ReplyRecord, campaign_id: str | None, reply_class: str | None) -> bool:
    return (campaign_id is None or record.campaign_id == campaign_id) and (
        reply_class is None or record.reply_class == reply_class
    )


def reading_team(caller: Caller, record: ReplyRecord) -> str:
    """Whose reader role opens `record` for `caller`: one of the caller's teams, or, for a privacy
    officer, quarantine and the replies awaiting review. Any other is not the caller's to read."""
    if record.team in caller.teams:
        return record.team
    if PRIVACY_OFFICER in caller.roles and (
        record.team == QUARANTINE_TEAM or record.review == "pending"
    ):
        return record.team
    raise NotFound("no such reply")


def compartments(caller: Caller) -> list[str]:
    """The reply compartments a caller reads: their teams', and quarantine for privacy officers."""
    teams = set(caller.teams)
    if PRIVACY_OFFICER in caller.roles:
        teams.add(QUARANTINE_TEAM)
    return sorted(teams)


def _summary(record: ReplyRecord) -> ReplySummary:
    return ReplySummary.model_validate(record)
