"""The one bridge between Streamlit and the services: typed access to session state.

Pages never spell `st.session_state[...]`; they call these functions. This is the only
module in `services/` that imports Streamlit, and it only runs on the script thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from services import agent, health
from services.auth import BearerForOrigin
from services.capture import DEFAULT_MAX_BYTES, DEFAULT_MAX_STREAMS, TrafficRecorder
from services.demo_agent import ensure_demo_agent
from services.errors import AppError
from services.redact import Redactor, redact_logs
from services.replies import Conversation, Reply, ReplyEvent
from services.runtime import EventStream, SessionRuntime

__all__ = [
    "agent_error",
    "agent_info",
    "agent_url",
    "checkpoint",
    "configured_agent_url",
    "connect",
    "conversation",
    "default_agent_url",
    "health_report",
    "last_reproduction",
    "last_self_test",
    "loop_status",
    "new_conversation",
    "queue_prompt",
    "recorder",
    "redact",
    "redactor",
    "reset_widget",
    "restart_runtime",
    "run_reproduction",
    "run_self_test",
    "runtime",
    "runtime_rebuilds",
    "send",
    "send_probe",
    "session_active",
    "stop_reply",
    "take_queued_prompt",
]

_RUNTIME = "runtime"
_REBUILDS = "runtime_rebuilds"
_CONVERSATION = "conversation"
_AGENT_URL = "agent_url"
_AGENT_INFO = "agent_info"
_AGENT_ERROR = "agent_error"
_QUEUED_PROMPT = "queued_prompt"
_RECORDER = "traffic_recorder"
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
            recorder=recorder(),
            auth=_auth(),
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
    """The configured agent: `A2A_AGENT_URL` in the environment, else `agent_url` in secrets."""
    if env := os.environ.get("A2A_AGENT_URL", "").strip():
        return env
    return str(_secrets().get("agent_url", "")).strip()


def _agent_token() -> str:
    """A bearer token for the configured agent: `A2A_AGENT_TOKEN`, else `agent_token`."""
    return (
        os.environ.get("A2A_AGENT_TOKEN", "").strip()
        or str(_secrets().get("agent_token", "")).strip()
    )


def _auth() -> BearerForOrigin | None:
    token, url = _agent_token(), configured_agent_url()
    return BearerForOrigin(token, url) if token and url else None


def _secret_values(tree: Mapping[str, Any]) -> list[str]:
    """Values in secrets whose names say they are secret (tokens, keys, passwords)."""
    values: list[str] = []
    for name, value in tree.items():
        if isinstance(value, Mapping):
            values += _secret_values(value)
        elif any(word in name.lower() for word in ("token", "key", "secret", "password")):
            values.append(str(value))
    return values


def redactor() -> Redactor:
    """Masks this deployment's secrets in everything the app shows, exports or logs."""
    secrets = [_agent_token(), *_secret_values(_secrets())]
    redact_logs(secrets)
    return Redactor(secrets)


def redact(text: str) -> str:
    return redactor().text(text)


def _int_setting(name: str, default: int) -> int:
    """A whole number from `A2A_<NAME>` in the environment, else `name` in secrets."""
    raw = os.environ.get(f"A2A_{name.upper()}") or _secrets().get(name)
    try:
        return int(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        return default


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


# --- the agent -------------------------------------------------------------------------


def default_agent_url() -> str:
    """The configured agent, or else the embedded demo agent (started on first use)."""
    return configured_agent_url() or ensure_demo_agent()


def agent_url() -> str:
    """The URL of the agent this session talks to (the default until one is chosen)."""
    if _AGENT_URL not in st.session_state:
        st.session_state[_AGENT_URL] = default_agent_url()
    url: str = st.session_state[_AGENT_URL]
    return url


def agent_info() -> agent.AgentInfo | None:
    """The connected agent's card summary; connects on first use."""
    if _AGENT_INFO not in st.session_state and _AGENT_ERROR not in st.session_state:
        connect(agent_url())
    info: agent.AgentInfo | None = st.session_state.get(_AGENT_INFO)
    return info


def agent_error() -> AppError | None:
    """Why the last connection attempt failed, if it did."""
    error: AppError | None = st.session_state.get(_AGENT_ERROR)
    return error


def connect(url: str) -> agent.AgentInfo | None:
    """Connect to `url`; a different agent starts a new conversation.

    If it fails, the error is kept for the sidebar and the session stays with the agent
    it had (if any), so a mistyped URL loses nothing.
    """
    st.session_state.pop(_AGENT_ERROR, None)
    try:
        info = agent.connect(runtime(), url)
    except AppError as error:
        st.session_state[_AGENT_ERROR] = error
        st.session_state.setdefault(_AGENT_INFO, None)
        return None
    if st.session_state.get(_AGENT_URL) != url:
        new_conversation()
    st.session_state[_AGENT_URL] = url
    st.session_state[_AGENT_INFO] = info
    return info


# --- the conversation ------------------------------------------------------------------


def conversation() -> Conversation:
    """The chat history with its context and pending task ids (plain data)."""
    conv: Conversation = st.session_state.setdefault(_CONVERSATION, Conversation())
    return conv


def new_conversation() -> None:
    stop_reply()
    st.session_state[_CONVERSATION] = Conversation()


def queue_prompt(text: str) -> None:
    """Queue a prompt to send on the next run (a skill example clicked in the sidebar)."""
    st.session_state[_QUEUED_PROMPT] = text


def take_queued_prompt() -> str:
    prompt: str = st.session_state.pop(_QUEUED_PROMPT, "")
    return prompt


def send(text: str) -> tuple[Reply, EventStream[ReplyEvent]]:
    """Add `text` and an empty reply to the conversation, and start the reply's stream."""
    conv = conversation()
    context_id, task_id = conv.context_id, conv.task_id
    conv.add_user(text)
    reply = conv.add_reply()
    stream = agent.send_message(
        runtime(), agent_url(), text, context_id=context_id, task_id=task_id, checkpoint=checkpoint
    )
    return reply, stream


def reset_widget(key: str) -> None:
    """Forget a widget's value, so it shows its default on the next draw."""
    st.session_state.pop(key, None)


def send_probe(text: str) -> EventStream[ReplyEvent]:
    """Send `text` in a fresh context, outside the chat (the inspector's own messages)."""
    return agent.send_message(runtime(), agent_url(), text, checkpoint=checkpoint)


def stop_reply() -> None:
    """Stop the streaming reply: cancel the stream and its task on the agent."""
    rt: SessionRuntime | None = st.session_state.get(_RUNTIME)
    if rt is not None and rt.alive and (stream := rt.active_stream) is not None:
        stream.cancel()
    reply = conversation().last_reply
    if reply is None or reply.settled or reply.error:
        return
    reply.stopped = True
    reply.finish()
    if not reply.task_id:
        return
    try:
        reply.state = agent.cancel_task(runtime(), agent_url(), reply.task_id)
    except AppError as error:
        reply.error, reply.error_detail = (
            f"Stopped here, but the agent did not confirm the cancel: {error}",
            error.detail,
        )
