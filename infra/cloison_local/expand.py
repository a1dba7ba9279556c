"""The SAM transform done by AWS's own translator (aws-sam-translator), as `sam deploy` does it.

The local stack, the deploy-rule tests and the least-privilege check all read the CloudFormation
that comes out, never the SAM source: what they see is what CloudFormation will be asked to
create, with each function's role as SAM writes it (policy templates and managed policies).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.feature_toggle.feature_toggle import (
    FeatureToggle,
    FeatureToggleDefaultConfigProvider,
)
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

from cloison_local.model import JsonDict
from cloison_local.origination import phone_number_id_for
from cloison_local.template import TemplateError, load_template, parameter_values

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"
# Where `sam package` leaves the code: the local stack runs functions/ from the checkout, so
# the location is only a placeholder the translator requires.
PACKAGED_CODE_URI = "s3://cloison-local-artifacts/functions.zip"
AWS_MANAGED_POLICY_PREFIX = "arn:aws:iam::aws:policy"
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# The short code of the local account (the carrier simulator's), which people write to, and
# the parameters without a default as the local stack and the template tests give them: the
# short code's ARN, as AWS names the phone number it registered.
EXAMPLE_SHORT_CODE = "36111"


def phone_number_arn(number: str) -> str:
    """The ARN AWS gives a phone number or short code it registered for the account."""
    return f"arn:aws:sms-voice:eu-west-3:123456789012:phone-number/{phone_number_id_for(number)}"


EXAMPLE_PARAMETERS = {"OriginationIdentity": phone_number_arn(EXAMPLE_SHORT_CODE)}


@cache
def aws_managed_policies() -> dict[str, JsonDict]:
    """AWS managed policies by ARN, with their documents: the copy moto ships of AWS's own.

    SAM attaches some to every function role it writes (basic execution, X-Ray, the SQS and
    stream pollers'); the least-privilege check reads what they grant from here.
    """
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies: dict[str, JsonDict] = {}
    for name, data in json.loads(aws_managed_policies_data).items():
        arn = f"{AWS_MANAGED_POLICY_PREFIX}{data['Path']}{name}"
        policies[arn] = data["Document"]
    return policies


class _ManagedPolicyLoader:
    """Managed policy names to ARNs, for a template that names a policy without its ARN."""

    def load(self) -> dict[str, str]:
        return {arn.rsplit("/", 1)[1]: arn for arn in aws_managed_policies()}


def _packaged(template: JsonDict) -> JsonDict:
    """The template as `sam package` leaves it: every local `CodeUri` an S3 URI."""
    packaged = copy.deepcopy(template)
    function_globals = packaged.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = PACKAGED_CODE_URI
    for resource in packaged["Resources"].values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(
            properties.get("CodeUri"), str
        ):
            properties["CodeUri"] = PACKAGED_CODE_URI
    return packaged


def expand(template: JsonDict, parameters: Mapping[str, Any], region: str) -> JsonDict:
    """The CloudFormation template that `sam deploy` would hand CloudFormation.

    A template without the serverless transform is returned as it is. A SAM error (an unknown
    property, a bad event) fails with the translator's own message, as `sam deploy` would.
    """
    if template.get("Transform") != SERVERLESS_TRANSFORM:
        return template
    # The translator warns about each feature toggle it looks up in an empty configuration.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    # The same steps as samtranslator.translator.transform.transform, the SAM CLI's entry point,
    # with the region given rather than read from the environment.
    packaged, values = _packaged(template), dict(parameters)
    to_py27_compatible_template(packaged, values)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        expanded: JsonDict = translator.translate(
            packaged,
            parameter_values=values,
            feature_toggle=FeatureToggle(
                FeatureToggleDefaultConfigProvider(), stage=None, account_id=None, region=region
            ),
            get_managed_policy_map=_ManagedPolicyLoader().load,
        )
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        raise TemplateError(f"the SAM transform refused the template: {causes}") from exc
    return dict(undo_mark_unicode_str_in_template(expanded))


def role_statements(expanded: JsonDict, role: str) -> list[JsonDict]:
    """Every statement of a role's inline policies in the expanded template (SAM's policy
    templates and `Statement` policies alike); its managed policies are not included."""
    properties = expanded["Resources"][role]["Properties"]
    statements: list[JsonDict] = []
    for policy in properties.get("Policies", []):
        found = policy["PolicyDocument"]["Statement"]
        statements.extend(found if isinstance(found, list) else [found])
    return statements


@cache
def expanded_template(stage: str = "dev", region: str = "eu-west-3") -> JsonDict:
    """template.yaml as `sam deploy --parameter-overrides Stage=<stage>` expands it."""
    template = load_template(TEMPLATE)
    parameters = parameter_values(template, {**EXAMPLE_PARAMETERS, "Stage": stage})
    return expand(template, parameters, region)


def placeholder_resources(
    expanded: JsonDict,
    parameters: Mapping[str, Any] | None = None,
    *,
    stack_name: str = "cloison-dev",
    region: str = "eu-west-3",
    account: str = "123456789012",
) -> dict[str, JsonDict]:
    """The expanded template's resources, intrinsics resolved with placeholders (`Ref X` is
    `X`, `GetAtt X.Y` is `X.Y`), those whose condition is false left out: what each resource
    says, readable without creating anything."""
    from cloison_local.template import Resolver

    values = parameter_values(expanded, {**EXAMPLE_PARAMETERS, **(parameters or {})})
    resolver = Resolver(
        template=expanded,
        parameters=values,
        pseudo={
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/id",
        },
        ref=lambda logical_id: logical_id,
        get_att=lambda logical_id, attribute: f"{logical_id}.{attribute}",
    )
    return {
        logical_id: {**resource, "Properties": resolver.resolve(resource.get("Properties", {}))}
        for logical_id, resource in expanded["Resources"].items()
        if "Condition" not in resource or resolver.condition(resource["Condition"])
    }


def function_properties(logical_id: str, stage: str = "dev") -> JsonDict:
    """A function's properties once expanded: Globals merged in, as SAM merges them."""
    return dict(expanded_template(stage)["Resources"][logical_id]["Properties"])
