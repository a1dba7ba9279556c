"""EnvelopeSealer under moto's KMS, and where the Encryption SDK gets imported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from in_process_aws import in_process_aws

from cloison.adapters.envelope import EnvelopeSealer
from cloison.errors import ContextMismatch, DataKeyRefused

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
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


def _loaded_after(code: str) -> bool:
    """Whether the Encryption SDK is in `sys.modules` after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint('aws_encryption_sdk' in sys.modules)"
    answer = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=FUNCTIONS,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-3", "PYTHONPATH": "."},
        capture_output=True,
        text=True,
        check=True,
    )
    return answer.stdout.strip().splitlines()[-1] == "True"


def test_the_sdk_is_imported_by_the_first_seal_not_by_the_modules_or_the_sealers() -> None:
    # Given every handler imported, and sealers built as the API's services build them
    build = (
        "from cloison.handlers import api, receive_reply, reconcile_opt_outs, send_batch\n"
        "from cloison.adapters.envelope import EnvelopeSealer\n"
        "from cloison.adapters.reader_roles import ReaderRoles\n"
        "sealer = EnvelopeSealer('arn:aws:kms:eu-west-3:123456789012:key/k')\n"
        "ReaderRoles('arn:aws:iam::123456789012:role/reader-', sealer.key_arn)\n"
    )

    # Then the SDK is not loaded: routes that touch no sealed data never pay for it
    assert not _loaded_after(build)
    # And the first seal or open loads it (the probe checks itself)
    assert _loaded_after(build + "sealer._client_and_materials()\n")
