"""Builds the API's adapters, and the auditor every service writes to, once each per execution
environment, from the function's settings; each resource's routes (`routes/`) build their
service from them at the first call of that resource."""

from functools import lru_cache

from cloison.adapters.audit import AuditStore
from cloison.adapters.audit_archive import AuditArchive, KmsMac
from cloison.adapters.audit_notes import AuditNotes
from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.identity import PepperedHasher
from cloison.adapters.reader_roles import ReaderRoles
from cloison.adapters.tables import (
    CampaignStore,
    ConsentStore,
    FrequencyCaps,
    ReplyIndex,
    SuppressionStore,
)
from cloison.adapters.vault import ReplyVault
from cloison.config import ApiSettings
from cloison.services.audit import Auditor


@lru_cache(maxsize=1)
def settings() -> ApiSettings:
    return ApiSettings.from_environ()


@lru_cache(maxsize=1)
def sealer() -> EnvelopeSealer:
    return EnvelopeSealer.from_settings(settings())


# ---------------------------------------------------------------- adapters, each built once
@lru_cache(maxsize=1)
def hasher() -> PepperedHasher:
    """One hasher: the pepper is read from Secrets Manager once per execution environment."""
    return PepperedHasher.from_settings(settings())


@lru_cache(maxsize=1)
def campaign_store() -> CampaignStore:
    return CampaignStore.from_settings(settings())


@lru_cache(maxsize=1)
def consent_store() -> ConsentStore:
    return ConsentStore.from_settings(settings())


@lru_cache(maxsize=1)
def frequency_caps() -> FrequencyCaps:
    return FrequencyCaps.from_settings(settings())


@lru_cache(maxsize=1)
def suppression_store() -> SuppressionStore:
    return SuppressionStore.from_settings(settings(), sealer())


@lru_cache(maxsize=1)
def reply_index() -> ReplyIndex:
    return ReplyIndex.from_settings(settings())


@lru_cache(maxsize=1)
def carrier() -> SmsCarrier:
    return SmsCarrier.from_settings(settings())


@lru_cache(maxsize=1)
def vault() -> ReplyVault:
    """Reads go through the reading team's role (`ReaderRoles`), never this function's own."""
    config = settings()
    return ReplyVault.from_settings(
        config, sealer(), ReaderRoles(config.reader_role_arn_prefix, config.data_key_arn)
    )


# ---------------------------------------------------------------- services
@lru_cache(maxsize=1)
def auditor() -> Auditor:
    config = settings()
    return Auditor(
        log=AuditStore.from_settings(config),
        copies=AuditArchive.from_settings(config),
        signer=KmsMac.from_settings(config),
        notes=AuditNotes.from_settings(config, sealer()),
    )
