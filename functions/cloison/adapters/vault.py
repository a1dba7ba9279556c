"""The reply vault: bodies sealed under `{team, campaign}` and stored under the team's S3 prefix."""

from datetime import datetime

from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.envelope import Sealer
from cloison.errors import DependencyError, NotFound

QUARANTINE = "quarantine"


def reply_object_key(
    team: str | None, campaign_id: str | None, received_at: datetime, reply_id: str
) -> str:
    """Where a reply lives: its team's compartment, or quarantine when it matched no campaign."""
    day = received_at.strftime("%Y/%m/%d")
    if team is None:
        return f"{QUARANTINE}/{day}/{reply_id}"
    return f"replies/team={team}/campaign={campaign_id or 'none'}/{day}/{reply_id}"


def encryption_context(team: str | None, campaign_id: str | None) -> dict[str, str]:
    return {"team": team or QUARANTINE, "campaign": campaign_id or "none"}


class ReplyVault:
    """Writes and reads sealed reply bodies; the plaintext never reaches S3."""

    def __init__(self, bucket: str, sealer: Sealer) -> None:
        self.bucket = bucket
        self.sealer = sealer

    def put(self, key: str, body: str, context: dict[str, str]) -> None:
        """Writes the sealed body once: a retry that finds the key written leaves it as it is."""
        sealed = self.sealer.seal(body.encode("utf-8"), context)
        try:
            aws.s3().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=sealed,
                ContentType="application/octet-stream",
                # The bucket is versioned: an overwrite would keep a second sealed copy.
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "PreconditionFailed":
                return
            raise DependencyError(f"S3 {exc.response['Error']['Code']}") from exc

    def get(self, key: str, context: dict[str, str]) -> str:
        try:
            sealed = aws.s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise NotFound("reply") from exc
            raise DependencyError(f"S3 {exc.response['Error']['Code']}") from exc
        return self.sealer.open(sealed, context).decode("utf-8")
