"""The store against real databases: each test runs on a SQLite file and on PostgreSQL.

Every test writes through `Store` and reads back through `Store.load` (or SQL, where the
point is what the tables hold), so a broken migration, writer, query or limit fails here.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import create_engine, func, select, text

from services.inspector.capture import Exchange, TrafficRecorder
from services.inspector.inspection import export_jsonl
from services.replies import ArtifactView, Conversation, PartView, Reply, Turn
from services.store import Limits, SavedAgent, SavedWorkspace, Store, StoreError, migrate
from services.store.tables import conversations, metadata, turns
from services.store.workspace import export_conversation
from tests.postgres import (  # noqa: F401 - imported for pytest, which finds them by name
    database_url_fixture,
    postgres_fixture,
    postgres_url_fixture,
)

ROOT = Path(__file__).resolve().parents[1]
ALICE, BOB = "alice-workspace", "bob-workspace"
AGENT_A, AGENT_B = "http://agent-a.example/", "http://agent-b.example/"
FILE_BYTES = 1_000  # Limits.file_bytes in these tests: bigger files are kept as their size


def _open(url: str, **limits: float | int | None) -> Store:
    return Store(url, limits=Limits(**limits))  # type: ignore[arg-type]


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = _open(database_url, file_bytes=FILE_BYTES)
    yield opened
    opened.close()


def _count(url: str, table: sqlalchemy.Table, *where: sqlalchemy.ColumnElement[bool]) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(table).where(*where)
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _sql(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _user(text_: str, turn_id: str, files: list[PartView] | None = None) -> Turn:
    turn = Turn("user", text_, files=files or [])
    turn.id = turn_id
    return turn


def _reply_turn(turn_id: str, *, big: bytes = b"") -> Turn:
    reply = Reply(
        task_id="task-1",
        context_id="ctx-1",
        state="completed",
        status_log=["Looking up flights", "Booked"],
        status_dropped=2,
        artifacts={
            "art-1": ArtifactView(
                "art-1",
                "itinerary",
                [
                    PartView("text", text="Day 1: Lisbon"),
                    PartView("data", data={"seats": [1, 2], "ok": True}),
                    PartView("file", raw=big, filename="map.png", media_type="image/png"),
                ],
                complete=True,
            )
        },
        message_parts=[PartView("text", text="Here you go")],
        status_parts=[
            PartView("text", text="Booked"),
            PartView("file", raw=big, filename="ticket.pdf"),
        ],
        event_count=9,
        started_at=12.5,
        ended_at=14.25,
        stream_id=3,
    )
    turn = Turn("agent", reply=reply)
    turn.id = turn_id
    return turn


def _kept(part: PartView) -> PartView:
    """`part` as the store gives it back: a file over FILE_BYTES without its bytes."""
    if part.raw is not None and len(part.raw) > FILE_BYTES:
        return replace(part, raw=None, omitted=len(part.raw))
    return part


# --- 1. migrations -----------------------------------------------------------------------


def test_opening_twice_keeps_the_data_and_the_tables_are_the_ones_tables_py_declares(
    database_url: str,
) -> None:
    # a2a-sdk's own Alembic table may share the database: the store must not touch it.
    _sql(database_url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    _sql(database_url, "INSERT INTO alembic_version VALUES ('sdk_rev_1')")
    first = _open(database_url)
    first.save_workspace(ALICE, AGENT_A)
    assert first.flush()
    first.close()
    second = _open(database_url)  # at head: the migration does nothing
    try:
        assert second.load(ALICE).current_agent == AGENT_A
    finally:
        second.close()

    assert _sql(database_url, "SELECT version_num FROM alembic_version") == [("sdk_rev_1",)]
    assert _sql(database_url, f"SELECT version_num FROM {migrate.VERSION_TABLE}") == [
        (migrate.head(),)
    ]
    assert migrate.VERSION_TABLE == "a2a_streamlit_version"
    engine = create_engine(database_url)
    try:
        inspector = sqlalchemy.inspect(engine)
        assert set(inspector.get_table_names()) == {
            *metadata.tables,
            migrate.VERSION_TABLE,
            "alembic_version",
        }
        for table in metadata.sorted_tables:
            found = {c["name"]: c for c in inspector.get_columns(table.name)}
            assert list(found) == [c.name for c in table.columns], table.name
            for column in table.columns:
                assert found[column.name]["nullable"] == column.nullable, (table.name, column)
                length = getattr(column.type, "length", None)
                assert getattr(found[column.name]["type"], "length", None) == length
            primary = inspector.get_pk_constraint(table.name)["constrained_columns"]
            assert primary == [c.name for c in table.primary_key.columns], table.name
    finally:
        engine.dispose()


# --- 2. two processes migrating at once -----------------------------------------------------

_MIGRATE_WHEN_TOLD = """
import pathlib, sys, time
from services.store import Store
ready, go = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
ready.touch()
deadline = time.monotonic() + 30
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit(3)
    time.sleep(0.002)
Store(sys.argv[1]).close()
"""


def test_two_processes_opening_a_fresh_database_at_once_both_succeed(
    database_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _MIGRATE_WHEN_TOLD,
                database_url,
                str(tmp_path / f"ready-{n}"),
                str(go),
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    try:
        deadline = time.monotonic() + 60  # both have imported the app and wait at the barrier
        while not all((tmp_path / f"ready-{n}").exists() for n in range(2)):
            assert time.monotonic() < deadline, "the children did not start"
            assert all(c.poll() is None for c in children), [c.communicate() for c in children]
            time.sleep(0.01)
        go.touch()
        results = [c.communicate(timeout=60) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [c.returncode for c in children] == [0, 0], results
    assert _sql(database_url, f"SELECT version_num FROM {migrate.VERSION_TABLE}") == [
        (migrate.head(),)
    ]
    check = _open(database_url)  # and the schema works
    try:
        check.save_workspace(ALICE, AGENT_A)
        assert check.flush()
        assert check.load(ALICE).current_agent == AGENT_A
    finally:
        check.close()


# --- 3. a database this code cannot use -------------------------------------------------------


def test_a_schema_newer_than_the_code_is_refused_with_a_sentence(database_url: str) -> None:
    _open(database_url).close()
    _sql(database_url, f"UPDATE {migrate.VERSION_TABLE} SET version_num = '9999'")
    with pytest.raises(StoreError) as caught:
        _open(database_url)
    message = str(caught.value)
    assert "written by a newer version of this app" in message
    assert "9999" in message and "Traceback" not in message and "\n" not in message


def test_a_damaged_sqlite_file_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(random.Random(7).randbytes(16_384))
    with pytest.raises(StoreError) as caught:
        _open(f"sqlite:///{path}")
    message = str(caught.value)
    assert f"The database file {path} is damaged or is not a database" in message
    assert "Traceback" not in message and "\n" not in message
    assert "not a database" in caught.value.detail  # the driver's words, for the log


# --- 4. round trip through load ------------------------------------------------------------


def test_a_workspace_comes_back_as_it_was_written(store: Store) -> None:
    small = bytes(range(256)) * 3  # 768 bytes: every byte value, kept as is
    big = b"\xff\x00" * 600  # 1,200 bytes: over FILE_BYTES
    trip = Conversation(
        id="conv-trip",
        title="Trip to Lisbon",
        created=1_700_000_000.5,
        accepted_output_modes=["text/plain", "application/json"],
        history_length=7,
        seed_context_id="seed-ctx",
        seed_task_id="seed-task",
        turns=[
            _user(
                "Plan it",
                "t-1",
                [
                    PartView("file", raw=small, filename="notes.bin", media_type="application/x"),
                    PartView("file", raw=big, filename="photo.jpg", media_type="image/jpeg"),
                    PartView("file", url="https://example.com/a.pdf", filename="a.pdf"),
                ],
            ),
            _reply_turn("t-2", big=big),
            _user("Thanks", "t-3"),
        ],
    )
    other = Conversation(
        id="conv-other", title="Other", created=1_700_000_100.0, turns=[_user("Hi B", "t-9")]
    )
    older = Conversation(id="conv-older", created=1_600_000_000.0, turns=[_user("Old", "t-0")])

    store.save_workspace(ALICE, AGENT_B)
    # Position, not the order of the calls, is the order the sidebar shows.
    store.save_agent(ALICE, SavedAgent(AGENT_A, "Agent A", "JSONRPC", "conv-trip"), 1)
    store.save_agent(ALICE, SavedAgent(AGENT_B, "Agent B", "HTTP+JSON", "conv-other"), 0)
    store.save_conversation(ALICE, AGENT_A, trip, turns_too=True)
    store.save_conversation(ALICE, AGENT_A, older, turns_too=True)
    store.save_conversation(ALICE, AGENT_B, other, turns_too=True)
    assert store.flush()

    saved = store.load(ALICE)
    assert saved.current_agent == AGENT_B
    assert saved.agents == [
        SavedAgent(AGENT_B, "Agent B", "HTTP+JSON", "conv-other"),
        SavedAgent(AGENT_A, "Agent A", "JSONRPC", "conv-trip"),
    ]
    assert saved.unreadable == 0 and saved.streams == []
    assert [c.id for c in saved.conversations[AGENT_A]] == ["conv-older", "conv-trip"]  # by age
    assert saved.conversations[AGENT_B] == [other]

    back = saved.conversations[AGENT_A][1]
    assert [t.id for t in back.turns] == ["t-1", "t-2", "t-3"]
    files = back.turns[0].files
    assert files[0].raw == small and files[0].omitted == 0
    assert (files[1].raw, files[1].omitted, files[1].filename) == (None, len(big), "photo.jpg")
    reply = back.turns[1].reply
    assert reply is not None and reply.stream_id == 3 and reply.task_id == "task-1"
    assert reply.artifacts["art-1"].parts[2].omitted == len(big)
    assert reply.status_parts[1].raw is None and reply.status_parts[1].omitted == len(big)

    expected_reply = trip.turns[1].reply
    assert expected_reply is not None
    expected = replace(
        trip,
        turns=[
            replace(trip.turns[0], files=[_kept(p) for p in trip.turns[0].files]),
            replace(
                trip.turns[1],
                reply=replace(
                    expected_reply,
                    artifacts={
                        "art-1": replace(
                            expected_reply.artifacts["art-1"],
                            parts=[_kept(p) for p in expected_reply.artifacts["art-1"].parts],
                        )
                    },
                    status_parts=[_kept(p) for p in expected_reply.status_parts],
                ),
            ),
            trip.turns[2],
        ],
    )
    assert back == expected  # title, options, seeds, created, every turn and reply field

    assert store.load(BOB) == SavedWorkspace()


# --- 5. keyed writes --------------------------------------------------------------------


def test_a_turn_written_fifty_times_ends_with_its_latest_content(store: Store) -> None:
    store.save_conversation(ALICE, AGENT_A, Conversation(id="c"))
    for attempt in range(5):
        for n in range(50):
            store.save_turn(ALICE, "c", _user(f"draft {attempt}.{n}", "t-1"), 0)
            if n % 10 == 0:
                time.sleep(0.001)  # let the writer take a batch mid-way
        assert store.flush(10.0)  # True: everything queued is written
        (conversation,) = store.load(ALICE).conversations[AGENT_A]
        assert [t.text for t in conversation.turns] == [f"draft {attempt}.49"]


# --- 6. the inspector's streams -----------------------------------------------------------

_EVENT = (
    b'data: {"jsonrpc":"2.0","id":"1","result":{"statusUpdate":{"taskId":"task-1",'
    b'"contextId":"ctx-1","status":{"state":"TASK_STATE_WORKING"}}}}\n\n'
)


def _recorded_stream(recorder: TrafficRecorder, label: str) -> str:
    record = recorder.begin(label, AGENT_A, binding="JSONRPC", version="1.0")
    t0 = record.started_at
    record.exchanges.append(
        Exchange(
            seq=1,
            method="POST",
            url=AGENT_A,
            request_headers=[("content-type", "application/json")],
            request_body='{"jsonrpc":"2.0","id":"1","method":"SendStreamingMessage"}',
            started_at=t0 + 0.01,
            status=200,
            reason="OK",
            response_headers=[("content-type", "text/event-stream")],
            chunks=[(t0 + 0.02, _EVENT[:40]), (t0 + 0.03, _EVENT[40:])],
            first_byte_at=t0 + 0.02,
            ended_at=t0 + 0.05,
            bytes_received=len(_EVENT),
        )
    )
    record.finish()
    return export_jsonl(record)


def test_a_stream_comes_back_as_its_json_lines_and_only_the_newest_are_kept(
    database_url: str,
) -> None:
    recorder = TrafficRecorder()
    store = _open(database_url, streams=3)
    try:
        written = {}
        for n in range(1, 6):
            jsonl = _recorded_stream(recorder, f"message {n}")
            assert '"type": "frame"' in jsonl  # the chunks were decoded into a frame
            written[n] = jsonl
            store.save_stream(ALICE, n, 1_700_000_000.0 + n, jsonl)
        store.save_stream(BOB, 1, 1_700_000_000.0, written[1])
        assert store.flush()
        saved = store.load(ALICE)
        assert [s.id for s in saved.streams] == [3, 4, 5]  # the newest three
        for record in saved.streams:
            assert export_jsonl(record) == written[record.id]
            assert record.label == f"message {record.id}" and record.agent_url == AGENT_A
        assert [s.id for s in store.load(BOB).streams] == [1]  # another workspace's limit
    finally:
        store.close()


# --- 7. shares ------------------------------------------------------------------------------


def test_a_share_is_read_by_its_token_and_revoked_only_by_its_workspace(store: Store) -> None:
    conversation = Conversation(id="c", title="Shared trip", turns=[_user("Hello", "t-1")])
    file_text = export_conversation(conversation, AGENT_A)
    token = store.share(ALICE, conversation, file_text)
    again = store.share(ALICE, conversation, file_text)
    assert len(token) >= 32 and token != again
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert store.read_share(token) == (file_text, False)
    assert [(s.token, s.title, s.revoked) for s in store.shares(ALICE)] == [
        (token, "Shared trip", False),
        (again, "Shared trip", False),
    ]

    store.revoke_share(BOB, token)  # not Bob's to revoke
    assert store.read_share(token) == (file_text, False)
    assert store.shares(BOB) == []
    store.revoke_share(ALICE, token)
    assert store.read_share(token) == (file_text, True)
    assert store.read_share(again) == (file_text, False)
    assert [s.revoked for s in store.shares(ALICE)] == [True, False]
    assert store.read_share(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.read_share("") is None and store.read_share("x" * 101) is None


# --- 8. deleting ---------------------------------------------------------------------------


def _fill(store: Store, workspace: str) -> None:
    store.save_workspace(workspace, AGENT_A)
    for position, agent in enumerate((AGENT_A, AGENT_B)):
        store.save_agent(workspace, SavedAgent(agent, current_conversation=f"{agent}-1"), position)
        for n in (1, 2):
            conversation = Conversation(
                id=f"{agent[7:14]}-{n}",
                created=1_700_000_000.0 + n,
                turns=[_user("a", "t-1"), _user("b", "t-2")],
            )
            store.save_conversation(workspace, agent, conversation, turns_too=True)
    store.save_stream(workspace, 1, 1_700_000_000.0, _recorded_stream(TrafficRecorder(), "s"))


def test_forget_deletes_one_workspace_and_nothing_else(store: Store, database_url: str) -> None:
    _fill(store, ALICE)
    _fill(store, BOB)
    alice_share = store.share(ALICE, Conversation(id="agent-a-1"), "{}")
    bob_share = store.share(BOB, Conversation(id="agent-a-1"), "{}")
    assert store.flush()
    bob_before = store.load(BOB)

    store.forget(ALICE).result(timeout=10)
    assert store.load(ALICE) == SavedWorkspace()
    assert store.read_share(alice_share) is None and store.shares(ALICE) == []
    assert _count(database_url, turns, turns.c.workspace_id == ALICE) == 0
    assert store.load(BOB) == bob_before and len(bob_before.conversations[AGENT_B]) == 2
    assert store.read_share(bob_share) == ("{}", False)


def test_deleting_a_conversation_or_an_agent_deletes_what_belongs_to_it(
    store: Store, database_url: str
) -> None:
    _fill(store, ALICE)
    _fill(store, BOB)  # the same ids in another workspace: untouched
    assert store.flush()

    store.delete_conversation(ALICE, "agent-a-1")
    assert store.flush()
    saved = store.load(ALICE)
    assert [c.id for c in saved.conversations[AGENT_A]] == ["agent-a-2"]
    assert (
        _count(
            database_url,
            turns,
            turns.c.workspace_id == ALICE,
            turns.c.conversation_id == "agent-a-1",
        )
        == 0
    )
    assert len(saved.conversations[AGENT_B]) == 2

    store.delete_agent(ALICE, AGENT_B)
    assert store.flush()
    saved = store.load(ALICE)
    assert [a.url for a in saved.agents] == [AGENT_A] and AGENT_B not in saved.conversations
    assert (
        _count(
            database_url,
            turns,
            turns.c.workspace_id == ALICE,
            turns.c.conversation_id.in_(["agent-b-1", "agent-b-2"]),
        )
        == 0
    )
    assert _count(database_url, conversations, conversations.c.workspace_id == ALICE) == 1

    bob = store.load(BOB)
    assert [a.url for a in bob.agents] == [AGENT_A, AGENT_B]
    assert sum(len(c.turns) for cs in bob.conversations.values() for c in cs) == 8


def test_turns_queued_before_their_conversation_is_deleted_are_not_written(
    store: Store, database_url: str
) -> None:
    store.save_conversation(ALICE, AGENT_A, Conversation(id="c"), turns_too=True)
    store.save_turn(ALICE, "c", _user("late", "t-1"), 0)
    store.delete_conversation(ALICE, "c")
    assert store.flush()
    assert store.load(ALICE).conversations == {}
    assert _count(database_url, turns, turns.c.workspace_id == ALICE) == 0


# --- 9. limits -----------------------------------------------------------------------------


def test_a_workspace_at_its_conversation_limit_keeps_no_new_turns(database_url: str) -> None:
    store = _open(database_url, conversations=2)
    try:
        for n in (1, 2):
            store.save_conversation(
                ALICE,
                AGENT_A,
                Conversation(id=f"c{n}", created=n, turns=[_user("first", f"t{n}")]),
                turns_too=True,
            )
        store.save_conversation(BOB, AGENT_A, Conversation(id="b1"))
        assert store.flush()
        assert store.full(ALICE) == ""

        store.save_conversation(ALICE, AGENT_A, Conversation(id="c3", created=3))
        assert store.flush()
        assert "holds its limit (2 conversations" in store.full(ALICE)
        assert store.full(BOB) == ""

        store.save_turn(ALICE, "c1", _user("new, not kept", "t-new"), 1)
        store.save_turn(ALICE, "c3", _user("new, not kept", "t-new"), 0)
        store.save_turn(ALICE, "c1", _user("edited", "t1"), 0)  # an existing turn: kept
        store.save_turn(BOB, "b1", _user("Bob is not full", "t-b"), 0)
        assert store.flush()
        saved = {c.id: [t.text for t in c.turns] for c in store.load(ALICE).conversations[AGENT_A]}
        assert saved == {"c1": ["edited"], "c2": ["first"], "c3": []}
        assert [t.text for t in store.load(BOB).conversations[AGENT_A][0].turns] == [
            "Bob is not full"
        ]
    finally:
        store.close()


def test_retention_drops_conversations_untouched_since_the_cutoff_at_open(
    database_url: str,
) -> None:
    store = _open(database_url)
    for workspace in (ALICE, BOB):
        for conversation_id in ("old", "new"):
            store.save_conversation(
                workspace,
                AGENT_A,
                Conversation(id=conversation_id, turns=[_user(conversation_id, "t-1")]),
                turns_too=True,
            )
    assert store.flush()
    store.close()
    # Alice's "old" was last touched three days ago; Bob's conversation of the same id is fresh.
    _sql(
        database_url,
        "UPDATE a2a_conversations SET updated_at = :at WHERE workspace_id = :w AND id = 'old'",
        at=time.time() - 3 * 86_400,
        w=ALICE,
    )

    store = _open(database_url, retention_days=1)
    try:
        alice = store.load(ALICE).conversations[AGENT_A]
        assert [(c.id, [t.text for t in c.turns]) for c in alice] == [("new", ["new"])]
        assert _count(database_url, turns, turns.c.workspace_id == ALICE) == 1
        bob = store.load(BOB).conversations[AGENT_A]
        assert sorted((c.id, [t.text for t in c.turns]) for c in bob) == [
            ("new", ["new"]),
            ("old", ["old"]),
        ]
    finally:
        store.close()


# --- 10. two sessions of one workspace at once ------------------------------------------------


@pytest.mark.parametrize("stores", [1, 2], ids=["one-store", "two-stores"])
def test_two_sessions_writing_at_once_lose_nothing(database_url: str, stores: int) -> None:
    """Two sessions of one workspace in one process (one store), or in two servers."""
    opened = [_open(database_url) for _ in range(stores)]
    writers = [opened[0], opened[-1]]
    for conversation_id in ("shared", "own-x", "own-y"):
        opened[0].save_conversation(ALICE, AGENT_A, Conversation(id=conversation_id))
    assert opened[0].flush()
    start = threading.Barrier(2, timeout=10)
    failures: list[BaseException] = []

    def session(store: Store, name: str) -> None:
        try:
            start.wait()
            for n in range(40):
                store.save_turn(ALICE, "shared", _user(f"{name}{n}", f"{name}{n:02}"), n)
                store.save_turn(ALICE, f"own-{name}", _user(f"{name}{n}", f"t{n:02}"), n)
                if n % 8 == 0:
                    time.sleep(0.001)
            assert store.flush(20.0)
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=session, args=(store, name))
        for store, name in zip(writers, "xy", strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not any(t.is_alive() for t in threads) and failures == []
        saved = {c.id: c for c in opened[0].load(ALICE).conversations[AGENT_A]}
        shared = [t.id for t in saved["shared"].turns]
        assert sorted(shared) == sorted(f"{name}{n:02}" for name in "xy" for n in range(40))
        for name in "xy":
            assert [t.text for t in saved[f"own-{name}"].turns] == [f"{name}{n}" for n in range(40)]
    finally:
        for store in opened:
            store.close()
