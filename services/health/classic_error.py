"""Demonstrates the classic failure next to the fix, for the Loop health page.

THIS FILE DEMONSTRATES THE NAIVE PATTERN ON PURPOSE: it is the only file in the project
allowed to call `asyncio.run`. Never copy its `naive` half into an app.

- naive: one cached `httpx.AsyncClient` (what `st.cache_resource` or session state holds),
  used through a2a-sdk inside a fresh `asyncio.run` per message, as Streamlit reruns do.
  The first message works; the second reuses a pooled connection bound to the first,
  now closed, loop and fails with `RuntimeError: Event loop is closed`.
- portal: the same client created, used and closed on one long-lived loop reached through
  an anyio blocking portal. Every message works.

Run it alone: `python -m services.health.classic_error --agent http://127.0.0.1:9999`
(with no `--agent` it starts the demo agent itself). It prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from typing import Any

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest
from anyio.from_thread import start_blocking_portal

MESSAGES = 3
# A reply that is a task: its stream ends cleanly, so the connection goes back to the pool
# and the next message reuses it (a direct Message reply closes it, hiding the bug).
TEXT = "Book a trip"


async def _client(http: httpx.AsyncClient, url: str) -> Client:
    card = await A2ACardResolver(http, url).get_agent_card()
    return ClientFactory(ClientConfig(httpx_client=http, streaming=True)).create(card)


async def _send(client: Client, text: str) -> int:
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)])
    return len([event async for event in client.send_message(SendMessageRequest(message=message))])


def _outcome(number: int, action: Any) -> dict[str, Any]:
    try:
        events = action()
    except Exception as error:  # noqa: BLE001 - the point is to show what it raised
        return {"message": number, "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"message": number, "ok": True, "events": events}


def naive(url: str) -> list[dict[str, Any]]:
    """A cached client used from a new `asyncio.run` per message (the classic bug)."""
    http = httpx.AsyncClient()  # created once and kept, like a cached resource
    cached: dict[str, Client] = {}

    async def one_message() -> int:
        if "client" not in cached:
            cached["client"] = await _client(http, url)
        return await _send(cached["client"], TEXT)

    return [_outcome(n, lambda: asyncio.run(one_message())) for n in range(1, MESSAGES + 1)]


def portal(url: str) -> list[dict[str, Any]]:
    """The same work on one long-lived loop reached through a portal."""
    with start_blocking_portal(name="classic-demo-portal") as blocking_portal:
        http = blocking_portal.call(_make_http)
        client = blocking_portal.call(_client, http, url)
        results = [
            _outcome(n, lambda: blocking_portal.call(_send, client, TEXT))
            for n in range(1, MESSAGES + 1)
        ]
        blocking_portal.call(http.aclose)
    return results


async def _make_http() -> httpx.AsyncClient:
    return httpx.AsyncClient()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", help="an A2A agent's base URL (default: start the demo agent)")
    args = parser.parse_args()
    server = None
    url = args.agent
    if not url:
        from services.demo_agent import DemoAgentServer

        server = DemoAgentServer()
        url = server.url
    try:
        report = {"agent": url, "naive": naive(url), "portal": portal(url)}
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(report))  # noqa: T201 - the page reads this line


if __name__ == "__main__":
    main()
