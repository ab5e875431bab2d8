"""`rerun_ms_200`: a plain rerun of the Chat page with 200 messages in its history.

The history is made of real replies: one per demo scenario (a direct message, a long
markdown answer, status updates and results, a table and a CSV file, an image with a
link and JSON), fetched once through the service layer and repeated to 100 replies,
each after its user message. The rerun is timed with Streamlit's AppTest.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks.stats import median
from services.client import agent
from services.replies import Reply, Turn
from services.runtime import SessionRuntime

__all__ = [
    "APP",
    "HISTORY_SCENARIOS",
    "app_routing",
    "history",
    "quiet_script_context",
    "replies",
    "rerun_figures",
    "setenv",
]

APP = str(Path(__file__).resolve().parents[1] / "router.py")  # what app.py serves
HISTORY_SCENARIOS = (
    "hello",
    "Explain how A2A streaming works",
    "Search for A2A news",
    "Generate a sales report",
    "Draw a chart image",
)


def replies(url: str, texts: Sequence[str]) -> list[Reply]:
    """The agent's real reply to each of `texts`, read through the service layer."""
    runtime = SessionRuntime(label="bench-history")
    out: list[Reply] = []
    try:
        agent.connect(runtime, url)
        for text in texts:
            reply = Reply()
            for event in agent.send_message(runtime, url, text):
                reply.apply(event)
            reply.finish()
            out.append(reply)
    finally:
        runtime.close()
    return out


def history(url: str, messages: int = 200) -> list[Turn]:
    """`messages` turns: user messages, each followed by a real reply from the agent."""
    answers = replies(url, HISTORY_SCENARIOS)
    turns: list[Turn] = []
    for number in range(messages // 2):
        index = number % len(HISTORY_SCENARIOS)
        turns.append(Turn("user", HISTORY_SCENARIOS[index]))
        turns.append(Turn("agent", reply=copy.deepcopy(answers[index])))
    return turns


@contextmanager
def app_routing() -> Iterator[None]:
    """Route every AppTest run through app.py's st.navigation, as a server does.

    The same fix as tests/conftest.py: AppTest resets `uses_pages_directory` before each
    run, so without it every run after the first would run the page alone (no sidebar).
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        PagesManager.__init__ = original  # type: ignore[method-assign]


@contextmanager
def setenv(name: str, value: str) -> Iterator[None]:
    """`name` set to `value` in the environment for the block (the app reads it)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def quiet_script_context() -> None:
    """AppTest sets session state before any script runs; outside pytest Streamlit warns
    about the missing script context for that, which is expected here."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
        logging.ERROR
    )


def rerun_figures(url: str, rounds: int, messages: int = 200) -> dict[str, float]:
    """Median wall time of `AppTest.run()` on the Chat page holding `messages` messages."""
    from streamlit.testing.v1 import AppTest

    turns = history(url, messages)
    quiet_script_context()
    with setenv("A2A_AGENT_URL", url), app_routing():
        at = AppTest.from_file(APP, default_timeout=120)
        try:
            at.run()  # connects to the agent and builds the session's workspace
            conversation = at.session_state["workspace"].agent.conversation
            conversation.turns[:] = turns
            # The page draws the latest turns a page at a time: ask for all of them, as
            # "Show earlier messages" clicked until they are all there would.
            at.session_state["history_shown"] = {conversation.id: messages}
            at.run()  # warm: the first draw of the history
            if at.exception:
                raise RuntimeError(f"the Chat page failed: {at.exception[0].value}")
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - start) * 1000)
            shown = len(at.chat_message)
            if shown != messages:
                raise RuntimeError(f"the Chat page showed {shown} messages, not {messages}")
        finally:
            runtime = at.session_state["runtime"] if "runtime" in at.session_state else None
            if isinstance(runtime, SessionRuntime):
                runtime.close()
    return {"rerun_ms_200": median(times)}
