"""Creates the resources of template.yaml in moto server, from the CloudFormation that AWS's SAM
translator makes of it (cloison_local.expand): the same resources `sam deploy` would create.

What moto cannot create is stood in for by the local stack and named here: functions run in the
local runtime's workers, the REST API is served by the local gateway, End User Messaging by the
carrier simulator, CloudFront not at all (the gateway serves the console). Any other type fails
the start.
"""

from __future__ import annotations

import fnmatch
import json
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from cloison_local.carrier import EventDestinationSpec
from cloison_local.expand import aws_managed_policies, expand
from cloison_local.iam_check import NamedPolicy
from cloison_local.model import FunctionSpec, JsonDict, Route, SqsSource, StreamSource
from cloison_local.origination import pool_id_for
from cloison_local.template import Resolver, TemplateError, creation_order, parameter_values

ACCOUNT_ID = "123456789012"
# API Gateway's Lambda proxy integration URI: `.../functions/<function ARN>/invocations`.
_INVOCATION_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/[^/]+/functions/(.+)/invocations$"
)
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
# Event source mapping properties the local pollers honour; any other fails the start.
_SQS_MAPPING_PROPERTIES = frozenset(
    {
        "EventSourceArn",
        "FunctionName",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "FunctionResponseTypes",
        "ScalingConfig",
        "Enabled",
    }
)
_STREAM_MAPPING_PROPERTIES = frozenset(
    {
        "EventSourceArn",
        "FunctionName",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "StartingPosition",
        "MaximumRetryAttempts",
        "BisectBatchOnFunctionError",
        "DestinationConfig",
        "Enabled",
    }
)


@dataclass
class Physical:
    """A created resource: what `Ref` gives and what `GetAtt` can ask for."""

    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConfigurationSet:
    """An End User Messaging configuration set and where it publishes events."""

    name: str
    destinations: list[EventDestinationSpec]


@dataclass(frozen=True)
class PoolSpec:
    """An End User Messaging pool of the template, for the carrier simulator to hold."""

    name: str
    identities: tuple[str, ...]
    opt_out_list: str
    two_way_topic: str | None
    self_managed: bool
    stop_message: str
    help_message: str
    tags: tuple[tuple[str, str], ...]


@dataclass
class Stack:
    """Everything the local stack needs to run the template after provisioning."""

    name: str
    region: str
    parameters: dict[str, Any]
    resources: dict[str, Physical]
    outputs: dict[str, str]
    functions: dict[str, FunctionSpec]
    routes: list[Route]
    authorizer_pools: dict[str, str]
    sqs_sources: list[SqsSource]
    stream_sources: list[StreamSource]
    configuration_sets: list[ConfigurationSet]
    opt_out_lists: list[str]
    app_client_ids: list[str]
    pools: list[PoolSpec] = field(default_factory=list)
    # Outputs with an `Export`, by export name: what `Fn::ImportValue` gives other stacks.
    exports: dict[str, str] = field(default_factory=dict)
    # Cognito domains and the user pool each belongs to: where `/oauth2/token` is served.
    user_pool_domains: dict[str, str] = field(default_factory=dict)
    # The CloudFormation the template was expanded into, as created.
    expanded: JsonDict = field(default_factory=dict)
    # Each role's policies by role ARN, resolved: inline by name, managed by ARN.
    role_policies: dict[str, list[NamedPolicy]] = field(default_factory=dict)

    def function_by_arn(self, arn: str) -> FunctionSpec | None:
        return next((spec for spec in self.functions.values() if spec.arn == arn), None)


class Provisioner:
    """Walks the template in dependency order and creates each resource in moto server."""

    def __init__(
        self,
        template: JsonDict,
        *,
        endpoint_url: str,
        region: str,
        stack_name: str,
        parameter_overrides: dict[str, str] | None = None,
        imports: dict[str, str] | None = None,
    ) -> None:
        self.region = region
        self.stack_name = stack_name
        self.session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url
        self.parameters = parameter_values(template, parameter_overrides or {})
        self.template = expand(template, self.parameters, region)
        template = self.template
        self.resources: dict[str, Physical] = {}
        self.configuration_sets: list[ConfigurationSet] = []
        self.opt_out_lists: list[str] = []
        self.pools: list[PoolSpec] = []
        self.user_pool_domains: dict[str, str] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self.routes: list[Route] = []
        self.authorizer_pools: dict[str, str] = {}
        self.sqs_sources: list[SqsSource] = []
        self.stream_sources: list[StreamSource] = []
        # (function name, principal, source ARN) of each AWS::Lambda::Permission.
        self.permissions: list[tuple[str, str, str]] = []
        self._route_apis: list[tuple[Route, str]] = []
        self.role_policies: dict[str, list[NamedPolicy]] = {}
        self.resolver = Resolver(
            template=template,
            parameters=self.parameters,
            pseudo={
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/local",
            },
            ref=self._ref,
            get_att=self._get_att,
            imports=imports or {},
        )
        self._creators: dict[str, Callable[[str, JsonDict], Physical | None]] = {
            "AWS::KMS::Key": self._kms_key,
            "AWS::KMS::Alias": self._kms_alias,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::TopicPolicy": self._topic_policy,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::SMSVOICE::ConfigurationSet": self._configuration_set,
            "AWS::SMSVOICE::OptOutList": self._opt_out_list,
            "AWS::SMSVOICE::Pool": self._pool,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::IAM::Role": self._role,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolResourceServer": self._resource_server,
            "AWS::Cognito::UserPoolDomain": self._user_pool_domain,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::CloudFront::Distribution": self._console_edge,
            "AWS::CloudFront::OriginAccessControl": self._console_edge,
            "AWS::CloudFront::ResponseHeadersPolicy": self._console_edge,
            "AWS::CloudFront::CachePolicy": self._console_edge,
            "AWS::CloudFront::OriginRequestPolicy": self._console_edge,
            "AWS::CloudFront::Function": self._console_edge,
            # Run by the local runtime, its pollers and its gateway, not created in moto.
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::Permission": self._permission,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::Lambda::EventInvokeConfig": self._event_invoke_config,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGateway::Deployment": self._api_deployment,
            "AWS::ApiGateway::Stage": self._api_stage,
            # The account's API Gateway settings: the local gateway keeps no logs to write.
            "AWS::ApiGateway::Account": self._api_account,
        }

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    # ------------------------------------------------------------------ driver
    def provision(self) -> Stack:
        self._check_rules()
        resources: dict[str, JsonDict] = self.template["Resources"]
        for logical_id in creation_order(resources):
            resource = resources[logical_id]
            if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
                continue
            kind = resource["Type"]
            creator = self._creators.get(kind)
            if creator is None:
                raise TemplateError(f"{logical_id}: resource type {kind} is not supported locally")
            physical = creator(logical_id, self.resolver.resolve(resource.get("Properties", {})))
            if physical is not None:
                self.resources[logical_id] = physical
        self._check_api_permissions()
        outputs = {
            name: str(self.resolver.resolve(output["Value"]))
            for name, output in self.template.get("Outputs", {}).items()
        }
        exports = {
            str(self.resolver.resolve(output["Export"]["Name"])): outputs[name]
            for name, output in self.template.get("Outputs", {}).items()
            if "Export" in output
        }
        clients = [
            physical.ref
            for logical_id, physical in self.resources.items()
            if resources.get(logical_id, {}).get("Type") == "AWS::Cognito::UserPoolClient"
        ]
        return Stack(
            name=self.stack_name,
            region=self.region,
            parameters=self.parameters,
            resources=self.resources,
            outputs=outputs,
            functions=self.functions,
            routes=self.routes,
            authorizer_pools=self.authorizer_pools,
            sqs_sources=self.sqs_sources,
            stream_sources=self.stream_sources,
            configuration_sets=self.configuration_sets,
            opt_out_lists=self.opt_out_lists,
            app_client_ids=clients,
            pools=self.pools,
            exports=exports,
            user_pool_domains=self.user_pool_domains,
            expanded=self.template,
            role_policies=self.role_policies,
        )

    def _ref(self, logical_id: str) -> Any:
        if logical_id not in self.resources:
            raise TemplateError(f"Ref to {logical_id}, which is not created (yet)")
        return self.resources[logical_id].ref

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        physical = self.resources.get(logical_id)
        if physical is None:
            raise TemplateError(
                f"GetAtt {logical_id}.{attribute}: {logical_id} is not created (yet)"
            )
        if attribute not in physical.attributes:
            raise TemplateError(f"GetAtt {logical_id}.{attribute}: attribute not known locally")
        return physical.attributes[attribute]

    def _name(self, logical_id: str, limit: int = 64) -> str:
        return f"{self.stack_name}-{logical_id}"[:limit]

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    # ------------------------------------------------------------------ creators
    def _kms_key(self, logical_id: str, properties: JsonDict) -> Physical:
        kms = self.client("kms")
        key = kms.create_key(
            Description=properties.get("Description", logical_id),
            Policy=json.dumps(properties["KeyPolicy"]),
            KeySpec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
            KeyUsage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
        )["KeyMetadata"]
        if properties.get("EnableKeyRotation"):
            if key["KeySpec"] != "SYMMETRIC_DEFAULT":
                # "Automatic key rotation is supported only on symmetric encryption KMS keys."
                raise TemplateError(f"{logical_id}: KMS rotates symmetric encryption keys only")
            kms.enable_key_rotation(KeyId=key["KeyId"])
        return Physical(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})

    def _kms_alias(self, logical_id: str, properties: JsonDict) -> Physical:
        self.client("kms").create_alias(
            AliasName=properties["AliasName"], TargetKeyId=properties["TargetKeyId"]
        )
        return Physical(properties["AliasName"])

    def _secret(self, logical_id: str, properties: JsonDict) -> Physical:
        generate = properties.get("GenerateSecretString", {})
        alphabet = string.ascii_letters + string.digits
        if not generate.get("ExcludePunctuation"):
            alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
        value = properties.get("SecretString") or "".join(
            secrets.choice(alphabet) for _ in range(int(generate.get("PasswordLength", 32)))
        )
        arguments: JsonDict = {
            "Name": properties.get("Name", self._name(logical_id)),
            "SecretString": value,
        }
        if "KmsKeyId" in properties:
            arguments["KmsKeyId"] = properties["KmsKeyId"]
        arn = self.client("secretsmanager").create_secret(**arguments)["ARN"]
        return Physical(arn, {"Id": arn})

    def _table(self, logical_id: str, properties: JsonDict) -> Physical:
        dynamodb = self.client("dynamodb")
        name = properties.get("TableName", self._name(logical_id, 255))
        arguments: JsonDict = {
            "TableName": name,
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        if properties.get("LocalSecondaryIndexes"):
            arguments["LocalSecondaryIndexes"] = properties["LocalSecondaryIndexes"]
        if properties.get("GlobalSecondaryIndexes"):
            arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        if "ProvisionedThroughput" in properties:
            arguments["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
        if "StreamSpecification" in properties:
            arguments["StreamSpecification"] = {
                "StreamEnabled": True,
                **properties["StreamSpecification"],
            }
        table = dynamodb.create_table(**arguments)["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        return Physical(
            name, {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn", "")}
        )

    def _bucket(self, logical_id: str, properties: JsonDict) -> Physical:
        s3 = self.client("s3")
        name = properties.get("BucketName", self._name(logical_id, 63).lower())
        s3.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": self.region},
            # Object Lock can only be turned on when the bucket is created, as in AWS.
            ObjectLockEnabledForBucket=bool(properties.get("ObjectLockEnabled", False)),
        )
        if "BucketEncryption" in properties:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule[
                                "ServerSideEncryptionByDefault"
                            ],
                            "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
                        }
                        for rule in properties["BucketEncryption"][
                            "ServerSideEncryptionConfiguration"
                        ]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"],
            )
        if "VersioningConfiguration" in properties:
            s3.put_bucket_versioning(
                Bucket=name,
                VersioningConfiguration={"Status": properties["VersioningConfiguration"]["Status"]},
            )
        lock = properties.get("ObjectLockConfiguration")
        if lock and lock.get("Rule"):
            # moto keeps the default retention and enforces it on each object version.
            s3.put_object_lock_configuration(
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": lock.get("ObjectLockEnabled", "Enabled"),
                    "Rule": {
                        "DefaultRetention": {
                            key: int(value) if key in ("Days", "Years") else value
                            for key, value in lock["Rule"]["DefaultRetention"].items()
                        }
                    },
                },
            )
        if "LifecycleConfiguration" in properties:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        _lifecycle_rule(rule)
                        for rule in properties["LifecycleConfiguration"]["Rules"]
                    ]
                },
            )
        return Physical(
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            },
        )

    def _bucket_policy(self, logical_id: str, properties: JsonDict) -> None:
        # Kept as data: moto ignores policy conditions, so applying a Deny-unless-TLS statement
        # would deny everything. The policy is checked by the template tests instead.
        return None

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

    def _schedule_group(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("Name", self._name(logical_id))
        arn = self.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        return Physical(name, {"Arn": arn})

    def _role(self, logical_id: str, properties: JsonDict) -> Physical:
        iam = self.client("iam")
        name = properties.get("RoleName", self._name(logical_id))
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"]),
            Description=properties.get("Description", ""),
        )["Role"]
        for policy in properties.get("Policies", []):
            iam.put_role_policy(
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=json.dumps(_versioned(policy["PolicyDocument"], logical_id)),
            )
        for arn in properties.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        self.role_policies[role["Arn"]] = [
            *(
                NamedPolicy(policy["PolicyName"], _versioned(policy["PolicyDocument"], logical_id))
                for policy in properties.get("Policies", [])
            ),
            *(
                NamedPolicy(arn, aws_managed_policies()[arn])
                for arn in properties.get("ManagedPolicyArns", [])
            ),
        ]
        return Physical(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def _user_pool(self, logical_id: str, properties: JsonDict) -> Physical:
        # CreateUserPool refuses threat protection below the Plus tier (CloudFormation reference,
        # AWS::Cognito::UserPool UserPoolAddOns), and a pool without a tier is Essentials.
        mode = properties.get("UserPoolAddOns", {}).get("AdvancedSecurityMode", "OFF")
        if mode != "OFF" and properties.get("UserPoolTier", "ESSENTIALS") != "PLUS":
            raise TemplateError(
                f"{logical_id}: AdvancedSecurityMode {mode} needs UserPoolTier PLUS "
                f"(this pool is {properties.get('UserPoolTier', 'ESSENTIALS')})"
            )
        arguments = {
            key: properties[key]
            for key in (
                "Policies",
                "AdminCreateUserConfig",
                "UsernameConfiguration",
                "MfaConfiguration",
                "UserPoolAddOns",
                "UserPoolTier",
                "DeletionProtection",
            )
            if key in properties
        }
        pool = self.client("cognito-idp").create_user_pool(
            PoolName=properties.get("UserPoolName", self._name(logical_id)), **arguments
        )["UserPool"]
        provider = f"cognito-idp.{self.region}.amazonaws.com/{pool['Id']}"
        return Physical(
            pool["Id"],
            {
                "Arn": pool["Arn"],
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": pool["Id"],
            },
        )

    def _user_pool_client(self, logical_id: str, properties: JsonDict) -> Physical:
        keys = (
            "GenerateSecret",
            "ExplicitAuthFlows",
            "AllowedOAuthFlows",
            "AllowedOAuthScopes",
            "AllowedOAuthFlowsUserPoolClient",
            "AccessTokenValidity",
            "IdTokenValidity",
            "RefreshTokenValidity",
            "TokenValidityUnits",
            "EnableTokenRevocation",
            "AuthSessionValidity",
            "PreventUserExistenceErrors",
        )
        client = self.client("cognito-idp").create_user_pool_client(
            UserPoolId=properties["UserPoolId"],
            ClientName=properties.get("ClientName", logical_id),
            **{key: properties[key] for key in keys if key in properties},
        )["UserPoolClient"]
        return Physical(
            client["ClientId"],
            {"ClientSecret": client.get("ClientSecret", ""), "ClientId": client["ClientId"]},
        )

    def _resource_server(self, logical_id: str, properties: JsonDict) -> Physical:
        self.client("cognito-idp").create_resource_server(
            UserPoolId=properties["UserPoolId"],
            Identifier=properties["Identifier"],
            Name=properties["Name"],
            Scopes=properties.get("Scopes", []),
        )
        return Physical(properties["Identifier"])

    def _user_pool_domain(self, logical_id: str, properties: JsonDict) -> Physical:
        self.client("cognito-idp").create_user_pool_domain(
            UserPoolId=properties["UserPoolId"], Domain=properties["Domain"]
        )
        self.user_pool_domains[properties["Domain"]] = properties["UserPoolId"]
        return Physical(properties["Domain"])

    def _user_pool_group(self, logical_id: str, properties: JsonDict) -> Physical:
        self.client("cognito-idp").create_group(
            UserPoolId=properties["UserPoolId"],
            GroupName=properties["GroupName"],
            Description=properties.get("Description", ""),
        )
        return Physical(properties["GroupName"])

    def _log_group(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("LogGroupName", f"/local/{self._name(logical_id)}")
        logs = self.client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in properties:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(properties["RetentionInDays"])
            )
        return Physical(name, {"Arn": self._arn("logs", f"log-group:{name}")})

    def _alarm(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("AlarmName", self._name(logical_id, 255))
        arguments = {key: value for key, value in properties.items() if key != "AlarmName"}
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **arguments)
        return Physical(name, {"Arn": self._arn("cloudwatch", f"alarm:{name}")})

    def _console_edge(self, logical_id: str, properties: JsonDict) -> Physical:
        # CloudFront serves the console in AWS. Locally the gateway serves console/ itself, on
        # the API's origin, with the same security headers (stack.console_headers): nothing is
        # created, and the ids below are placeholders, never reached.
        local_id = f"local-{logical_id.lower()}"
        return Physical(
            local_id,
            {
                "Id": local_id,
                "DomainName": "127.0.0.1",
                "FunctionMetadata.FunctionARN": f"arn:aws:cloudfront::{ACCOUNT_ID}:function/{local_id}",
            },
        )

    # ------------------------------------------------------------------ what moto cannot run
    def _function(self, logical_id: str, properties: JsonDict) -> Physical:
        """A function of the stack, run by the local runtime with its own environment."""
        if properties.get("PackageType", "Zip") != "Zip" or "Handler" not in properties:
            raise TemplateError(
                f"{logical_id}: only zip-packaged functions with a Handler run locally"
            )
        if not str(properties.get("Runtime", "")).startswith("python"):
            raise TemplateError(
                f"{logical_id}: runtime {properties.get('Runtime')} does not run locally"
            )
        name = properties.get("FunctionName", self._name(logical_id))
        arn = self._arn("lambda", f"function:{name}")
        variables = properties.get("Environment", {}).get("Variables", {})
        self.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=str(properties["Handler"]),
            environment={key: str(value) for key, value in variables.items()},
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            reserved_concurrency=(
                int(properties["ReservedConcurrentExecutions"])
                if "ReservedConcurrentExecutions" in properties
                else None
            ),
            role_arn=str(properties["Role"]),
        )
        return Physical(name, {"Arn": arn})

    def _function_of(self, name_or_arn: str, where: str) -> str:
        """The logical id of the stack's function named (or ARN'd) `name_or_arn`."""
        for logical_id, spec in self.functions.items():
            if name_or_arn in (spec.name, spec.arn):
                return logical_id
        raise TemplateError(f"{where}: {name_or_arn} is not a function of this stack")

    def _queue_url(self, arn: str, where: str) -> str:
        for physical in self.resources.values():
            if physical.attributes.get("Arn") == arn and "QueueUrl" in physical.attributes:
                return str(physical.ref)
        raise TemplateError(f"{where}: {arn} is not a queue of this stack")

    def _permission(self, logical_id: str, properties: JsonDict) -> Physical:
        """Who may invoke a function: the gateway serves only the routes a permission covers."""
        self._function_of(str(properties["FunctionName"]), logical_id)
        self.permissions.append(
            (
                str(properties["FunctionName"]),
                str(properties["Principal"]),
                str(properties.get("SourceArn", "")),
            )
        )
        return Physical(f"local-{logical_id.lower()}")

    def _event_source_mapping(self, logical_id: str, properties: JsonDict) -> Physical:
        """An SQS queue or DynamoDB stream that a local poller reads for its function."""
        function = self._function_of(str(properties["FunctionName"]), logical_id)
        source_arn = str(properties["EventSourceArn"])
        service = source_arn.split(":")[2] if source_arn.count(":") >= 5 else ""
        if service == "sqs":
            self._only_known(logical_id, properties, _SQS_MAPPING_PROPERTIES)
            source: SqsSource | StreamSource = SqsSource(
                function=function,
                queue_arn=source_arn,
                queue_url=self._queue_url(source_arn, logical_id),
                batch_size=int(properties.get("BatchSize", 10)),
                batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in properties.get("FunctionResponseTypes", []),
                maximum_concurrency=(
                    int(properties["ScalingConfig"]["MaximumConcurrency"])
                    if "ScalingConfig" in properties
                    else None
                ),
            )
        elif service == "dynamodb" and "/stream/" in source_arn:
            self._only_known(logical_id, properties, _STREAM_MAPPING_PROPERTIES)
            if properties.get("BisectBatchOnFunctionError"):
                raise TemplateError(f"{logical_id}: only whole-batch retries run locally")
            on_failure = properties.get("DestinationConfig", {}).get("OnFailure", {})
            source = StreamSource(
                function=function,
                stream_arn=source_arn,
                batch_size=int(properties.get("BatchSize", 100)),
                batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                on_failure_queue_url=(
                    self._queue_url(str(on_failure["Destination"]), logical_id)
                    if on_failure
                    else None
                ),
            )
        else:
            raise TemplateError(
                f"{logical_id}: event source {source_arn} does not run locally (every "
                "asynchronous source lands in SQS first, or comes from a DynamoDB stream)"
            )
        if properties.get("Enabled", True) not in (False, "false"):
            if isinstance(source, SqsSource):
                self.sqs_sources.append(source)
            else:
                self.stream_sources.append(source)
        return Physical(f"local-{logical_id.lower()}")

    @staticmethod
    def _only_known(logical_id: str, properties: JsonDict, known: frozenset[str]) -> None:
        unknown = sorted(set(properties) - known)
        if unknown:
            raise TemplateError(f"{logical_id}: {', '.join(unknown)} does not run locally")

    def _event_invoke_config(self, logical_id: str, properties: JsonDict) -> Physical:
        # Asynchronous invocations come from the schedules alone, whose dead-letter queue the
        # local scheduler writes to; the function must still be the stack's.
        self._function_of(str(properties["FunctionName"]), logical_id)
        return Physical(f"local-{logical_id.lower()}")

    def _rest_api(self, logical_id: str, properties: JsonDict) -> Physical:
        """A REST API as SAM writes it (an OpenAPI Body), served by the local gateway."""
        body = properties.get("Body")
        if not isinstance(body, dict):
            raise TemplateError(
                f"{logical_id}: only a REST API defined by its OpenAPI Body runs locally"
            )
        api_id = f"local{logical_id.lower()}"[:10]
        schemes = body.get("components", {}).get("securitySchemes", {})
        for name, scheme in schemes.items():
            settings = scheme.get("x-amazon-apigateway-authorizer", {})
            providers = settings.get("providerARNs", [])
            if settings.get("type") != "cognito_user_pools" or len(providers) != 1:
                raise TemplateError(
                    f"{logical_id}: authorizer {name}: only Cognito user pool authorizers of "
                    "one pool run locally"
                )
            self.authorizer_pools[name] = str(providers[0])
        for path, item in body.get("paths", {}).items():
            for method, operation in item.items():
                where = f"{logical_id} {method.upper()} {path}"
                if method not in _HTTP_METHODS:
                    raise TemplateError(f"{where}: does not run locally")
                integration = operation.get("x-amazon-apigateway-integration", {})
                target = _INVOCATION_URI.match(str(integration.get("uri", "")))
                if integration.get("type") != "aws_proxy" or target is None:
                    raise TemplateError(f"{where}: only Lambda proxy integrations run locally")
                authorizer: str | None = None
                scopes: tuple[str, ...] = ()
                for requirement in operation.get("security", body.get("security", [])):
                    for name, required in requirement.items():
                        # SAM's `Authorizer: NONE`: a requirement naming no defined scheme.
                        if name == "NONE":
                            continue
                        if name not in schemes:
                            raise TemplateError(f"{where}: unknown authorizer {name}")
                        authorizer, scopes = name, tuple(required)
                route = Route(
                    method.upper(),
                    path,
                    self._function_of(target.group(1), where),
                    authorizer,
                    scopes,
                )
                self.routes.append(route)
                self._route_apis.append((route, api_id))
        return Physical(api_id, {"RootResourceId": f"{api_id}-root"})

    def _api_deployment(self, logical_id: str, properties: JsonDict) -> Physical:
        return Physical(f"local-{logical_id.lower()}")

    def _api_account(self, logical_id: str, properties: JsonDict) -> Physical:
        return Physical(f"local-{logical_id.lower()}")

    def _check_rules(self) -> None:
        """The template's `Rules`, as CloudFormation checks them before creating anything."""
        for name, rule in self.template.get("Rules", {}).items():
            if not self.resolver.resolve(rule.get("RuleCondition", True)):
                continue
            for assertion in rule["Assertions"]:
                if not self.resolver.resolve(assertion["Assert"]):
                    reason = assertion.get("AssertDescription", "assertion failed")
                    raise TemplateError(f"rule {name}: {reason}")

    def _api_stage(self, logical_id: str, properties: JsonDict) -> Physical:
        return Physical(str(properties["StageName"]))

    def _check_api_permissions(self) -> None:
        """Each route's function lets API Gateway invoke it for that route, as AWS requires
        (without it API Gateway answers 500: "Invalid permissions on Lambda function")."""
        for route, api_id in self._route_apis:
            spec = self.functions[route.function]
            path = re.sub(r"\{[^}]+\}", "value", route.path)
            invoked = f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{api_id}/stage/{route.method}{path}"
            if not any(
                function in (spec.name, spec.arn)
                and principal == "apigateway.amazonaws.com"
                and fnmatch.fnmatchcase(invoked, source_arn or "*")
                for function, principal, source_arn in self.permissions
            ):
                raise TemplateError(
                    f"{route.method} {route.path}: no AWS::Lambda::Permission lets API Gateway "
                    f"invoke {route.function} for it"
                )

    def _schedule(self, logical_id: str, properties: JsonDict) -> Physical:
        """An EventBridge Scheduler schedule, stored in moto and fired by the local scheduler."""
        name = properties.get("Name", self._name(logical_id))
        optional = (
            "GroupName",
            "Description",
            "ScheduleExpressionTimezone",
            "StartDate",
            "EndDate",
            "State",
            "KmsKeyArn",
            "ActionAfterCompletion",
        )
        arn = self.client("scheduler").create_schedule(
            Name=name,
            ScheduleExpression=properties["ScheduleExpression"],
            FlexibleTimeWindow=properties["FlexibleTimeWindow"],
            Target=properties["Target"],
            **{key: properties[key] for key in optional if key in properties},
        )["ScheduleArn"]
        return Physical(name, {"Arn": arn})


def _versioned(document: JsonDict, where: str) -> JsonDict:
    """A policy document with its `Version`, which SAM's policy templates leave out.

    IAM takes a document without one as version 2008-10-17, where `${...}` is plain text; moto
    refuses it. Given 2012-10-17 it means the same as long as it holds no policy variable.
    """
    if "Version" in document:
        return document
    if "${" in json.dumps(document):
        raise TemplateError(f"{where}: a policy without Version holds a policy variable")
    return {"Version": "2012-10-17", **document}


def _lifecycle_rule(rule: JsonDict) -> JsonDict:
    """CloudFormation's lifecycle rule shape to the S3 API's."""
    converted: JsonDict = {
        "ID": rule.get("Id", "rule"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(
                rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            )
        }
    return converted
