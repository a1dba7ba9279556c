"""The local stack refuses what AWS refuses at deploy, on small templates expanded by AWS's SAM
translator and created in moto."""

from __future__ import annotations

from typing import Any

import pytest

from cloison_local.provision import Provisioner
from cloison_local.template import TemplateError

REGION = "eu-west-3"
SAM = "AWS::Serverless-2016-10-31"


def _provision(moto_url: str, template: dict[str, Any], **parameters: str) -> Any:
    return Provisioner(
        template,
        endpoint_url=moto_url,
        region=REGION,
        stack_name="refused",
        parameter_overrides=parameters,
    ).provision()


def _function(**properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "functions/",
            "Runtime": "python3.11",
            "Handler": "cloison.handlers.api.lambda_handler",
            **properties,
        },
    }


def test_threat_protection_below_the_plus_tier_stops_the_start(moto_url: str) -> None:
    # Given a user pool asking for threat protection without a tier (Essentials, for AWS)
    template = {
        "Resources": {
            "Pool": {
                "Type": "AWS::Cognito::UserPool",
                "Properties": {"UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}},
            }
        }
    }

    # When it is created / Then it is refused, naming the tier it needs
    with pytest.raises(TemplateError, match="needs UserPoolTier PLUS"):
        _provision(moto_url, template)


def test_a_function_subscribed_straight_to_a_topic_stops_the_start(moto_url: str) -> None:
    # Given a function triggered by SNS itself (SAM writes an SNS subscription to it)
    template = {
        "Transform": SAM,
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Worker": _function(
                Events={"Replies": {"Type": "SNS", "Properties": {"Topic": {"Ref": "Topic"}}}}
            ),
        },
    }

    # When it is started / Then the message says that SNS lands in SQS first
    with pytest.raises(TemplateError, match="lands in SQS first"):
        _provision(moto_url, template)


def test_a_route_whose_function_api_gateway_may_not_invoke_stops_the_start(
    moto_url: str,
) -> None:
    # Given an API whose route reaches a function that no permission lets API Gateway invoke
    # (a plain AWS::Lambda::Function behind a hand-written OpenAPI body)
    template = {
        "Transform": SAM,
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.11",
                    "Handler": "cloison.handlers.api.lambda_handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"S3Bucket": "b", "S3Key": "k"},
                },
            },
            "Api": {
                "Type": "AWS::ApiGateway::RestApi",
                "Properties": {
                    "Body": {
                        "openapi": "3.0.1",
                        "paths": {
                            "/health": {
                                "get": {
                                    "x-amazon-apigateway-integration": {
                                        "type": "aws_proxy",
                                        "httpMethod": "POST",
                                        "uri": {
                                            "Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Handler.Arn}/invocations"
                                        },
                                    }
                                }
                            }
                        },
                    }
                },
            },
        },
    }

    # When it is started / Then the route is named as AWS would fail it
    with pytest.raises(TemplateError, match="GET /health: no AWS::Lambda::Permission"):
        _provision(moto_url, template)


def test_a_rule_the_parameters_break_stops_the_start_before_anything_is_made(
    moto_url: str,
) -> None:
    # Given a template whose rule needs a topic in prod
    template = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "prod"},
            "Topic": {"Type": "String", "Default": ""},
        },
        "Rules": {
            "NeedsTopic": {
                "RuleCondition": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                "Assertions": [
                    {
                        "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Topic"}, ""]}]},
                        "AssertDescription": "prod needs Topic",
                    }
                ],
            }
        },
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q-rule"}}},
    }

    # When it is started without the topic / Then CloudFormation's check refuses it
    with pytest.raises(TemplateError, match="rule NeedsTopic: prod needs Topic"):
        _provision(moto_url, template)
    # And with one, it starts
    assert _provision(moto_url, template, Topic="arn:aws:sns:eu-west-3:123456789012:t")
