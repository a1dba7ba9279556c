"""A number is in a campaign's audience once, whatever the upload it came in (moto, in process)."""

from __future__ import annotations

import pytest
from fakes import FakeSealer, campaign_record

from cloison.adapters.tables import CampaignStore, audience_print
from cloison.errors import Conflict
from cloison.models.records import AudienceMember, CampaignRecord
from cloison.services.audience import AudienceWriter


def draft(campaign_store: CampaignStore) -> CampaignRecord:
    campaign_store.put_campaign(campaign_record("c-1"))
    campaign = campaign_store.get_campaign("c-1")
    assert campaign is not None
    return campaign


def members(*keys: str) -> list[AudienceMember]:
    return [AudienceMember(e164=f"+3361234567{key[0]}", number_key=key * 64) for key in keys]


def test_an_upload_is_checked_against_the_numbers_of_the_committed_ones(
    campaign_store: CampaignStore,
) -> None:
    # Given a campaign with one upload of two numbers, and a second upload staged, never
    # committed (its request failed)
    writer = AudienceWriter(campaign_store, FakeSealer(), retention_days=395)
    campaign = draft(campaign_store)
    writer.append(campaign, members("a", "b"))
    campaign = campaign_store.get_campaign("c-1")
    assert campaign is not None
    campaign_store.stage_chunks("c-1", "u-lost", [(b"x", 1)], 0, team="sales", members=[["c" * 64]])

    # When the numbers it holds already are read
    held = writer.already_held(campaign)

    # Then they are the committed upload's, by print
    assert held == {audience_print("a" * 64), audience_print("b" * 64)}


def test_an_upload_committed_meanwhile_makes_the_next_one_a_conflict(
    campaign_store: CampaignStore,
) -> None:
    # Given two uploads checked against the same state of the campaign (none yet)
    writer = AudienceWriter(campaign_store, FakeSealer(), retention_days=395)
    campaign = draft(campaign_store)
    writer.append(campaign, members("a"))

    # When the second, checked against no upload, is committed after the first
    # Then it is refused: it may hold the first's numbers; sent again, it is checked anew
    with pytest.raises(Conflict):
        writer.append(campaign, members("a"))
    again = campaign_store.get_campaign("c-1")
    assert again is not None
    assert again.recipient_count == 1
    assert writer.already_held(again) == {audience_print("a" * 64)}
