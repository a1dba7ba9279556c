"""Campaign lifecycle over the API: create, add an audience, preview, launch, watch."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from cloison.adapters.identity import NumberHasher
from cloison.adapters.queues import WorkQueue
from cloison.adapters.schedules import LaunchSchedules
from cloison.adapters.tables import CampaignStore
from cloison.compliance import InvalidPhoneNumber, analyze_text, compose_message, normalize_phone
from cloison.compliance.errors import ComplianceError
from cloison.compliance.message import MessageKind, template_variables
from cloison.errors import NotFound, RuleViolation
from cloison.models.api import (
    AudienceIn,
    AudienceResult,
    Campaign,
    CampaignIn,
    CampaignStats,
    CampaignStatus,
    LaunchIn,
    Preview,
    RowError,
)
from cloison.models.events import LaunchRequest
from cloison.models.records import AudienceMember, CampaignRecord, SenderRecord
from cloison.services.access import Caller
from cloison.services.audience import AudienceWriter

LAUNCHABLE = (CampaignStatus.DRAFT,)


@dataclass
class CampaignService:
    store: CampaignStore
    audiences: AudienceWriter
    hasher: NumberHasher
    launch_queue: WorkQueue
    schedules: LaunchSchedules

    def create(self, caller: Caller, request: CampaignIn) -> Campaign:
        caller.require_team(request.team)
        sender = self._sender(request.team, request.sender)
        # Fails now, with the field named, if the template or sender cannot make a lawful message.
        _compose(request.body, request.kind.value, sender, variables=None, placeholder=True)
        record = CampaignRecord(
            campaign_id=f"c-{secrets.token_hex(8)}",
            team=request.team,
            name=request.name,
            sender=request.sender,
            kind=request.kind,
            body=request.body,
            status=CampaignStatus.DRAFT,
            created_at=datetime.now(UTC),
            created_by=caller.username,
        )
        self.store.put_campaign(record)
        return to_campaign(record)

    def get(self, caller: Caller, campaign_id: str) -> CampaignRecord:
        record = self.store.get_campaign(campaign_id)
        if record is None:
            raise NotFound("no such campaign")
        caller.can_see(record.team)
        return record

    def add_audience(
        self, caller: Caller, campaign_id: str, audience: AudienceIn
    ) -> AudienceResult:
        campaign = self.get(caller, campaign_id)
        sender = self._sender(campaign.team, campaign.sender)
        accepted: list[AudienceMember] = []
        rejected: list[RowError] = []
        for row, recipient in enumerate(audience.recipients, start=1):
            try:
                phone = normalize_phone(recipient.phone)
            except InvalidPhoneNumber as exc:
                rejected.append(RowError(row=row, field="phone", reason=exc.reason))
                continue
            try:
                _compose(
                    campaign.body,
                    campaign.kind.value,
                    sender,
                    recipient.variables,
                    placeholder=False,
                )
            except RuleViolation as exc:
                rejected.append(
                    RowError(row=row, field=f"variables ({exc.field})", reason=exc.reason)
                )
                continue
            accepted.append(
                AudienceMember(
                    e164=phone.e164,
                    number_key=self.hasher.key(phone.e164),
                    variables=recipient.variables,
                    departement=recipient.departement,
                )
            )
        if accepted:
            self.audiences.append(campaign, accepted)
        return AudienceResult(
            accepted=len(accepted),
            rejected=rejected,
            total_recipients=campaign.recipient_count + len(accepted),
        )

    def preview(self, caller: Caller, campaign_id: str) -> Preview:
        campaign = self.get(caller, campaign_id)
        sender = self._sender(campaign.team, campaign.sender)
        sample = self.audiences.first_member(campaign)
        variables = sample.variables if sample else None
        text = _compose(
            campaign.body, campaign.kind.value, sender, variables, placeholder=sample is None
        )
        analysis = analyze_text(text)
        return Preview(
            text=text,
            encoding=analysis.encoding,
            segments=analysis.segments,
            non_gsm=list(analysis.non_gsm),
            recipients=campaign.recipient_count,
            estimated_cost=round(
                campaign.recipient_count * analysis.segments * sender.price_per_segment, 4
            ),
        )

    def launch(self, caller: Caller, campaign_id: str, request: LaunchIn) -> Campaign:
        campaign = self.get(caller, campaign_id)
        if campaign.recipient_count == 0:
            raise RuleViolation("audience", "the campaign has no recipients")
        launch = LaunchRequest(campaign_id=campaign.campaign_id, team=campaign.team)
        now = datetime.now(UTC)
        if request.at is not None and request.at > now:
            self.store.set_status(
                campaign_id, CampaignStatus.SCHEDULED, allowed_from=LAUNCHABLE, launch_at=request.at
            )
            self.schedules.at(launch, request.at)
        else:
            self.store.set_status(
                campaign_id, CampaignStatus.LAUNCHING, allowed_from=LAUNCHABLE, launch_at=now
            )
            self.launch_queue.send([launch])
        return to_campaign(self.get(caller, campaign_id))

    def stats(self, caller: Caller, campaign_id: str) -> CampaignStats:
        campaign = self.get(caller, campaign_id)
        counts = self.store.get_counts(campaign_id)
        statuses = (
            "queued",
            "sent",
            "delivered",
            "failed",
            "expired",
            "rejected",
            "suppressed",
            "no_consent",
            "invalid",
            "deferred",
            "in_doubt",
        )
        return CampaignStats(
            campaign_id=campaign_id,
            status=campaign.status,
            recipients=campaign.recipient_count,
            counts={status: int(counts.get(status, 0)) for status in statuses},
            segments=int(counts.get("segments", 0)),
            cost=round(counts.get("cost", 0.0), 4),
        )

    def _sender(self, team: str, name: str) -> SenderRecord:
        sender = self.store.get_sender(team, name)
        if sender is None:
            raise RuleViolation("sender", f"team {team} has no sender profile named {name!r}")
        return sender


def _compose(
    body: str,
    kind: str,
    sender: SenderRecord,
    variables: dict[str, str] | None,
    *,
    placeholder: bool,
) -> str:
    """The final text; with `placeholder`, every template variable stands for itself."""
    try:
        if placeholder:
            variables = {name: "{" + name + "}" for name in template_variables(body)}
        return compose_message(
            body,
            kind=cast(MessageKind, kind),
            sender=sender.sender_id,
            stop_mention=sender.stop_mention,
            variables=variables,
        )
    except ComplianceError as exc:
        raise RuleViolation(exc.field, exc.reason) from exc


def to_campaign(record: CampaignRecord) -> Campaign:
    return Campaign(
        id=record.campaign_id,
        team=record.team,
        name=record.name,
        sender=record.sender,
        kind=record.kind,
        body=record.body,
        status=record.status,
        recipients=record.recipient_count,
        created_at=record.created_at,
        created_by=record.created_by,
        launch_at=record.launch_at,
    )
