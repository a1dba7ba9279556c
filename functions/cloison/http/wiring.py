"""Builds the API's adapters once each, and its services from them, once per execution
environment, from the function's settings."""

from functools import lru_cache

from cloison.adapters.audit import AuditStore
from cloison.adapters.audit_archive import AuditArchive, KmsMac
from cloison.adapters.audit_notes import AuditNotes
from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.identity import PepperedHasher
from cloison.adapters.queues import DeadLetters, WorkQueue
from cloison.adapters.reader_roles import ReaderRoles
from cloison.adapters.schedules import LaunchSchedules
from cloison.adapters.tables import (
    CampaignStore,
    ConsentStore,
    MessageStore,
    PrivacyReceipts,
    ReplyIndex,
    SuppressionStore,
)
from cloison.adapters.vault import ReplyVault
from cloison.config import ApiSettings
from cloison.services.audience import AudienceWriter
from cloison.services.audit import Auditor
from cloison.services.campaigns import CampaignService
from cloison.services.inbox import ReplyReader
from cloison.services.preview import CampaignPreviewer
from cloison.services.registry import Registry
from cloison.services.subjects import SubjectRights


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
def suppression_store() -> SuppressionStore:
    return SuppressionStore.from_settings(settings(), sealer())


@lru_cache(maxsize=1)
def reply_index() -> ReplyIndex:
    return ReplyIndex.from_settings(settings())


@lru_cache(maxsize=1)
def carrier() -> SmsCarrier:
    return SmsCarrier.from_settings(settings())


@lru_cache(maxsize=1)
def audiences() -> AudienceWriter:
    return AudienceWriter(campaign_store(), sealer(), settings().message_retention_days)


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


@lru_cache(maxsize=1)
def campaigns() -> CampaignService:
    config = settings()
    return CampaignService(
        store=campaign_store(),
        audiences=audiences(),
        previewer=CampaignPreviewer(
            audiences=audiences(), suppressions=suppression_store(), consents=consent_store()
        ),
        hasher=hasher(),
        launch_queue=WorkQueue(config.launch_queue_url),
        schedules=LaunchSchedules.from_settings(config),
        auditor=auditor(),
    )


@lru_cache(maxsize=1)
def registry() -> Registry:
    return Registry(
        hasher=hasher(),
        consents=consent_store(),
        suppressions=suppression_store(),
        campaigns=campaign_store(),
        auditor=auditor(),
    )


@lru_cache(maxsize=1)
def replies() -> ReplyReader:
    return ReplyReader(
        index=reply_index(),
        vault=vault(),
        suppressions=suppression_store(),
        carrier=carrier(),
        hasher=hasher(),
        auditor=auditor(),
    )


@lru_cache(maxsize=1)
def subjects() -> SubjectRights:
    config = settings()
    return SubjectRights(
        hasher=hasher(),
        consents=consent_store(),
        suppressions=suppression_store(),
        messages=MessageStore.from_settings(config),
        replies=reply_index(),
        vault=vault(),
        campaigns=campaign_store(),
        sealer=sealer(),
        opt_out_list=carrier(),
        receipts=PrivacyReceipts.from_settings(config),
        auditor=auditor(),
        dead_letters=DeadLetters([config.inbound_dlq_url, config.delivery_dlq_url]),
    )
