"""`--oauth`: the demo agent as its own OAuth 2 / OpenID Connect authorization server.

So the app's OAuth sign-in paths have a real server to talk to on loopback, the agent
can issue its own tokens (`DemoOAuth`) under `/oauth` and require them. Authlib does the
OAuth; this package adapts it to Starlette and keeps its state in memory.

- `config`: `DemoOAuth`, the scopes, and `OAuthEndpoints` (the URLs the card names).
- `store`: codes, device codes, decisions and refresh tokens, bounded, behind a lock.
- `grants`: the one client and Authlib's grants: authorization code with PKCE (S256)
  and OpenID Connect ID tokens, client credentials, refresh token, device code
  (RFC 8628); RFC 9068 JWT access tokens.
- `server`: Authlib's authorization server on Starlette, with the store and the
  signing key made at start.
- `routes`: the endpoints, the metadata documents (RFC 8414, OpenID Connect
  discovery), the JWKS, and the consent and device pages.
- `tokens`: `AccessTokenCheck`, how the agent verifies the access tokens it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from joserfc.jwk import KeySet
from starlette.routing import Route

from services.demo_agent.oauth.config import (
    A2A_SCOPE,
    ISSUER_PATH,
    SCOPES,
    DemoOAuth,
    OAuthEndpoints,
)
from services.demo_agent.oauth.grants import ALGORITHM
from services.demo_agent.oauth.routes import oauth_routes
from services.demo_agent.oauth.server import DemoAuthorizationServer
from services.demo_agent.oauth.tokens import AccessTokenCheck

__all__ = [
    "A2A_SCOPE",
    "ISSUER_PATH",
    "SCOPES",
    "AccessTokenCheck",
    "DemoOAuth",
    "OAuthEndpoints",
    "OAuthMount",
    "mount_oauth",
]


@dataclass(frozen=True)
class OAuthMount:
    """What the agent's app needs from the authorization server it carries."""

    routes: list[Route]  # exact paths, all open to anyone
    check: AccessTokenCheck  # what the agent's other routes require

    @property
    def open_paths(self) -> frozenset[str]:
        return frozenset(route.path for route in self.routes)


def mount_oauth(config: DemoOAuth, base_url: str) -> OAuthMount:
    """An authorization server for an agent at `base_url`, and the check for its tokens."""
    endpoints = OAuthEndpoints(base_url)
    server = DemoAuthorizationServer(config, endpoints)
    check = AccessTokenCheck(
        KeySet.import_key_set(server.public_jwks),  # what any resource server could fetch
        algorithm=ALGORITHM,
        issuer=endpoints.issuer,
        audience=endpoints.audience,
        scope=A2A_SCOPE,
    )
    return OAuthMount(routes=oauth_routes(server), check=check)
