"""Figures through the real app: `streamlit run app.py` driven by headless Chromium.

- `render_ratio`: from pressing Enter to the complete reply on screen (its final render:
  the footer's "N events in X s" caption, the Stop button gone, the last words shown),
  divided by how long the raw SDK takes to receive the same reply from the same agent.
- `ws_bytes_per_reply_byte`: what the server sent over the websocket in that time,
  divided by the reply's size (the bytes of text the agent streamed).

Each round is a fresh tab (a new session) sending its first message, so no history is
re-sent; rounds alternate with the raw SDK's reading of the same reply.
"""

from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.baselines import RawClient
from benchmarks.stats import median

__all__ = ["CHROMIUM", "REPLY_TEXT", "browser_figures", "browser_unavailable"]

CHROMIUM = Path("/usr/bin/chromium")
START_TIMEOUT = 60.0
REPLY_TIMEOUT = 60.0
REPLY_TEXT = "Explain how A2A streaming works"  # the long markdown answer, word by word
LAST_WORDS = "never meets a closed one."  # how LONG_ANSWER ends

# The reply is complete on screen when this session's one assistant bubble has its
# final footer ("N events in X s", drawn after Stop is removed) and shows the last words.
DONE_JS = """([lastWords]) => {
  const bubbles = [...document.querySelectorAll('[data-testid="stChatMessage"]')]
    .filter((m) => m.querySelector('[aria-label="Chat message from assistant"]'))
    .filter((m) => !m.closest('[data-stale="true"]'));
  const stop = [...document.querySelectorAll('button')]
    .some((b) => b.innerText.trim().endsWith('Stop'));
  if (bubbles.length !== 1 || stop) return false;
  const text = bubbles[0].innerText;
  return /\\d+ events? in \\d+\\.\\d s/.test(text) && text.includes(lastWords);
}"""


def browser_unavailable() -> str:
    """Why the browser figures cannot be measured here ("" if they can)."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return ""


class _FrameCounter:
    """Bytes of the websocket frames the Streamlit server sent while `counting`."""

    def __init__(self) -> None:
        self.counting = False
        self.bytes = 0

    def attach(self, ws: Any) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framereceived", self._received)

    def _received(self, payload: str | bytes) -> None:
        if self.counting:
            self.bytes += len(payload.encode() if isinstance(payload, str) else payload)


def _browser_round(browser: Any, app_url: str) -> tuple[float, int]:
    """One fresh tab sends REPLY_TEXT: (seconds to the complete reply, websocket bytes)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    try:
        frames = _FrameCounter()
        page.on("websocket", frames.attach)
        page.goto(app_url)
        chat_input = page.locator('[data-testid="stChatInput"] textarea')
        chat_input.wait_for(state="visible", timeout=START_TIMEOUT * 1000)
        chat_input.fill(REPLY_TEXT)
        frames.counting = True
        start = time.perf_counter()
        chat_input.press("Enter")
        page.wait_for_function(DONE_JS, arg=[LAST_WORDS], polling=10, timeout=REPLY_TIMEOUT * 1000)
        seconds = time.perf_counter() - start
        frames.counting = False
        return seconds, frames.bytes
    finally:
        page.close()


def browser_figures(app_agent_url: str, rounds: int, *, warm: bool = True) -> dict[str, float]:
    """Render ratio and websocket bytes per reply byte, the median of `rounds` rounds.

    `warm` first sends one reply untimed, so the app's first-use costs (imports, the
    first connection) are not billed to the first round.
    """
    from playwright.sync_api import sync_playwright

    from services.demo_agent import LONG_ANSWER
    from tests.browser import CHROMIUM_ARGS, app_server  # the tests' launcher: one copy

    reply_bytes = len(LONG_ANSWER.encode())
    env = {"A2A_AGENT_URL": app_agent_url}
    with (
        tempfile.TemporaryDirectory() as log_dir,
        app_server(Path(log_dir), env=env, watch_files=False) as app,
        RawClient(app_agent_url) as raw,
    ):
        app_url = app.url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                if warm:
                    _browser_round(browser, app_url)
                ratios, sizes = [], []
                for number in range(rounds):
                    if number % 2 == 0:
                        raw_seconds = raw.stream(REPLY_TEXT).seconds
                        seconds, sent = _browser_round(browser, app_url)
                    else:
                        seconds, sent = _browser_round(browser, app_url)
                        raw_seconds = raw.stream(REPLY_TEXT).seconds
                    ratios.append(seconds / raw_seconds)
                    sizes.append(sent / reply_bytes)
            finally:
                browser.close()
    return {"render_ratio": median(ratios), "ws_bytes_per_reply_byte": median(sizes)}
