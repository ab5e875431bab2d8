"""Shared fixtures: the demo agent on loopback (fast), and session runtimes."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.testing.v1 import AppTest

from services.demo_agent import DemoAgentServer, DemoTiming
from services.runtime import SessionRuntime
from tests.browser import chromium_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# The app keeps workspaces in a SQLite file: the tests' go to a folder of their own.
os.environ.setdefault("A2A_DATA_DIR", tempfile.mkdtemp(prefix="a2a-test-data-"))

APP = str(Path(__file__).resolve().parents[1] / "router.py")  # what app.py serves

# Fast enough for tests, slow enough that streams really interleave with the reader.
FAST = DemoTiming(token_delay=0.002, step_delay=0.02, slow_interval=1.0, slow_chunks=35)


@pytest.fixture(scope="session")
def demo_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=FAST) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per browser-test module (each page gets its own context or page)."""
    with chromium_browser() as launched:
        yield launched


@pytest.fixture
def runtime() -> Iterator[SessionRuntime]:
    rt = SessionRuntime(label="test")
    yield rt
    rt.close()
    assert not rt.thread.is_alive()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, demo_agent: DemoAgentServer) -> Iterator[AppTest]:
    """The whole app under AppTest, configured (by environment) to use the fast demo agent."""
    monkeypatch.setenv("A2A_AGENT_URL", demo_agent.url)
    at = AppTest.from_file(APP, default_timeout=30)
    yield at
    close_runtime(at)


def close_runtime(at: AppTest) -> None:
    rt = at.session_state["runtime"] if "runtime" in at.session_state else None
    if isinstance(rt, SessionRuntime):
        rt.close()


def thread_names() -> list[str]:
    return sorted(t.name for t in threading.enumerate())


@pytest.fixture(autouse=True)
def _navigation_like_a_real_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make AppTest route through app.py's st.navigation on every run, as a server does.

    AppTest resets `PagesManager.uses_pages_directory` before each run, so with a
    `app_pages/` folder every run after the first takes Streamlit's MPA v1 path and runs
    the page script alone, without app.py (streamlit#9446, fixed only for apps without
    a app_pages/ folder in PR 14217). A real server clears the flag for good at the first
    `st.navigation` call; this does the same for each run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original_init = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
