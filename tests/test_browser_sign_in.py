"""Signing in with the authorization code grant in Chromium: the Sign-in page sends the
browser to the demo agent's authorization server (a new tab), Allow sends it back to the
app's Sign-in page with the code, and both tabs are signed in; the chat then works with
the token, and the token shows nowhere on either page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from services.demo_agent import DemoAgentServer, DemoOAuth
from tests.browser import AppServer, app_server, chat_snapshot, wait_for, wait_for_reply

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LOAD = 60_000  # ms for a page to draw


@pytest.fixture(scope="module")
def agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(oauth=DemoOAuth()) as server:
        yield server


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser, agent: DemoAgentServer
) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("sign-in")
    with app_server(log_dir, env={"A2A_AGENT_URL": agent.url}, watch_files=False) as running:
        yield running


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_the_authorization_code_grant_comes_back_to_the_app(
    server: AppServer, browser: Browser, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    try:
        page.goto(server.url + "/sign_in")
        page.get_by_role("heading", name="Sign in", exact=True).wait_for(timeout=LOAD)
        choose(page, "Security scheme (from the card)", "oauth2")
        choose(page, "Grant", "Authorization code with PKCE")
        page.get_by_role("textbox", name="Client id").fill("demo-client")
        page.get_by_role("button", name="Sign in").click()

        # The authorization server's consent page, in a new tab; Allow sends it back.
        go = page.get_by_role("link", name="Continue at the authorization server")
        go.wait_for(timeout=LOAD)
        with page.expect_popup() as popup_info:
            go.click()
        popup = popup_info.value
        popup.get_by_role("button", name="Allow").click()
        popup.wait_for_url(re.compile(re.escape(server.url) + r"/sign_in"), timeout=LOAD)
        popup.get_by_text("Signed in to").wait_for(timeout=LOAD)
        popup.screenshot(path=str(tmp_path / "popup.png"), full_page=True)
        assert "code=" not in popup.url  # a reload must not replay the code

        # The tab that started it notices, and uses the token too.
        page.get_by_text(re.compile(r"Signed in with Authorization code")).wait_for(timeout=LOAD)
        page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)
        timeline = page.get_by_test_id("stExpander").all_inner_texts()
        assert any("Redirect back" in t for t in timeline), timeline
        assert any("Access token (JWT)" in t for t in timeline), timeline

        page.get_by_role("link", name="Chat").first.click()
        chat_input = page.locator('[data-testid="stChatInput"] textarea')
        chat_input.wait_for(timeout=LOAD)
        chat_input.fill("hello")
        chat_input.press("Enter")
        reply = wait_for_reply(page, 1, tmp_path / "reply.png")
        assert 'You said: "hello"' in reply, reply

        # The token is nowhere on either page.
        assert wait_for(lambda: chat_snapshot(page).replies, 5)
        for shown in (page.content(), popup.content()):
            assert "eyJ" not in shown  # every JWT starts so; the app shows none
    finally:
        context.close()
