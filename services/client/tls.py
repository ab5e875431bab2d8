"""Client certificates (mutual TLS), each presented to its own agent's origin and no other.

A certificate proves who this app is, so, like a token (`auth`), one configured for an
agent must never reach another. `OriginCertificates` says which origin (scheme, host, port)
gets which certificate: plain data, thread-safe, kept by the session across runtime
rebuilds. `OriginTransports` is the session client's inner transport: each request goes
out over the transport of its origin's certificate, or over the default transport (no
certificate) for every other origin. When a server asks for a certificate it did not get,
or refuses the one it got, a request fails with `ClientCertificateNeeded` and a sentence.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import anyio
import httpx

from services.client.auth import origin
from services.errors import AppError, ClientCertificateNeeded

__all__ = [
    "ClientCertificate",
    "OriginCertificates",
    "OriginTransports",
    "certificate_refusal",
]

Origin = tuple[str, str, int | None]

_PEM_START = "-----BEGIN"
_MAX_PEM_BYTES = 1_000_000  # a certificate chain is a few kB; refuse to read a whole disk
_PROBE_TIMEOUT = 5.0
_CERTIFICATE_REQUEST = 13  # TLS HandshakeType certificate_request (RFC 8446 §4.3.2)
# TLS alerts (RFC 8446 §6.2) by which a server refuses a client certificate, or its absence.
_REFUSALS = (
    "CERTIFICATE_REQUIRED",
    "BAD_CERTIFICATE",
    "UNKNOWN_CA",
    "CERTIFICATE_UNKNOWN",
    "UNSUPPORTED_CERTIFICATE",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
    "ACCESS_DENIED",
)


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate and its private key (PEM), and optionally the CA to trust
    for the agent's own certificate (instead of the public authorities)."""

    # The key is a secret and the rest is long: none of it in a repr.
    cert_pem: str = field(repr=False)
    key_pem: str = field(repr=False)
    ca_pem: str = field(default="", repr=False)
    label: str = ""  # whose it is, in words ("agent Weather"), for sentences and repr

    @classmethod
    def load(
        cls,
        cert: str,
        key: str,
        ca: str = "",
        *,
        agent: str,
        names: tuple[str, str, str] = ("client_cert", "client_key", "ca_cert"),
    ) -> ClientCertificate:
        """From PEM text or a PEM file's path for each; checked by building its TLS context.

        Args:
            agent: who it is for, in words ("agent Weather"): each sentence names it.
            names: what the operator calls the three settings, for the sentences.

        Raises:
            AppError: one sentence naming the agent and what to fix.
        """
        cert_name, key_name, ca_name = names
        if not cert.strip() and not key.strip():
            raise AppError(
                f"The {ca_name} for {agent} is used with a client certificate only: set "
                f"{cert_name} and {key_name} too, or trust that CA system-wide (SSL_CERT_FILE)."
            )
        if bool(cert.strip()) != bool(key.strip()):
            given, missing = (cert_name, key_name) if cert.strip() else (key_name, cert_name)
            raise AppError(
                f"The client certificate for {agent} has {given} but no {missing}: set both "
                "(PEM text or a PEM file's path) or neither."
            )
        certificate = cls(
            _pem_or_file(cert, cert_name, agent),
            _pem_or_file(key, key_name, agent),
            _pem_or_file(ca, ca_name, agent) if ca.strip() else "",
            label=agent,
        )
        if certificate.ca_pem:
            try:
                ssl.create_default_context(cadata=certificate.ca_pem)
            except (ssl.SSLError, ValueError) as error:
                raise AppError(
                    f"The {ca_name} for {agent} does not load as a PEM CA certificate: check it.",
                    detail=f"{type(error).__name__}: {error}",
                ) from None
        try:
            certificate.ssl_context()  # now, so a bad pair is found at start-up, not mid-chat
        except (ssl.SSLError, ValueError) as error:
            raise AppError(
                f"The {cert_name} and {key_name} for {agent} do not load: check that "
                f"{cert_name} is a PEM certificate and {key_name} its unencrypted PEM key.",
                detail=f"{type(error).__name__}: {error}",
            ) from None  # the cause may quote what it read
        return certificate

    @property
    def secret_values(self) -> list[str]:
        """The key, whole and line by line: what must never be shown, exported or logged."""
        key = self.key_pem.strip()
        lines = [line.strip() for line in key.splitlines() if not line.startswith("-----")]
        return [key, *(line for line in lines if len(line) >= 16)]

    @cached_property
    def _context(self) -> ssl.SSLContext:
        return self.new_ssl_context()

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context that presents this certificate (built once, then shared)."""
        return self._context

    def new_ssl_context(self) -> ssl.SSLContext:
        """A TLS context of its own that presents this certificate."""
        if self.ca_pem:
            context = ssl.create_default_context(cadata=self.ca_pem)
        else:
            context = httpx.create_ssl_context()  # the authorities httpx trusts by default
        self.load_into(context)
        return context

    def load_into(self, context: ssl.SSLContext) -> None:
        """Make `context` present this certificate.

        Python's `ssl` loads a certificate chain from files only: the PEMs go to a file
        only this user can read (mkstemp makes it 0600), deleted as soon as they are read.
        """
        descriptor, path = tempfile.mkstemp(prefix="a2a-client-", suffix=".pem")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(f"{self.cert_pem.strip()}\n{self.key_pem.strip()}\n")
            # A password callback, so an encrypted key fails instead of prompting on a tty.
            context.load_cert_chain(path, password=_no_password)
        finally:
            os.unlink(path)


def _no_password() -> bytes:
    raise ValueError("the private key is encrypted")


def _pem_or_file(value: str, name: str, agent: str) -> str:
    text = value.strip()
    if text.startswith(_PEM_START):
        return text
    try:
        with Path(text).expanduser().open("rb") as file:
            return file.read(_MAX_PEM_BYTES).decode("utf-8", "replace").strip()
    except (OSError, ValueError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else "unreadable"
        # The value itself is never echoed: it may be a key pasted without its header.
        raise AppError(
            f"The {name} for {agent} is neither PEM text (-----BEGIN ...) nor a file that "
            f"can be read ({why}): give the PEM itself or the path of a readable PEM file."
        ) from None


class OriginCertificates:
    """Which origin gets which client certificate (thread-safe; no certificate: none)."""

    def __init__(self) -> None:
        self._by_origin: dict[Origin, ClientCertificate] = {}
        self._lock = threading.Lock()

    def set(self, url: str, certificate: ClientCertificate | None) -> None:
        """Present `certificate` to `url`'s origin from now on (None: present none)."""
        with self._lock:
            if certificate is None:
                self._by_origin.pop(origin(url), None)
            else:
                self._by_origin[origin(url)] = certificate

    def get(self, url: str | httpx.URL) -> ClientCertificate | None:
        with self._lock:
            return self._by_origin.get(origin(url))

    def follow_card(self, agent_url: str, interface_urls: Iterable[str]) -> None:
        """Give the agent's certificate to the card's https interfaces on the agent's host.

        A card may name any URL as an endpoint, and a certificate proves who this app is:
        it goes where the operator pointed it, the agent's own origin, and to the card's
        endpoints on that same host (one agent often serves its card and its endpoint on
        different ports), never to another host the card names. An origin that already
        has a certificate keeps its own.
        """
        scheme, host, _port = origin(agent_url)
        with self._lock:
            certificate = self._by_origin.get(origin(agent_url))
            if certificate is None:
                return
            for url in interface_urls:
                target = origin(url)
                if target[0] == "https" and target[1] == host and target[1]:
                    self._by_origin.setdefault(target, certificate)

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._by_origin)


class OriginTransports(httpx.AsyncBaseTransport):
    """Sends each request over its origin's certificate's transport, or the default one.

    Transports are made on the loop the first time their origin is asked for, and one
    whose certificate was replaced or removed is closed then (closing is async: `set`
    may be called from any thread). Use it on one event loop.
    """

    def __init__(self, certificates: OriginCertificates | None = None) -> None:
        self.certificates = certificates if certificates is not None else OriginCertificates()
        self._default = httpx.AsyncHTTPTransport()
        self._by_origin: dict[Origin, tuple[ClientCertificate, httpx.AsyncHTTPTransport]] = {}

    def set(self, url: str, certificate: ClientCertificate | None) -> None:
        """Present `certificate` to `url`'s origin from now on (thread-safe)."""
        self.certificates.set(url, certificate)

    async def _transport_for(
        self, url: httpx.URL
    ) -> tuple[ClientCertificate | None, httpx.AsyncHTTPTransport]:
        target = origin(url)
        certificate = self.certificates.get(url)
        current = self._by_origin.get(target)
        stale = None
        if current is not None and current[0] is not certificate:
            stale, current = self._by_origin.pop(target)[1], None
        if certificate is not None and current is None:
            current = (certificate, httpx.AsyncHTTPTransport(verify=certificate.ssl_context()))
            self._by_origin[target] = current
        if stale is not None:  # after the swap: a request meanwhile finds the new one
            await stale.aclose()
        return current if current is not None else (None, self._default)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        certificate, transport = await self._transport_for(request.url)
        try:
            return await transport.handle_async_request(request)
        except (
            httpx.ConnectError,
            httpx.ReadError,
            httpx.WriteError,
            httpx.RemoteProtocolError,
        ) as error:
            if request.url.scheme != "https" or not _may_be_refusal(error):
                raise
            # A server that wants a certificate often just closes the connection (no
            # alert reaches the client): ask it once more, watching the handshake.
            context = certificate.new_ssl_context() if certificate else _default_context()
            host, port = request.url.host, request.url.port or 443
            probe = partial(certificate_refusal, host, port, context, timeout=_PROBE_TIMEOUT)
            refusal = await anyio.to_thread.run_sync(probe, abandon_on_cancel=True)
            if refusal is None:
                raise
            where = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
            if certificate is None:
                sentence = (
                    f"The agent at {where} asks for a client certificate (mutual TLS): "
                    "configure client_cert and client_key for it in secrets."
                )
            else:
                sentence = (
                    f"The agent at {where} refused the client certificate of "
                    f"{certificate.label or 'this agent'} ({refusal}): check its client_cert "
                    "and client_key, and that the agent trusts their issuer."
                )
            raise ClientCertificateNeeded(sentence, detail=f"TLS: {refusal}") from error

    async def aclose(self) -> None:
        transports = [self._default, *(t for _, t in self._by_origin.values())]
        self._by_origin.clear()
        for transport in transports:
            await transport.aclose()

    def connection_counts(self) -> tuple[int, int]:
        """(open, idle) connections over every origin's pool. Call on the client's loop.

        Reads httpx's private `_pool` (an httpcore pool); (0, 0) for one that moved.
        """
        opened = idle = 0
        for transport in [self._default, *(t for _, t in self._by_origin.values())]:
            connections = getattr(getattr(transport, "_pool", None), "connections", [])
            alive = [c for c in connections if not c.is_closed()]
            opened += len(alive)
            idle += sum(1 for c in alive if c.is_idle())
        return opened, idle


def _default_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _may_be_refusal(error: httpx.HTTPError) -> bool:
    """A TLS failure, or a connection closed before any answer: worth asking why. A
    refused port or an unknown host is not (nothing to learn from a second try)."""
    if not isinstance(error, httpx.ConnectError):
        return True
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) and not isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def certificate_refusal(
    host: str, port: int, context: ssl.SSLContext, *, timeout: float
) -> str | None:
    """Why the TLS server at host:port refuses this context's client certificate (or its
    absence), in words ("certificate required", "bad certificate", "it closed the
    connection"); None if it takes the connection or never asked for a certificate.

    Blocking. Give it a context of its own: it watches the handshake through it. In TLS
    1.3 a server judges the client's certificate after the handshake, so a small request
    is sent and its first byte read.
    """
    asked: list[bool] = []

    def watch(_conn: Any, direction: str, _version: Any, _kind: Any, message: Any, _: Any) -> None:
        if direction == "read" and message == _CERTIFICATE_REQUEST:
            asked.append(True)

    with contextlib.suppress(AttributeError):  # a private hook: without it, alerts only
        context._msg_callback = watch  # type: ignore[attr-defined]
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            context.wrap_socket(sock, server_hostname=host) as tls,
        ):
            tls.sendall(f"HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            if tls.recv(1):
                return None  # it answered: the certificate (or none) was taken
            refusal = "it closed the connection"
    except ssl.SSLCertVerificationError:
        return None  # the server's own certificate is the problem, not ours
    except ssl.SSLError as error:
        reason = str(error.reason or "")
        alert = next((a for a in _REFUSALS if reason.endswith(f"ALERT_{a}")), None)
        if alert is not None:
            return "unknown CA" if alert == "UNKNOWN_CA" else alert.lower().replace("_", " ")
        refusal = "it closed the connection"
    except OSError:
        if not asked:
            return None
        refusal = "it closed the connection"
    return refusal if asked else None
