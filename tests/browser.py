"""Shared helpers for the real-browser tests: `streamlit run app.py` and Debian's Chromium.

Each browser test module starts its own server (module scope) through `app_server()`,
so the modules stay independent; this module holds no fixtures, only the parts.
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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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
# (drawn after the Stop button goes), so it marks the final render.
FINISHED_CAPTION = re.compile(r"\d+ events? in \d+\.\d s")

# One atomic look at the chat, by the bubbles' aria-labels: each side's message text
# (skipping stale elements left over from the previous run), whether a Stop is on the
# page (the chat input's, while the reply it asked for streams, or the page's Stop
# button for any other reply), how many exception boxes it shows, and its whole text.
CHAT_SNAPSHOT_JS = """() => {
  const fresh = (label) => [...document.querySelectorAll(`[aria-label="${label}"]`)]
    .filter((m) => !m.closest('[data-stale="true"]'))
    .map((m) => m.innerText);
  return {
    users: fresh('Chat message from user'),
    replies: fresh('Chat message from assistant'),
    stop: document.querySelector('[data-testid="stChatInputStopButton"]') !== null
      || [...document.querySelectorAll('button')].some((b) => b.innerText.trim().endsWith('Stop')),
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    text: document.body.innerText,
  };
}"""


def unavailable(reason: str) -> NoReturn:
    """Skip locally, but fail where a browser is required (CI sets A2A_REQUIRE_BROWSER=1)."""
    if os.environ.get("A2A_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (A2A_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def require_chromium() -> Path:
    """The browser to drive; checked first so a server never starts without one."""
    if importlib.util.find_spec("playwright") is None:
        unavailable("playwright not installed: pip install -r requirements-dev.txt")
    if not CHROMIUM.exists():
        unavailable(f"Chromium not installed at {CHROMIUM}: apt-get install -y chromium")
    return CHROMIUM


@dataclass
class AppServer:
    url: str
    log_path: Path
    pid: int

    def thread_names(self) -> list[str]:
        """The OS names of the server's threads, from /proc."""
        names = []
        for comm in Path(f"/proc/{self.pid}/task").glob("*/comm"):
            try:
                names.append(comm.read_text().strip())
            except OSError:
                pass  # the thread ended between the listing and the read
        return names

    def session_threads(self) -> int:
        """Session loop threads alive in the server (their OS names, from /proc)."""
        return sum(name.startswith(THREAD_PREFIX) for name in self.thread_names())

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


@contextmanager
def app_server(
    log_dir: Path, *, env: Mapping[str, str] | None = None, watch_files: bool = True
) -> Iterator[AppServer]:
    """`streamlit run app.py` on a free loopback port, with the embedded demo agent
    unless `env` (added to the environment) names an agent in `A2A_AGENT_URL`.

    `watch_files=False` keeps the code the server started with: with the watcher on, a
    source file edited during the run (someone working in the same tree) unloads modules
    that a running session may be importing, which fails it with a KeyError
    (streamlit#6404). On leaving, stops the server with SIGTERM and fails if it did not
    exit in time or if its log shows a problem (checked after exit, so shutdown errors
    count too).
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_dir / "server.log"
    environment = {k: v for k, v in os.environ.items() if k != "A2A_AGENT_URL"}
    environment["A2A_DATA_DIR"] = str(log_dir / "data")  # a workspace store of its own
    environment.update(env or {})
    environment["PYTHONUNBUFFERED"] = "1"  # keep the log current while the test reads it
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--runner.fastReruns=true",
        "--browser.gatherUsageStats=false",
        *([] if watch_files else ["--server.fileWatcherType=none"]),
    ]  # fmt: skip
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT
        )
        server = AppServer(url=url, log_path=log_path, pid=process.pid)
        try:
            _wait_until_healthy(process, server)
            yield server
        finally:
            stopped = _stop(process)
    assert stopped, (
        f"`streamlit run` did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM and was "
        f"killed; log: {log_path}"
    )
    assert_clean_log(server)


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


# A page's metrics ({label: value}) and its first table's rows ({column: cell}), read
# at once. The table's cells come from the grid's accessible table, which Playwright
# treats as hidden (the grid draws on a canvas).
METRICS_AND_TABLE_JS = """() => {
  const text = (e) => (e?.textContent ?? '').trim();
  const metrics = {};
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = text(m.querySelector('[data-testid="stMetricLabel"]'));
    metrics[label] = text(m.querySelector('[data-testid="stMetricValue"]'));
  }
  const table = document.querySelector('[data-testid="stDataFrame"] table');
  const columns = [...(table?.querySelectorAll('thead th') ?? [])].map(text);
  const rows = [...(table?.querySelectorAll('tbody tr') ?? [])].map((row) =>
    Object.fromEntries([...row.querySelectorAll('td')].map((td, i) => [columns[i], text(td)])));
  return {metrics, rows};
}"""


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Debian's headless Chromium under Playwright (its own download does not work here)."""
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page() -> Iterator[Page]:
    """A page in a fresh headless Chromium, tall enough that a screenshot shows the chat."""
    with chromium_browser() as browser:
        yield browser.new_page(viewport={"width": 1280, "height": 1600})


def assert_clean_log(server: AppServer) -> None:
    log = server.log()
    for problem in LOG_PROBLEMS:
        assert problem not in log, f"server log contains {problem!r}:\n{log}"


@dataclass(frozen=True)
class ChatSnapshot:
    users: list[str]  # the user's messages, oldest first
    replies: list[str]  # the agent's replies, oldest first
    stop: bool  # a Stop button is shown: a reply is streaming
    exceptions: int  # exception boxes on the page
    text: str  # everything the page shows


def chat_snapshot(page: Page) -> ChatSnapshot:
    return ChatSnapshot(**page.evaluate(CHAT_SNAPSHOT_JS))


def finished(chat: ChatSnapshot, count: int) -> bool:
    """Reply number `count` is the last one and has finished streaming."""
    replies = chat.replies
    return len(replies) == count and not chat.stop and bool(FINISHED_CAPTION.search(replies[-1]))


def wait_for_reply(page: Page, count: int, shot: Path, timeout: float = REPLY_TIMEOUT) -> str:
    """Wait until reply number `count` has finished streaming; return its text."""
    deadline = time.monotonic() + timeout
    while True:
        chat = chat_snapshot(page)
        if finished(chat, count):
            return chat.replies[-1]
        if time.monotonic() > deadline:
            page.screenshot(path=shot, full_page=True)
            pytest.fail(
                f"reply {count} not finished after {timeout:.0f} s: "
                f"{len(chat.replies)} assistant bubble(s), Stop shown: {chat.stop}, "
                f"last: {chat.replies[-1] if chat.replies else None!r}; screenshot: {shot}"
            )
        page.wait_for_timeout(100)


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll `condition` every 0.1 s until it holds (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
