"""Creates the resources of template.yaml in moto server, from the template's own properties."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from cloison_local.carrier import EventDestinationSpec
from cloison_local.model import FunctionSpec, JsonDict, Route, SqsSource, StreamSource
from cloison_local.template import (
    Resolver,
    TemplateError,
    api_routes,
    authorizer_pools,
    creation_order,
    function_events,
    function_spec,
    parameter_values,
    sqs_sources,
    stream_sources,
)

ACCOUNT_ID = "123456789012"


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
    # Outputs with an `Export`, by export name: what `Fn::ImportValue` gives other stacks.
    exports: dict[str, str] = field(default_factory=dict)
    # Cognito domains and the user pool each belongs to: where `/oauth2/token` is served.
    user_pool_domains: dict[str, str] = field(default_factory=dict)

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
        self.template = template
        self.region = region
        self.stack_name = stack_name
        self.session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url
        self.parameters = parameter_values(template, parameter_overrides or {})
        self.resources: dict[str, Physical] = {}
        self.configuration_sets: list[ConfigurationSet] = []
        self.opt_out_lists: list[str] = []
        self.user_pool_domains: dict[str, str] = {}
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
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::IAM::Role": self._role,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolResourceServer": self._resource_server,
            "AWS::Cognito::UserPoolDomain": self._user_pool_domain,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::Serverless::Api": self._api,
            "AWS::CloudFront::Distribution": self._console_edge,
            "AWS::CloudFront::OriginAccessControl": self._console_edge,
            "AWS::CloudFront::ResponseHeadersPolicy": self._console_edge,
            "AWS::CloudFront::CachePolicy": self._console_edge,
            "AWS::CloudFront::OriginRequestPolicy": self._console_edge,
            "AWS::CloudFront::Function": self._console_edge,
            "AWS::Serverless::Function": self._function,
        }

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    # ------------------------------------------------------------------ driver
    def provision(self) -> Stack:
        resources: dict[str, JsonDict] = self.template["Resources"]
        for logical_id in creation_order(resources):
            resource = resources[logical_id]
            if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
                continue
            kind = resource["Type"]
            creator = self._creators.get(kind)
            if creator is None:
                raise TemplateError(f"{logical_id}: resource type {kind} is not supported locally")
            properties = resource.get("Properties", {})
            if kind != "AWS::Serverless::Function":
                properties = self.resolver.resolve(properties)
            physical = creator(logical_id, properties)
            if physical is not None:
                self.resources[logical_id] = physical
        functions = {
            logical_id: function_spec(
                self.template,
                logical_id,
                self.resolver,
                name=self.resources[logical_id].ref,
                arn=self.resources[logical_id].attributes["Arn"],
            )
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Serverless::Function"
        }
        self._function_schedules(functions)
        queue_url_by_arn = {
            physical.attributes["Arn"]: physical.ref
            for logical_id, physical in self.resources.items()
            if resources.get(logical_id, {}).get("Type") == "AWS::SQS::Queue"
        }
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
            functions=functions,
            routes=api_routes(self.template, self.resolver),
            authorizer_pools=authorizer_pools(self.template, self.resolver),
            sqs_sources=sqs_sources(self.template, self.resolver, queue_url_by_arn),
            stream_sources=stream_sources(self.template, self.resolver, queue_url_by_arn),
            configuration_sets=self.configuration_sets,
            opt_out_lists=self.opt_out_lists,
            app_client_ids=clients,
            exports=exports,
            user_pool_domains=self.user_pool_domains,
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
        )["KeyMetadata"]
        if properties.get("EnableKeyRotation"):
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
                PolicyDocument=json.dumps(policy["PolicyDocument"]),
            )
        for arn in properties.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return Physical(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def _user_pool(self, logical_id: str, properties: JsonDict) -> Physical:
        arguments = {
            key: properties[key]
            for key in (
                "Policies",
                "AdminCreateUserConfig",
                "UsernameConfiguration",
                "MfaConfiguration",
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

    def _api(self, logical_id: str, properties: JsonDict) -> Physical:
        # Served by the local gateway from the functions' Api events; nothing to create in moto.
        return Physical(f"local{logical_id.lower()}"[:10])

    def _function(self, logical_id: str, properties: JsonDict) -> Physical:
        name = properties.get("FunctionName", self._name(logical_id))
        if "Role" not in properties:
            self.resources[f"{logical_id}Role"] = self._function_role(logical_id, properties)
        return Physical(name, {"Arn": self._arn("lambda", f"function:{name}")})

    def _function_role(self, logical_id: str, properties: JsonDict) -> Physical:
        """The execution role SAM generates for a function without `Role`: `<Function>Role`.

        Its inline `Statement` policies are kept; SAM policy templates (`DynamoDBCrudPolicy`...)
        are not expanded locally, where moto checks those services against `Resource: "*"` only.
        """
        statements = [
            statement
            for policy in properties.get("Policies", [])
            if isinstance(policy, dict) and "Statement" in policy
            for statement in self.resolver.resolve(policy["Statement"])
        ]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        policies = [
            {
                "PolicyName": f"{logical_id}RolePolicy",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            }
        ]
        return self._role(
            f"{logical_id}Role",
            {"AssumeRolePolicyDocument": trust, "Policies": policies if statements else []},
        )

    def _function_schedules(self, functions: dict[str, FunctionSpec]) -> None:
        """ScheduleV2 events become moto Scheduler schedules that target the function."""
        scheduler = self.client("scheduler")
        for logical_id, spec in functions.items():
            for event_name, event in function_events(self.template, logical_id).items():
                if event.get("Type") != "ScheduleV2":
                    continue
                properties = self.resolver.resolve(event.get("Properties", {}))
                target: JsonDict = {
                    "Arn": spec.arn,
                    "RoleArn": self._arn("iam", "role/local-scheduler"),
                }
                for name in ("Input", "DeadLetterConfig", "RetryPolicy"):
                    if name in properties:
                        target[name] = properties[name]
                scheduler.create_schedule(
                    Name=properties.get("Name", f"{logical_id}-{event_name}")[:64],
                    ScheduleExpression=properties["ScheduleExpression"],
                    ScheduleExpressionTimezone=properties.get("ScheduleExpressionTimezone", "UTC"),
                    FlexibleTimeWindow={"Mode": "OFF"},
                    State=properties.get("State", "ENABLED"),
                    Target=target,
                )


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
