"""The store's figures: a streaming reply saved as the app saves it, a reload, the bytes.

- `persist_stream_ratio`: the long reply read as the Chat page reads it (`reply.apply`
  for each event of each batch) with the store on (a `Store` on a SQLite file in a temp
  folder, written as `services.session` writes: the conversation and the user's turn
  before the message leaves, waiting for the turn up to `TURN_WAIT`; the reply at its
  first event, then at most every `SAVE_EVERY`, then at its end with the inspector's
  record of the stream) ÷ the same with the store off. Alternated rounds, each round's
  writes flushed after its timing, so neither contender pays for the other's. Where the
  time goes, per reply: `persist_turns_ms` in the turns' calls (the user's turn waited
  for, the reply's turn serialised and queued), `persist_stream_record_ms` in the
  inspector's stream exported to JSON Lines and queued at the end.
- `restore_ms_200`: what a reload does on the server for a workspace holding a
  200-message conversation (the demo agent's long answer as most replies, a CSV and an
  image reply among them): a fresh AppTest session named after the stored workspace, so
  the app opens its store under `A2A_DATA_DIR`, loads the workspace and draws the Chat
  page (its latest `HISTORY_PAGE` turns, `restore_turns_drawn`). Alternated with the same
  reload of an empty workspace (`restore_ms_empty`). `restore_load_ms_200`: `Store.load`
  alone.
- `db_bytes_per_message`: the SQLite file's growth (with its -wal, after a TRUNCATE
  checkpoint) over the 200 messages written. `db_bytes_per_message_pg`: the same
  conversation's growth of the store's tables on the PostgreSQL database named by
  `A2A_BENCH_DATABASE_URL` (None without one; nothing is started here).
"""

from __future__ import annotations

import copy
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.baselines import StreamTiming
from benchmarks.render import APP, app_routing, quiet_script_context, replies, setenv
from benchmarks.service import STREAM_TEXT, Sizes, app_stream, ready_runtime
from benchmarks.stats import alternate, median
from services.client import resources
from services.replies import Conversation, Reply, ReplyEvent, Turn
from services.runtime import SessionRuntime
from services.session import TURN_WAIT
from services.store import SavedAgent, Store
from services.store.live import ReplyWriter
from services.store.opener import process_slot
from services.urls import check_agent_url

__all__ = ["PG_URL_VARIABLE", "persist_stream_figures", "restore_figures"]

PG_URL_VARIABLE = "A2A_BENCH_DATABASE_URL"
LONG_TEXT = "Explain how A2A streaming works"  # the demo agent's long markdown answer
ARTIFACT_TEXTS = ("Generate a sales report", "Draw a chart image")  # a CSV, an image
MESSAGES = 200
TABLES = ("workspaces", "agents", "conversations", "turns")


class ChatPage:
    """The Chat page's work on one reply: the turns, `reply.apply`, and (with a store)
    the writes the app makes: `services.session.send`'s, then its `ReplyWriter`'s."""

    def __init__(self, runtime: SessionRuntime, store: Store | None, agent_url: str) -> None:
        self.runtime, self.store, self.agent_url = runtime, store, agent_url
        self.workspace_id = f"bench-{uuid.uuid4().hex[:8]}"
        self.conversation = Conversation()
        self.reply = Reply()
        self.writer: ReplyWriter | None = None
        # Seconds this reply spent in the store's calls: the turns, the stream's end.
        self.turn_seconds = self.stream_seconds = 0.0

    def sent(self) -> None:
        conversation = self.conversation
        conversation.add_user(STREAM_TEXT)
        self.turn_seconds = self.stream_seconds = 0.0
        if self.store is not None:
            start = time.perf_counter()
            self.store.save_conversation(self.workspace_id, self.agent_url, conversation)
            index = len(conversation.turns) - 1
            written = self.store.save_turn(
                self.workspace_id, conversation.id, conversation.turns[index], index
            )
            try:
                written.result(timeout=TURN_WAIT)  # kept before it leaves
            except TimeoutError:
                pass
            self.turn_seconds += time.perf_counter() - start
        self.reply = conversation.add_reply()
        if self.store is not None:
            index = len(conversation.turns) - 1
            self.writer = ReplyWriter(
                self.store, self.workspace_id, conversation.id, conversation.turns[index],
                index, resources.recorder(self.runtime),
            )  # fmt: skip

    def read(self, batch: list[ReplyEvent]) -> None:
        for event in batch:
            self.reply.apply(event)
        if self.writer is not None:
            start = time.perf_counter()
            self.writer.progress()
            self.turn_seconds += time.perf_counter() - start

    def ended(self) -> None:
        self.reply.finish()
        if self.writer is not None:
            start = time.perf_counter()
            self.writer.done()
            self.stream_seconds += time.perf_counter() - start


def persist_stream_figures(url: str, sizes: Sizes) -> dict[str, float]:
    """The long reply through the Chat page's work, the store on against off."""
    runtime = ready_runtime(url, "bench-persist")
    with tempfile.TemporaryDirectory(prefix="a2a-bench-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'workspace.db'}")
        on = ChatPage(runtime, store, check_agent_url(url))
        off = ChatPage(runtime, None, check_agent_url(url))

        def stored() -> tuple[StreamTiming, float, float]:
            timing = app_stream(runtime, url, STREAM_TEXT, on)
            store.flush(30)  # after the timing: the next round starts with nothing queued
            return timing, on.turn_seconds * 1000, on.stream_seconds * 1000

        try:
            stored()  # warm both
            app_stream(runtime, url, STREAM_TEXT, off)
            pairs = alternate(
                sizes.stream_rounds, stored, lambda: app_stream(runtime, url, STREAM_TEXT, off)
            )
            if store.problem is not None:
                raise RuntimeError(f"the store failed: {store.problem}")
        finally:
            store.close()
            runtime.close()
    return {
        "persist_stream_ratio": median([a.eps / b.eps for (a, _, _), b in pairs]),
        "persist_stream_eps_on": median([a.eps for (a, _, _), _ in pairs]),
        "persist_stream_eps_off": median([b.eps for _, b in pairs]),
        "persist_turns_ms": median([turns for (_, turns, _), _ in pairs]),
        "persist_stream_record_ms": median([record for (_, _, record), _ in pairs]),
    }


def conversation_200(url: str, messages: int = MESSAGES) -> Conversation:
    """`messages` turns: user messages, each followed by a real reply of the demo agent's:
    its long answer, but for one CSV report and one chart image."""
    long_answer, *with_files = replies(url, [LONG_TEXT, *ARTIFACT_TEXTS])
    conversation = Conversation(title="Benchmark: 200 messages")
    pairs = messages // 2
    special = {pairs // 3: 0, 2 * pairs // 3: 1}  # where the artifacts go
    for number in range(pairs):
        index = special.get(number)
        if index is None:
            text, reply = LONG_TEXT, long_answer
        else:
            text, reply = ARTIFACT_TEXTS[index], with_files[index]
        conversation.turns.append(Turn("user", text))
        conversation.turns.append(Turn("agent", reply=copy.deepcopy(reply)))
    return conversation


def _write(store: Store, workspace_id: str, agent_url: str, conversation: Conversation) -> None:
    """The workspace as the app leaves it: selection, agent, conversation and every turn."""
    store.save_workspace(workspace_id, agent_url)
    store.save_agent(workspace_id, SavedAgent(agent_url, current_conversation=conversation.id), 0)
    store.save_conversation(workspace_id, agent_url, conversation, turns_too=True)
    if not store.flush(60) or store.problem is not None:
        raise RuntimeError(f"the store failed: {store.problem}")


def _sqlite_bytes(path: Path) -> int:
    """The database file and its -wal, after folding the log into the file."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _pg_bytes(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sum(
                int(connection.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
                for t in TABLES
            )
    finally:
        engine.dispose()


def _pg_bytes_per_message(url: str, agent_url: str, conversation: Conversation) -> float:
    """Growth of the store's tables on PostgreSQL for the conversation (then forgotten)."""
    store = Store(url)
    workspace_id = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        before = _pg_bytes(url)
        _write(store, workspace_id, agent_url, conversation)
        grown = _pg_bytes(url) - before
        store.forget(workspace_id).result(timeout=30)
    finally:
        store.close()
    return grown / len(conversation.turns)


@contextmanager
def _app_store(folder: str) -> Iterator[None]:
    """The app's process-wide store opened afresh on `folder`, and closed after."""
    with setenv("A2A_DATA_DIR", folder):
        kept = os.environ.pop("A2A_DATABASE_URL", None)  # the SQLite file, whatever is set
        process_slot().close()  # the app opens its store on first use, once per process
        try:
            yield
        finally:
            process_slot().close()
            if kept is not None:
                os.environ["A2A_DATABASE_URL"] = kept


def _reload(workspace_id: str) -> tuple[float, int]:
    """A new session of the app on `workspace_id`'s Chat page: ms, and messages drawn."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["workspace_id"] = workspace_id
    try:
        start = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - start) * 1000
        if at.exception:
            raise RuntimeError(f"the Chat page failed: {at.exception[0].value}")
        return elapsed, len(at.chat_message)
    finally:
        runtime = at.session_state["runtime"] if "runtime" in at.session_state else None
        if isinstance(runtime, SessionRuntime):
            runtime.close()


def restore_figures(url: str, rounds: int) -> dict[str, float]:
    """A reload of a 200-message workspace against an empty one; the bytes it takes."""
    conversation = conversation_200(url)
    agent_url = check_agent_url(url)  # the configured agent is kept under its URL
    quiet_script_context()
    with tempfile.TemporaryDirectory(prefix="a2a-bench-") as folder:
        path = Path(folder) / "workspace.db"  # the file `services.session` opens there
        store = Store(f"sqlite:///{path}")
        try:
            workspace_id = f"bench-{uuid.uuid4().hex[:8]}"
            before = _sqlite_bytes(path)
            _write(store, workspace_id, agent_url, conversation)
            db_bytes = (_sqlite_bytes(path) - before) / len(conversation.turns)
            loads = []
            for _ in range(max(3, rounds)):
                start = time.perf_counter()
                saved = store.load(workspace_id)
                loads.append((time.perf_counter() - start) * 1000)
            kept = sum(len(c.turns) for cs in saved.conversations.values() for c in cs)
            if kept != len(conversation.turns):
                raise RuntimeError(f"the store gave back {kept} turns, not {MESSAGES}")
        finally:
            store.close()
        with setenv("A2A_AGENT_URL", url), app_routing(), _app_store(folder):
            _reload(f"bench-{uuid.uuid4().hex[:8]}")  # warm: imports, the store opened
            pairs = alternate(
                rounds,
                lambda: _reload(workspace_id),
                lambda: _reload(f"bench-{uuid.uuid4().hex[:8]}"),
            )
    figures = {
        "restore_ms_200": median([full[0] for full, _ in pairs]),
        "restore_ms_empty": median([empty[0] for _, empty in pairs]),
        "restore_load_ms_200": median(loads),
        "restore_turns_drawn": float(pairs[-1][0][1]),
        "db_bytes_per_message": db_bytes,
    }
    if pg_url := os.environ.get(PG_URL_VARIABLE, "").strip():
        figures["db_bytes_per_message_pg"] = _pg_bytes_per_message(pg_url, agent_url, conversation)
    return figures
