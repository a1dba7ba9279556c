"""EnvelopeSealer under moto's KMS."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from in_process_aws import in_process_aws

from cloison.adapters.envelope import EnvelopeSealer
from cloison.errors import ContextMismatch, DataKeyRefused

CONTEXT = {"team": "sales", "campaign": "c-1"}


@pytest.fixture
def key_arns(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """Two KMS keys in moto's in-process KMS."""
    with in_process_aws(monkeypatch):
        kms = boto3.client("kms")
        yield (
            kms.create_key(Description="data keys")["KeyMetadata"]["Arn"],
            kms.create_key(Description="another key")["KeyMetadata"]["Arn"],
        )


def test_what_is_sealed_opens_in_its_own_context_only(key_arns: tuple[str, str]) -> None:
    # Given a payload sealed in a team's context
    sealer = EnvelopeSealer(key_arns[0])
    sealed = sealer.seal(b"chunk of an audience", CONTEXT)

    # Then it opens there, and in no other context
    assert b"chunk of an audience" not in sealed
    assert sealer.open(sealed, CONTEXT) == b"chunk of an audience"
    with pytest.raises(ContextMismatch):
        sealer.open(sealed, {**CONTEXT, "team": "support"})


def test_a_data_key_kms_will_not_decrypt_is_refused_by_name(key_arns: tuple[str, str]) -> None:
    # Given a payload sealed under one key, and a sealer that may use only another one
    sealed = EnvelopeSealer(key_arns[0]).seal(b"body", CONTEXT)

    # When that sealer opens it
    # Then the refusal is Cloison's own error, which the vault turns into a denied read
    with pytest.raises(DataKeyRefused):
        EnvelopeSealer(key_arns[1]).open(sealed, CONTEXT)
