"""Fixtures the unit tests share: the template's tables, as the stores read them, in moto's
in-process AWS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from in_process_aws import create_tables, in_process_aws

from cloison.adapters.tables import CampaignStore


@pytest.fixture
def campaign_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[CampaignStore]:
    """The campaigns table as the template defines it, in moto's in-process DynamoDB."""
    with in_process_aws(monkeypatch):
        create_tables({"campaigns": "CampaignsTable"})
        yield CampaignStore("campaigns")
