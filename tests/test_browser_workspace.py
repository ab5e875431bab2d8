"""The durable workspace in a real browser: reloads, new tabs, other browsers, shares, a
server killed mid-reply, and two servers sharing one PostgreSQL.

`streamlit run app.py` (app.py's `st.App` sets the workspace cookie) driven by Debian's
Chromium. A browser context is one browser: its tabs share the cookie, another context
has none. Servers are stopped by their PID; the agents that must outlive a server run in
a process of their own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import (
    REPO_ROOT,
    AppServer,
    app_server,
    chat_snapshot,
    finished,
    wait_for,
    wait_for_reply,
)
from tests.postgres import postgres_url_fixture  # noqa: F401 - a fixture, found by name

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LOAD = 60_000  # ms for a page to draw
STEP = re.compile(r"Step (\d+) of (\d+)")
# A demo agent in a process of its own (it outlives the app's servers), whose slow task
# takes about 6 s: long enough to kill a server in the middle, short enough to finish.
AGENT_SCRIPT = """
import sys, time
from services.demo_agent import DemoAgentServer, DemoTiming
with DemoAgentServer(timing=DemoTiming(slow_interval=0.25, slow_chunks=24)) as server:
    print(server.url, flush=True)
    time.sleep(900)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with app_server(tmp_path_factory.mktemp("workspace"), watch_files=False) as running:
        yield running


@contextmanager
def own_agent() -> Iterator[str]:
    """The demo agent in its own process; yields its URL, then stops it by its PID."""
    process = subprocess.Popen(
        [sys.executable, "-c", AGENT_SCRIPT], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def open_tab(browser: Browser, url: str, context: Any = None) -> Page:
    page = (context or browser.new_context(viewport={"width": 1280, "height": 1600})).new_page()
    page.goto(url)
    return page


def chat_input(page: Page) -> Any:
    return page.locator('[data-testid="stChatInput"] textarea')


def say(page: Page, text: str, count: int, shot: Path) -> str:
    chat_input(page).wait_for(state="visible", timeout=LOAD)
    chat_input(page).fill(text)
    chat_input(page).press("Enter")
    return wait_for_reply(page, count, shot)


def step(page: Page) -> int:
    return max((int(m[0]) for m in STEP.findall(chat_snapshot(page).text)), default=0)


def streams_listed(page: Page) -> list[str]:
    picker = page.get_by_role("combobox", name="Stream")
    picker.wait_for(timeout=LOAD)
    picker.click()
    options = [o.inner_text() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    return options


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_a_reload_and_new_tabs_bring_back_history_questions_streams_and_tasks(
    server: AppServer, browser: Browser, tmp_path: Path
):
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = open_tab(browser, server.url, context)
    say(page, "My name is Ada", 1, tmp_path / "1.png")
    say(page, "Search for A2A news", 2, tmp_path / "2.png")
    asked = say(page, "Book a trip", 3, tmp_path / "3.png")
    assert "Where would you like to go?" in asked
    conversation_url = page.url
    assert "c=" in conversation_url  # the URL names the conversation

    page.reload()
    chat_input(page).wait_for(state="visible", timeout=LOAD)
    assert wait_for(lambda: len(chat_snapshot(page).replies) == 3, 30)
    back = chat_snapshot(page)
    assert back.users == ["My name is Ada", "Search for A2A news", "Book a trip"], back.users
    assert "Where would you like to go?" in back.replies[-1]
    assert chat_input(page).get_attribute("placeholder") == "Answer the agent…"
    answered = say(page, "Kyoto", 4, tmp_path / "4.png")
    assert "How many nights" in answered  # the pending question, answered after a reload

    inspector = open_tab(browser, f"{server.url}/inspector", context)  # a bookmark, new tab
    listed = streams_listed(inspector)
    assert len(listed) >= 4 and any("Book a trip" in s for s in listed), listed
    tasks = open_tab(browser, f"{server.url}/tasks", context)
    tasks.get_by_text("task(s)").first.wait_for(timeout=LOAD)
    count = re.search(r"(\d+) task\(s\)", tasks.locator("body").inner_text())
    assert count and int(count[1]) >= 2, tasks.locator("body").inner_text()[:500]
    context.close()


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_another_browser_sees_none_of_it_even_with_the_urls(
    server: AppServer, browser: Browser, tmp_path: Path
):
    mine = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = open_tab(browser, server.url, mine)
    say(page, "My secret plan is blue", 1, tmp_path / "mine.png")
    link = page.url
    mine.close()

    theirs = browser.new_context(viewport={"width": 1280, "height": 1600})  # no cookie
    other = open_tab(browser, link, theirs)
    other.get_by_text("not in this workspace").wait_for(timeout=LOAD)
    assert "secret plan" not in other.locator("body").inner_text()
    inspector = open_tab(browser, f"{server.url}/inspector", theirs)
    inspector.get_by_text("No streams yet").wait_for(timeout=LOAD)
    tasks = open_tab(browser, f"{server.url}/tasks", theirs)
    tasks.get_by_text("0 task(s)").wait_for(timeout=LOAD)
    theirs.close()


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_a_share_link_opens_read_only_elsewhere_and_says_when_revoked(
    server: AppServer, browser: Browser, tmp_path: Path
):
    mine = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = open_tab(browser, server.url, mine)
    say(page, "Tell the world hello", 1, tmp_path / "share.png")
    page.locator('[data-testid="stPopover"] button').first.click()
    page.get_by_role("button", name="Share a read-only link").click()
    code = page.locator('[data-testid="stCode"]').filter(has_text="/shared?share=")
    code.wait_for(timeout=LOAD)
    link = re.search(r"http\S+/shared\?share=[\w-]+", code.inner_text())
    assert link, code.inner_text()

    theirs = browser.new_context(viewport={"width": 1280, "height": 1600})
    other = open_tab(browser, link[0], theirs)
    other.get_by_text("read-only").first.wait_for(timeout=LOAD)
    assert "Tell the world hello" in other.locator("body").inner_text()
    assert other.locator('[data-testid="stChatInput"]').count() == 0  # nothing to send

    data = open_tab(browser, f"{server.url}/your_data", mine)
    data.get_by_role("button", name="Revoke").first.click()
    data.get_by_text("revoked").first.wait_for(timeout=LOAD)
    other.reload()
    other.get_by_text("stopped sharing").wait_for(timeout=LOAD)
    mine.close()
    theirs.close()


def folder(parent: Path, name: str) -> Path:
    made = parent / name
    made.mkdir(exist_ok=True)
    return made


def kill(server: AppServer) -> None:
    os.kill(server.pid, signal.SIGKILL)
    assert wait_for(lambda: not Path(f"/proc/{server.pid}").exists() or _zombie(server.pid), 10)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def resume_across_servers(
    browser: Browser, tmp_path: Path, env_first: dict[str, str], env_second: dict[str, str]
) -> str:
    """Start a slow reply on a first server, kill that server with SIGKILL mid-reply, and
    reload on a second one: returns the reply as the second server finished it."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    with app_server(folder(tmp_path, "first"), env=env_first, watch_files=False) as first:
        page = open_tab(browser, first.url, context)
        say(page, "hello", 1, tmp_path / "hello.png")
        chat_input(page).fill("Run a slow task")
        chat_input(page).press("Enter")
        assert wait_for(lambda: step(page) >= 2, 30), chat_snapshot(page).text[-500:]
        link = page.url.replace(first.url, "")
        time.sleep(2.2)  # past the reply's periodic write: it is in the store
        kill(first)
    with app_server(folder(tmp_path, "second"), env=env_second, watch_files=False) as second:
        page.goto(second.url + link)  # the same browser (cookie), another server
        assert wait_for(lambda: finished(chat_snapshot(page), 2), 60), chat_snapshot(page).text[
            -800:
        ]
        reply = chat_snapshot(page).replies[-1]
        assert chat_snapshot(page).users == ["hello", "Run a slow task"]
    context.close()
    return reply


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_a_reply_in_flight_when_its_server_is_killed_resumes_after_a_restart(
    browser: Browser, tmp_path: Path
):
    data = {"A2A_DATA_DIR": str(tmp_path / "data")}  # one data folder, two lives
    with own_agent() as agent:
        env = {**data, "A2A_AGENT_URL": agent}
        reply = resume_across_servers(browser, tmp_path, env, env)
    assert "Step 24 of 24" in reply and "resumed" in reply and "completed" in reply, reply


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_the_embedded_agent_says_it_lost_a_task_its_restart_cut_off(
    browser: Browser, tmp_path: Path
):
    data = {"A2A_DATA_DIR": str(tmp_path / "data")}
    reply = resume_across_servers(browser, tmp_path, data, data)
    # The embedded agent died with its server; it keeps tasks in the data folder and, on
    # the next start, ends the ones it was running with a sentence that says so.
    assert "restarted while this task was running" in reply and "failed" in reply, reply


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_two_servers_on_one_postgres_share_workspaces_and_resume_each_others_replies(
    browser: Browser, tmp_path: Path, postgres_url: str
):
    shared = {"A2A_DATABASE_URL": postgres_url}
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    with (
        app_server(folder(tmp_path, "a"), env=shared, watch_files=False) as one,
        app_server(folder(tmp_path, "b"), env=shared, watch_files=False) as two,
    ):
        page = open_tab(browser, one.url, context)
        say(page, "My name is Lin", 1, tmp_path / "one.png")
        link = page.url.replace(one.url, "")
        other = open_tab(browser, two.url + link, context)  # the same cookie, server two
        assert wait_for(lambda: len(chat_snapshot(other).replies) == 1, 30)
        assert chat_snapshot(other).users == ["My name is Lin"]
    context.close()

    with own_agent() as agent:
        env = {**shared, "A2A_AGENT_URL": agent}
        reply = resume_across_servers(browser, tmp_path, env, env)
    assert "Step 24 of 24" in reply and "resumed" in reply, reply
