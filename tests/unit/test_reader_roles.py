"""Reading replies under the reader roles: sessions per team and caller, renewed before they
expire, data keys shared within a team, refusals answered as not-found. AWS is moto, in process."""

from __future__ import annotations

import io
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber
from in_process_aws import in_process_aws

from cloison.adapters import aws, reader_roles
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.reader_roles import ReaderRoles, ReaderSession, session_name
from cloison.adapters.vault import ReplyVault, encryption_context, reply_object_key
from cloison.errors import DataKeyRefused, NotFound, ReadDenied
from cloison.models.records import ReplyRecord
from cloison.services.access import Caller
from cloison.services.inbox import reading_team

REGION = "eu-west-3"
ACCOUNT = "123456789012"
PREFIX = f"arn:aws:iam::{ACCOUNT}:role/cloison-test-reader-"
BUCKET = "replies"
RECEIVED = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto in process, with a KMS key (its ARN is yielded) and the reply bucket."""
    with in_process_aws(monkeypatch):
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield boto3.client("kms").create_key()["KeyMetadata"]["Arn"]


class Calls(Counter[str]):
    """AWS calls made in this process, by `service.Operation`, and the roles assumed."""

    def __init__(self) -> None:
        super().__init__()
        self.assumed: list[tuple[str, str]] = []


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    counted = Calls()
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, parameters: Any) -> Any:
        counted[f"{client.meta.service_model.service_name}.{operation}"] += 1
        if operation == "AssumeRole":
            counted.assumed.append((parameters["RoleArn"], parameters["RoleSessionName"]))
        return original(client, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return counted


def _stored(key_arn: str, team: str, body: str) -> tuple[str, dict[str, str]]:
    """A reply sealed and written as the inbound function does (its own role)."""
    campaign = f"c-{uuid.uuid4().hex[:8]}"
    key = reply_object_key(team, campaign, RECEIVED, f"in-{uuid.uuid4().hex[:8]}")
    context = encryption_context(team, campaign)
    ReplyVault(BUCKET, EnvelopeSealer(key_arn)).put(key, body, context)
    return key, context


def test_a_reply_is_read_and_opened_under_the_teams_reader_role(
    moto_aws: str, calls: Calls
) -> None:
    # Given a reply of team sales written by the inbound path
    key, context = _stored(moto_aws, "sales", "Je passe samedi")
    vault = ReplyVault(BUCKET, EnvelopeSealer(moto_aws), ReaderRoles(PREFIX, moto_aws))

    # When a member of sales opens it
    body = vault.get(key, context, team="sales", caller="sub-alice")

    # Then it comes back, read under the sales role in a session naming the caller
    assert body == "Je passe samedi"
    assert calls.assumed == [(f"{PREFIX}sales", "sub-alice")]


def test_a_session_serves_its_team_and_caller_until_shortly_before_it_expires(
    moto_aws: str, calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the reader roles
    roles = ReaderRoles(PREFIX, moto_aws)

    # When the same caller reads twice, another caller and another team once each
    first = roles.session("sales", "sub-alice")
    again = roles.session("sales", "sub-alice")
    roles.session("sales", "sub-ada")
    roles.session("support", "sub-alice")

    # Then a role is assumed once per team and caller
    assert again is first
    assert calls["sts.AssumeRole"] == 3

    # And once the session is within minutes of its expiry, the next read renews it
    monkeypatch.setattr(
        reader_roles,
        "RENEW_BEFORE",
        first.expires_at - datetime.now(UTC) + timedelta(seconds=1),
    )
    renewed = roles.session("sales", "sub-alice")
    assert renewed is not first
    assert calls["sts.AssumeRole"] == 4


def test_data_keys_are_shared_by_the_callers_of_a_team_not_across_teams(
    moto_aws: str, calls: Calls
) -> None:
    # Given replies of two teams, each team's sealed with one data key (the inbound path caches)
    inbound = ReplyVault(BUCKET, EnvelopeSealer(moto_aws))
    stored = []
    for team in ("sales", "sales", "support"):
        key = reply_object_key(team, "c-1", RECEIVED, f"in-{uuid.uuid4().hex[:8]}")
        inbound.put(key, f"reply to {team}", encryption_context(team, "c-1"))
        stored.append((team, key))
    vault = ReplyVault(BUCKET, EnvelopeSealer(moto_aws), ReaderRoles(PREFIX, moto_aws))
    before = calls["kms.Decrypt"]

    # When two members of sales open the sales replies, and a member of support its reply
    for (team, key), caller in zip(stored, ("sub-alice", "sub-ada", "sub-bruno"), strict=True):
        vault.get(key, encryption_context(team, "c-1"), team=team, caller=caller)

    # Then KMS opened one data key per team
    assert calls["kms.Decrypt"] - before == 2


def test_session_names_keep_to_what_sts_accepts() -> None:
    # Given callers named in ways STS refuses
    # When session names are made of them
    # Then they are 2 to 64 characters of [\w+=,.@-]
    assert session_name("0a1b2c3d-4e5f") == "0a1b2c3d-4e5f"
    assert session_name("léa martin/ops") == "l-a-martin-ops"
    assert session_name("x") == "caller-x"
    assert len(session_name("a" * 100)) == 64


# ---------------------------------------------------------------- refusals


class _Roles:
    """Reader roles that hand out one prepared session."""

    def __init__(self, session: ReaderSession) -> None:
        self.prepared = session

    def session(self, team: str, caller: str) -> ReaderSession:
        return self.prepared


class _Sealer:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def seal(self, plaintext: bytes, context: Any) -> bytes:
        return plaintext

    def open(self, ciphertext: bytes, context: Any) -> bytes:
        if self.error:
            raise self.error
        return ciphertext


def _vault_answering(monkeypatch: pytest.MonkeyPatch, error: str | None, sealer: _Sealer) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    s3 = boto3.client("s3", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(s3)
    expected = {"Bucket": BUCKET, "Key": "replies/team=support/k"}
    if error is None:
        stubber.add_response("get_object", {"Body": io.BytesIO(b"body")}, expected)  # type: ignore[dict-item]
    else:
        stubber.add_client_error(
            "get_object", error, http_status_code=403, expected_params=expected
        )
    stubber.activate()
    session = ReaderSession("sales", s3, sealer, datetime.now(UTC) + timedelta(hours=1))
    return ReplyVault(BUCKET, _Sealer(), _Roles(session))  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["AccessDenied", "403"])
def test_a_read_the_role_may_not_make_is_denied_as_a_not_found(
    monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    # Given S3 refusing the sales role a support object
    vault = _vault_answering(monkeypatch, code, _Sealer())

    # When it is read
    # Then the refusal is a ReadDenied, which the API answers as a not-found
    with pytest.raises(ReadDenied) as refused:
        vault.get("replies/team=support/k", {"team": "support"}, team="sales", caller="sub-a")
    assert isinstance(refused.value, NotFound)


def test_a_data_key_kms_will_not_open_for_the_role_is_denied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an object read, whose data key KMS refuses to open for the role
    vault = _vault_answering(
        monkeypatch, None, _Sealer(DataKeyRefused("KMS did not decrypt the data key"))
    )

    # When it is opened
    # Then it is denied too
    with pytest.raises(ReadDenied):
        vault.get("replies/team=support/k", {"team": "support"}, team="sales", caller="sub-a")


def test_a_role_that_cannot_be_assumed_denies_the_read(
    moto_aws: str,
) -> None:
    # Given STS refusing the role (a team not onboarded answers the same)
    roles = ReaderRoles(PREFIX, moto_aws)
    with Stubber(aws.sts()) as sts:
        sts.add_client_error("assume_role", "AccessDenied", http_status_code=403)

        # When a session is asked for
        # Then the read is denied
        with pytest.raises(ReadDenied):
            roles.session("marketing", "sub-alice")


# ---------------------------------------------------------------- whose role reads


def _caller(*teams: str, roles: tuple[str, ...] = ("member",)) -> Caller:
    return Caller(
        subject=f"sub-{uuid.uuid4().hex[:6]}",
        username="someone",
        teams=frozenset(teams),
        roles=frozenset(roles),
    )


def _record(team: str, review: str | None = None) -> ReplyRecord:
    return ReplyRecord(
        reply_id="in-1",
        team=team,
        campaign_id="c-1",
        number_key="k",
        received_at=RECEIVED,
        reply_class="REPLY",
        sensitive=False,
        object_key=reply_object_key(team, "c-1", RECEIVED, "in-1"),
        review=review,
    )


def test_the_role_that_reads_is_one_of_the_callers_teams() -> None:
    # Given a member of sales and support
    caller = _caller("sales", "support")

    # When it opens a reply of each, and one of a third team
    # Then each is read with its own team's role, and the third is not the caller's to read
    assert reading_team(caller, _record("sales")) == "sales"
    assert reading_team(caller, _record("support")) == "support"
    with pytest.raises(NotFound):
        reading_team(caller, _record("marketing"))


def test_a_privacy_officer_reads_quarantine_and_replies_awaiting_review() -> None:
    # Given a privacy officer in no team
    officer = _caller(roles=("privacy_officer",))

    # When they open a quarantined reply, a sales reply awaiting review and a settled one
    # Then the first two are read with quarantine's and sales' roles, the last is refused
    assert reading_team(officer, _record("quarantine")) == "quarantine"
    assert reading_team(officer, _record("sales", review="pending")) == "sales"
    with pytest.raises(NotFound):
        reading_team(officer, _record("sales", review="confirmed"))


def test_a_member_never_reads_quarantine() -> None:
    # Given a member of sales
    # When it opens a quarantined reply
    # Then it is not theirs to read
    with pytest.raises(NotFound):
        reading_team(_caller("sales"), _record("quarantine"))
