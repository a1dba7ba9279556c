"""Audited actions write their entry once allowed and before they take effect, or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fakes import INBOUND_TOPIC, OPT_OUT_LIST, RecordingAuditor, consent_record

from cloison.errors import DependencyError, NotFound
from cloison.models.api.registry import (
    ConsentIn,
    ConsentWithdrawalIn,
    SenderProfileIn,
    SuppressionIn,
)
from cloison.models.records import ConsentRecord, ReplyRecord
from cloison.services.access import Caller
from cloison.services.inbox import ReplyReader
from cloison.services.registry import Registry

ALICE = Caller(
    subject="sub-alice", username="alice", teams=frozenset({"sales"}), roles=frozenset({"member"})
)
ADA = Caller(
    subject="sub-ada", username="ada", teams=frozenset({"sales"}), roles=frozenset({"admin"})
)
PERSON = "+33751002101"
REPLY = ReplyRecord(
    reply_id="r-1",
    team="sales",
    campaign_id="c-1",
    number_key="k",
    received_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
    reply_class="REPLY",
    sensitive=False,
    object_key="replies/team=sales/campaign=c-1/2026/12/01/r-1",
    stored=True,
)


@dataclass
class Journal:
    calls: list[str] = field(default_factory=list)


@dataclass
class Recorder:
    """Any store or adapter: each call is written down, in order, with the others'."""

    journal: Journal
    name: str
    answers: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.journal.calls.append(f"{self.name}.{method}")
            return self.answers.get(method)

        return call


class Hasher:
    def key(self, e164: str) -> str:
        return f"h{e164[-2:]}"


def reader(auditor_fails: bool = False) -> tuple[ReplyReader, Journal, RecordingAuditor]:
    journal = Journal()
    auditor = RecordingAuditor(fail=auditor_fails, journal=journal.calls)
    index = Recorder(journal, "index", {"get": REPLY})
    vault = Recorder(journal, "vault", {"get": "Bonjour"})
    replies = ReplyReader(
        index=cast(Any, index),
        vault=cast(Any, vault),
        suppressions=cast(Any, Recorder(journal, "suppressions")),
        carrier=cast(Any, Recorder(journal, "carrier")),
        hasher=Hasher(),
        auditor=cast(Any, auditor),
    )
    return replies, journal, auditor


def test_opening_a_reply_is_audited_before_its_body_is_read() -> None:
    # Given a member's reply
    replies, journal, auditor = reader()

    # When she opens it
    detail = replies.open(ALICE, "r-1")

    # Then the entry was written before the vault was read, naming her, the team and the reply
    assert detail.body == "Bonjour"
    assert journal.calls.index("audit reply.open") < journal.calls.index("vault.get")
    assert auditor.entries[0] | {"details": {}} == {
        "actor": "sub-alice",
        "actor_name": "alice",
        "action": "reply.open",
        "team": "sales",
        "target": "reply/r-1",
        "reason": None,
        "details": {},
    }


def test_a_reply_whose_opening_cannot_be_audited_is_not_read() -> None:
    replies, journal, _ = reader(auditor_fails=True)
    with pytest.raises(DependencyError):
        replies.open(ALICE, "r-1")
    assert "vault.get" not in journal.calls


def registry(
    auditor_fails: bool = False, consents: list[ConsentRecord] | None = None
) -> tuple[Registry, Journal, RecordingAuditor]:
    journal = Journal()
    auditor = RecordingAuditor(fail=auditor_fails, journal=journal.calls)
    consent_store = Recorder(
        journal, "consents", {"for_number": consents or [], "delete": (consents or [None])[0]}
    )
    return (
        Registry(
            hasher=Hasher(),
            consents=cast(Any, consent_store),
            suppressions=cast(Any, Recorder(journal, "suppressions")),
            campaigns=cast(Any, Recorder(journal, "campaigns")),
            auditor=cast(Any, auditor),
            originations=cast(Any, None),  # no profile names a pool here
            opt_out_list=OPT_OUT_LIST,
            inbound_topic=INBOUND_TOPIC,
        ),
        journal,
        auditor,
    )


CONSENT = consent_record("h01", proof="Oui")
ACTIONS = {
    "consent.record": lambda r: r.record_consent(
        ALICE, ConsentIn(team="sales", phone=PERSON, source="web form", proof="Oui")
    ),
    "consent.withdraw": lambda r: r.withdraw_consent(
        ALICE, ConsentWithdrawalIn(team="sales", phone=PERSON, reason="asked by phone")
    ),
    "suppression.add": lambda r: r.suppress(
        ALICE, SuppressionIn(team="sales", phone=PERSON, reason="asked by phone")
    ),
    "sender.put": lambda r: r.put_sender(
        ADA, "sales", "promo", SenderProfileIn(sender_id="BOUTIQUE", company="Boutique")
    ),
}
WRITES = {
    "consent.record": "consents.put",
    "consent.withdraw": "consents.delete",
    "suppression.add": "suppressions.put",
    "sender.put": "campaigns.put_sender",
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_registry_change_is_audited_before_it_is_written(action: str) -> None:
    # Given the registry
    service, journal, auditor = registry(consents=[CONSENT])

    # When the change is made
    ACTIONS[action](service)

    # Then its entry came first, and holds no phone number but its last two digits
    assert journal.calls.index(f"audit {action}") < journal.calls.index(WRITES[action])
    entry = auditor.entries[0]
    assert entry["team"] == "sales"
    assert "2101" not in str(entry)
    assert "h01" not in str(entry)  # nor its keyed hash


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_registry_change_that_cannot_be_audited_is_not_written(action: str) -> None:
    service, journal, _ = registry(auditor_fails=True, consents=[CONSENT])
    with pytest.raises(DependencyError):
        ACTIONS[action](service)
    assert WRITES[action] not in journal.calls


def test_withdrawing_a_consent_that_does_not_exist_is_a_404_and_no_entry() -> None:
    service, _, auditor = registry(consents=[])
    with pytest.raises(NotFound):
        ACTIONS["consent.withdraw"](service)
    assert auditor.entries == []
