"""Phone numbers as keys: HMAC-SHA256 under a secret pepper kept in Secrets Manager."""

import hashlib
import hmac
from typing import Protocol, Self

from aws_lambda_powertools.utilities import parameters

from cloison.config import Pepper

PEPPER_MAX_AGE_SECONDS = 300


class NumberHasher(Protocol):
    def key(self, e164: str) -> str: ...


class PepperedHasher:
    """Turns an E.164 number into the keyed hash that every table uses in its place."""

    @classmethod
    def from_settings(cls, config: Pepper) -> Self:
        """Built from the settings of the function that uses it."""
        return cls(config.pepper_secret_arn)

    def __init__(self, secret_arn: str) -> None:
        self._secret_arn = secret_arn

    def key(self, e164: str) -> str:
        pepper = parameters.get_secret(self._secret_arn, max_age=PEPPER_MAX_AGE_SECONDS)
        return hmac.new(str(pepper).encode(), e164.encode(), hashlib.sha256).hexdigest()
