"""The runtime is generic: resources of any async library, and no A2A inside."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from services.runtime import Resource, SessionRuntime

ROOT = Path(__file__).resolve().parents[1]

# The README's "Fork it" example, run as is: an aiosqlite connection as a resource,
# its rows streamed through the runtime's bridge, and nothing of A2A loaded.
FORK_EXAMPLE = textwrap.dedent(
    """
    import sys
    from collections.abc import AsyncIterator

    import aiosqlite

    from services.runtime import Resource, SessionRuntime


    async def open_db(runtime: SessionRuntime) -> aiosqlite.Connection:
        db = await aiosqlite.connect(":memory:")
        await db.execute("create table notes (body text)")
        await db.executemany("insert into notes values (?)", [("one",), ("two",), ("three",)])
        return db


    async def close_db(db: aiosqlite.Connection) -> None:
        await db.close()


    DB = Resource("db", open_db, close_db)


    async def notes(runtime: SessionRuntime) -> AsyncIterator[str]:
        db = await runtime.aget(DB)  # created on the loop the first time
        async with db.execute("select body from notes order by rowid") as cursor:
            async for (body,) in cursor:
                yield body


    runtime = SessionRuntime(label="notes")
    try:
        rows = list(runtime.stream(lambda: notes(runtime)))
        assert rows == ["one", "two", "three"], rows
        assert runtime.resources == ("db",)
    finally:
        runtime.close()
    assert runtime.resources == ()

    loaded = [
        name for name in sys.modules
        if name in ("a2a", "httpx") or name.startswith(("a2a.", "httpx."))
        or (name.startswith("services.") and name.split(".")[1] != "runtime")
    ]
    assert not loaded, loaded
    print("ok")
    """
)


def run_fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_importing_the_runtime_loads_nothing_of_a2a():
    code = textwrap.dedent(
        """
        import sys
        import services.runtime
        loaded = [
            name for name in sys.modules
            if name in ("a2a", "httpx") or name.startswith(("a2a.", "httpx."))
            or (name.startswith("services.") and name.split(".")[1] != "runtime")
        ]
        print(loaded)
        """
    )
    result = run_fresh(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_an_aiosqlite_connection_streams_its_rows_with_no_a2a_module_loaded():
    pytest.importorskip("aiosqlite")
    result = run_fresh(FORK_EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_readme_shows_the_same_example():
    readme = (ROOT / "README.md").read_text()
    for line in ('DB = Resource("db", open_db, close_db)', "db = await runtime.aget(DB)"):
        assert line in readme


def test_resources_are_created_lazily_on_the_loop_and_closed_there_in_reverse():
    events: list[tuple[str, str, str]] = []  # (what, name, thread)

    def tracked(name: str) -> Resource[str]:
        async def make(runtime: SessionRuntime) -> str:
            events.append(("open", name, threading.current_thread().name))
            return f"{name}-value"

        async def close(value: str) -> None:
            events.append(("close", name, threading.current_thread().name))
            if name == "second":
                raise OSError("closing failed")  # logged; the others still close

        return Resource(name, make, close)

    first, second, third = tracked("first"), tracked("second"), tracked("third")
    runtime = SessionRuntime(label="lazy")
    loop_thread = runtime.thread.name
    try:
        assert events == [] and runtime.peek(first) is None  # nothing made up front
        assert runtime.get(first) == "first-value"
        assert runtime.get(first) == "first-value"  # once only
        assert runtime.get(second) == "second-value"
        assert runtime.get(third) == "third-value"
        assert runtime.resources == ("first", "second", "third")
        assert events == [("open", n, loop_thread) for n in ("first", "second", "third")]
    finally:
        runtime.close()
    closes = [e for e in events if e[0] == "close"]
    assert closes == [("close", n, loop_thread) for n in ("third", "second", "first")]
    assert runtime.resources == () and runtime.peek(first) is None


def test_a_factory_may_ask_for_another_resource_which_then_closes_after_it():
    order: list[str] = []

    async def make_base(runtime: SessionRuntime) -> str:
        return "base"

    async def close_base(value: str) -> None:
        order.append("base")

    base = Resource("base", make_base, close_base)

    async def make_user(runtime: SessionRuntime) -> str:
        return (await runtime.aget(base)) + "+user"

    async def close_user(value: str) -> None:
        order.append("user")

    user = Resource("user", make_user, close_user)
    runtime = SessionRuntime(label="deps")
    try:
        assert runtime.get(user) == "base+user"
        assert runtime.resources == ("base", "user")
    finally:
        runtime.close()
    assert order == ["user", "base"]


def test_a_failing_factory_leaves_nothing_registered_and_may_be_retried():
    attempts: list[int] = []
    closed: list[str] = []

    async def flaky(runtime: SessionRuntime) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("database not there yet")
        return "ready"

    async def close(value: str) -> None:
        closed.append(value)

    resource = Resource("flaky", flaky, close)
    runtime = SessionRuntime(label="flaky")
    try:
        with pytest.raises(ConnectionError):
            runtime.get(resource)
        assert runtime.resources == () and runtime.peek(resource) is None
        assert runtime.alive
        assert runtime.get(resource) == "ready"
    finally:
        runtime.close()
    assert closed == ["ready"]


def test_register_puts_another_factory_behind_a_name_before_first_use():
    async def default(runtime: SessionRuntime) -> str:
        return "default"

    async def configured(runtime: SessionRuntime) -> str:
        return "configured"

    key = Resource("settings", default)
    runtime = SessionRuntime(label="register")
    try:
        runtime.register(Resource("settings", configured))
        assert runtime.get(key) == "configured"
        with pytest.raises(ValueError, match="already exists"):
            runtime.register(Resource("settings", default))
    finally:
        runtime.close()


def test_a_closed_runtime_creates_nothing():
    async def make(runtime: SessionRuntime) -> str:
        return "late"

    runtime = SessionRuntime(label="late")
    runtime.close()
    with pytest.raises(RuntimeError):
        runtime.get(Resource("late", make))
