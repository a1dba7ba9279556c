"""Pages of campaigns across teams, on the campaigns table the template defines (moto, in
process): newest first, none skipped nor repeated, and cursors that only fit their own listing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from fakes import campaign_record

from cloison.adapters.tables import CampaignStore
from cloison.errors import RuleViolation
from cloison.models.kinds import CampaignStatus
from cloison.models.records import CampaignRecord
from cloison.services.campaign_pages import NOT_OURS, OTHER_LISTING, campaign_page

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TEAMS = ["sales", "support"]


def put(
    campaign_store: CampaignStore,
    team: str,
    minute: int,
    number: int,
    status: CampaignStatus = CampaignStatus.DRAFT,
) -> CampaignRecord:
    record = campaign_record(
        f"c-{team}{number:04d}",
        team=team,
        name=f"Campagne {number}",
        body="Bonjour",
        status=status,
        created_at=MORNING + timedelta(minutes=minute),
    )
    campaign_store.put_campaign(record)
    return record


def every_page(
    campaign_store: CampaignStore, limit: int, status: str | None = None
) -> list[list[CampaignRecord]]:
    pages: list[list[CampaignRecord]] = []
    cursor: str | None = None
    while True:
        page, cursor = campaign_page(
            campaign_store, TEAMS, status=status, limit=limit, cursor=cursor
        )
        pages.append(page)
        if cursor is None:
            return pages


def test_pages_across_teams_list_every_campaign_once_newest_first_ties_included(
    campaign_store: CampaignStore,
) -> None:
    # Given two teams' campaigns, several created at the same instant, within and across teams
    minutes = {"sales": [0, 1, 1, 1, 2, 5, 5], "support": [1, 1, 3, 5, 6]}
    written = [
        put(campaign_store, team, minute, number)
        for team, created in minutes.items()
        for number, minute in enumerate(created)
    ]

    # When they are listed three at a time
    pages = every_page(campaign_store, limit=3)

    # Then each page is full but the last, and together they hold each campaign once
    listed = [record.campaign_id for page in pages for record in page]
    assert [len(page) for page in pages] == [3, 3, 3, 3]
    assert sorted(listed) == sorted(record.campaign_id for record in written)
    # And the newest come first, from one page to the next
    times = [record.created_at for page in pages for record in page]
    assert times == sorted(times, reverse=True)


def test_a_last_page_that_ends_a_listing_gives_no_cursor(campaign_store: CampaignStore) -> None:
    # Given exactly as many campaigns as a page holds
    for number in range(3):
        put(campaign_store, "sales", number, number)

    # When the first page is read
    page, cursor = campaign_page(campaign_store, TEAMS, status=None, limit=3, cursor=None)

    # Then it holds them all and says there is nothing more
    assert len(page) == 3
    assert cursor is None


def test_a_status_filter_pages_through_that_status_only(campaign_store: CampaignStore) -> None:
    # Given drafts among completed campaigns
    drafts = {
        put(campaign_store, "sales", number, number, CampaignStatus.DRAFT).campaign_id
        for number in range(0, 12, 3)
    }
    for number in range(12):
        if f"c-sales{number:04d}" not in drafts:
            put(campaign_store, "sales", number, number, CampaignStatus.COMPLETED)

    # When drafts are listed a page of one at a time
    pages = every_page(campaign_store, limit=1, status="draft")

    # Then every draft is listed, and nothing else
    assert {record.campaign_id for page in pages for record in page} == drafts
    assert all(record.status == CampaignStatus.DRAFT for page in pages for record in page)


def cursor_of(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize(
    ("cursor", "reason"),
    [
        ("not base64 ~", NOT_OURS),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), NOT_OURS),
        (cursor_of(["a", "list"]), NOT_OURS),
        (base64.urlsafe_b64encode(b"[" * 3000).decode(), NOT_OURS),
        (cursor_of({"status": None, "after": {"sales": ["yesterday", "c-1"]}}), NOT_OURS),
        (cursor_of({"status": None, "after": {"sales": ["2026-12-01T09:00:00", "c-1"]}}), NOT_OURS),
        (cursor_of({"status": None, "after": {"sales": ["2026-12-01T09:00:00Z", "x"]}}), NOT_OURS),
        (cursor_of({"status": "draft", "after": {"sales": None}}), OTHER_LISTING),
        (cursor_of({"status": None, "after": {"marketing": None}}), OTHER_LISTING),
    ],
)
def test_a_cursor_not_given_for_this_listing_is_refused_naming_the_field(
    campaign_store: CampaignStore, cursor: str, reason: str
) -> None:
    # When a listing of sales and support campaigns is asked for with a cursor it did not give
    with pytest.raises(RuleViolation) as refused:
        campaign_page(campaign_store, TEAMS, status=None, limit=3, cursor=cursor)

    # Then the cursor is refused, and said to be the field at fault
    assert (refused.value.field, refused.value.reason) == ("cursor", reason)


def test_a_cursor_of_all_teams_does_not_fit_one_team_s_listing(
    campaign_store: CampaignStore,
) -> None:
    # Given a cursor from a listing of both teams
    for number in range(4):
        put(campaign_store, TEAMS[number % 2], number, number)
    _, cursor = campaign_page(campaign_store, TEAMS, status=None, limit=1, cursor=None)
    assert cursor is not None

    # When it is used to list sales only
    # Then it is refused: the team it names is not in that listing
    with pytest.raises(RuleViolation, match="other filters"):
        campaign_page(campaign_store, ["sales"], status=None, limit=1, cursor=cursor)
