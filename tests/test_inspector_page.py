"""The Streaming inspector page under AppTest, with the real demo agent on loopback."""

from __future__ import annotations

import logging

from streamlit.testing.v1 import AppTest

from services.demo_agent import LoopbackServer, build_app
from services.inspector.inspection import export_jsonl
from tests.agents import header_spy
from tests.conftest import APP, FAST, close_runtime
from tests.test_app import conversation, send

INSPECTOR = "app_pages/inspector.py"


def everything_shown(at: AppTest) -> str:
    """All the text the page shows, tables and JSON included."""
    parts = [str(e.value) for kind in ("markdown", "caption", "error", "warning", "info",
                                       "success", "code", "json", "metric", "title")
             for e in at.get(kind)]  # fmt: skip
    parts += [e.value.to_string() for e in at.dataframe]
    parts += [e.label for e in at.get("expander")] + [str(e.value) for e in at.get("selectbox")]
    return "\n".join(parts)


def test_after_a_chat_reply_the_inspector_shows_its_events_in_order(app):
    app.run()
    send(app, "Search for A2A news")
    reply = conversation(app).replies[-1]
    assert reply.state == "completed"

    app.switch_page(INSPECTOR).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == reply.event_count
    assert list(table["#"]) == list(range(reply.event_count))
    times = list(table["t (ms)"])
    assert times == sorted(times)
    assert list(table["kind"])[:2] == ["task", "status"] and table["state"].iloc[-1] == "completed"
    assert "Valid: no findings against the A2A 1.0 rules." in everything_shown(app)
    assert str(app.selectbox(key="inspector_stream").value) == "1"  # the latest stream

    app.switch_page("app_pages/chat.py").run()  # and back: the chat is intact
    assert len(conversation(app).replies) == 1 and not app.exception


def test_each_chat_reply_links_to_its_own_stream_in_the_inspector(app):
    app.run()
    send(app, "Search for A2A news")
    send(app, "hello")
    first, second = conversation(app).replies
    assert (first.stream_id, second.stream_id) == (1, 2)
    links = [e.proto for e in app.get("page_link")]
    assert [(link.label, link.query_string) for link in links] == [
        ("Inspect stream", "stream=1"),
        ("Inspect stream", "stream=2"),
    ]

    # What the first link does: the inspector opens on that stream, not the latest.
    app.query_params["stream"] = "1"
    app.switch_page(INSPECTOR).run()
    assert not app.exception
    assert app.selectbox(key="inspector_stream").value == 1
    assert len(app.dataframe[0].value) == first.event_count
    assert app.query_params["stream"] == "1"  # the URL names the stream shown
    app.selectbox(key="inspector_stream").set_value(2).run()  # choosing another sticks
    assert len(app.dataframe[0].value) == second.event_count
    assert app.query_params["stream"] == "2"


def test_a_link_to_a_stream_no_longer_kept_says_so(app, monkeypatch):
    monkeypatch.setenv("A2A_INSPECTOR_MAX_STREAMS", "1")
    app.run()
    send(app, "hello")
    send(app, "hello again")
    app.run()
    assert [e.proto.query_string for e in app.get("page_link")] == ["stream=2"]  # 1 is gone
    app.query_params["stream"] = "1"
    app.switch_page(INSPECTOR).run()
    assert not app.exception
    assert "Stream #1 is no longer kept" in everything_shown(app)
    assert app.selectbox(key="inspector_stream").value == 2


def test_a_message_sent_from_the_inspector_becomes_the_selected_stream(app):
    app.run()
    app.switch_page(INSPECTOR).run()
    assert "No streams yet" in everything_shown(app)
    app.text_input(key="inspector_probe_text").set_value("Book a trip")
    next(b for b in app.button if b.label == "Send").click().run()
    assert not app.exception
    shown = everything_shown(app)
    assert "Book a trip" in shown and "input-required" in shown
    assert len(app.dataframe[0].value) == 3
    assert conversation(app).turns == []  # a probe is not part of the chat


def test_a_bearer_token_reaches_the_agent_but_never_the_page_export_or_log(monkeypatch, caplog):
    token = "tok-9d2c7e41aa55"
    seen: list[str] = []
    spy = header_spy(lambda url: build_app(url, FAST), seen)
    caplog.set_level(logging.DEBUG)
    with LoopbackServer(spy) as agent_server:
        monkeypatch.setenv("A2A_AGENT_URL", agent_server.url)
        monkeypatch.setenv("A2A_AGENT_TOKEN", token)
        at = AppTest.from_file(APP, default_timeout=30)
        try:
            at.run()
            send(at, "Search for A2A news")
            send(at, f"my token is {token}")  # typed into the chat, too
            at.switch_page(INSPECTOR).run()
            assert not at.exception
            for stream_id in (1, 2):
                at.selectbox(key="inspector_stream").set_value(stream_id).run()
                for expander in at.get("expander"):
                    assert token not in str(expander)
                shown = everything_shown(at)
                assert token not in shown
            assert "[redacted]" in shown  # the Authorization header, masked
            recorder = at.session_state["traffic_recorder"]
            exports = [export_jsonl(r, recorder.redactor) for r in recorder.streams()]
        finally:
            close_runtime(at)
    assert f"Bearer {token}" in seen  # the agent did get it
    assert all(token not in text for text in exports)
    assert token not in caplog.text


def test_an_exported_stream_imports_back_with_the_same_summary(app):
    app.run()
    send(app, "Search for A2A news")
    app.switch_page(INSPECTOR).run()
    live_metrics = [(m.label, m.value) for m in app.metric]
    recorder = app.session_state["traffic_recorder"]
    exported = export_jsonl(recorder.streams()[-1], recorder.redactor)

    app.get("button_group")[0].set_value("Import a file").run()
    app.file_uploader[0].upload("stream.jsonl", exported.encode(), "application/jsonl").run()
    assert not app.exception
    assert [(m.label, m.value) for m in app.metric] == live_metrics
    assert len(app.dataframe[0].value) == len(recorder.streams()[-1].events)


def test_a_file_that_is_not_a_stream_gets_one_sentence(app):
    app.run()
    app.switch_page(INSPECTOR).run()
    app.get("button_group")[0].set_value("Import a file").run()
    app.file_uploader[0].upload("notes.jsonl", b"hello, world", "application/jsonl").run()
    assert not app.exception
    assert app.error[0].value.startswith("This file is not JSON Lines")


def test_the_recorder_bounds_come_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("A2A_INSPECTOR_MAX_STREAMS", "2")
    monkeypatch.setenv("A2A_INSPECTOR_MAX_BYTES", "1000")
    app.run()
    for text in ("hello", "hello again", "Explain how A2A streaming works"):
        send(app, text)
    streams = app.session_state["traffic_recorder"].streams()
    assert [s.label for s in streams] == ["hello again", "Explain how A2A streaming works"]
    assert streams[-1].truncated and streams[-1].bytes_kept <= 1000
    app.switch_page(INSPECTOR).run()
    assert "(cut)" in [m.value for m in app.metric if m.label == "Bytes"][0]
