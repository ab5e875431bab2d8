"""The contenders the app is measured against: the raw SDK and the usual workaround.

THIS FILE DEMONSTRATES THE BASELINES ON PURPOSE: it calls `asyncio.run` and makes its
own event loop, which the app never does (tests/test_static.py guards app.py, app_pages/ and
services/, not benchmarks/). Never copy the workaround into an app.

- raw: the a2a-sdk client on one plain asyncio loop, created once and kept, as a pure
  async program would: no Streamlit, no portal, no queue. The limit. For many sessions at
  once (`RawSessions`), every session's stream is a task on that one loop.
- raw on a loop per session (`RawLoops`): the same SDK clients, each on its own plain loop
  thread and called from its own thread, as the app's sessions are laid out, but with no
  portal, pump, queue or service layer: what the layout costs, apart from the app.
- workaround: what Streamlit apps do today to dodge "Event loop is closed": a fresh
  `httpx.AsyncClient` and a2a-sdk client inside a fresh `asyncio.run` per message. It is
  given the agent card once (plain data), so only what must be rebuilt per loop is.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import AgentCard, Message, Part, Role, SendMessageRequest

from services.client.agent import BINDINGS
from services.client.resources import DEFAULT_TIMEOUT

__all__ = [
    "RawClient",
    "RawLoops",
    "RawSessions",
    "SessionsTiming",
    "StreamTiming",
    "at_once",
    "fetch_card",
    "workaround_message",
]

T = TypeVar("T")


@dataclass(frozen=True)
class StreamTiming:
    """One reply consumed: how many events, and when the first and the last came."""

    events: int
    first_event: float  # seconds after the send
    seconds: float  # from the send to the last event
    started: float = 0.0  # time.perf_counter() at the send

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class SessionsTiming:
    """Many replies consumed at once, timed from the moment they were all sent."""

    events: int
    seconds: float  # from the common start to the last event of the last reply
    first_events: tuple[float, ...]  # each reply's first event, seconds after the start

    @classmethod
    def of(cls, start: float, replies: list[StreamTiming]) -> SessionsTiming:
        return cls(
            events=sum(r.events for r in replies),
            seconds=max(r.started + r.seconds for r in replies) - start,
            first_events=tuple(r.started + r.first_event - start for r in replies),
        )

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def at_once(replies: list[Callable[[], StreamTiming]]) -> SessionsTiming:
    """Run each blocking `replies[n]()` on a thread of its own, all let go at once (as
    many sessions' script threads would send), timed from that moment."""
    start = 0.0

    def go() -> None:  # run by the last thread to arrive, before any is let go
        nonlocal start
        start = time.perf_counter()

    barrier = threading.Barrier(len(replies) + 1, action=go)
    results: list[StreamTiming] = []
    errors: list[BaseException] = []

    def session(reply: Callable[[], StreamTiming]) -> None:
        barrier.wait()
        try:
            results.append(reply())
        except BaseException as error:  # noqa: BLE001 - reported after the join
            errors.append(error)

    threads = [
        threading.Thread(target=session, args=(reply,), name=f"bench-session{n}")
        for n, reply in enumerate(replies)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return SessionsTiming.of(start, results)


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


async def _stream(client: Client, text: str) -> StreamTiming:
    """Send `text` and consume the whole reply, timed on the loop that reads it."""
    events, first = 0, 0.0
    start = time.perf_counter()
    async for _response in client.send_message(request(text)):
        if not events:
            first = time.perf_counter() - start
        events += 1
    return StreamTiming(events, first, time.perf_counter() - start, start)


class _LoopThread:
    """One plain asyncio loop, run on its own thread so a benchmark can alternate it with
    the app's path; each reply is timed inside the loop, so that hop is never billed."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        # A daemon: a benchmark that fails half-way must still let the process exit.
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="raw-sdk-loop", daemon=True
        )
        self._thread.start()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _aclose(self) -> None:
        return None

    def close(self) -> None:
        try:
            self._run(self._aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


class RawClient(_LoopThread):
    """The raw SDK client, kept on one plain asyncio loop as a pure-async app keeps it."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._http, self._client = self._run(self._connect(url))

    async def _connect(self, url: str) -> tuple[httpx.AsyncClient, Client]:
        http = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        card = await A2ACardResolver(http, url).get_agent_card()
        return http, _client(http, card)

    def stream(self, text: str) -> StreamTiming:
        """Send `text` and consume the whole reply."""
        return self._run(_stream(self._client, text))

    async def _aclose(self) -> None:
        await self._client.close()
        await self._http.aclose()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawSessions(_LoopThread):
    """Many sessions' raw SDK clients on ONE plain asyncio loop: one httpx client and one
    SDK client per session, as the app's sessions have, so the two differ only in how
    the streams are run (here: tasks of one loop; the app: a loop, a portal and a
    reading thread per session)."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        self._sessions = self._run(self._connect(urls))

    async def _connect(self, urls: list[str]) -> list[tuple[httpx.AsyncClient, Client]]:
        cards: dict[str, AgentCard] = {}
        sessions = []
        for url in urls:
            http = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
            if url not in cards:
                cards[url] = await A2ACardResolver(http, url).get_agent_card()
            sessions.append((http, _client(http, cards[url])))
        return sessions

    async def _stream_all(self, text: str) -> SessionsTiming:
        start = time.perf_counter()
        replies = await asyncio.gather(*(_stream(client, text) for _, client in self._sessions))
        return SessionsTiming.of(start, list(replies))

    def stream_all(self, text: str) -> SessionsTiming:
        """Every session sends `text` at once and consumes its whole reply."""
        return self._run(self._stream_all(text))

    async def _aclose(self) -> None:
        for http, client in self._sessions:
            await client.close()
            await http.aclose()

    def __enter__(self) -> RawSessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawLoops:
    """One `RawClient` per session, each on its own loop thread (see the module's doc)."""

    def __init__(self, urls: list[str]) -> None:
        self._clients: list[RawClient] = []
        try:
            for url in urls:
                self._clients.append(RawClient(url))
        except BaseException:
            self.close()
            raise

    def stream_all(self, text: str) -> SessionsTiming:
        """Every session sends `text` at once from its own thread and reads its reply."""
        return at_once([partial(client.stream, text) for client in self._clients])

    def close(self) -> None:
        errors: list[Exception] = []
        for client in self._clients:
            try:
                client.close()
            except Exception as error:  # noqa: BLE001 - close the others, then raise
                errors.append(error)
        if errors:
            raise errors[0]

    def __enter__(self) -> RawLoops:
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
