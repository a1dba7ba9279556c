"""Campaign lifecycle over the API: create, add an audience, preview, launch, pause, watch."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cloison.adapters.identity import NumberHasher
from cloison.adapters.queues import WorkQueue
from cloison.adapters.schedules import LaunchSchedules
from cloison.adapters.tables import CampaignStore
from cloison.errors import DependencyError, NotFound, RuleViolation
from cloison.models.api.campaigns import (
    AudienceIn,
    AudienceResult,
    Campaign,
    CampaignIn,
    CampaignStats,
    LaunchIn,
    Occurrence,
    Preview,
)
from cloison.models.events import LaunchRequest
from cloison.models.kinds import CampaignStatus
from cloison.models.records import CampaignRecord, SenderRecord
from cloison.observability import logger
from cloison.services.access import Caller
from cloison.services.admission import admit, from_csv, from_json
from cloison.services.audience import AudienceWriter
from cloison.services.audit import Auditor
from cloison.services.campaign_pages import campaign_page
from cloison.services.campaign_text import compose_checked
from cloison.services.lifecycle import Action, Transition, transition
from cloison.services.preview import CampaignPreviewer

STATUSES = (
    "queued",
    "sent",
    "delivered",
    "failed",
    "expired",
    "rejected",
    "suppressed",
    "no_consent",
    "capped",
    "invalid",
    "deferred",
    "in_doubt",
)
FINAL_FOR_DELIVERABILITY = ("delivered", "failed", "expired")
# A recurring campaign shows this many of its latest occurrences.
LISTED_OCCURRENCES = 20
# A list of campaigns shows this many by default, the newest.
LISTED_CAMPAIGNS = 100


@dataclass
class CampaignService:
    store: CampaignStore
    audiences: AudienceWriter
    hasher: NumberHasher
    launch_queue: WorkQueue
    schedules: LaunchSchedules
    previewer: CampaignPreviewer
    auditor: Auditor

    def create(self, caller: Caller, request: CampaignIn) -> Campaign:
        caller.require_team(request.team)
        sender = self._sender(request.team, request.sender)
        # Fails now, with the field named, if the template or sender cannot make a lawful message.
        compose_checked(request.body, request.kind.value, sender, variables=None, placeholder=True)
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

    def find(
        self,
        caller: Caller,
        *,
        team: str | None = None,
        status: CampaignStatus | None = None,
        limit: int = LISTED_CAMPAIGNS,
        cursor: str | None = None,
    ) -> tuple[list[Campaign], str | None]:
        """A page of the caller's teams' campaigns (or one team's), newest first, and the cursor
        to the next page; another team is a 404."""
        if team is not None:
            caller.can_see(team)
        teams = [team] if team is not None else sorted(caller.teams)
        records, next_cursor = campaign_page(
            self.store,
            teams,
            status=status.value if status else None,
            limit=limit,
            cursor=cursor,
        )
        return [to_campaign(record) for record in records], next_cursor

    def add_audience(
        self, caller: Caller, campaign_id: str, audience: AudienceIn
    ) -> AudienceResult:
        """Adds the good recipients of a JSON upload as one upload; reports the others by row."""
        campaign = self._editable(caller, campaign_id)
        sender = self._sender(campaign.team, campaign.sender)
        candidates, rejected = from_json(audience)
        return admit(self.audiences, self.hasher, campaign, sender, candidates, rejected)

    def add_csv_audience(self, caller: Caller, campaign_id: str, data: bytes) -> AudienceResult:
        """Adds the good rows of a CSV file as one upload; reports the others by line."""
        campaign = self._editable(caller, campaign_id)
        sender = self._sender(campaign.team, campaign.sender)
        candidates, rejected = from_csv(data, campaign.body)
        return admit(self.audiences, self.hasher, campaign, sender, candidates, rejected)

    def preview(self, caller: Caller, campaign_id: str) -> Preview:
        campaign = self.get(caller, campaign_id)
        sender = self._sender(campaign.team, campaign.sender)
        sample = self.audiences.first_member(campaign)
        try:
            text = compose_checked(
                campaign.body,
                campaign.kind.value,
                sender,
                sample.variables if sample else None,
                placeholder=sample is None,
            )
        except RuleViolation:
            # The first recipient cannot be messaged: show the template itself.
            text = compose_checked(
                campaign.body, campaign.kind.value, sender, None, placeholder=True
            )
        return self.previewer.preview(campaign, sender, datetime.now(UTC), first_text=text)

    def launch(self, caller: Caller, campaign_id: str, request: LaunchIn) -> Campaign:
        """Launches now, at an instant, or on a recurring schedule; always through the queue."""
        campaign = self.get(caller, campaign_id)
        now = datetime.now(UTC)
        at = request.at if request.at is not None and request.at > now else None
        scheduled = request.schedule is not None or at is not None
        step = transition(Action.SCHEDULE if scheduled else Action.LAUNCH, campaign.status)
        if campaign.recipient_count == 0:
            raise RuleViolation("audience", "the campaign has no recipients")
        launch = LaunchRequest(campaign_id=campaign.campaign_id, team=campaign.team)
        # Allowed: recorded before anything moves (a failed record launches nothing).
        self.auditor.record(
            caller,
            "campaign.schedule" if scheduled else "campaign.launch",
            team=campaign.team,
            target=f"campaign/{campaign.campaign_id}",
            details=_launch_details(request, at),
        )
        if request.schedule is not None:
            timezone = request.timezone or "UTC"
            # The schedule first: its first firing is a minute away at least, and a firing
            # that finds the campaign still a draft launches nothing.
            self.schedules.recurring(
                campaign.campaign_id, campaign.team, request.schedule, timezone
            )
            try:
                self.store.set_status(
                    campaign_id,
                    step.target,
                    allowed_from=step.sources,
                    fields={"schedule": request.schedule, "schedule_timezone": timezone},
                )
            except Exception:
                self.schedules.cancel(campaign_id)
                raise
        elif at is not None:
            self.store.set_status(campaign_id, step.target, allowed_from=step.sources, launch_at=at)
            self._or_undo(campaign, step.target, lambda: self.schedules.at(launch, at))
        else:
            self.store.set_status(
                campaign_id, step.target, allowed_from=step.sources, launch_at=now
            )
            self._or_undo(campaign, step.target, lambda: self.launch_queue.send([launch]))
        return self.describe(caller, campaign_id)

    def pause(self, caller: Caller, campaign_id: str) -> Campaign:
        """Stops sending within one chunk: the send worker parks the chunks it finds paused.

        A recurring campaign's firings send nothing while it is paused.
        """
        campaign = self.get(caller, campaign_id)
        self._move(caller, campaign, Action.PAUSE)
        return self.describe(caller, campaign_id)

    def resume(self, caller: Caller, campaign_id: str) -> Campaign:
        """Sends again, and asks the launcher to release every chunk parked while paused.

        A recurring campaign goes back to scheduled: its next firing sends.
        """
        campaign = self.get(caller, campaign_id)
        step = self._move(caller, campaign, Action.RESUME)
        if campaign.schedule is not None:
            return self.describe(caller, campaign_id)  # no chunk of its own was parked
        # Sending first: a chunk released before the status changed would be parked again.
        release = LaunchRequest(
            campaign_id=campaign.campaign_id, team=campaign.team, action="release"
        )
        self._or_undo(campaign, step.target, lambda: self.launch_queue.send([release]))
        return self.describe(caller, campaign_id)

    def cancel(self, caller: Caller, campaign_id: str) -> Campaign:
        """Cancels for good; the launch schedules go too (the status first: a firing finds it)."""
        campaign = self.get(caller, campaign_id)
        self._move(caller, campaign, Action.CANCEL)
        if campaign.status == CampaignStatus.SCHEDULED or campaign.schedule:
            try:
                self.schedules.cancel(campaign.campaign_id)
            except DependencyError as exc:
                # Harmless: a firing finds the campaign cancelled and launches nothing.
                logger.warning(
                    "launch schedule left behind",
                    extra={"campaign": campaign.campaign_id, "reason": str(exc)},
                )
        return self.describe(caller, campaign_id)

    def describe(self, caller: Caller, campaign_id: str) -> Campaign:
        """The campaign; a recurring one with its latest occurrences, each a campaign of its own."""
        record = self.get(caller, campaign_id)
        if record.schedule is None:
            return to_campaign(record)
        return to_campaign(
            record,
            occurrences=[
                Occurrence(
                    id=occurrence.campaign_id,
                    scheduled_at=occurrence.launch_at or occurrence.created_at,
                    status=occurrence.status,
                )
                for occurrence in self.store.occurrences(record.campaign_id, LISTED_OCCURRENCES)
            ],
        )

    def stats(self, caller: Caller, campaign_id: str) -> CampaignStats:
        campaign = self.get(caller, campaign_id)
        counts = self.store.get_counts(campaign_id)
        listed = {status: int(counts.get(status, 0)) for status in STATUSES}
        final = sum(listed[status] for status in FINAL_FOR_DELIVERABILITY)
        return CampaignStats(
            campaign_id=campaign_id,
            status=campaign.status,
            recipients=campaign.recipient_count,
            counts=listed,
            deliverability=round(listed["delivered"] / final, 4) if final else None,
            segments=int(counts.get("segments", 0)),
            cost=round(counts.get("cost", 0.0), 4),
        )

    def _editable(self, caller: Caller, campaign_id: str) -> CampaignRecord:
        campaign = self.get(caller, campaign_id)
        transition(Action.EDIT, campaign.status)
        return campaign

    def _move(self, caller: Caller, campaign: CampaignRecord, action: Action) -> Transition:
        step = transition(action, campaign.status, recurring=campaign.schedule is not None)
        # Allowed: recorded before the status changes (a failed record changes nothing).
        self.auditor.record(
            caller,
            f"campaign.{action.value}",
            team=campaign.team,
            target=f"campaign/{campaign.campaign_id}",
            details={"from": campaign.status.value, "to": step.target.value},
        )
        # Conditional on the status read: a concurrent change makes this a conflict too.
        self.store.set_status(campaign.campaign_id, step.target, allowed_from=step.sources)
        return step

    def _or_undo(
        self, campaign: CampaignRecord, moved_to: CampaignStatus, effect: Callable[[], object]
    ) -> None:
        """Runs what follows a status change; on failure the status goes back, so a retry works."""
        try:
            effect()
        except DependencyError:
            self.store.set_status(campaign.campaign_id, campaign.status, allowed_from=(moved_to,))
            raise

    def _sender(self, team: str, name: str) -> SenderRecord:
        sender = self.store.get_sender(team, name)
        if sender is None:
            raise RuleViolation("sender", f"team {team} has no sender profile named {name!r}")
        return sender


def _launch_details(request: LaunchIn, at: datetime | None) -> dict[str, str]:
    if request.schedule is not None:
        return {"schedule": request.schedule, "timezone": request.timezone or "UTC"}
    return {"at": at.isoformat()} if at is not None else {}


def to_campaign(record: CampaignRecord, occurrences: list[Occurrence] | None = None) -> Campaign:
    campaign = Campaign.model_validate(record)
    return (
        campaign
        if occurrences is None
        else campaign.model_copy(update={"occurrences": occurrences})
    )
