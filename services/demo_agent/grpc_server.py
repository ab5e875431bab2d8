"""The demo agent over gRPC: a2a-sdk's `GrpcHandler` on a `grpc.aio` server.

`serve_grpc` runs beside the HTTP app, on the same loop and with the same request handler
(so the same tasks): `build_app`'s lifespan enters it. A `grpc.aio` server belongs to the
loop that made it, so it is made, started and stopped inside that one context.

Credentials travel as metadata (`authorization`, `x-api-key`, ...). `CredentialGate`
applies the HTTP app's check to them and refuses a call with UNAUTHENTICATED (or
PERMISSION_DENIED where HTTP says 403); the call context then names the same user, per
visitor, as the HTTP routes do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import grpc.aio
from a2a.auth.user import UnauthenticatedUser, User
from a2a.server.request_handlers import GrpcHandler, RequestHandler
from a2a.server.request_handlers.grpc_handler import DefaultGrpcServerCallContextBuilder
from a2a.server.routes.common import StarletteUser
from a2a.types import a2a_pb2, a2a_pb2_grpc
from grpc_reflection.v1alpha import reflection
from starlette.authentication import SimpleUser
from starlette.datastructures import Headers

from services.demo_agent.auth import CredentialCheck, Refusal
from services.demo_agent.visitors import VISITOR_HEADER, narrow_to_visitor

__all__ = ["CredentialGate", "serve_grpc"]

_GRACE = 1.0  # seconds open calls get to finish when the server stops, as uvicorn's


def _headers(metadata: Any) -> Headers:
    """gRPC metadata as the headers the HTTP check reads (binary `-bin` values left out)."""
    raw = [
        (str(key).encode("latin-1"), value.encode("latin-1"))
        for key, value in (metadata or ())
        if isinstance(value, str)
    ]
    return Headers(raw=raw)


class CredentialGate(grpc.aio.ServerInterceptor):
    """Refuses every call whose metadata `check` does not accept."""

    def __init__(self, check: CredentialCheck) -> None:
        self._check = check

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        outcome = self._check(_headers(handler_call_details.invocation_metadata))
        if handler is None or isinstance(outcome, str):
            return handler
        return _refusing(handler, outcome)


def _refusing(handler: grpc.RpcMethodHandler, refusal: Refusal) -> grpc.RpcMethodHandler:
    """A handler of the same shape that only refuses (A2A 1.0 §4: UNAUTHENTICATED)."""
    code = (
        grpc.StatusCode.PERMISSION_DENIED
        if refusal.status_code == 403
        else grpc.StatusCode.UNAUTHENTICATED
    )
    details = refusal.description or refusal.error

    async def refuse(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        context.set_trailing_metadata((("www-authenticate", refusal.challenge),))
        await context.abort(code, details)

    async def refuse_stream(
        _request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        await refuse(_request, context)
        yield  # never reached: makes this an async generator, as a streaming handler is

    deserializer = handler.request_deserializer
    serializer = handler.response_serializer
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(refuse_stream, deserializer, serializer)
    return grpc.unary_unary_rpc_method_handler(refuse, deserializer, serializer)


class _Caller(DefaultGrpcServerCallContextBuilder):
    """The caller as the HTTP routes see it: the check's user, narrowed per visitor."""

    def __init__(self, check: CredentialCheck | None) -> None:
        self._check = check

    def build_user(self, context: grpc.aio.ServicerContext[Any, Any]) -> User:
        headers = _headers(context.invocation_metadata())
        outcome = self._check(headers) if self._check else None
        user: User = UnauthenticatedUser()
        if isinstance(outcome, str):
            user = StarletteUser(SimpleUser(outcome))
        return narrow_to_visitor(user, headers.get(VISITOR_HEADER, ""))


@asynccontextmanager
async def serve_grpc(
    handler: RequestHandler, check: CredentialCheck | None, host: str, port: int
) -> AsyncIterator[grpc.aio.Server]:
    """Serve `handler` over gRPC on `host:port` while inside; on the caller's loop."""
    server = grpc.aio.server(
        interceptors=[CredentialGate(check)] if check else None,
        # Without this a second server could bind the same port and share its calls.
        options=[("grpc.so_reuseport", 0)],
    )
    a2a_pb2_grpc.add_A2AServiceServicer_to_server(  # type: ignore[no-untyped-call]
        GrpcHandler(handler, context_builder=_Caller(check)), server
    )
    # Reflection, so `grpcurl` (the inspector's "copy as grpcurl") needs no .proto file.
    service = a2a_pb2.DESCRIPTOR.services_by_name["A2AService"].full_name
    reflection.enable_server_reflection((service, reflection.SERVICE_NAME), server)
    if not server.add_insecure_port(f"{host}:{port}"):  # 0: the port was not bound
        raise RuntimeError(f"gRPC could not listen on {host}:{port}")
    await server.start()
    try:
        yield server
    finally:
        await server.stop(_GRACE)
