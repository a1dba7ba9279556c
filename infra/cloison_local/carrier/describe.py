"""The Describe operations on configuration sets and on the account and its identities: phone
numbers, sender IDs, pools and their tags, the account's tier, spend limit and verified
destination numbers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from cloison_local.carrier.protocol import (
    _NAME_OR_ARN,
    MAX_NAMES_FILTER,
    JsonObject,
    _filters,
    _not_found,
    _page,
    _required_text,
    _text_list,
)
from cloison_local.carrier.state import _CarrierState, _ConfigurationSet, _now

_T = TypeVar("_T")


class _Descriptions(_CarrierState):
    """What the Describe operations (and ListTagsForResource) answer."""

    def _describe_configuration_sets(self, payload: Mapping[str, Any]) -> JsonObject:
        names = _text_list(payload, "ConfigurationSetNames", MAX_NAMES_FILTER)
        filters = _configuration_set_filters(payload)
        with self._lock:
            if names is not None:
                sets = [self._configuration_set(name) for name in names]
            else:
                sets = list(self._configuration_sets.values())
        sets = [item for item in sets if all(check(item) for check in filters)]
        page, next_token = _page(sets, lambda item: item.name, payload)
        answer: JsonObject = {
            "ConfigurationSets": [
                {
                    "ConfigurationSetArn": item.arn,
                    "ConfigurationSetName": item.name,
                    "EventDestinations": [
                        {
                            "EventDestinationName": destination.name,
                            "Enabled": destination.enabled,
                            "MatchingEventTypes": list(destination.matching_event_types),
                            "SnsDestination": {"TopicArn": destination.topic_arn},
                        }
                        for destination in item.destinations
                    ],
                    "CreatedTimestamp": item.created.timestamp(),
                }
                for item in page
            ]
        }
        if next_token is not None:
            answer["NextToken"] = next_token
        return answer

    # -- the account and its identities (what `make preflight` reads) -----------------------

    def _describe_phone_numbers(self, payload: Mapping[str, Any]) -> JsonObject:
        wanted = _text_list(payload, "PhoneNumberIds", MAX_NAMES_FILTER)
        with self._lock:
            numbers = _chosen(
                {n.phone_number_id: n for n in self._originations.numbers.values()},
                wanted,
                "phone-number",
            )
            return {
                "PhoneNumbers": [
                    {
                        "PhoneNumberArn": number.arn,
                        "PhoneNumberId": number.phone_number_id,
                        "PhoneNumber": number.number,
                        "Status": "ACTIVE",
                        "IsoCountryCode": number.iso_country,
                        "MessageType": "PROMOTIONAL",
                        "NumberCapabilities": ["SMS"],
                        "NumberType": number.number_type,
                        "MonthlyLeasingPrice": "0.00",
                        "TwoWayEnabled": number.two_way_topic is not None,
                        **(
                            {"TwoWayChannelArn": number.two_way_topic}
                            if number.two_way_topic
                            else {}
                        ),
                        "SelfManagedOptOutsEnabled": number.self_managed,
                        "OptOutListName": number.opt_out_list,
                        "DeletionProtectionEnabled": False,
                        **({"PoolId": number.pool_id} if number.pool_id else {}),
                        "CreatedTimestamp": _now().timestamp(),
                    }
                    for number in numbers
                ]
            }

    def _describe_sender_ids(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            return {
                "SenderIds": [
                    {
                        "SenderIdArn": sender.arn,
                        "SenderId": sender.sender_id,
                        "IsoCountryCode": sender.iso_country,
                        "MessageTypes": ["TRANSACTIONAL", "PROMOTIONAL"],
                        "MonthlyLeasingPrice": "0.00",
                        "DeletionProtectionEnabled": False,
                        "Registered": True,
                    }
                    for sender in self._originations.sender_ids.values()
                ]
            }

    def _describe_pools(self, payload: Mapping[str, Any]) -> JsonObject:
        wanted = _text_list(payload, "PoolIds", MAX_NAMES_FILTER)
        with self._lock:
            pools = _chosen(
                {pool.pool_id: pool for pool in self._originations.pools.values()}, wanted, "pool"
            )
            return {
                "Pools": [
                    {
                        "PoolArn": pool.arn,
                        "PoolId": pool.pool_id,
                        "Status": "ACTIVE",
                        "MessageType": "PROMOTIONAL",
                        "TwoWayEnabled": pool.two_way_topic is not None,
                        **({"TwoWayChannelArn": pool.two_way_topic} if pool.two_way_topic else {}),
                        "SelfManagedOptOutsEnabled": pool.self_managed,
                        "OptOutListName": pool.opt_out_list,
                        "SharedRoutesEnabled": False,
                        "DeletionProtectionEnabled": False,
                        "CreatedTimestamp": _now().timestamp(),
                    }
                    for pool in pools
                ]
            }

    def _list_pool_origination_identities(self, payload: Mapping[str, Any]) -> JsonObject:
        """The identities of one pool, named by PoolId or PoolArn (ListPoolOriginationIdentities;
        its `PhoneNumber` member is given for phone numbers only). All on one page: a pool here
        holds a few identities, far fewer than the service's page of 100."""
        wanted = _required_text(payload, "PoolId", pattern=_NAME_OR_ARN)
        with self._lock:
            [pool] = _chosen(
                {pool.pool_id: pool for pool in self._originations.pools.values()},
                [wanted],
                "pool",
            )
            identities = []
            for member in pool.identities:
                number = self._originations.numbers.get(member)
                if number is not None:
                    identities.append(
                        {
                            "OriginationIdentityArn": number.arn,
                            "OriginationIdentity": number.phone_number_id,
                            "IsoCountryCode": number.iso_country,
                            "NumberCapabilities": ["SMS"],
                            "PhoneNumber": number.number,
                        }
                    )
                    continue
                sender = next(
                    (
                        sender
                        for sender in self._originations.sender_ids.values()
                        if member in (sender.sender_id, sender.arn)
                    ),
                    None,
                )
                identities.append(
                    {
                        "OriginationIdentityArn": sender.arn if sender else member,
                        "OriginationIdentity": sender.sender_id if sender else member,
                        "IsoCountryCode": sender.iso_country if sender else "FR",
                        "NumberCapabilities": ["SMS"],
                    }
                )
            return {
                "PoolArn": pool.arn,
                "PoolId": pool.pool_id,
                "OriginationIdentities": identities,
            }

    def _list_tags_for_resource(self, payload: Mapping[str, Any]) -> JsonObject:
        arn = _required_text(payload, "ResourceArn", pattern=_NAME_OR_ARN)
        with self._lock:
            pool = next((p for p in self._originations.pools.values() if p.arn == arn), None)
            tags = pool.tags if pool is not None else {}
            return {
                "ResourceArn": arn,
                "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
            }

    def _describe_account_attributes(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            return {"AccountAttributes": [{"Name": "ACCOUNT_TIER", "Value": self._account.tier}]}

    def _describe_spend_limits(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            limit = self._account.spend_limit
        return {
            "SpendLimits": [
                {
                    "Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT",
                    "EnforcedLimit": limit,
                    "MaxLimit": limit,
                    "Overridden": False,
                }
            ]
        }

    def _describe_verified_destination_numbers(self, payload: Mapping[str, Any]) -> JsonObject:
        with self._lock:
            verified = self._account.verified
        return {
            "VerifiedDestinationNumbers": [
                {
                    "VerifiedDestinationNumberArn": self._arn(
                        "verified-destination-number", f"verified-{index}"
                    ),
                    "VerifiedDestinationNumberId": f"verified-{index}",
                    "DestinationPhoneNumber": number,
                    "Status": "VERIFIED",
                    "CreatedTimestamp": _now().timestamp(),
                }
                for index, number in enumerate(verified)
            ]
        }


def _chosen(items: Mapping[str, _T], wanted: Sequence[str] | None, resource_type: str) -> list[_T]:
    """The items named in `wanted` by id or ARN (every item if None), in its order; an unknown
    name is ResourceNotFoundException, as the Describe operations answer it."""
    if wanted is None:
        return list(items.values())
    chosen = []
    for name in wanted:
        identifier = name.rsplit("/", 1)[-1]
        if identifier not in items:
            raise _not_found(resource_type, name)
        chosen.append(items[identifier])
    return chosen


def _configuration_set_filters(
    payload: Mapping[str, Any],
) -> list[Callable[[_ConfigurationSet], bool]]:
    checks: list[Callable[[_ConfigurationSet], bool]] = []
    known = [
        "event-destination-name",
        "matching-event-types",
        "default-message-type",
        "default-sender-id",
        "default-message-feedback-enabled",
        "protect-configuration-id",
    ]
    for name, values in _filters(payload, known):
        if name == "event-destination-name":
            checks.append(_has_destination_named(frozenset(values)))
        elif name == "matching-event-types":
            checks.append(_has_destination_matching(frozenset(values)))
        else:
            # The registered sets carry none of these defaults, so nothing matches them.
            checks.append(lambda item: False)
    return checks


def _has_destination_named(names: frozenset[str]) -> Callable[[_ConfigurationSet], bool]:
    return lambda item: any(d.name in names for d in item.destinations)


def _has_destination_matching(types: frozenset[str]) -> Callable[[_ConfigurationSet], bool]:
    return lambda item: any(set(d.matching_event_types) & types for d in item.destinations)
