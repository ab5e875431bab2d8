"""Tasks and reconnect against the real demo agent (and a proxy that cuts streams)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from services.client import agent, resources, tasks
from services.demo_agent import DemoAgentServer, DemoTiming, LoopbackServer
from services.errors import AppError, StreamBroken
from services.replies import Reply
from tests.agents import cutting_proxy
from tests.conftest import APP, close_runtime
from tests.test_app import conversation, last_bubble, send

# A slow task short enough for tests: 12 chunks, 0.1 s apart.
SHORT_SLOW = DemoTiming(token_delay=0.002, step_delay=0.02, slow_interval=0.1, slow_chunks=12)
TASKS = "app_pages/tasks.py"


@pytest.fixture(scope="module")
def slow_agent() -> Iterator[DemoAgentServer]:
    with DemoAgentServer(timing=SHORT_SLOW) as server:
        yield server


@pytest.fixture
def tasks_app(monkeypatch, slow_agent) -> Iterator[AppTest]:
    monkeypatch.setenv("A2A_AGENT_URL", slow_agent.url)
    at = AppTest.from_file(APP, default_timeout=30)
    yield at
    close_runtime(at)


def read(stream) -> Reply:
    reply = Reply()
    try:
        for event in stream:
            reply.apply(event)
    except AppError as error:
        reply.fail(str(error), error.detail)
    else:
        reply.finish()
    return reply


def test_list_tasks_with_filters_and_paging(runtime, slow_agent):
    for text in ("Book a trip", "Generate a sales report", "Make a task that fails"):
        read(agent.send_message(runtime, slow_agent.url, text))
    everything = tasks.list_tasks(runtime, slow_agent.url, tasks.TaskFilter(page_size=100))
    assert {"input-required", "completed", "failed"} <= {t.state for t in everything.tasks}

    failed = tasks.list_tasks(runtime, slow_agent.url, tasks.TaskFilter(state="failed"))
    assert failed.tasks and {t.state for t in failed.tasks} == {"failed"}

    first = tasks.list_tasks(runtime, slow_agent.url, tasks.TaskFilter(page_size=2))
    assert len(first.tasks) == 2 and first.next_page_token
    where = tasks.TaskFilter(page_size=2, page_token=first.next_page_token)
    second = tasks.list_tasks(runtime, slow_agent.url, where)
    assert second.tasks and {t.id for t in first.tasks}.isdisjoint({t.id for t in second.tasks})

    one = read(agent.send_message(runtime, slow_agent.url, "Book a trip"))
    where = tasks.TaskFilter(context_id=one.context_id)
    assert [t.id for t in tasks.list_tasks(runtime, slow_agent.url, where).tasks] == [one.task_id]
    detail = tasks.get_task(runtime, slow_agent.url, one.task_id)
    assert detail.state == "input-required" and detail.running
    assert [t.text for t in detail.history if t.role == "user"] == ["Book a trip"]
    assert detail.reply.text == "Where would you like to go?"


def test_subscribe_follows_a_running_task_to_its_end(runtime, slow_agent):
    stream = agent.send_message(runtime, slow_agent.url, "Run a slow task")
    first = next(iter_ := iter(stream))
    task_id = first.task_id
    del iter_  # leave the sender: the task runs on at the agent
    watcher = tasks.subscribe(runtime, slow_agent.url, task_id)
    reply = read(watcher)
    assert reply.task_id == task_id and reply.state == "completed"
    progress = reply.artifacts[f"{task_id}-progress"]
    assert progress.complete and progress.text.count("done.") == SHORT_SLOW.slow_chunks


def test_a_reply_cut_mid_stream_reconnects_complete(runtime, slow_agent):
    with LoopbackServer(cutting_proxy(slow_agent.url, cut_after_frames=4)) as proxy:
        broken = Reply()
        with pytest.raises(StreamBroken):
            for event in agent.send_message(runtime, proxy.url, "Run a slow task"):
                broken.apply(event)
        assert broken.can_reconnect and 0 < broken.text.count("done.") < SHORT_SLOW.slow_chunks

        broken.resume()
        for event in tasks.reconnect(runtime, proxy.url, broken.task_id):
            broken.apply(event)
        broken.finish()
    assert broken.state == "completed" and broken.reconnected and broken.gaps == []
    text = broken.artifacts[f"{broken.task_id}-progress"].text
    steps = [f"Step {n} of {SHORT_SLOW.slow_chunks} done." for n in range(1, 13)]
    assert [line for line in text.split("\n\n") if line] == steps  # whole, in order, once


def test_reconnect_in_the_chat_page(monkeypatch, slow_agent):
    with LoopbackServer(cutting_proxy(slow_agent.url, cut_after_frames=4)) as proxy:
        monkeypatch.setenv("A2A_AGENT_URL", proxy.url)
        at = AppTest.from_file(APP, default_timeout=30)
        try:
            at.run()
            send(at, "Run a slow task")
            assert "closed the connection" in at.chat_message[-1].error[0].value
            next(b for b in at.button if b.label == "Reconnect").click().run()
            assert not at.exception
            reply = conversation(at).replies[-1]
            assert reply.state == "completed" and reply.reconnected and not reply.error
            assert "reconnected" in last_bubble(at)
            assert "Step 12 of 12 done." in last_bubble(at)
        finally:
            close_runtime(at)


def test_the_tasks_page_lists_opens_cancels_and_continues_in_chat(tasks_app):
    tasks_app.run()
    send(tasks_app, "Book a trip")
    trip_id = conversation(tasks_app).replies[-1].task_id
    tasks_app.switch_page(TASKS).run()
    assert not tasks_app.exception
    assert trip_id in list(tasks_app.dataframe[0].value["task"])

    tasks_app.selectbox(key="tasks_scope").set_value("This conversation's context").run()
    assert list(tasks_app.dataframe[0].value["task"]) == [trip_id]
    tasks_app.selectbox(key="tasks_open_id").set_value(trip_id).run()
    assert "Where would you like to go?" in "\n".join(m.value for m in tasks_app.markdown)

    next(b for b in tasks_app.button if b.label == "Open in chat").click().run()
    assert not tasks_app.exception
    opened = conversation(tasks_app)
    assert opened.title == f"Task {trip_id[:8]}" and opened.task_id == trip_id
    assert [t.value for t in tasks_app.title] == ["Chat"]  # st.switch_page took us there
    # AppTest keeps requesting the page its last switch_page() named; name Chat now.
    tasks_app.switch_page("app_pages/chat.py")
    send(tasks_app, "Oslo")  # answers the task opened from the Tasks page
    assert conversation(tasks_app).replies[-1].task_id == trip_id
    assert "How many nights" in last_bubble(tasks_app)


def test_cancel_and_subscribe_from_the_tasks_page(tasks_app, slow_agent):
    tasks_app.run()
    runtime = tasks_app.session_state["runtime"]
    # Two running slow tasks, started outside the page.
    ids = []
    for _ in range(2):
        stream = agent.send_message(runtime, slow_agent.url, "Run a slow task")
        ids.append(next(iter(stream)).task_id)
    tasks_app.switch_page(TASKS).run()
    tasks_app.selectbox(key="tasks_open_id").set_value(ids[0]).run()
    next(b for b in tasks_app.button if b.label == "Cancel").click().run()
    assert not tasks_app.exception
    assert tasks.get_task(runtime, slow_agent.url, ids[0]).state == "canceled"

    tasks_app.selectbox(key="tasks_open_id").set_value(ids[1]).run()
    next(b for b in tasks_app.button if b.label == "Subscribe").click().run()
    assert not tasks_app.exception
    shown = "\n".join(str(e.value) for e in [*tasks_app.markdown, *tasks_app.caption])
    assert "Step 12 of 12 done." in shown and "completed" in shown


def test_visitors_of_the_embedded_agent_never_see_each_others_tasks(slow_agent):
    from services.client.auth import OriginCredentials
    from services.demo_agent import VISITOR_HEADER
    from services.runtime import SessionRuntime

    def visitor(name: str) -> SessionRuntime:
        headers = OriginCredentials()
        headers.set_fixed_headers(slow_agent.url, ((VISITOR_HEADER, name),))
        return resources.configure(SessionRuntime(label=name), auth=headers)

    alice, bob = visitor("alice"), visitor("bob")
    try:
        mine = read(agent.send_message(alice, slow_agent.url, "Search for alice-private"))
        listed = tasks.list_tasks(bob, slow_agent.url, tasks.TaskFilter(page_size=100))
        assert mine.task_id not in {t.id for t in listed.tasks}
        with pytest.raises(AppError, match="no longer knows this task"):
            tasks.get_task(bob, slow_agent.url, mine.task_id)
        own = tasks.list_tasks(alice, slow_agent.url, tasks.TaskFilter(page_size=100))
        assert mine.task_id in {t.id for t in own.tasks}
    finally:
        alice.close()
        bob.close()
