"""DynamoDB access: one small store per kind of record, items mapped explicitly to records.

One module per table (campaigns, with its audiences, passes and teams' notices; messages;
suppressions; the contacts table's consents, receipts, sign-ups and frequency caps; replies),
`keys` for the format of every key, and `_dynamo` for what they share, the translation of
DynamoDB's errors among it.
"""

from cloison.adapters.tables._dynamo import BATCH_GET_LIMIT, Item, batch_get
from cloison.adapters.tables.audiences import AudienceHolding, audience_print
from cloison.adapters.tables.campaigns import CampaignPosition, CampaignStore
from cloison.adapters.tables.contacts import ConsentStore, PrivacyReceipts
from cloison.adapters.tables.frequency_caps import CapHolding, FrequencyCaps
from cloison.adapters.tables.messages import ERASED_RANK, FINAL_RANK, MessageRef, MessageStore
from cloison.adapters.tables.opt_outs import (
    GLOBAL_SCOPE,
    PROVIDER_SYNC_INDEX,
    PROVIDER_SYNC_PENDING,
    GlobalStanding,
    LiftedSuppression,
    ProviderPending,
    SuppressionHolding,
)
from cloison.adapters.tables.replies import REVIEW_QUEUE, ReplyIndex
from cloison.adapters.tables.suppressions import SuppressionStore

__all__ = [
    "BATCH_GET_LIMIT",
    "ERASED_RANK",
    "FINAL_RANK",
    "GLOBAL_SCOPE",
    "PROVIDER_SYNC_INDEX",
    "PROVIDER_SYNC_PENDING",
    "REVIEW_QUEUE",
    "AudienceHolding",
    "CampaignPosition",
    "CampaignStore",
    "CapHolding",
    "ConsentStore",
    "FrequencyCaps",
    "GlobalStanding",
    "Item",
    "LiftedSuppression",
    "MessageRef",
    "MessageStore",
    "PrivacyReceipts",
    "ProviderPending",
    "ReplyIndex",
    "SuppressionHolding",
    "SuppressionStore",
    "audience_print",
    "batch_get",
]
