"""The agent's side of OAuth: `AccessTokenCheck`, a bearer JWT check for `RequireCredentials`.

The agent is the resource server of RFC 9068: it takes `Authorization: Bearer <JWT>`,
verifies the signature against the authorization server's public keys (joserfc), then the
type (`at+jwt`, so an ID token signed with the same key is no access token), issuer,
audience and expiry (with a second of leeway: issuer and agent share one clock, so it
only absorbs rounding to whole seconds), and last the scope. RFC 6750 §3.1
says how to refuse: 401 `invalid_token`, or 403 `insufficient_scope` naming the scope.
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from starlette.datastructures import Headers

from services.demo_agent.auth import REALM, Refusal

__all__ = ["LEEWAY", "AccessTokenCheck"]

LEEWAY = 1  # seconds an `exp` may be past (see above)


class AccessTokenCheck:
    """A `CredentialCheck`: the token's `sub`, or the refusal RFC 6750 describes."""

    def __init__(
        self, keys: KeySet, *, algorithm: str, issuer: str, audience: str, scope: str
    ) -> None:
        self._keys = keys
        self._algorithm = algorithm
        self._scope = scope
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )

    def __call__(self, headers: Headers) -> str | Refusal:
        authorization = headers.get("authorization", "")
        kind, _, token = authorization.partition(" ")
        if not authorization:
            # RFC 6750 §3.1: no error code when the request had no credentials at all.
            return Refusal(
                error="missing credentials",
                challenge=f'Bearer realm="{REALM}", scope="{self._scope}"',
                description=f"Send Authorization: Bearer <an access token with {self._scope}>.",
            )
        if kind.lower() != "bearer" or not token.strip():
            return self._invalid("Send the access token as Authorization: Bearer <token>.")
        claims = self._verified_claims(token.strip())
        if isinstance(claims, Refusal):
            return claims
        if self._scope not in str(claims.get("scope", "")).split():
            return Refusal(
                error="insufficient_scope",
                challenge=(
                    f'Bearer realm="{REALM}", error="insufficient_scope", '
                    f'error_description="The access token lacks the {self._scope} scope.", '
                    f'scope="{self._scope}"'
                ),
                status_code=403,
                description=f"The access token lacks the {self._scope} scope.",
            )
        return str(claims["sub"])

    def _verified_claims(self, token: str) -> dict[str, Any] | Refusal:
        try:
            decoded = jwt.decode(token, self._keys, algorithms=[self._algorithm])
        except (JoseError, ValueError, TypeError):  # malformed, another key, a bad signature
            return self._invalid("The access token is not a JWT signed by this server.")
        if str(decoded.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            return self._invalid("The token is not an access token (typ at+jwt).")
        try:
            self._claims.validate(decoded.claims)
        except ExpiredTokenError:
            return self._invalid("The access token expired.")
        except JoseError as error:
            claim = getattr(error, "claim", "")
            return self._invalid(f"The access token's {claim} claim is not accepted here.")
        return decoded.claims

    def _invalid(self, description: str) -> Refusal:
        return Refusal(
            error="invalid_token",
            challenge=(
                f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
            ),
            description=description,
        )
