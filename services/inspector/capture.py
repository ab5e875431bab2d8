"""Records a session's A2A traffic without changing what the SDK sees.

`CapturingTransport` wraps the transport of the session's httpx client. While a reply's
pump runs, a context variable names the `StreamRecord` it belongs to; every request made
in that task becomes an `Exchange` of that record: request line, headers (redacted), body,
then the response status, headers and each body chunk with its monotonic receive time.
The SDK's own view of each event is added by the pump (`StreamRecord.add_event`).
gRPC calls are exchanges too (`protocol="grpc"`, recorded by `grpc_capture.GrpcCapture`):
each response message is one chunk of JSON, and one frame.

SSE frames are decoded later, on the reader's thread, by httpx-sse over the recorded
chunks (`frames`), so the loop only appends bytes. Memory is bounded: the recorder keeps
the last `max_streams` streams and at most `max_bytes` of body per stream, marking the cut
(the SDK's events past it are not kept either).
"""

from __future__ import annotations

import contextvars
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from httpx_sse import EventSource

from services.redact import Redactor
from services.replies import ReplyEvent

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_STREAMS",
    "CapturingTransport",
    "Chunk",
    "Exchange",
    "Frame",
    "SdkEvent",
    "StreamRecord",
    "TrafficRecorder",
    "capturing",
    "current_record",
    "frames",
]

DEFAULT_MAX_STREAMS = 20
DEFAULT_MAX_BYTES = 2_000_000

_current: contextvars.ContextVar[StreamRecord | None] = contextvars.ContextVar(
    "a2a_stream_record", default=None
)


# (time.monotonic() when it arrived, the bytes). A plain tuple of a float and bytes:
# CPython's garbage collector stops tracking such tuples, and a busy server keeps
# hundreds of thousands of chunks, which a class instance each would make every full
# collection walk (a pause for every session).
Chunk = tuple[float, bytes]
# (exchange seq, time.monotonic() it was handed over, the StreamResponse serialized): an
# event as the SDK handed it to the app, kept GC-untracked for the same reason.
SdkEvent = tuple[int, float, bytes]


@dataclass
class Exchange:
    """One HTTP request and its response, as seen on the wire."""

    seq: int
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str
    started_at: float
    status: int = 0
    reason: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    first_byte_at: float | None = None
    ended_at: float | None = None
    bytes_received: int = 0
    truncated: bool = False  # body bytes past the stream's budget were not kept
    error: str = ""
    # "grpc": `method` is the full method name, `url` the target (grpc[s]://host:port),
    # headers are metadata, chunks are response messages as JSON, `status`/`reason` the
    # status code's number and name, `trailers` the trailing metadata.
    protocol: str = "http"
    trailers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.response_headers if k.lower() == "content-type"), "")

    @property
    def is_sse(self) -> bool:
        return "text/event-stream" in self.content_type

    @property
    def request_json(self) -> Any:
        try:
            return json.loads(self.request_body)
        except ValueError:
            return None

    @property
    def rpc_method(self) -> str:
        body = self.request_json
        return str(body.get("method", "")) if isinstance(body, dict) else ""


@dataclass
class StreamRecord:
    """Everything recorded for one message sent to an agent."""

    id: int
    label: str
    agent_url: str
    binding: str = ""
    protocol_version: str = ""
    started_at: float = field(default_factory=time.monotonic)
    started_wall: float = field(default_factory=time.time)
    exchanges: list[Exchange] = field(default_factory=list)
    events: list[SdkEvent] = field(default_factory=list)
    ended_at: float | None = None
    error: str = ""
    max_bytes: int = DEFAULT_MAX_BYTES
    bytes_kept: int = 0
    imported_frames: list[Frame] | None = None  # set for streams read from a file

    @property
    def done(self) -> bool:
        return self.ended_at is not None

    @property
    def truncated(self) -> bool:
        return any(e.truncated for e in self.exchanges)

    def add_event(self, event: ReplyEvent) -> None:
        """Keep `event` with the exchange that was on the wire, and mark it as ours.

        Once that exchange's body is cut (past `max_bytes`), its events have no frame to be
        shown with, and keeping them would let a long stream grow without bound.
        """
        event.stream_id = self.id  # so a reply can link to this record
        exchange = self.exchanges[-1] if self.exchanges else None
        if exchange is not None and exchange.truncated:
            return
        self.events.append((exchange.seq if exchange else 0, event.received_at, event.wire))

    def finish(self, error: str = "") -> None:
        self.error = self.error or error
        self.ended_at = time.monotonic()


class TrafficRecorder:
    """The session's recent streams; appended on the loop, read from the script thread."""

    def __init__(
        self,
        redactor: Redactor | None = None,
        *,
        max_streams: int = DEFAULT_MAX_STREAMS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.redactor = redactor or Redactor()
        self.max_bytes = max_bytes
        self.max_streams = max_streams
        self._ids = itertools.count(1)  # streams are numbered per session
        self._streams: deque[StreamRecord] = deque(maxlen=max_streams)
        self._lock = threading.Lock()

    def begin(
        self, label: str, agent_url: str, *, binding: str = "", version: str = ""
    ) -> StreamRecord:
        record = StreamRecord(
            next(self._ids),
            self.redactor.text(label),
            agent_url,
            binding=binding,
            protocol_version=version,
            max_bytes=self.max_bytes,
        )
        with self._lock:
            self._streams.append(record)
        return record

    def restore(self, records: list[StreamRecord]) -> None:
        """Streams kept from earlier sessions of this workspace (read from the store);
        new streams are numbered after them, so a reply's link keeps pointing at its own."""
        with self._lock:
            for record in sorted(records, key=lambda r: r.id)[-self.max_streams :]:
                self._streams.append(record)
            last = max((r.id for r in self._streams), default=0)
            self._ids = itertools.count(last + 1)

    def streams(self) -> list[StreamRecord]:
        """Snapshots of the kept streams, oldest first (safe to read while they grow)."""
        with self._lock:
            return [_snapshot(r) for r in self._streams]

    def keeps(self, stream_id: int) -> bool:
        """The stream is still kept (only the last `max_streams` are)."""
        with self._lock:
            return any(r.id == stream_id for r in self._streams)

    def stream(self, stream_id: int) -> StreamRecord | None:
        with self._lock:
            found = next((r for r in self._streams if r.id == stream_id), None)
            return _snapshot(found) if found is not None else None


def _snapshot(record: StreamRecord) -> StreamRecord:
    # Lists are only ever appended to, so shallow copies give a consistent prefix.
    exchanges = [replace(e, chunks=list(e.chunks)) for e in list(record.exchanges)]
    return replace(record, exchanges=exchanges, events=list(record.events))


def current_record() -> StreamRecord | None:
    """The record traffic of the current task belongs to, if inside `capturing`."""
    return _current.get()


@contextmanager
def capturing(record: StreamRecord) -> Iterator[StreamRecord]:
    """Attribute the HTTP traffic of the current task to `record` while inside."""
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


class CapturingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that records exchanges made inside `capturing(...)`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, redactor: Redactor) -> None:
        self._inner = inner
        self._redactor = redactor
        self._seq = itertools.count(1)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record = _current.get()
        if record is None:
            return await self._inner.handle_async_request(request)
        body = (await request.aread()).decode("utf-8", "replace")
        exchange = Exchange(
            seq=next(self._seq),
            method=request.method,
            url=self._redactor.text(str(request.url)),
            request_headers=self._redactor.headers(request.headers.multi_items()),
            request_body=self._redactor.text(body),
            started_at=time.monotonic(),
        )
        record.exchanges.append(exchange)
        try:
            response = await self._inner.handle_async_request(request)
        except Exception as error:
            exchange.error = f"{type(error).__name__}: {self._redactor.text(str(error))}"
            exchange.ended_at = time.monotonic()
            raise
        exchange.status = response.status_code
        exchange.reason = str(response.extensions.get("reason_phrase", b""), "ascii", "replace")
        exchange.response_headers = self._redactor.headers(response.headers.multi_items())
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CapturingStream(response.stream, exchange, record),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()

    def connection_counts(self) -> tuple[int, int]:
        """(open, idle) connections in the pool. Call on the client's loop.

        Asks an inner transport that counts its own (one that holds several pools);
        else reads httpx's private `_pool` (an httpcore pool); (0, 0) if that ever moves.
        """
        counts = getattr(self._inner, "connection_counts", None)
        if callable(counts):
            opened, idle = counts()
            return int(opened), int(idle)
        connections = getattr(getattr(self._inner, "_pool", None), "connections", [])
        alive = [c for c in connections if not c.is_closed()]
        return len(alive), sum(1 for c in alive if c.is_idle())


class _CapturingStream(httpx.AsyncByteStream):
    def __init__(
        self, inner: httpx.AsyncByteStream, exchange: Exchange, record: StreamRecord
    ) -> None:
        self._inner = inner
        self._exchange = exchange
        self._record = record

    async def __aiter__(self) -> AsyncIterator[bytes]:
        exchange, record = self._exchange, self._record
        try:
            async for chunk in self._inner:
                now = time.monotonic()
                if exchange.first_byte_at is None:
                    exchange.first_byte_at = now
                exchange.bytes_received += len(chunk)
                if record.bytes_kept + len(chunk) <= record.max_bytes:
                    record.bytes_kept += len(chunk)
                    exchange.chunks.append((now, chunk))
                else:
                    exchange.truncated = True
                yield chunk
        except Exception as error:
            exchange.error = f"{type(error).__name__}: {error}"
            raise
        finally:
            exchange.ended_at = time.monotonic()

    async def aclose(self) -> None:
        await self._inner.aclose()
        if self._exchange.ended_at is None:
            self._exchange.ended_at = time.monotonic()


# --- decoding -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One SSE frame (or a whole JSON body, for exchanges that are not streams)."""

    exchange_seq: int
    event: str
    data: str
    id: str = ""
    retry: int | None = None
    at: float = 0.0  # when the chunk that completed it arrived

    @property
    def raw(self) -> str:
        """The frame as it looked on the wire."""
        lines = [f"event: {self.event}"] if self.event and self.event != "message" else []
        if self.id:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        lines += [f"data: {line}" for line in self.data.split("\n")]
        return "\n".join(lines)

    def json(self) -> Any:
        """The data as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError:
            return None


def frames(exchange: Exchange, redactor: Redactor | None = None) -> list[Frame]:
    """The exchange's frames, decoded from its recorded chunks by httpx-sse."""
    redact = redactor.text if redactor else (lambda s: s)
    if not exchange.chunks:
        return []
    if exchange.protocol == "grpc":  # one response message per chunk
        return [
            Frame(exchange.seq, "", redact(data.decode("utf-8", "replace")), at=at)
            for at, data in exchange.chunks
        ]
    if not exchange.is_sse:
        body = b"".join(data for _, data in exchange.chunks).decode("utf-8", "replace")
        return [Frame(exchange.seq, "", redact(body), at=exchange.chunks[-1][0])]
    clock = _Clock(exchange.chunks)
    response = httpx.Response(
        exchange.status or 200, headers=exchange.response_headers, stream=clock
    )
    return [
        Frame(exchange.seq, sse.event, redact(sse.data), sse.id, sse.retry, clock.now)
        for sse in EventSource(response).iter_sse()
        if sse.data or sse.event != "message"
    ]


class _Clock(httpx.SyncByteStream):
    """Replays recorded chunks, remembering when the last one handed out arrived."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._chunks = chunks
        self.now = chunks[0][0]

    def __iter__(self) -> Iterator[bytes]:
        for at, data in self._chunks:
            self.now = at
            yield data
