"""A team's notice, versioned, on the campaigns table the template defines (moto, in process):
each change a new version named by the hash of its texts, the same texts no new version, two
writers of one version a conflict; a consent names a version of its team's notice or is refused;
an access export shows the version the person saw."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from fakes import INBOUND_TOPIC, NOTICE_EN, NOTICE_FR, OPT_OUT_LIST, RecordingAuditor, notice_in
from in_process_aws import create_tables
from pydantic import ValidationError

from cloison.adapters.tables import CampaignStore, ConsentStore
from cloison.errors import Conflict, DependencyError, Forbidden, NotFound, RuleViolation
from cloison.models.api.registry import ConsentIn
from cloison.models.records import NoticeRecord, NoticeWording
from cloison.services.access import Caller
from cloison.services.notices import Notices, notice_hash, wordings
from cloison.services.registry import Registry
from cloison.services.subject_export import exported_notice

ADA = Caller(
    subject="sub-ada", username="ada", teams=frozenset({"sales"}), roles=frozenset({"admin"})
)
ALICE = Caller(
    subject="sub-alice", username="alice", teams=frozenset({"sales"}), roles=frozenset({"member"})
)
BRUNO = Caller(
    subject="sub-bruno", username="bruno", teams=frozenset({"support"}), roles=frozenset({"member"})
)
# Fictional mobiles of this test alone.
PERSON = "+33751004004"
OTHER_PERSON = "+33751004005"
# The hash of team sales' French notice (fakes.NOTICE_FR): the same words, the same hash, in
# every release, or the consents recorded before would point at nothing.
FRENCH_NOTICE_HASH = "8f9e0dd407aecca33a055fc824062cfcd921e229ca5838dba2d5b3188770b58c"


class Hasher:
    def key(self, e164: str) -> str:
        return f"h{e164[-3:]}"


def notices(store: CampaignStore) -> tuple[Notices, RecordingAuditor]:
    auditor = RecordingAuditor()
    return Notices(store=store, auditor=auditor), auditor  # type: ignore[arg-type]


# ---------------------------------------------------------------- versions


def test_a_first_notice_is_version_one_and_each_change_the_next(
    campaign_store: CampaignStore,
) -> None:
    # Given team sales without a notice
    service, auditor = notices(campaign_store)

    # When an administrator puts its notice, then changes its frequency
    first = service.put(ADA, "sales", notice_in())
    second = service.put(ADA, "sales", notice_in(frequency="Au plus 2 SMS par mois."))

    # Then they are versions 1 and 2, with different hashes, both kept, newest first
    assert (first.version, second.version) == (1, 2)
    assert first.hash != second.hash
    assert [(item.version, item.hash) for item in service.versions(ALICE, "sales")] == [
        (2, second.hash),
        (1, first.hash),
    ]
    assert {(item.created_by, item.created_at) for item in service.versions(ALICE, "sales")} == {
        ("ada", first.created_at),
        ("ada", second.created_at),
    }
    # And the latest is the second, as put
    latest = service.latest(ALICE, "sales")
    assert latest.fr.frequency == "Au plus 2 SMS par mois."
    assert (latest.created_by, latest.team, latest.en) == ("ada", "sales", None)
    # And each version was audited, naming its hash
    assert [(entry["action"], entry["target"]) for entry in auditor.entries] == [
        ("notice.put", "notice/sales/1"),
        ("notice.put", "notice/sales/2"),
    ]
    assert auditor.entries[1]["details"] == {"hash": second.hash, "languages": "fr"}


def test_the_same_texts_put_again_answer_the_latest_version_and_write_nothing(
    campaign_store: CampaignStore,
) -> None:
    # Given team sales' notice in French and English
    service, auditor = notices(campaign_store)
    kept = service.put(ADA, "sales", notice_in(english=True))

    # When the same texts are put again, with spaces around them
    padded = {name: f"  {text} " for name, text in NOTICE_FR.items()}
    again = service.put(ADA, "sales", notice_in(english=True, **padded))

    # Then the answer is the version kept, and no version nor audit entry was added
    assert again == kept
    assert len(service.versions(ADA, "sales")) == 1
    assert len(auditor.entries) == 1


def test_the_hash_is_sha256_of_the_canonical_json_of_the_texts_and_stable() -> None:
    # Given team sales' notice, in French only and in both languages
    french = wordings(notice_in())
    both = wordings(notice_in(english=True))

    # Then its hash is SHA-256 over the JSON of the texts by language, keys sorted, no spaces
    canonical = json.dumps(
        {"fr": NOTICE_FR}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert notice_hash(french) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert notice_hash(french) == FRENCH_NOTICE_HASH
    # And the order the texts were given in does not change it; the English does
    reordered = {"fr": NoticeWording(**dict(reversed(list(NOTICE_FR.items()))))}
    assert notice_hash(reordered) == FRENCH_NOTICE_HASH
    assert notice_hash(both) != FRENCH_NOTICE_HASH
    assert notice_hash({"en": NoticeWording(**NOTICE_EN), **french}) == notice_hash(both)


def test_two_writers_of_one_version_make_a_conflict_and_the_first_text_stays(
    campaign_store: CampaignStore,
) -> None:
    # Given version 1 of team sales' notice
    service, _ = notices(campaign_store)
    first = service.put(ADA, "sales", notice_in())

    # When another writer, who read no version, writes its own version 1
    late = NoticeRecord(
        team="sales",
        version=1,
        hash="0" * 64,
        texts={"fr": NoticeWording(**(NOTICE_FR | {"purpose": "Autre chose."}))},
        created_at=datetime.now(UTC),
        created_by="ada",
    )

    # Then it is a conflict, and version 1 is the first writer's
    with pytest.raises(Conflict):
        campaign_store.add_notice(late)
    assert service.latest(ALICE, "sales").hash == first.hash


def test_a_notice_whose_version_cannot_be_audited_is_not_kept(
    campaign_store: CampaignStore,
) -> None:
    service = Notices(store=campaign_store, auditor=RecordingAuditor(fail=True))  # type: ignore[arg-type]
    with pytest.raises(DependencyError):
        service.put(ADA, "sales", notice_in())
    assert campaign_store.notices_of("sales") == []


def test_only_administrators_put_a_notice(campaign_store: CampaignStore) -> None:
    # Given a member of team sales
    service, auditor = notices(campaign_store)

    # When she puts her team's notice
    # Then she is refused, and nothing is audited or kept
    with pytest.raises(Forbidden):
        service.put(ALICE, "sales", notice_in())
    assert auditor.entries == []
    assert campaign_store.notices_of("sales") == []


def test_a_notice_is_read_by_its_team_and_administrators_and_is_a_404_to_others(
    campaign_store: CampaignStore,
) -> None:
    # Given team sales' notice
    service, _ = notices(campaign_store)
    service.put(ADA, "sales", notice_in())

    # Then its member and an administrator read it
    assert service.latest(ALICE, "sales").fr.organisation == NOTICE_FR["organisation"]
    assert service.latest(ADA, "sales").version == 1
    # And a member of team support is told it does not exist, as for a team without notice
    with pytest.raises(NotFound):
        service.latest(BRUNO, "sales")
    with pytest.raises(NotFound):
        service.versions(BRUNO, "sales")
    with pytest.raises(NotFound):
        service.latest(BRUNO, "support")
    assert service.versions(BRUNO, "support") == []


@pytest.mark.parametrize(
    "changes",
    [
        {"stop": ""},
        {"rights": "   "},
        {"purpose": "x" * 1001},
        {"stop": "0" * 301},
        {"colour": "bleu"},
    ],
    ids=["empty", "blank", "too-long", "too-many-digits", "unknown-field"],
)
def test_a_notice_text_that_is_empty_too_long_or_unknown_is_refused(
    changes: dict[str, str],
) -> None:
    with pytest.raises(ValidationError):
        notice_in(**changes)


def test_a_number_in_a_notice_is_masked_and_a_short_code_is_kept() -> None:
    # Given a notice that gives a phone number to call, and a short code to text
    notice = notice_in(rights="Appelez le 06 12 34 56 78", stop="STOP au 36111")

    # Then the phone number is masked, the short code kept
    assert notice.fr.rights == "Appelez le ***78"
    assert notice.fr.stop == "STOP au 36111"


# ---------------------------------------------------------------- consents


def registry(store: CampaignStore) -> tuple[Registry, ConsentStore, RecordingAuditor]:
    create_tables({"contacts": "ContactsTable"})
    consents = ConsentStore("contacts", 1095)
    auditor = RecordingAuditor()
    service = Registry(
        hasher=Hasher(),
        consents=consents,
        suppressions=None,  # type: ignore[arg-type]  # a consent never reaches them
        campaigns=store,
        auditor=auditor,  # type: ignore[arg-type]
        originations=None,  # type: ignore[arg-type]  # no profile names a pool here
        opt_out_list=OPT_OUT_LIST,
        inbound_topic=INBOUND_TOPIC,
    )
    return service, consents, auditor


def test_a_consent_names_the_version_of_its_team_s_notice_the_person_saw(
    campaign_store: CampaignStore,
) -> None:
    # Given two versions of team sales' notice
    book, _ = notices(campaign_store)
    seen = book.put(ADA, "sales", notice_in())
    book.put(ADA, "sales", notice_in(frequency="Au plus 2 SMS par mois."))
    service, consents, auditor = registry(campaign_store)

    # When a consent is recorded naming the first
    consent = service.record_consent(
        ALICE,
        ConsentIn(team="sales", phone=PERSON, source="web form", proof="Oui", notice=seen.hash),
    )

    # Then the consent and its record name it, and so does its audit entry
    assert consent.notice == seen.hash
    (record,) = consents.for_number(Hasher().key(PERSON))
    assert record.notice == seen.hash
    assert auditor.entries[0]["details"]["notice"] == seen.hash


@pytest.mark.parametrize("team_of_notice", ["support", None], ids=["other-team", "no-such"])
def test_a_consent_naming_a_notice_its_team_never_had_is_refused_naming_the_field(
    campaign_store: CampaignStore, team_of_notice: str | None
) -> None:
    # Given a notice of team support, or none at all
    book, _ = notices(campaign_store)
    other = book.put(ADA, team_of_notice, notice_in()).hash if team_of_notice else "a" * 64
    service, consents, auditor = registry(campaign_store)

    # When a consent to team sales names it
    # Then it is refused naming `notice`, and nothing is audited or kept
    with pytest.raises(RuleViolation) as refused:
        service.record_consent(
            ALICE,
            ConsentIn(
                team="sales", phone=OTHER_PERSON, source="web form", proof="Oui", notice=other
            ),
        )
    assert refused.value.field == "notice"
    assert auditor.entries == []
    assert consents.for_number(Hasher().key(OTHER_PERSON)) == []


@pytest.mark.parametrize("written", ["A" * 64, "a" * 63, "g" * 64, "sha256:" + "a" * 57])
def test_a_notice_that_is_not_a_hash_is_refused_by_the_model(written: str) -> None:
    with pytest.raises(ValidationError):
        ConsentIn(team="sales", phone=PERSON, source="web form", proof="Oui", notice=written)


def test_an_export_shows_a_version_as_it_was_put_and_an_unknown_hash_as_nothing_but_itself(
    campaign_store: CampaignStore,
) -> None:
    # Given a version of team sales' notice in French only
    book, _ = notices(campaign_store)
    put = book.put(ADA, "sales", notice_in())
    [record] = campaign_store.notices_of("sales")

    # When an export shows it, Then it shows its words, and no English
    shown = exported_notice(put.hash, record)
    assert (shown.hash, shown.version, shown.created_at) == (put.hash, 1, put.created_at)
    assert (shown.fr, shown.en) == (put.fr, None)
    # And a hash no version has is shown alone
    unknown = exported_notice("a" * 64, None)
    assert (unknown.hash, unknown.version, unknown.fr, unknown.en) == ("a" * 64, None, None, None)
    assert "en" in unknown.model_dump()
