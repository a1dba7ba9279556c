"""Fakes the unit tests share, each standing for one collaborator of the services, and the
records they build most often (a campaign, a sender, a consent, a notice), told only what sets
them apart."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from cloison.adapters.audit_notes import NoteStore
from cloison.adapters.tables import CapHolding
from cloison.compliance.frequency import FrequencyCap
from cloison.errors import ContextMismatch, DependencyError
from cloison.models.api.notices import NoticeIn
from cloison.models.events import LaunchRequest
from cloison.models.kinds import CampaignKind, CampaignStatus
from cloison.models.records import CampaignRecord, ConsentRecord, SenderRecord, UploadRecord
from cloison.services.access import Caller

# The template's default frequency cap, and none.
WEEKLY_CAP = FrequencyCap(4, timedelta(days=7))
NO_CAP = FrequencyCap(0, timedelta(days=7))

# When alice created the campaigns of the tests, and when the consents were given.
CREATED = datetime(2026, 12, 1, tzinfo=UTC)
CONSENTED = datetime(2026, 11, 1, tzinfo=UTC)


def campaign_record(
    campaign_id: str = "c-1",
    *,
    team: str = "sales",
    name: str = "Soldes",
    sender: str = "promo",
    kind: CampaignKind = CampaignKind.MARKETING,
    body: str = "Soldes",
    status: CampaignStatus = CampaignStatus.DRAFT,
    created_at: datetime = CREATED,
    uploads: Sequence[UploadRecord] = (),
    **fields: Any,
) -> CampaignRecord:
    """A campaign that alice created, its recipients and chunks those of its `uploads`;
    `fields` set the fields a campaign has once scheduled (`schedule`, `launch_at`...)."""
    unknown = fields.keys() - CampaignRecord.model_fields.keys()
    assert not unknown, f"a campaign has no field {sorted(unknown)}"
    return CampaignRecord(
        campaign_id=campaign_id,
        team=team,
        name=name,
        sender=sender,
        created_by="alice",
        uploads=list(uploads),
        recipient_count=sum(upload.recipients for upload in uploads),
        chunk_count=sum(upload.chunks for upload in uploads),
        kind=kind,
        body=body,
        status=status,
        created_at=created_at,
        **fields,
    )


def sender_record(
    name: str = "promo",
    *,
    team: str = "sales",
    sender_id: str = "BOUTIQUE",
    window: str = "default",
    mps: int = 10,
    price_per_segment: float = 0.0458,
    company: str = "Boutique Exemple",
    contact: str | None = None,
) -> SenderRecord:
    """The sender `name` of `team`, whose messages tell people to send STOP to 36111."""
    return SenderRecord(**locals(), stop_mention="STOP au 36111")


def consent_record(
    number_key: str,
    team: str = "sales",
    *,
    purpose: str = "marketing",
    proof: str = "Oui aux offres",
    given_at: datetime = CONSENTED,
    notice: str | None = None,
) -> ConsentRecord:
    """The consent to `team`'s `purpose` that alice recorded from a web form (after the person
    read the version of the team's notice whose hash is `notice`, if given)."""
    return ConsentRecord(**locals(), source="web form", recorded_by="alice")


# What team sales tells people before they consent, in French.
NOTICE_FR = {
    "organisation": "Boutique Exemple SAS, 1 rue de l'Exemple, Lyon",
    "purpose": "Vous informer de nos soldes et nouveautés par SMS.",
    "frequency": "Au plus 4 SMS par mois.",
    "retention": "3 ans après notre dernier échange.",
    "rights": "Accès, rectification, effacement : dpo@exemple.fr.",
    "stop": "Répondez STOP au 36111.",
}
NOTICE_EN = {
    "organisation": "Boutique Exemple SAS, 1 rue de l'Exemple, Lyon",
    "purpose": "Telling you about our sales and new products by SMS.",
    "frequency": "At most 4 texts a month.",
    "retention": "3 years after our last exchange.",
    "rights": "Access, rectification, erasure: dpo@exemple.fr.",
    "stop": "Reply STOP to 36111.",
}


def notice_in(*, english: bool = False, **changes: str) -> NoticeIn:
    """Team sales' notice in French (and in English), its French texts but for `changes`."""
    return NoticeIn.model_validate(
        {"fr": NOTICE_FR | changes} | ({"en": NOTICE_EN} if english else {})
    )


class FakeSealer:
    """Reversible without KMS, bound to its context like the real one; never the plain text."""

    def seal(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        return json.dumps(dict(context), sort_keys=True).encode() + b"|" + plaintext[::-1]

    def open(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        stored, _, body = ciphertext.partition(b"|")
        if json.loads(stored) != dict(context):
            raise ContextMismatch("the ciphertext belongs to another context")
        return body[::-1]


@dataclass
class FakeCaps:
    """Frequency caps read from memory: the times counted (epoch seconds) by number key."""

    rule: FrequencyCap = WEEKLY_CAP
    counted: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def holdings(
        self, number_keys: Sequence[str], *, consistent: bool = False
    ) -> dict[str, CapHolding]:
        return {
            key: CapHolding(self.counted[key], version=1)
            for key in number_keys
            if key in self.counted
        }


@dataclass
class FakeQueue:
    """A queue that keeps what is sent to it; `fail` makes every send fail, as SQS down does."""

    fail: bool = False
    sent: list[BaseModel] = field(default_factory=list)

    def send(self, messages: Sequence[BaseModel], *, delay_seconds: int = 0) -> None:
        if self.fail:
            raise DependencyError("SQS down")
        self.sent.extend(messages)


@dataclass
class FakeSchedules:
    """EventBridge Scheduler as the campaign service calls it, each call kept as (what, which)."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def at(self, request: LaunchRequest, when: datetime) -> str:
        self.calls.append(("at", request.campaign_id))
        return "launch"

    def recurring(self, campaign_id: str, team: str, expression: str, timezone: str) -> str:
        self.calls.append(("recurring", f"{expression} {timezone}"))
        return "recurring"

    def cancel(self, campaign_id: str) -> None:
        self.calls.append(("cancel", campaign_id))


@dataclass
class RecordingAuditor:
    """The auditor as the services call it, each entry kept as a dict: who (`actor`, the
    subject; `actor_name`), what, which team and object, why, and `note` when one is given.

    `fail` makes every write fail, as a busy log does; `journal`, when given, gets
    `audit <action>` at each write, beside the other fakes' calls, to check their order;
    `notes`, when given, seals the notes there as the API does.
    """

    entries: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False
    journal: list[str] | None = None
    notes: NoteStore | None = None

    def record(
        self,
        caller: Caller,
        action: str,
        *,
        team: str | None,
        target: str,
        reason: str | None = None,
        note: str | None = None,
        subject: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        if self.fail:
            raise DependencyError("the audit log is busy; nothing was done")
        if self.journal is not None:
            self.journal.append(f"audit {action}")
        entry = {
            "actor": caller.subject,
            "actor_name": caller.username,
            "action": action,
            "team": team,
            "target": target,
            "reason": reason,
            "details": dict(details or {}),
        } | ({"note": note} if note is not None else {})
        self.entries.append(entry)
        if note is not None and self.notes is not None:
            self.notes.seal(f"au-{len(self.entries):016x}", note, datetime.now(UTC), subject)
        return entry

    def notes_about(self, number_key: str) -> list[tuple[str, str]]:
        found = self.notes.about(number_key) if self.notes is not None else {}
        return sorted((entry_id, note.text) for entry_id, note in found.items() if note)

    def forget_notes(self, number_key: str) -> int:
        return self.notes.erase_for_number(number_key) if self.notes is not None else 0


# The stack's opt-out list and inbound topic, as a registry checks a team's own pool against them.
OPT_OUT_LIST = "cloison-dev-SmsOptOutList"
INBOUND_TOPIC = "arn:aws:sns:eu-west-3:123456789012:cloison-dev-InboundTopic"
