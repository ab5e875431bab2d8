"""Real-browser smoke test: `streamlit run app.py` driven by headless Chromium.

It chats with the embedded demo agent over three turns and checks that every reply
streams to completion, that the agent remembers the conversation, that the page shows
no exception, and that `streamlit run` logs no traceback and exits promptly on SIGTERM.

Needs Debian's Chromium (`apt-get install -y chromium`): Playwright's own browser
download does not work here. Without it the test is skipped, or fails when
A2A_REQUIRE_BROWSER=1 (as CI sets). The server and browser helpers are in
tests/browser.py; tests/test_browser_hardening.py pushes harder on the same app.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import (
    REPLY_TIMEOUT,
    AppServer,
    assert_clean_log,
    browser_page,
    require_chromium,
    wait_for,
    wait_for_reply,
)
from tests.browser import app_server as run_app_server

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser to drive; checked first so the server never starts without one."""
    return require_chromium()


@pytest.fixture(scope="module")
def app_server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """`streamlit run app.py` on a free loopback port, with the embedded demo agent."""
    # No file watcher: a file saved mid-run must not reload the app under the test.
    with run_app_server(tmp_path_factory.mktemp("streamlit"), watch_files=False) as server:
        yield server


@pytest.fixture
def page(chromium: Path) -> Iterator[Page]:
    with browser_page() as opened:
        yield opened


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
        reply = wait_for_reply(page, number, tmp_path / f"reply-{number}-timeout.png")
        for text in expected:
            assert text in reply, f"reply {number} to {message!r} lacks {text!r}: {reply!r}"

    screenshot = tmp_path / "chat.png"
    page.screenshot(path=screenshot, full_page=True)  # for debugging a failure by eye
    assert page.locator('[data-testid="stException"]').count() == 0, f"see {screenshot}"
    assert "Event loop is closed" not in page.content(), f"see {screenshot}"
    assert_clean_log(app_server)  # early and specific; teardown checks the rest


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_a_replys_inspect_link_opens_its_stream_in_the_same_session(
    app_server: AppServer, page: Page, tmp_path: Path
) -> None:
    page.goto(app_server.url)
    chat_input = page.locator('[data-testid="stChatInput"] textarea')
    chat_input.wait_for(state="visible", timeout=REPLY_TIMEOUT * 1000)
    for number, message in enumerate(["Book a trip", "hello"], start=1):
        chat_input.fill(message)
        chat_input.press("Enter")
        wait_for_reply(page, number, tmp_path / f"reply-{number}-timeout.png")

    links = page.get_by_role("link", name="Inspect stream")
    assert links.count() == 2
    links.first.click()  # the first reply's stream, not the latest
    stream = page.get_by_role("combobox", name="Stream")  # the inspector's stream picker
    stream.wait_for(timeout=REPLY_TIMEOUT * 1000)
    picked = stream.input_value()
    assert picked.startswith("#1 · Book a trip"), picked
    assert "stream=1" in page.url  # the URL names the stream shown: a reload lands on it
    stream.click()
    page.get_by_role("option", name=re.compile(r"^#2 ")).click()  # picking another sticks
    page.wait_for_function("() => location.search.includes('stream=2')")
    page.reload()
    stream.wait_for(timeout=REPLY_TIMEOUT * 1000)
    assert stream.input_value().startswith("#2 "), stream.input_value()
    page.get_by_role("link", name="Chat").first.click()  # same session: the chat is there
    links.nth(1).wait_for(timeout=REPLY_TIMEOUT * 1000)
    assert links.count() == 2


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_closing_a_tab_ends_its_session_runtime(app_server: AppServer, page: Page) -> None:
    # Tabs of earlier tests may still be closing: wait until their loops are gone.
    assert wait_for(lambda: app_server.session_threads() == 0)

    page.goto(app_server.url)
    chat_input = page.locator('[data-testid="stChatInput"] textarea')
    chat_input.wait_for(timeout=30_000)
    chat_input.fill("hello")
    chat_input.press("Enter")
    wait_for_reply(page, 1, Path("/dev/null"))
    assert app_server.session_threads() == 1  # this session's one loop thread
    page.close()  # the websocket drops: on_release closes the runtime

    assert wait_for(lambda: app_server.session_threads() == 0)
