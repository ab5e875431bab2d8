"""The project's errors: one sentence a person can act on, raised `from` the original.

Pages catch `AppError` and show `str(error)`; `detail` (the technical cause) goes in
an expander and the log. `translate_errors` is the one place where httpx and a2a-sdk
exceptions become these.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import grpc.aio
import httpx
from a2a.client.errors import A2AClientTimeoutError
from a2a.utils.errors import A2AError, TaskNotFoundError

__all__ = [
    "AgentError",
    "AgentTimeout",
    "AgentUnreachable",
    "AppError",
    "ClientCertificateNeeded",
    "InvalidCard",
    "InvalidUrl",
    "NotAllowed",
    "NotAnAgent",
    "StreamBroken",
    "translate",
    "translate_errors",
]


class AppError(Exception):
    """Base of the project's errors; `str()` is the sentence for the user."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidUrl(AppError):
    """The URL typed for the agent is not an http(s) URL."""


class NotAllowed(AppError):
    """The deployment's allowed_agent_urls does not include this address."""


class AgentUnreachable(AppError):
    """Nothing answered at the agent's address."""


class NotAnAgent(AppError):
    """Something answered, but it is not an A2A agent (no card, or not JSON)."""


class InvalidCard(AppError):
    """The agent card is JSON but not a card this app can use."""


class AgentError(AppError):
    """The agent answered with an error (a JSON-RPC error object or an HTTP error)."""


class StreamBroken(AppError):
    """The reply's stream ended or went bad before the reply finished."""


class AgentTimeout(AppError):
    """The agent took longer than the configured timeout."""


class ClientCertificateNeeded(AppError):
    """The agent asks for a client certificate (mutual TLS) it did not get, or refused
    the one it got (raised by the client's transport, which can tell)."""


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    return next((e for e in _causes(error) if isinstance(e, kind)), None)


def _detail(error: BaseException) -> str:
    return " <- ".join(f"{type(e).__name__}: {e}" for e in _causes(error))


@contextmanager
def translate_errors(url: str, *, streaming: bool = False) -> Iterator[None]:
    """Map httpx / a2a-sdk exceptions raised inside to the project's errors."""
    try:
        yield
    except AppError:
        raise
    except Exception as error:  # noqa: BLE001 - every failure gets a sentence
        raise translate(error, url, streaming=streaming) from error


def _translate_grpc(error: Exception, url: str, detail: str, *, streaming: bool) -> AppError | None:
    """The sentence for a gRPC status the A2A errors do not cover (a2a-sdk wraps the rest)."""
    call = _first(error, grpc.aio.AioRpcError)
    if not isinstance(call, grpc.aio.AioRpcError):
        return None
    code = call.code()
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return AgentError(
            f"The agent refused the call (gRPC {code.name}): it wants credentials. "
            "Set its token or API key under Credentials in the sidebar.",
            detail=detail,
        )
    if code == grpc.StatusCode.UNAVAILABLE:
        what = "stopped answering over gRPC" if streaming else "could not be reached over gRPC"
        return AgentUnreachable(
            f"The agent at {url} {what}. Check that it is running and that its card names "
            "the right gRPC address; what arrived is kept.",
            detail=detail,
        )
    return None


def translate(error: Exception, url: str, *, streaming: bool = False) -> AppError:
    """The project's error for an httpx / a2a-sdk exception (raise it `from error`)."""
    detail = _detail(error)
    # A layer below already said what went wrong (the TLS transport, say): keep it.
    known = _first(error, AppError)
    if isinstance(known, AppError):
        return type(known)(known.message, detail=detail)
    if _first(error, httpx.ConnectError) or _first(error, httpx.ConnectTimeout):
        return AgentUnreachable(
            f"Could not reach the agent at {url}. Check that it is running and the URL is right.",
            detail=detail,
        )
    if _first(error, httpx.TimeoutException) or _first(error, A2AClientTimeoutError):
        return AgentTimeout(
            f"The agent at {url} stopped answering (timed out). "
            "The partial reply is kept; try again or raise the read timeout.",
            detail=detail,
        )
    if _first(error, httpx.RemoteProtocolError) or _first(error, httpx.ReadError):
        return StreamBroken(
            "The agent closed the connection before the reply finished. "
            "What arrived is kept; send the message again.",
            detail=detail,
        )
    if _first(error, RecursionError) or "Message too deep" in detail:
        # Python's JSON reader or protobuf's (100 levels) gave up on the agent's data.
        return StreamBroken(
            "The agent sent data nested too deeply to read, so the reply stopped there. "
            "What arrived is kept; the Streaming inspector shows the raw data.",
            detail=detail,
        )
    if _first(error, json.JSONDecodeError) or "Invalid JSON-RPC response" in detail:
        return StreamBroken(
            "The agent sent data that is not valid A2A JSON, so the reply stopped there. "
            "What arrived is kept; the Streaming inspector shows the raw data.",
            detail=detail,
        )
    grpc_error = _translate_grpc(error, url, detail, streaming=streaming)
    if grpc_error is not None:
        return grpc_error
    status = _first(error, httpx.HTTPStatusError)
    if isinstance(status, httpx.HTTPStatusError) and status.response.status_code in (401, 403):
        code = status.response.status_code
        return AgentError(
            f"The agent refused the request (HTTP {code} {status.response.reason_phrase}): "
            "it wants credentials. Set its token or API key under Credentials in the sidebar.",
            detail=detail,
        )
    a2a_error = _first(error, A2AError)
    if isinstance(status, httpx.HTTPStatusError) and isinstance(a2a_error, A2AError):
        if status.response.status_code == 400:  # HTTP+JSON: the agent's own error, parsed
            return AgentError(
                f"The agent returned an error: {a2a_error.message.rstrip('.')}. "
                "Try again, or rephrase the message.",
                detail=detail,
            )
    if isinstance(status, httpx.HTTPStatusError):
        code = status.response.status_code
        return AgentError(
            f"The agent answered HTTP {code} {status.response.reason_phrase}. "
            "Check the agent's URL and credentials, then try again.",
            detail=detail,
        )
    if _first(error, TaskNotFoundError):
        return AgentError(
            "The agent no longer knows this task (it may have restarted or let it go), so "
            "it cannot be followed any further: what arrived is kept.",
            detail=detail,
        )
    if isinstance(a2a_error, A2AError):
        return AgentError(
            f"The agent returned an error: {a2a_error.message.rstrip('.')}. "
            "Try again, or rephrase the message.",
            detail=detail,
        )
    # What is left: first the failures that retrying cannot fix, each with its own sentence
    # (the URL itself was checked before any request, by services.urls).
    if _first(error, httpx.TooManyRedirects):
        return AgentError(
            f"The agent at {url} redirected too many times (a redirect loop?): check the "
            "URL, or ask the agent's operator where it moved.",
            detail=detail,
        )
    if _first(error, httpx.UnsupportedProtocol) or _first(error, httpx.InvalidURL):
        return AgentError(
            f"The agent at {url} redirected to an address that is not an http(s) URL: "
            "check the URL, or ask the agent's operator where it moved.",
            detail=detail,
        )
    if _first(error, httpx.LocalProtocolError):
        return AppError(
            f"The request to {url} could not be sent as given (a header name or value is "
            "not allowed): check the headers under Credentials.",
            detail=detail,
        )
    kind = "stream" if streaming else "request"
    return AppError(
        f"The {kind} to {url} failed unexpectedly ({type(error).__name__}). "
        "Try again; the details below say more.",
        detail=detail,
    )
