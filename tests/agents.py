"""Purpose-built agents for the tests: each serves one way of being wrong, on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


def _app(handler: object, path: str = "/{path:path}") -> Starlette:
    return Starlette(routes=[Route(path, handler, methods=["GET", "POST"])])  # type: ignore[arg-type]


def not_found_app(_base_url: str) -> Starlette:
    """Answers 404 to everything: a web server with no agent on it."""

    async def handler(_request: Request) -> Response:
        return PlainTextResponse("Not Found", status_code=404)

    return _app(handler)


def html_app(_base_url: str) -> Starlette:
    """Answers an HTML page to everything, as a single-page app's catch-all does."""

    async def handler(_request: Request) -> Response:
        return HTMLResponse("<!doctype html><html><body><h1>Welcome</h1></body></html>")

    return _app(handler)


def bad_card_app(_base_url: str) -> Starlette:
    """Serves JSON at the card path, but with fields of the wrong types."""

    async def handler(_request: Request) -> Response:
        return JSONResponse({"name": ["not", "a", "string"], "skills": "none", "version": 3})

    return _app(handler, "/.well-known/agent-card.json")


def legacy_card_app(rpc_url: str) -> Callable[[str], Starlette]:
    """Serves a protocol 0.3 card only at the legacy path, pointing at `rpc_url`."""

    def factory(_base_url: str) -> Starlette:
        card = {
            "name": "Legacy Agent",
            "description": "A protocol 0.3 card at /.well-known/agent.json.",
            "url": rpc_url,
            "version": "0.3.0",
            "protocolVersion": "0.3.0",
            "preferredTransport": "JSONRPC",
            "capabilities": {"streaming": True},
            "defaultInputModes": ["text/plain"],
            "defaultOutputModes": ["text/plain"],
            "skills": [
                {
                    "id": "chat",
                    "name": "Chat",
                    "description": "Talks.",
                    "tags": ["demo"],
                    "examples": ["hello"],
                }
            ],
        }

        async def handler(_request: Request) -> Response:
            return JSONResponse(card)

        return _app(handler, "/.well-known/agent.json")

    return factory


def broken_stream_app(base_url: str) -> Starlette:
    """A JSON-RPC agent whose odd-numbered streams die after a partial answer.

    Each broken stream sends a task and one artifact chunk, then the connection drops
    (the ASGI app raises mid-body, so the client sees an incomplete chunked response).
    Even-numbered requests get a normal one-message reply, so "the next message works".
    """
    from a2a.helpers.proto_helpers import new_text_message
    from a2a.types.a2a_pb2 import (
        AgentCapabilities,
        AgentCard,
        AgentInterface,
        Artifact,
        Part,
        StreamResponse,
        Task,
        TaskArtifactUpdateEvent,
        TaskState,
        TaskStatus,
    )
    from google.protobuf.json_format import MessageToDict
    from starlette.responses import StreamingResponse

    card = AgentCard(
        name="Broken Stream Agent",
        description="Drops every other stream half way.",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=f"{base_url}/", protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
    )
    requests = 0

    def frame(request_id: object, response: StreamResponse) -> bytes:
        body = {"jsonrpc": "2.0", "id": request_id, "result": MessageToDict(response)}
        return f"data: {json.dumps(body)}\n\n".encode()

    async def card_handler(_request: Request) -> Response:
        return JSONResponse(MessageToDict(card))

    async def rpc_handler(request: Request) -> Response:
        nonlocal requests
        requests += 1
        payload = await request.json()
        request_id = payload["id"]
        context_id = payload["params"]["message"].get("contextId") or "ctx-broken"

        async def broken() -> AsyncIterator[bytes]:
            task = Task(
                id="task-broken",
                context_id=context_id,
                status=TaskStatus(state=TaskState.TASK_STATE_WORKING),
            )
            yield frame(request_id, StreamResponse(task=task))
            chunk = TaskArtifactUpdateEvent(
                task_id="task-broken",
                context_id=context_id,
                artifact=Artifact(artifact_id="a1", parts=[Part(text="Partial answer")]),
            )
            yield frame(request_id, StreamResponse(artifact_update=chunk))
            await anyio.sleep(0.05)
            raise ConnectionResetError("the agent died mid-stream (on purpose)")

        async def whole() -> AsyncIterator[bytes]:
            reply = new_text_message("Whole answer", context_id=context_id)
            yield frame(request_id, StreamResponse(message=reply))

        stream = broken() if requests % 2 else whole()
        return StreamingResponse(stream, media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/.well-known/agent-card.json", card_handler, methods=["GET"]),
            Route("/", rpc_handler, methods=["POST"]),
        ]
    )
