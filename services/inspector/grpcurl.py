"""The `grpcurl` command line that repeats a recorded gRPC call ("Copy as curl" for gRPC).

Secret metadata never goes into the command: each secret value becomes a shell variable
the reader sets first (`$A2A_TOKEN` for a bearer token, `$A2A_API_KEY` for an API key,
`$A2A_SECRET` for any other), so a copied command is safe to paste into a ticket.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlsplit

from services.inspector.capture import Exchange
from services.redact import Redactor

__all__ = ["grpcurl_command", "grpcurl_for"]

_VARIABLE = re.compile(r"\$[A-Z_][A-Z0-9_]*")
# Metadata grpc itself sets, or the HTTP/2 layer: grpcurl adds its own.
_TRANSPORT_KEYS = {"user-agent", "grpc-accept-encoding", "grpc-timeout", "te", "content-type"}


def _placeholder(name: str, value: str) -> str:
    name = name.lower()
    if name == "authorization":
        # A recorded value is redacted whole, scheme and all: Bearer is A2A's usual one.
        scheme, _, _rest = value.partition(" ")
        if scheme.isalpha() and scheme.lower() != "bearer":
            return f"{scheme} $A2A_CREDENTIALS"
        return "Bearer $A2A_TOKEN"
    if "api-key" in name or "apikey" in name:
        return "$A2A_API_KEY"
    return "$A2A_SECRET"


def _double_quoted(text: str) -> str:
    """`text` in double quotes, so its `$VARIABLE`s expand and nothing else does."""
    parts = _VARIABLE.split(text)
    names = _VARIABLE.findall(text)
    escaped = [re.sub(r'([\\"`$])', r"\\\1", part) for part in parts]
    out = escaped[0]
    for name, part in zip(names, escaped[1:], strict=True):
        out += name + part
    return f'"{out}"'


def grpcurl_command(
    target: str,
    full_method: str,
    request_json: str,
    metadata: list[tuple[str, str]],
    *,
    plaintext: bool,
) -> str:
    """The `grpcurl` command that makes the same call, shell-quoted for a POSIX shell.

    Args:
        target: `host:port` (a `grpc://` or `grpcs://` prefix is dropped).
        full_method: `/package.Service/Method`, as gRPC names it on the wire.
        request_json: the request message as JSON (sent with `-d`).
        metadata: the call's metadata; secret values become `$A2A_...` placeholders.
        plaintext: the target speaks gRPC without TLS (`-plaintext`).
    """
    redactor = Redactor()
    target = target.split("://", 1)[-1].rstrip("/")
    words = ["grpcurl"]
    if plaintext:
        words.append("-plaintext")
    for name, value in metadata:
        if name.lower() in _TRANSPORT_KEYS or name.startswith(":"):
            continue
        if redactor.is_secret_header(name):
            # A placeholder must expand: double quotes around it, the rest escaped.
            words.append("-H " + _double_quoted(f"{name}: {_placeholder(name, value)}"))
        else:
            words.append("-H " + shlex.quote(f"{name}: {value}"))
    words.append("-d " + shlex.quote(request_json))
    # grpcurl names a method `package.Service/Method`, without the leading slash.
    words += [shlex.quote(target), shlex.quote(full_method.lstrip("/"))]
    return " \\\n  ".join(words)


def grpcurl_for(exchange: Exchange) -> str:
    """`grpcurl_command` for a recorded gRPC exchange (its metadata is already redacted)."""
    if exchange.protocol != "grpc":
        raise ValueError("grpcurl_for takes a gRPC exchange; use curl for HTTP ones")
    plaintext = urlsplit(exchange.url).scheme != "grpcs"
    return grpcurl_command(
        exchange.url,
        exchange.method,
        exchange.request_body,
        exchange.request_headers,
        plaintext=plaintext,
    )
