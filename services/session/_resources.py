"""The session's own objects, made once from the settings: what masks its secrets, what
records its A2A traffic, which agents it may contact, and each origin's credentials.

They live in session state, not on the loop, so they outlive runtime rebuilds; the
runtime is configured with them (`_runtime.runtime`).
"""

from __future__ import annotations

import httpx

from services.client.allowlist import AllowList
from services.client.auth import Credentials, OriginCredentials
from services.inspector.capture import TrafficRecorder
from services.redact import Redactor, redact_logs
from services.session import _keys as keys
from services.session._settings import settings

__all__ = [
    "allow_list",
    "configured_credentials",
    "max_upload_bytes",
    "origin_credentials",
    "recorder",
    "redact",
    "redactor",
    "stream_kept",
    "timeout",
]


def configured_credentials() -> Credentials:
    """The configured agent's token: `A2A_AGENT_TOKEN`, else `agent_token` in secrets."""
    return Credentials(bearer_token=settings().agent_token)


def _new_redactor() -> Redactor:
    secrets = [*configured_credentials().secret_values, *settings().secret_values]
    redact_logs(secrets)
    return Redactor(secrets)


def redactor() -> Redactor:
    """Masks this deployment's and this session's secrets in everything shown or logged."""
    return keys.REDACTOR.setdefault(_new_redactor)


def redact(text: str) -> str:
    return redactor().text(text)


def timeout() -> httpx.Timeout:
    """Request timeouts; a stream silent for `A2A_READ_TIMEOUT` seconds (default 60) ends."""
    read = float(settings().read_timeout)
    return httpx.Timeout(connect=5.0, read=read, write=10.0, pool=10.0)


def _new_allow_list() -> AllowList:
    configured = settings()
    allow = AllowList(configured.allowed_agent_urls)
    if allow:
        # A bad configured URL is skipped (with a warning) here; the sidebar says why.
        for url in [configured.agent_url, *(str(e["url"]) for e in configured.agents)]:
            if url:
                allow.add(url)
    return allow


def allow_list() -> AllowList:
    """The agents this deployment may contact (`allowed_agent_urls` in secrets, or
    `A2A_ALLOWED_AGENT_URLS`, comma-separated); empty allows any. The agents the operator
    configured, and the embedded demo agent, are always allowed."""
    return keys.ALLOW.setdefault(_new_allow_list)


def max_upload_bytes() -> int:
    """The largest file a user may send (`A2A_MAX_UPLOAD_MB` / `max_upload_mb`, default 10)."""
    return settings().max_upload_mb * 1024 * 1024


def _new_recorder() -> TrafficRecorder:
    configured = settings()
    return TrafficRecorder(
        redactor(),
        max_streams=configured.inspector_max_streams,
        max_bytes=configured.inspector_max_bytes,
    )


def recorder() -> TrafficRecorder:
    """This session's recorded A2A traffic; outlives runtime rebuilds."""
    return keys.RECORDER.setdefault(_new_recorder)


def stream_kept(stream_id: int) -> bool:
    """The inspector still has this stream (it keeps a session's last few)."""
    return bool(stream_id) and recorder().keeps(stream_id)


def origin_credentials() -> OriginCredentials:
    """The session's httpx Auth: each agent's credentials, for its origin only."""
    return keys.CREDENTIALS.setdefault(OriginCredentials)
