"""The promises template.yaml makes, read from the template itself: it is the source of truth."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sam_template import properties_of, resources_of, target_of, template

# Imported while collecting, before sockets are blocked: the X-Ray SDK behind the shared tracer
# creates its UDP emitter socket when it is first imported.
import cloison.observability  # noqa: F401
from cloison.adapters.tables import FINAL_RANK
from cloison.config import (
    AnchorSettings,
    ApiSettings,
    CountingSettings,
    DeliverySettings,
    InboundSettings,
    LaunchSettings,
    ReconcileSettings,
    SendSettings,
)
from cloison.services.delivery_events import STATUS_RANK, status_of
from cloison_local.carrier import TEXT_EVENT_DESCRIPTIONS
from cloison_local.expand import function_properties

ROOT = Path(__file__).resolve().parents[2]
FOURTEEN_DAYS = 14 * 24 * 3600
# The health check, the OpenAPI document, and the sign-up request of a team's public page.
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/signup/{team}"),
    ("POST", "/signup/{team}"),
}
REQUIRED_SCOPES = {"aws.cognito.signin.user.admin", "cloison/api"}
KEPT_TABLE_VARIABLES = ("SUPPRESSIONS_TABLE", "AUDIT_TABLE")  # opt-outs and audit records stay
SETTINGS_OF_FUNCTION: dict[str, type[BaseModel]] = {
    "ApiFunction": ApiSettings,
    "LaunchCampaignFunction": LaunchSettings,
    "SendWorkerFunction": SendSettings,
    "DeliveryEventsFunction": DeliverySettings,
    "MessageCountsFunction": CountingSettings,
    "InboundFunction": InboundSettings,
    "ReconcileOptOutsFunction": ReconcileSettings,
    "AnchorAuditFunction": AnchorSettings,
}


def _functions() -> list[str]:
    return sorted(resources_of("AWS::Serverless::Function"))


def _events(kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(function, event name, event properties) of every event of `kind`."""
    return [
        (function, name, event.get("Properties", {}))
        for function in _functions()
        for name, event in properties_of(function).get("Events", {}).items()
        if event["Type"] == kind
    ]


def _dead_letter_queues() -> set[str]:
    """Every queue failures are sent to: by a queue's or a subscription's redrive policy, a
    function's or an event source's failure destination, or a schedule's dead-letter config."""
    redrives = [
        properties["RedrivePolicy"]["deadLetterTargetArn"]
        for kind in ("AWS::SQS::Queue", "AWS::SNS::Subscription")
        for properties in (r.get("Properties", {}) for r in resources_of(kind).values())
        if "RedrivePolicy" in properties
    ]
    failure_configs = [
        *(properties_of(function).get("EventInvokeConfig", {}) for function in _functions()),
        *(
            properties
            for kind in ("DynamoDB", "Kinesis", "SQS")
            for _, _, properties in _events(kind)
        ),
    ]
    on_failure = [
        config["DestinationConfig"]["OnFailure"]["Destination"]
        for config in failure_configs
        if "OnFailure" in config.get("DestinationConfig", {})
    ]
    schedules = [
        properties["DeadLetterConfig"]["Arn"]
        for _, _, properties in _events("ScheduleV2")
        if "DeadLetterConfig" in properties
    ]
    targets = {target_of(value) for value in [*redrives, *on_failure, *schedules]}
    return {target for target in targets if target in resources_of("AWS::SQS::Queue")}


def _consumed_queues() -> set[str]:
    return {target_of(properties["Queue"]) for _, _, properties in _events("SQS")} - {None}


def _global_variable_target(name: str) -> str:
    """The resource a variable names, the same in every function given it."""
    targets = {
        target_of(variables[name])
        for function in _functions()
        if name in (variables := function_properties(function)["Environment"]["Variables"])
    }
    assert len(targets) == 1, f"{name} names {targets or 'nothing'} across the functions"
    (target,) = targets
    assert target is not None, f"{name} does not refer to a resource"
    return target


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize("function", _functions())
def test_each_function_s_handler_module_bears_its_name(function: str) -> None:
    # One name per thing: InboundFunction runs cloison.handlers.inbound, SendWorkerFunction
    # cloison.handlers.send_worker, and so on.
    words = re.findall(r"[A-Z][a-z0-9]*", function.removesuffix("Function"))
    expected = f"cloison.handlers.{'_'.join(word.lower() for word in words)}.lambda_handler"
    assert function_properties(function)["Handler"] == expected


@pytest.mark.parametrize(
    "function",
    [name for name in _functions() if name not in ("ApiFunction", "AnchorAuditFunction")],
)
def test_each_function_s_service_module_bears_its_name(function: str) -> None:
    # The API's services are its resources'; the anchor is the audit service's. The others run
    # one service each, in the module of the function's name.
    handler = function_properties(function)["Handler"]
    name = handler.removeprefix("cloison.handlers.").removesuffix(".lambda_handler")
    assert (ROOT / "functions" / "cloison" / "services" / f"{name}.py").is_file()


@pytest.mark.parametrize("function", _functions())
def test_every_handler_imports_to_a_callable(function: str) -> None:
    # Given the function's handler as the template names it
    handler = function_properties(function)["Handler"]
    module_name, _, attribute = handler.rpartition(".")

    # When it is imported as Lambda would
    target = getattr(importlib.import_module(module_name), attribute, None)

    # Then it is a callable
    assert callable(target), f"{function}: {handler} is not a callable"


@pytest.mark.parametrize("function", _functions())
def test_every_function_is_built_from_the_one_package_directory(function: str) -> None:
    # Given the function's own properties and the template's Globals
    code_uri = template()["Globals"]["Function"].get("CodeUri")

    # When its code is looked for
    # Then it is the shared package directory, set once in Globals
    assert code_uri == "functions/"
    assert "CodeUri" not in properties_of(function)


# ---------------------------------------------------------------- API


def _template_routes() -> set[tuple[str, str]]:
    return {
        (str(properties["Method"]).upper(), properties["Path"])
        for _, _, properties in _events("Api")
    }


def _resolver_routes() -> set[tuple[str, str]]:
    from cloison.http.app import app, include_all_routes

    include_all_routes()
    return {
        (route.method.upper(), re.sub(r"<(\w+)>", r"{\1}", route.path))
        for route in (*app._static_routes, *app._dynamic_routes)
    }


def test_every_template_route_loads_the_routes_that_serve_it() -> None:
    # Given the API's routes as the template declares them, and the map by which a request
    # loads its resource's routes
    import importlib

    from cloison.http.app import ROUTERS

    # When each route's first path segment is looked up there
    for method, path in _template_routes() - {("GET", "/health"), ("GET", "/openapi.json")}:
        module = ROUTERS.get(path.strip("/").split("/", 1)[0])
        assert module is not None, f"{method} {path} loads no routes"
        router = importlib.import_module(f"cloison.http.routes.{module}").router
        served = {
            (verb, re.sub(r"<(\w+)>", r"{\1}", key[0])) for key in router._routes for verb in key[1]
        }

        # Then the routes it loads serve it
        assert (method, path) in served, f"{method} {path} is not in routes/{module}.py"


def test_every_template_route_is_served_by_the_resolver() -> None:
    # Given the API events of the template
    declared = _template_routes()

    # When the routes registered on the Powertools resolver are read
    served = _resolver_routes()

    # Then each declared method and path has a handler
    assert declared - served == set()


def test_every_resolver_route_is_declared_in_the_template() -> None:
    # Given the routes registered on the Powertools resolver
    served = _resolver_routes()

    # When they are compared with the template's API events
    declared = _template_routes()

    # Then none is left out of API Gateway
    assert served - declared == set()


def test_only_health_openapi_and_signup_are_public() -> None:
    # Given every API event
    events = _events("Api")

    # When their authorizers are read
    public = {
        (str(p["Method"]).upper(), p["Path"])
        for _, _, p in events
        if p.get("Auth", {}).get("Authorizer") == "NONE"
    }

    # Then exactly the health check, the OpenAPI document and the sign-up page's two routes skip
    # authorization
    assert public == PUBLIC_ROUTES
    for _, _, properties in events:
        if (str(properties["Method"]).upper(), properties["Path"]) in PUBLIC_ROUTES:
            assert properties["Auth"] == {"Authorizer": "NONE"}


def test_every_other_route_uses_the_cognito_authorizer_with_both_scopes() -> None:
    # Given the API the events belong to and its authorizers
    user_pools = resources_of("AWS::Cognito::UserPool")
    for function, name, properties in _events("Api"):
        if (str(properties["Method"]).upper(), properties["Path"]) in PUBLIC_ROUTES:
            continue
        api_id = target_of(properties["RestApiId"])
        assert api_id in resources_of("AWS::Serverless::Api"), f"{function}.{name}"
        auth = properties_of(api_id)["Auth"]

        # When the authorizer that applies to the route is resolved
        authorizer_name = properties.get("Auth", {}).get("Authorizer", auth["DefaultAuthorizer"])
        authorizer = auth["Authorizers"][authorizer_name]
        scopes = properties.get("Auth", {}).get(
            "AuthorizationScopes", authorizer.get("AuthorizationScopes", [])
        )

        # Then it is a Cognito user pool authorizer asking for both scopes
        assert target_of(authorizer["UserPoolArn"]) in user_pools, f"{function}.{name}"
        assert set(scopes) >= REQUIRED_SCOPES, f"{function}.{name}"


# ---------------------------------------------------------------- queues and topics


@pytest.mark.parametrize(
    "queue", sorted(set(resources_of("AWS::SQS::Queue")) - _dead_letter_queues())
)
def test_every_queue_but_a_dead_letter_queue_is_consumed_and_redrives_to_one(queue: str) -> None:
    # Given a queue of the template that no failure is sent to
    # When its consumers and its redrive policy are read
    redrive = properties_of(queue).get("RedrivePolicy")

    # Then a function polls it, and poison messages go to a dead-letter queue after a few receives
    assert queue in _consumed_queues(), f"{queue}: no function polls it"
    assert redrive is not None, f"{queue} has no RedrivePolicy"
    assert target_of(redrive["deadLetterTargetArn"]) in _dead_letter_queues()
    assert 1 <= int(redrive["maxReceiveCount"]) <= 10


@pytest.mark.parametrize("queue", sorted(_dead_letter_queues()))
def test_every_dead_letter_queue_is_the_end_of_the_line_and_alarms_its_first_message(
    queue: str,
) -> None:
    # Given a queue failures are sent to
    # When the alarms watching it are collected
    alarms = [
        properties
        for properties in (properties_of(alarm) for alarm in resources_of("AWS::CloudWatch::Alarm"))
        if properties.get("Namespace") == "AWS/SQS"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        in properties.get("Dimensions", [])
    ]

    # Then nobody polls it and it passes nothing on: a person reads what it holds
    assert queue not in _consumed_queues()
    assert "RedrivePolicy" not in properties_of(queue)
    # And one alarm goes off as soon as it holds a message, notifying the operators' topic
    assert len(alarms) == 1, f"{queue}: {len(alarms)} alarms"
    (alarm,) = alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Maximum",
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == {
        "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }


@pytest.mark.parametrize(("function", "event"), [(f, e) for f, e, _ in _events("SQS")])
def test_every_sqs_event_reports_partial_batch_failures(function: str, event: str) -> None:
    # Given an SQS event source of a function
    properties = properties_of(function)["Events"][event]["Properties"]

    # When its response types are read
    response_types = properties.get("FunctionResponseTypes")

    # Then one failed record does not send the whole batch back
    assert response_types == ["ReportBatchItemFailures"]


def test_every_dead_letter_queue_keeps_messages_fourteen_days() -> None:
    # Given the queues that some redrive policy points at
    dead_letter_queues = _dead_letter_queues()
    assert dead_letter_queues

    # When their retention is read
    retention = {
        queue: properties_of(queue).get("MessageRetentionPeriod") for queue in dead_letter_queues
    }

    # Then each keeps its messages as long as SQS allows
    assert retention == dict.fromkeys(dead_letter_queues, FOURTEEN_DAYS)


@pytest.mark.parametrize("queue", sorted(resources_of("AWS::SQS::Queue")))
def test_every_queue_is_encrypted(queue: str) -> None:
    # Given a queue of the template
    properties = properties_of(queue)

    # When its encryption settings are read
    managed = properties.get("SqsManagedSseEnabled") is True
    with_key = "KmsMasterKeyId" in properties

    # Then it is encrypted at rest
    assert managed or with_key


@pytest.mark.parametrize("topic", sorted(resources_of("AWS::SNS::Topic")))
def test_every_topic_lands_in_an_sqs_queue(topic: str) -> None:
    # Given a topic of the template
    queues = resources_of("AWS::SQS::Queue")

    # When its subscriptions are collected
    subscriptions = [
        subscription.get("Properties", {})
        for subscription in resources_of("AWS::SNS::Subscription").values()
        if target_of(subscription.get("Properties", {}).get("TopicArn")) == topic
    ]

    # Then an SQS subscription with its own dead-letter queue takes every message: raw, but
    # for the replies, whose SNS envelope dates them (STOP and START are ordered by it)
    assert subscriptions, f"{topic} has no subscription"
    for subscription in subscriptions:
        assert subscription["Protocol"] == "sqs"
        assert target_of(subscription["Endpoint"]) in queues
        raw = subscription["RawMessageDelivery"] in (True, "true")
        assert raw is (topic != "InboundTopic")
        assert target_of(subscription["RedrivePolicy"]["deadLetterTargetArn"]) in queues


def test_no_function_is_triggered_by_sns() -> None:
    # Given every function of the template
    # When the SNS events are collected
    sns_events = _events("SNS")

    # Then there are none: SNS always lands in SQS first
    assert sns_events == []


# ---------------------------------------------------------------- observability and stages


@pytest.mark.parametrize("function", _functions())
def test_every_function_has_its_log_group_with_retention(function: str) -> None:
    # Given the log groups of the template
    log_groups = resources_of("AWS::Logs::LogGroup").values()

    # When the one named after the function is looked up
    own = [
        group.get("Properties", {})
        for group in log_groups
        if group.get("Properties", {}).get("LogGroupName")
        == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    ]

    # Then it exists once and expires its events
    assert len(own) == 1, f"{function} has {len(own)} log groups"
    assert "RetentionInDays" in own[0]


def test_globals_trace_and_configure_powertools() -> None:
    # Given the template's function Globals
    function_globals = template()["Globals"]["Function"]

    # When tracing and the environment are read
    variables = function_globals["Environment"]["Variables"]

    # Then every function is traced and Powertools knows its service, level and namespace
    assert function_globals["Tracing"] == "Active"
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE"):
        assert variables.get(name), name


def test_stage_is_dev_or_prod_with_settings_for_both() -> None:
    # Given the template's parameters and mappings
    sections = template()

    # When the stage parameter and the stage settings are read
    allowed = sections["Parameters"]["Stage"]["AllowedValues"]
    settings = sections["Mappings"]["StageSettings"]

    # Then exactly dev and prod are allowed, each with the same settings
    assert sorted(allowed) == ["dev", "prod"]
    assert set(settings) >= {"dev", "prod"}
    assert set(settings["dev"]) == set(settings["prod"])


# ---------------------------------------------------------------- tables


@pytest.mark.parametrize("table", sorted(resources_of("AWS::DynamoDB::Table")))
def test_tables_expire_items_except_opt_outs_and_audit(table: str) -> None:
    # Given a table and the tables whose records are kept
    kept = {_global_variable_target(name) for name in KEPT_TABLE_VARIABLES}

    # When its time-to-live setting is read
    ttl = properties_of(table).get("TimeToLiveSpecification", {})

    # Then it expires items unless it holds opt-outs or the audit trail
    if table in kept:
        assert ttl.get("Enabled") is not True
    else:
        assert ttl.get("Enabled") is True
        assert ttl.get("AttributeName")


@pytest.mark.parametrize("table", sorted(resources_of("AWS::DynamoDB::Table")))
def test_tables_have_point_in_time_recovery_and_encryption(table: str) -> None:
    # Given a table of the template
    properties = properties_of(table)

    # When its recovery and encryption settings are read
    pitr = properties.get("PointInTimeRecoverySpecification", {})
    sse = properties.get("SSESpecification", {})

    # Then both are on
    assert pitr.get("PointInTimeRecoveryEnabled") is True
    assert sse.get("SSEEnabled") is True


# ---------------------------------------------------------------- reply vault, key and secret


def _reply_bucket() -> str:
    return _global_variable_target("REPLY_BUCKET")


def _data_key() -> str:
    return _global_variable_target("DATA_KEY_ARN")


def test_reply_bucket_blocks_public_access_and_keeps_versions() -> None:
    # Given the reply bucket
    properties = properties_of(_reply_bucket())

    # When its public access block and versioning are read
    block = properties["PublicAccessBlockConfiguration"]
    versioning = properties["VersioningConfiguration"]

    # Then all four blocks are on and versioning is enabled
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert versioning["Status"] == "Enabled"


def test_reply_bucket_is_encrypted_with_the_data_key() -> None:
    # Given the reply bucket
    encryption = properties_of(_reply_bucket())["BucketEncryption"]

    # When its default encryption rules are read
    defaults = [
        rule["ServerSideEncryptionByDefault"]
        for rule in encryption["ServerSideEncryptionConfiguration"]
    ]

    # Then objects are encrypted with the stack's KMS key
    assert any(
        default["SSEAlgorithm"] == "aws:kms" and target_of(default["KMSMasterKeyID"]) == _data_key()
        for default in defaults
    )


@pytest.mark.parametrize("prefix", ["replies/", "quarantine/"])
def test_reply_bucket_expires_replies_after_the_retention_parameter(prefix: str) -> None:
    # Given the reply bucket's lifecycle rules
    rules = properties_of(_reply_bucket())["LifecycleConfiguration"]["Rules"]

    # When the rule for the prefix is looked up
    matching = [
        rule for rule in rules if rule.get("Prefix", rule.get("Filter", {}).get("Prefix")) == prefix
    ]

    # Then it is enabled and expires objects after ReplyRetentionDays
    assert len(matching) == 1
    assert matching[0]["Status"] == "Enabled"
    assert matching[0]["ExpirationInDays"] == {"Ref": "ReplyRetentionDays"}
    assert "ReplyRetentionDays" in template()["Parameters"]


def test_reply_bucket_policy_denies_insecure_transport() -> None:
    # Given the policies of the reply bucket
    policies = [
        properties["PolicyDocument"]
        for properties in (r["Properties"] for r in resources_of("AWS::S3::BucketPolicy").values())
        if target_of(properties["Bucket"]) == _reply_bucket()
    ]

    # When their deny statements are read
    denials = [
        statement
        for policy in policies
        for statement in policy["Statement"]
        if statement["Effect"] == "Deny"
    ]

    # Then one refuses every request made without TLS
    assert any(
        str(statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower()
        == "false"
        for statement in denials
    )


@pytest.mark.parametrize("key", sorted(resources_of("AWS::KMS::Key")))
def test_kms_keys_rotate(key: str) -> None:
    # Given a KMS key of the template
    properties = properties_of(key)
    # When its rotation setting is read
    rotation = properties.get("EnableKeyRotation")

    # Then it rotates, if KMS rotates keys of its kind: "automatic key rotation is supported
    # only on symmetric encryption KMS keys" (AWS KMS developer guide, "Rotating keys")
    if properties.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT":
        assert rotation is True
    else:
        assert rotation is None


def test_pepper_secret_is_generated_and_encrypted_with_the_data_key() -> None:
    # Given the secret the functions read the pepper from
    secret = _global_variable_target("PEPPER_SECRET_ARN")
    assert template()["Resources"][secret]["Type"] == "AWS::SecretsManager::Secret"

    # When its properties are read
    properties = properties_of(secret)

    # Then no one typed it: it is generated, and sealed with the stack's key
    assert "GenerateSecretString" in properties
    assert "SecretString" not in properties
    assert target_of(properties["KmsKeyId"]) == _data_key()


# ---------------------------------------------------------------- people's sign-in


def test_people_sign_in_with_a_password_in_every_stage_and_never_with_srp() -> None:
    # Given the app client people sign in with (the console, the command line)
    client = properties_of("UserPoolClient")

    # Then it is public (a browser keeps no secret) and takes the same flows in every stage:
    # a password, which the pool's compromised-credentials check sees, and the refresh token
    assert client["GenerateSecret"] is False
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    # And no other client of the pool lets a person sign in without a secret
    for logical_id, other in resources_of("AWS::Cognito::UserPoolClient").items():
        if logical_id != "UserPoolClient":
            assert other["Properties"].get("GenerateSecret") is True, logical_id
    # And a refresh token lasts a working day at most, and is revoked on signing out
    assert client["TokenValidityUnits"]["RefreshToken"] == "hours"
    assert client["RefreshTokenValidity"] <= 12
    assert client["EnableTokenRevocation"] is True


# ---------------------------------------------------------------- outputs


def _outputs() -> dict[str, Any]:
    return dict(template()["Outputs"])


@pytest.mark.parametrize(
    "name",
    [
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "CognitoDomain",
        "ReplyBucketName",
        "InboundTopicArn",
        "DeliveryTopicArn",
    ],
)
def test_outputs_name_what_clients_need(name: str) -> None:
    # Given the template's outputs
    # When one a client needs is looked up
    output = _outputs().get(name)

    # Then it is there with a value
    assert output is not None
    assert output.get("Value")


def _output_refs() -> set[str | None]:
    return {target_of(output["Value"]) for output in _outputs().values()}


@pytest.mark.parametrize("queue", sorted(resources_of("AWS::SQS::Queue")))
def test_every_queue_url_is_an_output(queue: str) -> None:
    # Given a queue of the template
    # When the outputs that refer to it are looked up
    refs = _output_refs()

    # Then its URL is one of them
    assert queue in refs


@pytest.mark.parametrize(
    "table",
    [table for table in sorted(resources_of("AWS::DynamoDB::Table"))],
)
def test_every_table_name_is_an_output(table: str) -> None:
    # Given a table of the template
    # When the outputs that refer to it are looked up
    refs = _output_refs()

    # Then its name is one of them
    assert table in refs


# ---------------------------------------------------------------- End User Messaging


def _delivery_destination() -> dict[str, Any]:
    configuration_set = _global_variable_target("CONFIGURATION_SET")
    assert template()["Resources"][configuration_set]["Type"] == "AWS::SMSVOICE::ConfigurationSet"
    delivery_topic = target_of(_outputs()["DeliveryTopicArn"]["Value"])
    (destination,) = [
        destination
        for destination in properties_of(configuration_set)["EventDestinations"]
        if target_of(destination["SnsDestination"]["TopicArn"]) == delivery_topic
    ]
    assert destination.get("Enabled") is True
    return destination


def test_configuration_set_publishes_what_the_delivery_path_acts_on() -> None:
    # Given the delivery path's reading of each text event type
    acted_on = {event for event in TEXT_EVENT_DESCRIPTIONS if status_of(event) is not None}
    final = {
        event
        for event in acted_on
        if (status := status_of(event)) is not None and STATUS_RANK[status] >= FINAL_RANK
    }
    # When the destination to the delivery topic is read, under each DeliveryEvents value
    condition, every_step, final_only = _delivery_destination()["MatchingEventTypes"]["Fn::If"]
    parameter = template()["Parameters"]["DeliveryEvents"]
    # Then by default it publishes the final events only: one event a message, nothing the
    # path ignores; "every-step" adds exactly the carrier's acceptance
    assert parameter["Default"] == "final"
    assert template()["Conditions"][condition] == {
        "Fn::Equals": [{"Ref": "DeliveryEvents"}, "every-step"]
    }
    assert set(final_only) == final
    assert set(every_step) == acted_on
    assert acted_on - final == {"TEXT_SUCCESSFUL"}


def test_an_opt_out_list_exists_and_is_given_to_the_functions() -> None:
    # Given the template's resources
    opt_out_lists = resources_of("AWS::SMSVOICE::OptOutList")

    # When the functions' OPT_OUT_LIST variable is resolved
    named = _global_variable_target("OPT_OUT_LIST")

    # Then it names the stack's opt-out list
    assert named in opt_out_lists


# ---------------------------------------------------------------- settings


def test_every_function_has_its_settings_model() -> None:
    assert set(SETTINGS_OF_FUNCTION) == set(_functions())


@pytest.mark.parametrize(("function", "settings"), sorted(SETTINGS_OF_FUNCTION.items()))
def test_a_function_s_environment_holds_exactly_the_settings_it_reads(
    function: str, settings: type[BaseModel]
) -> None:
    # Given the variables the function's settings model reads
    needed = {field.alias for field in settings.model_fields.values()}
    assert None not in needed

    # When the function's environment is merged with Globals (Powertools' own settings)
    environment = set(function_properties(function)["Environment"]["Variables"])
    own = {name for name in environment if not name.startswith("POWERTOOLS_")}

    # Then every one of them is defined, and nothing else: a function is given only what it uses
    assert needed - own == set(), "missing"
    assert own - needed == set(), "given but never read"
