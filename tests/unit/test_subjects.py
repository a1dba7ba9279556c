"""Data-subject requests over the template's own tables (moto, in process) and fakes of the vault,
the audit trail and the carrier: what access finds, what rectification changes, what erasure
leaves (the opt-out's keyed hash, nothing else), and that erasure can be taken up again."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from fakes import (
    WEEKLY_CAP,
    FakeSealer,
    RecordingAuditor,
    campaign_record,
    consent_record,
    notice_in,
    sender_record,
)
from in_process_aws import create_tables, in_process_aws

from cloison.adapters import aws
from cloison.adapters.audit_notes import AuditNotes
from cloison.adapters.queues import DeadLetters
from cloison.adapters.tables import (
    GLOBAL_SCOPE,
    CampaignStore,
    CapHolding,
    ConsentStore,
    FrequencyCaps,
    MessageStore,
    PrivacyReceipts,
    ReplyIndex,
    SuppressionStore,
    audience_print,
)
from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.adapters.vault import ReplyVault
from cloison.compliance.signup import DEFAULT_LIMITS, LimitKind
from cloison.compliance.window import SendWindowPolicy
from cloison.errors import DependencyError, Forbidden, NotFound, RuleViolation
from cloison.models.api.privacy import PrivacyRequestIn
from cloison.models.kinds import CampaignKind, CampaignStatus
from cloison.models.records import (
    AudienceMember,
    CampaignRecord,
    MessageStatus,
    PendingSignupRecord,
    ReplyRecord,
    SuppressionRecord,
)
from cloison.services.access import Caller
from cloison.services.audience import AudienceWriter, open_chunk
from cloison.services.decision import decide
from cloison.services.delivery_events import STATUS_RANK
from cloison.services.notices import Notices, notice_hash, wordings
from cloison.services.signup_confirmation import SignupConfirmations
from cloison.services.subjects import SubjectRights
from cloison_local.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TABLES = {
    "campaigns": "CampaignsTable",
    "messages": "MessagesTable",
    "contacts": "ContactsTable",
    "suppressions": "SuppressionsTable",
    "replies": "RepliesTable",
}
PEPPER = b"unit-test-pepper"
PERSON = "+33751003101"  # fictional mobiles next to phonenumbers' French example
NEIGHBOUR = "+33751003102"
ADDRESS = "203.0.113.7"  # where a sign-up request came from (documentation range)
PRIYA = Caller(
    subject="sub-priya", username="priya", teams=frozenset(), roles=frozenset({"privacy_officer"})
)
ALICE = Caller(
    subject="sub-alice", username="alice", teams=frozenset({"sales"}), roles=frozenset({"member"})
)


def key_of(e164: str) -> str:
    return hmac.new(PEPPER, e164.encode(), hashlib.sha256).hexdigest()


class Hasher:
    def key(self, e164: str) -> str:
        return key_of(e164)


@dataclass
class FakeVault:
    """Reply bodies by key, each key with its versions; `fail_after` destroys fail past it."""

    versions: dict[str, list[str]] = field(default_factory=dict)
    reads: list[tuple[str, str]] = field(default_factory=list)
    fail_after: int | None = None

    def get(self, key: str, context: dict[str, str], *, team: str, caller: str) -> str:
        if not self.versions.get(key):
            raise NotFound("reply")
        self.reads.append((team, caller))
        return self.versions[key][-1]

    def destroy(self, key: str) -> int:
        if self.fail_after is not None:
            if self.fail_after == 0:
                raise DependencyError("S3 InternalError")
            self.fail_after -= 1
        return len(self.versions.pop(key, []))


@dataclass
class FakeOptOutList:
    numbers: list[str] = field(default_factory=list)

    def opt_out(self, e164: str) -> None:
        self.numbers.append(e164)


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The template's tables, with their keys and indexes, in moto's in-process DynamoDB, and
    the two dead-letter queues of the carrier's payloads in its SQS."""
    with in_process_aws(monkeypatch):
        create_tables(TABLES)
        sqs = boto3.client("sqs")
        for name in DEAD_LETTER_QUEUES:
            sqs.create_queue(QueueName=name)
        yield dict(TABLES)


DEAD_LETTER_QUEUES = ("inbound-dlq", "delivery-dlq")


def dead_letter_urls() -> list[str]:
    sqs = boto3.client("sqs")
    return [sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in DEAD_LETTER_QUEUES]


class FakeDeadLetters:
    def purge(self, e164: str) -> int:
        return 0


@dataclass
class World:
    """A privacy officer's service over the tables, and the means to fill them."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    queues: bool = False  # the dead-letter queues on moto's SQS, or none

    def __post_init__(self) -> None:
        self.sealer = FakeSealer()
        self.vault = FakeVault()
        self.auditor = RecordingAuditor(notes=AuditNotes("contacts", self.sealer, 1825))
        self.provider = FakeOptOutList()
        self.campaigns = CampaignStore("campaigns")
        self.consents = ConsentStore("contacts", 1095)
        self.suppressions = SuppressionStore("suppressions", self.sealer)
        self.caps = FrequencyCaps("contacts", WEEKLY_CAP)
        self.messages = MessageStore("messages", 395)
        self.replies = ReplyIndex("replies", 365)
        self.receipts = PrivacyReceipts("contacts", 1825)
        self.audiences = AudienceWriter(self.campaigns, self.sealer, 395)
        self.signups = PendingSignups("contacts")
        self.signup_limits = SignupLimits("contacts", 500)
        self.rights = SubjectRights(
            hasher=Hasher(),
            consents=self.consents,
            suppressions=self.suppressions,
            caps=self.caps,
            messages=self.messages,
            replies=self.replies,
            vault=self.vault,
            campaigns=self.campaigns,
            sealer=self.sealer,
            opt_out_list=self.provider,
            receipts=self.receipts,
            auditor=self.auditor,
            dead_letters=DeadLetters(dead_letter_urls()) if self.queues else FakeDeadLetters(),
            signups=self.signups,
            signup_limits=self.signup_limits,
        )

    # ------------------------------------------------------------------ what is held
    def campaign(self, campaign_id: str, members: list[AudienceMember]) -> CampaignRecord:
        record = campaign_record(campaign_id, body="Bonjour {first_name}", created_at=self.now)
        self.campaigns.put_campaign(record)
        self.audiences.append(record, members)
        return record

    def consent(self, e164: str, team: str = "sales") -> None:
        self.consents.put(
            consent_record(
                key_of(e164),
                team,
                proof="J'accepte les offres par SMS",
                given_at=self.now - timedelta(days=30),
            )
        )

    def stop(self, e164: str, *, provider_down: bool = False) -> None:
        self.suppressions.put(
            SuppressionRecord(
                number_key=key_of(e164),
                scope=GLOBAL_SCOPE,
                reason="OPT_OUT",
                source="sms-reply",
                evidence="inbound in-stop",
                created_at=self.now - timedelta(days=2),
            )
        )
        if provider_down:
            self.suppressions.mark_provider_pending(key_of(e164), e164, self.now)

    def message(self, e164: str, campaign_id: str, at: datetime) -> None:
        self.messages.advance(
            campaign_id, "sales", key_of(e164), f"m-{campaign_id}", MessageStatus.DELIVERED, 3, at
        )

    def counted(self, e164: str, at: datetime) -> None:
        """A marketing send to the number at `at`, counted against its frequency cap as the
        send path counts it."""
        key = key_of(e164)
        write = self.caps.reservation(key, self.caps.get(key) or CapHolding(), at)
        aws.dynamodb().meta.client.transact_write_items(TransactItems=[write])

    def reply(self, e164: str, reply_id: str, body: str, *, versions: int = 1) -> None:
        record = ReplyRecord(
            reply_id=reply_id,
            team="sales",
            campaign_id="c-sent",
            number_key=key_of(e164),
            received_at=self.now - timedelta(days=1),
            reply_class="REPLY",
            sensitive=False,
            object_key=f"replies/team=sales/campaign=c-sent/{reply_id}",
        )
        self.replies.claim(record)
        self.replies.mark_stored("sales", reply_id)
        self.vault.versions[record.object_key] = [body] * versions

    def sign_up(
        self,
        e164: str,
        team: str,
        notice: str,
        *,
        hours_ago: int = 1,
        address: str = ADDRESS,
        code: int = 1,
    ) -> PendingSignupRecord:
        """A sign-up asked for on the team's page `hours_ago`, as services.signup keeps it: the
        sign-up waiting 24 hours, and the request counted by the limit per number."""
        requested_at = self.now - timedelta(hours=hours_ago)
        record = PendingSignupRecord(
            number_key=key_of(e164),
            team=team,
            notice=notice,
            page=f"https://exemple.fr/{team}/inscription",
            language="fr",
            source_address=address,
            requested_at=requested_at,
            expires_at=requested_at + timedelta(hours=24),
            code=code,
        )
        self.signups.put(record)
        assert self.signup_limits.take(
            LimitKind.NUMBER, key_of(e164), DEFAULT_LIMITS.number, requested_at
        )
        return record

    def everything_about(self, e164: str) -> None:
        """A person who received a campaign (and another team's, nine days ago), replied twice,
        consented and said STOP; their number also waits in a draft, beside a neighbour's."""
        self.consent(e164)
        self.stop(e164)
        self.campaign(
            "c-sent",
            [AudienceMember(e164=e164, number_key=key_of(e164), variables={"first_name": "Lea"})],
        )
        self.campaign(
            "c-draft",
            [
                AudienceMember(
                    e164=NEIGHBOUR, number_key=key_of(NEIGHBOUR), variables={"first_name": "Marc"}
                ),
                AudienceMember(
                    e164=e164,
                    number_key=key_of(e164),
                    variables={"first_name": "Lea", "city": "Lyon"},
                    departement="69",
                ),
            ],
        )
        # two marketing messages counted against the cap: one of them too old to count now
        self.counted(e164, self.now - timedelta(days=9))
        self.message(e164, "c-sent", self.now - timedelta(days=5))
        self.counted(e164, self.now - timedelta(days=5))
        self.reply(e164, "in-1", "Super, je passe samedi", versions=2)
        self.reply(e164, "in-2", "STOP")

    def members(self, campaign_id: str) -> list[AudienceMember]:
        record = self.campaigns.get_campaign(campaign_id)
        assert record is not None
        upload = record.uploads[0].upload_id
        return self.audiences.read_chunk(record, upload, 0)

    def submit(self, caller: Caller = PRIYA, **request: Any) -> Any:
        return self.rights.submit(
            caller, PrivacyRequestIn.model_validate({"phone": PERSON, **request})
        )


def every_item() -> list[tuple[str, dict[str, Any]]]:
    """Every item of every table, as (table, item): what a copy of the tables would show."""
    client = boto3.client("dynamodb")
    return [(table, item) for table in TABLES for item in client.scan(TableName=table)["Items"]]


def holds(item: dict[str, Any], text: str) -> bool:
    return text in json.dumps(item, default=str)


# ---------------------------------------------------------------- access


def test_access_exports_everything_held_with_replies_decrypted(tables: dict[str, str]) -> None:
    # Given everything a person can leave behind
    world = World()
    world.everything_about(PERSON)

    # When the privacy officer asks for it
    receipt = world.submit(kind="access", reason="letter of 2 December")

    # Then the answer holds it all, decrypted, under the reader role of each reply's team
    export = receipt.export
    assert export.phone == PERSON
    assert [consent.proof for consent in export.consents] == ["J'accepte les offres par SMS"]
    assert [(item.scope, item.source) for item in export.suppressions] == [("all", "sms-reply")]
    # what was written about them when someone acted: this request's own note
    assert [note.text for note in export.notes] == ["letter of 2 December"]
    assert [(item.campaign_id, item.status) for item in export.messages] == [
        ("c-sent", "delivered")
    ]
    assert sorted(reply.body for reply in export.replies) == ["STOP", "Super, je passe samedi"]
    assert world.vault.reads == [("sales", "sub-priya")] * 2
    assert sorted(
        (item.campaign_id, item.variables.get("first_name")) for item in export.audiences
    ) == [
        ("c-draft", "Lea"),
        ("c-sent", "Lea"),
    ]
    # the marketing messages counted against its frequency cap now: the past week's
    assert export.marketing_messages_counted == 1
    assert receipt.counts == {
        "consents": 1,
        "suppressions": 1,
        "messages": 1,
        "replies": 2,
        "audience_chunks": 2,
        "signups": 0,
        "signup_limits": 0,
        "frequency_caps": 1,
    }
    # And nothing of the neighbour's is in it
    assert NEIGHBOUR not in export.model_dump_json()
    # And the request is audited under its id, the receipt kept without the number
    assert world.auditor.entries == [
        {
            "actor": PRIYA.subject,
            "actor_name": "priya",
            "action": "subject.export",
            "team": None,
            "target": receipt.id,
            "reason": "other",
            "details": {},
            "note": "letter of 2 December",
        }
    ]
    assert receipt.phone == "***01"
    kept = world.rights.receipt(PRIYA, receipt.id)
    assert kept.export is None
    assert kept.phone is None
    assert kept.counts == receipt.counts
    stored = [item for _, item in every_item() if holds(item, receipt.id)]
    assert len(stored) == 1
    assert not holds(stored[0], PERSON[1:])
    assert not holds(stored[0], key_of(PERSON))


def test_access_shows_each_consent_with_the_notice_the_person_saw(
    tables: dict[str, str],
) -> None:
    # Given a consent to team sales given on the first version of its notice, which changed
    # since, and a consent to team support that names no notice
    world = World()
    admin = Caller(subject="sub-ada", username="ada", teams=frozenset(), roles=frozenset({"admin"}))
    book = Notices(store=world.campaigns, auditor=RecordingAuditor())  # type: ignore[arg-type]
    seen = book.put(admin, "sales", notice_in(english=True))
    book.put(admin, "sales", notice_in(frequency="Au plus 8 SMS par mois."))
    world.consents.put(consent_record(key_of(PERSON), "sales", notice=seen.hash))
    world.consent(PERSON, "support")

    # When the privacy officer asks for everything held about the number
    export = world.submit(kind="access", reason="lettre du 3 décembre").export

    # Then the consent to team sales shows version 1, in the words the person read
    notices = {consent.team: consent.notice for consent in export.consents}
    shown = notices["sales"]
    assert shown is not None
    assert (shown.version, shown.hash) == (1, seen.hash)
    assert shown.fr == seen.fr
    assert shown.en == seen.en
    # And the consent to team support shows none
    assert notices["support"] is None


def test_access_shows_the_sign_ups_waiting_and_the_requests_counted_for_the_number(
    tables: dict[str, str],
) -> None:
    # Given a sign-up to team events asked for 30 hours ago, expired but not deleted yet by TTL,
    # on a page whose notice no version has; one to team support 20 hours ago, still waiting
    # for OUI; and one to team sales an hour ago, asked for OUI 2
    world = World()
    admin = Caller(subject="sub-ada", username="ada", teams=frozenset(), roles=frozenset({"admin"}))
    book = Notices(store=world.campaigns, auditor=RecordingAuditor())  # type: ignore[arg-type]
    shown = book.put(admin, "sales", notice_in(english=True))
    book.put(admin, "support", notice_in())
    expired = world.sign_up(PERSON, "events", "a" * 64, hours_ago=30, address="2001:db8:1:2::5")
    earlier = world.sign_up(PERSON, "support", notice_hash(wordings(notice_in())), hours_ago=20)
    latest = world.sign_up(PERSON, "sales", shown.hash, code=2)
    world.sign_up(NEIGHBOUR, "sales", shown.hash)

    # When the privacy officer asks for everything held about the number
    receipt = world.submit(kind="access", reason="lettre du 4 décembre")
    export = receipt.export

    # Then the three are shown, the latest first, each with the notice its page showed
    assert [(item.team, item.requested_at) for item in export.signups] == [
        ("sales", latest.requested_at),
        ("support", earlier.requested_at),
        ("events", expired.requested_at),
    ]
    sales, support, events = export.signups
    assert (sales.notice.version, sales.notice.fr, sales.notice.en) == (1, shown.fr, shown.en)
    assert (support.notice.version, support.notice.en) == (1, None)
    assert (events.notice.hash, events.notice.version) == ("a" * 64, None)
    assert (sales.page, sales.language) == (latest.page, "fr")
    # And the reply each SMS asked for
    assert (sales.keyword, support.keyword, events.keyword) == ("OUI 2", "OUI", "OUI")
    # And when each expires (to the second, as TTL reads it), past for the one of team events
    assert [item.expires_at for item in export.signups] == [
        signup.expires_at.replace(microsecond=0) for signup in (latest, earlier, expired)
    ]
    assert events.expires_at < world.now
    # And the address each came from only as its network: it may be someone else's
    assert (sales.source_address, events.source_address) == ("203.0.113.0/24", "2001:db8:1::/48")
    assert ADDRESS not in export.model_dump_json()
    # And the requests the limit per number counted in its 24 hours (team events' fell out)
    [counted] = export.signup_limits
    assert (counted.limit, counted.window_hours) == ("number", 24)
    assert counted.requested_at == [earlier.requested_at, latest.requested_at]
    assert (receipt.counts["signups"], receipt.counts["signup_limits"]) == (3, 1)
    # And nothing of the neighbour's
    assert NEIGHBOUR not in export.model_dump_json()


def test_only_privacy_officers_make_or_read_requests(tables: dict[str, str]) -> None:
    world = World()
    world.everything_about(PERSON)
    with pytest.raises(Forbidden):
        world.submit(ALICE, kind="erasure", reason="asked")
    assert world.auditor.entries == []
    receipt = world.submit(kind="access", reason="asked")
    with pytest.raises(Forbidden):
        world.rights.receipt(ALICE, receipt.id)


@pytest.mark.parametrize("request_id", ["pr-0000000000000000", "+33751003101", "../contact"])
def test_an_unknown_or_malformed_request_id_is_not_found(
    tables: dict[str, str], request_id: str
) -> None:
    with pytest.raises(NotFound):
        World().rights.receipt(PRIYA, request_id)


def test_a_request_whose_audit_entry_cannot_be_written_does_nothing(
    tables: dict[str, str],
) -> None:
    world = World()
    world.everything_about(PERSON)
    world.auditor.fail = True
    with pytest.raises(DependencyError):
        world.submit(kind="erasure", reason="asked by letter")
    assert world.consents.for_number(key_of(PERSON))
    assert len(world.replies.from_number(key_of(PERSON))) == 2


# ---------------------------------------------------------------- rectification


def test_rectification_corrects_the_number_in_every_audience_and_audits_names_only(
    tables: dict[str, str],
) -> None:
    # Given the person in a sent campaign and in a draft beside a neighbour
    world = World()
    world.everything_about(PERSON)

    # When their first name is corrected, their city removed and their département changed
    receipt = world.submit(
        kind="rectification",
        reason="asked by phone",
        changes={"variables": {"first_name": "Léa", "city": None}, "departement": "971"},
    )

    # Then both chunks hold the correction, in the same places, the neighbour untouched
    assert receipt.counts == {"audience_chunks": 2}
    assert receipt.attributes == ["variables.city", "variables.first_name", "departement"]
    neighbour, person = world.members("c-draft")
    assert (person.e164, person.variables, person.departement) == (
        PERSON,
        {"first_name": "Léa"},
        "971",
    )
    assert neighbour.variables == {"first_name": "Marc"}
    assert world.members("c-sent")[0].variables == {"first_name": "Léa"}
    # And the audit trail names the attributes, never their values
    (entry,) = world.auditor.entries
    assert entry["action"] == "subject.rectify"
    assert entry["details"] == {"attributes": "variables.city, variables.first_name, departement"}
    assert "Léa" not in json.dumps(entry)


def test_rectification_refuses_an_unknown_departement_before_anything(
    tables: dict[str, str],
) -> None:
    world = World()
    world.everything_about(PERSON)
    with pytest.raises(RuleViolation) as refused:
        world.submit(kind="rectification", reason="asked", changes={"departement": "99"})
    assert refused.value.field == "changes.departement"
    assert world.auditor.entries == []


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "rectification", "reason": "asked"},
        {"kind": "rectification", "reason": "asked", "changes": {}},
        {"kind": "erasure", "reason": "asked", "changes": {"variables": {"a": "b"}}},
        {"kind": "access", "reason": ""},
        {"kind": "forget", "reason": "asked"},
    ],
)
def test_malformed_requests_are_refused_by_the_model(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        PrivacyRequestIn.model_validate({"phone": PERSON, **body})


# ---------------------------------------------------------------- erasure


def test_erasure_leaves_only_the_opt_out_as_the_numbers_keyed_hash(
    tables: dict[str, str],
) -> None:
    # Given everything a person can leave behind, their STOP still waiting for the provider
    world = World()
    world.everything_about(PERSON)
    world.stop(PERSON, provider_down=True)
    world.consent(NEIGHBOUR)

    # and an earlier request of theirs, its note naming them
    world.submit(kind="access", reason="lettre de Mme Lefèvre", reason_code="person_asked")

    # When they are erased
    receipt = world.submit(kind="erasure", reason="letter of 2 December")

    # Then the receipt says what went, and that the opt-out was kept
    assert receipt.counts == {
        "audit_notes": 1,
        "consents": 1,
        "messages": 1,
        "replies": 2,
        "reply_versions": 3,
        "dead_letters": 0,
        "audience_chunks": 2,
        "suppressions_scrubbed": 0,
        "signups": 0,
        "signup_limits": 0,
        "frequency_caps": 1,
    }
    assert receipt.suppression == "kept"
    assert world.auditor.entries[-1]["action"] == "subject.erase"
    # And the earlier request's note is gone with its pointer; the erasure's own stays
    assert AuditNotes("contacts", world.sealer, 1825).open_many(["au-0000000000000001"]) == {}
    kept = AuditNotes("contacts", world.sealer, 1825).open_many(["au-0000000000000002"])
    assert [note.text for note in kept.values() if note] == ["letter of 2 December"]
    # And the waiting number went to the provider's list before its sealed copy was dropped
    assert world.provider.numbers == [PERSON]
    holding = world.suppressions.holding(key_of(PERSON))
    assert holding is not None
    assert not holding.provider_pending
    assert set(holding.standing) == {GLOBAL_SCOPE}
    # And no reply body is left, in any version
    assert world.vault.versions == {}
    # And of every item of every table, only the suppression holds the keyed hash, none the
    # number, but for the tombstones of the campaigns that messaged or held the number: their
    # key alone, for 73 hours, so that late delivery events write nothing back
    items = every_item()
    holding_hash = [(t, item) for t, item in items if holds(item, key_of(PERSON))]
    assert [(t, item["pk"]["S"]) for t, item in holding_hash if t != "messages"] == [
        ("suppressions", f"number#{key_of(PERSON)}")
    ]
    tombstones = [item for t, item in holding_hash if t == "messages"]
    assert {item["sk"]["S"] for item in tombstones} == {"campaign#c-draft", "campaign#c-sent"}
    assert all(set(item) == {"pk", "sk", "status_rank", "expires_at"} for item in tombstones)
    assert not [item for _, item in items if holds(item, PERSON[1:])]
    # And the uploads' prints (what a later upload is checked against) hold only the neighbour's
    prints = " ".join(
        item["prints"]["S"] for t, item in items if item["sk"]["S"].startswith("prints#")
    )
    assert audience_print(key_of(NEIGHBOUR)) in prints
    assert audience_print(key_of(PERSON)) not in prints
    # And the chunks keep their places: the person's is an empty tombstone, the neighbour's intact
    neighbour, erased = world.members("c-draft")
    assert erased == AudienceMember.tombstone()
    assert neighbour.e164 == NEIGHBOUR
    assert world.members("c-sent") == [AudienceMember.tombstone()]
    # And the neighbour's consent is untouched
    assert world.consents.for_number(key_of(NEIGHBOUR))


def test_erasure_deletes_the_sign_ups_waiting_and_the_requests_counted_for_the_number(
    tables: dict[str, str],
) -> None:
    # Given a person with a sign-up waiting for each of two teams, and a neighbour with one
    world = World()
    world.sign_up(PERSON, "support", "a" * 64, hours_ago=2)
    world.sign_up(PERSON, "sales", "b" * 64)
    world.sign_up(NEIGHBOUR, "sales", "b" * 64)

    # When the person is erased
    receipt = world.submit(kind="erasure", reason="asked by letter")

    # Then both sign-ups and the count of requests for the number went at once, and say so
    assert (receipt.counts["signups"], receipt.counts["signup_limits"]) == (2, 1)
    assert world.signups.held(key_of(PERSON)) == []
    assert world.signup_limits.counted(LimitKind.NUMBER, key_of(PERSON)) is None
    # And only the opt-out holds the keyed hash
    holding = [item["pk"]["S"] for _, item in every_item() if holds(item, key_of(PERSON))]
    assert holding == [f"number#{key_of(PERSON)}"]
    # And the neighbour's sign-up still waits
    assert len(world.signups.held(key_of(NEIGHBOUR))) == 1

    # When the person's OUI to the confirmation arrives after the erasure
    confirmations = SignupConfirmations(world.signups, world.consents)
    # Then it finds no sign-up, and no consent exists
    assert confirmations.answered(key_of(PERSON), "OUI", world.now) is None
    assert world.consents.for_number(key_of(PERSON)) == []


def test_a_confirmation_read_before_an_erasure_and_recorded_after_it_records_nothing(
    tables: dict[str, str],
) -> None:
    # Given a reply OUI that found the person's waiting sign-up
    world = World()
    world.sign_up(PERSON, "sales", "b" * 64)
    confirmations = SignupConfirmations(world.signups, world.consents)
    signup = confirmations.answered(key_of(PERSON), "OUI", world.now)
    assert signup is not None

    # When the person is erased before the consent is written
    world.submit(kind="erasure", reason="asked by letter")

    # Then the consent is not written: its sign-up no longer waits
    assert confirmations.confirm(signup, "in-late", world.now) is False
    assert world.consents.for_number(key_of(PERSON)) == []

    # And a consent confirmed before an erasure is erased with the others
    world.sign_up(NEIGHBOUR, "sales", "b" * 64)
    other = confirmations.answered(key_of(NEIGHBOUR), "oui", world.now)
    assert other is not None
    assert confirmations.confirm(other, "in-early", world.now) is True
    erased = world.submit(kind="erasure", reason="asked", phone=NEIGHBOUR)
    assert erased.counts["consents"] == 1
    assert world.consents.for_number(key_of(NEIGHBOUR)) == []


def test_erasure_of_a_number_that_never_opted_out_adds_an_opt_out(
    tables: dict[str, str],
) -> None:
    world = World()
    world.consent(PERSON)
    receipt = world.submit(kind="erasure", reason="asked by letter")
    assert receipt.suppression == "added"
    standing = world.suppressions.get(key_of(PERSON))[GLOBAL_SCOPE]
    assert standing.source == "data-subject-erasure"
    assert standing.evidence == f"privacy request {receipt.id}"
    assert world.provider.numbers == []  # the number is not handed to anyone new
    assert world.suppressions.suppressed([key_of(PERSON)], "support") == {key_of(PERSON)}


def test_erasure_masks_a_number_quoted_in_a_kept_suppressions_reason(
    tables: dict[str, str],
) -> None:
    world = World()
    world.suppressions.put(
        SuppressionRecord(
            number_key=key_of(PERSON),
            scope="team#sales",
            reason="called from 07 51 00 31 01 to complain",
            source="api",
            evidence="recorded by alice",
            created_at=world.now,
        )
    )
    receipt = world.submit(kind="erasure", reason="asked")
    assert receipt.counts["suppressions_scrubbed"] == 1
    kept = world.suppressions.get(key_of(PERSON))["team#sales"]
    assert "31 01" not in kept.reason
    assert kept.reason.endswith("to complain")
    assert kept.evidence == "recorded by alice"


def test_an_erasure_that_failed_midway_still_stops_sends_and_finishes_when_sent_again(
    tables: dict[str, str],
) -> None:
    # Given a person with two replies, whose erasure fails at the second reply's body
    world = World()
    world.everything_about(PERSON)
    world.vault.fail_after = 1
    with pytest.raises(DependencyError):
        world.submit(kind="erasure", reason="asked")

    # Then the number is suppressed already, and what is left is still found
    assert world.suppressions.suppressed([key_of(PERSON)], "sales") == {key_of(PERSON)}
    assert len(world.replies.from_number(key_of(PERSON))) == 1

    # When the request is sent again
    world.vault.fail_after = None
    receipt = world.submit(kind="erasure", reason="asked")

    # Then it erases what was left, and a third one finds nothing
    assert receipt.counts["replies"] == 1
    assert receipt.counts["consents"] == 1
    kept = {table for table, item in every_item() if holds(item, key_of(PERSON))}
    assert kept == {"suppressions", "messages"}  # the opt-out, and the tombstones
    assert all(
        set(item) == {"pk", "sk", "status_rank", "expires_at"}
        for table, item in every_item()
        if table == "messages" and holds(item, key_of(PERSON))
    )
    again = world.submit(kind="erasure", reason="asked")
    assert set(again.counts.values()) == {0}
    assert again.suppression == "kept"


def test_a_delivery_event_after_an_erasure_writes_nothing_back(tables: dict[str, str]) -> None:
    # Given a message sent two hours ago, its record open, and the number erased
    world = World()
    world.message(PERSON, "c-sent", world.now - timedelta(hours=2))
    world.submit(kind="erasure", reason="asked")

    # When its delivery event comes (End User Messaging reports up to 72 hours after a send)
    moved = world.messages.advance(
        "c-sent",
        "sales",
        key_of(PERSON),
        "m-late",
        MessageStatus.DELIVERED,
        STATUS_RANK[MessageStatus.DELIVERED],
        world.now,
    )

    # Then the tombstone stands: no record of the message comes back, with or without campaign
    assert moved is None
    assert world.messages.to_number(key_of(PERSON)) == []
    (tombstone,) = [
        item for table, item in every_item() if table == "messages" and holds(item, key_of(PERSON))
    ]
    assert "campaign_id" not in tombstone
    expires = datetime.fromtimestamp(int(tombstone["expires_at"]["N"]), UTC)
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=73))) < timedelta(minutes=1)


def test_an_erased_member_is_never_sent() -> None:
    campaign = campaign_record(
        name="Avis",
        sender="alerts",
        kind=CampaignKind.TRANSACTIONAL,
        body="Votre colis arrive",
        status=CampaignStatus.SENDING,
    )
    sender = sender_record("alerts", window="daily")
    planned = decide(
        campaign,
        sender,
        AudienceMember.tombstone(),
        7,
        set(),
        {""},
        SendWindowPolicy(),
        datetime(2026, 12, 1, 10, tzinfo=UTC),
    )
    assert (planned.index, planned.status, planned.e164) == (7, MessageStatus.SUPPRESSED, "")


def test_the_audience_index_tells_apart_numbers_of_one_bucket(tables: dict[str, str]) -> None:
    # Given numbers whose keys share their first characters, in two uploads of two campaigns
    world = World()
    keys = ["abc" + "1" * 61, "abc" + "2" * 61, "abd" + "3" * 61]
    first = [AudienceMember(e164=f"+3361234560{i}", number_key=key) for i, key in enumerate(keys)]
    world.campaign("c-1", first)
    world.campaign("c-2", [first[1]])

    # When the chunks of one of them are asked for
    found = world.campaigns.audiences_of(keys[1])

    # Then both uploads holding it are named, with its chunk, and no other number's
    assert sorted(place.campaign_id for place in found) == ["c-1", "c-2"]
    assert {place.chunk for place in found} == {0}
    assert [place.campaign_id for place in world.campaigns.audiences_of(keys[0])] == ["c-1"]
    # And once forgotten in one upload, it is named by the other only
    (in_first,) = [place for place in found if place.campaign_id == "c-1"]
    world.campaigns.forget_audience_member(in_first, keys[1])
    assert [place.campaign_id for place in world.campaigns.audiences_of(keys[1])] == ["c-2"]
    # (the index forgets; rewriting the chunk is the erasure's part)
    sealed = world.campaigns.get_chunk("c-1", in_first.upload_id, 0)
    assert sealed is not None
    assert open_chunk(world.sealer, sealed, "sales", "c-1")[1].number_key == keys[1]


def test_the_vault_destroys_every_version_of_a_reply_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a versioned bucket: a reply written twice then deleted, and a longer key beside it
    with in_process_aws(monkeypatch):
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket="vault", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        s3.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Enabled"})
        key = "replies/team=sales/campaign=c-1/2026/12/01/in-1"
        for body in (b"sealed-1", b"sealed-2"):
            s3.put_object(Bucket="vault", Key=key, Body=body)
        s3.delete_object(Bucket="vault", Key=key)
        s3.put_object(Bucket="vault", Key=key + "0", Body=b"another reply")
        vault = ReplyVault("vault", FakeSealer())

        # When the reply is destroyed, twice
        destroyed = vault.destroy(key)
        again = vault.destroy(key)

        # Then its two versions and its delete marker went, and the other reply stayed
        listing = s3.list_object_versions(Bucket="vault")
        remaining = [entry["Key"] for entry in listing.get("Versions", [])]
        assert (destroyed, again) == (3, 0)
        assert remaining == [key + "0"]
        assert "DeleteMarkers" not in listing


def test_no_function_puts_its_response_in_traces() -> None:
    # An export (and a reply opened) is a response: X-Ray would keep it as trace metadata.
    variables = load_template(TEMPLATE)["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"


def test_a_receipt_keeps_the_reason_s_code_and_the_audit_note_the_text(
    tables: dict[str, str],
) -> None:
    world = World()
    receipt = world.submit(
        kind="access", reason="asked from 07 51 00 31 01 by phone", reason_code="person_asked"
    )
    assert receipt.reason == world.rights.receipt(PRIYA, receipt.id).reason == "person_asked"
    assert world.auditor.entries[-1]["note"] == "asked from ***01 by phone"
    assert not [item for _, item in every_item() if holds(item, "by phone")]


def test_an_erasure_takes_the_number_s_dead_letters_out_and_keeps_the_others(
    tables: dict[str, str],
) -> None:
    # Given a reply of the person and one of a neighbour that failed to be processed, and a
    # delivery event of the person's, waiting in the dead-letter queues
    sqs = boto3.client("sqs")
    inbound, delivery = dead_letter_urls()
    reply = {"originationNumber": PERSON, "messageBody": "Rappelez-moi", "inboundMessageId": "r"}
    envelope = {"Type": "Notification", "Message": json.dumps(reply), "Timestamp": "x"}
    sqs.send_message(QueueUrl=inbound, MessageBody=json.dumps(envelope))
    neighbour = {**reply, "originationNumber": NEIGHBOUR}
    sqs.send_message(
        QueueUrl=inbound, MessageBody=json.dumps({**envelope, "Message": json.dumps(neighbour)})
    )
    event = {"eventType": "TEXT_DELIVERED", "destinationPhoneNumber": PERSON, "messageId": "m"}
    sqs.send_message(QueueUrl=delivery, MessageBody=json.dumps(event))

    # When the person is erased
    receipt = World(queues=True).submit(kind="erasure", reason="asked")

    # Then their two dead letters are gone, and the neighbour's is there, visible again
    assert receipt.counts["dead_letters"] == 2
    left = sqs.receive_message(QueueUrl=inbound, MaxNumberOfMessages=10)["Messages"]
    assert [NEIGHBOUR in message["Body"] for message in left] == [True]
    assert "Messages" not in sqs.receive_message(QueueUrl=delivery, MaxNumberOfMessages=10)
