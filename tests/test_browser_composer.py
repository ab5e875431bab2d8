"""Advanced send in Chromium: the popover above the chat input opens on the request the
chat would send, an edited request goes, and its reply joins the conversation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import AppServer, app_server, chat_snapshot, wait_for_reply

if TYPE_CHECKING:
    from playwright.sync_api import Browser

LOAD = 60_000  # ms for a page to draw


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with app_server(tmp_path_factory.mktemp("composer"), watch_files=False) as running:
        yield running


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_an_edited_request_goes_and_its_reply_joins_the_conversation(
    server: AppServer, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    try:
        page.goto(server.url)
        page.locator('[data-testid="stChatInput"] textarea').wait_for(timeout=LOAD)
        page.get_by_role("button", name="Advanced send").click()
        area = page.get_by_role("textbox", name="SendMessage request (JSON)")
        area.wait_for(timeout=LOAD)
        draft = json.loads(area.input_value())
        assert draft["message"]["role"] == "ROLE_USER"  # what the chat would send
        draft["message"]["parts"] = [{"text": "hello composed"}, {"data": {"n": 1}}]
        area.fill(json.dumps(draft))
        page.get_by_role("button", name="Send request").click()
        reply = wait_for_reply(page, 1, tmp_path / "reply-timeout.png")
        assert 'You said: "hello composed' in reply, reply
        chat = chat_snapshot(page)
        assert any("hello composed" in text for text in chat.users), chat
    finally:
        page.close()
