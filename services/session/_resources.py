"""The session's own objects, made once from the settings: what masks its secrets, what
records its A2A traffic, which agents it may contact, each origin's credentials, and each
configured agent's client certificate (mutual TLS).

They live in session state, not on the loop, so they outlive runtime rebuilds; the
runtime is configured with them (`_runtime.runtime`).
"""

from __future__ import annotations

import logging

import httpx

from services.client.allowlist import AllowList
from services.client.auth import Credentials, OriginCredentials
from services.client.tls import ClientCertificate, OriginCertificates
from services.errors import AppError, InvalidUrl
from services.inspector.capture import TrafficRecorder
from services.redact import Redactor, redact_logs
from services.session import _keys as keys
from services.session._settings import settings
from services.urls import check_agent_url, shorten

__all__ = [
    "allow_list",
    "client_certificates",
    "configured_credentials",
    "max_upload_bytes",
    "origin_certificates",
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


_log = logging.getLogger(__name__)
_reported: set[str] = set()  # certificate problems already logged: every session reads them


def _new_redactor() -> Redactor:
    # A client certificate's key, read from its file, is as secret as a token.
    certificates = [c for c in client_certificates().values() if isinstance(c, ClientCertificate)]
    secrets = [
        *configured_credentials().secret_values,
        *settings().secret_values,
        *(value for certificate in certificates for value in certificate.secret_values),
    ]
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


def _load_certificates() -> dict[str, ClientCertificate | AppError]:
    configured = settings()
    wanted: list[tuple[str, str, str, str, str, tuple[str, str, str]]] = []
    if configured.agent_url:
        names = ("agent_client_cert", "agent_client_key", "agent_ca_cert")
        url = configured.agent_url
        wanted.append(
            (
                url,
                f"the agent at {shorten(url)}",
                configured.agent_client_cert,
                configured.agent_client_key,
                configured.agent_ca_cert,
                names,
            )
        )
    for entry in configured.agents:
        url = str(entry["url"])
        name = str(entry.get("name", "")).strip()
        agent = f"agent {shorten(name, 60)!r}" if name else f"the agent at {shorten(url)}"
        cert, key, ca = (
            str(entry.get(k, "") or "") for k in ("client_cert", "client_key", "ca_cert")
        )
        wanted.append((url, agent, cert, key, ca, ("client_cert", "client_key", "ca_cert")))
    loaded: dict[str, ClientCertificate | AppError] = {}
    for url, agent, cert, key, ca, names in wanted:
        if not (cert.strip() or key.strip() or ca.strip()):
            continue
        try:
            checked = check_agent_url(url)
        except InvalidUrl:
            continue  # the agent's bad URL has its own sentence
        try:
            loaded[checked] = ClientCertificate.load(cert, key, ca, agent=agent, names=names)
        except AppError as error:
            loaded[checked] = error  # the agent cannot be reached with it; the rest go on
            if error.message not in _reported:
                _reported.add(error.message)
                _log.warning("%s", error.message)
    return loaded


def client_certificates() -> dict[str, ClientCertificate | AppError]:
    """Each configured agent's client certificate by its URL (`client_cert`, `client_key`,
    `ca_cert` in `[[agents]]`; `agent_client_cert`... for `agent_url`), or the sentence
    saying why it cannot be used; read once per session."""
    return keys.CLIENT_CERTIFICATES.setdefault(_load_certificates)


def _new_origin_certificates() -> OriginCertificates:
    certificates = OriginCertificates()
    for url, certificate in client_certificates().items():
        if isinstance(certificate, ClientCertificate):
            certificates.set(url, certificate)  # for its agent's origin only (see client.tls)
    return certificates


def origin_certificates() -> OriginCertificates:
    """Which origin gets which client certificate: the session runtime's, across rebuilds."""
    return keys.CERTIFICATES.setdefault(_new_origin_certificates)
