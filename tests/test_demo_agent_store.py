"""The demo agent's tasks: kept apart per visitor (workspace), and kept across a restart.

Real servers on loopback, the real a2a-sdk client, SQLite files in `tmp_path`: a restart
is one `DemoAgentServer` stopped and a new one started on the same database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import Client, ClientConfig, create_client
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Role,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import TaskNotFoundError
from google.protobuf.json_format import MessageToJson

from services.demo_agent import (
    MAX_VISITOR_LENGTH,
    RESTARTED_TEXT,
    TASKS_TABLE,
    VISITOR_HEADER,
    DemoAgentServer,
    LoopbackServer,
    build_app,
    ensure_demo_agent,
    running_demo_agent,
)
from services.demo_agent import server as demo_server
from services.demo_agent.store import _async_database_url
from services.demo_agent.visitors import _visitor_key
from tests.conftest import FAST
from tests.postgres import (  # noqa: F401 - imported for pytest, which finds them by name
    database_url_fixture,
)
from tests.test_demo_agent import BINDINGS, JSONRPC, SLOW, _step, final_task, run, say

pytestmark = pytest.mark.timeout(90)

# Opaque workspace ids as the app will send them: long, with punctuation and spaces.
ALICE = "ws-alice/" + "a1b2 c3d4-" * 19 + "z"  # MAX_VISITOR_LENGTH characters
BOB = "ws-bob:7f3e"


@asynccontextmanager
async def connect_as(
    url: str, visitor: str | None, binding: str = JSONRPC
) -> AsyncIterator[Client]:
    """A client that sends `visitor` in the visitor header, as the app does to its agent."""
    headers = {VISITOR_HEADER: visitor} if visitor is not None else {}
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        config = ClientConfig(
            streaming=True, supported_protocol_bindings=[binding], httpx_client=http
        )
        client = await create_client(url, config)
        try:
            yield client
        finally:
            await client.close()


async def start_slow(client: Client, context_id: str) -> str:
    """Start the slow task, leave its stream after a few steps, return its id (running)."""
    task_id = ""
    stream = client.send_message(say("Run a slow task", context_id))
    async for event in stream:
        task_id = task_id or event.task.id
        if _step(event) == 3:
            break
    await stream.aclose()
    return task_id


async def is_hidden(client: Client, task_id: str) -> bool:
    """True if every task method answers TaskNotFound for `task_id`."""
    for call in (
        lambda: client.get_task(GetTaskRequest(id=task_id)),
        lambda: client.cancel_task(CancelTaskRequest(id=task_id)),
        lambda: anext(aiter(client.subscribe(SubscribeToTaskRequest(id=task_id)))),
    ):
        try:
            await call()
        except TaskNotFoundError:
            continue
        return False
    return True


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'workspace.db'}"


# --- the partition key -------------------------------------------------------------


def test_the_visitor_key_is_any_opaque_string_up_to_the_limit():
    assert len(ALICE) == MAX_VISITOR_LENGTH and _visitor_key(ALICE) == ALICE
    assert _visitor_key("é ü / : = , ; \"'") == "é ü / : = , ; \"'"
    assert _visitor_key("x" * MAX_VISITOR_LENGTH) == "x" * MAX_VISITOR_LENGTH
    assert _visitor_key("x" * (MAX_VISITOR_LENGTH + 1)) == ""
    for control in ("\x00", "\t", "\n", "\x1b", "\x7f", "\x85"):
        assert _visitor_key(f"ws{control}1") == ""


@pytest.fixture(params=["memory", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    return None if request.param == "memory" else sqlite_url(tmp_path)


@pytest.mark.parametrize("binding", BINDINGS)
def test_one_visitors_tasks_are_invisible_to_another(store_url, binding):
    async def work() -> dict[str, Any]:
        async with (
            connect_as(server.url, ALICE, binding) as alice,
            connect_as(server.url, BOB, binding) as bob,
            connect_as(server.url, None, binding) as nobody,
        ):
            report = await final_task(alice, say("Generate a sales report", "ctx-a"))
            slow = await start_slow(alice, "ctx-a")
            own = await final_task(bob, say("Make a task that fails", "ctx-b"))
            hidden = {task: await is_hidden(bob, task) for task in (report.id, slow)}
            hidden_from_nobody = await is_hidden(nobody, slow)
            listed = {
                "alice": await alice.list_tasks(ListTasksRequest()),
                "bob": await bob.list_tasks(ListTasksRequest()),
                "nobody": await nobody.list_tasks(ListTasksRequest()),
            }
            canceled = await alice.cancel_task(CancelTaskRequest(id=slow))
            return {
                "report": report,
                "slow": slow,
                "own": own,
                "hidden": hidden,
                "hidden_from_nobody": hidden_from_nobody,
                "listed": listed,
                "canceled": canceled,
            }

    with DemoAgentServer(timing=SLOW, database_url=store_url) as server:
        got = run(work)
    assert all(got["hidden"].values()) and got["hidden_from_nobody"]
    listed = got["listed"]
    assert {t.id for t in listed["alice"].tasks} == {got["report"].id, got["slow"]}
    assert [t.id for t in listed["bob"].tasks] == [got["own"].id]
    assert not listed["nobody"].tasks
    assert got["canceled"].status.state == TaskState.TASK_STATE_CANCELED  # its owner can


def test_a_key_over_the_limit_counts_as_no_visitor():
    too_long = "w" * (MAX_VISITOR_LENGTH + 1)

    async def work() -> tuple[Task, list[str]]:
        async with connect_as(server.url, too_long) as long, connect_as(server.url, None) as bare:
            task = await final_task(long, say("Generate a sales report"))
            listed = await bare.list_tasks(ListTasksRequest())
            return task, [t.id for t in listed.tasks]

    with DemoAgentServer(timing=FAST) as server:
        task, bare_ids = run(work)
    assert bare_ids == [task.id]


# --- the database ------------------------------------------------------------------


def test_database_urls_move_to_async_drivers():
    assert str(_async_database_url("sqlite:///data/app.db")) == "sqlite+aiosqlite:///data/app.db"
    url = _async_database_url("postgresql+psycopg://u:pw@db:5432/app?sslmode=require")
    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "u",
        "pw",
        "db",
        5432,
        "app",
    )
    assert dict(url.query) == {"ssl": "require"}
    assert _async_database_url("postgresql://db/app").drivername == "postgresql+asyncpg"
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        _async_database_url("mysql://db/app")


def test_tasks_live_in_the_agents_own_table(tmp_path):
    url = sqlite_url(tmp_path)
    with sqlite3.connect(tmp_path / "workspace.db") as db:
        db.execute("CREATE TABLE tasks (id TEXT PRIMARY KEY, note TEXT)")  # the app's, say
        db.execute("INSERT INTO tasks VALUES ('t1', 'not the agent''s')")

    async def work() -> Task:
        async with connect_as(server.url, BOB) as bob:
            return await final_task(bob, say("Generate a sales report"))

    with DemoAgentServer(timing=FAST, database_url=url) as server:
        task = run(work)
    with sqlite3.connect(tmp_path / "workspace.db") as db:
        stored = db.execute(f"SELECT id, owner FROM {TASKS_TABLE}").fetchall()
        other = db.execute("SELECT * FROM tasks").fetchall()
    assert stored == [(task.id, f"/visitor:{BOB}")]
    assert other == [("t1", "not the agent's")]


def test_a_restart_keeps_tasks_and_owners_and_fails_what_was_running(database_url):
    url = database_url  # a SQLite file, then a fresh PostgreSQL database

    async def before() -> dict[str, Any]:
        async with connect_as(first.url, ALICE) as alice, connect_as(first.url, BOB) as bob:
            report = await final_task(alice, say("Generate a sales report", "ctx-a"))
            trip = await final_task(alice, say("Book a trip", "ctx-a"))
            slow = await start_slow(alice, "ctx-a")
            running = await alice.get_task(GetTaskRequest(id=slow))
            bobs = await final_task(bob, say("Draw a chart image", "ctx-b"))
            return {"report": report, "trip": trip, "slow": slow, "running": running, "bob": bobs}

    async def after(ids: dict[str, str]) -> dict[str, Any]:
        async with connect_as(second.url, ALICE) as alice, connect_as(second.url, BOB) as bob:
            got: dict[str, Any] = {
                name: await alice.get_task(GetTaskRequest(id=task_id))
                for name, task_id in ids.items()
                if name != "bob"
            }
            got["alice_list"] = await alice.list_tasks(ListTasksRequest())
            got["bob_list"] = await bob.list_tasks(ListTasksRequest())
            got["bob_own"] = await bob.get_task(GetTaskRequest(id=ids["bob"]))
            got["hidden_from_bob"] = [
                await is_hidden(bob, ids[name]) for name in ("report", "trip", "slow")
            ]
            got["hidden_from_alice"] = await is_hidden(alice, ids["bob"])
            # The trip still waits for its answer, and takes it after the restart.
            answered = await final_task(alice, say_in(ids["trip"], "Lisbon", "ctx-a"))
            got["answered"] = answered
            return got

    with DemoAgentServer(timing=SLOW, database_url=url) as first:
        was = run(before)
    assert was["running"].status.state == TaskState.TASK_STATE_WORKING
    assert was["trip"].status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    ids = {
        "report": was["report"].id,
        "trip": was["trip"].id,
        "slow": was["slow"],
        "bob": was["bob"].id,
    }

    with DemoAgentServer(timing=SLOW, database_url=url) as second:
        now = run(lambda: after(ids))

    slow = now["slow"]
    assert slow.status.state == TaskState.TASK_STATE_FAILED
    assert slow.status.message.role == Role.ROLE_AGENT
    assert [p.text for p in slow.status.message.parts] == [RESTARTED_TEXT]
    assert slow.status.message.task_id == slow.id
    assert "Working slowly" in slow.history[-1].parts[0].text  # the last status moved on
    assert [a.name for a in slow.artifacts] == ["progress"]  # work done so far is kept

    assert now["report"].status.state == TaskState.TASK_STATE_COMPLETED
    assert [a.name for a in now["report"].artifacts] == ["sales.json", "sales.csv"]
    assert now["trip"].status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert now["answered"].status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert now["answered"].status.message.parts[0].text == "How many nights will you stay?"

    assert {t.id for t in now["alice_list"].tasks} == {ids["report"], ids["trip"], ids["slow"]}
    assert [t.id for t in now["bob_list"].tasks] == [ids["bob"]]
    assert now["bob_own"].status.state == TaskState.TASK_STATE_COMPLETED
    assert all(now["hidden_from_bob"]) and now["hidden_from_alice"]
    # The owner is kept beside the task, never in it.
    for task in [*now["alice_list"].tasks, *now["bob_list"].tasks]:
        text = MessageToJson(task)
        assert "visitor" not in text and ALICE not in text and BOB not in text


def say_in(task_id: str, text: str, context_id: str) -> Any:
    request = say(text, context_id)
    request.message.task_id = task_id
    return request


def test_a_database_that_cannot_open_stops_the_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing' / 'dir' / 'tasks.db'}"
    with pytest.raises(RuntimeError, match="did not start"):
        DemoAgentServer(timing=FAST, database_url=url)


def test_build_app_needs_its_lifespan_for_a_database(tmp_path):
    url = sqlite_url(tmp_path)

    async def work() -> None:
        async with connect_as(server.url, BOB) as bob:
            await final_task(bob, say("Generate a sales report"))

    with LoopbackServer(lambda u: build_app(u, FAST, database_url=url), lifespan=True) as server:
        run(work)
    with sqlite3.connect(tmp_path / "workspace.db") as db:
        assert db.execute(f"SELECT count(*) FROM {TASKS_TABLE}").fetchone() == (1,)


def test_ensure_demo_agent_passes_the_database_on(tmp_path, monkeypatch):
    # A fresh process-wide agent: patched where it lives, in the server module.
    monkeypatch.setattr(demo_server, "_demo", None)
    url = ensure_demo_agent(sqlite_url(tmp_path))
    try:
        assert ensure_demo_agent() == url  # started once: later calls get the same one

        async def work() -> Task:
            async with connect_as(url, BOB) as bob:
                return await final_task(bob, say("Generate a sales report"))

        task = run(work)
    finally:
        server = running_demo_agent()
        assert server is not None
        server.stop()
    with sqlite3.connect(tmp_path / "workspace.db") as db:
        assert db.execute(f"SELECT id FROM {TASKS_TABLE}").fetchall() == [(task.id,)]


def sqlite_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


@pytest.fixture
def no_leftover_threads() -> Iterator[None]:
    # aiosqlite runs each connection on a thread of its own: stopping the agent disposes
    # the engine, which ends them all. (Threads from before, such as the app's embedded
    # demo agent started by an earlier test, are not this test's.)
    before = set(sqlite_threads())
    yield
    assert not set(sqlite_threads()) - before


def test_stopping_closes_every_database_connection(tmp_path, no_leftover_threads):
    async def work() -> None:
        async with connect_as(server.url, ALICE) as alice:
            await start_slow(alice, "ctx-stop")
            await asyncio.sleep(0.1)

    with DemoAgentServer(timing=SLOW, database_url=sqlite_url(tmp_path)) as server:
        run(work)
        assert sqlite_threads()  # the check afterwards means something
