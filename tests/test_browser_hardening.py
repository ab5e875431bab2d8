"""Real-browser hardening: the app under the ways people really use it.

`streamlit run app.py` (embedded demo agent, fastReruns on, as Community Cloud forces)
driven by headless Chromium: a long conversation; a reply disturbed while it streams
(another message, a page switch, Stop, a reload); ten sessions streaming at once; and
thirty sessions opened and closed, after which their loop threads must be gone.

The server and browser helpers are shared with tests/test_browser.py (tests/browser.py);
this module starts its own server, so the two files stay independent. Every wait is on
a condition, with generous bounds: the machine has two cores and is shared.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from tests.browser import (
    FINISHED_CAPTION,
    METRICS_AND_TABLE_JS,
    AppServer,
    ChatSnapshot,
    app_server,
    assert_clean_log,
    chat_snapshot,
    finished,
    require_chromium,
    wait_for,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LOAD_TIMEOUT = 60.0  # seconds for a page to draw its chat input (ten load at once)
REPLY_TIMEOUT = 45.0  # seconds per reply; more than tests/browser.py allows, for bursts
CLOSE_TIMEOUT = 30.0  # seconds for the server to end the loops of closed sessions
SLOW_STEP = "Step 1 of 35 done."  # the slow task's first chunk: it is streaming now
# Whether the page says "Event loop is closed" anywhere, hidden parts included, except
# where Loop health explains that error under an expander named after it.
SHOWS_CLOSED_LOOP_JS = """() => {
  const phrase = 'Event loop is closed';
  const body = document.body.cloneNode(true);
  for (const expander of body.querySelectorAll('[data-testid="stExpander"]')) {
    if (expander.querySelector('summary')?.textContent.includes(phrase)) expander.remove();
  }
  return body.innerHTML.includes(phrase);
}"""
OpenChat = Callable[..., "Chat"]  # open_chat(name, wait=True)


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="module")
def server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """This module's own `streamlit run app.py`; its log must stay clean to the end."""
    # Without the file watcher: a minute-long run must not fail because someone saved
    # a file in this tree meanwhile (streamlit#6404), which is no fault of the app.
    with app_server(tmp_path_factory.mktemp("hardening"), watch_files=False) as running:
        yield running


@dataclass
class Chat:
    """One browser session (its own context, so its own Streamlit session) on the app."""

    page: Page
    name: str
    shots: Path

    def close(self) -> None:
        self.page.context.close()  # the websocket drops: the session should end

    def wait_for_input(self) -> None:
        # The first run connects to the demo agent before the input is drawn.
        self.page.get_by_test_id("stChatInput").locator("textarea").wait_for(
            state="visible", timeout=LOAD_TIMEOUT * 1000
        )

    def wait_for_run(self) -> None:
        """Until the script run has finished (Streamlit's own hook for its e2e tests)."""
        self.page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
            timeout=LOAD_TIMEOUT * 1000
        )

    def type(self, text: str) -> None:
        self.page.get_by_test_id("stChatInput").locator("textarea").fill(text)

    def submit(self) -> None:
        self.page.get_by_test_id("stChatInput").locator("textarea").press("Enter")

    def send(self, text: str) -> None:
        self.type(text)
        self.submit()

    def snapshot(self) -> ChatSnapshot:
        return chat_snapshot(self.page)

    def wait_until(
        self, what: str, condition: Callable[[ChatSnapshot], bool], timeout: float = REPLY_TIMEOUT
    ) -> ChatSnapshot:
        """Poll the chat until `condition` holds; fail with a screenshot if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            chat = self.snapshot()
            if condition(chat):
                return chat
            if time.monotonic() > deadline:
                self.fail(f"not {what} after {timeout:.0f} s", chat)
            self.page.wait_for_timeout(100)

    def wait_for_reply(self, count: int) -> str:
        """Reply number `count` once it has finished streaming."""
        return self.wait_until(f"reply {count} finished", lambda c: finished(c, count)).replies[-1]

    def start_slow_task(self, count: int) -> None:
        """Send "Run a slow task" (reply number `count`) and wait until it streams."""
        self.send("Run a slow task")
        self.wait_until(f"streaming the slow task as reply {count}", lambda c: streaming(c, count))

    def go(self, title: str) -> None:
        """Follow the sidebar's navigation link to the page `title` and wait for it."""
        nav = self.page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name=title, exact=True).click()
        self.page.get_by_role("heading", name=title, exact=True).wait_for(
            timeout=LOAD_TIMEOUT * 1000
        )

    def assert_clean(self) -> None:
        chat = self.snapshot()
        if chat.exceptions:
            self.fail(f"{chat.exceptions} exception box(es) on the page", chat)
        if self.page.evaluate(SHOWS_CLOSED_LOOP_JS):
            self.fail("'Event loop is closed' on the page", chat)

    def fail(self, problem: str, chat: ChatSnapshot) -> NoReturn:
        shot = self.shots / f"{self.name}-{time.monotonic_ns()}.png"
        self.page.screenshot(path=shot, full_page=True)
        pytest.fail(
            f"{self.name}: {problem}; user messages {chat.users!r}; "
            f"replies {[r[-300:] for r in chat.replies]!r}; Stop shown: {chat.stop}; "
            f"screenshot: {shot}"
        )


@pytest.fixture
def open_chat(server: AppServer, browser: Browser, tmp_path: Path) -> Iterator[OpenChat]:
    """Opens sessions on the app, each in a fresh browser context; closes them after."""
    # Sessions of the previous test may still be closing: start from none.
    assert wait_for(lambda: server.session_threads() == 0, CLOSE_TIMEOUT), (
        f"{server.session_threads()} session loop(s) outlived the previous test's sessions"
    )
    contexts = []

    def open_one(name: str, wait: bool = True) -> Chat:
        """`wait=False` returns as soon as the page is on its way, before the app is drawn."""
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        contexts.append(context)
        chat = Chat(context.new_page(), name, tmp_path)
        chat.page.goto(server.url, wait_until="commit")  # several then load side by side
        if wait:
            chat.wait_for_input()
        return chat

    yield open_one
    for context in contexts:
        context.close()


def figure(request: pytest.FixtureRequest, name: str, value: object) -> None:
    """A figure for the closing note (in --junitxml with junit_family=xunit1)."""
    request.node.user_properties.append((name, value))


def streaming(chat: ChatSnapshot, count: int) -> bool:
    """Reply number `count` is the slow task's, and it is streaming now."""
    return len(chat.replies) == count and chat.stop and SLOW_STEP in chat.replies[-1]


def user_messages(chat: ChatSnapshot) -> list[str]:
    return [text.strip() for text in chat.users]


# --- 1. a long conversation -----------------------------------------------------------


@dataclass
class DemoMemory:
    """What the demo agent's chat scenario remembers of one context, to predict replies."""

    messages: int = 0
    first: str = ""
    name: str = ""

    def expect(self, text: str) -> str:
        """The reply to `text`, which the agent answers by keyword (demo_agent/scenarios)."""
        if text.startswith("Search for "):
            return f"Results for '{text.removeprefix('Search for ')}'"
        self.messages += 1
        self.first = self.first or text
        if text.startswith("My name is "):
            self.name = text.removeprefix("My name is ")
            return f"Nice to meet you, {self.name}."
        if text == "What is my name?":
            return f"Your name is {self.name}."
        # The count proves every message reached the agent exactly once, in one context.
        return (
            f'You said: "{text}". That is message {self.messages} of this conversation; '
            f'your first was "{self.first}".'
        )


# Short scenarios, four rounds: direct replies from the agent's memory, and a search
# (a task with status updates and streamed chunks, about 3 s).
ROUND = ("My name is {name}", "hello {n}", "Search for topic-{n}", "What is my name?", "hello {n}")
NAMES = ("Ada", "Grace", "Barbara", "Frances")


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_twenty_messages_in_a_row(
    server: AppServer, open_chat: OpenChat, request: pytest.FixtureRequest
) -> None:
    chat = open_chat("conversation")
    messages = [
        ROUND[(n - 1) % len(ROUND)].format(n=n, name=NAMES[(n - 1) // len(ROUND)])
        for n in range(1, 21)
    ]
    memory = DemoMemory()
    expected = [memory.expect(text) for text in messages]

    started = time.monotonic()
    for number, text in enumerate(messages, start=1):
        chat.send(text)
        reply = chat.wait_for_reply(number)
        if expected[number - 1] not in reply:
            chat.fail(f"reply {number} to {text!r} lacks {expected[number - 1]!r}", chat.snapshot())
        if text.startswith("Search for ") and "completed" not in reply:
            chat.fail(f"reply {number} (a task) does not say it completed", chat.snapshot())
    figure(request, "messages_sent", len(messages))
    figure(request, "conversation_seconds", round(time.monotonic() - started, 1))

    # The whole history is still there, in order, every reply complete.
    final = chat.snapshot()
    assert user_messages(final) == messages
    assert len(final.replies) == len(messages)
    for number, (reply, text) in enumerate(zip(final.replies, expected, strict=True), start=1):
        assert text in reply and FINISHED_CAPTION.search(reply), f"reply {number}: {reply!r}"
    chat.assert_clean()
    assert_clean_log(server)


# --- 2. a reply disturbed while it streams --------------------------------------------


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_disturbing_a_streaming_reply(server: AppServer, open_chat: OpenChat) -> None:
    chat = open_chat("disturbed")
    sent: list[str] = []
    count = 0  # replies in the conversation

    def say(text: str) -> str:
        nonlocal count
        chat.send(text)
        sent.append(text)
        count += 1
        return chat.wait_for_reply(count)

    def slow() -> None:
        nonlocal count
        count += 1
        sent.append("Run a slow task")
        chat.start_slow_task(count)

    def next_message_works(case: str) -> None:
        """After a disturbance: a fresh message gets its whole reply, nothing was lost."""
        text = f"hello after case {case.split(':')[0]}"  # no scenario keyword ("stream"…)
        reply = say(text)
        if f'You said: "{text}"' not in reply:
            chat.fail(f"after {case}: the reply to {text!r} is wrong", chat.snapshot())
        now = chat.snapshot()
        if user_messages(now) != sent:
            chat.fail(f"after {case}: history is not {sent!r}", now)
        # Every slow reply that was disturbed keeps what had arrived.
        for index, message in enumerate(sent):
            if message == "Run a slow task" and SLOW_STEP not in now.replies[index]:
                chat.fail(f"after {case}: reply {index + 1} lost its partial text", now)
        chat.assert_clean()
        assert_clean_log(server)

    # (a) While the reply the input asked for streams, the input is its Stop and takes
    # no text; a reply started elsewhere (a skill's example in the sidebar) leaves the
    # input free, and a message sent meanwhile waits for that reply to end: neither is
    # cut off.
    slow()
    box = chat.page.get_by_test_id("stChatInput").locator("textarea")
    assert box.is_disabled(), "the chat input takes text while its reply streams"
    chat.page.get_by_test_id("stChatInputStopButton").click()
    chat.wait_until("stopped from the input", lambda c: finished(c, count))
    chat.page.get_by_test_id("stSidebar").get_by_text("Long streamed answer").click()
    chat.page.get_by_role("button", name=LONG_ANSWER, exact=True).click()
    sent.append(LONG_ANSWER)
    count += 1
    chat.wait_until("the long answer streaming", lambda c: len(c.replies) == count and c.stop)
    reply = say("Search for overlap")
    assert "Results for 'overlap'" in reply, reply
    first = chat.snapshot().replies[-2]
    assert "never meets a closed one." in first and "completed" in first, first[-300:]
    next_message_works("a: a second message")

    # (b) Away to each other page and back while the reply streams.
    for case, title in (("b1", "Streaming inspector"), ("b2", "Loop health"), ("b3", "Tasks")):
        slow()
        chat.go(title)
        chat.assert_clean()
        chat.go("Chat")
        chat.wait_for_input()
        # Leaving is not Stop: the task is not canceled on the agent (both end the run
        # with Streamlit's StopException). Read once the whole history is drawn again.
        back = chat.wait_until("the history back", lambda c: user_messages(c) == sent)
        left = back.replies[-1]
        if "stopped by you" in left:
            chat.fail(f"{case}: a visit to {title} canceled the reply", chat.snapshot())
        next_message_works(f"{case}: a visit to {title}")

    # (c) Stop: the reply ends, canceled, with what had arrived.
    slow()
    chat.page.get_by_role("button", name="Stop").click()
    stopped = chat.wait_until("stopped", lambda c: finished(c, count)).replies[-1]
    assert SLOW_STEP in stopped and "canceled" in stopped, stopped
    next_message_works("c: Stop")

    # (d) Reload. Streamlit gives a reloaded tab a new session, but the browser's cookie
    # names the same workspace: the conversation is back, and the slow reply that was
    # streaming resumes by itself. The old session's loop must end, the new one work.
    slow()
    chat.page.reload()
    chat.wait_for_input()
    back = chat.wait_until(
        "the history back and the slow reply resumed",
        lambda c: user_messages(c) == sent and c.stop and SLOW_STEP in c.replies[-1],
    )
    assert len(back.replies) == count, back.replies
    assert wait_for(lambda: server.session_threads() == 1, CLOSE_TIMEOUT), (
        f"{server.session_threads()} session loops after a reload, not 1"
    )
    chat.page.get_by_role("button", name="Stop").click()
    chat.wait_until("stopped after resuming", lambda c: finished(c, count))
    next_message_works("d: a reload")


LONG_ANSWER = "Explain how A2A streaming works"  # about 220 chunks, 6 s


def answer_text(reply: str) -> str:
    """A finished reply as the page shows it, without its footer: the caption that says
    "N events in X s" and what follows it (the Inspect link)."""
    lines = reply.rstrip().split("\n")
    footer = max(i for i, line in enumerate(lines) if FINISHED_CAPTION.search(line))
    return "\n".join(lines[:footer]).strip()


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_a_reconnected_reply_reads_like_an_uninterrupted_one(open_chat: OpenChat) -> None:
    chat = open_chat("reconnect")
    chat.send(LONG_ANSWER)
    whole = answer_text(chat.wait_for_reply(1))

    # The same answer again, cut by a visit to another page while it streams; the
    # interrupted reply offers Reconnect, which follows the task to its end.
    chat.send(LONG_ANSWER)
    chat.wait_until(
        "streaming the long answer",
        lambda c: len(c.replies) == 2 and c.stop and "Server-Sent" in c.replies[-1],
    )
    chat.go("Loop health")
    chat.go("Chat")
    chat.page.get_by_role("button", name="Reconnect").click()
    again = answer_text(chat.wait_for_reply(2))
    assert again == whole, f"reconnected:\n{again[:400]!r}\nstreamed:\n{whole[:400]!r}"


# --- 3. ten sessions at once ------------------------------------------------------------

SESSIONS = 10
TOKEN = re.compile(r"\bAgent(\d+)\b|\btopic-(\d+)\b")


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_ten_sessions_stream_at_once(
    server: AppServer, open_chat: OpenChat, request: pytest.FixtureRequest
) -> None:
    chats = [open_chat(f"session-{k}", wait=False) for k in range(1, SESSIONS + 1)]
    for chat in chats:
        chat.wait_for_input()
    assert server.session_threads() == SESSIONS  # one loop per session, no more

    def no_cross_talk() -> list[ChatSnapshot]:
        """Each page shows its own tokens only (Agent<k>, topic-<k>)."""
        snapshots = []
        for k, chat in enumerate(chats, start=1):
            now = chat.snapshot()
            seen = {int(a or b) for a, b in TOKEN.findall(now.text)}
            if seen - {k}:
                chat.fail(f"shows another session's tokens {sorted(seen - {k})}", now)
            snapshots.append(now)
        return snapshots

    def burst(message: Callable[[int], str], count: int) -> int:
        """Type each session's message, submit them all at once, wait for every reply.

        Returns the most sessions seen streaming at the same moment."""
        for k, chat in enumerate(chats, start=1):
            chat.type(message(k))
        for chat in chats:
            chat.submit()
        most = 0
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            snapshots = no_cross_talk()
            most = max(most, sum(s.stop for s in snapshots))
            if all(finished(s, count) for s in snapshots):
                return most
            if time.monotonic() > deadline:
                k = next(k for k, s in enumerate(snapshots) if not finished(s, count))
                chats[k].fail(
                    f"reply {count} not finished after {REPLY_TIMEOUT:.0f} s", snapshots[k]
                )
            time.sleep(0.1)

    burst(lambda k: f"My name is Agent{k}", 1)

    # Every session streams the slow task at the same moment: ten streams held at once.
    for chat in chats:
        chat.type("Run a slow task")
    for chat in chats:
        chat.submit()
    for chat in chats:
        chat.wait_until("streaming the slow task", lambda c: streaming(c, 2))
    held = sum(chat.snapshot().stop for chat in chats)
    assert held == SESSIONS, f"only {held} of {SESSIONS} sessions were streaming at once"
    figure(request, "concurrent_streams_held", held)

    # Each stops its stream from the input (the input takes no text while its reply
    # streams), then searches: ten more streams at once, each page showing only its own
    # topic while the chunks arrive.
    for chat in chats:
        chat.page.get_by_test_id("stChatInputStopButton").click()
    for chat in chats:
        stopped = chat.wait_until("stopped", lambda c: finished(c, 2)).replies[-1]
        assert "canceled" in stopped, stopped[-300:]
    most = burst(lambda k: f"Search for topic-{k}", 3)
    figure(request, "concurrent_searches_seen", most)
    burst(lambda _k: "What is my name?", 4)

    for k, chat in enumerate(chats, start=1):
        replies = chat.snapshot().replies
        expected = [f"Nice to meet you, Agent{k}.", SLOW_STEP, f"Results for 'topic-{k}'"]
        expected.append(f"Your name is Agent{k}.")  # its own context, on the agent too
        for number, (reply, text) in enumerate(zip(replies, expected, strict=True), start=1):
            assert text in reply, f"session {k}, reply {number} lacks {text!r}: {reply!r}"
        chat.assert_clean()
    assert_clean_log(server)


# --- 4. session churn -----------------------------------------------------------------

CHURNED = 30
WAVE = 5  # sessions open at once while churning


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_closed_sessions_leave_no_loops(
    server: AppServer, open_chat: OpenChat, request: pytest.FixtureRequest
) -> None:
    loops_before = server.session_threads()  # open_chat waited for earlier tests' to end
    threads = {"before": len(server.thread_names())}
    for wave in range(CHURNED // WAVE):
        chats = [open_chat(f"churn-{wave * WAVE + i + 1}", wait=False) for i in range(WAVE)]
        for chat in chats:
            chat.wait_for_input()
            chat.send("hello")
        for chat in chats:
            reply = chat.wait_for_reply(1)
            assert 'You said: "hello"' in reply, reply
            chat.assert_clean()
        for chat in chats:
            chat.close()
        if wave == 0:
            threads["warm"] = len(server.thread_names())  # the server's pools have grown

    ended = wait_for(lambda: server.session_threads() == loops_before, CLOSE_TIMEOUT)
    loops_after = server.session_threads()
    threads["after"] = len(server.thread_names())
    figure(request, "sessions_churned", CHURNED)
    figure(request, "session_loops_before_after", f"{loops_before} -> {loops_after}")
    figure(request, "server_threads_before_warm_after", " -> ".join(map(str, threads.values())))
    assert ended, (
        f"{loops_after} session loop threads {CLOSE_TIMEOUT:.0f} s after {CHURNED} sessions "
        f"closed, not {loops_before}: {sorted(server.thread_names())}"
    )
    # Pools may still grow a little; a thread kept per closed session would not fit.
    assert threads["after"] - threads["warm"] < CHURNED - WAVE, threads

    # A fresh session's Loop health page sees its own loop, and only it.
    fresh = open_chat("fresh")
    fresh.go("Loop health")

    def one_loop_shown() -> bool:
        # The figures redraw every second (an st.fragment): read until they settle.
        health = fresh.page.evaluate(METRICS_AND_TABLE_JS)
        rows = health["rows"]
        return (
            health["metrics"].get("Session loops") == "1"
            and health["metrics"].get("Leaked loops") == "0"
            and len(rows) == 1
            and rows[0]["session"].startswith("●")  # the current session's mark
        )

    if not wait_for(one_loop_shown, CLOSE_TIMEOUT):
        health = fresh.page.evaluate(METRICS_AND_TABLE_JS)
        fresh.fail(f"Loop health shows {health}", fresh.snapshot())
    assert server.session_threads() == 1
    fresh.assert_clean()
    assert_clean_log(server)
