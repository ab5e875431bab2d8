"""What the Chat page's fragment needs beyond the conversation: which reply streams in a
run of the whole page, and what the chat input's Stop does.

The chat area is a fragment (`app_pages/chat.py`). A reply the chat input asked for streams
in the fragment's run, and the input's send button is its Stop (`submit_mode="stop"`),
which is Streamlit's own Stop: it ends the run with `StopException`, after which every
`st.*` call raises again. `ReplyStop` is made before the stream starts and decides, off
the script thread, whether a Stop was the user's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import streamlit as st
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from services.replies import Conversation, Reply
from services.session import _keys as keys
from services.session._agents import stop_this_reply

__all__ = [
    "ReplyStop",
    "StopWatch",
    "begin_run",
    "rerun_chat",
    "reply_pending",
    "reply_stop",
    "settle_stopped_reply",
]

# After Streamlit stops a run, the stopped run's thread has ended, and this long has passed
# with no new run of the page, the Stop was the chat input's (not a page switch, whose run
# starts at once with fastReruns, but may take a while to begin on a busy machine).
STOP_GRACE = 1.0
STOP_POLL = 0.05


def reply_pending(current: Conversation) -> bool:
    """This run will stream a reply it did not get from the chat input: a prompt queued
    (an example clicked), a Reconnect, or a reply to resume."""
    resume = keys.RESUME.get_or(set())
    return (
        bool(keys.QUEUED_PROMPT.get())
        or keys.QUEUED_RECONNECT.present()
        or any(turn.id in resume for turn in current.turns)
    )


def rerun_chat() -> None:
    """Draw the chat fragment again now (in a run of the whole page, the page)."""
    ctx = get_script_run_ctx()
    st.rerun(scope="fragment" if ctx is not None and ctx.fragment_ids_this_run else "app")


@dataclass
class StopWatch:
    """Per session: full runs so far, and a reply whose run a user's Stop ended."""

    full_runs: int = 0
    stopped: Reply | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def begin_run() -> None:
    """Count a full run of the page (the router calls it first)."""
    watch = keys.STOP_WATCH.setdefault(StopWatch)
    with watch.lock:
        watch.full_runs += 1


@dataclass
class ReplyStop:
    """What happens to a streaming reply when Streamlit's Stop ends its run.

    Streamlit raises the same `StopException` for the chat input's Stop, for a click
    elsewhere on the page (fastReruns stops the run and starts another) and for a session
    that ends; only the first cancels the task. So `stopped` waits off the script thread:
    once the run has ended, if the session is still connected and no new run of the page
    began, it was the input's Stop. It then asks Streamlit for a run, which cancels the
    task, keeps what arrived and draws the reply as stopped (`settle_stopped_reply`).
    """

    reply: Reply
    watch: StopWatch
    full_runs: int
    session_id: str
    client_state: ClientState | None

    def stopped(self) -> None:
        """Called in `except StopException`: no `st.*` here, nor in what it starts."""
        script_thread = threading.current_thread()
        threading.Thread(
            target=self._settle, args=(script_thread,), name="a2a-after-stop", daemon=True
        ).start()

    def _settle(self, script_thread: threading.Thread) -> None:
        script_thread.join(timeout=5)
        deadline = time.monotonic() + STOP_GRACE
        while time.monotonic() < deadline and self.watch.full_runs == self.full_runs:
            time.sleep(STOP_POLL)  # a page switch's run shows up here; a Stop's never does
        if self.client_state is None or not Runtime.exists():
            return  # not a served app (AppTest): the reply resumes as after a session's end
        runtime = Runtime.instance()
        app_session = runtime.get_app_session(self.session_id)
        if app_session is None or not runtime.is_active_session(self.session_id):
            return  # the session ended: the next one resumes the reply
        with self.watch.lock:
            if self.watch.full_runs != self.full_runs:
                return  # another run took over (a page switch): the reply is interrupted
            self.watch.stopped = self.reply
        # No public API starts a run from outside one; Streamlit's own run-on-save does
        # this (`AppSession.request_rerun` from its file watcher's thread).
        app_session.request_rerun(self.client_state)


def reply_stop(reply: Reply) -> ReplyStop:
    """What to call if Streamlit's Stop ends the run streaming `reply` (see `ReplyStop`)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    watch = keys.STOP_WATCH.setdefault(StopWatch)
    state = None
    if ctx is not None:
        state = ClientState(query_string=ctx.query_string, page_script_hash=ctx.page_script_hash)
    return ReplyStop(reply, watch, watch.full_runs, ctx.session_id if ctx else "", state)


def settle_stopped_reply() -> None:
    """Finish the reply the chat input's Stop ended: cancel its task, keep what arrived."""
    watch = keys.STOP_WATCH.setdefault(StopWatch)
    with watch.lock:
        reply, watch.stopped = watch.stopped, None
    if reply is not None:
        stop_this_reply(reply)
