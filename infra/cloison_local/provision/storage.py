"""The creators of the resources that hold the stack's data, in moto server: KMS keys and
aliases, Secrets Manager secrets, DynamoDB tables and S3 buckets."""

from __future__ import annotations

import json
import secrets
import string

from cloison_local.model import JsonDict
from cloison_local.provision.base import Creators, Physical
from cloison_local.template import TemplateError


class StorageCreators(Creators):
    """KMS keys, secrets, DynamoDB tables, S3 buckets and their policies."""

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
