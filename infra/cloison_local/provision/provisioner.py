"""The driver of provisioning: checks the template's Rules, then walks its resources in
dependency order and hands each to the creator of its type; what is created is the Stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloison_local.expand import expand
from cloison_local.model import JsonDict
from cloison_local.provision.base import ACCOUNT_ID, Physical, Stack
from cloison_local.provision.functions import FunctionCreators
from cloison_local.provision.identity import IdentityCreators
from cloison_local.provision.messaging import MessagingCreators
from cloison_local.provision.operations import OperationsCreators
from cloison_local.provision.storage import StorageCreators
from cloison_local.template import Resolver, TemplateError, creation_order, parameter_values


class Provisioner(
    StorageCreators, MessagingCreators, IdentityCreators, FunctionCreators, OperationsCreators
):
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
        super().__init__(endpoint_url=endpoint_url, region=region, stack_name=stack_name)
        self.parameters = parameter_values(template, parameter_overrides or {})
        self.template = expand(template, self.parameters, region)
        template = self.template
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
            "AWS::IAM::Policy": self._policy,
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
        # An output whose condition is false is not there, as in CloudFormation.
        kept = {
            name: output
            for name, output in self.template.get("Outputs", {}).items()
            if "Condition" not in output or self.resolver.condition(output["Condition"])
        }
        outputs = {
            name: str(self.resolver.resolve(output["Value"])) for name, output in kept.items()
        }
        exports = {
            str(self.resolver.resolve(output["Export"]["Name"])): outputs[name]
            for name, output in kept.items()
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
            attached_policies=self.attached_policies,
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

    def _check_rules(self) -> None:
        """The template's `Rules`, as CloudFormation checks them before creating anything."""
        for name, rule in self.template.get("Rules", {}).items():
            if not self.resolver.resolve(rule.get("RuleCondition", True)):
                continue
            for assertion in rule["Assertions"]:
                if not self.resolver.resolve(assertion["Assert"]):
                    reason = assertion.get("AssertDescription", "assertion failed")
                    raise TemplateError(f"rule {name}: {reason}")
