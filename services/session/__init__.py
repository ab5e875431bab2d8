"""The one bridge between Streamlit and the services: typed access to session state.

Pages never spell `st.session_state[...]`; they call these functions. This is the only
module in `services/` that imports Streamlit, and it only runs on the script thread.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from services import health
from services.client import agent, resources, tasks
from services.client.allowlist import AllowList
from services.client.auth import Credentials, OriginCredentials
from services.demo_agent import VISITOR_HEADER, ensure_demo_agent
from services.errors import AppError, InvalidUrl
from services.inspector.capture import DEFAULT_MAX_BYTES, DEFAULT_MAX_STREAMS, TrafficRecorder
from services.inspector.inspection import export_jsonl
from services.redact import Redactor, redact_logs
from services.replies import Conversation, PartView, Reply, ReplyEvent, Turn
from services.runtime import EventStream, SessionRuntime
from services.store import Limits, SavedAgent, Share, Store, StoreError
from services.store.identity import (
    COOKIE,
    workspace_for_cookie,
    workspace_for_session,
    workspace_for_user,
)
from services.store.live import ReplyWriter
from services.store.workspace import (
    AgentEntry,
    Workspace,
    export_conversation,
    import_conversation,
    restore,
    stored_url,
)
from services.urls import check_agent_url, shorten

STREAM_PARAM = "stream"  # ?stream=N opens the inspector on this session's stream N
CONVERSATION_PARAM = "c"  # ?c=<id> names the open conversation: reload and bookmarks land there
HISTORY_PAGE = 40  # turns the Chat page draws at first, and how many more each time

_RUNTIME = "runtime"
_REBUILDS = "runtime_rebuilds"
_WORKSPACE = "workspace"
_CONNECT_ERROR = "connect_error"
_QUEUED_PROMPT = "queued_prompt"
_QUEUED_RECONNECT = "queued_reconnect"
_TASKS_PAGE = "tasks_page_token"
_RECORDER = "traffic_recorder"
_REDACTOR = "redactor"
_CREDENTIALS = "origin_credentials"
_ALLOW = "allow_list"
_BAD_URLS = "invalid_agent_urls"
_HISTORY_SHOWN = "history_shown"
_WORKSPACE_ID = "workspace_id"
_LINK_FOLLOWED = "conversation_link_followed"
_STREAM_SHOWN = "inspector_stream_in_url"
_STORE_LOAD_ERROR = "store_load_error"
_STOP_WATCH = "stop_watch"
_RESUME = "resume_replies"  # ids of turns whose reply was streaming when a session ended
_SELF_TEST = "health_self_test"
_REPRODUCTION = "health_reproduction"


# --- the runtime -----------------------------------------------------------------------


@st.cache_resource(scope="session", on_release=SessionRuntime.close_soon, show_spinner=False)
def _close_on_disconnect(_runtime: SessionRuntime, number: int) -> SessionRuntime:
    # Holds nothing the app reads: a session-scoped cache entry is what Streamlit
    # releases on every websocket disconnect (objects in session_state are not freed
    # reliably), and its on_release closes the runtime without blocking the server.
    return _runtime


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "nosession"


def runtime() -> SessionRuntime:
    """This session's runtime; rebuilt transparently if it was closed or its thread died."""
    current: SessionRuntime | None = st.session_state.get(_RUNTIME)
    if current is None or not current.alive:
        rebuilds = st.session_state.get(_REBUILDS, -1) + 1
        if current is not None:
            current.close_soon()
        session_id = _session_id()
        current = SessionRuntime(
            label=session_id.replace(" ", "-")[:8],
            session_id=session_id,
            generation=rebuilds,
        )
        resources.configure(
            current,
            recorder=recorder(),
            auth=_origin_credentials(),
            allow=allow_list(),
            timeout=_timeout(),
        )
        st.session_state[_RUNTIME] = current
        st.session_state[_REBUILDS] = rebuilds
    _close_on_disconnect(current, current.number)
    return current


def restart_runtime() -> SessionRuntime:
    """Close this session's runtime and start a new one; the conversation stays."""
    current: SessionRuntime | None = st.session_state.get(_RUNTIME)
    if current is not None:
        current.close()
    return runtime()


def session_active(session_id: str) -> bool | None:
    """Whether Streamlit still has a connected session with this id (None: can't tell)."""
    if not Runtime.exists():
        return None
    active = Runtime.instance().is_active_session(session_id)
    return active if isinstance(active, bool) else None  # AppTest's runtime is a mock


def health_report() -> health.HealthReport:
    """This session's loop probed once more, and every runtime in the process."""
    return health.report(runtime(), session_active)


def loop_status() -> tuple[str, str]:
    """A one-line health indicator for the sidebar: (state, text)."""
    sample = health.probe(runtime())
    rebuilt = runtime_rebuilds()
    if sample is None:
        return "down", "Loop not answering"
    if sample.lag_ms > health.LAG_WARN_MS:
        return "lagging", f"Loop lagging · {sample.lag_ms:.0f} ms"
    if rebuilt:
        return "rebuilt", f"Loop OK · rebuilt {rebuilt}×"
    return "ok", f"Loop OK · {sample.rtt_ms:.2f} ms round trip"


def run_self_test() -> health.SelfTest:
    result = health.self_test(runtime(), ensure_demo_agent())
    st.session_state[_SELF_TEST] = result
    return result


def last_self_test() -> health.SelfTest | None:
    result: health.SelfTest | None = st.session_state.get(_SELF_TEST)
    return result


def run_reproduction() -> health.Reproduction:
    result = health.reproduce_classic_error(ensure_demo_agent())
    st.session_state[_REPRODUCTION] = result
    return result


def last_reproduction() -> health.Reproduction | None:
    result: health.Reproduction | None = st.session_state.get(_REPRODUCTION)
    return result


def runtime_rebuilds() -> int:
    """How many times this session's runtime was rebuilt after the first."""
    return max(st.session_state.get(_REBUILDS, 0), 0)


def checkpoint() -> None:
    """Touch session state: this is where Streamlit raises a pending rerun or Stop."""
    _ = _RUNTIME in st.session_state


# --- configuration and secrets -----------------------------------------------------------


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}


def configured_agent_url() -> str:
    """The configured agent: `A2A_AGENT_URL` in the environment, else `agent_url` in secrets.

    As configured, unchecked: `workspace()` checks it, and shows a bad one's sentence."""
    if env := os.environ.get("A2A_AGENT_URL", "").strip():
        return env
    return str(_secrets().get("agent_url", "")).strip()


def _configured_credentials() -> Credentials:
    """The configured agent's token: `A2A_AGENT_TOKEN`, else `agent_token` in secrets."""
    token = os.environ.get("A2A_AGENT_TOKEN", "").strip()
    return Credentials(bearer_token=token or str(_secrets().get("agent_token", "")).strip())


def _secret_agents() -> list[Mapping[str, Any]]:
    """`[[agents]]` entries in secrets: url, name, token, api_key, api_key_header, headers."""
    entries = _secrets().get("agents", [])
    return [e for e in entries if isinstance(e, Mapping) and str(e.get("url", "")).strip()]


def _secret_values(tree: Any) -> list[str]:
    """Values in secrets whose names say they are secret (tokens, keys, passwords)."""
    values: list[str] = []
    items = tree.items() if isinstance(tree, Mapping) else enumerate(tree)
    for name, value in items:
        if isinstance(value, Mapping | list):
            values += _secret_values(value)
        elif any(w in str(name).lower() for w in ("token", "key", "secret", "password", "header")):
            values.append(str(value))
    return values


def redactor() -> Redactor:
    """Masks this deployment's and this session's secrets in everything shown or logged."""
    if _REDACTOR not in st.session_state:
        st.session_state[_REDACTOR] = Redactor()
    masker: Redactor = st.session_state[_REDACTOR]
    secrets = [*_configured_credentials().secret_values, *_secret_values(_secrets())]
    masker.add(secrets)
    redact_logs(secrets)
    return masker


def redact(text: str) -> str:
    return redactor().text(text)


def _int_setting(name: str, default: int) -> int:
    """A whole number from `A2A_<NAME>` in the environment, else `name` in secrets."""
    raw = os.environ.get(f"A2A_{name.upper()}") or _secrets().get(name)
    try:
        return int(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _timeout() -> httpx.Timeout:
    """Request timeouts; a stream silent for `A2A_READ_TIMEOUT` seconds (default 60) ends."""
    read = float(_int_setting("read_timeout", 60))
    return httpx.Timeout(connect=5.0, read=read, write=10.0, pool=10.0)


def allow_list() -> AllowList:
    """The agents this deployment may contact (`allowed_agent_urls` in secrets, or
    `A2A_ALLOWED_AGENT_URLS`, comma-separated); empty allows any. The agents the operator
    configured, and the embedded demo agent, are always allowed."""
    if _ALLOW not in st.session_state:
        raw: Any = os.environ.get("A2A_ALLOWED_AGENT_URLS") or _secrets().get(
            "allowed_agent_urls", []
        )
        entries = raw.split(",") if isinstance(raw, str) else [str(u) for u in raw]
        allow = AllowList(entries)
        if allow:
            # A bad configured URL is skipped (with a warning) here; the sidebar says why.
            for url in [configured_agent_url(), *(str(e["url"]) for e in _secret_agents())]:
                if url:
                    allow.add(url)
        st.session_state[_ALLOW] = allow
    allowed: AllowList = st.session_state[_ALLOW]
    return allowed


def max_upload_bytes() -> int:
    """The largest file a user may send (`A2A_MAX_UPLOAD_MB` / `max_upload_mb`, default 10)."""
    return _int_setting("max_upload_mb", 10) * 1024 * 1024


def recorder() -> TrafficRecorder:
    """This session's recorded A2A traffic; outlives runtime rebuilds."""
    if _RECORDER not in st.session_state:
        st.session_state[_RECORDER] = TrafficRecorder(
            redactor(),
            max_streams=_int_setting("inspector_max_streams", DEFAULT_MAX_STREAMS),
            max_bytes=_int_setting("inspector_max_bytes", DEFAULT_MAX_BYTES),
        )
    rec: TrafficRecorder = st.session_state[_RECORDER]
    return rec


def _origin_credentials() -> OriginCredentials:
    """The session's httpx Auth: each agent's credentials, for its origin only."""
    if _CREDENTIALS not in st.session_state:
        st.session_state[_CREDENTIALS] = OriginCredentials()
    auth: OriginCredentials = st.session_state[_CREDENTIALS]
    return auth


# --- the store and the workspace's owner -----------------------------------------------

TURN_WAIT = 2.0  # how long a message waits for its turn to be written before it goes
_RETRY_OPEN = 30.0  # seconds between attempts to open a database that failed


@dataclass
class _StoreSlot:
    """The process's one store (or why it could not be opened), shared by sessions."""

    store: Store | None = None
    error: StoreError | None = None
    tried_at: float = -_RETRY_OPEN
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def _store_slot() -> _StoreSlot:
    return _StoreSlot()


def database_url() -> str:
    """`A2A_DATABASE_URL` / `database_url`, else a SQLite file in the data folder
    (`A2A_DATA_DIR`, default `.a2a-streamlit` under the working directory)."""
    configured = os.environ.get("A2A_DATABASE_URL") or str(_secrets().get("database_url", ""))
    if configured.strip():
        return configured.strip()
    folder = Path(os.environ.get("A2A_DATA_DIR") or ".a2a-streamlit").resolve()
    return f"sqlite:///{folder / 'workspace.db'}"


def _limits() -> Limits:
    days = os.environ.get("A2A_RETENTION_DAYS") or _secrets().get("retention_days")
    try:
        retention = float(days) if days not in (None, "") else None
    except (TypeError, ValueError):
        retention = None
    return Limits(
        conversations=_int_setting("max_conversations", 500),
        bytes=_int_setting("max_workspace_mb", 200) * 1024 * 1024,
        file_bytes=_int_setting("keep_file_mb", 2) * 1024 * 1024,
        streams=_int_setting("inspector_max_streams", DEFAULT_MAX_STREAMS),
        retention_days=retention,
    )


def store() -> Store | None:
    """The process's store; None while it cannot be opened (the app goes on in memory)."""
    slot = _store_slot()
    if slot.store is not None:
        return slot.store
    with slot.lock:
        if slot.store is None and time.monotonic() - slot.tried_at >= _RETRY_OPEN:
            slot.tried_at = time.monotonic()
            url = database_url()
            try:
                if url.startswith("sqlite:///"):
                    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                slot.store, slot.error = Store(url, limits=_limits()), None
            except (StoreError, OSError) as error:
                slot.error = (
                    error
                    if isinstance(error, StoreError)
                    else StoreError(
                        f"The data folder for {url} cannot be made ({error.strerror}): set "
                        "A2A_DATA_DIR to a writable folder.",
                    )
                )
    return slot.store


def store_problem() -> str:
    """One sentence when history is not being saved (and why), else ""."""
    kept = store()
    slot = _store_slot()
    if kept is None:
        return str(slot.error) if slot.error else ""
    loaded: StoreError | None = st.session_state.get(_STORE_LOAD_ERROR)
    problem = kept.problem or loaded
    return str(problem) if problem else kept.full(workspace_id())


def _demo_database() -> str | None:
    """Where the embedded demo agent keeps its tasks: the app's PostgreSQL database, or a
    SQLite file of its own beside the app's (two writers on one SQLite file wait on each
    other's locks, and a busy agent then drops its streams)."""
    kept = store()
    return kept.companion_url("demo-agent") if kept is not None else None


def workspace_id() -> str:
    """Whose workspace this session shows: the signed-in person's, else this browser's
    (its cookie), else this session's alone."""
    if _WORKSPACE_ID not in st.session_state:
        found = None
        try:
            if st.user.is_logged_in is True:  # (a test harness's user is a stand-in)
                found = workspace_for_user(str(st.user.get("iss", "")), str(st.user.get("sub")))
        except (AttributeError, KeyError, StreamlitSecretNotFoundError):
            found = None  # no sign-in configured
        cookie = st.context.cookies.get(COOKIE)
        found = found or workspace_for_cookie(cookie if isinstance(cookie, str) else None)
        st.session_state[_WORKSPACE_ID] = found or workspace_for_session()
    wid: str = st.session_state[_WORKSPACE_ID]
    return wid


def _load_saved(space: Workspace) -> None:
    """Bring back what the store kept for this workspace (nothing if it cannot)."""
    kept = store()
    if kept is None:
        return
    try:
        saved = kept.load(workspace_id())
    except StoreError as error:
        st.session_state[_STORE_LOAD_ERROR] = error
        return
    unfinished = restore(space, saved)
    st.session_state[_RESUME] = {
        t.id for e in space.agents.values() for c in e.conversations for t in c.turns
        if t.reply is not None and any(t.reply is u for u in unfinished)
    }  # fmt: skip
    recorder().restore(saved.streams)


def _save_selection() -> None:
    kept, space = store(), workspace()
    if kept is None:
        return
    wid = workspace_id()
    entry = space.agent
    kept.save_workspace(wid, stored_url(entry) if entry else "")
    for position, known in enumerate(space.agents.values()):
        kept.save_agent(
            wid,
            SavedAgent(stored_url(known), known.name, known.binding, known.current_conversation),
            position,
        )


def _save_conversation(conversation: Conversation, *, turns_too: bool = False) -> None:
    kept, entry = store(), current_agent()
    if kept is not None and entry is not None:
        kept.save_conversation(
            workspace_id(),
            stored_url(entry),
            conversation,
            turns_too=turns_too,
            redact=redactor().text,
        )
        _save_selection()


def _save_turn(conversation: Conversation, index: int, *, wait: float = 0.0) -> None:
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


def reply_writer(reply: Reply) -> ReplyWriter | None:
    """What writes `reply` (a turn of the current conversation) while it streams; None
    without a store. It holds no Streamlit object, so a page can call it in a `finally`."""
    kept, current = store(), conversation()
    index = next((i for i in range(len(current.turns) - 1, -1, -1)
                  if current.turns[i].reply is reply), None)  # fmt: skip
    if kept is None or index is None:
        return None
    return ReplyWriter(kept, workspace_id(), current.id, current.turns[index], index, recorder())


def save_stream(stream_id: int) -> None:
    """Keep one of the inspector's streams in the workspace (as its JSON Lines)."""
    kept = store()
    record = recorder().stream(stream_id) if stream_id else None
    if kept is not None and record is not None:
        jsonl = partial(export_jsonl, record, redactor())  # made on the store's thread
        kept.save_stream(workspace_id(), record.id, record.started_wall, jsonl)


# --- share and own your data ---------------------------------------------------------------

SHARE_PARAM = "share"  # /shared?share=<token> opens a read-only snapshot
WORKSPACE_FORMAT = "a2a-streamlit/workspace@1"


def share_conversation() -> str:
    """A read-only link token for a snapshot of the current conversation (secrets
    masked, no credentials). Raises `StoreError` when there is no store to keep it."""
    kept = store()
    if kept is None:
        raise StoreError(store_problem() or "Sharing needs the database, which is not open.")
    current = conversation()
    snapshot = export_conversation(current, _shown_agent_url(), redactor())
    return kept.share(workspace_id(), current, snapshot)


def shared(token: str) -> tuple[str, bool] | None:
    """A shared snapshot's file text and whether it was revoked; None if unknown."""
    kept = store()
    return kept.read_share(token) if kept is not None else None


def shares() -> list[Share]:
    kept = store()
    return kept.shares(workspace_id()) if kept is not None else []


def revoke_share(token: str) -> None:
    if (kept := store()) is not None:
        kept.revoke_share(workspace_id(), token)


def export_workspace() -> str:
    """Every conversation of every agent, each in the conversation file format, in one
    JSON file (secrets masked)."""
    files = [
        json.loads(export_conversation(c, _shown_agent_url(e), redactor()))
        for e in workspace().agents.values()
        for c in e.conversations
        if c.turns
    ]
    return json.dumps({"format": WORKSPACE_FORMAT, "conversations": files}, ensure_ascii=False)


def forget_workspace() -> None:
    """Delete everything this workspace holds, here and in the store, and start afresh."""
    stop_reply()
    if (kept := store()) is not None:
        kept.forget(workspace_id()).result(timeout=10)
    for key in (_WORKSPACE, _RECORDER, _RESUME, _HISTORY_SHOWN, _CONNECT_ERROR):
        st.session_state.pop(key, None)


def workspace_kind() -> str:
    """Whose workspace this is, in words."""
    wid = workspace_id()
    if wid.startswith("user-"):
        return "yours: it follows your sign-in to any browser"
    if wid.startswith("browser-"):
        return "this browser's: a cookie names it, so it is here after a reload or a restart"
    return "this session's only: the browser sent no cookie, so a reload starts afresh"


def _shown_agent_url(entry: AgentEntry | None = None) -> str:
    entry = entry or current_agent()
    return stored_url(entry) if entry is not None else ""


def take_resumable(current: Conversation) -> int | None:
    """The index of a turn of `current` whose reply was streaming when its session ended,
    to resume now (each is offered once)."""
    pending: set[str] = st.session_state.get(_RESUME, set())
    for index, turn in enumerate(current.turns):
        if turn.id in pending:
            pending.discard(turn.id)
            return index
    return None


# --- agents ------------------------------------------------------------------------------


def workspace() -> Workspace:
    """This session's agents: configured ones first, else the embedded demo agent."""
    if _WORKSPACE not in st.session_state:
        space = Workspace()
        if url := configured_agent_url():
            url = _configured_url(url)
            space.add(url, source="configured", credentials=_configured_credentials())
        for entry in _secret_agents():
            space.add(
                _configured_url(str(entry["url"])),
                name=str(entry.get("name", "")),
                source="secrets",
                credentials=Credentials.from_mapping(entry),
                binding=str(entry.get("binding", "")),
            )
        if not space.agents:
            demo_url = ensure_demo_agent(_demo_database())
            space.add(demo_url, source="demo")
            if allow_list():
                allow_list().add(demo_url)  # the app's own agent
            # Every visitor shares the embedded agent: keep each workspace's tasks its own.
            _origin_credentials().set_fixed_headers(demo_url, ((VISITOR_HEADER, workspace_id()),))
        space.current = next(iter(space.agents))
        _load_saved(space)
        for known in space.agents.values():
            _origin_credentials().set(known.url, known.credentials)
            redactor().add(known.credentials.secret_values)
        st.session_state[_WORKSPACE] = space
        _save_selection()
    ws: Workspace = st.session_state[_WORKSPACE]
    return ws


def _configured_url(text: str) -> str:
    """A configured URL, normalised; a bad one is kept shortened and masked (every visitor
    sees the agent list), with its sentence for the sidebar."""
    try:
        return check_agent_url(text)
    except InvalidUrl as error:
        shown = shorten(text)
        try:
            urlsplit(shown)  # the agent picker splits every agent's URL
        except ValueError:
            shown = quote(shown, safe=":/?#@%")
        st.session_state.setdefault(_BAD_URLS, {})[shown] = error
        return shown


def agents() -> list[AgentEntry]:
    return list(workspace().agents.values())


def current_agent() -> AgentEntry | None:
    return workspace().agent


def agent_url() -> str:
    """The URL of the agent this session talks to."""
    entry = current_agent()
    return entry.url if entry else ""


def agent_info() -> agent.AgentInfo | None:
    """The current agent's card summary; connects on first use."""
    entry = current_agent()
    if entry is None:
        return None
    if entry.info is None and entry.error is None:
        _connect_entry(entry)
    return entry.info


def agent_error() -> AppError | None:
    """Why the last connection attempt failed, if it did."""
    error: AppError | None = st.session_state.get(_CONNECT_ERROR)
    entry = current_agent()
    return error or (entry.error if entry else None)


def _connect_entry(entry: AgentEntry) -> agent.AgentInfo | None:
    bad: dict[str, InvalidUrl] = st.session_state.get(_BAD_URLS, {})
    try:
        if entry.url in bad:  # a configured URL that failed the check
            raise bad[entry.url]
        check_agent_url(entry.url)  # before the allow list: it parses the URL too
        allow_list().check(entry.url)
        entry.info = agent.connect(
            runtime(), entry.url, entry.binding, extended=bool(entry.credentials)
        )
        entry.error = None
    except AppError as error:
        entry.error = error
    return entry.info


def connect(url: str) -> agent.AgentInfo | None:
    """Connect to `url` and select it. If it fails, the session stays with the agent it
    had (a mistyped URL loses nothing) and the error is kept for the sidebar."""
    st.session_state.pop(_CONNECT_ERROR, None)
    try:
        url = check_agent_url(url)  # before anything else: a bad URL touches nothing
    except InvalidUrl as error:
        st.session_state[_CONNECT_ERROR] = error
        return None
    space = workspace()
    known = space.agents.get(url)
    entry = known or AgentEntry(url)
    info = _connect_entry(entry)
    if info is None:
        if known is None or known is not space.agent:
            st.session_state[_CONNECT_ERROR] = entry.error
        return None
    if known is None:
        space.agents[url] = entry
    stop_reply()
    space.select(url)
    _save_selection()
    return info


def select_agent(url: str) -> None:
    stop_reply()
    st.session_state.pop(_CONNECT_ERROR, None)
    entry = workspace().select(url)
    _save_selection()
    if entry.info is None:
        _connect_entry(entry)


def remove_agent(url: str) -> None:
    """Forget an agent and its conversations (at least one agent always stays)."""
    space = workspace()
    if len(space.agents) > 1:
        stop_reply()
        removed = space.agents[url]
        space.remove(url)
        _origin_credentials().set(url, Credentials())
        if (kept := store()) is not None:
            kept.delete_agent(workspace_id(), stored_url(removed))
        _save_selection()


def set_credentials(url: str, credentials: Credentials) -> None:
    """Use these credentials for `url`'s origin (memory only) and reconnect; credentials
    that could not be sent are not saved, and the sidebar says why."""
    st.session_state.pop(_CONNECT_ERROR, None)
    redactor().add(credentials.secret_values)
    try:
        credentials.check()
    except AppError as error:
        st.session_state[_CONNECT_ERROR] = error
        return
    entry = workspace().agents[url]
    entry.credentials = credentials
    _origin_credentials().set(url, credentials)
    entry.error = None
    _connect_entry(entry)


def set_binding(url: str, binding: str) -> None:
    """Choose the protocol binding for `url` ("" lets the card decide) and reconnect."""
    entry = workspace().agents[url]
    entry.binding = binding
    entry.error = None
    _save_selection()
    _connect_entry(entry)


# --- conversations -----------------------------------------------------------------------


def conversation() -> Conversation:
    """The current agent's current conversation (plain data)."""
    entry = current_agent()
    return entry.conversation if entry else Conversation()


def conversations() -> list[Conversation]:
    entry = current_agent()
    return list(entry.conversations) if entry else []


def new_conversation() -> None:
    stop_reply()
    if entry := current_agent():
        _save_conversation(entry.new_conversation())


def select_conversation(conversation_id: str) -> None:
    stop_reply()
    if entry := current_agent():
        entry.select_conversation(conversation_id)
        _save_selection()


def rename_conversation(conversation_id: str, title: str) -> None:
    if entry := current_agent():
        entry.rename_conversation(conversation_id, title)
        _save_conversation(entry.conversation)


def delete_conversation(conversation_id: str, agent_url: str = "") -> None:
    """Delete it (the current agent's, or `agent_url`'s) here and, for good, in the store."""
    stop_reply()
    if entry := (workspace().agents.get(agent_url) if agent_url else current_agent()):
        entry.delete_conversation(conversation_id)
        if (kept := store()) is not None:
            kept.delete_conversation(workspace_id(), conversation_id)
        _save_selection()


def set_conversation_options(output_modes: list[str], history_length: int | None) -> None:
    """The current conversation's acceptedOutputModes and historyLength."""
    current = conversation()
    if (current.accepted_output_modes, current.history_length) == (output_modes, history_length):
        return  # drawn on every run: write only a change
    current.accepted_output_modes = list(output_modes)
    current.history_length = history_length
    _save_conversation(current)


def export_current_conversation() -> str:
    """The current conversation as JSON, secrets masked."""
    return export_conversation(conversation(), agent_url(), redactor())


def import_conversation_file(text: str) -> Conversation:
    """Add a conversation exported by this app to the current agent and open it."""
    imported, _from_url = import_conversation(text)
    entry = current_agent()
    if entry is not None:
        entry.add_conversation(imported)
        _save_conversation(imported, turns_too=True)
    return imported


def history_start(current: Conversation) -> int:
    """The index of the first turn the Chat page draws (the latest pages of it)."""
    shown: dict[str, int] = st.session_state.get(_HISTORY_SHOWN, {})
    return max(0, len(current.turns) - shown.get(current.id, HISTORY_PAGE))


def show_earlier_history(conversation_id: str) -> None:
    """Draw one more page of a conversation's earlier turns."""
    shown: dict[str, int] = st.session_state.setdefault(_HISTORY_SHOWN, {})
    shown[conversation_id] = shown.get(conversation_id, HISTORY_PAGE) + HISTORY_PAGE


def follow_conversation_link() -> str:
    """Keep `?c=` naming the open conversation. On a session's first Chat run, open the
    conversation the URL names if this workspace has it; if not, one sentence says so
    (an id in a URL grants nothing: it opens only in the workspace that owns it)."""
    wanted = st.query_params.get(CONVERSATION_PARAM, "")
    problem = ""
    if not st.session_state.get(_LINK_FOLLOWED):
        st.session_state[_LINK_FOLLOWED] = True
        space = workspace()
        owner = next(
            (e for e in space.agents.values() if any(c.id == wanted for c in e.conversations)),
            None,
        )
        if owner is not None:
            space.select(owner.url)
            owner.select_conversation(wanted)
            _save_selection()
        elif wanted:
            problem = (
                "The conversation in this link is not in this workspace: a link opens only "
                "in the browser (or for the person signed in) that made it."
            )
    current = conversation()
    if current.turns and wanted != current.id:
        st.query_params[CONVERSATION_PARAM] = current.id
    elif not current.turns and wanted and not problem:
        del st.query_params[CONVERSATION_PARAM]
    return problem


def queue_prompt(text: str) -> None:
    """Queue a prompt to send on the next run (a skill example clicked in the sidebar)."""
    st.session_state[_QUEUED_PROMPT] = text


def has_queued_prompt() -> bool:
    return bool(st.session_state.get(_QUEUED_PROMPT))


def take_queued_prompt() -> str:
    prompt: str = st.session_state.pop(_QUEUED_PROMPT, "")
    return prompt


def send(text: str, files: list[PartView] | None = None) -> tuple[Reply, EventStream[ReplyEvent]]:
    """Add `text` (and files) and an empty reply to the conversation; start the stream."""
    conv = conversation()
    options = agent.SendOptions(
        context_id=conv.context_id,
        task_id=conv.task_id,
        files=tuple(files or ()),
        accepted_output_modes=tuple(conv.accepted_output_modes),
        history_length=conv.history_length,
    )
    conv.add_user(text, files)
    st.query_params[CONVERSATION_PARAM] = conv.id  # a reload now lands on this conversation
    _save_conversation(conv)
    _save_turn(conv, len(conv.turns) - 1, wait=TURN_WAIT)  # kept before it leaves
    reply = conv.add_reply()
    stream = agent.send_message(
        runtime(), agent_url(), text, options=options, checkpoint=checkpoint
    )
    return reply, stream


# --- tasks and reconnect -------------------------------------------------------------------


def tasks_page_token() -> str:
    """Where the Tasks page's list starts ("" is the first page)."""
    token: str = st.session_state.get(_TASKS_PAGE, "")
    return token


def set_tasks_page_token(token: str) -> None:
    st.session_state[_TASKS_PAGE] = token


def list_tasks(where: tasks.TaskFilter) -> tasks.TaskPage:
    return tasks.list_tasks(runtime(), agent_url(), where)


def get_task(task_id: str) -> tasks.TaskDetail:
    return tasks.get_task(runtime(), agent_url(), task_id)


def cancel_task(task_id: str) -> str:
    return agent.cancel_task(runtime(), agent_url(), task_id)


def subscribe_task(task_id: str) -> EventStream[ReplyEvent]:
    return tasks.subscribe(runtime(), agent_url(), task_id, checkpoint=checkpoint)


def open_task_in_chat(detail: tasks.TaskDetail) -> None:
    """A new conversation that continues the task: its history, its context, and (if it
    waits for input) the task itself, so the next message answers it."""
    entry = current_agent()
    if entry is None:
        return
    stop_reply()
    opened = Conversation(
        turns=[t for t in detail.history if t.role == "user"],
        title=f"Task {detail.id[:8]}",
        seed_context_id=detail.context_id,
        seed_task_id=detail.id if detail.reply.needs_input else "",
    )
    opened.turns.append(Turn("agent", reply=detail.reply))
    entry.add_conversation(opened)
    _save_conversation(opened, turns_too=True)


def queue_reconnect(turn_index: int) -> None:
    st.session_state[_QUEUED_RECONNECT] = turn_index


def take_queued_reconnect() -> int | None:
    index: int | None = st.session_state.pop(_QUEUED_RECONNECT, None)
    return index


def reconnect(reply: Reply, *, resumed: bool = False) -> EventStream[ReplyEvent]:
    """Follow a broken reply's task again: the task now, its live events, then the task
    again. `resumed`: by itself, after the session it streamed in ended."""
    reply.resume()
    reply.resumed = reply.resumed or resumed
    return tasks.reconnect(runtime(), agent_url(), reply.task_id, checkpoint=checkpoint)


def stream_kept(stream_id: int) -> bool:
    """The inspector still has this stream (it keeps a session's last few)."""
    return bool(stream_id) and recorder().keeps(stream_id)


def take_stream_request() -> int | None:
    """The stream `?stream=N` names (a reply's Inspect link, a reload, a bookmark), once
    per value: the page then keeps the URL naming the stream it shows (`show_stream`)."""
    value = st.query_params.get(STREAM_PARAM)
    if value is None or st.session_state.get(_STREAM_SHOWN) == value:
        return None
    st.session_state[_STREAM_SHOWN] = value
    # Stream numbers are small; a long run of digits is not one (and int() refuses
    # more than 4,300 digits with a ValueError).
    return int(value) if value.isascii() and value.isdecimal() and len(value) <= 9 else None


def show_stream(stream_id: int | None) -> None:
    """Keep `?stream=` naming the stream the inspector shows, so a reload lands on it."""
    if stream_id is None:
        if STREAM_PARAM in st.query_params:
            del st.query_params[STREAM_PARAM]
        return
    st.session_state[_STREAM_SHOWN] = str(stream_id)
    if st.query_params.get(STREAM_PARAM) != str(stream_id):
        st.query_params[STREAM_PARAM] = str(stream_id)


def reset_widget(key: str) -> None:
    """Forget a widget's value, so it shows its default on the next draw."""
    st.session_state.pop(key, None)


def preset_widget(key: str, value: object) -> None:
    """Show `value` in the keyed widget drawn next (the model, not a stale choice, wins)."""
    st.session_state[key] = value


def widget_value(key: str) -> Any:
    """A keyed widget's current value (for on_change / on_click callbacks)."""
    return st.session_state.get(key)


def send_probe(text: str) -> EventStream[ReplyEvent]:
    """Send `text` in a fresh context, outside the chat (the inspector's own messages)."""
    return agent.send_message(runtime(), agent_url(), text, checkpoint=checkpoint)


def stop_reply() -> None:
    """Stop the streaming reply: cancel the stream and its task on the agent."""
    rt: SessionRuntime | None = st.session_state.get(_RUNTIME)
    if rt is not None and rt.alive and (stream := rt.active_stream) is not None:
        stream.cancel()
    reply = conversation().last_reply if _WORKSPACE in st.session_state else None
    if reply is not None:
        _stop_reply(reply)


def _stop_reply(reply: Reply) -> None:
    """Mark `reply` stopped by the user, cancel its task on the agent, keep what arrived."""
    if reply.settled or reply.error or reply.ended_at is not None:
        return
    reply.stopped = True
    reply.finish()
    if reply.task_id:
        try:
            reply.state = agent.cancel_task(runtime(), agent_url(), reply.task_id)
        except AppError as error:
            reply.error, reply.error_detail = (
                f"Stopped here, but the agent did not confirm the cancel: {error}",
                error.detail,
            )
    if (writer := reply_writer(reply)) is not None:
        writer.done()


def reply_pending(current: Conversation) -> bool:
    """This run will stream a reply it did not get from the chat input: a prompt queued
    (an example clicked), a Reconnect, or a reply to resume."""
    return (
        bool(st.session_state.get(_QUEUED_PROMPT))
        or _QUEUED_RECONNECT in st.session_state
        or any(turn.id in st.session_state.get(_RESUME, set()) for turn in current.turns)
    )


def rerun_chat() -> None:
    """Draw the chat fragment again now (in a run of the whole page, the page)."""
    ctx = get_script_run_ctx()
    st.rerun(scope="fragment" if ctx is not None and ctx.fragment_ids_this_run else "app")


# --- Stop from the chat input ----------------------------------------------------------------

# After Streamlit stops a run, the stopped run's thread has ended, and this long has passed
# with no new run of the page, the Stop was the chat input's (not a page switch, whose run
# starts at once with fastReruns).
_STOP_GRACE = 0.25


@dataclass
class _StopWatch:
    """Per session: full runs so far, and a reply whose run a user's Stop ended."""

    full_runs: int = 0
    stopped: Reply | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _stop_watch() -> _StopWatch:
    watch: _StopWatch = st.session_state.setdefault(_STOP_WATCH, _StopWatch())
    return watch


def begin_run() -> None:
    """Count a full run of the page (the router calls it first)."""
    watch = _stop_watch()
    with watch.lock:
        watch.full_runs += 1


@dataclass
class ReplyStop:
    """What happens to a streaming reply when Streamlit's Stop ends its run.

    Made before the stream starts: once a run is stopped, every `st.*` call and session
    state access raises again. Streamlit raises the same `StopException` for the chat
    input's Stop, for a click elsewhere on the page (fastReruns stops the run and starts
    another) and for a session that ends; only the first cancels the task. So `stopped`
    waits off the script thread: when the run has ended, the session is still connected
    and no new run of the page began, it was the input's Stop. It then asks Streamlit for
    a run, which cancels the task, keeps what arrived and draws the reply as stopped.
    """

    reply: Reply
    watch: _StopWatch
    full_runs: int
    session_id: str
    client_state: ClientState | None

    def stopped(self) -> None:
        script_thread = threading.current_thread()
        threading.Thread(
            target=self._settle, args=(script_thread,), name="a2a-after-stop", daemon=True
        ).start()

    def _settle(self, script_thread: threading.Thread) -> None:
        script_thread.join(timeout=5)
        time.sleep(_STOP_GRACE)
        if self.client_state is None or not Runtime.exists():
            return  # not a served app (AppTest): the reply is resumed like a session's end
        runtime_ = Runtime.instance()
        app_session = runtime_.get_app_session(self.session_id)
        if app_session is None or not runtime_.is_active_session(self.session_id):
            return  # the session ended: the next one resumes the reply
        with self.watch.lock:
            if self.watch.full_runs != self.full_runs:
                return  # another run took over (a page switch): the reply is interrupted
            self.watch.stopped = self.reply
        # No public API starts a run from outside one; this is what Streamlit's own
        # run-on-save does.
        app_session.request_rerun(self.client_state)


def reply_stop(reply: Reply) -> ReplyStop:
    """What to call if Streamlit's Stop ends the run streaming `reply` (see `ReplyStop`)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    watch = _stop_watch()
    state = None
    if ctx is not None:
        state = ClientState(query_string=ctx.query_string, page_script_hash=ctx.page_script_hash)
    return ReplyStop(reply, watch, watch.full_runs, ctx.session_id if ctx else "", state)


def settle_stopped_reply() -> None:
    """Finish the reply the chat input's Stop ended: cancel its task, keep what arrived."""
    watch = _stop_watch()
    with watch.lock:
        reply, watch.stopped = watch.stopped, None
    if reply is not None:
        _stop_reply(reply)
