"""Records gRPC calls the way `CapturingTransport` records HTTP: `GrpcCapture`.

A `grpc.aio` client interceptor (unary-unary and unary-stream, all A2A's methods use).
A call made inside `capturing(record)` becomes an `Exchange` with `protocol="grpc"`: the
full method name, the target (`url`, as `grpc://host:port` or `grpcs://...`), the
metadata (redacted), the request as JSON, each response message as JSON with the time it
arrived (the exchange's chunks, which `frames` turns into one frame each, so the stream
rules read them as they read SSE frames), the initial and trailing metadata and the final
status (`status` is the code's number, `reason` its name, `error` the details).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from google.protobuf.json_format import MessageToJson
from google.protobuf.message import Message

from services.inspector.capture import Exchange, StreamRecord, current_record
from services.redact import Redactor

__all__ = ["GrpcCapture", "as_interceptors", "message_json"]


def message_json(message: Message) -> str:
    """A protobuf message as compact JSON, field names as the A2A JSON bindings spell them."""
    return MessageToJson(message, indent=None)


def _pairs(metadata: Any) -> list[tuple[str, str]]:
    """Metadata as text pairs; binary (`-bin`) values as base64."""
    pairs = []
    for key, value in metadata or ():
        text = base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)
        pairs.append((str(key), text))
    return pairs


class GrpcCapture:
    """Records the calls of one channel (to `target`) into the current stream record.

    Give a channel its `interceptors()`: grpc.aio files an interceptor under one kind only
    (the first base class it matches), so each kind needs an object of its own.
    """

    def __init__(self, redactor: Redactor, target: str, *, secure: bool) -> None:
        self._redactor = redactor
        self.url = f"{'grpcs' if secure else 'grpc'}://{target}"
        self._ending: set[asyncio.Future[None]] = set()

    def _begin(
        self, record: StreamRecord, details: grpc.aio.ClientCallDetails, request: Any
    ) -> Exchange:
        method = details.method
        # Unique within the record, where the pairing of events to frames needs it; a
        # record holds one binding's calls, so HTTP numbers do not mix in.
        seq = max((e.seq for e in record.exchanges), default=0) + 1
        exchange = Exchange(
            seq=seq,
            method=method.decode() if isinstance(method, bytes) else str(method),
            url=self.url,
            request_headers=self._redactor.headers(_pairs(details.metadata)),
            request_body=self._redactor.text(message_json(request)),
            started_at=time.monotonic(),
            protocol="grpc",
        )
        record.exchanges.append(exchange)
        return exchange

    def _message(self, record: StreamRecord, exchange: Exchange, message: Any) -> None:
        now = time.monotonic()
        data = self._redactor.text(message_json(message)).encode()
        if exchange.first_byte_at is None:
            exchange.first_byte_at = now
        exchange.bytes_received += len(data)
        if record.bytes_kept + len(data) <= record.max_bytes:
            record.bytes_kept += len(data)
            exchange.chunks.append((now, data))
        else:
            exchange.truncated = True

    async def _end(self, exchange: Exchange, call: grpc.aio.Call) -> None:
        if exchange.ended_at is not None:  # ended by the reader or by the call, once
            return
        code = await call.code()
        self._status(exchange, code, await call.details() or "")
        exchange.response_headers = self._redactor.headers(_pairs(await call.initial_metadata()))
        exchange.trailers = self._redactor.headers(_pairs(await call.trailing_metadata()))

    def _failed(self, exchange: Exchange, error: grpc.aio.AioRpcError) -> None:
        self._status(exchange, error.code(), error.details() or "")
        exchange.response_headers = self._redactor.headers(_pairs(error.initial_metadata()))
        exchange.trailers = self._redactor.headers(_pairs(error.trailing_metadata()))

    def _status(self, exchange: Exchange, code: grpc.StatusCode, details: str) -> None:
        exchange.status, exchange.reason = code.value[0], code.name
        if code != grpc.StatusCode.OK:
            exchange.error = self._redactor.text(f"{code.name}: {details}")
        exchange.ended_at = time.monotonic()

    def interceptors(self) -> list[grpc.aio.ClientInterceptor]:
        """The unary-unary and unary-stream interceptors, for `interceptors=` of a channel."""
        return as_interceptors(self.intercept_unary_unary, self.intercept_unary_stream)

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        record = current_record()
        call = await continuation(client_call_details, request)
        if record is None:
            return call
        exchange = self._begin(record, client_call_details, request)
        try:
            response = await call
        except grpc.aio.AioRpcError as error:
            self._failed(exchange, error)
            return call  # awaiting it again raises the same error for the caller
        except BaseException:
            exchange.error, exchange.ended_at = "CANCELLED: by the client", time.monotonic()
            raise
        self._message(record, exchange, response)
        await self._end(exchange, call)
        return call

    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        record = current_record()
        call = await continuation(client_call_details, request)
        if record is None:
            return call
        exchange = self._begin(record, client_call_details, request)
        # The SDK stops reading at the final event and may never close this generator
        # (the loop finalises it whenever it is collected): the call's own end records
        # the status and trailers.
        call.add_done_callback(lambda done: self._end_soon(exchange, done))
        return self._recorded_stream(record, exchange, call)

    def _end_soon(self, exchange: Exchange, call: grpc.aio.Call) -> None:
        if exchange.ended_at is not None or call.cancelled():
            return
        task = asyncio.ensure_future(self._end(exchange, call))
        self._ending.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._ending.discard)

    async def _recorded_stream(
        self, record: StreamRecord, exchange: Exchange, call: Any
    ) -> AsyncIterator[Any]:
        try:
            async for message in call:
                self._message(record, exchange, message)
                yield message
        except grpc.aio.AioRpcError as error:
            self._failed(exchange, error)
            raise
        finally:
            if exchange.ended_at is None:
                await self._settle(exchange, call)

    async def _settle(self, exchange: Exchange, call: Any) -> None:
        """The reader has left: record the end, or end a call still running (Stop, a
        closed tab)."""
        if call.done():
            await self._end(exchange, call)
        else:
            self._cancelled(exchange, call)

    @staticmethod
    def _cancelled(exchange: Exchange, call: Any) -> None:
        call.cancel()
        exchange.error, exchange.ended_at = "CANCELLED: by the client", time.monotonic()


def as_interceptors(
    intercept_unary_unary: _Intercept, intercept_unary_stream: _Intercept
) -> list[grpc.aio.ClientInterceptor]:
    """One interceptor object per kind (grpc.aio files an object under one kind only)."""
    return [_UnaryUnary(intercept_unary_unary), _UnaryStream(intercept_unary_stream)]


_Intercept = Callable[
    [Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]], grpc.aio.ClientCallDetails, Any],
    Awaitable[Any],
]


class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, intercept: _Intercept) -> None:
        self._intercept = intercept

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await self._intercept(continuation, client_call_details, request)


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, intercept: _Intercept) -> None:
        self._intercept = intercept

    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await self._intercept(continuation, client_call_details, request)
