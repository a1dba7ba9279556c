"""Audiences at rest: recipients sealed in chunks, appended to a campaign one upload at a time."""

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cloison.adapters.envelope import Sealer
from cloison.adapters.tables import CampaignStore
from cloison.models.records import AudienceMember, CampaignRecord, UploadRecord

# A chunk is one send-queue message: large enough that batched reads (100 keys) and the
# per-chunk overhead stay far below one AWS call per recipient, small enough to send in one
# invocation at a sender's usual rate.
CHUNK_SIZE = 500


def audience_context(team: str, campaign_id: str) -> dict[str, str]:
    """Encryption context of a campaign's sealed audience chunks."""
    return {"team": team, "campaign": campaign_id, "purpose": "audience"}


def open_chunk(sealer: Sealer, sealed: bytes, team: str, campaign_id: str) -> list[AudienceMember]:
    members = json.loads(sealer.open(sealed, audience_context(team, campaign_id)))
    return [AudienceMember.model_validate(member) for member in members]


def seal_chunk(
    sealer: Sealer, members: Sequence[AudienceMember], team: str, campaign_id: str
) -> bytes:
    return sealer.seal(
        json.dumps([member.model_dump(exclude_defaults=True) for member in members]).encode(),
        audience_context(team, campaign_id),
    )


@dataclass
class AudienceWriter:
    """Seals recipients into chunks, stages them, then commits the upload in one write."""

    store: CampaignStore
    sealer: Sealer
    retention_days: int

    def already_held(self, campaign: CampaignRecord) -> set[str]:
        """The prints (`audience_print`) of the numbers the campaign's uploads hold already."""
        return self.store.audience_prints(
            campaign.campaign_id, [upload.upload_id for upload in campaign.uploads]
        )

    def append(
        self, campaign: CampaignRecord, members: Sequence[AudienceMember], *, rejected: int = 0
    ) -> UploadRecord:
        """Adds `members` as one upload, all or none; `rejected` rows of it were refused. The
        campaign must still have the uploads it was read with (`already_held` was checked
        against them), else Conflict."""
        upload = UploadRecord(
            upload_id=f"u-{secrets.token_hex(6)}",
            chunks=(len(members) + CHUNK_SIZE - 1) // CHUNK_SIZE,
            recipients=len(members),
            rejected=rejected,
        )
        chunks = [
            members[start : start + CHUNK_SIZE] for start in range(0, len(members), CHUNK_SIZE)
        ]
        sealed = [
            (seal_chunk(self.sealer, chunk, campaign.team, campaign.campaign_id), len(chunk))
            for chunk in chunks
        ]
        expires_at = int((datetime.now(UTC) + timedelta(days=self.retention_days)).timestamp())
        # Staged chunks that are never committed are unreachable and expire with the TTL.
        self.store.stage_chunks(
            campaign.campaign_id,
            upload.upload_id,
            sealed,
            expires_at,
            team=campaign.team,
            members=[[member.number_key for member in chunk] for chunk in chunks],
        )
        self.store.commit_upload(campaign.campaign_id, upload, after=len(campaign.uploads))
        return upload

    def read_chunk(
        self, campaign: CampaignRecord, upload_id: str, chunk: int
    ) -> list[AudienceMember]:
        """The recipients of one committed chunk, opened in the context they were sealed in."""
        owner = campaign.audience_owner(upload_id)
        sealed = self.store.get_chunk(owner, upload_id, chunk)
        if sealed is None:
            return []
        return open_chunk(self.sealer, sealed, campaign.team, owner)

    def first_member(self, campaign: CampaignRecord) -> AudienceMember | None:
        """The first recipient of the campaign, for previews."""
        if not campaign.uploads:
            return None
        members = self.read_chunk(campaign, campaign.uploads[0].upload_id, 0)
        return members[0] if members else None
