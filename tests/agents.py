"""Purpose-built agents for the tests: each serves one way of being wrong, on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
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


def _jsonrpc_agent(
    base_url: str,
    name: str,
    stream: Callable[[Any, str, int], AsyncIterator[bytes]],
    *,
    card_fields: dict[str, Any] | None = None,
    routes: list[Route] | None = None,
) -> Starlette:
    """A card plus a JSON-RPC endpoint whose SSE body `stream(request_id, context_id, n)`
    writes (n counts requests from 1). `card_fields` override the card's, `routes` add
    endpoints."""
    from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface
    from google.protobuf.json_format import MessageToDict
    from starlette.responses import StreamingResponse

    fields: dict[str, Any] = {
        "name": name,
        "description": "A purpose-built test agent.",
        "version": "1.0.0",
        "supported_interfaces": [
            AgentInterface(url=f"{base_url}/", protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        "capabilities": AgentCapabilities(streaming=True),
        "default_input_modes": ["text/plain"],
        "default_output_modes": ["text/plain"],
    }
    card = AgentCard(**{**fields, **(card_fields or {})})
    requests = 0

    async def card_handler(_request: Request) -> Response:
        return JSONResponse(MessageToDict(card))

    async def rpc_handler(request: Request) -> Response:
        nonlocal requests
        requests += 1
        payload = await request.json()
        context_id = payload["params"]["message"].get("contextId") or "ctx-test"
        body = stream(payload["id"], context_id, requests)
        return StreamingResponse(body, media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/.well-known/agent-card.json", card_handler, methods=["GET"]),
            Route("/", rpc_handler, methods=["POST"]),
            *(routes or []),
        ]
    )


def sse(data: str) -> bytes:
    """One SSE frame carrying `data`."""
    return f"data: {data}\n\n".encode()


def rpc_result(request_id: Any, result: dict[str, Any]) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result})


Script = list[dict[str, Any] | str | float]


def scripted_app(script: Script, later: Script | None = None) -> Callable[[str], Starlette]:
    """An agent that answers a message with the SSE frames `script` lists, in order.

    A dict is a StreamResponse (sent as a JSON-RPC result), a str is sent as raw data, a
    float is a pause in seconds. Messages after the first get `later`, if given.
    """

    def factory(base_url: str) -> Starlette:
        async def stream(request_id: Any, _context_id: str, n: int) -> AsyncIterator[bytes]:
            for item in later if later is not None and n > 1 else script:
                if isinstance(item, float):
                    await anyio.sleep(item)
                    continue
                yield sse(item if isinstance(item, str) else rpc_result(request_id, item))
                await anyio.sleep(0.005)

        return _jsonrpc_agent(base_url, "Scripted Agent", stream)

    return factory


def broken_stream_app(base_url: str) -> Starlette:
    """A JSON-RPC agent whose odd-numbered streams die after a partial answer.

    Each broken stream sends a task and one artifact chunk, then the connection drops
    (the ASGI app raises mid-body, so the client sees an incomplete chunked response).
    Even-numbered requests get a normal one-message reply, so "the next message works".
    """
    from a2a.helpers.proto_helpers import new_text_message
    from a2a.types.a2a_pb2 import (
        Artifact,
        Part,
        StreamResponse,
        Task,
        TaskArtifactUpdateEvent,
        TaskState,
        TaskStatus,
    )
    from google.protobuf.json_format import MessageToDict

    def frame(request_id: Any, response: StreamResponse) -> bytes:
        return sse(rpc_result(request_id, MessageToDict(response)))

    async def stream(request_id: Any, context_id: str, n: int) -> AsyncIterator[bytes]:
        if n % 2 == 0:
            reply = new_text_message("Whole answer", context_id=context_id)
            yield frame(request_id, StreamResponse(message=reply))
            return
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

    return _jsonrpc_agent(base_url, "Broken Stream Agent", stream)


def header_spy(
    app_factory: Callable[[str], Any], seen: list[str], header: str = "authorization"
) -> Callable[[str], Any]:
    """Wrap an app so the `header` (Authorization unless told) of every request lands in
    `seen` ("" when it has none)."""

    def factory(base_url: str) -> Any:
        app = app_factory(base_url)

        async def spy(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                headers = dict(scope["headers"])
                seen.append(headers.get(header.lower().encode(), b"").decode())
            await app(scope, receive, send)

        return spy

    return factory


def cutting_proxy(upstream: str, cut_after_frames: int) -> Callable[[str], Starlette]:
    """A pass-through proxy to `upstream` that drops the first streamed reply after
    `cut_after_frames` SSE frames, as a network failure would, while the agent carries
    on. Everything after that (GetTask, SubscribeToTask, the next message) goes through.
    """
    from starlette.responses import StreamingResponse

    state = {"cut": False}

    def factory(base_url: str) -> Starlette:
        async def card(_request: Request) -> Response:
            async with httpx.AsyncClient() as client:
                upstream_card = await client.get(f"{upstream}/.well-known/agent-card.json")
            # Point the card's interfaces at the proxy.
            return Response(
                upstream_card.text.replace(upstream, base_url), media_type="application/json"
            )

        async def rpc(request: Request) -> Response:
            body = await request.body()
            cut = json.loads(body).get("method") == "SendStreamingMessage" and not state["cut"]
            state["cut"] = state["cut"] or cut
            client = httpx.AsyncClient(timeout=30)
            forwarded = client.build_request(
                "POST",
                f"{upstream}/",
                content=body,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )
            response = await client.send(forwarded, stream=True)

            async def relay() -> AsyncIterator[bytes]:
                frames = 0
                try:
                    async for chunk in response.aiter_raw():
                        yield chunk
                        frames += chunk.count(b"\n\n") + chunk.count(b"\r\n\r\n")
                        if cut and frames >= cut_after_frames:
                            raise ConnectionResetError("cut by the test proxy (on purpose)")
                finally:
                    await response.aclose()
                    await client.aclose()

            return StreamingResponse(
                relay(),
                status_code=response.status_code,
                media_type=response.headers.get("content-type"),
            )

        return Starlette(
            routes=[
                Route("/.well-known/agent-card.json", card, methods=["GET"]),
                Route("/", rpc, methods=["POST"]),
            ]
        )

    return factory


PIXEL_HITS: list[str] = []  # requests for the hostile agent's tracking pixel


def hostile_app(base_url: str) -> Starlette:
    """An agent whose every string tries to run script, inject elements, or make the
    viewer's browser fetch a URL (a tracking pixel it serves, counting hits)."""
    from a2a.types.a2a_pb2 import AgentSkill

    pixel = f"{base_url}/pixel.png"
    evil = (
        "<script>window.__pwned='script'</script>"
        "<img src=x onerror=\"window.__pwned='img'\">"
        " [click me](javascript:window.__pwned='link')"
        f" ![tracker]({pixel}?md) <a href=\"javascript:alert('a')\">a</a>"
        " <iframe src=\"javascript:alert('frame')\"></iframe> :red[fake-red] **bold**"
    )
    card_fields = {
        "description": evil,
        "version": "<b>1</b>",
        "skills": [
            AgentSkill(
                id="x",
                name="<script>alert('skill')</script>",
                description=evil,
                tags=["evil"],
                examples=["<img src=x onerror=alert('example')>", f"![t]({pixel}?example)"],
            )
        ],
    }
    frames: list[dict[str, Any]] = [
        {"task": {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING",
            "message": {"messageId": "s1", "role": "ROLE_AGENT", "parts": [{"text": evil}]}}}},
        {"artifactUpdate": {"taskId": "t1", "contextId": "c1", "lastChunk": True, "artifact": {
            "artifactId": "a1", "name": "<script>alert('artifact')</script>",
            "parts": [{"text": evil},
                      {"url": "javascript:alert('file')", "filename": "<b>file</b>.txt"},
                      {"raw": "aGk=", "filename": '"><img src=x onerror=alert(1)>.txt',
                       "mediaType": "text/plain"},
                      {"data": {"<script>": "<img src=x onerror=alert('data')>"}}]}}},
        {"statusUpdate": {"taskId": "t1", "contextId": "c1", "status": {
            "state": "TASK_STATE_COMPLETED",
            "message": {"messageId": "s2", "role": "ROLE_AGENT", "parts": [{"text": evil}]}}}},
    ]  # fmt: skip

    async def pixel_handler(request: Request) -> Response:
        PIXEL_HITS.append(str(request.url))
        return Response(b"GIF89a", media_type="image/gif")

    async def stream(request_id: Any, _context_id: str, _n: int) -> AsyncIterator[bytes]:
        for frame in frames:
            yield sse(rpc_result(request_id, frame))

    return _jsonrpc_agent(
        base_url,
        "<img src=x onerror=alert('name')>Evil Agent",
        stream,
        card_fields=card_fields,
        routes=[Route("/pixel.png", pixel_handler, methods=["GET"])],
    )


def header_recorder(
    app_factory: Callable[[str], Any], seen: list[dict[str, str]]
) -> Callable[[str], Any]:
    """Wrap an app so every request's path and headers land in `seen` (path under "")."""

    def factory(base_url: str) -> Any:
        app = app_factory(base_url)

        async def record(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
                raw_path = scope.get("raw_path") or scope["path"].encode()
                seen.append({"": raw_path.decode(), **headers})
            await app(scope, receive, send)

        return record

    return factory


def redirecting_agent(target: str, status: int = 307) -> Callable[[str], Starlette]:
    """An agent whose card paths, and anything else, answer `status` to the same path
    under `target` (another origin, or a path on its own when `target` starts with /)."""

    def factory(base_url: str) -> Starlette:
        async def away(request: Request) -> Response:
            base = base_url + target if target.startswith("/") else target
            where = base + ("" if target.startswith("/") else request.url.path)
            return Response(status_code=status, headers={"location": where})

        return _app(away)

    return factory


def moved_card_agent(base_url: str) -> Starlette:
    """A JSON-RPC agent whose card moved: /old/... answers 307 to the well-known path on
    the same origin, where a real card is."""

    async def moved(request: Request) -> Response:
        new = request.url.path.removeprefix("/old")
        return Response(status_code=307, headers={"location": f"{base_url}{new}"})

    async def stream(request_id: Any, _context_id: str, _n: int) -> AsyncIterator[bytes]:
        yield sse(rpc_result(request_id, {"message": {"messageId": "m1", "role": "ROLE_AGENT",
                                                      "parts": [{"text": "moved"}]}}))  # fmt: skip

    return _jsonrpc_agent(
        base_url,
        "Moved Card Agent",
        stream,
        routes=[Route("/old/{path:path}", moved, methods=["GET"])],
    )


def redirecting_rpc_agent(target: str) -> Callable[[str], Starlette]:
    """A JSON-RPC agent with a real card whose endpoint (/rpc) answers every message with
    307 to `target` (another origin), as an agent that moved its endpoint would."""

    def factory(base_url: str) -> Starlette:
        from a2a.types.a2a_pb2 import AgentInterface

        async def away(_request: Request) -> Response:
            return Response(status_code=307, headers={"location": target})

        async def never(_request_id: Any, _context_id: str, _n: int) -> AsyncIterator[bytes]:
            yield b""

        interface = AgentInterface(
            url=f"{base_url}/rpc", protocol_binding="JSONRPC", protocol_version="1.0"
        )
        return _jsonrpc_agent(
            base_url,
            "Moved Endpoint Agent",
            never,
            card_fields={"supported_interfaces": [interface]},
            routes=[Route("/rpc", away, methods=["POST"])],
        )

    return factory
