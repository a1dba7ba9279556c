"""Teams' notices: each version kept, named by the hash of its texts, so that a consent can
point at the exact words the person read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cloison.errors import NotFound
from cloison.models.api.notices import Notice, NoticeIn, NoticeVersion
from cloison.models.records import NoticeRecord, NoticeWording
from cloison.services.access import Caller
from cloison.services.audit import Auditor

ADMIN = "admin"


class NoticeVersions(Protocol):
    """The store of the teams' notice versions (adapters.tables.notices)."""

    def add_notice(self, record: NoticeRecord) -> None: ...

    def latest_notice(self, team: str) -> NoticeRecord | None: ...

    def notices_of(self, team: str, *, notice_hash: str | None = None) -> list[NoticeRecord]: ...


def notice_hash(texts: Mapping[str, NoticeWording]) -> str:
    """SHA-256 (hex) over the canonical JSON of the texts by language: keys sorted, no spaces,
    UTF-8 as written. The same words give the same hash, whoever puts them and whenever."""
    document = {language: wording.model_dump() for language, wording in texts.items()}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def wordings(request: NoticeIn) -> dict[str, NoticeWording]:
    """The request's texts by language, the languages it leaves out absent."""
    texts = {"fr": request.fr, "en": request.en}
    return {
        language: NoticeWording(**text.model_dump())
        for language, text in texts.items()
        if text is not None
    }


def visible_to(caller: Caller, team: str) -> None:
    """A team's notice is read by its members and by administrators, who put it; anyone else
    is told the team does not exist, as for its sender profiles."""
    if ADMIN not in caller.roles:
        caller.can_see(team)


@dataclass
class Notices:
    store: NoticeVersions
    auditor: Auditor

    def put(self, caller: Caller, team: str, request: NoticeIn) -> Notice:
        """Keeps the texts as the team's next version, or answers the latest version when its
        texts are the same: putting a notice again changes nothing."""
        caller.require_role(ADMIN)
        texts = wordings(request)
        digest = notice_hash(texts)
        latest = self.store.latest_notice(team)
        if latest is not None and latest.hash == digest:
            return Notice.model_validate(latest)
        version = latest.version + 1 if latest is not None else 1
        self.auditor.record(
            caller,
            "notice.put",
            team=team,
            target=f"notice/{team}/{version}",
            details={"hash": digest, "languages": ", ".join(sorted(texts))},
        )
        record = NoticeRecord(
            team=team,
            version=version,
            hash=digest,
            texts=texts,
            created_at=datetime.now(UTC),
            created_by=caller.username,
        )
        # Conditional: of two administrators putting at once, one gets a 409, not a lost text.
        self.store.add_notice(record)
        return Notice.model_validate(record)

    def latest(self, caller: Caller, team: str) -> Notice:
        visible_to(caller, team)
        latest = self.store.latest_notice(team)
        if latest is None:
            raise NotFound(f"team {team} has no notice")
        return Notice.model_validate(latest)

    def versions(self, caller: Caller, team: str) -> list[NoticeVersion]:
        """Every version of the team's notice, newest first (none: an empty list)."""
        visible_to(caller, team)
        return [NoticeVersion.model_validate(record) for record in self.store.notices_of(team)]
