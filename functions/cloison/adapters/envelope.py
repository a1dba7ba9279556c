"""Envelope encryption with the AWS Encryption SDK under the stack's KMS key, data keys cached."""

import os
from collections.abc import Mapping
from typing import Protocol

import aws_encryption_sdk
import botocore.session
from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy

from cloison.errors import ContextMismatch

# Key-committing suite without a signature: replies are read by the same service that wrote
# them, so the ECDSA signature (12x slower per message) buys nothing here.
ALGORITHM = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
CACHE_CAPACITY = 100
CACHE_MAX_AGE_SECONDS = 300.0
CACHE_MAX_MESSAGES = 500
# Set by the replies benchmark only (never by the template): "1" gives every message a data key
# of its own, to measure the same run without the cache.
CACHE_MAX_MESSAGES_OVERRIDE = "CLOISON_BENCH_DATA_KEY_MAX_MESSAGES"


class Sealer(Protocol):
    def seal(self, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def open(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes: ...


def data_key_cache() -> aws_encryption_sdk.LocalCryptoMaterialsCache:
    return aws_encryption_sdk.LocalCryptoMaterialsCache(capacity=CACHE_CAPACITY)


class EnvelopeSealer:
    """Seals data under a data key bound to an encryption context, and opens it only in that context."""

    def __init__(
        self,
        key_arn: str,
        *,
        botocore_session: botocore.session.Session | None = None,
        cache: aws_encryption_sdk.LocalCryptoMaterialsCache | None = None,
        partition: str | None = None,
    ) -> None:
        """`botocore_session` gives KMS other credentials than the function's own (a reader
        role's); sealers given the same `cache` and `partition` share their data keys."""
        self._client = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        )
        provider = (
            aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_arn])
            if botocore_session is None
            else aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
                key_ids=[key_arn], botocore_session=botocore_session
            )
        )
        self._materials = aws_encryption_sdk.CachingCryptoMaterialsManager(
            master_key_provider=provider,
            cache=cache if cache is not None else data_key_cache(),
            partition_name=partition.encode() if partition else None,
            max_age=CACHE_MAX_AGE_SECONDS,
            max_messages_encrypted=int(
                os.environ.get(CACHE_MAX_MESSAGES_OVERRIDE, CACHE_MAX_MESSAGES)
            ),
        )

    def seal(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        ciphertext, _ = self._client.encrypt(
            source=plaintext,
            materials_manager=self._materials,
            encryption_context=dict(context),
            algorithm=ALGORITHM,
        )
        return bytes(ciphertext)

    def open(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        plaintext, header = self._client.decrypt(
            source=ciphertext, materials_manager=self._materials
        )
        stored = header.encryption_context
        if any(stored.get(key) != value for key, value in context.items()):
            raise ContextMismatch("the ciphertext belongs to another context")
        return bytes(plaintext)
