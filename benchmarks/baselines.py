"""The contenders the app is measured against: the raw SDK and the usual workaround.

THIS FILE DEMONSTRATES THE BASELINES ON PURPOSE: it calls `asyncio.run` and makes its
own event loop, which the app never does (tests/test_static.py guards app.py, pages/ and
services/, not benchmarks/). Never copy the workaround into an app.

- raw: the a2a-sdk client on one plain asyncio loop, created once and kept, as a pure
  async program would: no Streamlit, no portal, no queue. The limit.
- workaround: what Streamlit apps do today to dodge "Event loop is closed": a fresh
  `httpx.AsyncClient` and a2a-sdk client inside a fresh `asyncio.run` per message. It is
  given the agent card once (plain data), so only what must be rebuilt per loop is.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import AgentCard, Message, Part, Role, SendMessageRequest

from services.client.agent import BINDINGS
from services.client.resources import DEFAULT_TIMEOUT

__all__ = ["RawClient", "StreamTiming", "fetch_card", "workaround_message"]

T = TypeVar("T")


@dataclass(frozen=True)
class StreamTiming:
    """One reply consumed: how many events, and when the first and the last came."""

    events: int
    first_event: float  # seconds after the send
    seconds: float  # from the send to the last event

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def request(text: str) -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)])
    return SendMessageRequest(message=message)


def _client(http: httpx.AsyncClient, card: AgentCard) -> Client:
    # The same bindings the app's service layer offers, so both speak JSON-RPC here.
    config = ClientConfig(httpx_client=http, streaming=True, supported_protocol_bindings=BINDINGS)
    return ClientFactory(config).create(card)


async def _fetch_card(url: str) -> AgentCard:
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as http:
        return await A2ACardResolver(http, url).get_agent_card()


def fetch_card(url: str) -> AgentCard:
    return asyncio.run(_fetch_card(url))


class RawClient:
    """The raw SDK client, kept on one plain asyncio loop as a pure-async app keeps it.

    The loop runs on its own thread so the benchmark can alternate it with the app's
    path; each reply is timed inside the loop, so that thread hop is never billed to it.
    """

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="raw-sdk-loop")
        self._thread.start()
        self._http, self._client = self._run(self._connect(url))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _connect(self, url: str) -> tuple[httpx.AsyncClient, Client]:
        http = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        card = await A2ACardResolver(http, url).get_agent_card()
        return http, _client(http, card)

    async def _stream(self, text: str) -> StreamTiming:
        events, first = 0, 0.0
        start = time.perf_counter()
        async for _response in self._client.send_message(request(text)):
            if not events:
                first = time.perf_counter() - start
            events += 1
        return StreamTiming(events, first, time.perf_counter() - start)

    def stream(self, text: str) -> StreamTiming:
        """Send `text` and consume the whole reply."""
        return self._run(self._stream(text))

    async def _aclose(self) -> None:
        await self._client.close()
        await self._http.aclose()

    def close(self) -> None:
        try:
            self._run(self._aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _workaround_message(card: AgentCard, text: str) -> int:
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as http:
        client = _client(http, card)
        try:
            return len([response async for response in client.send_message(request(text))])
        finally:
            await client.close()


def workaround_message(card: AgentCard, text: str) -> int:
    """One message the workaround's way: a new loop, httpx client and SDK client."""
    return asyncio.run(_workaround_message(card, text))
