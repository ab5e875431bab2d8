"""The store when its database fails: PostgreSQL stopped mid-conversation, SQLite read-only.

Writes never raise to the session: the writer keeps them, `problem` says why in one
sentence, and it catches up when the database is back. Every wait here is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from services.replies import Conversation, Turn
from services.store import Store, StoreError
from tests.postgres import (  # noqa: F401 - imported for pytest, which finds them by name
    PostgresServer,
    postgres_fixture,
    postgres_url_fixture,
)

WORKSPACE = "fault-workspace"
AGENT = "http://agent.example/"


def _user(text: str, turn_id: str) -> Turn:
    turn = Turn("user", text)
    turn.id = turn_id
    return turn


def _within(seconds: float, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s"
        time.sleep(0.05)


def _texts(store: Store) -> dict[str, list[str]]:
    return {c.id: [t.text for t in c.turns] for c in store.load(WORKSPACE).conversations[AGENT]}


def test_postgres_stopped_mid_conversation_then_back_loses_nothing(
    postgres: PostgresServer, postgres_url: str
) -> None:
    store = Store(postgres_url)
    try:
        store.save_workspace(WORKSPACE, AGENT)
        store.save_conversation(
            WORKSPACE, AGENT, Conversation(id="c1", turns=[_user("before", "t1")]), turns_too=True
        )
        assert store.flush() and store.problem is None

        assert postgres.stop()
        # The session goes on: its writes are queued, none of them raises.
        store.save_turn(WORKSPACE, "c1", _user("while down 1", "t2"), 1)
        store.save_turn(WORKSPACE, "c1", _user("edited while down", "t1"), 0)
        store.save_conversation(
            WORKSPACE, AGENT, Conversation(id="c2", turns=[_user("new", "u1")]), turns_too=True
        )
        _within(20, lambda: store.problem is not None, "problem set while the database is down")
        problem = store.problem
        assert isinstance(problem, StoreError)
        assert "cannot be reached, so history is not being saved" in str(problem)
        assert "\n" not in str(problem) and "Traceback" not in str(problem)
        assert "postgres@127.0.0.1" in str(problem)  # names the server, with no password
        assert not store.flush(0.5)  # still held, not written
        with pytest.raises(StoreError, match="cannot be reached"):
            store.load(WORKSPACE)  # a read says so too, in the same sentence
        store.save_turn(WORKSPACE, "c1", _user("while down 2", "t3"), 2)  # while retrying

        postgres.start()
        # The writer retries with a backoff of at most 5 s: it catches up well within 30 s.
        _within(30, lambda: store.flush(1.0), "the writer caught up after the restart")
        assert store.problem is None
        assert _texts(store) == {
            "c1": ["edited while down", "while down 1", "while down 2"],
            "c2": ["new"],
        }
    finally:
        if not postgres.running:
            postgres.start()
        store.close()


def test_a_read_only_sqlite_database_says_so_and_stays_readable(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    writable = Store(f"sqlite:///{path}")
    writable.save_workspace(WORKSPACE, AGENT)
    writable.save_conversation(
        WORKSPACE, AGENT, Conversation(id="c1", turns=[_user("kept", "t1")]), turns_too=True
    )
    assert writable.flush()
    writable.close()

    # Root ignores file permissions; SQLite's own read-only mode does not.
    store = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert _texts(store) == {"c1": ["kept"]}
        store.save_turn(WORKSPACE, "c1", _user("not kept", "t2"), 1)  # does not raise
        assert not store.flush(1.5)
        problem = store.problem
        assert isinstance(problem, StoreError)
        assert f"The database file:{path} is read-only, so history is not being saved" in str(
            problem
        )
        assert "readonly" in problem.detail  # the driver's words, for the log
        assert _texts(store) == {"c1": ["kept"]}  # the app can still read what it kept
        assert store.full(WORKSPACE) == ""
    finally:
        store.close()  # gives up on the held write after its bounded wait
