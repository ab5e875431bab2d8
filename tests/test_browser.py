"""Real-browser smoke test: `streamlit run app.py` driven by headless Chromium.

It chats with the embedded demo agent over three turns and checks that every reply
streams to completion, that the agent remembers the conversation, that the page shows
no exception, and that `streamlit run` logs no traceback and exits promptly on SIGTERM.

Needs Debian's Chromium (`apt-get install -y chromium`): Playwright's own browser
download does not work here. Without it the test is skipped, or fails when
A2A_REQUIRE_BROWSER=1 (as CI sets).
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[1]
THREAD_PREFIX = "a2a-session-"  # services.runtime names each session's loop thread so
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
START_TIMEOUT = 60.0  # seconds until /_stcore/health answers 200
STOP_TIMEOUT = 15.0  # seconds `streamlit run` may take to exit after SIGTERM
REPLY_TIMEOUT = 30.0  # seconds per reply; the slowest (the search) takes about 3 s
LOG_PROBLEMS = ("Event loop is closed", "Traceback")

# A reply's footer caption gets "N events in X s" only once the reply has finished
# (drawn after the Stop button is removed), so it marks the final render.
FINISHED_CAPTION = re.compile(r"\d+ events? in \d+\.\d s")

# One atomic look at the chat: the assistant bubbles' text (skipping stale elements
# left over from the previous run) and whether a Stop button is on the page.
CHAT_SNAPSHOT_JS = """() => ({
  replies: [...document.querySelectorAll('[data-testid="stChatMessage"]')]
    .filter((m) => m.querySelector('[aria-label="Chat message from assistant"]'))
    .filter((m) => !m.closest('[data-stale="true"]'))
    .map((m) => m.innerText),
  stop: [...document.querySelectorAll('button')]
    .some((b) => b.innerText.trim().endsWith('Stop')),
})"""


def _unavailable(reason: str) -> NoReturn:
    """Skip locally, but fail where a browser is required (CI sets A2A_REQUIRE_BROWSER=1)."""
    if os.environ.get("A2A_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (A2A_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser to drive; checked first so the server never starts without one."""
    if importlib.util.find_spec("playwright") is None:
        _unavailable("playwright not installed: pip install -r requirements-dev.txt")
    if not CHROMIUM.exists():
        _unavailable(f"Chromium not installed at {CHROMIUM}: apt-get install -y chromium")
    return CHROMIUM


@dataclass
class AppServer:
    url: str
    log_path: Path
    pid: int

    def session_threads(self) -> int:
        """Session loop threads alive in the server (their OS names, from /proc)."""
        names = (p.read_text() for p in Path(f"/proc/{self.pid}/task").glob("*/comm"))
        return sum(name.startswith(THREAD_PREFIX) for name in names)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def app_server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """`streamlit run app.py` on a free loopback port, with the embedded demo agent."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "A2A_AGENT_URL"}  # -> demo agent
    env["PYTHONUNBUFFERED"] = "1"  # keep the log current while the test reads it
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--runner.fastReruns=true",
        "--browser.gatherUsageStats=false",
    ]  # fmt: skip
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        server = AppServer(url=url, log_path=log_path, pid=process.pid)
        try:
            _wait_until_healthy(process, server)
            yield server
        finally:
            stopped = _stop(process)
    # Checked after exit, so shutdown errors count too.
    assert stopped, (
        f"`streamlit run` did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM and was "
        f"killed; log: {log_path}"
    )
    _assert_clean_log(server)


def _wait_until_healthy(process: subprocess.Popen[bytes], server: AppServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not _healthy(server.url):
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{server.log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"streamlit not healthy after {START_TIMEOUT:.0f} s:\n{server.log()}")
        time.sleep(0.25)


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM, as a host or process manager sends; kill if it hangs. True if it exited."""
    if process.poll() is not None:
        return True
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()  # SIGKILL cannot be ignored
        return False


def _assert_clean_log(server: AppServer) -> None:
    log = server.log()
    for problem in LOG_PROBLEMS:
        assert problem not in log, f"server log contains {problem!r}:\n{log}"


@pytest.fixture
def page(chromium: Path) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            # Tall enough that the screenshot shows the whole conversation.
            yield browser.new_page(viewport={"width": 1280, "height": 1600})
        finally:
            browser.close()


def _wait_for_reply(page: Page, count: int, shot: Path) -> str:
    """Wait until reply number `count` has finished streaming; return its text."""
    deadline = time.monotonic() + REPLY_TIMEOUT
    while True:
        chat: dict[str, Any] = page.evaluate(CHAT_SNAPSHOT_JS)
        replies: list[str] = chat["replies"]
        if len(replies) == count and not chat["stop"] and FINISHED_CAPTION.search(replies[-1]):
            return replies[-1]
        if time.monotonic() > deadline:
            page.screenshot(path=shot, full_page=True)
            pytest.fail(
                f"reply {count} not finished after {REPLY_TIMEOUT:.0f} s: "
                f"{len(replies)} assistant bubble(s), Stop shown: {chat['stop']}, "
                f"last: {replies[-1] if replies else None!r}; screenshot: {shot}"
            )
        page.wait_for_timeout(100)


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_three_streamed_replies(app_server: AppServer, page: Page, tmp_path: Path) -> None:
    page.goto(app_server.url)
    chat_input = page.locator('[data-testid="stChatInput"] textarea')
    # The first run connects to the demo agent before the input is drawn.
    chat_input.wait_for(state="visible", timeout=REPLY_TIMEOUT * 1000)

    turns = [
        ("My name is Ada", ["Nice to meet you, Ada"]),
        ("Search for A2A news", ["Results for", "completed"]),  # status updates, ~3 s
        ("What is my name?", ["Your name is Ada"]),  # the agent kept the context
    ]
    for number, (message, expected) in enumerate(turns, start=1):
        chat_input.fill(message)
        chat_input.press("Enter")
        reply = _wait_for_reply(page, number, tmp_path / f"reply-{number}-timeout.png")
        for text in expected:
            assert text in reply, f"reply {number} to {message!r} lacks {text!r}: {reply!r}"

    screenshot = tmp_path / "chat.png"
    page.screenshot(path=screenshot, full_page=True)  # for debugging a failure by eye
    assert page.locator('[data-testid="stException"]').count() == 0, f"see {screenshot}"
    assert "Event loop is closed" not in page.content(), f"see {screenshot}"
    _assert_clean_log(app_server)  # early and specific; teardown checks the rest


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_closing_a_tab_ends_its_session_runtime(app_server: AppServer, page: Page) -> None:
    # Tabs of earlier tests may still be closing: wait until their loops are gone.
    assert _wait_for(lambda: app_server.session_threads() == 0)

    page.goto(app_server.url)
    chat_input = page.locator('[data-testid="stChatInput"] textarea')
    chat_input.wait_for(timeout=30_000)
    chat_input.fill("hello")
    chat_input.press("Enter")
    _wait_for_reply(page, 1, Path("/dev/null"))
    assert app_server.session_threads() == 1  # this session's one loop thread
    page.close()  # the websocket drops: on_release closes the runtime

    assert _wait_for(lambda: app_server.session_threads() == 0)


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
