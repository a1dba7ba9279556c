"""Credentials of the reply vault's reader roles: one role per team (and one for quarantine),
assumed with STS for each caller and kept until shortly before they expire."""

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import botocore.session
from botocore.exceptions import ClientError

from cloison.adapters import aws
from cloison.adapters.envelope import EnvelopeSealer, Sealer, data_key_cache
from cloison.errors import DependencyError, ReadDenied

if TYPE_CHECKING:
    import aws_encryption_sdk
    from mypy_boto3_s3 import S3Client

SESSION_SECONDS = 3600
# A session is renewed when it has less than this left: a read never starts on dying credentials.
RENEW_BEFORE = timedelta(minutes=5)
# Sessions kept at once (one per team and caller); the least recently used goes first.
MAX_SESSIONS = 64
_SESSION_NAME_CHARACTERS = re.compile(r"[^\w+=,.@-]", re.ASCII)


def session_name(caller: str) -> str:
    """An STS session name naming the caller (2-64 of `[\\w+=,.@-]`): CloudTrail shows it."""
    name = _SESSION_NAME_CHARACTERS.sub("-", caller)[:64]
    return name if len(name) >= 2 else f"caller-{name}"


@dataclass(frozen=True)
class ReaderSession:
    """What one team's reader role reads with: S3 and the data key, under the role's credentials."""

    team: str
    s3: "S3Client"
    sealer: Sealer
    expires_at: datetime


class ReaderRoles:
    """Sessions under `<role_arn_prefix><team>`, one per (team, caller), renewed before expiry.

    Data keys are cached per team, across callers: opening many replies of a team costs one KMS
    call per data key, while each S3 read and KMS call is made in the caller's own session.
    """

    def __init__(self, role_arn_prefix: str, key_arn: str) -> None:
        self.role_arn_prefix = role_arn_prefix
        self.key_arn = key_arn
        self._sessions: OrderedDict[tuple[str, str], ReaderSession] = OrderedDict()
        self._data_keys: dict[str, aws_encryption_sdk.LocalCryptoMaterialsCache] = {}
        self._lock = threading.Lock()
        # Service models are loaded once, not once per session (a third of a second each).
        self._loader = botocore.session.get_session().get_component("data_loader")

    def role_arn(self, team: str) -> str:
        return f"{self.role_arn_prefix}{team}"

    def session(self, team: str, caller: str) -> ReaderSession:
        key = (team, caller)
        with self._lock:
            cached = self._sessions.get(key)
            if cached is not None and cached.expires_at - RENEW_BEFORE > datetime.now(UTC):
                self._sessions.move_to_end(key)
                return cached
        fresh = self._assume(team, caller)
        with self._lock:
            self._sessions[key] = fresh
            self._sessions.move_to_end(key)
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return fresh

    def _assume(self, team: str, caller: str) -> ReaderSession:
        try:
            answer = aws.sts().assume_role(
                RoleArn=self.role_arn(team),
                RoleSessionName=session_name(caller),
                DurationSeconds=SESSION_SECONDS,
            )
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("AccessDenied", "403"):
                # Also what AWS answers for a role that does not exist: a team not onboarded.
                raise ReadDenied(f"the reader role of team {team} cannot be assumed") from exc
            raise DependencyError(f"STS {code}") from exc
        credentials = answer["Credentials"]
        session = botocore.session.Session()
        session.register_component("data_loader", self._loader)
        session.set_credentials(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )
        with self._lock:
            data_keys = self._data_keys.setdefault(team, data_key_cache())
        return ReaderSession(
            team=team,
            s3=boto3.Session(botocore_session=session).client("s3", config=aws.RETRIES),
            sealer=EnvelopeSealer(
                self.key_arn, botocore_session=session, cache=data_keys, partition=f"team:{team}"
            ),
            expires_at=credentials["Expiration"].astimezone(UTC),
        )
