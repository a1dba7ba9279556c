"""What API Gateway's COGNITO_USER_POOLS authorizer checks of a request's token: signature
(against the pool's published keys), issuer, expiry, token use, app client and scopes."""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import jwt

from cloison_local.model import JsonDict

# Every part of the gateway logs as the gateway.
logger = logging.getLogger("cloison_local.gateway")

JWKS_FETCH_TIMEOUT_SECONDS = 5.0


class Unauthorized(Exception):
    """A token was refused; the message says why, for the log only, never for the client."""


class CognitoAuthorizer:
    """What API Gateway's COGNITO_USER_POOLS authorizer checks, against one user pool."""

    def __init__(
        self,
        cognito_endpoint_url: str,
        region: str,
        user_pool_id: str,
        app_client_ids: Iterable[str],
        client_lookup: Callable[[str], bool] | None = None,
    ) -> None:
        """`client_lookup` says whether an app client unknown so far is one of the pool's (one
        created after start, as onboarding a team does): access tokens of it are then taken."""
        endpoint = cognito_endpoint_url.rstrip("/")
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"Cognito endpoint must be http(s): {cognito_endpoint_url!r}")
        self.app_client_ids = frozenset(app_client_ids)
        if not self.app_client_ids:
            raise ValueError("a Cognito authorizer needs at least one app client id")
        self.user_pool_id = user_pool_id
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.jwks_url = f"{endpoint}/{user_pool_id}/.well-known/jwks.json"
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_lock = threading.Lock()
        self._client_lookup = client_lookup

    def authorize(self, authorization: str | None, scopes: Sequence[str] = ()) -> JsonDict:
        """Return the verified claims of the token in `authorization`, or raise Unauthorized.

        With `scopes`, an access token granting one of them is required; without, an ID token.
        """
        try:
            return self._verify(_bearer_token(authorization), scopes)
        except Unauthorized as refusal:
            logger.info("token refused for pool %s: %s", self.user_pool_id, refusal)
            raise

    def _verify(self, token: str, scopes: Sequence[str]) -> JsonDict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"unreadable token header ({type(exc).__name__})") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized("token not signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("token header has no key id")
        wants_access_token = bool(scopes)
        expected_use = "access" if wants_access_token else "id"
        try:
            claims: JsonDict = jwt.decode(
                token,
                key=self._signing_key(kid),
                algorithms=["RS256"],
                issuer=self.issuer,
                # Access tokens carry no aud; pyjwt then refuses any token that has one.
                audience=None if wants_access_token else sorted(self.app_client_ids),
                options={"require": ["exp", "iat", "iss", "sub", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"{type(exc).__name__}: {exc}") from exc

        # A route with scopes takes only access tokens; one without, only ID tokens.
        if claims["token_use"] != expected_use:
            raise Unauthorized(f"route needs an {expected_use} token")
        if wants_access_token:
            if not self._knows_client(claims.get("client_id")):
                raise Unauthorized("access token issued to an unknown app client")
            granted = claims.get("scope")
            if not isinstance(granted, str) or not set(granted.split()) & set(scopes):
                raise Unauthorized("access token grants none of the route's scopes")
        return claims

    def _knows_client(self, client_id: Any) -> bool:
        if client_id in self.app_client_ids:
            return True
        if self._client_lookup is None or not isinstance(client_id, str):
            return False
        if not self._client_lookup(client_id):
            return False
        self.app_client_ids = self.app_client_ids | {client_id}
        return True

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        with self._keys_lock:
            if kid not in self._keys:
                # Fetched once; a kid we do not know may mean the pool rotated its keys.
                self._keys = self._fetch_keys()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token signed with a key the pool does not publish")
        return key

    def _fetch_keys(self) -> dict[str, jwt.PyJWK]:
        try:
            # The scheme was checked in the constructor: only http(s) reaches here.
            with urllib.request.urlopen(  # noqa: S310
                self.jwks_url, timeout=JWKS_FETCH_TIMEOUT_SECONDS
            ) as response:
                key_set = jwt.PyJWKSet.from_json(response.read().decode("utf-8"))
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise Unauthorized(f"pool keys unavailable ({type(exc).__name__})") from exc
        logger.debug("fetched %d signing keys for pool %s", len(key_set.keys), self.user_pool_id)
        return {key.key_id: key for key in key_set.keys if key.key_id}


def _bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise Unauthorized("no Authorization header")
    token = authorization.strip()
    scheme, _, rest = token.partition(" ")
    if rest and scheme.lower() == "bearer":
        token = rest.strip()
    if not token or " " in token:
        raise Unauthorized("Authorization header is not a token")
    return token
