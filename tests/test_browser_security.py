"""Hostile agent text is inert in a real browser, and secrets stay out of page and log.

The hostile agent (tests/agents.py) puts script tags, `onerror` handlers, `javascript:`
links, iframes and markdown images into its card, skills, replies, artifact and file
names. Its images point at a tracking pixel it serves itself, so a fetch would be seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from services.demo_agent import LoopbackServer
from tests.agents import PIXEL_HITS, hostile_app
from tests.browser import AppServer, app_server, browser_page, require_chromium, wait_for_reply

if TYPE_CHECKING:
    from playwright.sync_api import Page

TOKEN = "tok-browser-secret-8c1f"

INJECTED_JS = """() => ({
  pwned: window.__pwned ?? null,
  injectedImages: document.querySelectorAll('img[src="x"], img[src*="pixel.png"]').length,
  scriptLinks: document.querySelectorAll('a[href^="javascript:"]').length,
  frames: document.querySelectorAll('iframe[src^="javascript:"]').length,
  scripts: [...document.scripts].filter((s) => s.text.includes('__pwned')).length,
  boldTags: [...document.querySelectorAll('b')].filter((b) => b.innerText === 'file').length,
})"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    require_chromium()
    with LoopbackServer(hostile_app) as hostile:
        env = {"A2A_AGENT_URL": hostile.url, "A2A_AGENT_TOKEN": TOKEN}
        with app_server(tmp_path_factory.mktemp("hostile"), env=env, watch_files=False) as server:
            yield server


@pytest.fixture
def page() -> Iterator[Page]:
    with browser_page() as opened:
        yield opened


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_hostile_agent_text_is_inert(hostile_server: AppServer, page: Page, tmp_path: Path):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    PIXEL_HITS.clear()

    page.goto(hostile_server.url)
    chat_input = page.locator('[data-testid="stChatInput"] textarea')
    chat_input.wait_for(timeout=30_000)
    for expander in page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').all():
        expander.locator("summary").click()  # open the skill and card views: render it all
    chat_input.fill("hello")
    chat_input.press("Enter")
    reply = wait_for_reply(page, 1, tmp_path / "reply.png")
    assert "Evil Agent" in page.content()  # the hostile strings are shown...
    assert "window.__pwned" in reply  # ...as text

    page.get_by_role("link", name="Streaming inspector").click()
    page.get_by_text("Valid", exact=False).or_(page.get_by_text("finding")).first.wait_for()
    page.screenshot(path=tmp_path / "inspector.png", full_page=True)

    found = page.evaluate(INJECTED_JS)
    assert dialogs == []
    assert found == {"pwned": None, "injectedImages": 0, "scriptLinks": 0, "frames": 0,
                     "scripts": 0, "boldTags": 0}  # fmt: skip
    assert PIXEL_HITS == []  # no markdown image made the browser fetch anything


@pytest.mark.browser
@pytest.mark.timeout(60)
def test_the_token_is_in_no_page_and_no_log(hostile_server: AppServer, page: Page, tmp_path: Path):
    page.goto(hostile_server.url)
    chat_input = page.locator('[data-testid="stChatInput"] textarea')
    chat_input.wait_for(timeout=30_000)
    chat_input.fill("hello")
    chat_input.press("Enter")
    wait_for_reply(page, 1, tmp_path / "reply.png")
    page.get_by_role("link", name="Streaming inspector").click()
    page.get_by_text("Export as JSON Lines").wait_for()
    for expander in page.locator('[data-testid="stMain"] [data-testid="stExpander"]').all():
        expander.locator("summary").click()  # the exchange: headers, masked
    # The Authorization header was there, masked (in the table's accessible copy).
    page.get_by_text("[redacted]").first.wait_for(state="attached")
    assert TOKEN not in page.content()
    assert TOKEN not in hostile_server.log()
