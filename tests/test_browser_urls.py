"""A page's own URL, typed or bookmarked (a new session on that page), is served through
the router like any other run: the app's navigation, sidebar and page, not a page run
on its own. (With a folder named `pages/` beside the entry script, Streamlit also served
each file in it as a page of its own at its URL, without router.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import AppServer, app_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

LOAD = 60_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with app_server(tmp_path_factory.mktemp("urls"), watch_files=False) as running:
        yield running


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("path", "title"),
    [("/inspector", "Streaming inspector"), ("/agent_check", "Agent check"), ("/tasks", "Tasks")],
)
def test_a_page_s_own_url_gets_the_app_s_navigation(
    server: AppServer, browser: Browser, tmp_path: Path, path: str, title: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(server.url + path)
        page.get_by_role("heading", name=title, exact=True).wait_for(timeout=LOAD)
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name="Streaming inspector", exact=True).wait_for(timeout=LOAD)
        links = nav.inner_text()
        assert "router" not in links, links  # the entry script is not a page
        assert "Loop health" in links and "Your data" in links, links
    finally:
        page.close()
