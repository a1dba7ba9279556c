"""The reply vault: bodies sealed under `{team, campaign}` and stored under the team's S3 prefix."""

from datetime import datetime
from typing import TYPE_CHECKING, Self

from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.envelope import Sealer
from cloison.config import Replies
from cloison.errors import DataKeyRefused, DependencyError, NotFound, ReadDenied

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

    from cloison.adapters.reader_roles import ReaderRoles

_DENIALS = frozenset({"AccessDenied", "AccessDeniedException", "403"})

QUARANTINE = "quarantine"
# DeleteObjects takes this many keys (or versions) per call.
DELETE_LIMIT = 1000


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
    """Writes and reads sealed reply bodies; the plaintext never reaches S3.

    Writes are made with the function's own role. Reads are made under a reader role, the
    reading team's: IAM lets it get objects under `replies/team=<team>/` only and KMS opens
    only data keys of its team's encryption context, whatever the code asks for.
    """

    @classmethod
    def from_settings(
        cls,
        config: Replies,
        sealer: Sealer,
        readers: "ReaderRoles | None" = None,
    ) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.reply_bucket, sealer, readers)

    def __init__(self, bucket: str, sealer: Sealer, readers: "ReaderRoles | None" = None) -> None:
        self.bucket = bucket
        self.sealer = sealer
        self.readers = readers

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

    def get(self, key: str, context: dict[str, str], *, team: str, caller: str) -> str:
        """Reads and opens the body at `key` under `team`'s reader role, in `caller`'s session.

        Raises ReadDenied when the role may not read the object or open its data key.
        """
        if self.readers is None:
            raise RuntimeError("this ReplyVault was built without reader roles")
        reader = self.readers.session(team, caller)
        try:
            sealed = reader.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("NoSuchKey", "404"):
                raise NotFound("reply") from exc
            if code in _DENIALS:
                # Also S3's answer for a missing key when the role may not list the bucket.
                raise ReadDenied(f"the reader role of team {team} may not read {key}") from exc
            raise DependencyError(f"S3 {code}") from exc
        try:
            return reader.sealer.open(sealed, context).decode("utf-8")
        except DataKeyRefused as exc:
            # The SDK does not say why (its KMS calls are already retried): most likely the key's
            # encryption context is another team's, which the role's condition refuses.
            raise ReadDenied(
                f"KMS did not open this data key for team {team}'s reader role"
            ) from exc

    def destroy(self, key: str) -> int:
        """Deletes every version of the object at `key`, delete markers included; returns how
        many went. The bucket is versioned: deleting the object alone would keep its body."""
        s3 = aws.s3()
        try:
            versions: list[ObjectIdentifierTypeDef] = [
                {"Key": entry["Key"], "VersionId": entry["VersionId"]}
                for page in s3.get_paginator("list_object_versions").paginate(
                    Bucket=self.bucket, Prefix=key
                )
                for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                if entry["Key"] == key  # the prefix also lists longer keys
            ]
            for start in range(0, len(versions), DELETE_LIMIT):
                answer = s3.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": versions[start : start + DELETE_LIMIT], "Quiet": True},
                )
                if answer.get("Errors"):
                    raise DependencyError(f"S3 {answer['Errors'][0].get('Code', 'error')}")
        except ClientError as exc:
            raise DependencyError(f"S3 {exc.response['Error']['Code']}") from exc
        return len(versions)
