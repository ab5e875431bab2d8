"""`DemoOAuth`, the demo authorization server's settings, and `OAuthEndpoints`, its URLs.

Apart from the server so the card can name the endpoints without building a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["A2A_SCOPE", "ISSUER_PATH", "SCOPES", "DemoOAuth", "OAuthEndpoints"]

A2A_SCOPE = "a2a:call"  # what the agent requires of an access token
# Every scope the server grants, with the sentence the card and the consent page show.
SCOPES: dict[str, str] = {
    A2A_SCOPE: "Call the A2A Demo Agent: send messages, read and cancel tasks",
    "openid": "Sign in with OpenID Connect (an ID token)",
    "profile": "Your name",
    "offline_access": "Stay signed in (a refresh token)",
}
ISSUER_PATH = "/oauth"  # the issuer is `{base_url}/oauth`; its endpoints live below it


@dataclass(frozen=True)
class DemoOAuth:
    """The demo agent as its own OAuth 2 / OpenID Connect authorization server.

    One client (`client_id`, `client_secret`) and one resource owner (`user`), who
    consents on the server's pages without signing in: a loopback demo, not an identity
    provider. The secret stays out of `repr`.
    """

    client_id: str = "demo-client"
    client_secret: str = field(default="demo-secret", repr=False)
    access_token_lifetime: int = 300  # seconds
    allow_refresh: bool = True  # refresh tokens for the code and device grants
    # The code (with PKCE) and device grants also take `client_id` alone, as from a
    # public client (token_endpoint_auth_method "none"); client credentials never do.
    public_client: bool = True
    device_code_lifetime: int = 600  # seconds a device code waits for approval
    user: str = "demo-user"  # the one resource owner, `sub` of user tokens

    def __post_init__(self) -> None:
        if not (self.client_id and self.client_secret and self.user):
            raise ValueError("DemoOAuth needs a client_id, a client_secret and a user")
        if self.access_token_lifetime < 1 or self.device_code_lifetime < 1:
            raise ValueError("DemoOAuth lifetimes are whole seconds, at least 1")


@dataclass(frozen=True)
class OAuthEndpoints:
    """The authorization server's URLs for an agent served at `base_url`."""

    base_url: str

    @property
    def issuer(self) -> str:
        return f"{self.base_url.rstrip('/')}{ISSUER_PATH}"

    @property
    def authorization(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def token(self) -> str:
        return f"{self.issuer}/token"

    @property
    def device_authorization(self) -> str:
        return f"{self.issuer}/device_authorization"

    @property
    def device_verification(self) -> str:
        return f"{self.issuer}/device"

    @property
    def jwks(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def metadata(self) -> str:
        """RFC 8414 §3.1: the well-known suffix goes before the issuer's path."""
        return f"{self.base_url.rstrip('/')}/.well-known/oauth-authorization-server{ISSUER_PATH}"

    @property
    def openid_configuration(self) -> str:
        """OpenID Connect Discovery 1.0 §4: the suffix goes after the issuer."""
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def audience(self) -> str:
        """The `aud` of the access tokens (RFC 9068 §3): the agent itself."""
        return self.base_url.rstrip("/")
