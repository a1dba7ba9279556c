"""Each team its own voice: a sender profile may name its team's own pool, which must keep to
the stack's rules (End User Messaging's own semantics: the opt-out list of the pool a send goes
through, self-managed keywords, the pool's two-way channel), and a sign-up keyword that means
nothing else in a reply."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

import pytest
from fakes import INBOUND_TOPIC, OPT_OUT_LIST, RecordingAuditor
from hypothesis import given
from hypothesis import strategies as st
from test_audited_actions import ADA

from cloison.adapters.originations import PoolFacts
from cloison.adapters.tables import CampaignStore
from cloison.compliance.keywords import keyword_of, keyword_refusal
from cloison.compliance.replies import ReplyClass, classify_reply
from cloison.errors import Conflict, RuleViolation
from cloison.models.api.registry import SenderProfileIn
from cloison.services.registry import Registry

POOL = "arn:aws:sms-voice:eu-west-3:123456789012:pool/pool-support"
OTHER_POOL = "arn:aws:sms-voice:eu-west-3:123456789012:pool/pool-elsewhere"
SUPPORT_POOL = PoolFacts(
    arn=POOL,
    opt_out_list=OPT_OUT_LIST,
    self_managed_opt_outs=True,
    two_way_channel=INBOUND_TOPIC,
    tags={"cloison:stack": "cloison-dev", "cloison:team": "support"},
    numbers=("36112",),
    sender_ids=(),
)
PROFILE = {"sender_id": "36112", "stop_mention": "STOP au 36112", "company": "Exemple Services"}


@dataclass
class Directory:
    """End User Messaging's pools, as DescribePools and its neighbours describe them."""

    pools: dict[str, PoolFacts]

    def pool(self, pool: str) -> PoolFacts | None:
        return self.pools.get(pool)


def registry(store: CampaignStore, *pools: PoolFacts) -> Registry:
    return Registry(
        hasher=cast(Any, None),
        consents=cast(Any, None),
        suppressions=cast(Any, None),
        campaigns=store,
        auditor=cast(Any, RecordingAuditor()),
        originations=cast(Any, Directory({pool.arn: pool for pool in pools})),
        opt_out_list=OPT_OUT_LIST,
        inbound_topic=INBOUND_TOPIC,
    )


def put(service: Registry, team: str, name: str, **changes: Any) -> Any:
    return service.put_sender(ADA, team, name, SenderProfileIn(**(PROFILE | changes)))


def test_a_profile_naming_its_team_s_pool_sends_from_it_and_claims_its_numbers(
    campaign_store: CampaignStore,
) -> None:
    # When support's profile names support's pool, with a keyword
    profile = put(
        registry(campaign_store, SUPPORT_POOL),
        "support",
        "own",
        origination=POOL,
        keyword="alertes",
    )
    # Then it answers the pool's numbers, that replies reach Cloison, and the keyword
    assert (profile.origination, profile.numbers) == (POOL, ["36112"])
    assert profile.receives_replies is True
    assert profile.keyword == "ALERTES"
    # And the number routes to support, the keyword sits on it
    route = campaign_store.route_of("36112")
    assert route is not None
    assert (route.team, route.sender, route.origination) == ("support", "own", POOL)
    claim = campaign_store.keyword_of("36112", "ALERTES")
    assert claim is not None
    assert claim.team == "support"


@pytest.mark.parametrize(
    ("pool", "says"),
    [
        (replace(SUPPORT_POOL, tags={"cloison:team": "sales"}), "not team support's pool"),
        (replace(SUPPORT_POOL, tags={}), "not team support's pool"),
        (replace(SUPPORT_POOL, opt_out_list="Default"), "keeps its opt-outs on Default"),
        (replace(SUPPORT_POOL, self_managed_opt_outs=False), "answer STOP and HELP itself"),
        (replace(SUPPORT_POOL, two_way_channel=None), "publishes its replies elsewhere"),
        (replace(SUPPORT_POOL, two_way_channel="arn:aws:sns:eu-west-3:1:x"), "elsewhere"),
    ],
    ids=["other-team", "untagged", "default-list", "service-keywords", "no-two-way", "other-topic"],
)
def test_a_pool_that_would_lose_stops_or_replies_is_refused_naming_origination(
    campaign_store: CampaignStore, pool: PoolFacts, says: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        put(registry(campaign_store, pool), "support", "own", origination=POOL)
    assert refused.value.field == "origination"
    assert says in refused.value.reason
    # And nothing was claimed or written
    assert campaign_store.route_of("36112") is None
    assert campaign_store.senders_of("support") == []


@pytest.mark.parametrize(
    "pool",
    [
        OTHER_POOL,
        "arn:aws:sms-voice:us-east-1:123456789012:pool/pool-support",
        "arn:aws:sms-voice:eu-west-3:000000000000:pool/pool-support",
        "arn:aws-cn:sms-voice:eu-west-3:123456789012:pool/pool-support",
    ],
    ids=["unknown", "other-region", "other-account", "other-partition"],
)
def test_a_pool_the_account_does_not_have_here_is_refused_naming_origination(
    campaign_store: CampaignStore, pool: str
) -> None:
    # Given support's pool, of this account and region (the inbound topic's)
    directory = registry(campaign_store, SUPPORT_POOL)
    # When a profile names another pool, Then a 422 names `origination`, before any call
    with pytest.raises(RuleViolation) as refused:
        put(directory, "support", "own", origination=pool)
    assert refused.value.field == "origination"


def test_a_pool_of_sender_ids_takes_no_replies_and_so_no_keyword(
    campaign_store: CampaignStore,
) -> None:
    ids_only = replace(SUPPORT_POOL, numbers=(), sender_ids=("EXEMPLE",), two_way_channel=None)
    service = registry(campaign_store, ids_only)
    profile = put(service, "support", "ids", sender_id="EXEMPLE", origination=POOL)
    assert profile.receives_replies is False
    assert profile.numbers == []
    with pytest.raises(RuleViolation) as refused:
        put(service, "support", "ids", sender_id="EXEMPLE", origination=POOL, keyword="ALERTES")
    assert refused.value.field == "keyword"


def test_another_team_cannot_claim_a_number_or_a_keyword_already_taken(
    campaign_store: CampaignStore,
) -> None:
    # Given support's keyword on the shared pool's number
    service = registry(campaign_store, SUPPORT_POOL)
    put(service, "support", "shared", keyword="ALERTES")
    # When sales takes the same word on the shared number, Then 409
    with pytest.raises(Conflict):
        put(service, "sales", "promo", keyword="ALERTES")
    # And when support changes its keyword, the old word is free again
    put(service, "support", "shared", keyword="NOUVEAU")
    assert campaign_store.keyword_of("shared", "ALERTES") is None
    put(service, "sales", "promo", keyword="ALERTES")
    claim = campaign_store.keyword_of("shared", "ALERTES")
    assert claim is not None
    assert claim.team == "sales"


@given(
    st.sampled_from(
        [
            "STOP",
            "ARRET",
            "STOPP",
            "UNSUBSCRIBE",
            "AIDE",
            "HELP",
            "START",
            "OUI",
            "YES",
            "INFO",
            "CONTACT",
            "DESABONNER",
        ]
    )
)
def test_a_word_that_already_means_something_in_a_reply_is_never_a_keyword(word: str) -> None:
    assert keyword_refusal(word) is not None


@given(st.from_regex(r"[A-Za-z]{2,20}", fullmatch=True))
def test_a_keyword_is_refused_exactly_when_a_reply_of_it_means_something(word: str) -> None:
    means_something = classify_reply(word) is not ReplyClass.REPLY or word.upper() in ("OUI", "YES")
    assert (keyword_refusal(word.upper()) is not None) == means_something


@given(st.lists(st.from_regex(r"[A-Za-z]{2,10}", fullmatch=True), min_size=2, max_size=4))
def test_a_message_of_several_words_is_never_a_keyword(words: list[str]) -> None:
    assert keyword_of(" ".join(words)) is None


@pytest.mark.parametrize("text", ["alertes", "Alertes !", "  ALERTES.", "alertès"])
def test_one_word_in_any_case_with_punctuation_or_accents_is_the_keyword(text: str) -> None:
    assert keyword_of(text) == "ALERTES"
