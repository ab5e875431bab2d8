"""The durable workspace through the whole app under AppTest: a second session of the same
workspace (what a reload with the same cookie is) finds everything the first one did.

A new AppTest is a new session, as a reload is; `workspace_id` in its session state plays
the browser's cookie (AppTest cannot send cookies). The store is the app's own SQLite file
in the tests' data folder (tests/conftest.py), written through the real writer thread.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from services.demo_agent import DemoAgentServer, DemoTiming
from services.session import _store as session_store  # owns the process's store slot
from services.store import Store
from services.store.opener import StoreSlot
from tests.conftest import APP, close_runtime
from tests.postgres import (  # noqa: F401 - fixtures, found by name
    postgres_fixture,
    postgres_url_fixture,
)
from tests.test_app import last_bubble, send, shown


def open_app(monkeypatch: pytest.MonkeyPatch, url: str, workspace: str) -> AppTest:
    monkeypatch.setenv("A2A_AGENT_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["workspace_id"] = workspace
    return at.run()


def flush(at: AppTest) -> None:
    store = session_store._store_slot().store  # the process's store, as the app opened it
    assert store is not None and store.flush(10)


@pytest.fixture
def workspace() -> str:
    return f"browser-{secrets.token_hex(8)}"


def test_a_reload_brings_back_history_the_pending_question_and_the_streams(
    monkeypatch, demo_agent, workspace
):
    first = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        send(first, "My name is Ada")
        send(first, "Explain how A2A streaming works")
        send(first, "Book a trip")  # input-required: the agent waits for the answer
        assert "Where would you like to go?" in last_bubble(first)
        flush(first)
    finally:
        close_runtime(first)

    again = open_app(monkeypatch, demo_agent.url, workspace)  # the reload
    try:
        assert not again.exception
        bubbles = [m.name for m in again.chat_message]
        assert bubbles == ["user", "assistant"] * 3
        assert "Where would you like to go?" in last_bubble(again)
        assert again.chat_input(key="chat_prompt").placeholder == "Answer the agent…"
        send(again, "Kyoto")  # the pending question is answered in the same task
        assert "How many nights" in last_bubble(again)
        again.switch_page("app_pages/inspector.py").run()
        picker = again.selectbox(key="inspector_stream")
        assert len(picker.options) >= 4  # the three replies' streams, and this one
        assert any("Book a trip" in option for option in picker.options)
    finally:
        close_runtime(again)


def test_another_workspace_sees_none_of_it_even_with_its_link(monkeypatch, demo_agent, workspace):
    first = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        send(first, "My secret plan")
        conversation_id = first.query_params["c"]
        flush(first)
    finally:
        close_runtime(first)

    monkeypatch.setenv("A2A_AGENT_URL", demo_agent.url)
    stranger = AppTest.from_file(APP, default_timeout=60)
    stranger.session_state["workspace_id"] = f"browser-{secrets.token_hex(8)}"
    stranger.query_params["c"] = conversation_id  # the first one's URL
    stranger.run()
    try:
        assert not stranger.exception
        assert not stranger.chat_message
        assert "not in this workspace" in stranger.info[0].value
    finally:
        close_runtime(stranger)


def test_a_link_to_a_conversation_opens_it_in_its_own_workspace(monkeypatch, demo_agent, workspace):
    first = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        send(first, "first conversation")
        linked = first.query_params["c"]
        next(b for b in first.button if b.label == "New conversation").click().run()
        send(first, "second conversation")
        assert first.query_params["c"] != linked
        flush(first)
    finally:
        close_runtime(first)

    again = AppTest.from_file(APP, default_timeout=60)
    again.session_state["workspace_id"] = workspace
    again.query_params["c"] = linked  # a bookmark of the first conversation
    again.run()
    try:
        assert not again.exception
        assert [m.markdown[0].value for m in again.chat_message[:1]] == ["first conversation"]
    finally:
        close_runtime(again)


SLOW = DemoTiming(token_delay=0.002, step_delay=0.02, slow_interval=0.2, slow_chunks=25)


@pytest.fixture(scope="module")
def slow_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=SLOW) as server:
        yield server


def test_a_reply_cut_off_by_the_end_of_its_session_resumes_on_the_next(
    monkeypatch, slow_agent, workspace
):
    first = open_app(monkeypatch, slow_agent.url, workspace)
    try:
        # The page reruns before the slow task is done (Streamlit stops a run at its
        # timeout): the reply was written at its first event with its task id.
        first.chat_input(key="chat_prompt").set_value("Run a slow task")
        with pytest.raises(RuntimeError):
            first.run(timeout=1.5)
        flush(first)
    finally:
        close_runtime(first)

    again = open_app(monkeypatch, slow_agent.url, workspace)
    try:
        assert not again.exception
        reply = last_bubble(again)
        assert "completed" in reply and "resumed" in reply, reply
    finally:
        close_runtime(again)


def test_a_reply_whose_task_the_agent_lost_says_so_and_keeps_what_arrived(
    monkeypatch, demo_agent, workspace
):
    first = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        # A reply that was streaming when its session ended, for a task the agent has
        # since lost (an agent that keeps tasks in memory and restarted).
        conversation = first.session_state["workspace"].agent.conversation
        conversation.add_user("Run a slow task")
        reply = conversation.add_reply()
        reply.task_id, reply.state = "task-the-agent-lost", "working"
        reply.status_log.append("Step 1 of 35 done.")
        store = session_store._store_slot().store
        assert store is not None
        store.save_conversation(workspace, demo_agent.url, conversation, turns_too=True)
        flush(first)
    finally:
        close_runtime(first)

    again = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        assert not again.exception
        reply_text = last_bubble(again)
        assert "The agent no longer knows this task" in reply_text, reply_text
        bubble = again.chat_message[-1]  # the status box, drawn live while it resumed
        assert "Step 1 of 35 done." in "\n".join(
            m.value for box in [*bubble.status, *bubble.expander] for m in box.markdown
        )
        send(again, "hello")  # and the next message works
        assert "You said" in last_bubble(again)
    finally:
        close_runtime(again)


def test_nothing_is_saved_when_the_database_cannot_be_opened_and_chat_goes_on(
    monkeypatch, demo_agent, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("A2A_DATABASE_URL", f"sqlite:///{blocker}/sub/workspace.db")
    slot = StoreSlot()
    monkeypatch.setattr(session_store, "_store_slot", lambda: slot)
    at = open_app(monkeypatch, demo_agent.url, f"browser-{secrets.token_hex(8)}")
    try:
        assert not at.exception
        warning = [w.value for w in at.sidebar.warning]
        assert warning and "cannot be made" in warning[0], warning
        send(at, "hello")
        assert "You said" in last_bubble(at)
    finally:
        close_runtime(at)


# --- faults: the chat goes on, the sidebar says why history is not being saved -------------


def own_store(monkeypatch: pytest.MonkeyPatch, url: str) -> StoreSlot:
    """The app's process-wide store, opened on `url` for this test alone."""
    monkeypatch.setenv("A2A_DATABASE_URL", url)
    slot = StoreSlot()
    monkeypatch.setattr(session_store, "_store_slot", lambda: slot)
    return slot


def sidebar_warnings(at: AppTest) -> list[str]:
    return [shown(w.value) for w in at.sidebar.warning]


def test_postgres_stopped_mid_conversation_then_back_loses_nothing(
    monkeypatch, demo_agent, postgres, postgres_url, workspace
):
    slot = own_store(monkeypatch, postgres_url)
    at = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        send(at, "My name is Ada")
        assert slot.store is not None and slot.store.flush(10)
        postgres.stop()
        try:
            send(at, "What is my name?")  # the chat goes on in memory
            assert not at.exception and "Your name is Ada" in last_bubble(at)
            assert not slot.store.flush(3)
            at.run()
            assert any("cannot be reached" in w for w in sidebar_warnings(at)), at.sidebar
        finally:
            postgres.start()
        assert slot.store.flush(30)  # it caught up
        at.run()
        assert not sidebar_warnings(at)
    finally:
        close_runtime(at)
    again = open_app(monkeypatch, demo_agent.url, workspace)  # a reload: all of it is there
    try:
        assert [m.name for m in again.chat_message] == ["user", "assistant"] * 2
        assert "Your name is Ada" in last_bubble(again)
    finally:
        close_runtime(again)
        slot.store.close()


def test_a_read_only_database_keeps_the_chat_going_and_says_so(
    monkeypatch, demo_agent, tmp_path, workspace
):
    path = tmp_path / "workspace.db"
    Store(f"sqlite:///{path}").close()  # a database at the current schema
    slot = own_store(monkeypatch, f"sqlite:///file:{path}?mode=ro&uri=true")
    at = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        send(at, "hello")
        assert "You said" in last_bubble(at)
        assert slot.store is not None and not slot.store.flush(3)
        at.run()
        assert any("read-only" in w for w in sidebar_warnings(at)), sidebar_warnings(at)
        send(at, "hello again")
        assert "You said" in last_bubble(at)
    finally:
        close_runtime(at)
        if slot.store is not None:
            slot.store.close()


def test_a_damaged_database_file_gets_one_sentence_and_the_chat_goes_on(
    monkeypatch, demo_agent, tmp_path, workspace
):
    path = tmp_path / "workspace.db"
    path.write_bytes(b"this is not a database " * 1_000)
    own_store(monkeypatch, f"sqlite:///{path}")
    at = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        assert not at.exception
        assert any("damaged or is not a database" in w for w in sidebar_warnings(at))
        send(at, "hello")
        assert "You said" in last_bubble(at)
    finally:
        close_runtime(at)


def test_a_signed_in_person_has_one_workspace_in_every_browser(monkeypatch, demo_agent):
    person = {"is_logged_in": True, "iss": "https://accounts.example", "sub": secrets.token_hex(6)}

    def signed_in(user: dict[str, object]) -> AppTest:
        monkeypatch.setenv("A2A_AGENT_URL", demo_agent.url)
        at = AppTest.from_file(APP, default_timeout=60)
        at.user = dict(user)
        return at.run()

    first = signed_in(person)  # one browser (no cookie involved: the sign-in decides)
    try:
        send(first, "I signed in")
        flush(first)
        assert first.session_state["workspace_id"].startswith("user-")
    finally:
        close_runtime(first)
    elsewhere = signed_in(person)  # another browser, the same person
    someone_else = signed_in({**person, "sub": "another-person"})
    try:
        assert [m.markdown[0].value for m in elsewhere.chat_message[:1]] == ["I signed in"]
        assert not someone_else.chat_message
    finally:
        close_runtime(elsewhere)
        close_runtime(someone_else)


def test_the_database_never_holds_a_secret_even_one_an_agent_echoes(
    monkeypatch, demo_agent, tmp_path, workspace
):
    token = f"tok-{secrets.token_hex(8)}"
    monkeypatch.setenv("A2A_AGENT_TOKEN", token)
    path = tmp_path / "workspace.db"
    slot = own_store(monkeypatch, f"sqlite:///{path}")
    at = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        send(at, f"my token is {token}")  # the demo agent echoes what it was told
        assert token in "\n".join(m.value for m in at.chat_message[-1].markdown)
        assert slot.store is not None and slot.store.flush(10)
        slot.store.close()
        files = [path, path.with_name(path.name + "-wal")]
        assert all(token.encode() not in f.read_bytes() for f in files if f.exists())
        assert b"[redacted]" in b"".join(f.read_bytes() for f in files if f.exists())
    finally:
        close_runtime(at)


def test_your_data_exports_deletes_for_good_and_forgets(monkeypatch, demo_agent, workspace):
    import json

    at = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        send(at, "first talk")
        next(b for b in at.button if b.label == "New conversation").click().run()
        send(at, "second talk")
        at.switch_page("app_pages/your_data.py").run()
        assert not at.exception
        flush(at)
        exported = json.loads(export_of(workspace))  # what the page's download makes
        assert exported["format"] == "a2a-streamlit/workspace@1"
        texts = [c["conversation"]["turns"][0]["text"] for c in exported["conversations"]]
        assert texts == ["first talk", "second talk"]
        first_id = exported["conversations"][0]["conversation"]["id"]
        at.button(key=f"data_delete_{first_id}").click().run()
        flush(at)
    finally:
        close_runtime(at)

    again = open_app(monkeypatch, demo_agent.url, workspace)  # deleted for good
    try:
        assert [m.markdown[0].value for m in again.chat_message[:1]] == ["second talk"]
        radio = [o for r in again.radio for o in r.options]
        assert not any("first talk" in o for o in radio), radio
        again.switch_page("app_pages/your_data.py").run()
        again.checkbox(key="data_forget_sure").check().run()
        again.button(key="data_forget").click().run()
        assert not again.exception
        flush(again)
    finally:
        close_runtime(again)

    forgotten = open_app(monkeypatch, demo_agent.url, workspace)
    try:
        assert not forgotten.chat_message
    finally:
        close_runtime(forgotten)


def export_of(workspace: str) -> str:
    """What "Export the whole workspace" downloads for `workspace` (the download is made
    when clicked, which AppTest cannot do: a session of that workspace makes it here)."""

    def script() -> None:
        import streamlit as st

        from services import session

        st.code(session.export_workspace())

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["workspace_id"] = workspace
    at.run()
    assert not at.exception
    return str(at.code[0].value)
