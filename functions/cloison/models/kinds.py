"""What a campaign is and where it stands: shared by stored records and the API.

Kept apart from the API models so that the functions without routes do not build them at import.
"""

from enum import StrEnum


class CampaignKind(StrEnum):
    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LAUNCHING = "launching"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
