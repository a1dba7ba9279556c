"""The local stack's reading of a template: intrinsics, creation order, parameters, and the SAM
transform done by AWS's translator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloison_local.expand import aws_managed_policies, expand, role_statements
from cloison_local.template import (
    NO_VALUE,
    Resolver,
    TemplateError,
    creation_order,
    load_template,
    parameter_values,
)

REGION = "eu-west-3"
ACCOUNT = "123456789012"
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}


def _physical(logical_id: str) -> str:
    return f"{logical_id}-physical"


def _attribute(logical_id: str, attribute: str) -> str:
    return f"arn:aws:test:{REGION}:{ACCOUNT}:{logical_id}/{attribute}"


def _template(**sections: Any) -> dict[str, Any]:
    return {"Resources": {}, **sections}


def _resolver(template: dict[str, Any] | None = None, **parameters: Any) -> Resolver:
    return Resolver(
        template=template or _template(),
        parameters=parameters,
        pseudo=PSEUDO,
        ref=_physical,
        get_att=_attribute,
    )


# ---------------------------------------------------------------- loading


def test_load_template_turns_short_tags_into_long_forms(tmp_path: Path) -> None:
    # Given a template written with short tags
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Topic:\n"
        "    Type: AWS::SNS::Topic\n"
        "    Properties:\n"
        "      Name: !Sub ${AWS::StackName}-topic\n"
        "      Key: !GetAtt Key.Arn\n"
        "      Other: !Ref Key\n"
        "      Parts: !Join [',', [a, b]]\n",
        encoding="utf-8",
    )

    # When it is loaded
    properties = load_template(path)["Resources"]["Topic"]["Properties"]

    # Then each tag is its long form, and the dotted GetAtt is split
    assert properties == {
        "Name": {"Fn::Sub": "${AWS::StackName}-topic"},
        "Key": {"Fn::GetAtt": ["Key", "Arn"]},
        "Other": {"Ref": "Key"},
        "Parts": {"Fn::Join": [",", ["a", "b"]]},
    }


def test_load_template_refuses_a_file_without_resources(tmp_path: Path) -> None:
    # Given a YAML file that is no template
    path = tmp_path / "not-a-template.yaml"
    path.write_text("Parameters: {}\n", encoding="utf-8")

    # When it is loaded
    # Then the error says why
    with pytest.raises(TemplateError, match="no Resources"):
        load_template(path)


# ---------------------------------------------------------------- Ref and GetAtt


def test_ref_resolves_parameters_pseudo_parameters_and_resources() -> None:
    # Given a stage parameter and resources known to the stack
    resolver = _resolver(Stage="dev")

    # When references to each are resolved
    resolved = resolver.resolve(
        {
            "stage": {"Ref": "Stage"},
            "region": {"Ref": "AWS::Region"},
            "account": {"Ref": "AWS::AccountId"},
            "queue": {"Ref": "SendQueue"},
        }
    )

    # Then parameters and pseudo parameters come first, resources from the stack
    assert resolved == {
        "stage": "dev",
        "region": REGION,
        "account": ACCOUNT,
        "queue": "SendQueue-physical",
    }


@pytest.mark.parametrize(
    "expression",
    [{"Fn::GetAtt": ["SendQueue", "Arn"]}, {"Fn::GetAtt": "SendQueue.Arn"}],
    ids=["list", "dotted"],
)
def test_get_att_reads_both_forms(expression: dict[str, Any]) -> None:
    # Given a resolver that knows the stack's attributes
    resolver = _resolver()

    # When an attribute is asked for in either form
    value = resolver.resolve(expression)

    # Then the stack's attribute comes back
    assert value == _attribute("SendQueue", "Arn")


def test_get_att_keeps_a_dotted_attribute_name_whole() -> None:
    # Given an attribute whose name has a dot (as Endpoint.Address)
    resolver = _resolver()

    # When it is asked for in the dotted form
    value = resolver.resolve({"Fn::GetAtt": "Cluster.Endpoint.Address"})

    # Then only the first dot separates the logical id
    assert value == _attribute("Cluster", "Endpoint.Address")


# ---------------------------------------------------------------- Sub


def test_sub_replaces_attributes_pseudo_parameters_and_references() -> None:
    # Given a string that mixes an attribute, a pseudo parameter, a parameter and a resource
    resolver = _resolver(Stage="prod")
    expression = {"Fn::Sub": "${Bucket.Arn}/*|${AWS::Region}|${Stage}|${Bucket}"}

    # When it is substituted
    value = resolver.resolve(expression)

    # Then each variable takes its value
    assert value == f"{_attribute('Bucket', 'Arn')}/*|{REGION}|prod|Bucket-physical"


def test_sub_list_form_uses_its_variables_first() -> None:
    # Given the list form with variables that are themselves intrinsics
    resolver = _resolver(Stage="dev")
    expression = {
        "Fn::Sub": [
            "${Name}-${Stage}-${Key}",
            {"Name": {"Ref": "Bucket"}, "Key": {"Fn::GetAtt": ["DataKey", "Arn"]}},
        ]
    }

    # When it is substituted
    value = resolver.resolve(expression)

    # Then the variables are resolved, the rest comes from the stack
    assert value == f"Bucket-physical-dev-{_attribute('DataKey', 'Arn')}"


def test_sub_renders_an_escaped_variable_literally() -> None:
    # Given a string with an escaped variable
    resolver = _resolver()

    # When it is substituted
    value = resolver.resolve({"Fn::Sub": "echo ${!Literal} in ${AWS::Region}"})

    # Then the escape is removed and the variable kept as text
    assert value == f"echo ${{Literal}} in {REGION}"


# ---------------------------------------------------------------- Join, Select, Split, FindInMap


def test_join_select_and_split_compose() -> None:
    # Given a joined list built from a split and a select
    resolver = _resolver(Subnets="a,b,c")
    expression = {
        "Fn::Join": [
            "/",
            [
                {"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "Subnets"}]}]},
                {"Ref": "AWS::Region"},
                "x",
            ],
        ]
    }

    # When it is resolved
    value = resolver.resolve(expression)

    # Then the pieces are put together in order
    assert value == f"b/{REGION}/x"


def test_find_in_map_looks_up_with_resolved_keys() -> None:
    # Given a mapping keyed by stage
    template = _template(
        Mappings={"StageSettings": {"dev": {"LogLevel": "DEBUG"}, "prod": {"LogLevel": "INFO"}}}
    )
    resolver = _resolver(template, Stage="prod")

    # When a value is looked up for the stage parameter
    value = resolver.resolve({"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogLevel"]})

    # Then the stage's value comes back
    assert value == "INFO"


# ---------------------------------------------------------------- conditions


def _conditional_template() -> dict[str, Any]:
    return _template(
        Conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "ProdAndEu": {
                "Fn::And": [
                    {"Condition": "IsProd"},
                    {"Fn::Equals": [{"Ref": "AWS::Region"}, REGION]},
                ]
            },
            "ProdOrDev": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
        }
    )


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("prod", {"mode": "ENFORCED", "dev": "no", "eu": "yes", "any": "yes"}),
        ("dev", {"mode": "AUDIT", "dev": "yes", "eu": "no", "any": "yes"}),
    ],
)
def test_if_follows_conditions_built_from_equals_not_and_or(
    stage: str, expected: dict[str, str]
) -> None:
    # Given conditions over the stage and the region
    resolver = _resolver(_conditional_template(), Stage=stage)

    # When values depend on them
    value = resolver.resolve(
        {
            "mode": {"Fn::If": ["IsProd", "ENFORCED", "AUDIT"]},
            "dev": {"Fn::If": ["IsDev", "yes", "no"]},
            "eu": {"Fn::If": ["ProdAndEu", "yes", "no"]},
            "any": {"Fn::If": ["ProdOrDev", "yes", "no"]},
        }
    )

    # Then each takes the branch its condition chooses
    assert value == expected


def test_no_value_drops_the_property_and_the_list_item() -> None:
    # Given a property and a list item that disappear outside prod
    resolver = _resolver(_conditional_template(), Stage="dev")

    # When they are resolved in dev
    value = resolver.resolve(
        {
            "Kept": 1,
            "Dropped": {"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]},
            "Items": ["a", {"Ref": "AWS::NoValue"}, "c"],
        }
    )

    # Then neither is left behind
    assert value == {"Kept": 1, "Items": ["a", "c"]}
    assert NO_VALUE not in value.values()


def test_an_unknown_condition_is_an_error() -> None:
    # Given a template without the condition an If names
    resolver = _resolver(_conditional_template(), Stage="dev")

    # When it is resolved
    # Then the error names the condition
    with pytest.raises(TemplateError, match="IsStaging"):
        resolver.resolve({"Fn::If": ["IsStaging", 1, 2]})


def test_an_unsupported_intrinsic_is_an_error() -> None:
    # Given the availability zones of the region
    resolver = _resolver()

    # When they are resolved
    # Then the error names the intrinsic
    with pytest.raises(TemplateError, match="Fn::GetAZs"):
        resolver.resolve({"Fn::GetAZs": ""})


def test_import_value_reads_the_exports_of_the_stacks_created_before() -> None:
    # Given a team stack's resolver, with the main stack's exports and the main stack's name
    resolver = Resolver(
        template=_template(),
        parameters={"CloisonStack": "cloison-dev"},
        pseudo=PSEUDO,
        ref=_physical,
        get_att=_attribute,
        imports={"cloison-dev-DataKeyArn": "arn:aws:kms:eu-west-3:123456789012:key/k"},
    )

    # When an export named from a parameter is imported
    value = resolver.resolve({"Fn::ImportValue": {"Fn::Sub": "${CloisonStack}-DataKeyArn"}})

    # Then the exported value comes back, and an export nobody made is an error naming it
    assert value == "arn:aws:kms:eu-west-3:123456789012:key/k"
    with pytest.raises(TemplateError, match="cloison-dev-UserPoolId"):
        resolver.resolve({"Fn::ImportValue": {"Fn::Sub": "${CloisonStack}-UserPoolId"}})


# ---------------------------------------------------------------- creation order


def test_creation_order_puts_dependencies_first() -> None:
    # Given resources declared before what they depend on, through every kind of reference
    resources = {
        "Function": {
            "Type": "AWS::Lambda::Function",
            "DependsOn": ["Role"],
            "Properties": {
                "Table": {"Ref": "Table"},
                "Queue": {"Fn::GetAtt": ["Queue", "Arn"]},
                "Bucket": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"},
                "Region": {"Ref": "AWS::Region"},
                "Stage": {"Ref": "Stage"},
            },
        },
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": "Function"},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Key": {"Fn::GetAtt": "Key.Arn"}}},
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Role": {"Type": "AWS::IAM::Role"},
        "Key": {"Type": "AWS::KMS::Key"},
    }

    # When they are ordered for creation
    order = creation_order(resources)

    # Then every resource comes after those it needs, and each comes once
    assert sorted(order) == sorted(resources)
    position = {logical_id: index for index, logical_id in enumerate(order)}
    for dependency in ("Table", "Queue", "Bucket", "Role"):
        assert position[dependency] < position["Function"], dependency
    assert position["Key"] < position["Queue"]
    assert position["Function"] < position["Alarm"]


def test_creation_order_refuses_a_cycle() -> None:
    # Given two resources that refer to each other
    resources = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"Key": {"Ref": "Key"}}},
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {"Policy": {"Fn::Sub": "${Topic.TopicArn}"}},
        },
    }

    # When they are ordered for creation
    # Then the cycle is named
    with pytest.raises(TemplateError, match="circular dependency"):
        creation_order(resources)


# ---------------------------------------------------------------- parameters


def _parameterised_template() -> dict[str, Any]:
    return _template(
        Parameters={
            "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
            "RetentionDays": {"Type": "Number", "Default": 365},
        }
    )


def test_parameter_values_apply_defaults() -> None:
    # Given a template whose parameters all have defaults
    template = _parameterised_template()

    # When no value is given
    values = parameter_values(template, {})

    # Then the defaults apply
    assert values == {"Stage": "dev", "RetentionDays": 365}


def test_parameter_values_apply_overrides() -> None:
    # Given a template whose parameters all have defaults
    template = _parameterised_template()

    # When values are given
    values = parameter_values(template, {"Stage": "prod", "RetentionDays": "30"})

    # Then they win over the defaults
    assert values == {"Stage": "prod", "RetentionDays": "30"}


def test_parameter_values_refuse_an_unknown_name() -> None:
    # Given a template without a Colour parameter
    template = _parameterised_template()

    # When a value is given for it
    # Then the error names it
    with pytest.raises(TemplateError, match="Colour"):
        parameter_values(template, {"Colour": "blue"})


def test_parameter_values_refuse_a_value_outside_allowed_values() -> None:
    # Given a stage parameter allowing dev and prod
    template = _parameterised_template()

    # When another stage is asked for
    # Then it is refused
    with pytest.raises(TemplateError, match="staging"):
        parameter_values(template, {"Stage": "staging"})


def test_parameter_values_require_a_value_without_default() -> None:
    # Given a parameter without default
    template = _template(Parameters={"ShortCode": {"Type": "String"}})

    # When no value is given
    # Then the error names it
    with pytest.raises(TemplateError, match="ShortCode"):
        parameter_values(template, {})


# ---------------------------------------------------------------- the SAM transform


def _sam_function(events: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return _template(
        Transform="AWS::Serverless-2016-10-31",
        Resources={
            "Chunks": {"Type": "AWS::SQS::Queue"},
            "Worker": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/",
                    "Runtime": "python3.11",
                    "Handler": "cloison.handlers.x.lambda_handler",
                    "Events": events,
                    **properties,
                },
            },
        },
    )


def test_sams_own_translator_writes_the_event_source_mapping_and_the_role() -> None:
    # Given a function fed by a queue, with a policy template
    template = _sam_function(
        {
            "Chunks": {
                "Type": "SQS",
                "Properties": {
                    "Queue": {"Fn::GetAtt": ["Chunks", "Arn"]},
                    "BatchSize": 1,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                },
            }
        },
        Policies=[{"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["Chunks", "QueueName"]}}}],
    )

    # When it is expanded as `sam deploy` expands it
    expanded = expand(template, {}, REGION)["Resources"]

    # Then the function, its mapping and its role are plain CloudFormation, the role carrying
    # the managed policy SAM attaches to SQS pollers and the expanded policy template
    assert expanded["Worker"]["Type"] == "AWS::Lambda::Function"
    assert expanded["Worker"]["Properties"]["Role"] == {"Fn::GetAtt": ["WorkerRole", "Arn"]}
    mapping = expanded["WorkerChunks"]
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    assert mapping["Properties"]["BatchSize"] == 1
    role = expanded["WorkerRole"]["Properties"]
    assert (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
        in role["ManagedPolicyArns"]
    )
    actions = {
        action
        for statement in role_statements(expand(template, {}, REGION), "WorkerRole")
        for action in statement["Action"]
    }
    assert actions == {"sqs:SendMessage*"}
    assert not any(kind.startswith("AWS::Serverless::") for kind in _types(expanded))


def _types(resources: dict[str, Any]) -> set[str]:
    return {resource["Type"] for resource in resources.values()}


def test_a_template_sam_refuses_fails_with_the_translators_reason() -> None:
    # Given a function whose event has no queue
    template = _sam_function({"Chunks": {"Type": "SQS", "Properties": {"BatchSize": 1}}})

    # When it is expanded
    # Then the translator's reason names the resource
    with pytest.raises(TemplateError, match="Worker"):
        expand(template, {}, REGION)


def test_a_template_without_the_transform_is_left_as_it_is() -> None:
    # Given a plain CloudFormation template
    template = _template(Resources={"Queue": {"Type": "AWS::SQS::Queue"}})

    # When it is expanded
    # Then nothing changes
    assert expand(template, {}, REGION) is template


def test_the_managed_policies_are_awss_own_documents() -> None:
    # Given the managed policies the expansion and the least-privilege check read
    policies = aws_managed_policies()

    # When the one SAM attaches to every function is looked up
    basic = policies["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]

    # Then it grants writing logs, nothing more
    actions = {action for statement in basic["Statement"] for action in statement["Action"]}
    assert actions == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
