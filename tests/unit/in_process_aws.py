"""The template's tables in moto's in-process AWS, for the unit tests of the stores."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sam_template import template

from cloison.adapters import aws


def resources() -> dict[str, Any]:
    return dict(template()["Resources"])


@contextmanager
def in_process_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in this process, with test credentials, and the adapters' cached clients renewed."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        renew_clients()
        yield
    renew_clients()


def renew_clients() -> None:
    """The adapters' cached clients forgotten: the next call makes one for the AWS of the time."""
    for client in (aws.dynamodb, aws.s3, aws.kms, aws.sts):
        client.cache_clear()


def create_tables(tables: Mapping[str, str]) -> None:
    """Creates each table (name -> logical id) with the keys and indexes the template gives it."""
    client = boto3.client("dynamodb")
    for name, logical_id in tables.items():
        properties = resources()[logical_id]["Properties"]
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            **{
                option: properties[option]
                for option in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                if option in properties
            },
            **(
                {
                    "StreamSpecification": {
                        "StreamEnabled": True,
                        **properties["StreamSpecification"],
                    }
                }
                if "StreamSpecification" in properties
                else {}
            ),
        )
