"""Envelope encryption with the AWS Encryption SDK under the stack's KMS key, data keys cached.

The SDK (with `cryptography`, about a third of a boto3 import) is imported when a sealer first
seals or opens, not when this module is imported nor when a sealer is built: the API's routes
that touch no sealed data never load it.
"""

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, Self

import botocore.session

from cloison.config import DataKey
from cloison.errors import ContextMismatch, DataKeyRefused

if TYPE_CHECKING:
    import aws_encryption_sdk

CACHE_CAPACITY = 100
CACHE_MAX_AGE_SECONDS = 300.0
CACHE_MAX_MESSAGES = 500
# Set by the replies benchmark only (never by the template): "1" gives every message a data key
# of its own, to measure the same run without the cache.
CACHE_MAX_MESSAGES_OVERRIDE = "CLOISON_BENCH_DATA_KEY_MAX_MESSAGES"


class Sealer(Protocol):
    def seal(self, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def open(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes: ...


def data_key_cache() -> "aws_encryption_sdk.LocalCryptoMaterialsCache":
    import aws_encryption_sdk  # here, not at the top: see the docstring

    return aws_encryption_sdk.LocalCryptoMaterialsCache(capacity=CACHE_CAPACITY)


class EnvelopeSealer:
    """Seals data under a data key bound to an encryption context, and opens it only in that context."""

    @classmethod
    def from_settings(cls, config: DataKey) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.data_key_arn)

    def __init__(
        self,
        key_arn: str,
        *,
        botocore_session: botocore.session.Session | None = None,
        cache: "aws_encryption_sdk.LocalCryptoMaterialsCache | None" = None,
        partition: str | None = None,
    ) -> None:
        """`botocore_session` gives KMS other credentials than the function's own (a reader
        role's); sealers given the same `cache` and `partition` share their data keys."""
        self.key_arn = key_arn
        self._botocore_session = botocore_session
        self._cache = cache
        self._partition = partition
        self._sdk: (
            tuple[
                aws_encryption_sdk.EncryptionSDKClient,
                aws_encryption_sdk.CachingCryptoMaterialsManager,
            ]
            | None
        ) = None
        self._lock = threading.Lock()

    def _client_and_materials(
        self,
    ) -> tuple[
        "aws_encryption_sdk.EncryptionSDKClient", "aws_encryption_sdk.CachingCryptoMaterialsManager"
    ]:
        """The SDK's client and caching materials manager, built at the first seal or open."""
        with self._lock:
            if self._sdk is None:
                import aws_encryption_sdk  # at first use: see the docstring
                from aws_encryption_sdk.identifiers import CommitmentPolicy

                provider = (
                    aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[self.key_arn])
                    if self._botocore_session is None
                    else aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
                        key_ids=[self.key_arn], botocore_session=self._botocore_session
                    )
                )
                materials = aws_encryption_sdk.CachingCryptoMaterialsManager(
                    master_key_provider=provider,
                    cache=self._cache if self._cache is not None else data_key_cache(),
                    partition_name=self._partition.encode() if self._partition else None,
                    max_age=CACHE_MAX_AGE_SECONDS,
                    max_messages_encrypted=int(
                        os.environ.get(CACHE_MAX_MESSAGES_OVERRIDE, CACHE_MAX_MESSAGES)
                    ),
                )
                client = aws_encryption_sdk.EncryptionSDKClient(
                    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
                )
                self._sdk = (client, materials)
            return self._sdk

    def seal(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        from aws_encryption_sdk.identifiers import Algorithm

        client, materials = self._client_and_materials()
        ciphertext, _ = client.encrypt(
            source=plaintext,
            materials_manager=materials,
            encryption_context=dict(context),
            # Key-committing suite without a signature: what is sealed is opened by the service
            # that sealed it, so the ECDSA signature (12x slower per message) buys nothing here.
            algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        )
        return bytes(ciphertext)

    def open(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        """Raises `DataKeyRefused` when KMS will not decrypt the data key with these credentials,
        `ContextMismatch` when the ciphertext was sealed in another context."""
        from aws_encryption_sdk.exceptions import DecryptKeyError

        client, materials = self._client_and_materials()
        try:
            plaintext, header = client.decrypt(source=ciphertext, materials_manager=materials)
        except DecryptKeyError as exc:
            raise DataKeyRefused("KMS did not decrypt the data key") from exc
        stored = header.encryption_context
        if any(stored.get(key) != value for key, value in context.items()):
            raise ContextMismatch("the ciphertext belongs to another context")
        return bytes(plaintext)
