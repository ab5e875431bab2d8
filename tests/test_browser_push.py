"""Push notifications end to end in a real browser: a message sent to run in the
background, the demo agent's notifications received by the webhook route of a running
`streamlit run app.py` (on Streamlit's own port), and the reply completed from them,
also across a reload in the middle.

The app's embedded demo agent runs the background job (about 20 s: ten progress updates
2 s apart, then the result), posting each step to `POST /a2a/push/{config_id}`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import (
    AppServer,
    app_server,
    assert_clean_log,
    chat_snapshot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LOAD = 60_000  # ms for a page to draw
JOB_TIMEOUT = 60.0  # seconds for the ~20 s job to complete, with room for a slow machine
FOOTER = re.compile(r"completed · .*\d+ events? in \d+\.\d s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with app_server(tmp_path_factory.mktemp("push"), watch_files=False) as running:
        yield running


def last_reply(page: Page) -> str:
    replies = chat_snapshot(page).replies
    return replies[-1] if replies else ""


def wait_until(
    page: Page, what: str, condition: Callable[[str], bool], timeout: float, shot: Path
) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = last_reply(page)
        if condition(text):
            return text
        if time.monotonic() > deadline:
            page.screenshot(path=shot, full_page=True)
            pytest.fail(f"not {what} after {timeout:.0f} s; last reply {text[-400:]!r}; {shot}")
        page.wait_for_timeout(250)


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_a_background_job_completes_from_push_notifications_across_a_reload(
    server: AppServer, browser: Browser, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.goto(server.url)
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.wait_for(state="visible", timeout=LOAD)
    page.get_by_text("Run in the background and notify me").click()
    page.wait_for_timeout(500)
    box.fill("Start a background job")
    box.press("Enter")

    # The send returns at once with the task; no stream is held: the input is free.
    first = wait_until(
        page, "waiting in the background", lambda t: "background" in t, 15, tmp_path / "a.png"
    )
    assert "completed" not in first, first
    assert not box.is_disabled(), "the input is held while a background reply waits"
    # Progress arrives by notification (the status box counts the steps).
    wait_until(
        page,
        "a step notified",
        lambda t: re.search(r"Step \d+ of \d+|Worked through", t) is not None,
        20,
        tmp_path / "b.png",
    )

    # A reload in the middle: a new session, the same workspace (cookie); the reply
    # catches up from the inbox and goes on filling.
    page.reload()
    box.wait_for(state="visible", timeout=LOAD)
    done = wait_until(
        page, "completed", lambda t: FOOTER.search(t) is not None, JOB_TIMEOUT, tmp_path / "c.png"
    )
    assert "The background job is done." in done, done[-400:]
    assert "background" in done  # the badge says how it came
    assert "interrupted" not in done and "resumed" not in done, done[-400:]  # not streamed
    assert chat_snapshot(page).exceptions == 0
    assert_clean_log(server)
    # The webhook was called for every step, each answered 200 (uvicorn's access log is
    # off in `streamlit run`: the inbox is the proof).
    context.close()
