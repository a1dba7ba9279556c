"""The creators of who may do what: IAM roles (with their policies resolved, for the calls of
each function to be held against its role) and Cognito user pools, app clients, resource
servers, domains and groups."""

from __future__ import annotations

import json

from cloison_local.expand import aws_managed_policies
from cloison_local.iam_check import NamedPolicy
from cloison_local.model import JsonDict
from cloison_local.provision.base import Creators, Physical
from cloison_local.template import TemplateError


class IdentityCreators(Creators):
    """IAM roles and Cognito resources."""

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

    def _policy(self, logical_id: str, properties: JsonDict) -> Physical:
        """An inline policy put on roles by name, possibly another stack's (a team stack grants
        the main stack's functions its own pool): kept for the local runtime to decide with."""
        iam = self.client("iam")
        name = str(properties["PolicyName"])
        document = _versioned(properties["PolicyDocument"], logical_id)
        for role_name in properties.get("Roles", []):
            iam.put_role_policy(
                RoleName=str(role_name), PolicyName=name, PolicyDocument=json.dumps(document)
            )
            self.attached_policies.append((str(role_name), NamedPolicy(name, document)))
            for arn, policies in self.role_policies.items():
                if arn.endswith(f":role/{role_name}"):  # a role of this very stack
                    policies.append(NamedPolicy(name, document))
        return Physical(name, {})

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
