"""Verifying the JWT an agent may send with a push notification, against its JWKS.

A2A lets an agent sign each notification: `Authorization: Bearer <JWT>`, signed with a key
it publishes as a JWKS (a JSON Web Key Set at a URL). The token in the config proves the
sender holds a secret the app handed out; a verified JWT also proves which agent's key
signed this very notification. PyJWT does the JOSE work (it is what a2a-sdk's `signing`
extra uses, and it is well kept); this module adds what a webhook needs around it:

- the JWKS fetched with httpx (short timeout, no redirects, at most 64 KB) and cached for
  five minutes, a failed fetch for 30 s, so a flood of deliveries is not a flood of fetches;
  an unknown `kid` refetches the set at most every 30 s (the agent rotated its keys);
- asymmetric algorithms only (no `none`, no HMAC: the app shares no key with the agent);
- the JWT must carry `exp` or `iat`; with `iat` alone it is good for five minutes (the
  A2A samples sign `iat` only); `aud` must match when the config names an audience;
- a `request_body_sha256` claim (the A2A samples' way to bind the JWT to the body) must
  match the body as received or its compact JSON form.

Nothing of the JWT or the body is logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from services.formats import FileRejected, load_json

__all__ = ["ALGORITHMS", "JwtVerifier"]

log = logging.getLogger(__name__)

ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS_TRIED = 20  # a JWT without `kid` is tried against at most this many keys
LEEWAY = 30.0  # seconds of clock difference allowed between the agent and the app
IAT_ONLY_LIFETIME = 300.0  # a JWT with `iat` and no `exp` is good for this long


class _Unusable(Exception):
    """The JWKS could not be fetched or holds no usable key (the reason, for the log)."""


class JwtVerifier:
    """Checks push JWTs against the agents' JWKS, fetched once and cached.

    Args:
        timeout: seconds for one JWKS fetch, in all.
        ttl: seconds a fetched JWKS is used before it is fetched again.
        transport: an httpx transport for the fetches (None: the network).
    """

    def __init__(
        self,
        *,
        timeout: float = 3.0,
        ttl: float = 300.0,
        failed_ttl: float = 30.0,
        max_cached: int = 256,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._ttl = ttl
        self._failed_ttl = failed_ttl
        self._max_cached = max_cached
        self._clock = clock
        self._transport = transport
        # url -> (fetched at, keys or None when the fetch failed)
        self._cache: OrderedDict[str, tuple[float, jwt.PyJWKSet | None]] = OrderedDict()

    async def verify(self, token: str, *, jwks_url: str, audience: str | None, body: bytes) -> bool:
        """Whether `token` is a JWT signed by a key of `jwks_url`, unexpired, for `audience`
        (when given) and, if it says so, for this `body`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            log.info("push JWT: not a JWT")
            return False
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            log.info("push JWT: algorithm not accepted")
            return False
        keys = await self._keys(jwks_url, kid)
        if keys is None:
            return False
        candidates = [k for k in keys.keys if kid is None or k.key_id == kid][:MAX_KEYS_TRIED]
        if not candidates:
            log.info("push JWT: no key in the agent's JWKS has its kid")
            return False
        for key in candidates:
            claims = self._decode(token, key, algorithm, audience)
            if claims is not None:
                return self._fresh(claims) and _body_matches(claims, body)
        return False

    def _decode(
        self, token: str, key: jwt.PyJWK, algorithm: str, audience: str | None
    ) -> dict[str, Any] | None:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=audience,
                options={"verify_aud": audience is not None},
                leeway=LEEWAY,
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            log.info("push JWT: not verified (%s)", type(error).__name__)
            return None

    def _fresh(self, claims: dict[str, Any]) -> bool:
        """`exp` was checked by PyJWT; a JWT with `iat` alone expires IAT_ONLY_LIFETIME on."""
        if "exp" in claims:
            return True
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or isinstance(issued, bool):
            log.info("push JWT: neither exp nor iat")
            return False
        if time.time() - float(issued) > IAT_ONLY_LIFETIME + LEEWAY:
            log.info("push JWT: issued too long ago")
            return False
        return True

    async def _keys(self, url: str, kid: object) -> jwt.PyJWKSet | None:
        """The JWKS at `url`, from the cache when it is fresh (and knows `kid`)."""
        now = self._clock()
        cached = self._cache.get(url)
        if cached is not None:
            fetched_at, keys = cached
            age = now - fetched_at
            if keys is None and age < self._failed_ttl:
                return None
            known = keys is not None and (kid is None or any(k.key_id == kid for k in keys.keys))
            # A kid the set does not hold: the agent may have rotated its keys.
            if keys is not None and age < self._ttl and (known or age < self._failed_ttl):
                return keys
        try:
            keys = await self._fetch(url)
        except _Unusable as error:
            log.info("push JWT: the agent's JWKS cannot be used (%s)", error)
            keys = None
        self._cache[url] = (now, keys)
        self._cache.move_to_end(url)
        while len(self._cache) > self._max_cached:
            self._cache.popitem(last=False)
        return keys

    async def _fetch(self, url: str) -> jwt.PyJWKSet:
        try:
            async with (
                httpx.AsyncClient(
                    timeout=self._timeout, follow_redirects=False, transport=self._transport
                ) as client,
                client.stream("GET", url, headers={"accept": "application/json"}) as response,
            ):
                if response.status_code != 200:
                    raise _Unusable(f"HTTP {response.status_code}")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_JWKS_BYTES:
                        raise _Unusable("larger than 64 KB")
        except httpx.HTTPError as error:
            raise _Unusable(type(error).__name__) from error
        try:
            document = load_json(bytes(data), what="JWKS", max_bytes=MAX_JWKS_BYTES)
            return jwt.PyJWKSet.from_dict(document)
        except (FileRejected, jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise _Unusable(type(error).__name__) from error


def _body_matches(claims: dict[str, Any], body: bytes) -> bool:
    expected = claims.get("request_body_sha256")
    if expected is None:
        return True
    if not isinstance(expected, str):
        return False
    digests = {hashlib.sha256(body).hexdigest()}
    try:  # the A2A samples hash the body's compact JSON form
        compact = json.dumps(
            json.loads(body), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
        digests.add(hashlib.sha256(compact.encode()).hexdigest())
    except ValueError:
        pass
    if expected.lower() not in digests:
        log.info("push JWT: request_body_sha256 does not match the body")
        return False
    return True
