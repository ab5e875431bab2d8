"""A test agent that answers each message with one hostile shape, chosen by its words.

"status N": N status updates, then done. "table R C": an R x C markdown table.
"line N": one line of N characters. "code N": a code block of N lines. "artifacts N": N
artifacts. "deep N": a data part nested N deep (raw JSON, past any parser's limit).
"nan": data holding NaN and Infinity (JSON literals Python accepts). "images": every
markdown form of an image, each pointing at the agent's own pixel (hits counted), and a
file part whose URL tries to smuggle one in. "rpcerror": a JSON-RPC error whose message
holds markup. ListTasks and GetTask answer with one task whose ids and history do too.
Frames go out in large writes, so even 50,000 events take seconds, not minutes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.agents import sse

PIXEL_HITS: list[str] = []
TASK = "task-shape"
BATCH = 500  # frames per write


def image_forms(pixel: str) -> list[str]:
    """Markdown image forms that got past the old regular expressions, and the usual."""
    return [
        f"![plain]({pixel}?plain)",
        f"![a [nested] alt]({pixel}?nested)",
        f"![alt with a\nnewline]({pixel}?newline)",
        "![shortcut]\n\n[shortcut]: " + f"{pixel}?shortcut",
        "![full][ref]\n\n[ref]: " + f"{pixel}?full",
        f"![]({pixel}?empty-alt)",
        f'<{pixel}?autolink> and ![titled]({pixel}?titled "t")',
        f"| a |\n|---|\n| ![cell]({pixel}?table) |",
        f"> ![quoted]({pixel}?quote)",
    ]


def _status(i: int, state: str = "TASK_STATE_WORKING", text: str = "") -> dict[str, Any]:
    message = {"messageId": f"s{i}", "role": "ROLE_AGENT", "parts": [{"text": text}]}
    return {"statusUpdate": {"taskId": TASK, "contextId": "ctx-shape", "status": {
        "state": state, **({"message": message} if text else {})}}}  # fmt: skip


def _artifact(i: int, parts: list[dict[str, Any]], name: str = "") -> dict[str, Any]:
    return {"artifactUpdate": {"taskId": TASK, "contextId": "ctx-shape", "lastChunk": True,
            "artifact": {"artifactId": f"a{i}", "name": name or f"artifact {i}",
                         "parts": parts}}}  # fmt: skip


def _frames(text: str, pixel: str) -> list[dict[str, Any] | str]:
    words = text.split()
    kind, numbers = words[0], [int(w) for w in words[1:] if w.isdigit()]
    count = numbers[0] if numbers else 10
    task = {"task": {"id": TASK, "contextId": "ctx-shape",
                     "status": {"state": "TASK_STATE_WORKING"}}}  # fmt: skip
    body: list[dict[str, Any] | str] = []
    if kind == "status":
        body = [_status(i, text=f"Step {i} of {count}") for i in range(1, count + 1)]
    elif kind == "table":
        columns = numbers[1] if len(numbers) > 1 else 50
        head = "| " + " | ".join(f"c{c}" for c in range(columns)) + " |\n"
        rule = "|" + "---|" * columns + "\n"
        rows = "".join(
            "| " + " | ".join(f"r{r}c{c}" for c in range(columns)) + " |\n" for r in range(count)
        )
        body = [_artifact(1, [{"text": head + rule + rows}], "table")]
    elif kind == "line":
        body = [_artifact(1, [{"text": "x" * count}], "line")]
    elif kind == "code":
        code = "```python\n" + "".join(f"print({i})\n" for i in range(count)) + "```\n"
        body = [_artifact(1, [{"text": code}], "code")]
    elif kind == "artifacts":
        body = [_artifact(i, [{"text": f"artifact {i}"}]) for i in range(count)]
    elif kind == "deep":
        nested = "[" * count + "]" * count
        body = [json.dumps(_artifact(1, [{"data": "DEEP"}])).replace('"DEEP"', nested)]
    elif kind == "nan":
        body = [json.dumps(_artifact(1, [{"data": {"ok": 1, "bad": "NAN", "big": "INF"}}]))
                .replace('"NAN"', "NaN").replace('"INF"', "Infinity")]  # fmt: skip
    elif kind == "images":
        body = [_artifact(i, [{"text": form}]) for i, form in enumerate(image_forms(pixel))]
        smuggled = {"url": f"http://x.example/a) ![f]({pixel}?fileurl", "filename": "f.txt"}
        body.append(_artifact(99, [smuggled], name=f"![name]({pixel}?artifact-name)"))
        body.append(_status(0, text=f"working on ![status]({pixel}?status)"))
    return [task, *body, _status(count + 1, "TASK_STATE_COMPLETED", f"Done: {kind}.")]


def shapes_app(base_url: str, *, skills: int = 1) -> Starlette:
    """The agent; `skills` sets how many skills its card lists (5,000 is a hostile card)."""
    pixel = f"{base_url}/pixel.png"
    card = {
        "name": "Shapes Agent",
        "description": f"Answers with hostile shapes. ![card]({pixel}?card)",
        "version": "1.0.0",
        "supportedInterfaces": [
            {"url": f"{base_url}/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
        "capabilities": {"streaming": True},
        "defaultInputModes": ["text/plain", f"![mode]({pixel}?mode)"],
        "defaultOutputModes": ["text/plain"],
        "documentationUrl": f"![doc]({pixel}?doc)",
        "skills": [
            {"id": f"s{i}", "name": f"Skill {i}", "description": "A skill.", "tags": ["t"],
             "examples": [f"status {i}"]}
            for i in range(skills)
        ],
    }  # fmt: skip

    async def card_handler(_request: Request) -> Response:
        return JSONResponse(card)

    async def pixel_handler(request: Request) -> Response:
        PIXEL_HITS.append(str(request.url))
        return Response(b"GIF89a", media_type="image/gif")

    task = {
        "id": f":red[evil] ![id]({pixel}?task-id)",
        "contextId": f"**ctx** ![ctx]({pixel}?context)",
        "status": {"state": "TASK_STATE_COMPLETED", "message": {
            "messageId": "m0", "role": "ROLE_AGENT",
            "parts": [{"text": f"done ![st]({pixel}?task-status)"}]}},
        "history": [{"messageId": f"h{i}", "role": "ROLE_USER" if i % 2 else "ROLE_AGENT",
                     "parts": [{"text": f"history ![h]({pixel}?history-{i})"}]}
                    for i in range(3)],
    }  # fmt: skip

    async def rpc_handler(request: Request) -> Response:
        payload = await request.json()
        method = payload.get("method")
        if method in ("ListTasks", "GetTask"):
            result = (
                {"tasks": [task], "totalSize": 1, "pageSize": 1} if method == "ListTasks" else task
            )
            return JSONResponse({"jsonrpc": "2.0", "id": payload["id"], "result": result})
        parts = payload["params"]["message"].get("parts", [])
        text = " ".join(p.get("text", "") for p in parts) or "status 1"
        if text.startswith("rpcerror"):
            error = {"code": -32603, "message": f":red[boom] **b** ![e]({pixel}?rpc-error)"}
            body_error = json.dumps({"jsonrpc": "2.0", "id": payload["id"], "error": error})
            return StreamingResponse(iter([sse(body_error)]), media_type="text/event-stream")
        frames = _frames(text, pixel)

        request_id = json.dumps(payload["id"])

        def frame(item: dict[str, Any] | str) -> bytes:
            # A str is a StreamResponse written by hand (NaN, deep nesting): sent as it is.
            result = item if isinstance(item, str) else json.dumps(item)
            return sse(f'{{"jsonrpc": "2.0", "id": {request_id}, "result": {result}}}')

        async def body() -> AsyncIterator[bytes]:
            for start in range(0, len(frames), BATCH):
                yield b"".join(frame(f) for f in frames[start : start + BATCH])

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/.well-known/agent-card.json", card_handler, methods=["GET"]),
            Route("/pixel.png", pixel_handler, methods=["GET"]),
            Route("/", rpc_handler, methods=["POST"]),
        ]
    )


def deep_card_app(_base_url: str) -> Starlette:
    """Serves a card that is JSON nested 100,000 deep."""
    deep = '{"name": "Deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"

    async def handler(_request: Request) -> Response:
        return Response(deep, media_type="application/json")

    return Starlette(routes=[Route("/.well-known/agent-card.json", handler, methods=["GET"])])
