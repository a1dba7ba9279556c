"""What End User Messaging says of a team's own pool: read when a sender profile names it, so
that a pool which would lose STOPs or replies is refused before anything is sent from it."""

from dataclasses import dataclass
from typing import Self

from botocore.exceptions import BotoCoreError, ClientError

from cloison.adapters import aws
from cloison.config import OptOutList
from cloison.errors import DependencyError


@dataclass(frozen=True)
class PoolFacts:
    arn: str
    opt_out_list: str
    self_managed_opt_outs: bool
    # The SNS topic replies to its numbers are published to (None: two-way is off).
    two_way_channel: str | None
    tags: dict[str, str]
    # Its phone numbers and short codes, as people write to them (E.164 or the short code).
    numbers: tuple[str, ...]
    # Its sender IDs (alphanumeric: nobody can write back to them).
    sender_ids: tuple[str, ...]


class OriginationDirectory:
    """DescribePools, ListPoolOriginationIdentities and ListTagsForResource on one pool."""

    @classmethod
    def from_settings(cls, config: OptOutList) -> Self:
        """Built from the settings of the function that uses it."""
        return cls()

    def pool(self, pool: str) -> PoolFacts | None:
        """The pool named by its PoolId or PoolArn, or None if the account has none such."""
        client = aws.sms_lists()
        try:
            described = client.describe_pools(PoolIds=[pool])["Pools"]
            if not described:
                return None
            found = described[0]
            arn = found["PoolArn"]
            members = client.list_pool_origination_identities(PoolId=arn, MaxResults=100)
            tags = client.list_tags_for_resource(ResourceArn=arn)["Tags"]
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("ResourceNotFoundException", "ValidationException"):
                return None
            raise DependencyError(f"carrier {code}") from exc
        except BotoCoreError as exc:
            raise DependencyError("no answer from the carrier") from exc
        identities = members.get("OriginationIdentities", [])
        return PoolFacts(
            arn=arn,
            opt_out_list=found.get("OptOutListName", "Default"),
            self_managed_opt_outs=bool(found.get("SelfManagedOptOutsEnabled")),
            two_way_channel=found.get("TwoWayChannelArn") if found.get("TwoWayEnabled") else None,
            tags={tag["Key"]: tag["Value"] for tag in tags},
            numbers=tuple(i["PhoneNumber"] for i in identities if i.get("PhoneNumber")),
            sender_ids=tuple(
                i["OriginationIdentity"]
                for i in identities
                if ":sender-id/" in i.get("OriginationIdentityArn", "")
            ),
        )
