"""The demo authorization server: Authlib's `AuthorizationServer`, adapted to Starlette.

Authlib ships no Starlette integration, so `DemoAuthorizationServer` mirrors its Flask
one (`authlib.integrations.flask_oauth2`): it turns a request into Authlib's
framework-agnostic `OAuth2Request` and Authlib's answers into Starlette responses. As
Starlette reads bodies asynchronously and Authlib is synchronous, the routes read each
request in full first (`FormRequest`). Everything OAuth itself (client authentication,
PKCE, codes, the device flow, JWT access tokens, ID tokens) is Authlib's; `grants` fills
in the storage and the policy, and this module holds the store and the signing key.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    JsonPayload,
    JsonRequest,
    OAuth2Payload,
    OAuth2Request,
)
from joserfc.jwk import KeySet, RSAKey
from starlette.datastructures import Headers
from starlette.responses import Response

from services.demo_agent.oauth.config import SCOPES, DemoOAuth, OAuthEndpoints
from services.demo_agent.oauth.grants import (
    ALGORITHM,
    AccessTokens,
    ClientCredentialsGrant,
    CodeGrant,
    DemoClient,
    DeviceAuthorization,
    DeviceGrant,
    IDTokens,
    RefreshGrant,
    RequireS256,
)
from services.demo_agent.oauth.store import DemoUser, OAuthStore, RefreshToken

__all__ = ["DemoAuthorizationServer", "FormRequest"]

# Authlib's grants log each token they issue, whole, at DEBUG ("Issue token {...}"): the
# embedded server shares the app's process and logs, where a token must never appear.
logging.getLogger("authlib").setLevel(logging.INFO)

REFRESH_TOKEN_LIFETIME = 24 * 3600


@dataclass(frozen=True)
class FormRequest:
    """An HTTP request as Authlib needs it: its query and form fields already read."""

    method: str
    url: str
    headers: Headers
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]


class _Fields(OAuth2Payload):
    """Request fields as Authlib reads them: `data` has the first of each name (as
    Flask's `request.values` does), `datalist` all of them (for its repeat checks)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._data = {key: value for key, value in reversed(pairs)}  # the first one wins
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _StarletteOAuth2Request(OAuth2Request):
    def __init__(self, request: FormRequest) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self._args = _Fields(request.query).data
        self._form = _Fields(request.form).data
        self.payload = _Fields(request.query + request.form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _NoJson(JsonPayload):
    @property
    def data(self) -> dict[str, Any]:
        return {}  # no endpoint here takes JSON


class DemoAuthorizationServer(AuthorizationServer):
    """Authlib's authorization server on Starlette, for the demo client and user.

    The routes call it with a `FormRequest`; it answers with Starlette responses.
    """

    def __init__(self, config: DemoOAuth, endpoints: OAuthEndpoints) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.config = config
        self.endpoints = endpoints
        self.store = OAuthStore()
        self.user = DemoUser(config.user)
        self.client = DemoClient(config)
        # A fresh key per start: tokens die with the process, which suits a demo.
        key = RSAKey.generate_key(2048, {"use": "sig", "alg": ALGORITHM}, auto_kid=True)
        self.signing_keys = KeySet([key])  # a KeySet puts `kid` in every header
        self.public_jwks = self.signing_keys.as_dict(private=False)
        self.register_token_generator("default", AccessTokens(self))
        self.register_grant(CodeGrant, [RequireS256(required=True), IDTokens(self)])
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(RefreshGrant)
        self.register_grant(DeviceGrant)
        self.register_endpoint(DeviceAuthorization(self))

    def query_client(self, client_id: str) -> DemoClient | None:
        return self.client if client_id == self.config.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        if "refresh_token" in token:
            self.store.add_refresh(
                RefreshToken(
                    token=token["refresh_token"],
                    client_id=request.client.get_client_id(),
                    scope=token.get("scope", ""),
                    user=request.user,
                    expires_at=time.time() + REFRESH_TOKEN_LIFETIME,
                )
            )

    def create_oauth2_request(self, request: FormRequest | OAuth2Request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return _StarletteOAuth2Request(request)

    def create_json_request(self, request: FormRequest) -> JsonRequest:
        json_request = JsonRequest(request.method, request.url, request.headers)
        json_request.payload = _NoJson()
        return json_request

    def handle_response(
        self, status_code: int, payload: Any, headers: list[tuple[str, str]]
    ) -> Response:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        return Response(payload, status_code=status_code, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass  # Flask's integration sends blinker signals; nothing here listens
