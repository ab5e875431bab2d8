"""Replay: send a recorded request again through the session's httpx client, recorded.

The request goes out as it was recorded (method, URL, JSON body, or the body as edited)
through the session's one httpx client, so its hooks apply as for any call: the allow
list, and the credentials for the URL's origin. The recorded headers are not replayed:
they were redacted, and credentials come from the session. Only the protocol's own
headers are carried over (`REPLAYED_HEADERS`: without A2A-Version a 1.0 agent reads the
request as 0.3). The capturing transport records the replay as a new stream, frames and
times alike; each frame is also parsed to a `StreamResponse` as the SDK would, so the
inspector pairs them as it does for a chat reply.

A gRPC record is replayed through an a2a-sdk client on the session's gRPC channel (its
interceptors record the call and add the agent's credentials as metadata): the recorded
request JSON parsed back into its message, the same method called again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    SendMessageRequest,
    StreamResponse,
    Task,
)
from google.protobuf.json_format import ParseDict, ParseError
from google.protobuf.message import Message
from httpx_sse import EventSource

from services.client import resources
from services.client.agent import connection_for
from services.client.composer import MAX_REQUEST_BYTES
from services.errors import AppError, translate_errors
from services.formats import FileRejected, load_json
from services.inspector.capture import StreamRecord, capturing
from services.inspector.replay import NotReplayable, replayable
from services.replies import ReplyEvent, to_reply_event
from services.runtime import EventStream, SessionRuntime

__all__ = [
    "REPLAYED_HEADERS",
    "ReplayRequest",
    "areplay",
    "replay",
    "replay_request",
]

# Headers that say what the request is, never who sends it (credentials are re-applied).
REPLAYED_HEADERS = frozenset(
    {"accept", "content-type", "a2a-version", "a2a-extensions", "x-a2a-extensions"}
)


@dataclass(frozen=True)
class ReplayRequest:
    """What a replay sends, and where its record points."""

    original_id: int
    method: str
    url: str
    body: str
    headers: tuple[tuple[str, str], ...]
    agent_url: str
    binding: str
    protocol_version: str

    @property
    def label(self) -> str:
        return f"Replay of #{self.original_id}"


def replay_request(record: StreamRecord, body: str | None = None) -> ReplayRequest:
    """The request that opened `record`, with `body` instead of the recorded one if given.

    Raises `NotReplayable` with a sentence: a stream with no such request, or an edited
    body that is not JSON (bounded as the composer's).
    """
    exchange = replayable(record)
    text = exchange.request_body if body is None else body
    if text.strip():
        try:
            value = load_json(text, what="request body", max_bytes=MAX_REQUEST_BYTES)
        except FileRejected as error:
            raise NotReplayable(str(error)) from error
        if exchange.protocol == "grpc":
            _grpc_request(exchange.method, value)  # a sentence now, not a failed stream
    headers = tuple(
        (name, value)
        for name, value in exchange.request_headers
        if name.lower() in REPLAYED_HEADERS
    )
    return ReplayRequest(
        original_id=record.id,
        # A gRPC method is a path (`/lf.a2a.v1.A2AService/GetTask`), spelled as it is.
        method=exchange.method if exchange.protocol == "grpc" else exchange.method.upper(),
        url=exchange.url,
        body=text if text.strip() else "",
        headers=headers,
        agent_url=record.agent_url,
        binding=record.binding,
        protocol_version=record.protocol_version,
    )


def _event(data: str) -> ReplyEvent | None:
    """A frame's (or body's) data as the SDK's event; None for errors and non-A2A data."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if isinstance(value, dict) and ("result" in value or "error" in value):
        value = value.get("result")  # JSON-RPC: the result is the StreamResponse
    if not isinstance(value, dict):
        return None
    response = StreamResponse()
    try:
        ParseDict(value, response, ignore_unknown_fields=True)
        if response.WhichOneof("payload") is None and "status" in value:
            response = StreamResponse(task=ParseDict(value, Task(), ignore_unknown_fields=True))
    except (ParseError, ValueError, TypeError):
        return None
    if response.WhichOneof("payload") is None:
        return None
    return to_reply_event(response)


_GRPC_REQUESTS: dict[str, type[Message]] = {
    "SendStreamingMessage": SendMessageRequest,
    "SendMessage": SendMessageRequest,
    "GetTask": GetTaskRequest,
    "ListTasks": ListTasksRequest,
    "CancelTask": CancelTaskRequest,
}


def _grpc_request(method: str, value: object) -> Message:
    """The recorded (or edited) JSON as the message `method` takes; `NotReplayable` with
    a sentence if it is not one."""
    name = method.rsplit("/", 1)[-1]
    kind = _GRPC_REQUESTS.get(name)
    if kind is None:
        raise NotReplayable(f"A gRPC replay cannot call {name}.")
    try:
        return ParseDict(value, kind())
    except (ParseError, TypeError, ValueError) as error:
        raise NotReplayable(f"The request is not a {kind.DESCRIPTOR.name}: {error}.") from error


async def _agrpc_client(runtime: SessionRuntime, agent_url: str, *, streaming: bool) -> Client:
    connection = await connection_for(runtime, agent_url)
    config = ClientConfig(
        httpx_client=await resources.ahttp(runtime),
        streaming=streaming,
        supported_protocol_bindings=["GRPC"],
        grpc_channel_factory=await resources.agrpc_channel_factory(runtime, agent_url),
    )
    return ClientFactory(config).create(connection.card)


async def _agrpc_responses(
    runtime: SessionRuntime, request: ReplayRequest
) -> AsyncIterator[StreamResponse]:
    name = request.method.rsplit("/", 1)[-1]
    message = _grpc_request(request.method, json.loads(request.body or "{}"))
    client = await _agrpc_client(runtime, request.agent_url, streaming=name != "SendMessage")
    try:
        if isinstance(message, SendMessageRequest):
            async for response in client.send_message(message):
                yield response
        elif isinstance(message, GetTaskRequest):
            yield StreamResponse(task=await client.get_task(message))
        elif isinstance(message, CancelTaskRequest):
            yield StreamResponse(task=await client.cancel_task(message))
        elif isinstance(message, ListTasksRequest):
            for task in (await client.list_tasks(message)).tasks:
                yield StreamResponse(task=task)
    finally:
        await client.close()  # the session's channel stays open (see grpc_channels)


async def _areplay_grpc(
    runtime: SessionRuntime, request: ReplayRequest, record: StreamRecord
) -> AsyncIterator[ReplyEvent]:
    error = ""
    with capturing(record):
        try:
            with translate_errors(request.agent_url, streaming=True):
                async for response in _agrpc_responses(runtime, request):
                    event = to_reply_event(response)
                    record.add_event(event)
                    yield event
        except AppError as failure:
            error = str(failure)
            raise
        finally:
            record.finish(error)


async def areplay(
    runtime: SessionRuntime, request: ReplayRequest, record: StreamRecord
) -> AsyncIterator[ReplyEvent]:
    """Send `request` on the runtime's loop, recorded in `record`; yield its events."""
    if request.binding.upper() == "GRPC":
        async for grpc_event in _areplay_grpc(runtime, request, record):
            yield grpc_event
        return
    http = await resources.ahttp(runtime)
    error = ""
    with capturing(record):
        try:
            with translate_errors(request.agent_url, streaming=True):
                async with http.stream(
                    request.method,
                    request.url,
                    content=request.body.encode("utf-8") if request.body else None,
                    headers=list(request.headers),
                ) as response:
                    if "text/event-stream" in response.headers.get("content-type", ""):
                        async for sse in EventSource(response).aiter_sse():
                            if (event := _event(sse.data)) is not None:
                                record.add_event(event)
                                yield event
                    else:
                        body = (await response.aread()).decode("utf-8", "replace")
                        if (event := _event(body)) is not None:
                            record.add_event(event)
                            yield event
                    if response.status_code >= 400:
                        error = (
                            f"The agent answered the replay with HTTP {response.status_code} "
                            f"{response.reason_phrase}."
                        )
        except AppError as failure:
            error = str(failure)
            raise
        finally:
            record.finish(error)


def replay(
    runtime: SessionRuntime,
    request: ReplayRequest,
    *,
    checkpoint: Callable[[], None] | None = None,
) -> tuple[StreamRecord, EventStream[ReplyEvent]]:
    """Start the replay (cancelling any other stream of this session): its new record,
    labelled "Replay of #N", and its events."""
    record = resources.recorder(runtime).begin(
        request.label,
        request.agent_url,
        binding=request.binding,
        version=request.protocol_version,
    )
    return record, runtime.stream(lambda: areplay(runtime, request, record), checkpoint=checkpoint)
