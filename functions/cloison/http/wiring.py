"""Builds the API's services once per execution environment, from the function's settings."""

from functools import lru_cache

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.envelope import EnvelopeSealer
from cloison.adapters.identity import PepperedHasher
from cloison.adapters.queues import WorkQueue
from cloison.adapters.schedules import LaunchSchedules
from cloison.adapters.tables import CampaignStore, ConsentStore, ReplyIndex, SuppressionStore
from cloison.adapters.vault import ReplyVault
from cloison.config import ApiSettings
from cloison.services.audience import AudienceWriter
from cloison.services.campaigns import CampaignService
from cloison.services.preview import CampaignPreviewer
from cloison.services.registry import Registry
from cloison.services.replies import ReplyReader


@lru_cache(maxsize=1)
def settings() -> ApiSettings:
    return ApiSettings.from_environ()


@lru_cache(maxsize=1)
def sealer() -> EnvelopeSealer:
    return EnvelopeSealer(settings().data_key_arn)


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
    )


@lru_cache(maxsize=1)
def registry() -> Registry:
    config = settings()
    return Registry(
        hasher=PepperedHasher(config.pepper_secret_arn),
        consents=ConsentStore(config.contacts_table, config.prospect_retention_days),
        suppressions=SuppressionStore(config.suppressions_table),
        campaigns=CampaignStore(config.campaigns_table),
    )


@lru_cache(maxsize=1)
def replies() -> ReplyReader:
    config = settings()
    return ReplyReader(
        index=ReplyIndex(config.replies_table, config.reply_retention_days),
        vault=ReplyVault(config.reply_bucket, sealer()),
        suppressions=SuppressionStore(config.suppressions_table),
        carrier=SmsCarrier(config.configuration_set, config.opt_out_list),
        hasher=PepperedHasher(config.pepper_secret_arn),
    )
