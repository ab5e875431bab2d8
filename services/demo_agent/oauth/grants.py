"""The one client, the grants and the token generators of the demo authorization server.

Each is an Authlib class with the storage hooks it asks for filled in (the server's
`OAuthStore`), plus the demo's policy: loopback redirect URIs, PKCE with S256 on every
authorization request, rotating refresh tokens, single-use codes and device codes, and
RFC 9068 JWT access tokens whose audience is the agent.
"""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidRequestError,
    OAuth2Request,
    grants,
    list_to_scope,
    scope_to_list,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialDict,
)
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import KeySet

from services.demo_agent.oauth.config import A2A_SCOPE, SCOPES, DemoOAuth
from services.demo_agent.oauth.store import AuthorizationCode, DemoUser, RefreshToken

if TYPE_CHECKING:
    from services.demo_agent.oauth.server import DemoAuthorizationServer

__all__ = [
    "ALGORITHM",
    "AUTH_METHODS",
    "GRANT_TYPES",
    "AccessTokens",
    "ClientCredentialsGrant",
    "CodeGrant",
    "DemoClient",
    "DeviceAuthorization",
    "DeviceGrant",
    "IDTokens",
    "RefreshGrant",
    "RequireS256",
]

# Access and ID tokens; RS256 as OpenID Connect Discovery §3 requires of ID tokens.
ALGORITHM = "RS256"
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
# Where a public client may send its client_id alone; `DemoClient` says whether it may.
PUBLIC_AUTH_METHODS = [*AUTH_METHODS, "none"]
GRANT_TYPES = ["authorization_code", "client_credentials", "refresh_token", DEVICE_CODE_GRANT_TYPE]
CODE_LIFETIME = 120  # seconds; RFC 6749 §4.1.2 recommends at most 10 minutes
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


class DemoClient(ClientMixin):
    """The one registered client: confidential, and public too if `config` says so."""

    def __init__(self, config: DemoOAuth) -> None:
        self.config = config

    def get_client_id(self) -> str:
        return self.config.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # every authorization request names its loopback redirect URI

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return A2A_SCOPE  # RFC 6749 §3.3: a scope-less request gets the default
        return str(list_to_scope([s for s in scope_to_list(scope) if s in SCOPES]))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Any http URI on a loopback host and port (RFC 8252 §7.3): the app's port varies."""
        try:
            parts = urlsplit(redirect_uri)
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "http"
            and parts.hostname in _LOOPBACK_HOSTS
            and port is not None
            and not parts.username
            and not parts.fragment  # RFC 6749 §3.1.2
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.config.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Each grant lists the methods it takes; "none" only where a public client may.
        return method in AUTH_METHODS or (method == "none" and self.config.public_client)

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES and (
            grant_type != "refresh_token" or self.config.allow_refresh
        )


class RequireS256(CodeChallenge):
    """PKCE on every authorization request, and S256 only (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: grants.BaseGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': this server requires PKCE.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Use code_challenge_method=S256.")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    server: DemoAuthorizationServer
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.store.add_code(
            AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                user=request.user,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                nonce=data.get("nonce"),
                expires_at=time.time() + CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: ClientMixin) -> AuthorizationCode | None:
        return self.server.store.take_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        pass  # `take_code` already removed it: a code gets one attempt, right or wrong

    def authenticate_user(self, authorization_code: AuthorizationCode) -> DemoUser:
        return authorization_code.user


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS  # a confidential client only (RFC 6749 §4.4)


class RefreshGrant(grants.RefreshTokenGrant):
    server: DemoAuthorizationServer
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotate: each refresh token works once

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        return self.server.store.refresh(refresh_token)

    def authenticate_user(self, refresh_token: RefreshToken) -> DemoUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        self.server.store.revoke_refresh(refresh_token.token)


class DeviceGrant(DeviceCodeGrant):
    server: DemoAuthorizationServer
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AUTH_METHODS

    def query_device_credential(self, device_code: str) -> DeviceCredentialDict | None:
        return self.server.store.device(device_code)

    def query_user_grant(self, user_code: str) -> tuple[DemoUser, bool] | None:
        return self.server.store.decision(user_code)

    def should_slow_down(self, credential: DeviceCredentialDict) -> bool:
        return self.server.store.polled_too_soon(credential["device_code"], credential["interval"])

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        response = super().create_token_response()
        self.server.store.finish_device(self.request.credential["device_code"])
        return response


class DeviceAuthorization(DeviceAuthorizationEndpoint):
    server: DemoAuthorizationServer

    CLIENT_AUTH_METHODS = PUBLIC_AUTH_METHODS

    def __init__(self, server: DemoAuthorizationServer) -> None:
        super().__init__(server)
        self.EXPIRES_IN = server.config.device_code_lifetime

    def get_verification_uri(self) -> str:
        return self.server.endpoints.device_verification

    def save_device_credential(
        self, client_id: str, scope: str | None, data: dict[str, Any]
    ) -> None:
        self.server.store.add_device(
            DeviceCredentialDict(
                client_id=client_id,
                scope=self.server.client.get_allowed_scope(scope),
                expires_at=time.time() + data["expires_in"],
                **data,
            )
        )


# --- tokens ----------------------------------------------------------------------------


class AccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 JWT access tokens for the agent (`aud`), signed with the server's key."""

    def __init__(self, server: DemoAuthorizationServer) -> None:
        super().__init__(
            issuer=server.endpoints.issuer,
            alg=ALGORITHM,
            refresh_token_generator=lambda **_: generate_token(48),
            expires_generator=server.config.access_token_lifetime,
        )
        self.server = server

    def get_jwks(self) -> KeySet:
        return self.server.signing_keys

    def get_audiences(self, client: ClientMixin, user: DemoUser | None, scope: str) -> str:
        return self.server.endpoints.audience


class IDTokens(OpenIDCode):
    """OpenID Connect: an ID token beside the access token when the code grant asked for
    `openid`."""

    def __init__(self, server: DemoAuthorizationServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def resolve_client_private_key(self, client: ClientMixin) -> KeySet:
        return self.server.signing_keys

    def get_client_algorithm(self, client: ClientMixin) -> str:
        return ALGORITHM

    def get_client_claims(self, client: ClientMixin) -> dict[str, Any]:
        return {"iss": self.server.endpoints.issuer, "aud": [client.get_client_id()]}

    def get_encode_header(self, client: ClientMixin) -> dict[str, str]:
        return {"alg": ALGORITHM}  # the KeySet adds `kid`

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return self.server.store.nonce_pending(request.payload.client_id, nonce)

    def generate_user_info(self, user: DemoUser, scope: str) -> UserInfo:
        info = UserInfo(sub=user.get_user_id())
        if "profile" in scope_to_list(scope):
            info.update(name="Demo User", preferred_username=user.get_user_id())
        return info
