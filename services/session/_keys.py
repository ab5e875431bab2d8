"""The names the bridge keeps: session-state keys with their types, and URL parameters.

Every value the bridge keeps in `st.session_state` has one `Key` here, so a reader sees
them all in one place and each read comes back typed. Their names are what tests read
(`at.session_state["runtime"]`): keep them. Pages never spell a key; the widget helpers
below take the pages' own widget keys (`chat_prompt`, `inspector_stream`).

The lowest module of the bridge: it imports nothing else of it at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import streamlit as st

if TYPE_CHECKING:
    from services.agent_check import AgentCheckReport
    from services.client.allowlist import AllowList
    from services.client.auth import OriginCredentials
    from services.client.oauth import SignIn, TokenKeeper
    from services.client.resources import ConnectOptions
    from services.client.tls import ClientCertificate, OriginCertificates
    from services.errors import AppError, InvalidUrl
    from services.health import Reproduction, SelfTest
    from services.inspector.capture import TrafficRecorder
    from services.redact import Redactor
    from services.runtime import SessionRuntime
    from services.session._agent_check import AgentCheckRun
    from services.session._chat import StopWatch
    from services.session._settings import Settings
    from services.session._side_by_side import SideBySideRun
    from services.store import StoreError
    from services.store.workspace import Workspace

__all__ = [
    "ALLOW",
    "BAD_URLS",
    "CERTIFICATES",
    "CLIENT_CERTIFICATES",
    "CONNECT_ERROR",
    "CONVERSATION_PARAM",
    "CONNECTED",
    "CREDENTIALS",
    "SIGN_INS",
    "SIGN_INS_TRIED",
    "TOKENS",
    "HISTORY_SHOWN",
    "LINK_FOLLOWED",
    "QUEUED_PROMPT",
    "QUEUED_RECONNECT",
    "REBUILDS",
    "RECORDER",
    "REDACTOR",
    "REPLAYS",
    "REPRODUCTION",
    "RESUME",
    "RUNTIME",
    "SELF_TEST",
    "SETTINGS",
    "SHARE_PARAM",
    "STORE_LOAD_ERROR",
    "AGENT_CHECKS",
    "SIDE_BY_SIDE",
    "SIDE_BY_SIDE_RUNS",
    "AGENT_CHECK_RUNNING",
    "STOP_WATCH",
    "STREAM_PARAM",
    "STREAM_SHOWN",
    "TASKS_PAGE",
    "WORKSPACE",
    "WORKSPACE_ID",
    "Key",
    "preset_widget",
    "reset_widget",
    "widget_value",
]

T = TypeVar("T")


class Key(Generic[T]):
    """A session-state key and the type of its value (aiohttp's `AppKey`, for Streamlit)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"

    def present(self) -> bool:
        """Whether the session has a value (touching session state: see `checkpoint`)."""
        return self.name in st.session_state

    def get(self) -> T | None:
        return cast("T | None", st.session_state.get(self.name))

    def get_or(self, default: T) -> T:
        return cast(T, st.session_state.get(self.name, default))

    def set(self, value: T) -> None:
        st.session_state[self.name] = value

    def pop(self) -> T | None:
        return cast("T | None", st.session_state.pop(self.name, None))

    def setdefault(self, make: Callable[[], T]) -> T:
        """The value, made by `make()` on first use only (making one may cost, or log)."""
        if self.name not in st.session_state:
            st.session_state[self.name] = make()
        return cast(T, st.session_state[self.name])


# --- session state -------------------------------------------------------------------------

SETTINGS: Key[Settings] = Key("settings")
RUNTIME: Key[SessionRuntime] = Key("runtime")
REBUILDS: Key[int] = Key("runtime_rebuilds")
REDACTOR: Key[Redactor] = Key("redactor")
RECORDER: Key[TrafficRecorder] = Key("traffic_recorder")
CREDENTIALS: Key[OriginCredentials] = Key("origin_credentials")
# How each agent was connected (binding, tenant...): every runtime of the session shares it.
CONNECTED: Key[dict[str, ConnectOptions]] = Key("connect_options")
TOKENS: Key[TokenKeeper] = Key("oauth_tokens")  # signed-in agents' tokens, refreshed
SIGN_INS: Key[dict[str, SignIn]] = Key("oauth_sign_ins")  # agent URL -> its latest sign-in
SIGN_INS_TRIED: Key[set[str]] = Key("oauth_sign_ins_tried")  # agents whose kept one was read
CERTIFICATES: Key[OriginCertificates] = Key("origin_certificates")
CLIENT_CERTIFICATES: Key[dict[str, ClientCertificate | AppError]] = Key("client_certificates")
ALLOW: Key[AllowList] = Key("allow_list")
SELF_TEST: Key[SelfTest] = Key("health_self_test")
REPRODUCTION: Key[Reproduction] = Key("health_reproduction")
WORKSPACE_ID: Key[str] = Key("workspace_id")
WORKSPACE: Key[Workspace] = Key("workspace")
STORE_LOAD_ERROR: Key[StoreError] = Key("store_load_error")
RESUME: Key[set[str]] = Key("resume_replies")  # turns whose reply streamed as a session ended
BAD_URLS: Key[dict[str, InvalidUrl]] = Key("invalid_agent_urls")
CONNECT_ERROR: Key[AppError] = Key("connect_error")
HISTORY_SHOWN: Key[dict[str, int]] = Key("history_shown")
LINK_FOLLOWED: Key[bool] = Key("conversation_link_followed")
QUEUED_PROMPT: Key[str] = Key("queued_prompt")
QUEUED_RECONNECT: Key[int] = Key("queued_reconnect")
STOP_WATCH: Key[StopWatch] = Key("stop_watch")
AGENT_CHECKS: Key[list[AgentCheckReport]] = Key("agent_check_runs")
AGENT_CHECK_RUNNING: Key[AgentCheckRun] = Key("agent_check_running")
TASKS_PAGE: Key[str] = Key("tasks_page_token")
STREAM_SHOWN: Key[str] = Key("inspector_stream_in_url")
REPLAYS: Key[dict[int, int]] = Key("inspector_replays")  # a replay's stream id -> its original's
SIDE_BY_SIDE: Key[SideBySideRun] = Key("side_by_side_run")  # the run the page shows
SIDE_BY_SIDE_RUNS: Key[list[SideBySideRun]] = Key("side_by_side_runs")  # without a store

# --- the URL -------------------------------------------------------------------------------

STREAM_PARAM = "stream"  # ?stream=N opens the inspector on this session's stream N
CONVERSATION_PARAM = "c"  # ?c=<id> names the open conversation: reload and bookmarks land there
SHARE_PARAM = "share"  # /shared?share=<token> opens a read-only snapshot


# --- the pages' widgets --------------------------------------------------------------------


def reset_widget(key: str) -> None:
    """Forget a widget's value, so it shows its default on the next draw."""
    st.session_state.pop(key, None)


def preset_widget(key: str, value: object) -> None:
    """Show `value` in the keyed widget drawn next (the model, not a stale choice, wins)."""
    st.session_state[key] = value


def widget_value(key: str) -> Any:
    """A keyed widget's current value (for on_change / on_click callbacks)."""
    return st.session_state.get(key)
