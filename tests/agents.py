"""Purpose-built agents for the tests: each serves one way of being wrong, on loopback."""

from __future__ import annotations

from collections.abc import Callable

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
