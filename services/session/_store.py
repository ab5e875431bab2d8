"""The store and the workspace's owner: the process's one database, whose workspace this
session shows, and every write of it the bridge makes.

The app goes on in memory when the store cannot be opened (retried every 30 s), and
`store_problem` says why in one sentence. The store itself is the process's
(`services.store.opener`), shared with the push receiver's route; this module says where
it is, from the settings. The writes here take the plain data they save (the workspace, a
conversation), so the modules above call them and this one never asks for the workspace
itself.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from services.inspector.inspection import export_jsonl
from services.replies import Conversation, Reply
from services.session import _keys as keys
from services.session._resources import recorder, redactor
from services.session._settings import Settings, process_settings, settings
from services.store import Limits, SavedAgent, Store, StoreError
from services.store.identity import (
    COOKIE,
    workspace_for_cookie,
    workspace_for_session,
    workspace_for_user,
)
from services.store.live import ReplyWriter
from services.store.opener import StoreConfig, StoreSlot, process_slot
from services.store.workspace import Workspace, restore, stored_url

__all__ = [
    "TURN_WAIT",
    "database_url",
    "demo_database",
    "load_saved",
    "route_store",
    "save_conversation",
    "save_selection",
    "save_stream",
    "save_turn",
    "store",
    "store_problem",
    "take_resumable",
    "workspace_id",
    "workspace_kind",
    "writer_for",
]

TURN_WAIT = 2.0  # how long a message waits for its turn to be written before it goes


def _store_slot() -> StoreSlot:
    """The process's store slot (a test patches this to open a store of its own)."""
    return process_slot()


def _database_url(configured: Settings) -> str:
    if configured.database_url:
        return configured.database_url
    folder = Path(configured.data_dir).resolve()
    return f"sqlite:///{folder / 'workspace.db'}"


def database_url() -> str:
    """`A2A_DATABASE_URL` / `database_url`, else a SQLite file in the data folder
    (`A2A_DATA_DIR`, default `.a2a-streamlit` under the working directory)."""
    return _database_url(settings())


def _store_config(configured: Settings) -> StoreConfig:
    return StoreConfig(
        _database_url(configured),
        Limits(
            conversations=configured.max_conversations,
            bytes=configured.max_workspace_mb * 1024 * 1024,
            file_bytes=configured.keep_file_mb * 1024 * 1024,
            streams=configured.inspector_max_streams,
            retention_days=configured.retention_days,
        ),
    )


def store() -> Store | None:
    """The process's store; None while it cannot be opened (the app goes on in memory)."""
    return _store_slot().open(lambda: _store_config(settings()))


def route_store() -> Store | None:
    """The same store for code outside any session (`app.py`'s push route, on a worker
    thread): opened with the settings as the environment and secrets say now."""
    return _store_slot().open(lambda: _store_config(process_settings()))


def store_problem() -> str:
    """One sentence when history is not being saved (and why), else ""."""
    kept = store()
    slot = _store_slot()
    if kept is None:
        return str(slot.error) if slot.error else ""
    problem = kept.problem or keys.STORE_LOAD_ERROR.get()
    return str(problem) if problem else kept.full(workspace_id())


def demo_database() -> str | None:
    """Where the embedded demo agent keeps its tasks: the app's PostgreSQL database, or a
    SQLite file of its own beside the app's (two writers on one SQLite file wait on each
    other's locks, and a busy agent then drops its streams)."""
    kept = store()
    return kept.companion_url("demo-agent") if kept is not None else None


# --- the workspace's owner -----------------------------------------------------------------


def _find_workspace_id() -> str:
    found = None
    try:
        if st.user.is_logged_in is True:  # (a test harness's user is a stand-in)
            found = workspace_for_user(str(st.user.get("iss", "")), str(st.user.get("sub")))
    except (AttributeError, KeyError, StreamlitSecretNotFoundError):
        found = None  # no sign-in configured
    cookie = st.context.cookies.get(COOKIE)
    found = found or workspace_for_cookie(cookie if isinstance(cookie, str) else None)
    return found or workspace_for_session()


def workspace_id() -> str:
    """Whose workspace this session shows: the signed-in person's, else this browser's
    (its cookie), else this session's alone."""
    return keys.WORKSPACE_ID.setdefault(_find_workspace_id)


def workspace_kind() -> str:
    """Whose workspace this is, in words."""
    wid = workspace_id()
    if wid.startswith("user-"):
        return "yours: it follows your sign-in to any browser"
    if wid.startswith("browser-"):
        return "this browser's: a cookie names it, so it is here after a reload or a restart"
    return "this session's only: the browser sent no cookie, so a reload starts afresh"


# --- reading and writing the workspace -----------------------------------------------------


def load_saved(space: Workspace) -> None:
    """Bring back what the store kept for this workspace (nothing if it cannot)."""
    kept = store()
    if kept is None:
        return
    try:
        saved = kept.load(workspace_id())
    except StoreError as error:
        keys.STORE_LOAD_ERROR.set(error)
        return
    unfinished = restore(space, saved)
    keys.RESUME.set({
        t.id for e in space.agents.values() for c in e.conversations for t in c.turns
        if t.reply is not None and not t.reply.background  # it fills from notifications
        and any(t.reply is u for u in unfinished)
    })  # fmt: skip
    recorder().restore(saved.streams)


def take_resumable(current: Conversation) -> int | None:
    """The index of a turn of `current` whose reply was streaming when its session ended,
    to resume now (each is offered once)."""
    pending = keys.RESUME.get_or(set())
    for index, turn in enumerate(current.turns):
        if turn.id in pending:
            pending.discard(turn.id)
            return index
    return None


def save_selection(space: Workspace) -> None:
    """Keep which agent is selected, and each agent's place, binding, tenant and
    conversation."""
    kept = store()
    if kept is None:
        return
    wid = workspace_id()
    entry = space.agent
    kept.save_workspace(wid, stored_url(entry) if entry else "")
    for position, known in enumerate(space.agents.values()):
        kept.save_agent(
            wid,
            SavedAgent(
                stored_url(known),
                known.name,
                known.binding,
                known.current_conversation,
                known.tenant,
            ),
            position,
        )


def save_conversation(
    space: Workspace, conversation: Conversation, *, turns_too: bool = False
) -> None:
    """Keep `conversation` (of the current agent), and then the selection."""
    kept, entry = store(), space.agent
    if kept is not None and entry is not None:
        kept.save_conversation(
            workspace_id(),
            stored_url(entry),
            conversation,
            turns_too=turns_too,
            redact=redactor().text,
        )
        save_selection(space)


def save_turn(conversation: Conversation, index: int, *, wait: float = 0.0) -> None:
    """Keep one turn; `wait` seconds at most for it to be written."""
    kept = store()
    if kept is None:
        return
    turn = conversation.turns[index]
    written = kept.save_turn(workspace_id(), conversation.id, turn, index, redact=redactor().text)
    if wait:
        try:
            written.result(timeout=wait)
        except TimeoutError:
            pass  # the database is slow or down: the message goes; the sidebar says why


def writer_for(conversation: Conversation, reply: Reply) -> ReplyWriter | None:
    """What writes `reply`, a turn of `conversation`, while it streams; None without a
    store. It holds no Streamlit object, so a page can call it in a `finally`."""
    kept = store()
    index = next((i for i in range(len(conversation.turns) - 1, -1, -1)
                  if conversation.turns[i].reply is reply), None)  # fmt: skip
    if kept is None or index is None:
        return None
    return ReplyWriter(
        kept, workspace_id(), conversation.id, conversation.turns[index], index, recorder()
    )


def save_stream(stream_id: int) -> None:
    """Keep one of the inspector's streams in the workspace (as its JSON Lines)."""
    kept = store()
    record = recorder().stream(stream_id) if stream_id else None
    if kept is not None and record is not None:
        jsonl = partial(export_jsonl, record, redactor())  # made on the store's thread
        kept.save_stream(workspace_id(), record.id, record.started_wall, jsonl)
