"""This session's runtime (its event loop on a thread of its own), and its health.

The runtime is rebuilt transparently when it was closed (a websocket disconnect closes
it) or its thread died; `checkpoint` is where a long wait on the script thread lets
Streamlit stop or rerun it.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from services import health
from services.client import resources
from services.runtime import SessionRuntime
from services.session import _keys as keys
from services.session._resources import (
    allow_list,
    origin_certificates,
    origin_credentials,
    recorder,
    timeout,
)

__all__ = [
    "checkpoint",
    "health_report",
    "last_reproduction",
    "last_self_test",
    "loop_status",
    "restart_runtime",
    "run_reproduction",
    "run_self_test",
    "runtime",
    "runtime_rebuilds",
    "session_active",
]


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
    current = keys.RUNTIME.get()
    if current is None or not current.alive:
        rebuilds = keys.REBUILDS.get_or(-1) + 1
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
            auth=origin_credentials(),
            allow=allow_list(),
            timeout=timeout(),
            certificates=origin_certificates(),
            connected=keys.CONNECTED.setdefault(dict),
        )
        keys.RUNTIME.set(current)
        keys.REBUILDS.set(rebuilds)
    _close_on_disconnect(current, current.number)
    return current


def restart_runtime() -> SessionRuntime:
    """Close this session's runtime and start a new one; the conversation stays."""
    current = keys.RUNTIME.get()
    if current is not None:
        current.close()
    return runtime()


def runtime_rebuilds() -> int:
    """How many times this session's runtime was rebuilt after the first."""
    return max(keys.REBUILDS.get_or(0), 0)


def checkpoint() -> None:
    """Touch session state: this is where Streamlit raises a pending rerun or Stop."""
    keys.RUNTIME.present()


# --- health --------------------------------------------------------------------------------


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


def _demo_agent_url() -> str:
    # The demo agent's module loads uvicorn and the whole server stack: import it only
    # when a page asks for the agent, not with every page.
    from services.demo_agent import ensure_demo_agent

    return ensure_demo_agent()


def run_self_test() -> health.SelfTest:
    result = health.self_test(runtime(), _demo_agent_url())
    keys.SELF_TEST.set(result)
    return result


def last_self_test() -> health.SelfTest | None:
    return keys.SELF_TEST.get()


def run_reproduction() -> health.Reproduction:
    result = health.reproduce_classic_error(_demo_agent_url())
    keys.REPRODUCTION.set(result)
    return result


def last_reproduction() -> health.Reproduction | None:
    return keys.REPRODUCTION.get()
