"""What template.yaml promises about the audit trail: a locked bucket and an append-only table."""

from __future__ import annotations

from typing import Any

import pytest
from sam_template import properties_of, template

from cloison_local.expand import function_properties, role_statements


def _functions() -> list[str]:
    return sorted(
        logical_id
        for logical_id, resource in template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    )


def _statements(function: str) -> list[dict[str, Any]]:
    """Every statement of the function's execution role (`<Function>Role`, in the template)."""
    return role_statements(template(), f"{function}Role")


def _mentions(value: Any, logical_id: str) -> bool:
    return logical_id in repr(value)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_audit_bucket_locks_each_copy_for_the_retention_parameter() -> None:
    # Given the audit bucket
    properties = properties_of("AuditBucket")

    # When its Object Lock settings are read
    retention = properties["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]

    # Then Object Lock is on, for AuditRetentionDays, in the stage's mode
    assert properties["ObjectLockEnabled"] is True
    assert properties["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    assert retention["Days"] == {"Ref": "AuditRetentionDays"}
    assert retention["Mode"] == {
        "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "AuditLockMode"]
    }
    stages = template()["Mappings"]["StageSettings"]
    assert stages["prod"]["AuditLockMode"] == "COMPLIANCE"
    assert stages["dev"]["AuditLockMode"] == "GOVERNANCE"


def test_the_audit_bucket_is_private_versioned_encrypted_kept_and_tls_only() -> None:
    # Given the audit bucket and its policy
    resource = template()["Resources"]["AuditBucket"]
    properties = resource["Properties"]
    policy = properties_of("AuditBucketPolicy")

    # Then public access is blocked, versions kept, objects under the stack's key, and the
    # bucket outlives the stack; requests without TLS are denied
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["VersioningConfiguration"]["Status"] == "Enabled"
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert _mentions(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"], "DataKey")
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    assert policy["Bucket"] == {"Ref": "AuditBucket"}
    denials = {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}
    assert {statement["Effect"] for statement in denials.values()} == {"Deny"}
    assert denials["DenyInsecureTransport"]["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    # And no upload may land over an object of its name, not even as a new version: every
    # PutObject must say If-None-Match ("Enforce conditional writes", Amazon S3 user guide)
    overwrite = denials["DenyOverwrites"]
    assert (overwrite["Principal"], overwrite["Action"]) == ("*", "s3:PutObject")
    assert overwrite["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    assert set(denials) == {"DenyInsecureTransport", "DenyOverwrites"}


def test_only_the_audit_writers_may_sign_with_the_audit_key() -> None:
    # Given the audit key
    resource = template()["Resources"]["AuditKey"]
    properties = resource["Properties"]
    # Then it is an HMAC key, kept with the entries it signs
    assert (properties["KeySpec"], properties["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    # And its policy refuses GenerateMac to every principal but the two writers' roles, whatever
    # IAM grants them
    statements = {s["Sid"]: s for s in properties["KeyPolicy"]["Statement"]}
    deny = statements["OnlyTheAuditWritersSign"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "kms:GenerateMac")
    allowed = [str(arn["Fn::Sub"]) for arn in deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]]
    assert allowed == [
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-ApiFunctionRole-*",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-AnchorAuditFunctionRole-*",
    ]
    signers = {
        function
        for function in (
            "ApiFunction",
            "LaunchCampaignFunction",
            "SendWorkerFunction",
            "DeliveryEventsFunction",
            "MessageCountsFunction",
            "InboundFunction",
            "ReconcileOptOutsFunction",
            "AnchorAuditFunction",
        )
        for statement in _statements(function)
        if _mentions(statement["Resource"], "AuditKey") and "kms:GenerateMac" in _actions(statement)
    }
    assert signers == {"ApiFunction", "AnchorAuditFunction"}


def test_the_audit_table_keeps_its_entries() -> None:
    properties = properties_of("AuditTable")
    assert "TimeToLiveSpecification" not in properties
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert {index["IndexName"] for index in properties["GlobalSecondaryIndexes"]} == {
        "by-time",
        "by-team",
        "by-action",
    }


@pytest.mark.parametrize("function", _functions())
def test_no_function_may_delete_or_update_audit_entries(function: str) -> None:
    # Given a function's role, which attaches no managed policy
    assert not properties_of(f"{function}Role").get("ManagedPolicyArns")

    # Then no statement on the audit table or bucket allows deleting, updating or bypassing
    # the lock
    for statement in _statements(function):
        if _mentions(statement["Resource"], "AuditTable") or _mentions(
            statement["Resource"], "AuditBucket"
        ):
            assert statement["Effect"] == "Allow"
            for action in _actions(statement):
                assert not action.endswith(("*", "DeleteItem", "UpdateItem", "BatchWriteItem"))
                assert action not in (
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                    "s3:BypassGovernanceRetention",
                    "s3:PutObjectRetention",
                    "s3:PutBucketObjectLockConfiguration",
                )


def test_the_api_function_appends_to_the_audit_trail_and_copies_each_entry() -> None:
    # Given the API function's statements
    granted = {
        action
        for statement in _statements("ApiFunction")
        if _mentions(statement["Resource"], "AuditTable")
        or _mentions(statement["Resource"], "AuditBucket")
        for action in _actions(statement)
    }

    # Then it may read and append, write and read copies (by version), find and read the
    # latest anchor (by version too: a delete marker must not hide it), and nothing more
    assert granted == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "s3:PutObject",
        "s3:GetObjectVersion",
        "s3:ListBucketVersions",
    }
    variables = function_properties("ApiFunction")["Environment"]["Variables"]
    assert variables["AUDIT_BUCKET"] == {"Ref": "AuditBucket"}
    assert variables["AUDIT_TABLE"] == {"Ref": "AuditTable"}
