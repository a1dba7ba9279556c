"""Builds the API's services once per execution environment, from the function's settings."""

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
    return EnvelopeSealer(settings().data_key_arn)


@lru_cache(maxsize=1)
def auditor() -> Auditor:
    config = settings()
    return Auditor(
        log=AuditStore(config.audit_table),
        copies=AuditArchive(config.audit_bucket),
        signer=KmsMac(config.audit_key_arn),
        notes=AuditNotes(config.contacts_table, sealer(), config.audit_retention_days),
    )


@lru_cache(maxsize=1)
def campaigns() -> CampaignService:
    config = settings()
    audiences = AudienceWriter(
        CampaignStore(config.campaigns_table), sealer(), config.message_retention_days
    )
    return CampaignService(
        store=CampaignStore(config.campaigns_table),
        audiences=audiences,
        previewer=CampaignPreviewer(
            audiences=audiences,
            suppressions=SuppressionStore(config.suppressions_table),
            consents=ConsentStore(config.contacts_table, config.prospect_retention_days),
        ),
        hasher=PepperedHasher(config.pepper_secret_arn),
        launch_queue=WorkQueue(config.launch_queue_url),
        schedules=LaunchSchedules.from_settings(config),
        auditor=auditor(),
    )


@lru_cache(maxsize=1)
def registry() -> Registry:
    config = settings()
    return Registry(
        hasher=PepperedHasher(config.pepper_secret_arn),
        consents=ConsentStore(config.contacts_table, config.prospect_retention_days),
        suppressions=SuppressionStore(config.suppressions_table),
        campaigns=CampaignStore(config.campaigns_table),
        auditor=auditor(),
    )


@lru_cache(maxsize=1)
def vault() -> ReplyVault:
    """Reads go through the reading team's role (`ReaderRoles`), never this function's own."""
    config = settings()
    return ReplyVault(
        config.reply_bucket,
        sealer(),
        ReaderRoles(config.reader_role_arn_prefix, config.data_key_arn),
    )


@lru_cache(maxsize=1)
def replies() -> ReplyReader:
    config = settings()
    return ReplyReader(
        index=ReplyIndex(config.replies_table, config.reply_retention_days),
        vault=vault(),
        suppressions=SuppressionStore(config.suppressions_table),
        carrier=SmsCarrier(config.configuration_set, config.opt_out_list),
        hasher=PepperedHasher(config.pepper_secret_arn),
        auditor=auditor(),
    )


@lru_cache(maxsize=1)
def subjects() -> SubjectRights:
    config = settings()
    return SubjectRights(
        hasher=PepperedHasher(config.pepper_secret_arn),
        consents=ConsentStore(config.contacts_table, config.prospect_retention_days),
        suppressions=SuppressionStore(config.suppressions_table),
        messages=MessageStore(config.messages_table, config.message_retention_days),
        replies=ReplyIndex(config.replies_table, config.reply_retention_days),
        vault=vault(),
        campaigns=CampaignStore(config.campaigns_table),
        sealer=sealer(),
        opt_out_list=SmsCarrier(config.configuration_set, config.opt_out_list),
        receipts=PrivacyReceipts(config.contacts_table, config.privacy_receipt_retention_days),
        auditor=auditor(),
        dead_letters=DeadLetters([config.inbound_dlq_url, config.delivery_dlq_url]),
    )
