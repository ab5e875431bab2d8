"""The whole app under Streamlit's AppTest: each run() is a fresh script thread whose own
event loop is closed afterwards, so only what lives on the session's portal loop survives
between runs. This is the regression test for "Event loop is closed"."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from services.demo_agent import LONG_ANSWER, LoopbackServer, running_demo_agent
from services.replies import Conversation
from services.runtime import SessionRuntime
from tests.agents import broken_stream_app, not_found_app
from tests.conftest import APP, close_runtime

LOOP_CLOSED = "Event loop is closed"


def page_text(at: AppTest) -> str:
    """Every text the page shows (markdown, captions, alerts, code, exceptions)."""
    elements = [*at.markdown, *at.caption, *at.error, *at.warning, *at.info, *at.code]
    return "\n".join(str(e.value) for e in elements) + "\n".join(str(e.value) for e in at.exception)


def shown(markdown: str) -> str:
    """What a reader sees of markdown that `plain` escaped: the escapes taken off."""
    return re.sub(r"\\(.)", r"\1", markdown)


def last_bubble(at: AppTest) -> str:
    bubble = at.chat_message[-1]
    return "\n".join(str(e.value) for e in [*bubble.markdown, *bubble.error, *bubble.caption])


def send(at: AppTest, text: str) -> AppTest:
    return at.chat_input(key="chat_prompt").set_value(text).run()


def conversation(at: AppTest) -> Conversation:
    conv = at.session_state["workspace"].agent.conversation
    assert isinstance(conv, Conversation)
    return conv


TEN_MESSAGES = [
    ("My name is Ada", "Nice to meet you, Ada"),
    ("Search for A2A news", "Results for 'A2A news'"),
    ("What is my name?", "Your name is Ada."),
    ("Book a trip", "Where would you like to go?"),
    ("Kyoto", "How many nights will you stay?"),
    ("3", "Booked: 3 night(s) in Kyoto"),
    ("Explain how A2A streaming works", "How A2A streaming works"),
    ("Generate a sales report", "The report is ready: JSON and CSV."),
    ("Make a task that fails", "The billing system refused the request"),
    ("hello again", "That is message"),
]


def test_ten_messages_in_a_row_with_reruns_between(app):
    app.run()
    runtime = app.session_state["runtime"]
    for number, (text, expected) in enumerate(TEN_MESSAGES, start=1):
        send(app, text)
        assert not app.exception, app.exception
        assert expected in last_bubble(app), (text, last_bubble(app))
        app.run()  # a plain rerun between messages (another page comes later)
        assert not app.exception
        assert "**A2A Demo Agent**" in app.sidebar.markdown[0].value  # app.py ran too
        assert len(conversation(app).replies) == number

    replies = conversation(app).replies
    assert all(r.settled and not r.error for r in replies)
    assert [r.state for r in replies][-2:] == ["failed", ""]
    assert replies[6].text == LONG_ANSWER
    assert LOOP_CLOSED not in page_text(app)
    # One runtime served every run: nothing was rebuilt along the way.
    assert app.session_state["runtime"] is runtime and runtime.alive
    assert app.session_state["runtime_rebuilds"] == 0


def test_data_and_file_artifacts_render_as_table_and_download(app):
    app.run()
    send(app, "Generate a sales report")
    assert not app.exception
    bubble = app.chat_message[-1]
    assert len(bubble.dataframe) == 1
    # protobuf's Struct loses key order; the table puts labels first, then by name
    assert list(bubble.dataframe[0].value.columns) == ["region", "q1", "q2", "q3"]
    assert len(bubble.dataframe[0].value) == 4
    downloads = [e for e in bubble if type(e).__name__ == "DownloadButton"] or [
        e for e in bubble.get("download_button")
    ]
    assert downloads and "sales.csv" in downloads[0].proto.label


def test_runtime_released_is_rebuilt_and_the_conversation_kept(app):
    app.run()
    send(app, "My name is Grace")
    first: SessionRuntime = app.session_state["runtime"]
    first.close()  # what on_release does when the session's websocket drops

    app.run()
    assert "Nice to meet you, Grace" in page_text(app)  # history kept

    send(app, "What is my name?")  # same context, new loop and clients
    assert "Your name is Grace." in last_bubble(app)
    assert not app.exception
    second: SessionRuntime = app.session_state["runtime"]
    assert second is not first and second.alive and not first.thread.is_alive()
    assert app.session_state["runtime_rebuilds"] == 1


def test_a_failed_connect_shows_one_sentence_and_keeps_the_current_agent(app):
    with LoopbackServer(not_found_app) as gone:
        dead_url = gone.url
    app.run()
    send(app, "My name is Lin")
    app.sidebar.text_input(key="sidebar_agent_url").set_value(dead_url)
    next(b for b in app.sidebar.button if b.label == "Connect").click().run()
    assert not app.exception
    # Errors are shown as plain text (markdown escaped): compare what the user reads.
    assert [shown(e.value) for e in app.sidebar.error] == [
        f"Could not reach the agent at {dead_url}. Check that it is running and the URL is right."
    ]
    # Still with the agent it had: the conversation and the chat go on.
    assert not app.chat_input(key="chat_prompt").proto.disabled
    send(app, "What is my name?")
    assert "Your name is Lin." in last_bubble(app)


def test_an_unreachable_configured_agent_disables_chat_until_one_connects(monkeypatch, demo_agent):
    with LoopbackServer(not_found_app) as gone:
        dead_url = gone.url
    monkeypatch.setenv("A2A_AGENT_URL", dead_url)
    at = AppTest.from_file(APP, default_timeout=30)
    try:
        at.run()
        assert not at.exception
        assert "Could not reach the agent" in at.sidebar.error[0].value
        assert at.chat_input(key="chat_prompt").proto.disabled
        assert "Connect to an agent in the sidebar" in at.info[0].value

        at.sidebar.text_input(key="sidebar_agent_url").set_value(demo_agent.url)
        next(b for b in at.sidebar.button if b.label == "Connect").click().run()
        assert not at.sidebar.error
        send(at, "hello")
        assert "You said" in last_bubble(at)
    finally:
        close_runtime(at)


def test_a_skill_example_in_the_sidebar_sends_its_prompt(app):
    app.run()
    next(b for b in app.sidebar.button if b.label == "Book a trip").click().run()
    assert not app.exception
    assert conversation(app).turns[0].text == "Book a trip"
    assert "Where would you like to go?" in last_bubble(app)
    assert "waiting for your answer" in last_bubble(app)


def test_agent_url_from_secrets(monkeypatch, demo_agent):
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["agent_url"] = demo_agent.url
    try:
        at.run()
        assert at.sidebar.text_input(key="sidebar_agent_url").value == demo_agent.url
        embedded = running_demo_agent()
        assert embedded is None or embedded.url != demo_agent.url
    finally:
        close_runtime(at)


def test_with_no_agent_configured_the_embedded_demo_agent_starts(monkeypatch):
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=30)
    try:
        at.run()
        assert not at.exception
        url = at.sidebar.text_input(key="sidebar_agent_url").value
        embedded = running_demo_agent()
        assert embedded is not None and url == embedded.url
        assert url.startswith("http://127.0.0.1:")
        assert "**A2A Demo Agent**" in at.sidebar.markdown[0].value
        send(at, "hello")
        assert "I'm the demo agent" in last_bubble(at)
    finally:
        close_runtime(at)


def test_a_broken_stream_shows_one_sentence_keeps_the_partial_reply_and_recovers(monkeypatch):
    with LoopbackServer(broken_stream_app) as broken:
        monkeypatch.setenv("A2A_AGENT_URL", broken.url)
        at = AppTest.from_file(APP, default_timeout=30)
        try:
            at.run()
            send(at, "first")
            assert not at.exception
            bubble = at.chat_message[-1]
            assert [e.value for e in bubble.markdown][0] == "Partial answer"
            assert [e.value for e in bubble.error] == [
                "The agent closed the connection before the reply finished. "
                "What arrived is kept; send the message again."
            ]
            assert bubble.expander[0].label == "Details"

            send(at, "second")
            assert not at.exception
            assert "Whole answer" in last_bubble(at)
            assert "Partial answer" in page_text(at)  # still in the history
        finally:
            close_runtime(at)


def test_the_input_asks_for_an_answer_as_soon_as_the_agent_waits_for_one(app):
    app.run()
    assert app.chat_input(key="chat_prompt").placeholder == "Message the agent"
    send(app, "Book a trip")  # the reply ends in input-required
    assert "Where would you like to go?" in last_bubble(app)
    # Same run: no other interaction needed for the input to say so.
    assert app.chat_input(key="chat_prompt").placeholder == "Answer the agent…"
    send(app, "Kyoto")
    send(app, "3")  # booked: the task is done, the input is for a new message again
    assert "Booked: 3 night(s) in Kyoto" in last_bubble(app)
    assert app.chat_input(key="chat_prompt").placeholder == "Message the agent"
