"""Push notifications through the pages (AppTest) against the real demo agent and the
real webhook route, served on loopback by uvicorn from the same process and store.

- Chat: "Run in the background and notify me" sends with returnImmediately and a push
  config; the agent's notifications reach the webhook; the reply fills from the inbox.
- Tasks: a task's push configs (add one naming this app, delete it) and its inbox.
- An agent whose card says no push: the switch is off, with the reason, and nothing sent.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from services.demo_agent import DemoAgentServer, DemoTiming, LoopbackServer
from services.push import push_routes
from services.session import _store as session_store
from tests.agents import scripted_app
from tests.conftest import APP, close_runtime
from tests.test_app import conversation, last_bubble, send

JOB = DemoTiming(job_steps=3, job_interval=0.2)  # the background job in about 0.6 s
TASKS = "app_pages/tasks.py"
INSPECTOR = "app_pages/inspector.py"


@pytest.fixture(scope="module")
def job_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=JOB) as server:
        yield server


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This app's webhook on loopback, over the process's store (the one sessions use)."""
    app = Starlette(routes=push_routes(session_store.route_store))
    with LoopbackServer(lambda _base: app) as server:
        monkeypatch.setenv("A2A_PUBLIC_URL", server.url)
        yield server.url


def open_app(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("A2A_AGENT_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["workspace_id"] = f"browser-{secrets.token_hex(8)}"
    return at.run()


def run_until(at: AppTest, done: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not (callable(done) and done()):
        assert time.monotonic() < deadline, last_bubble(at)
        time.sleep(0.2)
        at.run()  # what the poll fragment does every 2 s in a browser


def test_a_background_message_fills_from_push_notifications(monkeypatch, job_agent, webhook):
    at = open_app(monkeypatch, job_agent.url)
    try:
        at.toggle(key="chat_background").set_value(True)
        send(at, "Start a background job")
        assert not at.exception, at.exception
        reply = conversation(at).turns[-1].reply
        assert reply is not None and reply.background and reply.task_id
        run_until(at, lambda: (r := conversation(at).turns[-1].reply) is not None and r.settled)
        reply = conversation(at).turns[-1].reply
        assert reply is not None and reply.state == "completed", reply
        assert "The background job is done." in last_bubble(at)
        assert "background" in last_bubble(at)
        store = session_store.route_store()
        assert store is not None
        received = store.deliveries(at.session_state["workspace_id"], reply.task_id)
        assert len(received) >= 1 + JOB.job_steps  # the steps and the end, at least
        assert not at.exception
    finally:
        close_runtime(at)


def test_the_tasks_page_adds_lists_and_deletes_a_push_config(monkeypatch, job_agent, webhook):
    at = open_app(monkeypatch, job_agent.url)
    try:
        send(at, "Book a trip")  # a task that waits for input: it stays on the agent
        task_id = conversation(at).turns[-1].reply.task_id
        at.switch_page(TASKS).run()
        at.selectbox(key="tasks_open_id").set_value(task_id).run()
        assert not at.exception, at.exception
        at.button(key="tasks_push_add").click().run()
        assert not at.exception, at.exception
        shown = [m.value for m in at.markdown]
        assert any(webhook in m and "a token" in m for m in shown), shown
        delete = [b for b in at.button if b.key and b.key.startswith("tasks_push_delete_")]
        assert len(delete) == 1
        delete[0].click().run()
        assert not at.exception, at.exception
        assert not [b for b in at.button if b.key and b.key.startswith("tasks_push_delete_")]
        assert any("holds no push config" in c.value for c in at.caption)
    finally:
        close_runtime(at)


def test_the_inspector_shows_a_tasks_push_notifications_as_its_timeline(
    monkeypatch, job_agent, webhook
):
    at = open_app(monkeypatch, job_agent.url)
    try:
        at.toggle(key="chat_background").set_value(True)
        send(at, "Start a background job")
        run_until(at, lambda: (r := conversation(at).turns[-1].reply) is not None and r.settled)
        task_id = conversation(at).turns[-1].reply.task_id
        at.switch_page(INSPECTOR).run()
        at.segmented_control(key="inspector_source").set_value("Push notifications").run()
        assert not at.exception, at.exception
        picker = at.selectbox(key="inspector_push_task")
        assert picker.options == [task_id]
        picker.set_value(task_id).run()
        assert not at.exception, at.exception
        assert any(f"push · task {task_id[:8]}" in c.value for c in at.caption)
        table = at.dataframe[0].value
        received = session_store.route_store().deliveries(at.session_state["workspace_id"])
        assert len(table) == len(received) >= 1 + JOB.job_steps
        assert table["state"].iloc[-1] == "completed"
        assert list(table["verdict"]) == ["ok"] * len(table)
        assert any("Valid: no findings" in s.value for s in at.success)
    finally:
        close_runtime(at)


NO_PUSH_REPLY = {
    "message": {"messageId": "m1", "role": "ROLE_AGENT", "parts": [{"text": "hi there"}]}
}


def test_an_agent_without_push_gets_the_switch_off_with_the_reason(monkeypatch, webhook):
    with LoopbackServer(scripted_app([NO_PUSH_REPLY])) as plain_agent:  # its card: no push
        at = open_app(monkeypatch, plain_agent.url)
        try:
            switch = at.toggle(key="chat_background")
            assert switch.disabled
            assert "does not send push notifications" in (switch.help or "")
            send(at, "hello")  # and the chat goes on as usual
            assert "hi there" in last_bubble(at)
        finally:
            close_runtime(at)
