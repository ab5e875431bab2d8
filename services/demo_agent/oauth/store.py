"""What the demo authorization server remembers, in memory, bounded and behind a lock.

Pending authorization codes and device codes are what any caller can make the server
keep, so each kind is capped (expired ones are pruned first, then new ones refused with
`temporarily_unavailable`). Refresh tokens follow a user's consent; past their cap the
oldest is dropped. A restart forgets everything, which suits a demo: the signing key is
new too, so every old token is void anyway.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Error, TokenMixin
from authlib.oauth2.rfc8628 import DeviceCredentialDict
from authlib.oidc.core import AuthorizationCodeMixin

__all__ = [
    "AuthorizationCode",
    "DemoUser",
    "OAuthStore",
    "RefreshToken",
    "ServerBusyError",
]

MAX_PENDING = 256  # authorization codes, and device codes, waiting at once
MAX_REFRESH_TOKENS = 1024


class ServerBusyError(OAuth2Error):
    """Too many pending codes: RFC 6749 §4.1.2.1's `temporarily_unavailable`."""

    error = "temporarily_unavailable"
    description = "Too many authorization requests are pending; try again shortly."
    status_code = 503


@dataclass(frozen=True)
class DemoUser:
    """The resource owner, as Authlib's grants and token generators see one."""

    name: str

    def get_user_id(self) -> str:
        return self.name


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    """An issued code, bound to its client, redirect URI, scope and PKCE challenge."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: DemoUser
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    expires_at: float
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class RefreshToken(TokenMixin):
    """An opaque refresh token and what it may renew."""

    token: str
    client_id: str
    scope: str
    user: DemoUser
    expires_at: float

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    def is_expired(self) -> bool:
        return self.expires_at < time.time()

    def is_revoked(self) -> bool:
        return False  # a revoked token is no longer stored


class OAuthStore:
    """Codes, device codes and their users' decisions, and refresh tokens."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._lock = threading.Lock()
        self._max_pending = max_pending
        self._codes: dict[str, AuthorizationCode] = {}
        self._devices: dict[str, DeviceCredentialDict] = {}  # by device_code
        self._device_codes: dict[str, str] = {}  # user_code -> device_code
        self._decisions: dict[str, tuple[DemoUser, bool]] = {}  # by user_code
        self._last_polls: dict[str, float] = {}  # by device_code
        self._refresh: dict[str, RefreshToken] = {}

    # --- authorization codes ------------------------------------------------------

    def add_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            now = time.time()
            for key in [k for k, c in self._codes.items() if c.expires_at < now]:
                del self._codes[key]
            if len(self._codes) >= self._max_pending:
                raise ServerBusyError()
            self._codes[code.code] = code

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code if it is the client's and unexpired; gone either way (one use only)."""
        with self._lock:
            found = self._codes.pop(code, None)
        if found is None or found.client_id != client_id or found.expires_at < time.time():
            return None
        return found

    def nonce_pending(self, client_id: str, nonce: str) -> bool:
        with self._lock:
            return any(c.client_id == client_id and c.nonce == nonce for c in self._codes.values())

    # --- device codes (RFC 8628) ------------------------------------------------------

    def add_device(self, credential: DeviceCredentialDict) -> None:
        with self._lock:
            for device_code in [k for k, c in self._devices.items() if c.is_expired()]:
                self._forget_device(device_code)
            if len(self._devices) >= self._max_pending:
                raise ServerBusyError()
            self._devices[credential["device_code"]] = credential
            self._device_codes[credential.get_user_code()] = credential["device_code"]

    def device(self, device_code: str) -> DeviceCredentialDict | None:
        with self._lock:
            return self._devices.get(device_code)

    def awaiting_decision(self, user_code: str) -> DeviceCredentialDict | None:
        """The unexpired device request `user_code` names, if no one decided it yet."""
        with self._lock:
            credential = self._devices.get(self._device_codes.get(user_code, ""))
            if credential is None or credential.is_expired() or user_code in self._decisions:
                return None
            return credential

    def decide(self, user_code: str, user: DemoUser, *, approved: bool) -> bool:
        """Record the user's Allow or Deny; False if the code is unknown, expired or decided."""
        if self.awaiting_decision(user_code) is None:
            return False
        with self._lock:
            self._decisions.setdefault(user_code, (user, approved))
        return True

    def decision(self, user_code: str) -> tuple[DemoUser, bool] | None:
        with self._lock:
            return self._decisions.get(user_code)

    def polled_too_soon(self, device_code: str, interval: float) -> bool:
        """Whether this poll came within `interval` seconds of the last (RFC 8628 §3.5)."""
        with self._lock:
            now = time.monotonic()
            last = self._last_polls.get(device_code)
            self._last_polls[device_code] = now
            return last is not None and now - last < interval

    def finish_device(self, device_code: str) -> None:
        """A device code is good for one token: forget it once it got one."""
        with self._lock:
            self._forget_device(device_code)

    def _forget_device(self, device_code: str) -> None:
        credential = self._devices.pop(device_code, None)
        self._last_polls.pop(device_code, None)
        if credential is not None:
            self._device_codes.pop(credential.get_user_code(), None)
            self._decisions.pop(credential.get_user_code(), None)

    # --- refresh tokens -------------------------------------------------------------

    def add_refresh(self, token: RefreshToken) -> None:
        with self._lock:
            while len(self._refresh) >= MAX_REFRESH_TOKENS:
                del self._refresh[next(iter(self._refresh))]  # the oldest
            self._refresh[token.token] = token

    def refresh(self, token: str) -> RefreshToken | None:
        with self._lock:
            found = self._refresh.get(token)
        return None if found is None or found.is_expired() else found

    def revoke_refresh(self, token: str) -> None:
        with self._lock:
            self._refresh.pop(token, None)
