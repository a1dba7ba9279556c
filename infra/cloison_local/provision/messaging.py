"""The creators of what carries messages: SQS queues, SNS topics and their subscriptions in moto
server, and End User Messaging's configuration sets, opt-out lists and pools, which moto does not
have and the carrier simulator holds."""

from __future__ import annotations

import json
import re

from cloison_local.carrier import EventDestinationSpec
from cloison_local.model import JsonDict
from cloison_local.origination import pool_id_for
from cloison_local.provision.base import ConfigurationSet, Creators, Physical, PoolSpec
from cloison_local.template import TemplateError


class MessagingCreators(Creators):
    """Queues, topics, subscriptions and End User Messaging resources."""

    def _queue(self, logical_id: str, properties: JsonDict) -> Physical:
        sqs = self.client("sqs")
        name = properties.get("QueueName", self._name(logical_id, 80))
        attributes = {
            key: (
                json.dumps(value)
                if isinstance(value, dict)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            for key, value in properties.items()
            if key not in ("QueueName", "Tags")
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._arn("sqs", name)
        return Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _queue_policy(self, logical_id: str, properties: JsonDict) -> None:
        sqs = self.client("sqs")
        for url in properties["Queues"]:
            sqs.set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(properties["PolicyDocument"])}
            )

    def _topic(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("TopicName", self._name(logical_id, 256))
        attributes = {
            key: str(properties[key])
            for key in ("DisplayName", "KmsMasterKeyId")
            if key in properties
        }
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return Physical(arn, {"TopicArn": arn, "TopicName": name})

    def _topic_policy(self, logical_id: str, properties: JsonDict) -> None:
        sns = self.client("sns")
        for arn in properties["Topics"]:
            sns.set_topic_attributes(
                TopicArn=arn,
                AttributeName="Policy",
                AttributeValue=json.dumps(properties["PolicyDocument"]),
            )

    def _subscription(self, logical_id: str, properties: JsonDict) -> Physical:
        if properties["Protocol"] == "lambda":
            raise TemplateError(
                f"{logical_id}: a function subscribed to a topic does not run locally (every "
                "asynchronous source lands in SQS first)"
            )
        attributes = {
            key: (
                json.dumps(properties[key])
                if isinstance(properties[key], dict)
                else str(properties[key]).lower()
                if isinstance(properties[key], bool)
                else str(properties[key])
            )
            for key in ("RawMessageDelivery", "FilterPolicy", "RedrivePolicy")
            if key in properties
        }
        arn = self.client("sns").subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return Physical(arn)

    def _configuration_set(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("ConfigurationSetName", self._name(logical_id))
        destinations = [
            EventDestinationSpec(
                name=destination["EventDestinationName"],
                topic_arn=destination["SnsDestination"]["TopicArn"],
                matching_event_types=list(destination["MatchingEventTypes"]),
                enabled=bool(destination.get("Enabled", True)),
            )
            for destination in properties.get("EventDestinations", [])
            if "SnsDestination" in destination
        ]
        self.configuration_sets.append(ConfigurationSet(name, destinations))
        return Physical(name, {"Arn": self._arn("sms-voice", f"configuration-set/{name}")})

    def _opt_out_list(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("OptOutListName", self._name(logical_id))
        self.opt_out_lists.append(name)
        return Physical(name, {"Arn": self._arn("sms-voice", f"opt-out-list/{name}")})

    def _pool(self, logical_id: str, properties: JsonDict) -> Physical:
        """A pool of the identities AWS gave the account; the carrier simulator holds it."""
        name = self._name(logical_id)
        # The resource's schema takes identities as ARNs only (`^arn:\S+$`, 20 characters).
        for identity in properties["OriginationIdentities"]:
            if not re.fullmatch(r"arn:\S{16,}", str(identity)):
                raise TemplateError(
                    f"{logical_id}: OriginationIdentities takes ARNs, not {identity!r}"
                )
        two_way = properties.get("TwoWay", {})
        keywords = properties["MandatoryKeywords"]
        self.pools.append(
            PoolSpec(
                name=name,
                identities=tuple(str(item) for item in properties["OriginationIdentities"]),
                opt_out_list=str(properties.get("OptOutListName", "Default")),
                two_way_topic=str(two_way["ChannelArn"]) if two_way.get("Enabled") else None,
                self_managed=bool(properties.get("SelfManagedOptOutsEnabled", False)),
                stop_message=str(keywords["STOP"]["Message"]),
                help_message=str(keywords["HELP"]["Message"]),
                tags=tuple((tag["Key"], str(tag["Value"])) for tag in properties.get("Tags", [])),
            )
        )
        pool_id = pool_id_for(name)
        arn = self._arn("sms-voice", f"pool/{pool_id}")
        return Physical(pool_id, {"PoolId": pool_id, "Arn": arn})
