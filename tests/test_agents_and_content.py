"""Several agents, conversations, files in and out, auth, bindings, card checks: the
whole app under AppTest against real demo agents on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui.conversations import LIST_KEY
from services.client import agent, resources
from services.client.uploads import MAX_FILES, Upload, check_uploads
from services.demo_agent import DemoAgentServer, DemoAuth, LoopbackServer, build_app, chart_png
from services.replies import Reply
from services.runtime import SessionRuntime
from services.store.workspace import export_conversation, import_conversation
from tests.conftest import APP, FAST, close_runtime
from tests.test_app import conversation, last_bubble, send

CSV = b"region,q1\nNorth,120\nSouth,98\n"


@pytest.fixture(scope="module")
def second_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=FAST) as server:
        yield server


def connect(at: AppTest, url: str) -> None:
    at.sidebar.text_input(key="sidebar_agent_url").set_value(url)
    next(b for b in at.sidebar.button if b.label == "Connect").click().run()


def test_two_agents_keep_their_own_conversations(app, demo_agent, second_agent):
    app.run()
    send(app, "My name is Al")
    connect(app, second_agent.url)
    assert app.session_state["workspace"].current == second_agent.url
    assert conversation(app).turns == []  # a new agent starts its own conversation
    send(app, "My name is Bea")

    app.sidebar.selectbox(key="sidebar_agent_choice").set_value(demo_agent.url).run()
    assert [t.text for t in conversation(app).turns if t.reply is None] == ["My name is Al"]
    send(app, "What is my name?")
    assert "Your name is Al." in last_bubble(app)

    app.sidebar.selectbox(key="sidebar_agent_choice").set_value(second_agent.url).run()
    send(app, "What is my name?")
    assert "Your name is Bea." in last_bubble(app)

    next(b for b in app.sidebar.button if b.label.startswith("Remove")).click().run()
    assert list(app.session_state["workspace"].agents) == [demo_agent.url]
    assert not app.exception


def test_conversations_new_switch_rename_delete(app):
    app.run()
    send(app, "My name is Cy")
    first = conversation(app).id
    next(b for b in app.button if b.label == "New conversation").click().run()
    assert conversation(app).id != first and conversation(app).turns == []
    send(app, "What is my name?")
    assert "haven't told me" in last_bubble(app)  # a new context, as it should be

    app.session_state[LIST_KEY] = True  # the menu's list popover is open: its content drawn
    app.run()
    app.radio(key="chat_conversation_choice").set_value(first).run()
    assert conversation(app).id == first
    send(app, "What is my name?")
    assert "Your name is Cy." in last_bubble(app)  # the old context goes on

    app.session_state[LIST_KEY] = True  # choosing closed it (its label changed)
    app.run()
    app.text_input(key="chat_title").set_value("About Cy")
    next(b for b in app.button if b.label == "Rename").click().run()
    assert conversation(app).label == "About Cy"
    app.session_state[LIST_KEY] = True  # renaming closed it too
    app.run()
    next(b for b in app.button if b.label == "Delete this conversation").click().run()
    remaining = app.session_state["workspace"].agent.conversations
    assert [c.id for c in remaining] != [first] and all(c.id != first for c in remaining)
    assert not app.exception


def test_a_file_sent_comes_back_intact(app):
    app.run()
    png = chart_png({"a": 3, "b": 5})
    app.chat_input(key="chat_prompt").set_value("Here are two files")
    app.chat_input(key="chat_prompt").upload("chart.png", png, "image/png")
    app.chat_input(key="chat_prompt").upload("data.csv", CSV, "text/csv").run()
    assert not app.exception
    sent = [t for t in conversation(app).turns if t.reply is None][-1]
    assert [(f.filename, f.raw) for f in sent.files] == [("chart.png", png), ("data.csv", CSV)]
    reply = conversation(app).replies[-1]
    echoed = {p.filename: p.raw for a in reply.artifacts.values() for p in a.parts if p.raw}
    assert echoed == {"chart.png": png, "data.csv": CSV}
    assert hashlib.sha256(CSV).hexdigest()[:12] in reply.text


def test_a_file_the_agent_does_not_take_is_refused_with_a_sentence(app):
    app.run()
    app.chat_input(key="chat_prompt").upload("tool.exe", b"MZ...", "application/x-msdownload")
    app.chat_input(key="chat_prompt").set_value("run this").run()
    assert not app.exception
    assert "tool.exe is application/x-msdownload, which this agent does not accept" in (
        app.error[0].value
    )
    assert conversation(app).turns == []  # nothing was sent
    send(app, "hello")  # and the next message works
    assert "You said" in last_bubble(app)


def test_upload_limits_in_size_and_count():
    modes = ["text/plain", "text/csv", "image/*"]
    big = Upload("big.csv", "text/csv", b"x" * 2_000_001)
    assert check_uploads([big], modes, 2_000_000) == [
        "big.csv is 2.0 MB; the limit is 2 MB (set A2A_MAX_UPLOAD_MB to change it)."
    ]
    many = [Upload(f"{n}.png", "image/png", b"png") for n in range(MAX_FILES + 1)]
    assert check_uploads(many, modes, 10**6) == [
        f"{MAX_FILES + 1} files attached; send at most {MAX_FILES} at a time."
    ]
    assert check_uploads(many[:MAX_FILES], modes, 10**6) == []


def test_every_part_kind_renders(app):
    app.run()
    send(app, "Draw a chart image")
    bubble = app.chat_message[-1]
    assert not app.exception
    assert len(bubble.get("image")) == 1  # the PNG, inline
    links = [m.value for m in bubble.markdown if "readme.txt" in m.value]
    assert links and "](http://127.0.0.1:" in links[0]  # the URL file, as a safe link
    assert len(bubble.json) == 1  # the nested data part, as JSON
    send(app, "Generate a sales report")
    bubble = app.chat_message[-1]
    assert len(bubble.dataframe) == 1  # tabular data, as a table
    assert [b.proto.label for b in bubble.get("download_button")] == ["sales.csv (84 bytes)"]
    assert "The report is ready" in last_bubble(app)  # text, as markdown


def test_export_then_import_a_conversation(runtime, demo_agent):
    from services.replies import Conversation

    conv = Conversation(title="Round trip")
    for text in ("My name is Di", "Generate a sales report", "Draw a chart image"):
        conv.add_user(text)
        reply = conv.add_reply()
        for event in agent.send_message(runtime, demo_agent.url, text, context_id=conv.context_id):
            reply.apply(event)
        reply.finish()
    text = export_conversation(conv, demo_agent.url)
    back, url = import_conversation(text)
    assert url == demo_agent.url
    # Stream ids name the exporting session's inspector records: not carried over.
    assert [r.stream_id for r in conv.replies] == [1, 2, 3]
    assert [r.stream_id for r in back.replies] == [0, 0, 0]
    for reply in conv.replies:
        reply.stream_id = 0
    assert back == conv  # every turn, reply, artifact and file byte


def test_bearer_and_api_key_auth_and_the_extended_card(monkeypatch):
    auth = DemoAuth(bearer_token="tok-auth-5551", api_key="key-auth-7772")
    with LoopbackServer(lambda url: build_app(url, FAST, auth=auth)) as server:
        monkeypatch.setenv("A2A_AGENT_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=30)
        try:
            at.run()
            assert "a bearer token" in "\n".join(c.value for c in at.sidebar.caption)
            send(at, "hello")  # no credentials yet: one clear sentence
            assert (
                conversation(at)
                .replies[-1]
                .error.startswith("The agent refused the request (HTTP 401 Unauthorized)")
            )
            at.sidebar.text_input(key=f"sidebar_token_{server.url}").set_value("tok-auth-5551")
            next(b for b in at.sidebar.button if b.label == "Save and reconnect").click().run()
            send(at, "hello")
            assert "You said" in last_bubble(at)
            info = at.session_state["workspace"].agent.info
            assert any("Admin report" in change for change in info.extended_changes)
            assert any(s.name == "Admin report" for s in info.skills)
            shown = "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.code])
            assert "tok-auth-5551" not in shown
        finally:
            close_runtime(at)
        # The API key works too, at the service level.
        from services.client.auth import Credentials, OriginCredentials

        creds = OriginCredentials()
        creds.set(server.url, Credentials(api_key="key-auth-7772"))
        rt = resources.configure(SessionRuntime(label="apikey"), auth=creds)
        try:
            reply = Reply()
            for event in agent.send_message(rt, server.url, "hello"):
                reply.apply(event)
            assert "You said" in reply.text
        finally:
            rt.close()


def test_the_rest_binding_is_chosen_and_shown(app):
    app.run()
    url = app.session_state["workspace"].current
    app.sidebar.selectbox(key=f"sidebar_binding_{url}").set_value("HTTP+JSON").run()
    assert "· HTTP+JSON ·" in "\n".join(c.value for c in app.sidebar.caption)
    send(app, "Search for REST")
    assert "Results for 'REST'" in last_bubble(app)
    record = app.session_state["traffic_recorder"].streams()[-1]
    assert record.binding == "HTTP+JSON"
    assert record.exchanges[0].url.endswith("/rest/message:stream")
    app.switch_page("app_pages/inspector.py").run()
    assert "HTTP+JSON · A2A 1.0" in "\n".join(c.value for c in app.caption)


def test_the_card_view_lists_the_card_checks(app, monkeypatch):
    app.run()
    captions = [c.value for c in app.sidebar.caption]
    assert any(c.endswith("Card check: no findings") for c in captions), captions

    from tests.agents import scripted_app

    done = {"task": {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_COMPLETED"}}}
    with LoopbackServer(scripted_app([done])) as server:  # its card has no skills
        monkeypatch.setenv("A2A_AGENT_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=30)
        try:
            at.run()
            labels = [e.label for e in at.sidebar.expander]
            assert "Card check: 1 error(s), 0 warning(s)" in labels, labels
        finally:
            close_runtime(at)


def test_a_broken_image_from_an_agent_is_not_a_crash(monkeypatch):
    import base64

    from tests.agents import scripted_app

    task = {"task": {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING"}}}
    broken_png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 40).decode()
    artifact = {
        "artifactUpdate": {
            "taskId": "t1",
            "contextId": "c1",
            "artifact": {
                "artifactId": "a1",
                "parts": [{"raw": broken_png, "mediaType": "image/png", "filename": "x.png"}],
            },
            "lastChunk": True,
        }
    }
    done = {"statusUpdate": {"taskId": "t1", "contextId": "c1",
                             "status": {"state": "TASK_STATE_COMPLETED"}}}  # fmt: skip
    with LoopbackServer(scripted_app([task, artifact, done])) as server:
        monkeypatch.setenv("A2A_AGENT_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=30)
        try:
            at.run()
            send(at, "show me")
            assert not at.exception
            assert "x.png could not be shown as an image." in last_bubble(at)
            assert [b.proto.label for b in at.chat_message[-1].get("download_button")] == [
                "x.png (48 bytes)"
            ]
        finally:
            close_runtime(at)


def test_agents_from_secrets_each_with_their_own_credentials(monkeypatch, demo_agent):
    auth = DemoAuth(api_key="key-from-secrets-31")
    monkeypatch.delenv("A2A_AGENT_URL", raising=False)
    with LoopbackServer(lambda url: build_app(url, FAST, auth=auth)) as locked:
        at = AppTest.from_file(APP, default_timeout=30)
        at.secrets["agents"] = [
            {"url": demo_agent.url, "name": "Open"},
            {"url": locked.url, "name": "Locked", "api_key": "key-from-secrets-31"},
        ]
        try:
            at.run()
            labels = at.sidebar.selectbox(key="sidebar_agent_choice").options
            assert [label.split(" · ")[0] for label in labels] == ["Open", "Locked"]
            at.sidebar.selectbox(key="sidebar_agent_choice").set_value(locked.url).run()
            send(at, "hello")
            assert "You said" in last_bubble(at)  # the key from secrets was sent...
            shown = "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.code])
            assert "key-from-secrets-31" not in shown  # ...and never shown,
            widgets = [str(w.value) for w in [*at.text_input, *at.text_area]]
            assert all("key-from-secrets-31" not in value for value in widgets)  # nor sent back
            record = at.session_state["traffic_recorder"].streams()[-1]
            assert ("x-api-key", "[redacted]") in record.exchanges[0].request_headers
        finally:
            close_runtime(at)
