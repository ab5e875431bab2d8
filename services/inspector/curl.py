"""Copy as curl: a recorded HTTP request as a `curl` command line, secrets as placeholders.

The recorded request is already redacted (secret headers and known secret strings are
`[redacted]`), so the command never holds a secret: each masked value becomes a shell
variable the reader sets first (`Authorization: Bearer $A2A_TOKEN`, `X-API-Key:
$A2A_API_KEY`, `$A2A_SECRET` inside the URL or body). Everything else is quoted with
`shlex.quote`; a placeholder is joined to its quoted neighbours in double quotes so the
shell expands it and nothing else.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlsplit

from services.inspector.capture import Exchange
from services.redact import REDACTED, Redactor

__all__ = ["CurlUnavailable", "curl_command", "placeholder_for"]

# Set by httpx or curl itself for the connection, not part of what the request says.
_SKIPPED = {"host", "content-length", "connection", "accept-encoding", "user-agent"}
_SECRET_VAR = "A2A_SECRET"
_PLAIN = re.compile(
    r"[A-Za-z0-9-]+: (?:[A-Za-z0-9-]+ )?"
)  # a secret string inside a URL, body or ordinary header


class CurlUnavailable(ValueError):
    """An exchange a curl command cannot repeat; str() is one sentence saying why."""


def placeholder_for(header: str) -> str:
    """The shell variable that stands for a secret header's value: `A2A_TOKEN` for
    Authorization, `A2A_API_KEY` for X-API-Key, `A2A_<NAME>` for any other."""
    name = header.lower()
    if name in ("authorization", "proxy-authorization"):
        return "A2A_TOKEN"
    words = re.sub(r"[^A-Za-z0-9]+", "_", header).strip("_").upper()
    words = words.removeprefix("X_")
    if "API_KEY" in words or "APIKEY" in words:
        return "A2A_API_KEY"
    return f"A2A_{words or 'SECRET'}"


def curl_command(exchange: Exchange, redactor: Redactor, *, binding: str = "") -> str:
    """`exchange`'s request as a shell command line (`-N` when its reply was a stream).

    Raises `CurlUnavailable` for an exchange that is not plain HTTP (a gRPC call, say:
    see `grpcurl`).
    """
    scheme = urlsplit(exchange.url).scheme.lower()
    grpc = binding.upper() == "GRPC" or any(
        name.lower() == "content-type" and value.lower().startswith("application/grpc")
        for name, value in exchange.request_headers
    )
    if grpc or scheme not in ("http", "https"):
        what = "a gRPC call" if grpc else f"not an HTTP request ({scheme or 'no scheme'})"
        raise CurlUnavailable(
            f"Exchange {exchange.seq} is {what}, so curl cannot repeat it; use grpcurl for gRPC."
        )
    accept = next((v for k, v in exchange.request_headers if k.lower() == "accept"), "")
    body = redactor.text(exchange.request_body)
    first = "curl -sS"
    if exchange.is_sse or "text/event-stream" in accept:
        first += " -N"  # print each event as it arrives
    inferred = "POST" if body else "GET"
    if exchange.method.upper() != inferred:
        first += f" -X {shlex.quote(exchange.method.upper())}"
    lines = [first, _quote(redactor.text(exchange.url))]
    for name, value in exchange.request_headers:
        if name.lower() in _SKIPPED:
            continue
        if redactor.is_secret_header(name):
            lines.append(f"-H {_secret_header(name, value)}")
        else:
            lines.append(f"-H {_quote(f'{name}: {redactor.text(value)}')}")
    if body:
        lines.append(f"--data-raw {_quote(body)}")
    return " \\\n  ".join(lines)


def _secret_header(name: str, value: str) -> str:
    variable = placeholder_for(name)
    scheme = value.split(" ", 1)[0] if " " in value and value.split(" ", 1)[0] != REDACTED else ""
    if name.lower() in ("authorization", "proxy-authorization"):
        scheme = scheme or "Bearer"  # the recorded value is masked whole: Bearer is A2A's usual
        name = name.title()  # httpx records it lowercased
    prefix = f"{name}: {scheme + ' ' if scheme else ''}"
    if _PLAIN.fullmatch(prefix):  # nothing the shell reads inside double quotes
        return f'"{prefix}${variable}"'
    return f'{shlex.quote(prefix)}"${variable}"'


def _quote(text: str) -> str:
    """`text` quoted for the shell, each masked secret in it a `$A2A_SECRET` placeholder."""
    pieces = text.split(REDACTED)
    quoted = [shlex.quote(piece) if piece else "" for piece in pieces]
    out = f'"${_SECRET_VAR}"'.join(quoted)
    return out or "''"
